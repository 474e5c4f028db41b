"""Processes an emulated host runs detached from the call that started them (Win32_Process.Create), and the host's
process table that ``Get-Process -Id`` reads.

The collection's setup_start script starts a small PowerShell runner with ``Win32_Process.Create`` (``powershell.exe
-EncodedCommand``, the runner's text carried in the command line); the runner starts Unified Setup with
``Start-Process -PassThru``, waits for it (``WaitForExit``), then deletes the secret files and writes ``status.json``
(plugins/plugin_utils/powershell/setup_start.ps1). The lab runs that runner's REAL text under pwsh, like any
collection script, right after the call that created it (the creating call still holds the host). A detached Unified
Setup run stays "running" for ``installer_seconds`` of the host clock (lab.asr.installer) and is a process of the
table while it runs: when the runner's wait meets it still running, the lab stops the runner right there -- nothing
after that point happens, as on Windows where it is blocked in the wait -- and keeps it "running" in the process
table. When a later call finds that setup ended, the lab runs the runner again from the start; its
``Start-Process`` finds the same setup process and its wait returns the exit code at once. Everything the runner does
before that wait only reads (spec.json), so running it again is the same as it resuming.

Only a ``powershell.exe -EncodedCommand <base64>`` or ``-File <file> [-Name value ...]`` whose text a collection
script wrote (a first line starting with ``# asr.process_server``) runs; any other executable goes to the lab's
program emulations (Unified Setup detached, the rest to completion at once).

Process ids: LAB-chosen, from 4100 in steps of 4 (Windows process ids are multiples of 4).

The table is also what ``Get-CimInstance Win32_Process`` lists (``ProcessId``, ``ParentProcessId``, ``Name``,
``CreationDate``: the Win32_Process class documentation) and what ``Stop-Process -Id`` ends (Windows PowerShell 5.1's
Stop-Process calls .NET Framework's ``Process.Kill``, ``TerminateProcess`` with exit code -1): the collection's
setup_stop stops a hung setup's runner and what it started that way. Only the processes the lab keeps are listed; a
runner's parent, the WMI provider host that ``Win32_Process.Create`` starts it from, is not one of them
(``ParentProcessId`` 0, LAB).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from lab import programs
from lab.state import Host

if TYPE_CHECKING:
    from lab.shim import Session

POWERSHELL_FLAGS = {"-noprofile", "-noninteractive", "-nologo", "-mta", "-sta"}
POWERSHELL_VALUED = {"-executionpolicy", "-windowstyle", "-inputformat", "-outputformat", "-version"}
COLLECTION_TEXT = "# asr.process_server"
FIRST_PID = 4100


def table(host: Host) -> dict[str, dict[str, Any]]:
    """The host's processes by id (read-only use does not add the table to the state: reads never mutate)."""
    return host.data.get("processes") or {}


def _add(host: Host, record: dict[str, Any]) -> None:
    host.data.setdefault("processes", {})[str(record["pid"])] = record


def new_pid(host: Host) -> int:
    """The id of a process the host keeps track of (a detached one): it moves the host's next id on."""
    pid = next_pid(host)
    host.data["next_pid"] = pid + 4
    return pid


def next_pid(host: Host) -> int:
    """The id a program run to completion gets: nobody sees it after it ended, so the state is not changed."""
    return int(host.data.get("next_pid", FIRST_PID))


def _leaf(path: str) -> str:
    return path.replace("/", "\\").rsplit("\\", 1)[-1]


def running(host: Host, pid: int) -> dict[str, Any] | None:
    """What ``Get-Process -Id`` sees of a process still running (None: no such process)."""
    record = table(host).get(str(pid))
    if record is None or record["state"] != "running":
        return None
    if record.get("run_id"):  # a program the lab runs detached (Unified Setup): alive while its run is
        from lab.asr import installer

        if installer.poll_setup(host, record["run_id"])["state"] != "running":
            record["state"] = "exited"
            return None
    name = _leaf(record["path"])
    return {
        "pid": int(record["pid"]),
        "name": name[:-4] if name.lower().endswith(".exe") else name,
        "path": record["path"],
        "started": float(record["started"]),
    }


def win32_processes(host: Host) -> list[dict[str, Any]]:
    """``Get-CimInstance Win32_Process``: the processes of the table still running (``CreationDate`` as the epoch
    time LabShim.psm1 turns into a date; ``Name`` with its extension, as Win32_Process shows it)."""
    listed = []
    for key in sorted(table(host), key=int):
        alive = running(host, int(key))
        if alive is not None:
            listed.append(
                {
                    "ProcessId": alive["pid"],
                    "ParentProcessId": int(table(host)[key].get("parent_pid") or 0),
                    "Name": _leaf(alive["path"]),
                    "CreationDate": alive["started"],
                }
            )
    return listed


def stop(host: Host, pid: int) -> bool:
    """``Stop-Process -Id`` (5.1: ``Process.Kill``, ``TerminateProcess`` with exit code -1) of a process still running;
    False when no process has that id. A Unified Setup run ends with it (lab.asr.installer.stop_setup); a detached
    runner stopped while it waits never runs again (nothing after its wait happens: no status.json, its ``finally``
    does not run, as a terminated process runs no more code)."""
    from lab.asr import installer

    if running(host, pid) is None:
        return False
    record = table(host)[str(pid)]
    if record.get("run_id"):
        installer.stop_setup(host, record["run_id"])
    record.update(state="exited", exit_code=-1, waiting_on=None, finished=host.now(), stopped=True)
    return True


# ---- Win32_Process.Create -------------------------------------------------------------------------------------------
def create(session: Session, command_line: str, cwd: str | None) -> dict[str, Any]:
    """Win32_Process.Create: ``{ReturnValue, ProcessId}`` (9 = path not found, as WMI returns it)."""
    from lab.asr import installer

    host = session.host
    tokens = programs.split_command_line(command_line.strip())
    workdir = cwd or f"{host.system_drive}\\Windows\\System32"
    exe = _resolve(host, tokens[0], workdir) if tokens else None
    if exe is None:
        return {"ReturnValue": 9, "ProcessId": 0}
    pid = new_pid(host)
    # LAB: the WMI provider host Win32_Process.Create starts it from is not in the table (parent 0)
    record = _running(session, pid, exe, command_line, workdir, parent_pid=0)
    if _leaf(exe).lower() == "powershell.exe":
        host.record_process(command_line, session.user)
        record.update(kind="powershell", spec=_powershell_spec(tokens[1:]), waiting_on=None)
        session.created.append(pid)
    elif installer._setup_version(host, exe) is not None:
        run = installer.start_setup(host, command_line, session.user, session.become, cwd=workdir)
        record.update(kind="program", run_id=run["run_id"])
    else:
        result = programs.run(host, command_line, user=session.user, become=session.become, cwd=workdir)
        record.update(kind="program", state="exited", exit_code=result.rc)
    _add(host, record)
    return {"ReturnValue": 0, "ProcessId": pid}


def _running(session: Session, pid: int, exe: str, command_line: str, workdir: str, **more: Any) -> dict[str, Any]:
    """A process-table entry for a process that has just started (its kind and parent in ``more``)."""
    return {
        "pid": pid,
        "path": exe,
        "command_line": command_line,
        "cwd": workdir,
        "user": session.user,
        "become": session.become,
        "started": session.host.now(),
        "state": "running",
        **more,
    }


def _resolve(host: Host, token: str, workdir: str) -> str | None:
    if _leaf(token).lower() in ("powershell.exe", "powershell"):
        # Windows PowerShell 5.1 is on every supported Windows Server (System32\WindowsPowerShell\v1.0)
        return token if token.lower().endswith(".exe") else token + ".exe"
    return programs.resolve_executable(host, token, workdir)


def _powershell_spec(args: list[str]) -> dict[str, Any]:
    """powershell.exe's command line: ``-File <file> [-Name value | -Switch]...`` or ``-EncodedCommand <base64>``."""
    i = 0
    while i < len(args):
        word = args[i].lower()
        if word in POWERSHELL_FLAGS:
            i += 1
        elif word in POWERSHELL_VALUED and i + 1 < len(args):
            i += 2
        elif word in ("-file", "-f") and i + 1 < len(args):
            try:
                return {"file": args[i + 1], "parameters": _script_parameters(args[i + 2 :])}
            except ValueError as exc:
                return {"error": str(exc)}
        elif word in ("-encodedcommand", "-enc", "-e", "-ec") and i + 1 < len(args):
            try:
                text = base64.b64decode(args[i + 1]).decode("utf-16-le")
            except (ValueError, UnicodeDecodeError):
                return {"error": "lab: powershell.exe -EncodedCommand: not base64 of UTF-16LE text"}
            return {"text": text, "parameters": {}}
        else:
            return {
                "error": f"lab: powershell.exe argument {args[i]!r} is not emulated (only -File and -EncodedCommand)"
            }
    return {"error": "lab: powershell.exe without -File or -EncodedCommand (an interactive shell) is not emulated"}


def _script_parameters(args: list[str]) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    i = 0
    while i < len(args):
        name = args[i]
        if not name.startswith("-") or len(name) < 2:
            raise ValueError(f"lab: positional script argument {name!r} is not emulated")
        if i + 1 < len(args) and not args[i + 1].startswith("-"):
            parameters[name[1:]] = args[i + 1]
            i += 2
        else:
            parameters[name[1:]] = True
            i += 1
    return parameters


# ---- Start-Process ---------------------------------------------------------------------------------------------
def start(
    session: Session,
    file: str,
    arguments: str,
    cwd: str | None,
    stdout: str | None,
    stderr: str | None,
    wait: bool,
) -> dict[str, Any]:
    """Start-Process (5.1: CreateProcess of ``"<resolved file>" <arguments>``).

    Inside a detached process (the runner), Unified Setup starts detached (lab.asr.installer) and becomes a process of
    the table; waiting for it while it runs stops the runner there (``suspend``, see the module docstring). When the
    runner runs again, the same start finds the same setup process instead of starting another. Any other program,
    and any program a win_powershell call starts, runs to completion at once."""
    from lab.asr import installer
    from lab.shim import ShimError, native_command_line

    host = session.host
    workdir = cwd or f"{host.system_drive}\\Windows\\System32"
    exe = programs.resolve_executable(host, file, workdir)
    if exe is None:
        raise ShimError("FileNotFound", "The system cannot find the file specified")
    command_line = native_command_line(exe, arguments)
    name = _leaf(exe)[:-4] if exe.lower().endswith(".exe") else _leaf(exe)
    if session.process_pid is not None and installer._setup_version(host, exe) is not None:
        record = session.replay
        if record is not None:
            session.replay = None
            if record.get("command_line") != command_line:
                raise ShimError("NotSupported", "lab: a runner run again started another program than the first time")
        else:
            run = installer.start_setup(host, command_line, session.user, session.become, cwd=workdir)
            record = _running(
                session, new_pid(host), exe, command_line, workdir,
                kind="program", run_id=run["run_id"], redirect={"stdout": stdout, "stderr": stderr},
                parent_pid=session.process_pid,  # started by the runner (Start-Process)
            )  # fmt: skip
            _add(host, record)
            for path in (stdout, stderr):
                if path:
                    host.write_file(path, b"")  # created when the process starts
        started = {"pid": int(record["pid"]), "name": name, "exited": False, "exit_code": None}
        return (
            wait_for(session, int(record["pid"]), -1) | {"pid": int(record["pid"]), "name": name} if wait else started
        )
    result = programs.run(host, command_line, user=session.user, become=session.become, cwd=workdir)
    _redirect(host, stdout, result.stdout, stderr, result.stderr)
    return {"pid": next_pid(host), "name": name, "exited": True, "exit_code": int(result.rc)}


def wait_for(session: Session, pid: int, timeout_ms: int) -> dict[str, Any]:
    """Process.WaitForExit of a process the table keeps: ``{exited, exit_code}``; a detached process that waits without
    a time limit for a setup still running is stopped there (``suspend``)."""
    from lab.asr import installer
    from lab.shim import ShimError

    host = session.host
    record = table(host).get(str(pid))
    if record is None:
        raise ShimError("InvalidOperation", "No process is associated with this object.")
    if record.get("run_id") and record["state"] == "running":
        run = installer.poll_setup(host, record["run_id"])
        if run["state"] == "running":
            if timeout_ms is not None and int(timeout_ms) >= 0:
                return {"exited": False, "exit_code": None}
            if session.process_pid is None:
                raise ShimError(
                    "NotSupported", "lab: a win_powershell call waiting for a setup still running is not emulated"
                )
            session.waiting_on = str(pid)
            return {"suspend": True}
        redirect = record.get("redirect") or {}
        _redirect(
            host, redirect.get("stdout"), run.get("stdout") or "", redirect.get("stderr"), run.get("stderr") or ""
        )
        record.update(state="exited", exit_code=int(run["rc"]), finished=host.now())
    return {"exited": record["state"] == "exited", "exit_code": record.get("exit_code")}


def _redirect(host: Host, stdout: str | None, out: str, stderr: str | None, err: str) -> None:
    if stdout:
        host.write_file(stdout, out)
    if stderr:
        host.write_file(stderr, err)


# ---- running the detached PowerShell processes -----------------------------------------------------------------
def run_created(host: Host, session: Session) -> None:
    """Run the PowerShell processes ``session``'s call created (right after that call, still holding the host)."""
    for pid in list(session.created):
        record = table(host).get(str(pid))
        if record is not None and record["state"] == "running":
            _run_powershell(host, record, replay=None)
    session.created.clear()


def resume_finished(host: Host) -> None:
    """Run again each detached PowerShell process that waits for a program that has now ended."""
    from lab.asr import installer

    for record in list(table(host).values()):
        if record.get("kind") != "powershell" or record["state"] != "running" or not record.get("waiting_on"):
            continue
        waited = table(host).get(str(record["waiting_on"]))
        if waited is None:  # that process is gone (a reboot): the runner is too
            continue
        if waited.get("run_id") and installer.poll_setup(host, waited["run_id"])["state"] == "running":
            continue
        _run_powershell(host, record, replay=waited)


def _collection_text(text: str) -> bool:
    """A text a collection script wrote: its first comment line (after an ``& {`` wrapper) is the collection's."""
    return any(line.strip().startswith(COLLECTION_TEXT) for line in text.lstrip("\ufeff").splitlines()[:3])


def _run_powershell(host: Host, record: dict[str, Any], replay: dict[str, Any] | None) -> None:
    from lab import scripts
    from lab.shim import Session

    spec = record["spec"]
    text = spec.get("text")
    if text is None and spec.get("file"):
        text = host.read_text(spec["file"]).lstrip("\ufeff") if host.is_file(spec["file"]) else None
        if text is None:
            spec = {"error": f"The argument '{spec['file']}' to the -File parameter does not exist."}
    if text is not None and not _collection_text(text):
        spec = {
            "error": "lab: a detached powershell.exe runs only text a collection script wrote (# asr.process_server)"
        }
    if "error" in spec:
        record.update(state="exited", exit_code=1, error=spec["error"], finished=host.now())
        return
    session = Session(host, record["user"], bool(record["become"]), process_pid=int(record["pid"]), replay=replay)
    fields = scripts.execute(session, text, dict(spec.get("parameters") or {}), [], plain=True)
    if fields.get("suspended"):
        record["waiting_on"] = session.waiting_on
        return
    record.update(state="exited", exit_code=1 if fields.get("failed") else 0, waiting_on=None, finished=host.now())
    if fields.get("failed"):
        record["error"] = "; ".join(str(e.get("exception", {}).get("message")) for e in fields.get("error") or [])
