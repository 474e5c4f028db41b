"""Import an ``asr.process_server.info`` survey as the starting state of an emulated host.

``info`` returns ``survey`` (format ``asr.process_server.survey/v1``): the probe script's result without the
per-run checks and without the setup log's tail. :func:`seed_from_survey` builds a host whose state makes the
collection's ``probe v1`` script (run by the lab under pwsh) return the same facts, by writing each fact where
probe.ps1 reads it (registry, files, services, disks). :func:`import_survey` puts such a host into an
estate, keeping the estate's address, port and credentials for it.

    python -m lab.survey_import ESTATE_DIR HOST survey.json

Limits (documented, not hidden): the setup log is recreated from its result line only; a MARS proxy is read
back only when the lab's MARS is installed (its Uninstall entry), as the lab's Get-OBMachineSetting requires;
a survey that recorded a MARS read-back error cannot reproduce that error.
"""

from __future__ import annotations

import calendar
import json
import sys
import time
from typing import Any

from lab.asr import constants as c
from lab.asr import mars
from lab.shim import CBS_REBOOT, SESSION_MANAGER, WU_REBOOT
from lab.state import Estate, Host, new_host

SURVEY_FORMAT = "asr.process_server.survey/v1"
GIB = 1024**3
CSPS_VALUES = {"product_name": "Product_Name", "installdirectory": "InstallDirectory", "cx_type": "CX_TYPE"}
CSPS_VALUES |= {"build_version": "Build_Version", "proxy_type": "Proxy_Type"}
PROXY_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"  # [6.4], what probe.ps1 reads
MARS_SETUP = r"HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Setup"  # [6.6] SRC SetMarsProxy InstallPath
# [1.3] the .NET Framework 4.x release, where Windows keeps it (what probe.ps1 Get-DotNetFramework reads)
DOTNET_KEY = r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"


class SurveyError(ValueError):
    """The document is not a survey this lab can import."""


def _host_part(survey: dict[str, Any]) -> dict[str, Any]:
    if (
        not isinstance(survey, dict)
        or survey.get("format") != SURVEY_FORMAT
        or not isinstance(survey.get("host"), dict)
    ):
        raise SurveyError(f"not an {SURVEY_FORMAT} document (the 'survey' value an info task returns)")
    if survey.get("probe") != "probe v1":
        raise SurveyError(f"survey made by {survey.get('probe')!r}; this lab imports 'probe v1' surveys")
    return survey["host"]


def _role(facts: dict[str, Any]) -> str:
    csps = (facts.get("installed_products") or {}).get("csps") or {}
    return "configuration_server" if str(csps.get("cx_type")) in ("1", "3") else "process_server"


def _base_host(facts: dict[str, Any], name: str, ip: str, username: str, password: str) -> Host:
    cpu, os_facts = facts["cpu"], facts["os"]
    disks = {
        v["drive"][0].upper(): {
            "size_gb": int(v["size_bytes"]) / GIB,
            "free_gb": int(v["free_bytes"]) / GIB,
            "filesystem": v.get("filesystem") or "NTFS",
            "fixed": True,
        }
        for v in facts.get("volumes") or []
    }
    host = new_host(name, ip, _role(facts), username=username, password=password, disks=disks)
    host.data["hostname"] = facts.get("computer_name") or name.upper()
    host.data["os"].update(name=os_facts["caption"], version=os_facts["version"])
    host.data["os"]["system_drive"] = os_facts.get("system_drive") or "C:"
    sockets = max(1, int(cpu.get("sockets") or 1))
    host.data["cpu"] = {
        "logical_processors": int(cpu["logical_processors"]),
        "sockets": sockets,
        "cores_per_socket": max(1, int(cpu.get("cores") or cpu["logical_processors"]) // sockets),
    }
    host.data["memory_mb"] = int(facts["memory_mb"])
    return host


def _registry(host: Host, facts: dict[str, Any]) -> None:
    for entry in facts.get("uninstall_entries") or []:  # probe.ps1 Get-UninstallEntry
        key = entry["registry_key"]
        for field, value_name in (
            ("display_name", "DisplayName"),
            ("display_version", "DisplayVersion"),
            ("install_location", "InstallLocation"),
            ("uninstall_string", "UninstallString"),
            ("quiet_uninstall_string", "QuietUninstallString"),
        ):
            if entry.get(field) is not None:
                host.reg_set(key, value_name, entry[field])
    products = facts.get("installed_products") or {}
    for number, part in (("9", products.get("csps")), ("10", products.get("dependencies"))):
        if part is None:  # probe.ps1 Get-InstalledProduct
            continue
        key = f"{c.REG_INSTALLED_PRODUCTS}\\{number}"
        host.reg_create_key(key)
        for field, value in part.items():
            if field != "registry_key" and value is not None:
                name = CSPS_VALUES.get(field, field)
                host.reg_set(
                    key, name, int(value) if name == "CX_TYPE" else value, "DWord" if name == "CX_TYPE" else "String"
                )
    proxy = facts.get("asr_proxy") or {}
    if proxy.get("present"):  # probe.ps1 Get-AsrProxySetting
        host.reg_create_key(PROXY_SETTINGS)
        for value_name, value in (proxy.get("values") or {}).items():
            host.reg_set(PROXY_SETTINGS, value_name, value)


def _files(host: Host, facts: dict[str, Any]) -> None:
    junction = facts.get("asr_junction") or {}
    if junction.get("target"):  # probe.ps1 Get-AsrLayout
        host.mkdir(junction["target"])
        host.make_junction(junction["path"], junction["target"])
        host.asr["install_location"] = junction["target"]
    elif junction.get("exists"):
        host.mkdir(junction["path"])
    for conf, upper in (("amethyst_conf", True), ("cxps_conf", False)):
        part = facts.get(conf) or {}
        if not part.get("present"):
            continue
        lines = [
            f'{k.upper() if upper else k} = "{v}"'
            for k, v in part.items()
            if k not in ("path", "present") and v is not None
        ]
        host.write_file(part["path"], "".join(line + "\r\n" for line in lines))
    log = facts.get("setup_log") or {}
    if log.get("present"):  # probe.ps1 Get-SetupLog: only the result line survives in a survey
        host.write_file(log["path"], (log["result_line"] + "\r\n") if log.get("result_line") else "")
        if log.get("modified"):
            mtime = calendar.timegm(time.strptime(log["modified"], "%Y-%m-%dT%H:%M:%SZ"))
            host.data["files"][host.resolve(log["path"])]["mtime"] = mtime


def _services_and_state(host: Host, facts: dict[str, Any]) -> None:
    for svc in facts.get("services") or []:  # probe.ps1 Get-ServiceState
        if svc.get("present"):
            host.add_service(svc["name"], svc.get("display_name") or svc["name"], "", svc["start_mode"], svc["state"])
    state = facts.get("mars") or {}
    if state.get("install_path"):  # probe.ps1 Get-MarsState
        host.reg_set(MARS_SETUP, "InstallPath", state["install_path"])
        if state.get("module_present"):
            psd1 = state["install_path"].rstrip("\\") + r"\bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1"
            host.write_file(psd1, "@{ ModuleVersion = 'from survey' }\r\n")
    proxy = state.get("proxy") or {}
    if proxy.get("source") == "Get-OBMachineSetting" and proxy.get("enabled"):
        mars.set_proxy(host, proxy["address"], proxy.get("port"), proxy.get("username"))
        mars.apply_on_restart(host)
    release = (facts.get("dotnet_framework") or {}).get("release")  # probe.ps1 Get-DotNetFramework
    if release is not None:
        host.reg_set(DOTNET_KEY, "Release", int(release), "DWord")
    reasons = (facts.get("pending_reboot") or {}).get("reasons") or []  # probe.ps1 Get-PendingReboot
    if "PendingFileRenameOperations" in reasons:
        host.reg_set(SESSION_MANAGER, "PendingFileRenameOperations", ["\\??\\C:\\x", ""], "MultiString")
    if "CBS RebootPending" in reasons:
        host.reg_create_key(CBS_REBOOT)
    if "WU RebootRequired" in reasons:
        host.reg_create_key(WU_REBOOT)


def seed_from_survey(
    survey: dict[str, Any], name: str, ip: str, *, username: str = "Administrator", password: str = "Lab-Passw0rd!"
) -> Host:
    """A new emulated host whose ``probe v1`` answer matches the survey (the limits in the module docstring)."""
    facts = _host_part(survey)
    host = _base_host(facts, name, ip, username, password)
    _registry(host, facts)
    _files(host, facts)
    _services_and_state(host, facts)
    return host


def import_survey(estate: Estate, host_name: str, survey: dict[str, Any]) -> Host:
    """Replace ``host_name``'s state in ``estate`` with the surveyed one (address and credentials kept)."""
    current = estate.read_host(host_name)
    creds = current.data.get("credentials", {})
    host = seed_from_survey(
        survey,
        host_name,
        current.ip,
        username=creds.get("username", "Administrator"),
        password=creds.get("password", "Lab-Passw0rd!"),
    )
    estate.save_new_host(host)
    return host


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: python -m lab.survey_import ESTATE_DIR HOST SURVEY.json", file=sys.stderr)
        return 2
    with open(argv[3], encoding="utf-8") as handle:
        document = json.load(handle)
    document = document.get("survey", document)  # a whole registered info result is accepted too
    host = import_survey(Estate(argv[1]), argv[2], document)
    print(f"lab: {host.name} now has the state surveyed from {host.data['hostname']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
