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

from .domain_checks import require_name, require_number, require_percent, to_jsonable
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
class HealthSample:
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

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass
class HealthAlert:
    level: str
    metric: str
    value: Any
    threshold: Any
    message: str

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass
class HealthReport:
    """Overall status (the worst alert), every alert, and whether the server is green for new load."""

    status: str
    alerts: list[HealthAlert] = field(default_factory=list)
    green_for_new_load: bool = False
    not_green_because: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


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
