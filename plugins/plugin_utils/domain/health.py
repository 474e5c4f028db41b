# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Process server health: the portal's warning and critical alerts, and whether a server is green for new load.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Thresholds are exactly those of the monitoring document [7.5] (evaluated by the portal over 15-minute
windows; this module evaluates whatever sample it is given). The troubleshooting document's best practice
[2.3] is stricter: keep CPU and memory below 70 % and cache free space above 25 % (below 20 % replication
is throttled). Those are advice, not alerts, so they are not used here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable, require_name, require_number, require_percent
from .errors import InvalidOption

HEALTHY = "healthy"
WARNING = "warning"
CRITICAL = "critical"
_RANK = {HEALTHY: 0, WARNING: 1, CRITICAL: 2}

# [7.5] Warning / critical thresholds.
CPU_WARNING_PERCENT = 80
CPU_CRITICAL_PERCENT = 95
MEMORY_WARNING_PERCENT = 80
MEMORY_CRITICAL_PERCENT = 95
CACHE_FREE_WARNING_PERCENT = 30
CACHE_FREE_CRITICAL_PERCENT = 25
UPLOAD_WARNING_MINUTES = 30
UPLOAD_CRITICAL_MINUTES = 45
HEARTBEAT_CRITICAL_MINUTES = 15
# [7.5] Selection guidance: a green server "can take ~30 % more load".
NEW_LOAD_HEADROOM = 0.3

EVENT_MANAGER_LOGS = r"C:\ProgramData\ASR\home\svsystems\eventmanager*.log"
MONITOR_PROTECTION_LOGS = r"C:\ProgramData\ASR\home\svsystems\monitor_protection*.log"


@dataclass(frozen=True)
class HealthSample(Jsonable):
    """What a probe measured on a process server; ``None`` means not measured.

    ``upload_backlog_minutes`` is how long the pending (cached) data would take to upload at the current rate;
    ``heartbeat_age_minutes`` is the time since the configuration server last heard from the process server.
    """

    cpu_percent: float | None = None
    memory_percent: float | None = None
    cache_free_percent: float | None = None
    upload_backlog_minutes: float | None = None
    heartbeat_age_minutes: float | None = None
    services_not_running: Sequence[str] = ()

    def __post_init__(self) -> None:
        for option in ("cpu_percent", "memory_percent", "cache_free_percent"):
            if getattr(self, option) is not None:
                require_percent(option, getattr(self, option))
        for option in ("upload_backlog_minutes", "heartbeat_age_minutes"):
            if getattr(self, option) is not None:
                require_number(option, getattr(self, option), 0)
        if isinstance(self.services_not_running, str):
            raise InvalidOption("services_not_running", self.services_not_running, "a list of Windows service names")
        for service in self.services_not_running:
            require_name("services_not_running", service)


@dataclass
class HealthAlert(Jsonable):
    level: str
    metric: str
    value: Any
    threshold: Any
    message: str


@dataclass
class HealthReport(Jsonable):
    """Overall status (the worst alert), every alert, and whether the server is green for new load."""

    status: str
    alerts: list[HealthAlert] = field(default_factory=list)
    green_for_new_load: bool = False
    not_green_because: list[str] = field(default_factory=list)


def _usage_alert(metric: str, value: float | None, warning: float, critical: float, what: str) -> HealthAlert | None:
    # [7.5] "CPU > 80 %" warns, "> 95 %" is critical: strictly greater, as documented.
    if value is None or value <= warning:
        return None
    level, threshold = (CRITICAL, critical) if value > critical else (WARNING, warning)
    message = (
        f"{what} is at {value:g} % (over {threshold} %): move protected machines to another process server "
        "(Load balance) or add a scale-out process server [7.4]."
    )
    return HealthAlert(level, metric, value, threshold, message)


def _cache_alert(free: float | None) -> HealthAlert | None:
    if free is None or free >= CACHE_FREE_WARNING_PERCENT:
        return None
    critical = free < CACHE_FREE_CRITICAL_PERCENT
    threshold = CACHE_FREE_CRITICAL_PERCENT if critical else CACHE_FREE_WARNING_PERCENT
    message = (
        f"Cache drive free space is {free:g} % (under {threshold} %): data is arriving faster than it is uploaded; "
        "check upload bandwidth and the Microsoft Azure Recovery Services Agent (obengine), or move machines away."
    )
    return HealthAlert(CRITICAL if critical else WARNING, "cache_free_percent", free, threshold, message)


def _upload_alert(minutes: float | None) -> HealthAlert | None:
    # [7.5] Pending data that cannot be uploaded within 30 min warns, within 45 min is critical.
    if minutes is None or minutes <= UPLOAD_WARNING_MINUTES:
        return None
    critical = minutes > UPLOAD_CRITICAL_MINUTES
    threshold = UPLOAD_CRITICAL_MINUTES if critical else UPLOAD_WARNING_MINUTES
    message = (
        f"Pending data needs about {minutes:g} min to upload (more than {threshold} min): check that cbengine.exe is "
        r"uploading and %programfiles%\Microsoft Azure Recovery Services Agent\Temp\CBEngineCurr.errlog "
        "(error 78028: upload blocked)."
    )
    return HealthAlert(CRITICAL if critical else WARNING, "upload_backlog_minutes", minutes, threshold, message)


def _heartbeat_alert(age: float | None) -> HealthAlert | None:
    # [7.5] "No heartbeat for 15 min" is critical: an age of 15 minutes or more.
    if age is None or age < HEARTBEAT_CRITICAL_MINUTES:
        return None
    message = (
        f"No heartbeat from the process server for {age:g} min (error 806): check that the tmansvc service is "
        f"running and read {EVENT_MANAGER_LOGS} and {MONITOR_PROTECTION_LOGS}."
    )
    return HealthAlert(CRITICAL, "heartbeat_age_minutes", age, HEARTBEAT_CRITICAL_MINUTES, message)


def _services_alert(services: Sequence[str]) -> HealthAlert | None:
    if not services:
        return None
    message = (
        f"Process server services not running: {', '.join(services)}. Start them and set their start type to "
        "Automatic or Automatic (Delayed Start) (obengine excepted) [6.3]."
    )
    return HealthAlert(WARNING, "services_not_running", list(services), "all running", message)


def _green_blockers(sample: HealthSample, alerts: Sequence[HealthAlert]) -> list[str]:
    """Why the server is not green for new load ([7.5] selection guidance), empty when it is."""
    blockers = [f"{a.level} alert on {a.metric}" for a in alerts]
    for option in ("cpu_percent", "memory_percent", "cache_free_percent"):
        if getattr(sample, option) is None:
            blockers.append(f"{option} not measured")
    # Green means CPU and memory under 80 % and cache free over 30 %: at exactly 80 % / 30 % no alert is raised
    # yet the server is not green.
    limits = (
        ("cpu_percent", CPU_WARNING_PERCENT, "under"),
        ("memory_percent", MEMORY_WARNING_PERCENT, "under"),
        ("cache_free_percent", CACHE_FREE_WARNING_PERCENT, "over"),
    )
    for option, limit, side in limits:
        value = getattr(sample, option)
        if value is not None and (value >= limit if side == "under" else value <= limit):
            blockers.append(f"{option} {value:g} % is not {side} {limit} %")
    # Our reading of "able to take ~30 % more load": CPU and memory would stay within 100 % with 30 % more.
    for option in ("cpu_percent", "memory_percent"):
        value = getattr(sample, option)
        if value is not None and value * (1 + NEW_LOAD_HEADROOM) > 100:
            blockers.append(f"{option} {value:g} % leaves no room for ~30 % more load")
    return blockers


def evaluate_health(sample: HealthSample) -> HealthReport:
    """Alerts for ``sample`` as the portal raises them [7.5]; overall status is the worst alert."""
    candidates = (
        _usage_alert("cpu_percent", sample.cpu_percent, CPU_WARNING_PERCENT, CPU_CRITICAL_PERCENT, "CPU utilisation"),
        _usage_alert(
            "memory_percent", sample.memory_percent, MEMORY_WARNING_PERCENT, MEMORY_CRITICAL_PERCENT, "Memory usage"
        ),
        _cache_alert(sample.cache_free_percent),
        _upload_alert(sample.upload_backlog_minutes),
        _heartbeat_alert(sample.heartbeat_age_minutes),
        _services_alert(sample.services_not_running),
    )
    alerts = [a for a in candidates if a is not None]
    status = max((a.level for a in alerts), key=_RANK.__getitem__, default=HEALTHY)
    blockers = _green_blockers(sample, alerts)
    return HealthReport(status, alerts, not blockers, blockers)


# --- The rollout health gate -------------------------------------------------------------------------------------
# What the verify role (and the fleet playbooks' screening) decide from a module's result: is this process server
# healthy enough for a rollout to go on? Services per [6.3] (obengine, tmansvc: the heartbeat sender), registration
# with the configuration server [3.3], the configuration server answering on 443 [1.4], the build after an
# upgrade [4], and the heartbeat as the configuration server's database records it [5] (critical after 15 minutes
# [7.5]).
SURVEY = "survey"
CONVERGE_RESULT = "converge result"
REGISTRATION_RESULT = "registration result"
PROXY_RESULT = "proxy result"
HEARTBEAT_WHEN = ("always", "changed", "never")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _did_fail(result: Any) -> bool:
    data = _mapping(result)
    return bool(data.get("failed")) or bool(data.get("unreachable"))


def health_source(result: Any, services: bool = False, check_mode: bool = False) -> str:
    """What the verdict on ``result`` (a registered module result, or None) is derived from.

    ``survey`` (one asr.process_server.info call) when there is no result, when every service must be checked
    (``services``) or when the result does not carry the registration state. In check mode a result that
    predicts a change is judged as predicted: surveying the host would judge the state before the change.
    """
    if not isinstance(result, dict):
        return SURVEY
    if services and not (check_mode and result.get("changed")):
        return SURVEY
    registration_operation = _mapping(_mapping(result.get("operations")).get("registration"))
    if "registration" in registration_operation:
        return CONVERGE_RESULT
    if "registration" in result:
        return REGISTRATION_RESULT
    if "proxy" in result:
        return PROXY_RESULT
    return SURVEY


def _failure_text(result: dict[str, Any], default: str) -> str:
    return str(result.get("msg") or default)


def health_verdict(
    result: Any,
    survey: Any = None,
    *,
    services: bool = False,
    check_mode: bool = False,
    configuration_server_ip: str | None = None,
    expected_version: str | None = None,
    heartbeat: str = "changed",
    ip: str | None = None,
) -> dict[str, Any]:
    """The health gate's verdict from ``result`` (and ``survey``, an info result, when the source is a survey).

    Returns ``healthy``, ``problems`` (what an operator reads), ``source``, ``version`` and ``heartbeat_ip``: the
    address whose heartbeat must still be read on the configuration server (None when not wanted, not possible
    or not worth it because the host is already unhealthy); :func:`heartbeat_verdict` adds that reading.
    """
    if heartbeat not in HEARTBEAT_WHEN:
        raise InvalidOption("heartbeat", heartbeat, ", ".join(HEARTBEAT_WHEN))
    source = health_source(result, services, check_mode)
    converged = _mapping(result)
    info = _mapping(survey)
    asr = _mapping(info.get("asr")) if source == SURVEY else {}
    if source == SURVEY:
        registration = dict(_mapping(asr.get("registration")))
        checks = _mapping(asr.get("checks"))
        registration["configuration_server_reachable"] = _mapping(checks.get("configuration_server")).get("reachable")
        version = asr.get("build_version")
        installed = bool(asr.get("installed"))
        reregistered = False
    else:
        operation = _mapping(_mapping(converged.get("operations")).get("registration"))
        if source == CONVERGE_RESULT:
            registration = _mapping(operation.get("registration"))
            reregistered = bool(operation.get("changed"))
        else:
            registration = _mapping(converged.get("registration"))
            reregistered = source == REGISTRATION_RESULT and bool(converged.get("changed"))
        version = converged.get("version_after")
        installed = version is not None if source == CONVERGE_RESULT else True
    judged_registration = source in (SURVEY, CONVERGE_RESULT, REGISTRATION_RESULT)
    registered = bool(registration.get("registered"))
    listed_ip = registration.get("configuration_server_ip")
    problems: list[str] = []
    if source == SURVEY and (survey is None or _did_fail(info)):
        problems.append("the survey failed: " + _failure_text(info, "no result"))
    if source != SURVEY and _did_fail(converged):
        problems.append("the converge task failed: " + _failure_text(converged, ""))
    if not installed:
        problems.append("the process server is not installed")
    if expected_version and installed and version != expected_version:
        problems.append(f"build {version} is not the expected {expected_version}")
    down = list(asr.get("services_not_running") or [])
    if down:
        problems.append("services not running: " + ", ".join(str(s) for s in down))
    if judged_registration and installed and not registered:
        problems.append("not registered with a configuration server (no PS_CS_IP in amethyst.conf)")
    if judged_registration and registered and configuration_server_ip and listed_ip != configuration_server_ip:
        problems.append(f"registered with configuration server {listed_ip}, not {configuration_server_ip}")
    if (
        judged_registration
        and registered
        and registration.get("configuration_server_reachable") is False
        and not reregistered
    ):
        error = registration.get("configuration_server_error")
        problems.append(
            f"configuration server {listed_ip or '?'} does not answer on 443" + (f": {error}" if error else "")
        )
    if source in (CONVERGE_RESULT, REGISTRATION_RESULT) and registration.get("obengine") != "running":
        problems.append(
            f"obengine (Microsoft Azure Recovery Services Agent) is {registration.get('obengine') or 'missing'}"
        )
    if source in (CONVERGE_RESULT, REGISTRATION_RESULT) and installed and registration.get("tmansvc") != "running":
        problems.append(f"tmansvc (the heartbeat sender) is {registration.get('tmansvc') or 'missing'}")

    changed = bool(converged.get("changed"))
    wanted = heartbeat == "always" or (heartbeat == "changed" and changed)
    note = None
    if wanted and check_mode and changed:
        # The heartbeat after a change cannot be read before the change is made: predicted, not judged.
        wanted, note = False, "read after the change (not in check mode)"
    if wanted and not ip:
        problems.append("no asr_ip to find the process server in the configuration server's list")
    report: dict[str, Any] = {
        "healthy": not problems,
        "problems": problems,
        "source": source,
        "version": version,
        "heartbeat_ip": ip if wanted and ip and not problems else None,
    }
    if note:
        report["heartbeat"] = note
    return report


def heartbeat_verdict(
    report: dict[str, Any],
    registrations: Any,
    *,
    configuration_server: str | None = None,
    max_age_minutes: float = HEARTBEAT_CRITICAL_MINUTES,
) -> dict[str, Any]:
    """``report`` (from :func:`health_verdict`) judged against the configuration server's registrations [5].

    ``registrations`` is the registered result of asr.process_server.registration_info (the configuration server's
    database, read read-only), shared by every host of a batch: its ``process_servers`` rows carry ``ip`` and
    ``heartbeat_age_minutes``. A failed or unreachable read, or none at all, makes the host unhealthy: a heartbeat
    that could not be read never passes. Of several rows for one address (duplicate entries [5]) the freshest
    heartbeat counts.
    """
    ip = report.get("heartbeat_ip")
    if not ip:
        return dict(report)
    require_number("max_age_minutes", max_age_minutes, 0)
    where = f"configuration server {configuration_server}" if configuration_server else "the configuration server"
    data = _mapping(registrations)
    problems = list(report.get("problems") or [])
    age: float | None = None
    rows = data.get("process_servers")
    if not data or data.get("skipped"):
        problems.append(f"the heartbeat was not read on {where}")
    elif _did_fail(data) or not isinstance(rows, list):
        problems.append(f"the heartbeat read failed on {where}: {_failure_text(data, 'no result')}")
    else:
        mine = [r for r in rows if isinstance(r, dict) and r.get("ip") == ip]
        ages = [float(r["heartbeat_age_minutes"]) for r in mine if r.get("heartbeat_age_minutes") is not None]
        age = min(ages) if ages else None
        if not mine:
            problems.append(f"{where} has no process server registered with {ip}")
        elif age is None or age > max_age_minutes:
            problems.append(
                f"last heartbeat {'?' if age is None else f'{age:g}'} minutes ago (more than {max_age_minutes:g})"
            )
    return {**report, "healthy": not problems, "problems": problems, "heartbeat_age_minutes": age}


def screening_refusal(result: Any, host: str | None = None) -> str | None:
    """The message the rolling play fails a host with when its screening refused it, else None.

    A refusal (``refused: true`` in the module's result) is a decision the module made from its read-only probe
    before any change - for example a process server registered to another configuration server. The rolling play
    must not call the module on that host again (an action that differs from the check-mode run, such as the proxy
    procedure before the registration check, would change it first): it fails the host with the screening's own
    message, which says what is wrong and what to do, in its batch, so ``max_fail_percentage`` counts it. A failed
    task that is not a refusal (the probe itself failed) and an unreachable host are not refusals: the rolling play
    runs the module again, which probes first.
    """
    if not isinstance(result, dict) or not result.get("refused") or result.get("unreachable"):
        return None
    who = f"{host}: " if host else ""
    reason = str(result.get("msg") or "the module refused it").strip()
    return f"{who}refused by the screening (its read-only check, before any change): {reason}"


def needs_rollout(result: Any, *, verify: bool = True, heartbeat: str = "changed", services: bool = False) -> bool:
    """Whether a screened host (``result`` of its module task run in check mode) must go through the rolling play.

    It must when the task failed or the host was unreachable (the rolling play fails it in its batch, so
    ``max_fail_percentage`` stops the rollout as before; a host the screening refused is failed there with the
    screening's message, see :func:`screening_refusal`), when a change is predicted, or, with the health gate on
    (``verify``), when the gate needs more than the result (``heartbeat='always'``, ``services``) or the result
    shows an unhealthy host. A host that passes costs nothing more than its one probe.
    """
    if heartbeat not in HEARTBEAT_WHEN:
        raise InvalidOption("heartbeat", heartbeat, ", ".join(HEARTBEAT_WHEN))
    if not isinstance(result, dict) or _did_fail(result) or result.get("changed"):
        return True
    if not verify:
        return False
    if heartbeat == "always" or services or health_source(result) == SURVEY:
        return True
    return not health_verdict(result, heartbeat="never")["healthy"]


def rollout_hosts(
    results: dict[str, Any], *, verify: bool = True, heartbeat: str = "changed", services: bool = False
) -> list[str]:
    """The hosts of ``results`` (host name to screened result) that :func:`needs_rollout`, in the given order."""
    return [
        host
        for host, result in results.items()
        if needs_rollout(result, verify=verify, heartbeat=heartbeat, services=services)
    ]
