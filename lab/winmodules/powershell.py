"""win_powershell: only the collection's own scripts run, recognised by their identity header
(``# asr.process_server script: <name> v<N>``, ARCHITECTURE.md decision 5) and answered by ``lab.scripts``."""

from __future__ import annotations

import re
from typing import Any

from lab.argspec import ModuleFailure
from lab.winmodules._common import Context, scripts_module

# win_powershell.ps1 fallback scanner for [CmdletBinding(SupportsShouldProcess)]
_SHOULD_PROCESS_RE = re.compile(
    r"\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]", re.I
)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _sensitive(entries: list[dict[str, Any]] | None) -> dict[str, Any]:
    """sensitive_parameters entries -> name: SecureString value, or name: PSCredential (username, password)."""
    out: dict[str, Any] = {}
    for entry in entries or []:
        if entry.get("value") is not None:
            out[entry["name"]] = entry["value"]
        else:
            out[entry["name"]] = {"username": entry.get("username"), "password": entry.get("password")}
    return out


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
    if ctx.check_mode and not _SHOULD_PROCESS_RE.search(text):
        return {**result, "changed": True, "msg": "skipped, running in check mode"}
    if params.get("executable"):
        raise ModuleFailure(
            "lab: win_powershell 'executable' (a separate PowerShell process) is not emulated", **result
        )
    scripts = scripts_module()
    identity = scripts.identify(text)
    if identity is None:
        raise ModuleFailure(
            "lab: win_powershell script carries no '# asr.process_server script: <name> v<N>' identity header; "
            f"the emulated host cannot run free-form PowerShell. First line: {_first_line(text)}",
            **result,
        )
    name, version = identity
    try:
        fields = scripts.run(
            ctx.host,
            name,
            version,
            dict(params.get("parameters") or {}),
            _sensitive(params.get("sensitive_parameters")),
            check_mode=ctx.check_mode,
            user=ctx.user,
            become=ctx.become,
        )
    except LookupError as exc:  # lab.scripts.UnknownScriptError
        raise ModuleFailure(str(exc), **result) from None
    result.update(fields)
    if fields.get("failed"):
        msg = fields.get("msg") or "script failed"
        rest = {k: v for k, v in result.items() if k not in ("failed", "msg")}
        raise ModuleFailure(msg, **rest)
    return result
