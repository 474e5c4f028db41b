"""The pwsh workers that run the collection's PowerShell for the lab (ARCHITECTURE.md decision 8).

One lab process (the WinRM server, or a test worker running the lab in-process) keeps a small pool of persistent
``pwsh`` processes (``lab/powershell/host.ps1``), started on first use and kept until the process ends: never one per
call (pwsh takes about a second to start). A call takes one idle worker for its whole duration, so hosts served at
the same time run in separate workers (at most ``ASR_LAB_PWSH_WORKERS``, default 4; more wait for a free one). The
script text goes to a worker once; later calls name it by its SHA-256 and the worker reuses what PowerShell parsed.

Each worker speaks JSON lines over two inherited pipes (its own stdout and stderr go to a log file in its sandbox):
the lab sends ``run``; while the script runs, the shim asks questions (``call``) that the caller's ``answer``
function answers from the emulated host (``lab.shim.Session.handle``); ``done`` carries the call's result. The
worker's current directory is an empty sandbox folder: a script that wrote to the real file system (a Windows-only
.NET call without a seam) leaves something there, and the lab fails the call loudly instead of hiding it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from lab import pwsh

HOST_SCRIPT = pathlib.Path(__file__).with_name("powershell") / "host.ps1"
SHIM_MODULE = pathlib.Path(__file__).with_name("powershell") / "LabShim.psm1"
START_TIMEOUT_S = 120.0  # the toolchain unpacks itself on its very first use (a few seconds), then starts in ~1 s
CALL_TIMEOUT_S = 600.0  # a script that runs longer than this is stuck: the worker is killed
MIN_VERSION = (7, 5)  # ConvertFrom-Json -DateKind
STATS = {"calls": 0, "rpc": 0, "started": 0, "start_s": 0.0, "call_s": 0.0, "open_ms": 0.0, "script_ms": 0.0}


class PwshError(RuntimeError):
    """The pwsh worker failed (did not start, died, broke the protocol, or a script wrote outside the lab)."""


def default_size() -> int:
    try:
        return max(1, int(os.environ.get("ASR_LAB_PWSH_WORKERS", "4")))
    except ValueError:
        return 4


class Worker:
    """One persistent pwsh process running host.ps1."""

    def __init__(self, executable: pwsh.Pwsh) -> None:
        self.executable = executable
        self.sandbox = pathlib.Path(tempfile.mkdtemp(prefix="asr-lab-pwsh-"))
        self.scripts_sent: set[str] = set()
        self._lock = threading.Lock()
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        self.log_path = self.sandbox.parent / (self.sandbox.name + ".log")
        env = dict(os.environ)
        env.update(TZ="UTC", POWERSHELL_TELEMETRY_OPTOUT="1", POWERSHELL_UPDATECHECK="Off", DOTNET_NOLOGO="1")
        # A worker lives for the whole lab process and runs the same scripts hundreds of times: .NET's tiered JIT
        # runs PowerShell's compiled script code unoptimised first and re-compiles it later, which cost about 1 s of
        # CPU per probe call; fully optimised code from the start costs ~1 s more once and ~0.3 s per call after
        # that (measured: 10 probe calls, docs/dev/test-time.md). Lab only: it changes no script's behaviour.
        env.setdefault("DOTNET_TieredCompilation", "0")
        started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [
                    executable.path,
                    "-NoLogo",
                    "-NoProfile",
                    "-NonInteractive",
                    "-File",
                    str(HOST_SCRIPT),
                    "-InFd",
                    str(to_worker_r),
                    "-OutFd",
                    str(from_worker_w),
                    "-ShimPath",
                    str(SHIM_MODULE),
                    "-Sandbox",
                    str(self.sandbox),
                    "-LogPath",
                    str(self.log_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(to_worker_r, from_worker_w),
                cwd=self.sandbox,
                env=env,
                start_new_session=True,
            )
        os.close(to_worker_r)
        os.close(from_worker_w)
        self._out = os.fdopen(to_worker_w, "w", encoding="utf-8", buffering=1)
        self._in_fd = from_worker_r
        self._buffer = b""
        ready = self._receive(START_TIMEOUT_S)
        if ready.get("op") != "ready":
            raise PwshError(f"lab: pwsh worker {executable.describe()} did not start: {ready}")
        version = tuple(int(p) for p in str(ready.get("version", "0.0")).split(".")[:2])
        if version < MIN_VERSION:
            self.close()
            raise PwshError(
                f"lab: {executable.describe()} is PowerShell {ready.get('version')}; the lab needs 7.5 or later "
                f"({pwsh.INSTALL_HINT})"
            )
        self.version = str(ready["version"])
        STATS["started"] += 1
        STATS["start_s"] += time.monotonic() - started

    # ---- the protocol ----------------------------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        try:
            self._out.write(json.dumps(message, separators=(",", ":"), default=str) + "\n")
            self._out.flush()
        except (BrokenPipeError, OSError) as exc:
            raise PwshError(f"lab: the pwsh worker is gone ({exc}); its log: {self._log_tail()}") from exc

    def _receive(self, timeout: float) -> dict[str, Any]:
        import select

        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise PwshError(f"lab: the pwsh worker did not answer within {timeout:.0f} s; killed it")
            ready, _, _ = select.select([self._in_fd], [], [], min(remaining, 1.0))
            if ready:
                chunk = os.read(self._in_fd, 1 << 20)
                if not chunk:
                    code = self.process.poll()
                    raise PwshError(f"lab: the pwsh worker ended (exit {code}); its log: {self._log_tail()}")
                self._buffer += chunk
            elif self.process.poll() is not None:
                raise PwshError(f"lab: the pwsh worker ended (exit {self.process.returncode}): {self._log_tail()}")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return json.loads(line.decode("utf-8"))

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:] or "(empty)"
        except OSError:
            return "(no log)"

    def run(self, request: dict[str, Any], answer: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
        """Run one script; ``answer(method, args)`` answers the shim's questions (raise ``ShimError`` to refuse)."""
        from lab.shim import ShimError

        with self._lock:
            text = request.pop("text")
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
            message = {"op": "run", "hash": digest, **request}
            if digest not in self.scripts_sent:
                message["text"] = text
            started = time.monotonic()
            self._send(message)
            self.scripts_sent.add(digest)
            defect: BaseException | None = None
            while True:
                received = self._receive(CALL_TIMEOUT_S)
                if received.get("op") == "done":
                    break
                if received.get("op") != "call":
                    raise PwshError(f"lab: unexpected message from the pwsh worker: {received}")
                STATS["rpc"] += 1
                try:
                    value = answer(str(received.get("method")), dict(received.get("args") or {}))
                    self._send({"ok": True, "value": value})
                except ShimError as refused:
                    self._send({"ok": False, "error": {"type": refused.kind, "message": refused.message}})
                except Exception as exc:  # a lab defect: the script gets an error, the call fails loudly afterwards
                    defect = defect or exc
                    self._send({"ok": False, "error": {"type": "LabDefect", "message": f"lab defect: {exc!r}"}})
            STATS["calls"] += 1
            STATS["call_s"] += time.monotonic() - started
            self._check_sandbox()
            if defect is not None:
                raise defect
            if "worker_error" in received:
                raise PwshError(f"lab: the pwsh worker failed to run the script: {received['worker_error']}")
            result = dict(received["result"])
            for key, value in (result.pop("timings", None) or {}).items():
                if key in STATS:
                    STATS[key] += float(value)
            return result

    def _check_sandbox(self) -> None:
        stray = sorted(p.name for p in self.sandbox.iterdir())
        if stray:
            for path in self.sandbox.iterdir():
                shutil.rmtree(path) if path.is_dir() else path.unlink()
            raise PwshError(
                "lab: the script wrote to the real file system of the lab machine (a Windows-only .NET call without a "
                f"seam the shim replaces?): {', '.join(stray)}"
            )

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._send({"op": "exit"})
        with contextlib.suppress(Exception):
            self.process.wait(timeout=5)
        self.kill()

    def kill(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, 9)
            with contextlib.suppress(Exception):
                self.process.wait(timeout=5)
        with contextlib.suppress(Exception):
            self._out.close()
        with contextlib.suppress(OSError):
            os.close(self._in_fd)
        shutil.rmtree(self.sandbox, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.log_path.unlink()


class Pool:
    """Persistent workers for one lab process; ``with pool.worker() as w`` borrows one exclusively."""

    def __init__(self, size: int | None = None) -> None:
        self.size = size or default_size()
        self._idle: list[Worker] = []
        self._count = 0
        self._cond = threading.Condition()
        self._executable: pwsh.Pwsh | None = None

    def executable(self) -> pwsh.Pwsh:
        if self._executable is None:
            self._executable = pwsh.find()  # PwshNotFound: the lab fails loudly, saying what to install
        return self._executable

    @contextlib.contextmanager
    def worker(self) -> Iterator[Worker]:
        worker = self._take()
        healthy = True
        try:
            yield worker
        except PwshError:
            healthy = False
            raise
        finally:
            self._give_back(worker, healthy and worker.alive())

    def _take(self) -> Worker:
        with self._cond:
            while True:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.alive():
                        return worker
                    self._count -= 1
                if self._count < self.size:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return Worker(self.executable())
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: Worker, healthy: bool) -> None:
        with self._cond:
            if healthy:
                self._idle.append(worker)
            else:
                self._count -= 1
            self._cond.notify()
        if not healthy:
            worker.kill()

    def warm(self) -> None:
        """Start one worker now (the lab server does this at start, so the first call does not wait for pwsh)."""
        with self.worker():
            pass

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for worker in idle:
            worker.close()


POOL = Pool()
atexit.register(POOL.close)
_RESERVED = threading.local()


@contextlib.contextmanager
def reserved() -> Iterator[Worker]:
    """Hold one worker for this thread until the block ends (``run`` uses it).

    ``lab.dispatch`` reserves the worker of a win_powershell call BEFORE it takes the host's lock. A script on a process
    server may take its configuration server's lock while it runs (setup and cdpcli reach the CS): if calls took their
    worker after their lock, the process servers' calls could hold every worker while they wait for the configuration
    server's lock, held by a call that waits for a worker. Whoever holds a host lock then always has its worker.
    """
    held = getattr(_RESERVED, "worker", None)
    if held is not None:  # the thread already has one (re-entrant)
        yield held
        return
    with POOL.worker() as worker:
        _RESERVED.worker = worker
        try:
            yield worker
        finally:
            _RESERVED.worker = None


def run(request: dict[str, Any], answer: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
    """Run one script request in this thread's reserved worker, or one of the process's pool (``Worker.run``)."""
    with reserved() as worker:
        return worker.run(dict(request), answer)
