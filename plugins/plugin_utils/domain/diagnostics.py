# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read what ``powershell/diagnose.ps1`` returns: the diagnostics file of a first real host.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

``asr.process_server.info`` with ``diagnose: true`` makes ONE read-only remote call (diagnose.ps1: the survey probe.ps1
makes, plus what no document settles: the shape of ``Get-OBMachineSetting``'s result, the package's version text and
fixed parts, FIPS, execution policies, .NET, Defender's attack surface reduction rules, the Add/Remove Programs
entries as they are, drscout.conf's location, the svsdb1 read on a configuration server...). :func:`document` turns
that result into the file ``playbooks/diagnose.yml`` writes (format :data:`DIAGNOSTICS_FORMAT`): the redacted survey
the lab imports as a seed (``lab/survey_import.py``), the diagnosis, and :func:`findings` -- what in it the
reference or the collection says matters, each with the section it comes from. Nothing in it is a secret: the host
reports configuration files and policy values by name and MARS settings by shape, scrubs its own secrets, and
:func:`redact` scrubs what looks like ``password=...`` in free text (a program's command line, a client's error).
Pure Python, no Ansible.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from . import product, registrations, uninstall_plan
from .errors import PlanningError
from .probe import DOTNET_RELEASES, PROBE_IDENTITY, ProbeRequest, dotnet_version, to_survey

DIAGNOSTICS_FORMAT = "asr.process_server.diagnostics/v1"
DIAGNOSE_IDENTITY = "diagnose v1"
HIDDEN = "********"
# Add/Remove Programs entries and services whose names contain one of these are recorded whole, besides the
# products the collection knows (uninstall_plan.KNOWN_PRODUCTS) [6.1, 6.3]: what else setup may have installed.
RELATED_NAMES = ("Site Recovery", "Recovery Services", "InMage", "MySQL", "svsystems")
# Microsoft, "Attack surface reduction rules reference": "Block process creations originating from PSExec and WMI
# commands"; actions as Get-MpPreference lists them: 0 not configured/disabled, 1 block, 2 audit, 6 warn.
WMI_PROCESS_CREATION_RULE = "d1e49aac-8f56-4280-b9ba-993a6d77406c"
RULE_ACTIONS = {0: "not configured", 1: "block", 2: "audit", 6: "warn"}
MINIMUM_DOTNET = "4.6.2"  # [1.3]
# diagnose.ps1's parts (besides the survey); each is a dict, or {"error": ...} when reading it failed
PARTS = (
    "powershell",
    "os",
    "fips",
    "execution_policy",
    "dotnet_framework",
    "defender",
    "mars",
    "package",
    "uninstall",
    "registry",
    "services",
    "amethyst_conf",
    "cxps_conf",
    "drscout_conf",
    "setup_logs",
    "configuration_server_database",
)
_SECRET_WORD = r"(?:password|passwd|pwd|passphrase|secret|token)"
# key=value / key: value where the key names a secret (ProxyPassword="x", DB_PASSWD = x, token: x)
_ASSIGNED = re.compile(rf"(?i)\b(\w*{_SECRET_WORD}\w*)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s\"',;&]+)")
# a command-line switch that names a secret, then its value (--password x, /Password:x, -ProxyPassword x)
_SWITCH = re.compile(rf"(?i)((?<![\w])(?:--?|/)\w*{_SECRET_WORD}\w*)(\s+|[=:])(\"[^\"]*\"|'[^']*'|[^\s\"']+)")


def diagnose_parameters(request: ProbeRequest) -> dict[str, Any]:
    """diagnose.ps1's ``param()`` values: the probe's (:meth:`ProbeRequest.script_parameters`) plus related names."""
    return {**request.script_parameters(), "RelatedNames": list(RELATED_NAMES)}


# ---- secrets ----------------------------------------------------------------------------------------------
def redact_text(text: str) -> str:
    """``text`` with the value of every ``<secret name>=value`` and ``--<secret name> value`` hidden."""
    text = _SWITCH.sub(lambda m: m.group(1) + m.group(2) + HIDDEN, text)
    return _ASSIGNED.sub(lambda m: m.group(1) + m.group(2) + HIDDEN, text)


def redact(value: Any, secrets: set[str] | frozenset[str] = frozenset()) -> Any:
    """Every string in ``value`` (dicts and lists walked) without ``secrets`` and without assigned secret values."""
    if isinstance(value, dict):
        return {k: redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in sorted((s for s in secrets if s), key=len, reverse=True):
            value = value.replace(secret, HIDDEN)
        return redact_text(value)
    return value


# ---- the configuration server's database ------------------------------------------------------------------
def database_answer(read: dict[str, Any] | None) -> dict[str, Any]:
    """Whether the documented svsdb1 read [5] answered with the credentials at hand, and what it said (no row but
    the process servers', no password): registrations.py judges the read as registration_info does."""
    if not isinstance(read, dict) or "is_configuration_server" not in read:
        return {"configuration_server": None, "answered": None, "problem": (read or {}).get("error")}
    if not read.get("is_configuration_server"):
        return {"configuration_server": False, "answered": None, "problem": None}
    problem = registrations.read_problem(read)
    stdout = str(read.get("stdout") or "")
    first = stdout.split("\n", 1)[0].rstrip("\r")
    rows: list[registrations.HostRow] = []
    if problem is None:
        try:
            rows = registrations.parse_batch(stdout)
        except PlanningError as exc:
            problem = str(exc)
    return {
        "configuration_server": True,
        "answered": problem is None,
        "problem": problem,
        "client": read.get("mysql_client"),
        "client_source": read.get("mysql_client_source"),
        "credentials": read.get("credentials"),
        "credentials_missing": list(read.get("credentials_missing") or []),
        "rc": read.get("rc"),
        "columns": first.split("\t") if first else None,
        "rows": len(rows) if problem is None else None,
        "process_servers": [row.to_dict() for row in registrations.registered_process_servers(rows)],
        "stderr": read.get("stderr") or None,
    }


# ---- findings ---------------------------------------------------------------------------------------------
Finding = dict[str, str]


def _finding(code: str, severity: str, message: str, reference: str) -> Finding:
    return {"code": code, "severity": severity, "message": message, "reference": reference}


def _language_mode(parts: dict[str, Any]) -> list[Finding]:
    mode = (parts.get("powershell") or {}).get("language_mode")
    if mode in (None, "FullLanguage"):
        return []
    message = f"PowerShell runs in {mode}: the collection's scripts need FullLanguage (an application control policy)."
    return [_finding("language_mode", "block", message, "PowerShell about_Language_Modes")]


def _powershell_version(parts: dict[str, Any]) -> list[Finding]:
    version = str((parts.get("powershell") or {}).get("version") or "")
    if not version or tuple(int(p) for p in re.findall(r"\d+", version)[:2]) >= (5, 1):
        return []
    message = f"Windows PowerShell {version}: the collection's scripts are written for 5.1 (install WMF 5.1)."
    return [_finding("powershell_version", "block", message, "README (supported hosts)")]


def _fips(parts: dict[str, Any]) -> list[Finding]:
    if (parts.get("fips") or {}).get("enabled") != 1:
        return []
    message = "The FIPS policy is on (FipsAlgorithmPolicy Enabled = 1): the requirements say FIPS mode must be off."
    return [_finding("fips_enabled", "warning", message, "[2.1]")]


def _dotnet(parts: dict[str, Any]) -> list[Finding]:
    dotnet = parts.get("dotnet_framework")
    if not isinstance(dotnet, dict) or "release" not in dotnet:
        return []  # not read (its error is a part_failed finding)
    release = dotnet["release"]
    if release is not None and int(release) >= DOTNET_RELEASES[MINIMUM_DOTNET]:
        return []
    have = "no .NET Framework 4.x release" if release is None else f".NET Framework {dotnet_version(release)}"
    message = f"{have}: Unified Setup needs .NET Framework {MINIMUM_DOTNET} or later (else it waits on a message box)."
    return [_finding("dotnet_framework", "warning" if release is None else "block", message, "[1.3]")]


def _locale(parts: dict[str, Any]) -> list[Finding]:
    culture = str((parts.get("os") or {}).get("culture") or "")
    if not culture or culture.lower().startswith("en-"):
        return []
    message = f"The session's culture is {culture}: the requirements ask for an English (en-*) locale."
    return [_finding("locale", "warning", message, "[2.1]")]


def _group_policy(parts: dict[str, Any]) -> list[Finding]:
    scopes = {s.get("scope"): s.get("policy") for s in (parts.get("execution_policy") or {}).get("scopes") or []}
    return [
        _finding(
            "execution_policy_group_policy",
            "warning",
            f"A group policy sets the execution policy ({scope} {scopes[scope]}): the requirements ask not to enable "
            "'Turn on Script Execution'. The collection starts its PowerShell as commands, which it does not block.",
            "[2.1]",
        )
        for scope in ("MachinePolicy", "UserPolicy")
        if scopes.get(scope) not in (None, "Undefined")
    ]


def _wmi_rule(parts: dict[str, Any]) -> list[Finding]:
    found = []
    for rule in (parts.get("defender") or {}).get("attack_surface_reduction_rules") or []:
        action = rule.get("action")
        if str(rule.get("id", "")).lower() != WMI_PROCESS_CREATION_RULE or action not in (1, 2, 6):
            continue
        message = (
            "Defender's attack surface reduction rule 'Block process creations originating from PSExec and WMI "
            f"commands' is in {RULE_ACTIONS[action]} mode: install and upgrade start their setup runner through WMI "
            "(Win32_Process.Create)."
        )
        reference = "Microsoft attack surface reduction rules reference"
        found.append(
            _finding("asr_rule_wmi_process_creation", "block" if action == 1 else "warning", message, reference)
        )
    return found


def _package_version(parts: dict[str, Any]) -> list[Finding]:
    package = parts.get("package") or {}
    text, fixed = package.get("file_version"), package.get("file_version_parts")
    if not text or not fixed:
        return []
    leading = [int(p) for p in re.findall(r"\d+", str(text))[:4]]
    if leading + [0] * (4 - len(leading)) == list(fixed):
        return []
    message = (
        f"The package's version text '{text}' is not its fixed version {'.'.join(str(p) for p in fixed)}: the "
        "collection compares the fixed parts."
    )
    return [_finding("package_version_text", "info", message, "issue 15 (installer version)")]


def _drscout(parts: dict[str, Any]) -> list[Finding]:
    drscout = parts.get("drscout_conf") or {}
    entries = (parts.get("uninstall") or {}).get("entries") or []
    master_target = any("Master Target" in str((e.get("values") or {}).get("DisplayName", "")) for e in entries)
    if not master_target or "candidates" not in drscout or drscout.get("found"):
        return []
    message = "The master target is installed but drscout.conf is at none of the places the reference names."
    return [_finding("drscout_conf", "info", message, "[6.5]")]


def _missing_services(parts: dict[str, Any]) -> list[Finding]:
    missing = (parts.get("services") or {}).get("missing") or []
    expected = [name for name in missing if name in product.PROCESS_SERVER_SERVICES]
    if not expected or not (parts.get("uninstall") or {}).get("entries"):
        return []
    message = f"Services the process server runs are not on this host: {', '.join(expected)}."
    return [_finding("services_missing", "info", message, "[6.3]")]


def _database(parts: dict[str, Any]) -> list[Finding]:
    database = parts.get("configuration_server_database") or {}
    if not database.get("configuration_server") or database.get("answered"):
        return []
    message = f"The documented svsdb1 read did not answer: {database.get('problem')}"
    return [_finding("svsdb_read", "warning", message, "[5], docs/runbooks/registrations.md")]


def _failed_parts(parts: dict[str, Any]) -> list[Finding]:
    return [
        _finding("part_failed", "warning", f"The part '{name}' could not be read: {part['error']}", "diagnose.ps1")
        for name, part in parts.items()
        if isinstance(part, dict) and set(part) == {"error"}
    ]


CHECKS = (
    _language_mode,
    _powershell_version,
    _fips,
    _dotnet,
    _locale,
    _group_policy,
    _wmi_rule,
    _package_version,
    _drscout,
    _missing_services,
    _database,
    _failed_parts,
)


def findings(parts: dict[str, Any]) -> list[Finding]:
    """What in the diagnosis the reference or the collection says matters (severity block, warning or info), and
    every part that could not be read."""
    return [found for check in CHECKS for found in check(parts)]


# ---- the document -----------------------------------------------------------------------------------------
def survey_part(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The probe result inside diagnose.ps1's result, or None when the survey could not be made."""
    part = raw.get("survey")
    if not isinstance(part, dict) or part.get("probe") != PROBE_IDENTITY:
        return None
    return part


def document(
    raw: dict[str, Any], *, generated: str, secrets: set[str] | frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The diagnostics file: format, when, the redacted survey (a lab seed), the diagnosis and its findings."""
    if raw.get("diagnose") != DIAGNOSE_IDENTITY:
        raise PlanningError(
            f"The host answered {raw.get('diagnose')!r}, not {DIAGNOSE_IDENTITY!r}: a collection bug, please report it."
        )
    probe = survey_part(raw)
    parts = {name: copy.deepcopy(raw.get(name)) for name in PARTS}
    parts["configuration_server_database"] = database_answer(raw.get("configuration_server_database"))
    parts["products"] = _identified_products(parts.get("uninstall") or {})
    doc = {
        "format": DIAGNOSTICS_FORMAT,
        "generated": generated,
        "diagnose": DIAGNOSE_IDENTITY,
        "survey": to_survey(probe) if probe is not None else None,
        "survey_error": None if probe is not None else (raw.get("survey") or {}).get("error"),
        "diagnostics": parts,
        "findings": findings(parts),
    }
    return redact(doc, set(secrets))


def _identified_products(uninstall: dict[str, Any]) -> dict[str, str]:
    """Which known product each recorded Add/Remove Programs key is (key name -> product key) [6.1]."""
    named = {}
    for entry in uninstall.get("entries") or []:
        known = uninstall_plan.identify(str((entry.get("values") or {}).get("DisplayName") or ""))
        if known is not None:
            named[str(entry.get("key_name"))] = known.key
    return named
