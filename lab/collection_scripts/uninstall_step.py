"""The lab's answer to ``uninstall_step v1`` (``plugins/plugin_utils/powershell/uninstall_step.ps1``).

Runs the planned uninstall command line ([6.1] MsiExec / Inno unins000.exe, lab/asr/uninstall.py) exactly as
Invoke-NativeCommand builds it, then reports the Add/Remove Programs entries still present (Get-RemainingEntry,
the same "contains" match as the probe) and the tail of the step's log (Get-LogTail).
"""

from __future__ import annotations

import json
import time

from lab import scripts
from lab.collection_scripts._native import invoke
from lab.collection_scripts.probe import UNINSTALL_ROOTS, name_matches, read_shared_text, split_lines


def _remaining(ctx: scripts.ScriptContext, names: list[str]) -> list[str]:
    found = []
    for root in UNINSTALL_ROOTS:
        for sub in ctx.host.reg_subkeys(root):
            display = ctx.host.reg_get(f"{root}\\{sub}", "DisplayName")
            if display and name_matches(str(display), names):
                found.append(str(display))
    return found


def _log_tail(ctx: scripts.ScriptContext, path: str, lines: int) -> list[str]:
    if not path or not ctx.host.is_file(path):
        return []
    return [line for line in split_lines(read_shared_text(ctx.host, path)) if line][-lines:]


@scripts.register("uninstall_step", 1)
def uninstall_step(ctx: scripts.ScriptContext) -> str:
    ctx.changed = True
    argv = [str(a) for a in ctx.param("Argv") or []]
    ctx.host.mkdir(r"C:\ProgramData\ASRSetupLogs")
    started = time.monotonic()
    run = invoke(ctx, argv[0], argv[1:])
    log_path = ctx.param("LogPath") or ""
    result = {
        "rc": run["rc"],
        "stdout": run["stdout"],
        "stderr": run["stderr"],
        "seconds": round(time.monotonic() - started, 1),
        "remaining_entries": _remaining(ctx, list(ctx.param("ProductNames") or [])),
        "log_path": log_path,
        "log_tail": _log_tail(ctx, log_path, int(ctx.param("LogTailLines", 40))),
    }
    return json.dumps(result, separators=(",", ":"))
