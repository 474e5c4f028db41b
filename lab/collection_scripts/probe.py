"""The lab's answer to the collection's ``probe v1`` script (``plugins/plugin_utils/powershell/probe.ps1``).

It computes, from the emulated host's state, the SAME JSON the real script computes on Windows: each function
below names the probe.ps1 function it mirrors, and every value is converted the way PowerShell converts it
(``[string]`` of a DWORD is ``"2"``, ``Win32_Service.State`` "Start Pending" becomes ``start_pending``, ...).
The lab never imports the collection (lab/DESIGN.md independence rule): the product names and service names
to look for arrive as the script's parameters, exactly as on Windows.

LAB conventions (the reference documents no such detail), marked LAB below:

* a file's "file version" is the ``version=`` line of the lab's marker files (``lab.asr.products.marker``);
* a reboot reason in the host state other than the three the probe reads is reported as
  ``PendingFileRenameOperations`` (installers that need a reboot queue file renames);
* a TCP connection that cannot be made to an address no emulated host owns times out; one to an emulated host
  that is not a listening configuration server is refused (the .NET messages are used).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from lab import scripts
from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import products
from lab.programs import run_cmdlet
from lab.state import Host

GIB = 1024**3
UNINSTALL_ROOTS = (  # probe.ps1 Get-UninstallEntry $roots, in that order
    r"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall",
    r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall",
)
INSTALLED_PRODUCTS = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products"
PROXY_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"
MARS_SETUP = r"HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Setup"
SESSION_MANAGER = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
CBS_REBOOT = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_REBOOT = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
REBOOT_REASONS = ("PendingFileRenameOperations", "CBS RebootPending", "WU RebootRequired")
RESULT_RE = re.compile(r"Unified Setup has (succeeded|failed)", re.IGNORECASE)
CONF_LINE_RE = re.compile(r'^\s*([A-Za-z0-9_]+)\s*=\s*"?(.*?)"?\s*$')
AMETHYST_KEYS = ("PS_IP", "PS_CS_IP", "PS_CS_PORT", "PS_CS_SECURED_COMMUNICATION", "CS_IP", "CS_PORT", "CX_TYPE")
CXPS_KEYS = ("ssl_port", "cs_ip_address", "cs_ssl_port")


# ---- helpers (probe.ps1 "helpers") -------------------------------------------------------------------------
def ps_string(value: Any) -> str | None:
    """PowerShell's ``[string]`` of a registry value (None stays None in the places the script keeps $null)."""
    if value is None:
        return None
    if isinstance(value, list):  # REG_MULTI_SZ: [string] of string[] joins with spaces
        return " ".join(str(v) for v in value)
    return str(value)


def read_shared_text(host: Host, path: str) -> str:
    """Read-SharedText: StreamReader, BOM dropped."""
    return host.read_text(path).lstrip("\ufeff")


def split_lines(text: str) -> list[str]:
    """Split-Line: ``-split "\\r\\n|\\n|\\r"`` with a trailing empty element removed."""
    lines = re.split(r"\r\n|\n|\r", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def iso_utc(epoch: float) -> str:
    """ConvertTo-IsoUtc: ``yyyy-MM-ddTHH:mm:ssZ``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def join_path(base: str, child: str) -> str:
    """Join-Path: exactly one backslash between the parts."""
    return base.rstrip("\\") + "\\" + child.lstrip("\\")


def read_conf_file(host: Host, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """Read-ConfFile ([6.5] amethyst.conf, cxps.conf): KEY = "value" lines, the last occurrence wins."""
    result: dict[str, Any] = {"path": path, "present": False}
    for key in keys:
        result[key.lower()] = None
    if not host.is_file(path):
        return result
    result["present"] = True
    for line in split_lines(read_shared_text(host, path)):
        m = CONF_LINE_RE.match(line)
        if not m:
            continue
        for key in keys:
            if m.group(1).lower() == key.lower():
                result[key.lower()] = m.group(2)
    return result


def name_matches(name: str, candidates: list[str]) -> bool:
    """Test-NameMatch: ordinal, case-insensitive "contains"."""
    return any(candidate.lower() in name.lower() for candidate in candidates)


# ---- Get-HostFact: OS, CPU, memory, volumes ---------------------------------------------------------------
def host_facts(host: Host) -> dict[str, Any]:
    cpu = host.data["cpu"]
    volumes = [
        {
            "drive": f"{letter.upper()}:",
            "size_bytes": int(disk["size_gb"] * GIB),
            "free_bytes": int(disk["free_gb"] * GIB),
            "filesystem": disk.get("filesystem", "NTFS"),
        }
        for letter, disk in sorted(host.data["disks"].items())
        if disk.get("fixed", True)  # Win32_LogicalDisk DriveType 3
    ]
    return {
        "computer_name": host.data.get("hostname", host.name.upper()),
        "os": {
            "caption": host.data["os"]["name"],
            "version": ".".join(str(host.data["os"]["version"]).split(".")[:3]),  # Win32_OperatingSystem.Version
            "system_drive": host.system_drive,
        },
        "cpu": {
            "logical_processors": int(cpu["logical_processors"]),
            "sockets": int(cpu.get("sockets", 1)),
            "cores": int(cpu.get("sockets", 1)) * int(cpu.get("cores_per_socket", cpu["logical_processors"])),
        },
        "memory_mb": int(host.data["memory_mb"]),
        "volumes": volumes,
    }


# ---- Get-UninstallEntry [6.1] -----------------------------------------------------------------------------
def uninstall_entries(host: Host, names: list[str]) -> list[dict[str, Any]]:
    entries = []
    for root in UNINSTALL_ROOTS:
        for sub in host.reg_subkeys(root):
            key = f"{root}\\{sub}"
            values = {k.lower(): v for k, v in host.reg_values(key).items()}
            display_name = values.get("displayname")
            if not display_name or not name_matches(str(display_name), names):
                continue
            entries.append(
                {
                    "registry_key": key,
                    "key_name": sub,
                    "display_name": ps_string(display_name),
                    "display_version": values.get("displayversion"),
                    "install_location": values.get("installlocation"),
                    "uninstall_string": values.get("uninstallstring"),
                    "quiet_uninstall_string": values.get("quietuninstallstring"),
                }
            )
    return entries


# ---- Get-InstalledProduct [6.4] ---------------------------------------------------------------------------
def installed_product(host: Host, number: str, value_names: tuple[str, ...]) -> dict[str, Any] | None:
    key = f"{INSTALLED_PRODUCTS}\\{number}"
    if not host.reg_key_exists(key):
        return None
    result: dict[str, Any] = {"registry_key": key}
    for name in value_names:
        result[name.lower()] = ps_string(host.reg_get(key, name))
    return result


# ---- Get-AsrLayout [3.3, 6.5] ---------------------------------------------------------------------------
def asr_layout(host: Host) -> dict[str, Any]:
    junction = join_path(r"C:\ProgramData", "ASR")  # $env:ProgramData on the lab's C: system drive
    entry = host.stat(junction)
    target = entry.get("target") if entry and entry.get("type") == "junction" else None
    svsystems = join_path(junction, r"home\svsystems")
    return {
        "asr_junction": {"path": junction, "exists": entry is not None, "target": target},
        "amethyst_conf": read_conf_file(host, join_path(svsystems, r"etc\amethyst.conf"), AMETHYST_KEYS),
        "cxps_conf": read_conf_file(host, join_path(svsystems, r"transport\cxps.conf"), CXPS_KEYS),
    }


# ---- Get-AsrProxySetting [6.4] ---------------------------------------------------------------------------
def asr_proxy(host: Host) -> dict[str, Any]:
    present = host.reg_key_exists(PROXY_SETTINGS)
    values = host.reg_values(PROXY_SETTINGS) if present else {}
    shown = {name: ps_string(values[name]) for name in sorted(values, key=str.lower) if "pass" not in name.lower()}
    return {"registry_key": PROXY_SETTINGS, "present": present, "values": shown}


# ---- Get-ServiceState [6.3] ------------------------------------------------------------------------------
def service_states(host: Host, names: list[str]) -> list[dict[str, Any]]:
    states = []
    for name in names:
        svc = host.service(name)
        if svc is None:
            states.append({"name": name, "present": False, "display_name": None, "state": None, "start_mode": None})
            continue
        states.append(
            {
                "name": svc["name"],
                "present": True,
                "display_name": svc["display_name"],
                "state": str(svc["state"]).lower().replace(" ", "_"),
                "start_mode": svc["start_mode"],  # the lab stores auto | delayed | manual | disabled
            }
        )
    return states


# ---- Get-MarsState [6.6] ---------------------------------------------------------------------------------
def _prop(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return next((v for k, v in obj.items() if k.lower() == name.lower()), None)
    return None


def mars_state(ctx: scripts.ScriptContext) -> dict[str, Any]:
    host = ctx.host
    install_path = host.reg_get(MARS_SETUP, "InstallPath")
    result: dict[str, Any] = {
        "install_path": install_path,
        "module_present": False,
        "proxy": {"source": "unknown"},
        "error": None,
    }
    if not install_path:
        return result
    psd1 = join_path(install_path, r"bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1")
    if not host.is_file(psd1):
        return result
    result["module_present"] = True
    answer = run_cmdlet(host, "Get-OBMachineSetting", {}, user=ctx.user, become=ctx.become)
    if not answer.ok:
        result["error"] = answer.errors[0]
        return result
    setting = answer.output[0] if answer.output else {}
    server = ps_string(_prop(setting, "ProxyServer")) or ""
    port = _prop(setting, "ProxyPort")
    user = ps_string(_prop(setting, "ProxyUserName")) or ""
    result["proxy"] = {
        "source": "Get-OBMachineSetting",
        "enabled": bool(server),
        "address": server or None,
        "port": int(port) if server and port else None,
        "username": user or None,
    }
    return result


# ---- Get-PendingReboot ---------------------------------------------------------------------------------
def pending_reboot(host: Host) -> dict[str, Any]:
    found = set()
    renames = host.reg_get(SESSION_MANAGER, "PendingFileRenameOperations")
    if renames:
        found.add(REBOOT_REASONS[0])
    if host.reg_key_exists(CBS_REBOOT):
        found.add(REBOOT_REASONS[1])
    if host.reg_key_exists(WU_REBOOT):
        found.add(REBOOT_REASONS[2])
    for reason in host.pending_reboot_reasons():  # LAB: the state's reasons map onto the three markers
        found.add(reason if reason in REBOOT_REASONS else REBOOT_REASONS[0])
    reasons = [r for r in REBOOT_REASONS if r in found]
    return {"pending": bool(reasons), "reasons": reasons}


# ---- Get-SetupLog [1.5] ----------------------------------------------------------------------------------
def setup_log(host: Host, tail: bool, lines: int) -> dict[str, Any]:
    path = join_path(host.system_drive, r"ProgramData\ASRSetupLogs\ASRUnifiedSetup.log")
    result: dict[str, Any] = {
        "path": path,
        "present": False,
        "modified": None,
        "result": "absent",
        "result_line": None,
        "tail": None,
    }
    if not host.is_file(path):
        return result
    result.update(present=True, result="unknown", modified=iso_utc(host.stat(path)["mtime"]))
    all_lines = split_lines(read_shared_text(host, path))
    for line in reversed(all_lines):
        m = RESULT_RE.search(line)
        if m:
            result.update(result=m.group(1).lower(), result_line=line)
            break
    if tail:
        result["tail"] = all_lines[max(0, len(all_lines) - lines) :]
    return result


# ---- Test-TcpPort, Get-InstallerFact ------------------------------------------------------------------------
def tcp_check(host: Host, address: str, port: int, timeout_ms: int) -> dict[str, Any]:
    result: dict[str, Any] = {"address": address, "port": port, "reachable": False, "error": None}
    timed_out = f"timed out after {timeout_ms} ms"
    refused = "No connection could be made because the target machine actively refused it"
    if port != c.CS_PORT:  # LAB: emulated configuration servers listen on 443 only
        owner = host.estate.host_by_ip_nolock(address) if host.estate is not None else None
        result["error"] = refused if owner or address == host.ip else timed_out
        return result
    with cs_mod.reach_cs(host, address) as (cs, why):
        if cs is not None:
            result["reachable"] = True
        else:
            result["error"] = refused if why.startswith("No configuration server") else timed_out
    return result


def installer_facts(host: Host, path: str, checksum: bool) -> dict[str, Any]:
    result: dict[str, Any] = {
        "path": path,
        "exists": False,
        "size_bytes": None,
        "file_version": None,
        "product_version": None,
        "sha256": None,
    }
    if not host.is_file(path):
        return result
    data = host.read_bytes(path)
    version = products.marker_version(data)  # LAB: the marker's version= line stands for FileVersionInfo
    result.update(exists=True, size_bytes=len(data), file_version=version, product_version=version)
    if checksum:
        result["sha256"] = hashlib.sha256(data).hexdigest()
    return result


# ---- Get-ProtectedFileFact ([8] a proxy settings file: never its text) ------------------------------------
# LAB: the lab's file system keeps no ACLs; a file written by the collection's proxy script carries an "acl" entry
# ({"sids": [...], "protected": bool}); any other file has the access a new file under C:\ProgramData inherits
# (SYSTEM, Administrators, Users; inheritance not protected).
INHERITED_SIDS = ["S-1-5-18", "S-1-5-32-544", "S-1-5-32-545"]


def protected_file_facts(host: Host, path: str) -> dict[str, Any]:
    result: dict[str, Any] = {
        "path": path,
        "exists": False,
        "sha256": None,
        "access_sids": [],
        "inheritance_protected": None,
    }
    if not host.is_file(path):
        return result
    acl = (host.stat(path) or {}).get("acl") or {"sids": INHERITED_SIDS, "protected": False}
    result.update(
        exists=True,
        sha256=hashlib.sha256(host.read_bytes(path)).hexdigest(),
        access_sids=list(acl["sids"]),
        inheritance_protected=bool(acl["protected"]),
    )
    return result


# ---- Get-PassphraseFileFact ([1.2, 1.3] /PassphraseFilePath: never its text) ---------------------------------
PROFILE_LIST = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList"


def passphrase_file_facts(host: Host, path: str) -> dict[str, Any]:
    """Existence, line counts and whether ``path`` is under the profiles folder (ProfileList ProfilesDirectory,
    else ``<system drive>\\Users``). LAB: the lab's file system keeps no read permissions, so an existing file is
    readable (every lab session is a local administrator or SYSTEM)."""
    profiles = ps_string(host.reg_get(PROFILE_LIST, "ProfilesDirectory")) or f"{host.system_drive}\\Users"
    profiles = profiles.rstrip("\\")
    result: dict[str, Any] = {
        "path": path,
        "exists": False,
        "readable": False,
        "error": None,
        "lines": None,
        "non_empty_lines": None,
        "profiles_directory": profiles,
        "under_user_profile": path.lower().startswith(profiles.lower() + "\\"),
    }
    if not host.is_file(path):
        return result
    lines = split_lines(read_shared_text(host, path))
    result.update(
        exists=True, readable=True, lines=len(lines), non_empty_lines=sum(1 for line in lines if line.strip())
    )
    return result


# ---- Get-SessionIdentity ------------------------------------------------------------------------------------
def session_identity(ctx: scripts.ScriptContext) -> dict[str, Any]:
    """Who runs the call: a WinRM call without become is a network logon (token group NETWORK, S-1-5-2);
    with become the lab's become user (SYSTEM, or the connection user) has a non-network token. LAB: every
    lab connection user is a local administrator, so the token is elevated."""
    is_system = ctx.become and ctx.user.upper() in ("SYSTEM", "NT AUTHORITY\\SYSTEM")
    hostname = str(ctx.host.data.get("hostname", ctx.host.name.upper()))
    name = "NT AUTHORITY\\SYSTEM" if is_system else f"{hostname}\\{ctx.user.rsplit(chr(92), 1)[-1]}"
    return {"name": name, "is_system": is_system, "elevated": True, "network_logon": not ctx.become}


# ---- the survey (probe.ps1 "the survey") ------------------------------------------------------------------
@scripts.register("probe", 1)
def probe(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    survey = host_facts(host)
    survey["uninstall_entries"] = uninstall_entries(host, list(ctx.param("ProductNames") or []))
    csps_values = ("Product_Name", "InstallDirectory", "CX_TYPE", "Build_Version", "Proxy_Type")
    survey["installed_products"] = {
        "csps": installed_product(host, "9", csps_values),
        "dependencies": installed_product(host, "10", ("Product_Name", "InstallDirectory", "Build_Version")),
    }
    survey.update(asr_layout(host))
    survey["asr_proxy"] = asr_proxy(host)
    survey["services"] = service_states(host, list(ctx.param("ServiceNames") or []))
    survey["mars"] = mars_state(ctx)
    survey["pending_reboot"] = pending_reboot(host)
    survey["setup_log"] = setup_log(host, bool(ctx.param("IncludeLogTail", False)), int(ctx.param("LogTailLines", 40)))
    survey["identity"] = session_identity(ctx)
    checks: dict[str, Any] = {"configuration_server": None, "installer": None}
    if ctx.param("ConfigurationServerIp"):
        port, timeout = int(ctx.param("ConfigurationServerPort", 443)), int(ctx.param("ConnectTimeoutMs", 3000))
        checks["configuration_server"] = tcp_check(host, ctx.param("ConfigurationServerIp"), port, timeout)
    if ctx.param("InstallerPath"):
        checks["installer"] = installer_facts(
            host, ctx.param("InstallerPath"), bool(ctx.param("InstallerSha256", True))
        )
    if ctx.param("InstallerUploadName"):
        # The controller's put_file target: the Windows temporary folder ($env:SystemRoot\Temp), which exists on
        # every host (put_file cannot create a folder); the same facts as InstallerPath plus that folder.
        folder = f"{host.system_drive}\\Windows\\Temp"  # $env:SystemRoot is <system drive>\\Windows
        upload = installer_facts(
            host, join_path(folder, str(ctx.param("InstallerUploadName"))), bool(ctx.param("InstallerSha256", True))
        )
        upload.update(folder=folder, folder_exists=host.is_dir(folder))
        checks["installer_upload"] = upload
    amethyst = survey["amethyst_conf"]
    if ctx.param("CheckRegisteredConfigurationServer", False) and amethyst.get("ps_cs_ip"):
        port = str(amethyst.get("ps_cs_port") or "")
        timeout = int(ctx.param("ConnectTimeoutMs", 3000))
        checks["registered_configuration_server"] = tcp_check(
            host, amethyst["ps_cs_ip"], int(port) if port.isdigit() else 443, timeout
        )
    if ctx.param("ProxySettingsFilePath"):
        checks["proxy_settings_file"] = protected_file_facts(host, ctx.param("ProxySettingsFilePath"))
    if ctx.param("PassphraseFilePath"):
        checks["passphrase_file"] = passphrase_file_facts(host, str(ctx.param("PassphraseFilePath")))
    survey["checks"] = checks
    survey["probe"] = "probe v1"
    ctx.changed = False  # $Ansible.Changed = $false
    return json.dumps(survey, separators=(",", ":"))  # ConvertTo-Json -Compress
