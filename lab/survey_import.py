"""Import an ``asr.process_server.info`` survey, or a diagnostics file, as the starting state of an emulated host.

``info`` returns ``survey`` (format ``asr.process_server.survey/v1``): the probe script's result without the
per-run checks and without the setup log's tail. :func:`seed_from_survey` builds a host whose state makes the
collection's ``probe v1`` script (run by the lab under pwsh) return the same facts, by writing each fact where
probe.ps1 reads it (registry, files, services, disks). :func:`import_survey` puts such a host into an
estate, keeping the estate's address, port and credentials for it.

``info`` with ``diagnose: true`` (playbooks/diagnose.yml) returns a diagnostics file (format
``asr.process_server.diagnostics/v1``): that survey plus what ``diagnose v1`` read. Imported, the survey seeds the
host as above and the diagnosis sets what the lab emulates of it (:func:`apply_diagnostics`): the Windows facts of
``lab.windows`` (PowerShell, OS build and locale, FIPS, .NET, execution policies and their group policy, Defender),
the Add/Remove Programs entries and InMage keys as recorded, the services' accounts and programs, the
configuration files' keys, where drscout.conf is, the setup logs present -- so ``diagnose v1`` run on the lab's host
answers as the real host did.

    python -m lab import --dir ESTATE_DIR HOST FILE.json      (or: python -m lab.survey_import ESTATE_DIR HOST FILE)

Limits (documented, not hidden): the setup log is recreated from its result line only; a MARS proxy is read
back only when the lab's MARS is installed (its Uninstall entry), as the lab's Get-OBMachineSetting requires;
a survey that recorded a MARS read-back error cannot reproduce that error. A diagnosis records names, not
values, where a value could be a secret: a configuration file's keys it names are written with an empty value
(LAB), registry values it only names are not written, the shape of ``Get-OBMachineSetting``'s result stays the
lab's MARS emulation's, and the configuration server's database (its client, accounts and rows) stays the lab's;
a part that could not be read on the host and the package are not reproduced, nor the setup logs' text beyond
what the survey keeps (blank lines fill a log to its recorded size).
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
DIAGNOSTICS_FORMAT = "asr.process_server.diagnostics/v1"
GIB = 1024**3
CSPS_VALUES = {"product_name": "Product_Name", "installdirectory": "InstallDirectory", "cx_type": "CX_TYPE"}
CSPS_VALUES |= {"build_version": "Build_Version", "proxy_type": "Proxy_Type"}
PROXY_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"  # [6.4], what probe.ps1 reads
MARS_SETUP = r"HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Setup"  # [6.6] SRC SetMarsProxy InstallPath
# [1.3] the .NET Framework 4.x release, where Windows keeps it (what probe.ps1 Get-DotNetFramework reads)
DOTNET_KEY = r"HKLM\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"


class SurveyError(ValueError):
    """The document is not a survey this lab can import."""


def split_document(document: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(survey, diagnosis) of what ``info`` returned: a survey, a whole registered result, or a diagnostics file."""
    if not isinstance(document, dict):
        raise SurveyError("not a JSON object (a survey, an info result or a diagnostics file)")
    if document.get("format") == DIAGNOSTICS_FORMAT:
        if document.get("diagnose") != "diagnose v1":
            raise SurveyError(f"diagnostics made by {document.get('diagnose')!r}; this lab imports 'diagnose v1'")
        if not isinstance(document.get("survey"), dict):
            raise SurveyError(
                f"the diagnosis holds no survey (the host said: {document.get('survey_error')}); nothing to seed from"
            )
        return document["survey"], document.get("diagnostics") or {}
    if "diagnostics" in document and isinstance(document["diagnostics"], dict) and "format" in document["diagnostics"]:
        return split_document(document["diagnostics"])  # a whole registered info result with diagnose: true
    return document.get("survey", document), None


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


def _dotnet(host: Host, facts: dict[str, Any]) -> None:
    # probe.ps1 Get-DotNetFramework read no Release: the lab.windows default (4.6.2) must not show one either
    if (facts.get("dotnet_framework") or {}).get("release") is None:
        host.data.setdefault("windows", {}).update(dotnet_release=None, dotnet_version=None)


def seed_from_survey(
    survey: dict[str, Any],
    name: str,
    ip: str,
    *,
    username: str = "Administrator",
    password: str = "Lab-Passw0rd!",
    diagnostics: dict[str, Any] | None = None,
) -> Host:
    """A new emulated host whose ``probe v1`` answer matches the survey, and whose ``diagnose v1`` answer matches the
    diagnosis when one is given (the limits in the module docstring)."""
    facts = _host_part(survey)
    host = _base_host(facts, name, ip, username, password)
    _registry(host, facts)
    _files(host, facts)
    _services_and_state(host, facts)
    _dotnet(host, facts)
    if diagnostics is not None:
        apply_diagnostics(host, diagnostics, facts)
    return host


def import_survey(estate: Estate, host_name: str, document: dict[str, Any]) -> Host:
    """Replace ``host_name``'s state in ``estate`` with the surveyed (or diagnosed) one; address and credentials kept.

    ``document``: a survey, a whole registered ``info`` result, or a diagnostics file (:func:`split_document`).
    """
    survey, diagnostics = split_document(document)
    current = estate.read_host(host_name)
    creds = current.data.get("credentials", {})
    host = seed_from_survey(
        survey,
        host_name,
        current.ip,
        username=creds.get("username", "Administrator"),
        password=creds.get("password", "Lab-Passw0rd!"),
        diagnostics=diagnostics,
    )
    estate.save_new_host(host)
    return host


# ---- a diagnosis (diagnose v1) ----------------------------------------------------------------------------------
def _part(diagnostics: dict[str, Any], name: str) -> dict[str, Any]:
    """One part of the diagnosis; {} when it is absent or could not be read on the host (nothing to reproduce)."""
    part = diagnostics.get(name)
    return part if isinstance(part, dict) and set(part) != {"error"} else {}


def apply_diagnostics(host: Host, diagnostics: dict[str, Any], facts: dict[str, Any]) -> None:
    """Set what the lab emulates of a diagnosis on a host seeded from its survey (lab.windows and the registry,
    files and services diagnose.ps1 reads)."""
    _windows_facts(host, diagnostics)
    _execution_policies(host, _part(diagnostics, "execution_policy"))
    _defender(host, diagnostics)
    _uninstall_and_products(host, diagnostics)
    _diagnosed_services(host, _part(diagnostics, "services"))
    for name, survey_part in (("amethyst_conf", "amethyst_conf"), ("cxps_conf", "cxps_conf")):
        _conf_keys(host, _part(diagnostics, name), facts.get(survey_part) or {})
    drscout = _part(diagnostics, "drscout_conf")
    if drscout.get("found"):
        _conf_keys(host, drscout.get("file") or {"path": drscout["found"], "present": True}, {})
    _setup_logs(host, _part(diagnostics, "setup_logs"))


def _windows_facts(host: Host, diagnostics: dict[str, Any]) -> None:
    windows = host.data.setdefault("windows", {})
    shell = _part(diagnostics, "powershell")  # diagnose.ps1 Get-PowerShellFact
    if shell.get("version"):
        windows["powershell"] = {k: shell.get(k) for k in ("version", "edition", "clr_version", "build_version")}
    os_facts = _part(diagnostics, "os")  # diagnose.ps1 Get-OsBuildFact
    for key in ("culture", "ui_culture", "locale", "os_language", "mui_languages", "edition_id", "installation_type"):
        if key in os_facts:
            windows[key] = os_facts[key]
    if os_facts.get("update_build_revision") is not None:  # Win32_OperatingSystem.Version + CurrentVersion UBR
        base = ".".join(str(host.data["os"]["version"]).split(".")[:3])
        host.data["os"]["version"] = f"{base}.{int(os_facts['update_build_revision'])}"
    if "enabled" in _part(diagnostics, "fips"):  # diagnose.ps1 Get-FipsPolicy
        windows["fips_enabled"] = _part(diagnostics, "fips")["enabled"]
    dotnet = _part(diagnostics, "dotnet_framework")  # diagnose.ps1 Get-DotNetFact
    if dotnet:
        windows["dotnet_release"], windows["dotnet_version"] = dotnet.get("release"), dotnet.get("version")


def _execution_policies(host: Host, policy: dict[str, Any]) -> None:
    windows = host.data.setdefault("windows", {})
    for entry in policy.get("group_policy") or []:  # the "Turn on Script Execution" values, as recorded
        if not entry.get("present"):
            continue
        key = str(entry["registry_key"])
        host.reg_create_key(key)
        if entry.get("enable_scripts") is not None:
            host.reg_set(key, "EnableScripts", int(entry["enable_scripts"]), "DWord")
        if entry.get("execution_policy") is not None:
            host.reg_set(key, "ExecutionPolicy", str(entry["execution_policy"]))
    scopes = {s.get("scope"): s.get("policy") for s in policy.get("scopes") or []}
    for scope, fact in (("LocalMachine", "local_machine_policy"), ("CurrentUser", "current_user_policy")):
        if scope in scopes:
            windows[fact] = None if scopes[scope] in (None, "Undefined") else scopes[scope]


def _defender(host: Host, diagnostics: dict[str, Any]) -> None:
    defender = _part(diagnostics, "defender")  # diagnose.ps1 Get-DefenderFact
    if not defender or defender.get("error"):
        return  # an error Get-MpPreference answered with is not reproduced
    windows = host.data.setdefault("windows", {})
    windows["defender"] = (
        None
        if not defender.get("present")
        else {
            "attack_surface_reduction_rules": list(defender.get("attack_surface_reduction_rules") or []),
            "exclusion_paths": list(defender.get("exclusion_paths") or []),
            "exclusion_processes": list(defender.get("exclusion_processes") or []),
        }
    )


DWORD_VALUES = {"windowsinstaller", "systemcomponent", "nomodify", "noremove", "cx_type"}


def _uninstall_and_products(host: Host, diagnostics: dict[str, Any]) -> None:
    for entry in _part(diagnostics, "uninstall").get("entries") or []:  # diagnose.ps1 Get-UninstallDiagnosis
        _write_values(host, str(entry["registry_key"]), entry.get("values") or {}, entry.get("value_names") or [])
    registry = _part(diagnostics, "registry")
    for entry in registry.get("installed_products") or []:  # Get-InstalledProductKey
        key = f"{c.REG_INSTALLED_PRODUCTS}\\{entry['key_name']}"
        _write_values(host, key, entry.get("values") or {}, entry.get("value_names") or [])
    if registry.get("proxy_settings_value_names") is not None:  # [6.4] names only (a password among them)
        _write_values(host, PROXY_SETTINGS, {}, registry["proxy_settings_value_names"])
    for value in _part(diagnostics, "mars").get("proxy_values") or []:  # Get-MarsDiagnosis: names and kinds only
        _write_values(host, str(value["registry_key"]), {}, [str(value["value_name"])], str(value.get("kind") or ""))


def _write_values(host: Host, key: str, values: dict[str, Any], names: list[str], kind: str = "String") -> None:
    """The recorded values, and each value only named (its data unknown: LAB, empty) unless the key has it."""
    host.reg_create_key(key)
    for name, value in values.items():
        if name.lower() in DWORD_VALUES and str(value).isdigit():
            host.reg_set(key, name, int(value), "DWord")
        else:
            host.reg_set(key, name, value)
    for name in names:
        if name not in values and host.reg_get(key, name) is None:
            host.reg_set(key, name, 0 if kind == "DWord" else "", kind if kind in ("String", "DWord") else "String")


WIN32_STATES = {"Running": "running", "Stopped": "stopped", "Paused": "paused"}
WIN32_START_MODES = {"Auto": "auto", "Manual": "manual", "Disabled": "disabled"}


def _diagnosed_services(host: Host, services: dict[str, Any]) -> None:
    for svc in services.get("services") or []:  # diagnose.ps1 Get-ServiceDiagnosis (Win32_Service's words)
        mode = WIN32_START_MODES.get(str(svc.get("start_mode")), "manual")
        if mode == "auto" and svc.get("delayed_auto_start"):
            mode = "delayed"
        host.add_service(
            svc["name"],
            svc.get("display_name") or svc["name"],
            svc.get("path_name") or "",
            mode,
            WIN32_STATES.get(str(svc.get("state")), "stopped"),
            svc.get("start_name") or "LocalSystem",
        )


def _conf_keys(host: Host, conf: dict[str, Any], surveyed: dict[str, Any]) -> None:
    """A KEY = "value" file with the recorded key names in their order ([section] for "section/KEY"); the value a
    survey kept, else empty (LAB: the diagnosis records names only)."""
    if not conf.get("present") or conf.get("error"):
        return  # absent, or unreadable on the host: what the survey wrote (if anything) stays
    lines, section = [], ""
    for qualified in conf.get("key_names") or []:
        head, _, key = qualified.rpartition("/")
        if head != section:
            section = head
            lines.append(f"[{head}]")
        value = surveyed.get(key.lower())
        lines.append(f'{key} = "{value if value is not None else ""}"')
    host.write_file(str(conf["path"]), "".join(line + "\r\n" for line in lines))


def _setup_logs(host: Host, logs: dict[str, Any]) -> None:
    folder = logs.get("folder")
    for item in logs.get("files") or []:  # diagnose.ps1 Get-SetupLogListing: names and times, not contents
        path = f"{str(folder).rstrip(chr(92))}\\{item['name']}"
        text = host.read_bytes(path) if host.is_file(path) else b""
        missing = int(item.get("size_bytes") or 0) - len(text)
        if missing > 0 or not host.is_file(path):  # LAB filler: blank lines before what the survey kept, to its size
            missing = max(missing, 0)
            host.write_file(path, b"\n" * (missing % 2) + b"\r\n" * (missing // 2) + text)
        if item.get("modified"):
            mtime = calendar.timegm(time.strptime(item["modified"], "%Y-%m-%dT%H:%M:%SZ"))
            host.data["files"][host.resolve(path)]["mtime"] = mtime


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print("usage: python -m lab.survey_import ESTATE_DIR HOST SURVEY_OR_DIAGNOSTICS.json", file=sys.stderr)
        return 2
    return import_file(Estate(argv[1]), argv[2], argv[3])


def import_file(estate: Estate, host_name: str, path: str) -> int:
    """``python -m lab import``: a survey, an info result or a diagnostics file into one host of an estate."""
    with open(path, encoding="utf-8") as handle:
        document = json.load(handle)
    try:
        host = import_survey(estate, host_name, document)
    except SurveyError as exc:
        print(f"lab: {path}: {exc}", file=sys.stderr)
        return 2
    kind = "diagnosed" if split_document(document)[1] is not None else "surveyed"
    print(f"lab: {host.name} now has the state {kind} on {host.data['hostname']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
