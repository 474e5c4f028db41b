"""win_reg_stat over the host's registry."""

from __future__ import annotations

from typing import Any

from lab.argspec import ModuleFailure, legacy_param
from lab.winmodules._common import Context

# win_reg_stat.ps1 Get-PropertyValue: RegistryValueKind -> REG_* names
_TYPES = {
    "String": "REG_SZ",
    "ExpandString": "REG_EXPAND_SZ",
    "Binary": "REG_BINARY",
    "DWord": "REG_DWORD",
    "MultiString": "REG_MULTI_SZ",
    "QWord": "REG_QWORD",
    "None": "REG_NONE",
}


def _value(entry: dict[str, Any]) -> dict[str, Any]:
    kind = entry.get("type", "String")
    data = entry["data"]
    raw = data
    if kind in ("Binary", "None"):
        raw = [f"0x{b:02x}" for b in (data or [])]
    return {"type": _TYPES.get(kind, "REG_SZ"), "value": data, "raw_value": raw}


def win_reg_stat(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    path = legacy_param(params, "path", type="str", failifempty=True, aliases=["key"])
    name = legacy_param(params, "name", type="str", aliases=["entry", "value"])
    result: dict[str, Any] = {"changed": False}
    host = ctx.host
    if path.replace("/", "\\").split("\\", 1)[0].rstrip(":").upper() not in (
        "HKLM",
        "HKCU",
        "HKCR",
        "HKU",
        "HKCC",
        "HKEY_LOCAL_MACHINE",
        "HKEY_CURRENT_USER",
        "HKEY_CLASSES_ROOT",
        "HKEY_USERS",
        "HKEY_CURRENT_CONFIG",
    ):
        raise ModuleFailure(f"path: {path} is not a valid powershell path, see module documentation for examples.")
    if not host.reg_key_exists(path):
        result["exists"] = False
        return result
    if name is not None:
        entry = host.reg_value(path, name)
        if entry is None:
            result["exists"] = False
            return result
        result["exists"] = True
        result.update(_value(entry))
        return result
    result["exists"] = True
    values = (host.reg_value(path, value_name) for value_name in host.reg_values(path))
    result["properties"] = {v["name"]: _value(v) for v in values if v is not None}
    result["sub_keys"] = host.reg_subkeys(path)
    return result
