"""The lab's answer to ``register_apply v1`` (``plugins/plugin_utils/powershell/register_apply.ps1``).

[3.3] DOC: in %PROGRAMDATA%\\ASR\\Agent, ``cdpcli.exe --registermt``, ``net stop obengine``, ``net start obengine``
(lab/asr/cdpcli.py registers with the CS unless it cannot be reached: fault ``cs_unreachable``, CS down).
"""

from __future__ import annotations

import json

from lab import scripts
from lab.collection_scripts._native import AGENT_DIR, CDPCLI, Steps, invoke


@scripts.register("register_apply", 1)
def register_apply(ctx: scripts.ScriptContext) -> str:
    ctx.changed = True
    steps = Steps()
    if not ctx.host.is_file(CDPCLI):
        ctx.changed = False
        steps.add("registermt", {"rc": 2, "stdout": "", "stderr": f"{CDPCLI} does not exist."})
    elif steps.add("registermt", invoke(ctx, CDPCLI, ["--registermt"], cwd=AGENT_DIR)):
        svc = ctx.host.service("obengine")
        stopped = True
        if svc is not None and svc["state"] != "stopped":
            stopped = steps.add("stop_obengine", invoke(ctx, "net.exe", ["stop", "obengine"]))
        if stopped:
            steps.add("start_obengine", invoke(ctx, "net.exe", ["start", "obengine"]))
    return json.dumps(steps.result, separators=(",", ":"))
