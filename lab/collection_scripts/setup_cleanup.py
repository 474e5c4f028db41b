"""The lab's answer to ``setup_cleanup v1`` (``plugins/plugin_utils/powershell/setup_cleanup.ps1``).

Mirrors the script: the secret files are removed first, always; then, unless the runner is still running
(``started.json`` without ``status.json`` and the run alive), the run folder and the extracted files.
"""

from __future__ import annotations

import json

from lab import scripts
from lab.collection_scripts.setup_poll import finalise, run_state


@scripts.register("setup_cleanup", 1)
def setup_cleanup(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    run_dir = str(ctx.param("RunDir") or "")
    extract_dir = str(ctx.param("ExtractDir") or "")
    removed: list[str] = []

    def remove(path: str) -> None:
        if path and host.exists(path):
            host.remove(path)
            removed.append(path)

    for path in ctx.param("SecretFiles") or []:
        remove(str(path))
    still_running, pid = False, None
    if run_dir and host.exists(run_dir):
        finalise(host, run_dir)  # a run that has ended has its status written by its runner
        state = run_state(host, run_dir, 0)
        if state["state"] == "running":
            still_running, pid = True, state["pid"]
    if not still_running:
        remove(run_dir)
        remove(extract_dir)
    ctx.changed = bool(removed)
    return json.dumps(
        {"removed": removed, "problems": [], "still_running": still_running, "pid": pid}, separators=(",", ":")
    )
