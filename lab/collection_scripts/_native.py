"""What the collection's scripts' ``Invoke-NativeCommand`` helper does, for the lab handlers that mirror them.

``Invoke-NativeCommand`` starts a program with ``System.Diagnostics.Process`` (UseShellExecute false): .NET
puts the FileName in quotes and appends the arguments, each quoted by ``ConvertTo-ArgumentText`` when it holds
a space, a tab or a quote (the CommandLineToArgvW rules, ``lab.programs.quote_argument``). Standard input is
redirected, written (``-InputText``) and closed, so a prompt with no answer reads end of input.
"""

from __future__ import annotations

from typing import Any

from lab import programs
from lab.scripts import ScriptContext


def command_line(file_path: str, arguments: list[str]) -> str:
    quoted = [programs.quote_argument(a) if a else '""' for a in arguments]
    return " ".join([f'"{file_path}"', *quoted])


def invoke(
    ctx: ScriptContext,
    file_path: str,
    arguments: list[str],
    *,
    cwd: str | None = None,
    input_text: str = "",
    environment: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Invoke-NativeCommand: ``{command, rc, stdout, stderr}``; ``environment`` goes to the child only."""
    proc = programs.run(
        ctx.host,
        command_line(file_path, arguments),
        user=ctx.user,
        become=ctx.become,
        cwd=cwd,
        stdin=input_text,
        env=environment,
    )
    return {
        "command": " ".join([file_path, *arguments]),
        "rc": proc.rc,
        "stdout": proc.stdout,
        "stderr": proc.stderr,
    }


class Steps:
    """The scripts' ``$result`` with ``Add-Step``: ``ok``, ``failed_step``, ``steps``."""

    def __init__(self, **extra: Any) -> None:
        self.result: dict[str, Any] = {"ok": True, "failed_step": None, "steps": [], **extra}

    def add(self, name: str, outcome: dict[str, Any]) -> bool:
        outcome = {**outcome, "name": name}
        self.result["steps"].append(outcome)
        if outcome["rc"] != 0:
            self.result["ok"] = False
            self.result["failed_step"] = name
        return outcome["rc"] == 0


def restart_obengine(ctx: ScriptContext, steps: Steps, suffix: str = "") -> bool:
    """[8] net stop obengine (only when it runs) / net start obengine."""
    svc = ctx.host.service("obengine")
    if svc is None:
        return steps.add(
            f"restart_obengine{suffix}", {"rc": 1060, "stdout": "", "stderr": "The obengine service does not exist."}
        )
    if svc["state"] != "stopped" and not steps.add(
        f"stop_obengine{suffix}", invoke(ctx, "net.exe", ["stop", "obengine"])
    ):
        return False
    return steps.add(f"start_obengine{suffix}", invoke(ctx, "net.exe", ["start", "obengine"]))


AGENT_DIR = r"C:\ProgramData\ASR\Agent"  # Join-Path $env:ProgramData 'ASR\Agent' ([3.3] the junction's agent folder)
CDPCLI = AGENT_DIR + r"\cdpcli.exe"
