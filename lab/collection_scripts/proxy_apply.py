"""The lab's answer to ``proxy_apply v1`` (``plugins/plugin_utils/powershell/proxy_apply.ps1``).

[8] DOC (seed "Modification des paramètres de proxy"; vmware-azure-manage-process-server.md): Set-OBMachineSetting
(password as a SecureString [6.6]), net stop/start obengine, then in %ProgramData%\\ASR\\Agent cdpcli.exe
--registermt and net stop/start obengine again. Each function mirrors the script's function of the same name,
driving the lab's emulated cmdlets (lab/asr/mars.py), net (lab/asr/services.py) and cdpcli (lab/asr/cdpcli.py).
LAB: the settings file's ACL is kept as an "acl" entry on the lab file (the lab file system has no ACLs), read
back by the probe's Get-ProtectedFileFact mirror.
"""

from __future__ import annotations

import json
from typing import Any

from lab import scripts
from lab.collection_scripts._native import AGENT_DIR, CDPCLI, Steps, invoke, restart_obengine

SETTINGS_FILE_SIDS = ["S-1-5-18", "S-1-5-32-544"]  # SYSTEM, BUILTIN\Administrators


def _set_mars_proxy(ctx: scripts.ScriptContext, steps: Steps) -> bool:
    if not ctx.registry_value(r"HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Setup", "InstallPath"):
        return steps.add(
            "set_ob_machine_setting",
            {"rc": 1, "stdout": "", "stderr": "The Microsoft Azure Recovery Services Agent is not installed."},
        )
    params: dict[str, Any] = {"Confirm": False}
    if ctx.param("NoProxy", False):
        params["NoProxy"] = True
    else:
        params.update(ProxyServer=ctx.param("ProxyServer"), ProxyPort=ctx.param("ProxyPort"))
        if ctx.param("ProxyUserName"):
            params.update(ProxyUserName=ctx.param("ProxyUserName"), ProxyPassword=ctx.secret("ProxyPassword"))
    answer = ctx.run_cmdlet("Set-OBMachineSetting", params)
    outcome = {"rc": 0 if answer.ok else 1, "stdout": "", "stderr": "" if answer.ok else answer.errors[0]}
    return steps.add("set_ob_machine_setting", outcome)


def _write_settings_file(ctx: scripts.ScriptContext, steps: Steps) -> bool:
    host = ctx.host
    path = ctx.param("SettingsFilePath")
    host.write_file(path, str(ctx.param("SettingsFileContent") or ""))  # UTF-8 without BOM
    host.data["files"][host.resolve(path)]["acl"] = {"sids": list(SETTINGS_FILE_SIDS), "protected": True}
    return steps.add("write_settings_file", {"rc": 0, "stdout": "", "stderr": ""})


def _read_mars_proxy(ctx: scripts.ScriptContext) -> dict[str, Any]:
    answer = ctx.run_cmdlet("Get-OBMachineSetting", {})
    if not answer.ok:
        return {"error": answer.errors[0]}
    setting = answer.output[0] if answer.output else {}
    server = setting.get("ProxyServer") or ""
    user = setting.get("ProxyUserName") or ""
    return {
        "enabled": bool(server),
        "address": server or None,
        "port": int(setting["ProxyPort"]) if server and setting.get("ProxyPort") else None,
        "username": user or None,
    }


@scripts.register("proxy_apply", 1)
def proxy_apply(ctx: scripts.ScriptContext) -> str:
    ctx.changed = False
    steps = Steps(readback=None)
    done = True
    if ctx.param("SetMarsProxy", False):
        ctx.changed = True
        done = _set_mars_proxy(ctx, steps) and restart_obengine(ctx, steps)
        if done and ctx.param("RegisterMt", False):
            registered = steps.add("registermt", invoke(ctx, CDPCLI, ["--registermt"], cwd=AGENT_DIR))
            done = registered and restart_obengine(ctx, steps, "_after_registermt")
    if done and ctx.param("SettingsFilePath"):
        ctx.changed = True
        done = _write_settings_file(ctx, steps)
    steps.result["readback"] = _read_mars_proxy(ctx)
    return json.dumps(steps.result, separators=(",", ":"))
