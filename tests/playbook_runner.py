"""ansible-playbook for the lab test suites, run from a fork of a process that imported ansible-core once.

About 80 % of the test run's CPU is ansible-playbook, and close to half a second of every run is the same Python
imports (ansible-core, pywinrm, requests, cryptography, Jinja2) before the first task (docs/dev/test-time.md). ``run``
does what ``subprocess.run(cmd, cwd=..., env=..., capture_output=True, text=True, timeout=...)`` does for an
``ansible-playbook`` command line, but the process it runs in is forked from a server (tests/playbook_zygote.py) that
did those imports with the same environment and directory: the run itself, from parsing the command line to the
exit code, is the real ``ansible-playbook`` code with the real collection, inventory, connection and lab.

A server serves one environment and directory (ansible-core reads its configuration while importing): the variables
only a run reads (``ASR_*``: the lab's and the tests' own; ``PYTEST_CURRENT_TEST``) do not count, every other
variable does, so a run with another ``ANSIBLE_*`` value gets its own server. ``ASR_TEST_PLAYBOOK_FORK=0`` runs every
playbook as a plain subprocess instead (to compare, or to rule the server out when a run behaves oddly).
"""

from __future__ import annotations

import atexit
import contextlib
import locale
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence

from tests import playbook_zygote as wire

ANSIBLE_PLAYBOOK = str(pathlib.Path(sys.executable).parent / "ansible-playbook")
SERVER_SCRIPT = pathlib.Path(__file__).with_name("playbook_zygote.py")
RUN_ONLY_PREFIXES = ("ASR_",)  # read by the lab, the tests' callbacks and the collection at run time, never at import
RUN_ONLY_NAMES = frozenset({"PYTEST_CURRENT_TEST"})
MAX_SERVERS = 4  # per test process; the least recently used one is stopped beyond that
START_TIMEOUT_S = 60.0

_lock = threading.Lock()
_servers: dict[tuple, _Server] = {}
_cpu_lock = threading.Lock()
_forked_cpu_s = 0.0


def forked_cpu_s() -> float:
    """CPU seconds (user + sys, their children included) of the runs this process had forked so far: they are not
    this process's children, so tests/cpu_time.py adds them to the children it waited for."""
    return _forked_cpu_s


def enabled() -> bool:
    return os.environ.get("ASR_TEST_PLAYBOOK_FORK", "1") != "0"


class _Server:
    def __init__(self, env: Mapping[str, str], cwd: str) -> None:
        self.directory = tempfile.mkdtemp(prefix="asr-playbook-fork-")
        self.path = os.path.join(self.directory, "socket")
        self.log = os.path.join(self.directory, "server.log")
        self.error_text = ""
        with open(self.log, "wb") as log:  # the server's own errors, read if it fails to start
            self.process = subprocess.Popen(
                [sys.executable, str(SERVER_SCRIPT), self.path, str(os.getpid())],
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        ready = _readline(self.process, START_TIMEOUT_S)
        if ready != "ready":
            self.stop()
            raise RuntimeError(f"the ansible-playbook fork server did not start ({ready!r}): {self.error_text}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.process.terminate()  # the server exits normally and removes its local temporary directory
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        with contextlib.suppress(OSError):
            self.error_text = pathlib.Path(self.log).read_text(encoding="utf-8", errors="replace")[-4000:]
        shutil.rmtree(self.directory, ignore_errors=True)


def _readline(process: subprocess.Popen, timeout: float) -> str:
    line: list[str] = []
    reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return line[0].strip() if line else ""


def _server_env(env: Mapping[str, str]) -> dict[str, str]:
    """What a server imports with: the run's environment without the variables only a run reads."""
    return {k: v for k, v in env.items() if k not in RUN_ONLY_NAMES and not k.startswith(RUN_ONLY_PREFIXES)}


def _key(env: Mapping[str, str], cwd: str) -> tuple:
    return (cwd, tuple(sorted(_server_env(env).items())))


def _server(env: Mapping[str, str], cwd: str) -> _Server:
    key = _key(env, cwd)
    with _lock:
        server = _servers.pop(key, None)
        if server is None or not server.alive():
            server = _Server(_server_env(env), cwd)
        _servers[key] = server  # most recently used last
        while len(_servers) > MAX_SERVERS:
            _servers.pop(next(iter(_servers))).stop()
        return server


def stop_all() -> None:
    with _lock:
        while _servers:
            _servers.popitem()[1].stop()


atexit.register(stop_all)


def run(
    cmd: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)`` for an
    ``ansible-playbook`` command line, forked from a server (anything else, or ASR_TEST_PLAYBOOK_FORK=0: that very
    subprocess.run). On a timeout the run and every process below it are killed and subprocess.TimeoutExpired
    raised."""
    cmd = [str(part) for part in cmd]
    env = dict(os.environ if env is None else env)
    cwd = os.fspath(cwd)
    if cmd[0] != ANSIBLE_PLAYBOOK or not enabled():
        return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    server = _server(env, cwd)
    with (
        open(os.devnull, "rb") as stdin,
        tempfile.TemporaryFile() as stdout,
        tempfile.TemporaryFile() as stderr,
        socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
    ):
        conn.connect(server.path)
        request = wire.frame({"argv": cmd, "cwd": cwd, "env": env})
        socket.send_fds(conn, [request], [stdin.fileno(), stdout.fileno(), stderr.fileno()])
        conn.settimeout(timeout)
        pid = None
        try:
            pid = wire.receive(conn)[0]["pid"]
            ended = wire.receive(conn)[0]
        except TimeoutError:
            if pid is not None:
                _kill_run(pid)
            raise subprocess.TimeoutExpired(cmd, timeout, _text(stdout), _text(stderr)) from None
        _add_cpu(ended["cpu"])
        code = os.waitstatus_to_exitcode(ended["status"])
        return subprocess.CompletedProcess(cmd, code, _text(stdout), _text(stderr))


def _kill_run(pid: int) -> None:
    """Kill a run and every process below it. Its process group is not enough: ansible-core's task workers start a
    session of their own (os.setsid in WorkerProcess), so a worker in a long task outlived the run it belonged to.
    The run is stopped first, so it forks no new worker while its descendants are found."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGSTOP)
    for victim in [*descendants(pid), pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (from /proc), deepest first."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children.get(child, []))
    return found[::-1]


def _text(stream) -> str:
    stream.seek(0)
    # what subprocess.run(text=True) decodes with
    return stream.read().decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


def _add_cpu(seconds: float) -> None:
    global _forked_cpu_s
    with _cpu_lock:
        _forked_cpu_s += seconds
