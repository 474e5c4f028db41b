"""The lab's answer to ``setup_cleanup v1`` (``plugins/plugin_utils/powershell/setup_cleanup.ps1``).

Mirrors the script: the secret files are removed first, always; then, unless the runner is still running
(``started.json`` without ``status.json`` and the run alive), the run folder and the extracted files. Then, when
``ProbeScript`` is given, that script runs in the same call with ``ProbeParameters`` (the real script creates a
script block from the text and invokes it): the lab recognises it by its identity header like any collection
script and answers it with its handler; its result is returned as ``post_state`` (``post_state_error`` when it
failed).
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
    post_state, post_state_error = None, None
    probe_text = str(ctx.param("ProbeScript") or "")
    if probe_text:
        identity = scripts.identify(probe_text)
        if identity is None:  # LAB: the real script would run any text; the lab answers only the collection's
            raise scripts.ScriptFailure("lab: ProbeScript carries no asr.process_server identity header")
        fields = scripts.run(
            host,
            identity[0],
            identity[1],
            dict(ctx.param("ProbeParameters") or {}),
            {},
            check_mode=ctx.check_mode,
            user=ctx.user,
            become=ctx.become,
        )
        if fields.get("failed"):
            post_state_error = fields.get("msg")
        else:
            post_state = fields["result"]
    ctx.changed = bool(removed)
    text = json.dumps(
        {
            "removed": removed,
            "problems": [],
            "still_running": still_running,
            "pid": pid,
            "post_state_error": post_state_error,
        },
        separators=(",", ":"),
    )
    if post_state:  # the probe's JSON text spliced in as it is, as the script does
        text = text[:-1] + ',"post_state":' + post_state + "}"
    return text
