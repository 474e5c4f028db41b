"""What happens when an emulated host "runs" a command line (lab/DESIGN.md, layer ``lab/programs.py``).

``run`` is what ``win_command``/``win_shell``/``win_package`` and the collection's scripts end up calling:

1. the command line is recorded in the host's process log EXACTLY as given (Windows event 4688 with
   command-line auditing shows it verbatim, so a secret on a command line must show up there);
2. it is split into ``argv`` exactly as ``CommandLineToArgvW`` (and the .NET/MSVC runtimes that the ASR
   executables use) splits it -- including the backslash-before-quote rule, so ``"D:\\"`` is NOT ``D:\\``;
3. the executable is resolved like ``CreateProcess`` does: an explicit path must exist in the host's file
   system (files the emulated installers created are there), a bare name is looked up in the working
   directory and then among the system tools (``net``, ``sc``, ``msiexec``, ``cmd``, ...); ``.exe`` is
   appended when the name has no extension;
4. it is dispatched by the executable's file name (case-insensitive) to an emulation registered with
   ``@executable(...)`` (the ASR ones live in ``lab/asr/``).

Lab conventions (documented choices, not product facts):

* an executable that cannot be found returns rc **9009** with the text ``cmd.exe`` prints
  (``'x' is not recognized as an internal or external command, operable program or batch file.``); 9009 is
  what ``cmd /c`` and therefore ``win_shell`` report on Windows;
* a file that exists but is not one the lab emulates returns rc **193** with
  ``%1 is not a valid Win32 application.`` (ERROR_BAD_EXE_FORMAT: the lab's files are text markers).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.state import Host

SYSTEM32 = "C:\\Windows\\System32"

# Executables every Windows Server has in System32 (their emulations are registered by lab.asr.*).
SYSTEM_TOOLS = {"net.exe", "net1.exe", "sc.exe", "msiexec.exe", "cmd.exe", "hostname.exe", "whoami.exe"}

NOT_FOUND_RC = 9009
BAD_EXE_RC = 193


@dataclass
class ProcessResult:
    rc: int
    stdout: str
    stderr: str
    duration_s: float = 0.0


@dataclass
class Invocation:
    """Everything an emulated executable gets when the host "starts" it."""

    host: Host
    argv: list[str]  # argv[1:] are the arguments; argv[0] as written on the command line
    command_line: str  # exactly as given
    exe_path: str  # the resolved executable path (display case)
    user: str
    become: bool
    cwd: str
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    @property
    def exe_name(self) -> str:
        return self.exe_path.replace("/", "\\").rsplit("\\", 1)[-1].lower()

    @property
    def exe_dir(self) -> str:
        return self.exe_path.replace("/", "\\").rsplit("\\", 1)[0]


Handler = Callable[[Invocation], ProcessResult]
_EXECUTABLES: dict[str, Handler] = {}


_BY_MARKER: dict[str, Handler] = {}


def executable(*names: str, marker: str | None = None) -> Callable[[Handler], Handler]:
    """Register an emulated executable under one or more file names (``"unifiedsetup.exe"``) and, optionally, the
    first line of the lab's marker file for it (``ASR-LAB-<KIND>``): Windows runs a program whatever its file is
    called, so a renamed copy of the package still runs as the package."""

    def decorate(func: Handler) -> Handler:
        for name in names:
            _EXECUTABLES[name.lower()] = func
        if marker:
            _BY_MARKER[marker] = func
        return func

    return decorate


def _handler_for(host: Host, exe: str, exe_name: str) -> Handler | None:
    handler = _EXECUTABLES.get(exe_name)
    if handler is None and host.is_file(exe):
        first = host.read_bytes(exe)[:80].split(b"\n", 1)[0].decode("ascii", errors="replace").strip()
        handler = _BY_MARKER.get(first)
    return handler


# ---- CommandLineToArgvW --------------------------------------------------------------------------------
def split_command_line(command_line: str) -> list[str]:
    """Split like ``CommandLineToArgvW`` (the algorithm Wine documents and Windows 7+ follows).

    * argv[0]: if it starts with ``"`` it runs to the next ``"`` (no escapes at all), else to the first
      space or tab;
    * other arguments: space/tab separate outside quotes; ``2n`` backslashes before ``"`` give ``n``
      backslashes and the quote toggles quoting; ``2n+1`` backslashes before ``"`` give ``n`` backslashes and
      a literal ``"``; backslashes not followed by ``"`` are literal; inside quotes, a run of quotes yields a
      literal ``"`` for every third quote counted with the opening one (``""`` inside quotes -> ``"``, and
      quoting ends).
    """
    s = command_line
    i = 0
    n = len(s)
    argv: list[str] = []
    if n == 0:
        return argv
    # argv[0]
    if s[0] == '"':
        j = s.find('"', 1)
        if j == -1:
            argv.append(s[1:])
            return argv
        argv.append(s[1:j])
        i = j + 1
    else:
        j = i
        while j < n and s[j] not in " \t":
            j += 1
        argv.append(s[:j])
        i = j
    while i < n and s[i] in " \t":
        i += 1
    if i >= n:
        return argv
    current: list[str] = []
    started = False
    qcount = 0  # odd = in quotes (Wine's counter)
    bcount = 0
    while i < n:
        c = s[i]
        if c in " \t" and qcount == 0:
            if started:
                argv.append("".join(current))
            current = []
            started = False
            bcount = 0
            while i < n and s[i] in " \t":
                i += 1
            continue
        started = True
        if c == "\\":
            current.append(c)
            bcount += 1
            i += 1
        elif c == '"':
            if bcount % 2 == 0:
                del current[len(current) - bcount // 2 :]
                qcount += 1
            else:
                del current[len(current) - bcount // 2 - 1 :]
                current.append('"')
            i += 1
            bcount = 0
            while i < n and s[i] == '"':
                qcount += 1
                if qcount == 3:
                    current.append('"')
                    qcount = 0
                i += 1
            if qcount == 2:
                qcount = 0
        else:
            current.append(c)
            bcount = 0
            i += 1
    if started:
        argv.append("".join(current))
    return argv


def quote_argument(arg: str, whitespace: str = " \t") -> str:
    """The inverse of ``split_command_line`` for one argument (for tests and the lab's own command lines).

    An argument with a quote or any of ``whitespace`` in it (space and tab end an unquoted argument) is quoted.
    """
    if arg and not any(c in arg for c in whitespace + '"'):
        return arg
    out = ['"']
    backslashes = 0
    for c in arg:
        if c == "\\":
            backslashes += 1
            continue
        if c == '"':
            out.append("\\" * (backslashes * 2 + 1) + '"')
        else:
            out.append("\\" * backslashes + c)
        backslashes = 0
    out.append("\\" * (backslashes * 2) + '"')
    return "".join(out)


# ---- environment ---------------------------------------------------------------------------------------
def environment(host: Host) -> dict[str, str]:
    """The machine environment of a Windows Server process (names as Windows spells them)."""
    drive = host.system_drive
    return {
        "SystemDrive": drive,
        "SystemRoot": f"{drive}\\Windows",
        "windir": f"{drive}\\Windows",
        "ProgramData": f"{drive}\\ProgramData",
        "ALLUSERSPROFILE": f"{drive}\\ProgramData",
        "ProgramFiles": f"{drive}\\Program Files",
        "ProgramFiles(x86)": f"{drive}\\Program Files (x86)",
        "TEMP": f"{drive}\\Windows\\Temp",
        "TMP": f"{drive}\\Windows\\Temp",
        "COMPUTERNAME": host.data.get("hostname", host.name.upper()),
        "USERPROFILE": f"{drive}\\Users\\Administrator",
        "ComSpec": f"{drive}\\Windows\\System32\\cmd.exe",
    }


def expand_env(text: str, env: dict[str, str]) -> str:
    """``%NAME%`` expansion as cmd.exe does it (case-insensitive; unknown names are left as written)."""
    lowered = {k.lower(): v for k, v in env.items()}
    return re.sub(r"%([^%\r\n]+)%", lambda m: lowered.get(m.group(1).lower(), m.group(0)), text)


# ---- resolution ----------------------------------------------------------------------------------------
def _with_exe(name: str) -> str:
    base = name.replace("/", "\\").rsplit("\\", 1)[-1]
    return name if "." in base else name + ".exe"


def _is_path(token: str) -> bool:
    return "\\" in token or "/" in token or (len(token) >= 2 and token[1] == ":")


def _join(cwd: str, rel: str) -> str:
    rel = rel.replace("/", "\\")
    if rel.startswith("\\"):  # rooted on the current drive
        return cwd[:2] + rel
    parts = cwd.rstrip("\\").split("\\")
    for piece in rel.split("\\"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if len(parts) > 1:
                parts.pop()
            continue
        parts.append(piece)
    return "\\".join(parts)


def _system_tool(host: Host, name: str) -> str | None:
    name = name.lower()
    if name in SYSTEM_TOOLS:
        return f"{SYSTEM32}\\{name}"
    if name == "perl.exe" and _has_perl(host):
        return _perl_path(host)
    return None


def _has_perl(host: Host) -> bool:
    # [6.2] SRC cx_thirdparty_setup.iss: the Dependencies package ("thirdparty", installed to C:\thirdparty)
    # brings the CS/PS runtime; [5] DOC runs `perl Unregister-ASRComponent.pl` on the CS by bare name.
    # The lab therefore puts `perl` on the PATH exactly when Dependencies are installed.
    from lab.asr import constants as c

    return host.reg_key_exists(c.REG_INSTALLED_DEPENDENCIES)


def _perl_path(host: Host) -> str:
    from lab.asr import constants as c

    return c.PERL_EXE


def resolve_executable(host: Host, token: str, cwd: str) -> str | None:
    """Path of the executable ``token`` names, or None when Windows would not find it."""
    name = _with_exe(token)
    if _is_path(name):
        path = name if (len(name) >= 3 and name[1] == ":" and name[2] in "\\/") else _join(cwd, name)
        if host.is_file(path):
            return path
        folder, _, base = path.replace("/", "\\").rpartition("\\")
        if folder.lower() in (SYSTEM32.lower(), f"{host.system_drive}\\windows\\system32".lower()):
            return _system_tool(host, base)
        return None
    local = _join(cwd, name)
    if host.is_file(local):  # CreateProcess searches the current directory before the system directories
        return local
    return _system_tool(host, name)


# ---- run -----------------------------------------------------------------------------------------------
def run(
    host: Host,
    command_line: str,
    *,
    user: str,
    become: bool,
    cwd: str | None = None,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> ProcessResult:
    """Run ``command_line`` on ``host`` and return what the process returned.

    ``env`` adds variables to the new process's environment only (what ProcessStartInfo.EnvironmentVariables
    does); like Windows' process-creation audit, the process log records the command line, never the environment.
    """
    from lab.asr.installer import settle  # importing lab.asr registers the ASR and system executables

    host.record_process(command_line, user)
    settle(host)  # detached Unified Setup runs whose time has come have finished by now
    started = time.monotonic()
    argv = split_command_line(command_line.strip())
    if not argv or not argv[0]:
        return ProcessResult(1, "", "The filename, directory name, or volume label syntax is incorrect.\r\n")
    workdir = cwd or f"{host.system_drive}\\Windows\\System32"
    exe = resolve_executable(host, argv[0], workdir)
    if exe is None:
        return ProcessResult(
            NOT_FOUND_RC,
            "",
            f"'{argv[0]}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
        )
    inv = Invocation(
        host=host,
        argv=argv,
        command_line=command_line,
        exe_path=exe,
        user=user,
        become=become,
        cwd=workdir,
        stdin=stdin,
        env={**environment(host), **(env or {})},
    )
    handler = _handler_for(host, exe, inv.exe_name)
    if handler is None:
        return ProcessResult(BAD_EXE_RC, "", f"{exe} is not a valid Win32 application.\r\n")
    result = handler(inv)
    if not result.duration_s:
        result.duration_s = round(time.monotonic() - started, 3)
    return result


# ---- cmdlets -------------------------------------------------------------------------------------------
@dataclass
class CmdletResult:
    """What a PowerShell cmdlet call produced: pipeline output objects and error records' messages
    (a non-empty ``errors`` means the call failed with a terminating error)."""

    output: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


CmdletHandler = Callable[..., CmdletResult]
_CMDLETS: dict[str, CmdletHandler] = {}


def cmdlet(*names: str) -> Callable[[CmdletHandler], CmdletHandler]:
    def decorate(func: CmdletHandler) -> CmdletHandler:
        for name in names:
            _CMDLETS[name.lower()] = func
        return func

    return decorate


def run_cmdlet(host: Host, name: str, parameters: dict[str, Any], *, user: str, become: bool) -> CmdletResult:
    """Call a cmdlet the lab knows (``Set-OBMachineSetting``, ``Get-OBMachineSetting``); parameter names are
    case-insensitive like PowerShell's; a switch is passed as ``True``."""
    import lab.asr  # noqa: F401

    handler = _CMDLETS.get(name.lower())
    if handler is None:
        return CmdletResult(
            errors=[
                f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or "
                "operable program. Check the spelling of the name, or if a path was included, verify that "
                "the path is correct and try again."
            ]
        )
    params = {str(k).lstrip("-").lower(): v for k, v in parameters.items()}
    return handler(host, params, user=user, become=become)


def known_cmdlets() -> list[str]:
    import lab.asr  # noqa: F401

    return sorted(_CMDLETS)


# ---- cmd.exe, hostname, whoami (Windows built-ins, not ASR) --------------------------------------------
def _split_chain(text: str) -> list[tuple[str, str]]:
    """Split a cmd line on ``&&``, ``||`` and ``&`` outside double quotes: ``[(operator_before, command)]``."""
    parts: list[tuple[str, str]] = []
    op = ""
    buf: list[str] = []
    quoted = False
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            quoted = not quoted
        if not quoted and c in "&|":
            two = text[i : i + 2]
            if two in ("&&", "||"):
                parts.append((op, "".join(buf).strip()))
                op, buf = two, []
                i += 2
                continue
            if c == "&":
                parts.append((op, "".join(buf).strip()))
                op, buf = "&", []
                i += 1
                continue
        buf.append(c)
        i += 1
    parts.append((op, "".join(buf).strip()))
    return [p for p in parts if p[1]]


def _redirect(command: str) -> tuple[str, str | None, bool]:
    """Strip a trailing ``> file`` / ``>> file`` (outside quotes): ``(command, target, append)``."""
    quoted = False
    for i, c in enumerate(command):
        if c == '"':
            quoted = not quoted
        elif c == ">" and not quoted:
            append = command[i : i + 2] == ">>"
            target = command[i + (2 if append else 1) :].strip().strip('"')
            return command[:i].rstrip(), target or None, append
    return command, None, False


@executable("cmd.exe")
def _cmd(inv: Invocation) -> ProcessResult:
    """``cmd /c <command>``: expands ``%VAR%``, runs ``&&``/``||``/``&`` chains, ``cd [/d]``, ``echo``,
    ``type`` and ``>``/``>>`` redirection of stdout; every other command is a child process (recorded in
    the process log like Windows records the child)."""
    raw = inv.command_line
    m = re.search(r"(?i)\s/[ck]\s*", raw)
    if m is None:
        return ProcessResult(0, "Microsoft Windows [Version 10.0.14393]\r\n", "")
    rest = raw[m.end() :]
    # cmd /? rule: keep the quotes when there are exactly two, otherwise strip the first and the last one.
    if rest.startswith('"') and rest.count('"') != 2:
        last = rest.rfind('"')
        rest = rest[1:last] + rest[last + 1 :]
    rest = expand_env(rest, inv.env)
    cwd = inv.cwd
    out: list[str] = []
    err: list[str] = []
    rc = 0
    for op, command in _split_chain(rest):
        if (op == "&&" and rc != 0) or (op == "||" and rc == 0):
            continue
        command, target, append = _redirect(command)
        word = command.split(None, 1)
        verb = word[0].lower() if word else ""
        arg = word[1].strip() if len(word) > 1 else ""
        text = ""
        if verb == "cd":
            if arg.lower().startswith("/d "):
                arg = arg[3:].strip()
            arg = arg.strip('"')
            new = arg if (len(arg) >= 2 and arg[1] == ":") else _join(cwd, arg)
            if inv.host.is_dir(new):
                cwd, rc = new, 0
            else:
                err.append("The system cannot find the path specified.\r\n")
                rc = 1
            continue
        if verb == "echo":
            text, rc = arg + "\r\n", 0
        elif verb == "type":
            path = arg.strip('"')
            path = path if (len(path) >= 2 and path[1] == ":") else _join(cwd, path)
            if inv.host.is_file(path):
                text, rc = inv.host.read_text(path), 0
            else:
                err.append("The system cannot find the file specified.\r\n")
                rc = 1
                continue
        else:
            child = run(inv.host, command, user=inv.user, become=inv.become, cwd=cwd, stdin=inv.stdin)
            text, rc = child.stdout, child.rc
            err.append(child.stderr)
            if child.rc == NOT_FOUND_RC:
                rc = NOT_FOUND_RC
        if target:
            path = target if (len(target) >= 2 and target[1] == ":") else _join(cwd, target)
            if append:
                inv.host.append_text(path, text)
            else:
                inv.host.write_file(path, text)
        else:
            out.append(text)
    return ProcessResult(rc, "".join(out), "".join(err))


@executable("hostname.exe")
def _hostname(inv: Invocation) -> ProcessResult:
    return ProcessResult(0, inv.host.data.get("hostname", inv.host.name.upper()) + "\r\n", "")


@executable("whoami.exe")
def _whoami(inv: Invocation) -> ProcessResult:
    user = inv.user if "\\" in inv.user else f"{inv.host.data.get('hostname', inv.host.name).lower()}\\{inv.user}"
    return ProcessResult(0, user.lower() + "\r\n", "")
