"""Windows facts of an emulated host besides ASR: PowerShell, culture, execution policies, FIPS, .NET, Defender.

What the collection's ``diagnose v1`` script reads (and, for .NET, ``probe v1``), answered from ``host.data["windows"]``
(each key optional; absent = the default of a Windows Server 2016 built as the requirements ask). A diagnostics file
imported as a seed (``lab/survey_import.py``) sets them from what a real host showed. Sources:

* Windows Server 2016 ships Windows PowerShell 5.1 (edition ``Desktop``) on .NET Framework 4.6.2 -- Microsoft,
  "Windows PowerShell System Requirements" and ".NET Framework versions and dependencies" (4.6.2: release 394802,
  ``NDP\\v4\\Full`` ``Release``/``Version``, "How to determine which .NET Framework versions are installed");
  CLR 4 reports ``4.0.30319.42000`` from .NET Framework 4.6 on;
* [2.1]: an English (en-*) locale and FIPS mode off (``HKLM\\System\\CurrentControlSet\\Control\\Lsa\\
  FipsAlgorithmPolicy`` ``Enabled`` 0);
* Microsoft, about_Execution_Policies (Windows PowerShell 5.1): scopes in precedence order MachinePolicy,
  UserPolicy, Process, CurrentUser, LocalMachine; the first that is not Undefined is effective, none = Restricted;
  "RemoteSigned: the default execution policy for Windows server computers"; the LocalMachine and CurrentUser
  policies are kept in the registry (``SOFTWARE\\Microsoft\\PowerShell\\1\\ShellIds\\Microsoft.PowerShell``
  ``ExecutionPolicy`` under HKLM and HKCU); the group policy "Turn on Script Execution" (PowerShellExecutionPolicy.admx:
  ``SOFTWARE\\Policies\\Microsoft\\Windows\\PowerShell`` ``EnableScripts``, ``ExecutionPolicy``; disabled =
  Restricted) sets MachinePolicy (HKLM) and UserPolicy (HKCU); the Process scope is what ``-ExecutionPolicy`` gave
  powershell.exe -- ansible-core's winrm shell passes ``-ExecutionPolicy Unrestricted`` (ansible/plugins/shell/
  powershell.py ``_common_args``);
* Microsoft Defender Antivirus is installed and on by default on Windows Server 2016 and later, absent on Windows
  Server 2012 R2 (Microsoft, "Microsoft Defender Antivirus on Windows Server"); Get-MpPreference lists attack
  surface reduction rules as ``AttackSurfaceReductionRules_Ids`` / ``_Actions`` (0 not configured, 1 block, 2 audit,
  6 warn; Microsoft, "Attack surface reduction rules reference").
"""

from __future__ import annotations

import copy
from typing import Any

from lab.state import Host, _norm_key

FIPS_KEY = r"HKLM\System\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy"
DOTNET_KEY = r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"
CURRENT_VERSION_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
SHELL_IDS = r"SOFTWARE\Microsoft\PowerShell\1\ShellIds\Microsoft.PowerShell"
POLICIES = r"SOFTWARE\Policies\Microsoft\Windows\PowerShell"
SCOPES = ("MachinePolicy", "UserPolicy", "Process", "CurrentUser", "LocalMachine")
PROCESS_POLICY = "Unrestricted"  # ansible-core's winrm shell: powershell.exe -ExecutionPolicy Unrestricted

DEFAULTS: dict[str, Any] = {
    "powershell": {
        "version": "5.1.14393.0",
        "edition": "Desktop",
        "clr_version": "4.0.30319.42000",
        "build_version": "10.0.14393.0",
    },
    "culture": "en-US",
    "ui_culture": "en-US",
    "locale": "0409",
    "os_language": 1033,
    "mui_languages": ["en-US"],
    "edition_id": "ServerDatacenter",
    "installation_type": "Server",
    "fips_enabled": 0,
    "dotnet_release": 394802,
    "dotnet_version": "4.6.01586",
    "local_machine_policy": "RemoteSigned",
    "current_user_policy": None,
    "defender": {"attack_surface_reduction_rules": [], "exclusion_paths": [], "exclusion_processes": []},
}


def facts(host: Host) -> dict[str, Any]:
    """The host's Windows facts: the defaults, overridden by ``host.data["windows"]`` key by key."""
    merged = copy.deepcopy(DEFAULTS)
    merged.update(copy.deepcopy(host.data.get("windows") or {}))
    if "defender" not in (host.data.get("windows") or {}) and "2012" in str(host.data["os"].get("name", "")):
        merged["defender"] = None  # no Defender on Windows Server 2012 R2
    return merged


def version_table(host: Host) -> dict[str, Any]:
    """$PSVersionTable of the host's Windows PowerShell (what the diagnosis reads of it)."""
    return dict(facts(host)["powershell"])


def culture(host: Host) -> dict[str, Any]:
    known = facts(host)
    return {"culture": known["culture"], "ui_culture": known["ui_culture"]}


def defender(host: Host) -> dict[str, Any] | None:
    """Get-MpPreference's attack surface reduction rules and exclusions, or None where Defender is absent."""
    known = facts(host)["defender"]
    if known is None:
        return None
    rules = known.get("attack_surface_reduction_rules") or []
    return {
        "AttackSurfaceReductionRules_Ids": [r["id"] for r in rules] or None,
        "AttackSurfaceReductionRules_Actions": [int(r["action"]) for r in rules] or None,
        "ExclusionPath": list(known.get("exclusion_paths") or []) or None,
        "ExclusionProcess": list(known.get("exclusion_processes") or []) or None,
    }


def _group_policy(host: Host, hive: str) -> str:
    key = host.data["registry"].get(_norm_key(f"{hive}\\{POLICIES}"))
    if key is None:
        return "Undefined"
    values = {name.lower(): value.get("data") for name, value in key["values"].items()}
    if values.get("enablescripts") in (0, "0"):
        return "Restricted"  # the policy disabled
    if values.get("enablescripts") in (1, "1"):
        return str(values.get("executionpolicy") or "Restricted")
    return "Undefined"


def _stored_policy(host: Host, hive: str, default: str | None) -> str:
    key = host.data["registry"].get(_norm_key(f"{hive}\\{SHELL_IDS}"))
    if key is not None:
        for name, value in key["values"].items():
            if name.lower() == "executionpolicy":
                return str(value.get("data"))
    return default or "Undefined"


def execution_policies(host: Host) -> dict[str, Any]:
    """Get-ExecutionPolicy -List (precedence order) and the effective policy of a win_powershell call."""
    known = facts(host)
    policies = {
        "MachinePolicy": _group_policy(host, "HKLM"),
        "UserPolicy": _group_policy(host, "HKCU"),
        "Process": PROCESS_POLICY,
        "CurrentUser": _stored_policy(host, "HKCU", known["current_user_policy"]),
        "LocalMachine": _stored_policy(host, "HKLM", known["local_machine_policy"]),
    }
    effective = next((policies[s] for s in SCOPES if policies[s] != "Undefined"), "Restricted")
    return {"scopes": [{"scope": s, "policy": policies[s]} for s in SCOPES], "effective": effective}


def registry_values(host: Host, norm: str) -> list[dict[str, Any]] | None:
    """The values Windows keeps for these facts, as the registry shows them (None: not one of these keys)."""
    known = facts(host)
    if norm == _norm_key(FIPS_KEY):
        return _present([("Enabled", "DWord", known["fips_enabled"])])
    if norm == _norm_key(DOTNET_KEY):
        return _present([("Release", "DWord", known["dotnet_release"]), ("Version", "String", known["dotnet_version"])])
    if norm == _norm_key(CURRENT_VERSION_KEY):
        parts = str(host.data["os"].get("version", "")).split(".")
        return _present(
            [
                ("CurrentBuild", "String", parts[2] if len(parts) > 2 else None),
                ("UBR", "DWord", int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else None),
                ("EditionID", "String", known["edition_id"]),
                ("InstallationType", "String", known["installation_type"]),
                ("ProductName", "String", host.data["os"].get("name")),
            ]
        )
    if norm == _norm_key("HKLM\\" + SHELL_IDS) and known["local_machine_policy"]:
        return _present([("ExecutionPolicy", "String", known["local_machine_policy"])])
    return None


def _present(values: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    return [{"name": name, "type": kind, "data": data} for name, kind, data in values if data is not None]


def os_instance(host: Host) -> dict[str, Any]:
    """Win32_OperatingSystem's build and language properties (the rest is lab.shim's)."""
    known = facts(host)
    parts = str(host.data["os"].get("version", "")).split(".")
    return {
        "BuildNumber": parts[2] if len(parts) > 2 else "",
        "Locale": known["locale"],
        "OSLanguage": known["os_language"],
        "MUILanguages": list(known["mui_languages"]),
    }
