# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Preflight of a process server rollout: what, in one ``info`` result, would block installing or upgrading.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

:func:`evaluate` reads an ``asr.process_server.info`` result (``asr`` and ``survey``) and the operator's
expectations and returns :class:`Blocker` entries: ``severity`` ``block`` stops a rollout, ``warn`` is worth
reading. Nothing here touches a host. Rules (``reference/asr-process-server.md``):

* [2.1] OS: Windows Server 2012 R2 (6.3) or 2016 (10.0.14393) for the classic stack;
* [1.3, 2.1] install location on a fixed NTFS drive other than the system drive; 600 GB free on the cache
  drive unless ``/SkipSpaceCheck`` (``skip_space_check``). Setup checks the space when it installs; on a host
  where the process server is already installed (the cache is in use) a shortfall is a warning;
* [1.3] the configuration server must be reachable on 443 (setup validates the passphrase there);
* [1.3] Unified Setup needs .NET Framework 4.6.2 (release 394802) or later; without it setup waits on a message box
  nobody sees and never ends (a block where setup would install, a warning on an installed host: an upgrade runs
  setup too);
* a pending reboot makes setup fail or stop half way: reboot first;
* [3.1, 4] versions: process server <= configuration server; an installer never downgrades; an upgrade jumps
  at most 4 minor versions (N-4, setup exits 203 beyond);
* [7.1] sizing: the host meets a row of the scale-out process server table and, with a planned load, the row
  that load needs (:func:`sizing.assess_host`, the one sizing verdict; [2.1]'s 8 cores / 16 GB are the
  configuration server's table [7.2], not a scale-out process server's);
* [7.5] health: a critical alert blocks adding load, a warning is reported.

The operator's expectations are checked first (:func:`check_expectations`): a value that is not what the key
allows fails with :class:`InvalidOption` naming the key (or, through :func:`expectations_from_variables`,
the playbook variable) and what is allowed, instead of being read as "not given".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import sizing, unified_setup
from .checks import require_name
from .errors import InvalidOption
from .probe import fixed_volumes, version_or_none
from .versions import MAX_MINOR_HOP, Version, parse_version

BLOCK = "block"
WARN = "warn"
REQUIRED_FREE_GB = sizing.SETUP_FREE_SPACE_GB  # [1.3] setup's cache space check (unless /SkipSpaceCheck)
SUPPORTED_OS = {"6.3": "Windows Server 2012 R2", "10.0.14393": "Windows Server 2016"}  # [2.1] classic
EXPECTATION_KEYS = (
    "install_location",
    "env_type",
    "skip_space_check",
    "installer_path",
    "installer_version",
    "configuration_server_version",
    "planned_load",
)
# playbooks/preflight.yml: the variable an operator sets for each expectation
PLAYBOOK_VARIABLES = {
    "asr_install_location": "install_location",
    "asr_env_type": "env_type",
    "asr_skip_space_check": "skip_space_check",
    "asr_installer_remote_path": "installer_path",
    "asr_installer_version": "installer_version",
    "asr_configuration_server_version": "configuration_server_version",
    "asr_planned_load": "planned_load",
}
INSTALL_LOCATION_ALLOWED = r"an absolute path on a local fixed drive other than the system drive, such as D:\ or E:\ASR"


@dataclass(frozen=True)
class Blocker:
    """One finding: ``code`` (stable, for filtering), ``severity`` (block / warn) and a sentence."""

    code: str
    severity: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


def _unset(value: Any) -> bool:
    return value is None or value == ""


def check_expectations(
    expectations: Mapping[str, Any] | None, names: Mapping[str, str] | None = None
) -> dict[str, Any]:
    r"""The operator's expectations checked and normalised; unset keys (None or "") are left out.

    ``names`` maps a key to the name an error shows (default: the key itself). Rules:

    * ``install_location``: [1.3] Unified Setup needs an absolute path on a local fixed drive; relative,
      drive-relative (``D:ASR``) and UNC (``\\server\share``) paths are refused here. Whether it is on the
      system drive depends on the host and is a finding of :func:`evaluate`;
    * ``installer_version``, ``configuration_server_version``: an ASR build, 2 to 4 dot-separated numbers
      (``9.55.7123.1``) [4];
    * ``env_type``: ``VMware`` or ``NonVMware`` in any capitalisation (Microsoft's examples write ``VMWare``),
      normalised (:func:`unified_setup.canonical_env_type`) [1.2, 1.3]; a wrong value would fail every
      install of the rollout, so preflight refuses it;
    * ``skip_space_check``: a boolean (or a yes/no string); ``installer_path``: a non-empty string;
    * ``planned_load``: ``{protected_machines, daily_churn_gb}`` (:func:`sizing.planned_load_from`).
    """
    shown = {key: (names or {}).get(key, key) for key in EXPECTATION_KEYS}
    given = dict(expectations or {})
    unknown = sorted(str(key) for key in given if key not in EXPECTATION_KEYS)
    if unknown:
        raise InvalidOption("expectations", ", ".join(unknown), "the keys " + ", ".join(EXPECTATION_KEYS))
    checked: dict[str, Any] = {}
    for key, value in given.items():
        if _unset(value):
            continue
        name = shown[key]
        if key == "install_location":
            checked[key] = _check_location_value(name, value)
        elif key == "env_type":
            checked[key] = unified_setup.canonical_env_type(value, name)
        elif key in ("installer_version", "configuration_server_version"):
            checked[key] = _check_version_value(name, value)
        elif key == "skip_space_check":
            flag = sizing.bool_text(value)
            if not isinstance(flag, bool):
                raise InvalidOption(name, value, "true or false")
            checked[key] = flag
        elif key == "installer_path":
            checked[key] = require_name(name, value, "The path of the installer on the host.")
        else:
            checked[key] = sizing.planned_load_from(value, name).to_dict()
    return checked


def expectations_from_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`check_expectations` of playbook variables (``asr_install_location``, ...); errors name the variable."""
    if not isinstance(variables, Mapping):
        raise InvalidOption("variables", variables, "a mapping of " + ", ".join(PLAYBOOK_VARIABLES))
    unknown = sorted(str(name) for name in variables if name not in PLAYBOOK_VARIABLES)
    if unknown:
        raise InvalidOption("variables", ", ".join(unknown), "the variables " + ", ".join(PLAYBOOK_VARIABLES))
    names = {key: variable for variable, key in PLAYBOOK_VARIABLES.items()}
    return check_expectations({PLAYBOOK_VARIABLES[name]: value for name, value in variables.items()}, names)


def _check_version_value(name: str, value: Any) -> str:
    try:
        return str(parse_version(value, name))
    except InvalidOption as exc:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise InvalidOption(
                name, value, exc.allowed, "Quote it: YAML reads an unquoted 9.55 as a number."
            ) from None
        raise


def _check_location_value(name: str, value: Any) -> str:
    try:
        return unified_setup.check_windows_path(name, value)
    except InvalidOption as exc:
        why = f"{exc.why} Unified Setup installs into a local folder [1.3].".strip()
        raise InvalidOption(name, value, INSTALL_LOCATION_ALLOWED, why) from None


def _volumes(info: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Fixed volumes by drive letter, from the survey (the raw probe) when present, else the cache drive."""
    volumes = fixed_volumes(((info.get("survey") or {}).get("host")) or {})
    cache = (info.get("asr") or {}).get("cache_drive") or {}
    if cache.get("drive") and str(cache["drive"]).upper() not in volumes:
        volumes[str(cache["drive"]).upper()] = {
            "filesystem": cache.get("filesystem"),
            "free_gb": cache.get("free_gb"),
            "size_gb": cache.get("size_gb"),
        }
    return volumes


def _check_os(asr: Mapping[str, Any]) -> list[Blocker]:
    os_info = asr.get("os") or {}
    version = str(os_info.get("version") or "")
    if any(version == key or version.startswith(key + ".") for key in SUPPORTED_OS):
        return []
    supported = " or ".join(f"{name} ({key})" for key, name in SUPPORTED_OS.items())
    return [
        Blocker(
            "os_unsupported",
            BLOCK,
            f"OS {os_info.get('caption') or 'unknown'} {version or ''}".rstrip()
            + f" is not supported for a classic process server; needs {supported} [2.1]",
        )
    ]


def _check_dotnet(asr: Mapping[str, Any]) -> list[Blocker]:
    dotnet = asr.get("dotnet_framework") or {}
    if dotnet.get("meets_setup_minimum") is not False:  # met, or not reported (an older probe): nothing to say
        return []
    severity = WARN if asr.get("installed") else BLOCK
    need = "an upgrade runs Unified Setup, which needs" if asr.get("installed") else "Unified Setup needs"
    return [
        Blocker(
            "dotnet_framework",
            severity,
            f".NET Framework {dotnet.get('version') or 'older than 4.5'} (release {dotnet.get('release')}): {need} "
            ".NET Framework 4.6.2 or later [1.3] and without it waits on a message box nobody sees; install 4.6.2 "
            "or later (4.8 is current) and reboot",
        )
    ]


def _check_location(info: Mapping[str, Any], expect: Mapping[str, Any]) -> list[Blocker]:
    asr = info["asr"]
    installed = bool(asr.get("installed"))
    system = str((asr.get("os") or {}).get("system_drive") or "C:").upper()
    location = asr.get("install_location") if installed else expect.get("install_location")
    volumes = _volumes(info)
    found: list[Blocker] = []
    if location:
        try:
            path = unified_setup.check_windows_path("install_location", location)
        except InvalidOption as exc:
            return [
                Blocker(
                    "install_location_invalid",
                    BLOCK,
                    f"install location {location} is not {INSTALL_LOCATION_ALLOWED}: {exc.why} [1.3]",
                )
            ]
        drive = path[:2]
        if drive == system[:2]:
            return [
                Blocker(
                    "install_location_system_drive",
                    BLOCK,
                    f"install location {location} is on the system drive {system}; the cache needs its own drive [2.1]",
                )
            ]
    else:
        cache = asr.get("cache_drive") or {}
        drive = str(cache.get("drive") or "").upper()
        if not drive or drive == system:
            return [
                Blocker("no_cache_drive", BLOCK, f"no fixed drive other than the system drive {system} for the cache")
            ]
    volume = volumes.get(drive)
    if volume is None:
        return [
            Blocker(
                "install_drive_missing",
                BLOCK,
                f"install location drive {drive} is not a fixed drive of the host "
                f"(fixed drives: {', '.join(sorted(volumes)) or 'none'})",
            )
        ]
    if str(volume.get("filesystem") or "").upper() != "NTFS":
        found.append(Blocker("not_ntfs", BLOCK, f"{drive} is formatted {volume.get('filesystem')}; setup needs NTFS"))
    free = float(volume.get("free_gb") or 0)
    if not expect.get("skip_space_check") and free < REQUIRED_FREE_GB:
        message = (
            f"{drive} has {free:g} GB free; Unified Setup needs {REQUIRED_FREE_GB} GB free on the install drive "
            f"[1.3] (or asr_skip_space_check, which a host built to the small tier's 300 GB cache disk [7.1] needs)"
        )
        found.append(Blocker("cache_space", WARN if installed else BLOCK, message))
    return found


def _check_reachability(asr: Mapping[str, Any]) -> list[Blocker]:
    check = (asr.get("checks") or {}).get("configuration_server")
    if not check or check.get("reachable"):
        return []
    return [
        Blocker(
            "cs_unreachable",
            BLOCK,
            f"configuration server {check.get('address')} not reachable on {check.get('port')} "
            f"({check.get('error') or 'no connection'})",
        )
    ]


def _check_reboot(asr: Mapping[str, Any]) -> list[Blocker]:
    reboot = asr.get("pending_reboot") or {}
    if not reboot.get("pending"):
        return []
    reasons = ", ".join(reboot.get("reasons") or []) or "pending"
    return [Blocker("pending_reboot", BLOCK, f"reboot pending ({reasons}); reboot before setup")]


def _installer_version(asr: Mapping[str, Any], expect: Mapping[str, Any]) -> tuple[Version | None, list[Blocker]]:
    if expect.get("installer_version"):
        return parse_version(expect["installer_version"]), []
    installer = (asr.get("checks") or {}).get("installer")
    if not expect.get("installer_path"):
        return None, []
    if not installer or not installer.get("exists"):
        return None, [
            Blocker("installer_missing", BLOCK, f"installer {expect['installer_path']} not found on the host")
        ]
    return version_or_none(installer.get("product_version") or installer.get("file_version")), []


def _check_versions(asr: Mapping[str, Any], expect: Mapping[str, Any]) -> list[Blocker]:
    installed = version_or_none(asr.get("build_version")) if asr.get("installed") else None
    cs = parse_version(expect["configuration_server_version"]) if expect.get("configuration_server_version") else None
    installer, found = _installer_version(asr, expect)
    if cs is None:
        found.append(Blocker("cs_version_unknown", WARN, "configuration server version unknown: PS <= CS not checked"))
    if installed and cs and installed > cs:
        found.append(Blocker("ps_newer_than_cs", BLOCK, f"installed {installed} is newer than the CS's {cs} [3.1]"))
    if installer and cs and installer > cs:
        found.append(
            Blocker(
                "installer_newer_than_cs",
                BLOCK,
                f"installer {installer} is newer than the CS's {cs}: upgrade the CS first [3.1]",
            )
        )
    if installer and installed:
        if installer < installed:
            found.append(Blocker("downgrade", BLOCK, f"installer {installer} is older than the installed {installed}"))
        elif installer.major == installed.major and installer.minor - installed.minor > MAX_MINOR_HOP:
            found.append(
                Blocker(
                    "beyond_n4",
                    BLOCK,
                    f"{installed} -> {installer} jumps over {MAX_MINOR_HOP} minor versions (N-4, setup exits 203): "
                    "upgrade in hops [4]",
                )
            )
    elif installed and cs and cs.major == installed.major and cs.minor - installed.minor > MAX_MINOR_HOP:
        found.append(
            Blocker(
                "beyond_n4",
                WARN,
                f"installed {installed} is more than {MAX_MINOR_HOP} minor versions behind the CS's {cs}: "
                "upgrade in hops [4]",
            )
        )
    return found


def _check_sizing(asr: Mapping[str, Any], expect: Mapping[str, Any]) -> list[Blocker]:
    """The one sizing verdict of a scale-out process server [7.1]; the free-space rule is _check_location's."""
    facts = sizing.HostFacts(**asr["sizing"]["host_facts"])
    assessment = sizing.assess_host(facts, sizing.PROCESS_SERVER)
    if assessment.tier is None:
        return [
            Blocker(
                "no_tier",
                BLOCK,
                f"qualifies for no tier {sizing.SCALE_OUT_PS_TABLE}: " + "; ".join(assessment.shortfalls),
            )
        ]
    load = expect.get("planned_load")
    if not load:
        return []
    planned = sizing.planned_load_from(load)
    verdict = sizing.assess_host(facts, sizing.PROCESS_SERVER, planned)
    if verdict.ok:
        return []
    return [
        Blocker(
            "undersized",
            BLOCK,
            f"tier {assessment.tier.name} {assessment.tier.source} cannot carry {planned.protected_machines} "
            f"machines / {planned.daily_churn_gb:g} GB/day: " + "; ".join(verdict.shortfalls),
        )
    ]


def _check_health(asr: Mapping[str, Any]) -> list[Blocker]:
    report = asr.get("health") or {}
    found = []
    for alert in report.get("alerts") or []:
        severity = BLOCK if alert.get("level") == "critical" else WARN
        found.append(Blocker(f"health_{alert.get('metric')}", severity, str(alert.get("message"))))
    return found


def evaluate(asr_info: Mapping[str, Any], expectations: Mapping[str, Any] | None = None) -> list[Blocker]:
    """Every finding for one host, blockers first. ``asr_info`` is an ``info`` result (or its ``asr`` alone).

    ``expectations`` keys (all optional): ``install_location``, ``skip_space_check``,
    ``configuration_server_version``, ``installer_version``, ``installer_path``, ``planned_load``; a bad value
    raises :class:`InvalidOption` (see :func:`check_expectations`).
    """
    expect = check_expectations(expectations)
    if not isinstance(asr_info, Mapping):
        return [Blocker("survey_failed", BLOCK, "no info result for this host")]
    if asr_info.get("unreachable"):
        return [Blocker("unreachable", BLOCK, f"host unreachable: {asr_info.get('msg') or 'no connection'}")]
    if asr_info.get("failed"):
        return [Blocker("survey_failed", BLOCK, f"info failed: {asr_info.get('msg') or 'unknown error'}")]
    info = asr_info if "asr" in asr_info else {"asr": asr_info}
    asr = info["asr"]
    if asr.get("installed") and asr.get("role") == sizing.CONFIGURATION_SERVER:
        return [
            Blocker("is_configuration_server", BLOCK, "host is a configuration server, not a scale-out process server")
        ]
    found = [
        *_check_os(asr),
        *_check_dotnet(asr),
        *_check_location(info, expect),
        *_check_reachability(asr),
        *_check_reboot(asr),
        *_check_versions(asr, expect),
        *_check_sizing(asr, expect),
        *_check_health(asr),
    ]
    return sorted(found, key=lambda b: b.severity != BLOCK)


def verdict_line(name: str, findings: list[Mapping[str, Any]], width: int = 0) -> str:
    """``name  OK`` or ``name  BLOCKED: reason; reason`` (warnings appended as ``(warnings: ...)``)."""
    blocks = [f["message"] for f in findings if f["severity"] == BLOCK]
    warns = [f["message"] for f in findings if f["severity"] == WARN]
    line = f"{name:<{width}}  " + ("BLOCKED: " + "; ".join(blocks) if blocks else "OK")
    if warns:
        line += " (warnings: " + "; ".join(warns) + ")"
    return line
