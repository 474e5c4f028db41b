"""win_command and win_shell: the command line goes to ``lab.programs.run`` (which records it in the host's
process log and emulates the executable)."""

from __future__ import annotations

import re
import time
from typing import Any

from lab.argspec import ModuleFailure, legacy_param
from lab.winmodules._common import Context, programs_module, ps_datetime, ps_delta

_NOT_FOUND_RC = 9009  # lab.programs: an executable Windows cannot find
# Process.cs Win32Exception format: "{message} ({Win32 message}, Win32ErrorCode {code} - 0x{code:X8})"
_CREATE_PROCESS_NOT_FOUND = (
    "CreateProcessW() failed (The system cannot find the file specified, Win32ErrorCode 2 - 0x00000002)"
)


def _quote(arg: str) -> str:
    quote = getattr(programs_module(), "quote_argument", None)
    if quote is not None:
        return quote(arg)
    return f'"{arg}"' if (not arg or any(c in arg for c in ' \t"')) else arg


def _exists(ctx: Context, path: str) -> bool:
    # Ansible.ModuleUtils.FileUtil Test-AnsiblePath
    return ctx.host.exists(path)


def win_command(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    result = ctx.result()
    if params.get("cmd"):
        raw = params["cmd"]
    elif params.get("_raw_params"):
        raw = params["_raw_params"].strip()
    else:
        # win_command.ps1: Resolve-ExecutablePath argv[0], then ConvertTo-EscapedArgument (C argv rules)
        argv = params["argv"]
        raw = " ".join([_quote(str(argv[0])), *(_quote(str(a)) for a in argv[1:])])
    result["cmd"] = raw
    result["rc"] = 0
    if params.get("creates") and _exists(ctx, params["creates"]):
        return {**result, "msg": f"skipped, since {params['creates']} exists", "skipped": True}
    if params.get("removes") and not _exists(ctx, params["removes"]):
        return {**result, "msg": f"skipped, since {params['removes']} does not exist", "skipped": True}
    start = time.time()
    proc = ctx.run_program(raw, cwd=params.get("chdir"), stdin=params.get("stdin"))
    if proc.rc == _NOT_FOUND_RC and "is not recognized" in (proc.stderr or ""):
        # Start-AnsibleWindowsProcess -> CreateProcessW fails; win_command.ps1 reports NativeErrorCode as rc
        raise ModuleFailure(f"Failed to run: '{raw}': {_CREATE_PROCESS_NOT_FOUND}", **{**result, "rc": 2})
    end = start + max(proc.duration_s, time.time() - start)
    result["changed"] = True
    return _finished(result, proc, start, end)


def _finished(result: dict[str, Any], proc: Any, start: float, end: float) -> dict[str, Any]:
    """win_command.ps1 / win_shell.ps1 after the process: its output, rc and times; a non-zero rc fails the task."""
    result.update(
        stdout=proc.stdout,
        stderr=proc.stderr,
        rc=proc.rc,
        start=ps_datetime(start),
        end=ps_datetime(end),
        delta=ps_delta(end - start),
    )
    if proc.rc != 0:
        raise ModuleFailure("non-zero return code", **result)
    return result


# ---- win_shell ------------------------------------------------------------------------------------------
_PS_TOKEN_RE = re.compile(r"""'(?:[^']|'')*'|"(?:[^"`]|`.)*"|[^\s'"]+""")


def _ps_tokens(text: str) -> list[str]:
    tokens = []
    for token in _PS_TOKEN_RE.findall(text):
        if token.startswith("'"):
            tokens.append(token[1:-1].replace("''", "'"))
        elif token.startswith('"'):
            tokens.append(re.sub(r"`(.)", r"\1", token[1:-1]))
        else:
            tokens.append(token)
    return tokens


def _single_command(script: str) -> tuple[str, bool] | None:
    """The one command a win_shell PowerShell script runs, and whether it ends with ``exit $LASTEXITCODE``.

    Accepted: one line holding a plain command invocation (``x.exe args``, ``C:\\p\\x.exe args``,
    ``& 'C:\\p q\\x.exe' args``, ``Verb-Noun -Param value``), optionally followed by ``; exit $LASTEXITCODE``.
    Pipelines, several statements, script blocks and variables are free-form PowerShell the lab cannot run.
    """
    lines = [line.strip() for line in script.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) == 2 and lines[1].lower() == "exit $lastexitcode":
        lines = [f"{lines[0]}; exit $LASTEXITCODE"]
    if len(lines) != 1:
        return None
    line = lines[0]
    exit_rc = False
    match = re.match(r"^(.*?);\s*exit \$LASTEXITCODE\s*;?$", line, re.I)
    if match:
        line, exit_rc = match.group(1).strip(), True
    unquoted = re.sub(r"'(?:[^']|'')*'|\"(?:[^\"`]|`.)*\"", "''", line)
    if any(c in unquoted for c in ";|{}$`()") or ">" in unquoted:
        return None
    return line, exit_rc


def _run_powershell_line(ctx: Context, line: str, exit_rc: bool, cwd: str | None, stdin: str | None) -> Any:
    tokens = _ps_tokens(line)
    if tokens and tokens[0] == "&":
        tokens = tokens[1:]
    if not tokens:
        return None
    programs = programs_module()
    first = tokens[0]
    cmdlets = getattr(programs, "known_cmdlets", lambda: [])()
    if re.fullmatch(r"[A-Za-z]+-[A-Za-z]+", first) and first.lower() in cmdlets:
        parameters: dict[str, Any] = {}
        rest = tokens[1:]
        i = 0
        while i < len(rest):
            name = rest[i].lstrip("-")
            if i + 1 < len(rest) and not rest[i + 1].startswith("-"):
                parameters[name] = rest[i + 1]
                i += 2
            else:
                parameters[name] = True
                i += 1
        outcome = programs.run_cmdlet(ctx.host, first, parameters, user=ctx.user, become=ctx.become)
        stdout = "".join(f"{item}\r\n" for item in outcome.output)
        stderr = "".join(f"{first} : {err}\r\n" for err in outcome.errors)
        return type("Proc", (), {"rc": 1 if outcome.errors else 0, "stdout": stdout, "stderr": stderr})()
    command_line = " ".join(_quote(t) for t in tokens)
    proc = ctx.run_program(command_line, cwd=cwd, stdin=stdin)
    if proc.rc == _NOT_FOUND_RC and "is not recognized" in (proc.stderr or ""):
        message = (
            f"{first} : The term '{first}' is not recognized as the name of a cmdlet, function, script file, "
            "or operable program. Check the spelling of the name, or if a path was included, verify that the "
            "path is correct and try again.\r\n"
            f"At line:1 char:1\r\n+ {line}\r\n"
            "    + CategoryInfo          : ObjectNotFound: "
            f"({first}:String) [], CommandNotFoundException\r\n"
            "    + FullyQualifiedErrorId : CommandNotFoundException\r\n"
        )
        return type("Proc", (), {"rc": 1, "stdout": "", "stderr": message})()
    if not exit_rc and proc.rc != 0:
        # powershell.exe -EncodedCommand exits 1 when the last command failed, not with its exit code
        return type("Proc", (), {"rc": 1, "stdout": proc.stdout, "stderr": proc.stderr})()
    return proc


def win_shell(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    env = ctx.env
    raw = legacy_param(params, "_raw_params", type="str", failifempty=True)
    chdir = legacy_param(params, "chdir", type="path", env=env)
    executable = legacy_param(params, "executable", type="path", env=env)
    creates = legacy_param(params, "creates", type="path", env=env)
    removes = legacy_param(params, "removes", type="path", env=env)
    stdin = legacy_param(params, "stdin", type="str")
    raw = raw.strip()
    result: dict[str, Any] = {"changed": True, "cmd": raw}
    if creates and _exists(ctx, creates):
        return {"msg": f"skipped, since {creates} exists", "cmd": raw, "changed": False, "skipped": True, "rc": 0}
    if removes and not _exists(ctx, removes):
        return {
            "msg": f"skipped, since {removes} does not exist",
            "cmd": raw,
            "changed": False,
            "skipped": True,
            "rc": 0,
        }
    start = time.time()
    if not executable or executable == "powershell":
        single = _single_command(raw)
        proc = _run_powershell_line(ctx, *single, chdir, stdin) if single else None
        if proc is None:
            first = next((line.strip() for line in raw.splitlines() if line.strip()), "")
            raise ModuleFailure(
                "lab: win_shell script is free-form PowerShell the emulated host cannot run (only a single "
                f"command invocation is emulated); first line: {first}",
                changed=False,
                cmd=raw,
                rc=1,
            )
    else:
        # win_shell.ps1: $exec_application = "$executable.exe" unless it ends with .exe; "/c $raw_command_line"
        application = executable if executable.endswith(".exe") else f"{executable}.exe"
        proc = ctx.run_program(f'"{application}" /c {raw}', cwd=chdir, stdin=stdin)
    end = start + max(float(getattr(proc, "duration_s", 0.0) or 0.0), time.time() - start)
    return _finished(result, proc, start, end)
