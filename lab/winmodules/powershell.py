"""win_powershell: the collection's own scripts (identity header ``# asr.process_server script: <name> v<N>``,
ARCHITECTURE.md decision 5) run as their real text under pwsh (``lab.scripts``, decision 8).

As ``ansible.windows``' win_powershell.ps1: ``creates``/``removes`` are checked first; the script's
SupportsShouldProcess decides check mode (the worker parses it as the module does); a failed script is a result with
``failed: true`` and its error records (the module's ExitJson, no ``msg``), not a module failure.
"""

from __future__ import annotations

from typing import Any

from lab.argspec import ModuleFailure
from lab.winmodules._common import Context, scripts_module


def win_powershell(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    result = ctx.result(
        result={}, host_out="", host_err="", output=[], error=[], warning=[], verbose=[], debug=[], information=[]
    )
    creates = params.get("creates")
    if creates and ctx.host.exists(creates):
        return {**result, "msg": f"skipped, since {creates} exists"}
    removes = params.get("removes")
    if removes and not ctx.host.exists(removes):
        return {**result, "msg": f"skipped, since {removes} does not exist"}
    if params.get("script") is not None:
        text = params["script"]
    else:
        # path (remote_src, or a path the action plugin did not replace): read on the Windows host
        path = params["path"]
        if not ctx.host.is_file(path):
            raise ModuleFailure(f"Could not find or access '{path}' on Windows host", **result)
        text = ctx.host.read_text(path)
    if params.get("executable"):
        raise ModuleFailure(
            "lab: win_powershell 'executable' (a separate PowerShell process) is not emulated", **result
        )
    if params.get("chdir") or params.get("arguments"):
        raise ModuleFailure("lab: win_powershell 'chdir' and 'arguments' are not emulated", **result)
    scripts = scripts_module()
    internal = ctx.request.internal
    try:
        fields = scripts.run(
            ctx.host,
            text,
            dict(params.get("parameters") or {}),
            list(params.get("sensitive_parameters") or []),
            check_mode=ctx.check_mode,
            user=ctx.user,
            become=ctx.become,
            verbosity=int(internal.get("_ansible_verbosity") or 0),
            tmpdir=internal.get("_ansible_tmpdir"),
            error_action=str(params.get("error_action") or "continue"),
            depth=int(params.get("depth") if params.get("depth") is not None else 2),
        )
    except LookupError as exc:  # lab.scripts.UnknownScriptError
        raise ModuleFailure(str(exc), **result) from None
    diff = fields.pop("diff", None)
    result.update(fields)
    if diff and ctx.request.diff:
        result["diff"] = diff
    return result
