"""The server side of tests/playbook_runner.py: a Python process that has imported ansible-core once and forks a
fresh ``ansible-playbook`` for every run it is asked for (docs/dev/test-time.md, "ansible-playbook from a fork").

Started by the runner as ``python tests/playbook_zygote.py <socket> <parent pid>`` with exactly the environment and
working directory of the runs it will serve (ansible-core reads its configuration while it is imported). It imports
what every ``ansible-playbook`` imports before its first task (the CLI, the executor, the winrm connection plugin and
their libraries), prints ``ready``, then serves requests on a Unix socket, one at a time:

* a request is ``argv``, ``cwd`` and ``env`` (JSON, length-prefixed) with three file descriptors (stdin, stdout,
  stderr) passed along (SCM_RIGHTS);
* the server forks a *runner* and goes back to accepting; the runner forks the run itself and answers ``{"pid": n}``,
  then waits for it and answers ``{"status": wait status, "cpu": user+sys seconds of the run and its children}``.

The run is what the ``ansible-playbook`` script does, in a process that did its imports earlier: the descriptors
become 0/1/2, it gets its own process group (the runner's caller kills the group on a timeout, as subprocess.run
kills its child), the requested directory and environment (exactly, including the variables that only the runs
read), a fresh random seed, and ansible-core's local temporary directory of its own (ansible-core makes it while
importing its constants, named after the process: the server's belongs to the server). It ends with the exit code
``ansible-playbook`` ends with, after the exit handlers ran. The server exits when its parent is gone.

Nothing of the collection is imported here: its plugins load in each run, from the checkout, as in any run.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import random
import signal
import socket
import struct
import sys
import traceback

HEADER = struct.Struct("!I")


def preload() -> None:
    """Import what every run imports before its first task (the ansible-playbook script, the winrm connection
    plugin ansible-core loads in every run, the executor and the PowerShell payload builder and their libraries)."""
    import ansible.cli.playbook
    import ansible.executor.powershell.module_manifest
    import ansible.executor.task_executor
    import ansible.plugins.connection.winrm
    import ansible.plugins.strategy.linear  # noqa: F401


def frame(message: dict) -> bytes:
    """``message`` as sent: its length (4 bytes, network order), then its JSON."""
    data = json.dumps(message).encode()
    return HEADER.pack(len(data)) + data


def send(conn: socket.socket, message: dict) -> None:
    conn.sendall(frame(message))


def receive(conn: socket.socket, fds: int = 0) -> tuple[dict, list[int]]:
    """One length-prefixed JSON message (and up to ``fds`` descriptors sent with its first bytes)."""
    data, received, _flags, _addr = socket.recv_fds(conn, 65536, fds) if fds else (conn.recv(65536), [], 0, None)
    data = _read_to(conn, data, HEADER.size)
    (size,) = HEADER.unpack_from(data)
    data = _read_to(conn, data, HEADER.size + size)
    return json.loads(data[HEADER.size : HEADER.size + size]), list(received)


def _read_to(conn: socket.socket, data: bytes, size: int) -> bytes:
    """``data`` and what follows it on ``conn`` until it holds ``size`` bytes."""
    while len(data) < size:
        more = conn.recv(65536)
        if not more:
            raise EOFError("the other side closed the connection before the whole message")
        data += more
    return data


def run_ansible_playbook(request: dict) -> int:
    """In the forked run: become ``ansible-playbook <argv>`` and return its exit code."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = list(request["argv"])
    random.seed()
    from ansible import constants as C
    from ansible.config.manager import cleanup_tmp_file

    # the server made (and will remove) its own local temporary directory while importing the constants; this run
    # gets one of its own, named after its pid and removed when it exits, as a fresh ansible-playbook process does
    atexit.unregister(cleanup_tmp_file)
    # (templated with the constants, as ansible.constants does: the default is {{ ANSIBLE_HOME ~ "/tmp" }})
    C.DEFAULT_LOCAL_TMP = C.config.get_config_value("DEFAULT_LOCAL_TMP", variables=vars(C))
    from ansible.cli.playbook import main

    try:
        main()
        code: object = 0
    except SystemExit as done:
        code = done.code
    if code is None:
        code = 0
    elif not isinstance(code, int):  # what the interpreter does with sys.exit("text")
        print(code, file=sys.stderr)
        code = 1
    return code


def run_forked(request: dict, fds: list[int]) -> None:
    """The run's process: never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        code = run_ansible_playbook(request)
    except BaseException as error:
        traceback.print_exception(error)
        code = 1
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def runner(conn: socket.socket, request: dict, fds: list[int]) -> None:
    """Fork the run, say its pid, wait for it, say how it ended; never returns."""
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the server's own handler (below) is not the run's
        pid = os.fork()
        if pid == 0:
            conn.close()
            run_forked(request, fds)
        for fd in fds:
            os.close(fd)
        send(conn, {"pid": pid})
        _pid, status, usage = os.wait4(pid, 0)
        send(conn, {"status": status, "cpu": usage.ru_utime + usage.ru_stime})
    finally:
        os._exit(0)


def reap() -> None:
    """Wait for the runners that ended. Waited for (not ignored), their CPU and their runs' counts in this server's
    children, and the server's in its parent's once the parent waits for it: /usr/bin/time around the test run sees
    the forked runs as it saw the ansible-playbook processes."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(path: str, parent: int) -> None:
    # a run's import path starts where the ansible-playbook script is (the virtualenv's bin), not at tests/
    sys.path[0] = os.path.dirname(sys.executable)
    preload()
    # what was imported stays: moved out of the garbage collector's generations, the runs' (and their task workers')
    # collections neither walk it nor write to its pages, which the fork shares (7 % less CPU in the runs of
    # tests/reliability/test_bad_inputs.py, measured twice each way)
    gc.freeze()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    server.settimeout(1.0)
    # stopped with SIGTERM: exit normally, so the exit handlers remove the server's own local temporary directory
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    print("ready", flush=True)
    while os.getppid() == parent:
        reap()
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        conn.settimeout(None)
        try:
            request, fds = receive(conn, fds=3)
        except (EOFError, OSError, ValueError):
            conn.close()
            continue
        if os.fork() == 0:
            server.close()
            runner(conn, request, fds)
        conn.close()
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
