# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The probe: what to ask ``powershell/probe.ps1`` (:class:`ProbeRequest`) and what its answer says
(:class:`ProbedHost`, read ONCE per probe by :func:`read_probe`).

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

"Probe" is the one word for reading a host, in the script, here, in the operations and in ``info``. The script
reports raw facts (registry values as strings, bytes, service states); :func:`read_probe` turns them into answers
with the rest of the domain core: which product each Add/Remove Programs entry is (:func:`uninstall_plan.identify`),
the role from ``CX_TYPE`` [6.4], the registration from amethyst.conf and the data port from cxps.conf [6.5], health
[7.5] and the sizing tier [7.1, 7.2]. The result is one frozen :class:`ProbedHost`: ``asr`` is ``info``'s return
value, the typed fields are what the install/upgrade/proxy/registration/uninstall plans decide on. An operation
that changes the host says what the host looks like afterwards with the ``after_*`` methods (a new
:class:`ProbedHost`, never a hand-made dict), so the next operation of a converged task plans from it.

:func:`to_survey` is the probe result as a survey file: what a lab seed imports (``lab/survey_import.py``) and
``info`` returns as ``survey``. Pure Python, no Ansible.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import product, sizing, uninstall_plan
from .errors import InvalidOption
from .health import HealthSample, evaluate_health
from .unified_setup import CONTROL_PORT
from .versions import Version, parse_version

PROBE_IDENTITY = "probe v1"
SURVEY_FORMAT = "asr.process_server.survey/v1"
GIB = 1024**3
NOT_MEASURED = ("cpu_percent", "memory_percent", "upload_backlog_minutes", "heartbeat_age_minutes")
# The probe's result keys that describe one run, not the host: left out of a survey.
_RUN_ONLY_KEYS = ("checks", "identity")


# ---- what to ask -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProbeRequest:
    """What one probe.ps1 call checks besides what it always reads; the names to look for come from the domain core.

    ``check_registered_configuration_server`` tests TCP reachability of the CS in amethyst.conf [6.5]
    (``checks.registered_configuration_server``); ``proxy_settings_file`` reports that file's existence, SHA256
    and access SIDs (``checks.proxy_settings_file``), never its text. ``installer_upload_name`` reports a package
    the controller transfers into the host's ``$env:SystemRoot\\Temp`` (``checks.installer_upload``, with ``folder``).
    ``passphrase_file`` reports whether setup's ``/PassphraseFilePath`` can be read and how many (non-empty) lines
    it holds, and whether it lies under a user profile (``checks.passphrase_file``), never its text.
    """

    configuration_server_ip: str | None = None
    configuration_server_port: int = 443
    connect_timeout: int = 3
    installer_path: str | None = None
    installer_checksum: bool = True
    installer_upload_name: str | None = None
    include_log_tail: bool = False
    log_tail_lines: int = 40
    check_registered_configuration_server: bool = False
    proxy_settings_file: str | None = None
    passphrase_file: str | None = None

    def union(self, *others: ProbeRequest) -> ProbeRequest:
        """One probe for several operations: a check any of them wants is on; a later value wins over an unset one."""
        merged = dataclasses.asdict(self)
        for other in others:
            for key, value in dataclasses.asdict(other).items():
                if isinstance(value, bool):
                    merged[key] = merged[key] or value
                elif value not in (None, ""):
                    merged[key] = value
        return ProbeRequest(**merged)

    def script_parameters(self) -> dict[str, Any]:
        """The ``param()`` values of probe.ps1 (and of diagnose.ps1, which runs the same probe)."""
        names = sorted({name for p in uninstall_plan.KNOWN_PRODUCTS for name in p.names})
        services = [*product.PROCESS_SERVER_SERVICES, *product.CONFIGURATION_SERVER_EXTRA_SERVICES]
        return {
            "ProductNames": names,
            "ServiceNames": services,
            "ConfigurationServerIp": self.configuration_server_ip or "",
            "ConfigurationServerPort": self.configuration_server_port,
            "ConnectTimeoutMs": self.connect_timeout * 1000,
            "InstallerPath": self.installer_path or "",
            "InstallerSha256": self.installer_checksum,
            "InstallerUploadName": self.installer_upload_name or "",
            "IncludeLogTail": self.include_log_tail,
            "LogTailLines": self.log_tail_lines,
            "CheckRegisteredConfigurationServer": self.check_registered_configuration_server,
            "ProxySettingsFilePath": self.proxy_settings_file or "",
            "PassphraseFilePath": self.passphrase_file or "",
        }


# ---- small readers -----------------------------------------------------------------------------------------
def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _gb(value: Any) -> float | None:
    return None if value is None else round(int(value) / GIB, 2)


def _components(probe: dict[str, Any]) -> dict[str, Any]:
    """Every known product [6.1], installed or not, from the Add/Remove Programs entries."""
    found: dict[str, Any] = {}
    for entry in probe.get("uninstall_entries") or []:
        known = uninstall_plan.identify(entry.get("display_name") or "")
        if known is None or known.key in found:
            continue
        found[known.key] = {
            "installed": True,
            "display_name": entry.get("display_name"),
            "version": entry.get("display_version"),
            "registry_key": entry.get("registry_key"),
            "uninstall_string": entry.get("uninstall_string"),
        }
    absent = {"installed": False, "display_name": None, "version": None, "registry_key": None, "uninstall_string": None}
    return {p.key: found.get(p.key, dict(absent)) for p in uninstall_plan.KNOWN_PRODUCTS}


def _role(cx_type: int | None) -> str | None:
    """[6.4] CX_TYPE 2 = scale-out process server; 1 and 3 = configuration server (3 with its in-built PS)."""
    if cx_type is None:
        return None
    return sizing.PROCESS_SERVER if product.is_scale_out_process_server(cx_type) else sizing.CONFIGURATION_SERVER


def install_location(probe: dict[str, Any]) -> str | None:
    """[3.3] the C:\\ProgramData\\ASR junction's target, else the registry's InstallDirectory [6.4]."""
    junction = probe.get("asr_junction") or {}
    csps = (probe.get("installed_products") or {}).get("csps") or {}
    return junction.get("target") or csps.get("installdirectory") or None


# The lowest .NET Framework 4.x "Release" value of each version (Microsoft, "How to determine which .NET Framework
# versions are installed": NDP\v4\Full, Release); a host has that version when its value is at least this.
DOTNET_RELEASES = {
    "4.5": 378389,
    "4.5.1": 378675,
    "4.5.2": 379893,
    "4.6": 393295,
    "4.6.1": 394254,
    "4.6.2": 394802,
    "4.7": 460798,
    "4.7.1": 461308,
    "4.7.2": 461808,
    "4.8": 528040,
    "4.8.1": 533320,
}


def dotnet_release(probe: dict[str, Any]) -> int | None:
    """The probe's .NET Framework 4.x release number, None when it did not report one."""
    return _int((probe.get("dotnet_framework") or {}).get("release"))


def dotnet_version(release: int | None) -> str | None:
    """The .NET Framework version a release number means (the highest whose lowest release it reaches)."""
    if release is None:
        return None
    reached = [name for name, lowest in DOTNET_RELEASES.items() if release >= lowest]
    return reached[-1] if reached else None


SETUP_DOTNET = "4.6.2"  # [1.3] the .NET Framework Unified Setup needs


def _dotnet_framework(probe: dict[str, Any]) -> dict[str, Any]:
    """[1.3] The .NET Framework 4.x release, its version, and whether Unified Setup can run (None: not reported)."""
    release = dotnet_release(probe)
    return {
        "release": release,
        "version": dotnet_version(release),
        "meets_setup_minimum": None if release is None else release >= DOTNET_RELEASES[SETUP_DOTNET],
    }


def _registration(probe: dict[str, Any]) -> dict[str, Any]:
    """[6.5] amethyst.conf PS_CS_IP / PS_CS_PORT (the configuration server this PS reports to).

    ``error``: amethyst.conf exists but could not be read (locked, or replaced while it was read); then nothing is
    known about the registration and ``registered`` is None.
    """
    conf = probe.get("amethyst_conf") or {}
    secured = conf.get("ps_cs_secured_communication")
    error = conf.get("error") or None
    return {
        "registered": None if error else bool(conf.get("ps_cs_ip")),
        "configuration_server_ip": conf.get("ps_cs_ip") or None,
        "configuration_server_port": _int(conf.get("ps_cs_port")),
        "secured_communication": None if secured is None else str(secured).strip().lower() in ("1", "true", "yes"),
        "process_server_ip": conf.get("ps_ip") or None,
        "source": conf.get("path"),
        "error": error,
    }


def _cache_drive(probe: dict[str, Any], location: str | None) -> dict[str, Any] | None:
    """The install location's volume (the PS cache lives under it); before install, the biggest data volume."""
    volumes = probe.get("volumes") or []
    system = ((probe.get("os") or {}).get("system_drive") or "C:").upper()
    chosen, source = None, None
    if location and len(location) >= 2 and location[1] == ":":
        chosen = next((v for v in volumes if str(v.get("drive", "")).upper() == location[:2].upper()), None)
        source = "install_location"
    if chosen is None and volumes:
        data = [v for v in volumes if str(v.get("drive", "")).upper() != system] or volumes
        chosen, source = max(data, key=lambda v: int(v.get("size_bytes") or 0)), "largest_data_volume"
    if chosen is None:
        return None
    size, free = int(chosen.get("size_bytes") or 0), int(chosen.get("free_bytes") or 0)
    return {
        "drive": chosen.get("drive"),
        "source": source,
        "filesystem": chosen.get("filesystem"),
        "size_gb": _gb(size),
        "free_gb": _gb(free),
        "free_percent": round(100.0 * free / size, 1) if size else None,
    }


def _services(probe: dict[str, Any], role: str | None) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    """[6.3] every service with its state; those expected but not running; those with a wrong start mode."""
    expected = set(product.PROCESS_SERVER_SERVICES)
    if role == sizing.CONFIGURATION_SERVER:
        expected |= set(product.CONFIGURATION_SERVER_EXTRA_SERVICES)
    services, not_running, wrong_start = [], [], []
    for svc in probe.get("services") or []:
        services.append(dict(svc))
        if role is None or svc.get("name") not in expected:
            continue
        if svc.get("state") != "running":
            not_running.append(svc["name"])
        automatic = svc.get("start_mode") in ("auto", "delayed")
        if svc.get("present") and not automatic and svc["name"] not in product.MANUAL_START_ALLOWED:
            wrong_start.append(svc["name"])
    return services, not_running, wrong_start


def _health(installed: bool, cache: dict[str, Any] | None, not_running: list[str]) -> dict[str, Any]:
    """[7.5] from what one probe can know: services and cache free space; the rest is not measured."""
    if not installed:
        return {
            "status": "not_installed",
            "alerts": [],
            "green_for_new_load": False,
            "not_green_because": ["the configuration/process server is not installed"],
            "not_measured": list(NOT_MEASURED),
        }
    free = cache.get("free_percent") if cache else None
    report = evaluate_health(HealthSample(cache_free_percent=free, services_not_running=not_running)).to_dict()
    report["not_measured"] = [m for m in NOT_MEASURED if m != "cache_free_percent"] + (
        [] if free is not None else ["cache_free_percent"]
    )
    return report


def _sizing(probe: dict[str, Any], cache: dict[str, Any] | None, role: str | None) -> dict[str, Any]:
    """``HostFacts`` for sizing.py and the host's one sizing verdict (:func:`sizing.assess_host`) for its role.

    A scale-out process server (or a bare host) is judged by [7.1], a configuration server by [7.2]; ``table``
    says which. ``notes`` carry setup's free-space check [1.3] and the retention drive [2.1].
    """
    cpu = probe.get("cpu") or {}
    facts = sizing.HostFacts(
        vcpus=max(1, int(cpu.get("logical_processors") or 1)),
        memory_gb=max(0.01, round(int(probe.get("memory_mb") or 0) / 1024, 2)),
        cache_disk_gb=(cache or {}).get("size_gb") or 0.0,
        cache_free_gb=(cache or {}).get("free_gb"),
    )
    sized_as = role or sizing.PROCESS_SERVER
    assessment = sizing.assess_host(facts, sized_as)
    return {
        "host_facts": facts.to_dict(),
        "role": sized_as,
        "table": assessment.table,
        "ok": assessment.ok,
        "verdict": assessment.verdict,
        "tier": assessment.tier.name if assessment.tier else None,
        "tier_detail": assessment.tier.to_dict() if assessment.tier else None,
        "shortfalls": list(assessment.shortfalls),
        "notes": list(assessment.notes),
    }


def host_facts(asr: dict[str, Any]) -> sizing.HostFacts:
    """Rebuild the :class:`sizing.HostFacts` from an ``info`` result's ``asr.sizing.host_facts``."""
    return sizing.HostFacts(**asr["sizing"]["host_facts"])


# ---- the result --------------------------------------------------------------------------------------------
def facts(probe: dict[str, Any]) -> dict[str, Any]:
    """The ``asr`` return value of ``asr.process_server.info`` from one probe result (``ProbedHost.asr``)."""
    products = probe.get("installed_products") or {}
    csps = products.get("csps") or {}
    deps = products.get("dependencies") or {}
    cx_type = _int(csps.get("cx_type"))
    role = _role(cx_type)
    location = install_location(probe)
    cache = _cache_drive(probe, location)
    services, not_running, wrong_start = _services(probe, role)
    cxps = probe.get("cxps_conf") or {}
    mars = probe.get("mars") or {}
    return {
        "installed": bool(csps),
        "role": role,
        "cx_type": cx_type,
        "cx_type_name": product.cx_type_name(cx_type) if cx_type is not None else None,
        "build_version": csps.get("build_version"),
        "dependencies_version": deps.get("build_version"),
        "components": _components(probe),
        "install_location": location,
        "registration": _registration(probe),
        "data_port": _int(cxps.get("ssl_port")),
        "services": services,
        "services_not_running": not_running,
        "services_wrong_start_mode": wrong_start,
        "proxy": {
            "setup": {"proxy_type": csps.get("proxy_type"), **(probe.get("asr_proxy") or {})},
            "mars": {**(mars.get("proxy") or {"source": "unknown"}), "error": mars.get("error")},
        },
        "cache_drive": cache,
        "cpu": dict(probe.get("cpu") or {}),
        "memory_gb": round(int(probe.get("memory_mb") or 0) / 1024, 2),
        "os": dict(probe.get("os") or {}),
        "dotnet_framework": _dotnet_framework(probe),
        "computer_name": probe.get("computer_name"),
        "pending_reboot": dict(probe.get("pending_reboot") or {}),
        "setup_log": dict(probe.get("setup_log") or {}),
        "health": _health(bool(csps), cache, not_running),
        "sizing": _sizing(probe, cache, role),
        "checks": dict(probe.get("checks") or {}),
    }


# ---- the one reading -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProbedHost:
    """One probe of a host, read once: ``raw`` as the script returned it, ``asr`` as ``info`` returns it, and the
    typed facts the plans decide on. Build it with :func:`read_probe`; an operation's effect with ``after_*``."""

    raw: dict[str, Any]
    asr: dict[str, Any]
    system_drive: str
    os_version: str
    os_caption: str
    volumes: dict[str, dict[str, Any]]
    cx_type: int | None
    version: Version | None
    # [6.2] each PS component's installed version (None: not installed)
    components: dict[str, str | None]
    registered_cs_ip: str | None
    data_port: int | None
    install_location: str | None
    pending_reboot: bool
    pending_reasons: tuple[str, ...]
    cs_check: dict[str, Any] | None
    installer: dict[str, Any] | None
    identity: dict[str, Any] | None
    # A controller package already transferred into the host's temporary folder (InstallerUploadName), which
    # setup_start moves to the staging path: checks.installer_upload.
    installer_upload: dict[str, Any] | None = None
    # The passphrase file setup reads (PassphraseFilePath): checks.passphrase_file, never its text.
    passphrase_file: dict[str, Any] | None = None
    # [1.3] the .NET Framework 4.x release number (dotnet_framework.release); None when not reported
    dotnet_release: int | None = None

    @property
    def csps_installed(self) -> bool:
        return self.components.get("configuration_process_server") is not None or self.version is not None

    @property
    def complete(self) -> bool:
        """Every component Unified Setup installs on a scale-out PS is there [6.2]."""
        return all(self.components.get(key) for key in product.PS_COMPONENTS) and self.version is not None

    def summary(self) -> dict[str, Any]:
        """The single-purpose modules' ``--diff`` view: component versions and registration target."""
        return {
            "components": {key: self.components.get(key) for key in product.PS_COMPONENTS},
            "configuration_server_ip": self.registered_cs_ip,
            "data_port": self.data_port,
        }

    # ---- what an operation leaves: the next operation of a converged task plans from it ----------------------
    def after_setup(
        self, version: str | None, *, registered_to: str | None = None, mars_proxy: dict[str, Any] | None = None
    ) -> ProbedHost:
        """What the probe would read after a successful Unified Setup run (check mode predicts with it).

        Every PS component at ``version``, the services running. Install [1.3] also registers the master target
        (``cdpcli --registermt``) to ``registered_to`` and sets the MARS proxy from the proxy settings file
        (``SetMarsProxy.exe``; ``mars_proxy`` is what it sets, :func:`proxy_plan.shown`); ``/Upgrade`` [4] keeps
        the configuration, so only versions change (``registered_to`` None).
        """
        asr = copy.deepcopy(self.asr)
        shown_version = version or asr.get("build_version") or "(installer version)"
        components = asr.setdefault("components", {})
        for key in product.PS_COMPONENTS:
            components[key] = {**(components.get(key) or {}), "installed": True, "version": shown_version}
        asr.update(
            installed=True, role=sizing.PROCESS_SERVER, cx_type=product.CX_TYPE_PS_ONLY, build_version=shown_version
        )
        _services_running(asr, list(product.PROCESS_SERVER_SERVICES))
        if registered_to is not None:
            checks = asr.setdefault("checks", {})
            reachable = (checks.get("configuration_server") or {}).get("reachable", True)
            checks["registered_configuration_server"] = {
                "address": registered_to,
                "port": CONTROL_PORT,
                "reachable": reachable,
                "error": None,
            }
            asr["registration"] = {
                **(asr.get("registration") or {}),
                "registered": True,
                "configuration_server_ip": registered_to,
                "configuration_server_port": CONTROL_PORT,
            }
            asr.setdefault("proxy", {})["mars"] = {
                "source": "Get-OBMachineSetting",
                "error": None,
                **(mars_proxy or {}),
            }
        return _reading(self.raw, asr)

    def after_mars_proxy(self, mars_proxy: dict[str, Any], *, registered_mt: bool) -> ProbedHost:
        """After proxy_apply.ps1 reported ok: the MARS proxy it read back (Get-OBMachineSetting), obengine running
        and, when it ran a successful ``cdpcli --registermt``, the configuration server answering [8]."""
        asr = copy.deepcopy(self.asr)
        asr.setdefault("proxy", {})["mars"] = {"source": "Get-OBMachineSetting", "error": None, **mars_proxy}
        _services_running(asr, [product.MARS_SERVICE])
        if registered_mt:
            _configuration_server_answered(asr)
        return _reading(self.raw, asr)

    def after_registration(self) -> ProbedHost:
        """After register_apply.ps1 reported ok: ``cdpcli --registermt`` reached the configuration server and
        obengine was restarted [3.3]."""
        asr = copy.deepcopy(self.asr)
        _services_running(asr, [product.MARS_SERVICE])
        _configuration_server_answered(asr)
        return _reading(self.raw, asr)

    def after_uninstall(self, removed: set[str] | frozenset[str]) -> ProbedHost:
        """After the products ``removed`` (uninstall_plan keys) were uninstalled [6.1]."""
        asr = copy.deepcopy(self.asr)
        for key in removed:
            asr["components"][key] = {**asr["components"][key], "installed": False, "version": None}
        if "configuration_process_server" in removed:
            asr["installed"] = False
        return _reading(self.raw, asr)


def _services_running(asr: dict[str, Any], names: list[str]) -> None:
    wanted = {n.casefold() for n in names}
    seen = set()
    for svc in asr.get("services") or []:
        if str(svc.get("name", "")).casefold() in wanted:
            svc.update(present=True, state="running")
            seen.add(str(svc["name"]).casefold())
    for name in names:
        if name.casefold() not in seen:
            asr.setdefault("services", []).append({"name": name, "present": True, "state": "running"})


def _configuration_server_answered(asr: dict[str, Any]) -> None:
    check = asr.setdefault("checks", {}).get("registered_configuration_server") or {}
    asr["checks"]["registered_configuration_server"] = {**check, "reachable": True, "error": None}


def version_or_none(value: Any) -> Version | None:
    """A version the host reported; unreadable counts as unknown (host data, not an operator's input)."""
    try:
        return parse_version(value) if value else None
    except InvalidOption:
        return None


def fixed_volumes(raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The probe's fixed volumes by drive letter (``D:``): file system, free and total GB."""
    return {
        str(v.get("drive", "")).upper(): {
            "filesystem": v.get("filesystem"),
            "free_gb": round(int(v.get("free_bytes") or 0) / GIB, 2),
            "size_gb": round(int(v.get("size_bytes") or 0) / GIB, 2),
        }
        for v in raw.get("volumes") or []
    }


def _reading(raw: dict[str, Any], asr: dict[str, Any]) -> ProbedHost:
    """The typed fields of a probe from its raw result and its ``asr`` facts."""
    volumes = fixed_volumes(raw)
    reboot = asr.get("pending_reboot") or {}
    checks = asr.get("checks") or {}
    os_facts = asr.get("os") or {}
    return ProbedHost(
        raw=raw,
        asr=asr,
        system_drive=str(os_facts.get("system_drive") or "C:").upper(),
        os_version=str(os_facts.get("version") or ""),
        os_caption=str(os_facts.get("caption") or ""),
        volumes=volumes,
        cx_type=asr.get("cx_type"),
        version=version_or_none(asr.get("build_version")),
        components={key: (c.get("version") if c.get("installed") else None) for key, c in asr["components"].items()},
        registered_cs_ip=(asr.get("registration") or {}).get("configuration_server_ip"),
        data_port=asr.get("data_port"),
        install_location=asr.get("install_location"),
        pending_reboot=bool(reboot.get("pending")),
        pending_reasons=tuple(reboot.get("reasons") or ()),
        cs_check=checks.get("configuration_server"),
        installer=checks.get("installer"),
        identity=raw.get("identity"),
        installer_upload=checks.get("installer_upload"),
        passphrase_file=checks.get("passphrase_file"),
        dotnet_release=dotnet_release(raw),
    )


def read_probe(raw: dict[str, Any]) -> ProbedHost:
    """Read one probe result (the JSON of probe.ps1): the only place a probe is interpreted."""
    return _reading(raw, facts(raw))


def to_survey(probe: dict[str, Any], secrets: set[str] | frozenset[str] = frozenset()) -> dict[str, Any]:
    """The probe result as a lab seed can import it: no run-only checks, no log tail text, no secret.

    The survey keeps what :func:`read_probe` needs, so importing it into the lab (``lab/survey_import.py``) and
    running ``info`` there reproduces the same ``asr`` facts.
    """
    host = {k: copy.deepcopy(v) for k, v in probe.items() if k not in _RUN_ONLY_KEYS}
    if isinstance(host.get("setup_log"), dict):
        host["setup_log"]["tail"] = None
    survey = {"format": SURVEY_FORMAT, "probe": probe.get("probe", PROBE_IDENTITY), "host": host}
    return _redact(survey, {s for s in secrets if s})


def _redact(value: Any, secrets: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "********")
    return value
