# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizing tiers of a scale-out process server and of a configuration server with its in-built process server.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Units: every size is in GB where **1 TB = 1024 GB**, everywhere in the collection (tiers, churn, reports).
The documents write "1 TB" cache disks and "1 TB to 2 TB" of daily change without saying which TB; a
"1 TB" virtual disk in vSphere or Azure is 1024 GiB and Windows reports disk sizes in GiB (labelled "GB"),
so the binary reading is the one that matches what a host reports. The decimal reading would differ by 2.4 %.

Tier bounds: the 2017/2018 tables give overlapping ranges ("250 GB or less" then "250 GB to 1 TB"; "85 or
fewer" then "between 85 and 150"); the 2021 revision made them disjoint (251 GB-1 TB, 86-150). Both read
the same with inclusive upper bounds, which is what this module uses: 85 machines fit the 4 vCPU tier.

Which table decides (one verdict, :func:`assess_host`). The seed (the 2017 scale-out process server article)
holds two hardware tables: its prerequisites include the page shared with the configuration server [2.1]
(8 cores, 16 GB -- 12 GB in 2017 [2.2] --, 600 GB free for the cache and 600 GB for retention), then a note
that capacity planning decides the configuration for the load, and its own section "sizing requirements for a
scale-out process server" [7.1], whose smallest row is 4 vCPU, 8 GB, 300 GB for up to 85 machines and
250 GB/day. For a **scale-out process server** the seed's own, load-based table [7.1] decides: a host built to
its small row is a supported process server for that load. [2.1]'s cores and memory are the configuration
server's smallest row [7.2] (8 vCPU, 16 GB), which is the table a **configuration server** is sized by. What
[2.1] adds that the tiers do not say is enforced where it applies, not as a second sizing verdict: the 600 GB
free on the cache drive is Unified Setup's own space check [1.3] (preflight ``cache_space``, the install
module; a small-tier host's 300 GB cache disk installs with ``skip_space_check``), and the retention drive is
reported as a note when its free space is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable, require_choice, require_int, require_number
from .errors import InvalidOption

GB_PER_TB = 1024
# [7.3] One process server handles up to 2 TB/day; a protected machine uses exactly one process server,
# so 2 TB/day is also the most a single source machine may change.
MAX_DAILY_CHURN_PER_PROCESS_SERVER_GB = 2 * GB_PER_TB

# Windows reports visible memory below the installed RAM (hardware-reserved pages) and a formatted cache
# volume slightly below its disk, so a host built to a tier reports a little less than the tier's figure.
# Memory and cache disk minimums are met within this fraction; vCPU counts are compared exactly.
REPORTED_SIZE_TOLERANCE = 0.03

PROCESS_SERVER = "process_server"
CONFIGURATION_SERVER = "configuration_server"
ROLES = (PROCESS_SERVER, CONFIGURATION_SERVER)


@dataclass(frozen=True)
class Tier(Jsonable):
    """One documented sizing row: the host it needs and the load it carries (upper bounds inclusive)."""

    name: str
    role: str
    vcpus: int
    sockets: int
    cores_per_socket: int
    memory_gb: int
    cache_disk_gb: int
    max_daily_churn_gb: int
    max_protected_machines: int
    source: str  # the reference section of the table the row comes from

    def describe(self) -> str:
        return (
            f"{self.name} {self.source}: {self.vcpus} vCPU, {self.memory_gb} GB memory, "
            f"{self.cache_disk_gb} GB cache disk"
        )


# [7.1] Scale-out process server, seed (fr, 2017) table and 2018/2021 revisions: numbers unchanged, only the
# range wording drifted (see module docstring). Clock speed 2.5 GHz in every row. Rows assume each source
# machine has 3 x 100 GB disks.
SCALE_OUT_PS_TABLE = "[7.1]"
SCALE_OUT_PS_TIERS: tuple[Tier, ...] = (
    Tier("small", PROCESS_SERVER, 4, 2, 2, 8, 300, 250, 85, SCALE_OUT_PS_TABLE),
    Tier("medium", PROCESS_SERVER, 8, 2, 4, 12, 600, 1 * GB_PER_TB, 150, SCALE_OUT_PS_TABLE),
    Tier("large", PROCESS_SERVER, 12, 2, 6, 24, 1 * GB_PER_TB, 2 * GB_PER_TB, 225, SCALE_OUT_PS_TABLE),
)

# [7.2] Configuration server with its in-built process server. "< 100" machines in the first row, then
# "100 to 150" (2021 keeps 100-150) and "150 to 200" (2021: 151-200); daily change "500 GB or less", then
# "500 GB to 1 TB" (2021: 501 GB-1 TB), then "1 TB to 2 TB".
# Its smallest row (8 vCPU, 16 GB) is also the cores and memory of the requirements page [2.1].
CONFIGURATION_SERVER_TABLE = "[7.2]"
CONFIGURATION_SERVER_TIERS: tuple[Tier, ...] = (
    Tier("small", CONFIGURATION_SERVER, 8, 2, 4, 16, 300, 500, 99, CONFIGURATION_SERVER_TABLE),
    Tier("medium", CONFIGURATION_SERVER, 12, 2, 6, 18, 600, 1 * GB_PER_TB, 150, CONFIGURATION_SERVER_TABLE),
    Tier("large", CONFIGURATION_SERVER, 16, 2, 8, 32, 1 * GB_PER_TB, 2 * GB_PER_TB, 200, CONFIGURATION_SERVER_TABLE),
)

_TIERS_BY_ROLE = {PROCESS_SERVER: SCALE_OUT_PS_TIERS, CONFIGURATION_SERVER: CONFIGURATION_SERVER_TIERS}
TABLES = {
    PROCESS_SERVER: f"{SCALE_OUT_PS_TABLE} scale-out process server sizing",
    CONFIGURATION_SERVER: f"{CONFIGURATION_SERVER_TABLE} configuration server (in-built process server) sizing",
}

# [1.3] Unified Setup refuses an install location with less than 600 GB free unless /SkipSpaceCheck; the
# requirements page [2.1] states the same 600 GB as "free for the process server cache".
SETUP_FREE_SPACE_GB = 600
# [2.1] 600 GB free on a retention drive (used for failback); not part of any sizing row.
RETENTION_FREE_GB = 600


@dataclass(frozen=True)
class HostFacts(Jsonable):
    """What a host offers: vCPUs, memory and its cache disk size (GB); cache and retention free space if known."""

    vcpus: int
    memory_gb: float
    cache_disk_gb: float
    cache_free_gb: float | None = None
    retention_free_gb: float | None = None

    def __post_init__(self) -> None:
        require_int("vcpus", self.vcpus, 1)
        require_number("memory_gb", self.memory_gb, 0, above=True)
        require_number("cache_disk_gb", self.cache_disk_gb, 0)
        if self.cache_free_gb is not None:
            require_number("cache_free_gb", self.cache_free_gb, 0)
        if self.retention_free_gb is not None:
            require_number("retention_free_gb", self.retention_free_gb, 0)


@dataclass(frozen=True)
class PlannedLoad(Jsonable):
    """The replication load planned for one server: protected machines and their total daily churn (GB/day)."""

    protected_machines: int
    daily_churn_gb: float

    def __post_init__(self) -> None:
        require_int("protected_machines", self.protected_machines, 0)
        require_number("daily_churn_gb", self.daily_churn_gb, 0)


PLANNED_LOAD_KEYS = ("protected_machines", "daily_churn_gb")


def planned_load_from(value: Any, option: str = "planned_load") -> PlannedLoad:
    """Read a planned load given as a mapping ``{protected_machines, daily_churn_gb}`` (an operator's variable).

    Numbers written as strings (``"10"``, ``"5.5"``) are read as numbers, as YAML and ``-e`` may give them.
    Anything else fails with :class:`InvalidOption` naming ``option`` and the key, e.g.
    ``asr_planned_load.daily_churn_gb``.
    """
    allowed_keys = ", ".join(PLANNED_LOAD_KEYS)
    if not isinstance(value, Mapping):
        raise InvalidOption(option, value, f"a mapping with the keys {allowed_keys}")
    unknown = sorted(str(k) for k in value if k not in PLANNED_LOAD_KEYS)
    missing = [k for k in PLANNED_LOAD_KEYS if k not in value]
    if unknown or missing:
        why = "; ".join(
            part
            for part in (
                f"unknown keys: {', '.join(unknown)}" if unknown else "",
                f"missing keys: {', '.join(missing)}" if missing else "",
            )
            if part
        )
        raise InvalidOption(option, value, f"a mapping with the keys {allowed_keys}", why.capitalize() + ".")
    machines, churn = number_text(value["protected_machines"], int), number_text(value["daily_churn_gb"])
    try:
        return PlannedLoad(machines, churn)  # type: ignore[arg-type]
    except InvalidOption as exc:
        raise InvalidOption(f"{option}.{exc.option}", exc.value, exc.allowed, exc.why) from None


_TRUE, _FALSE = ("true", "yes", "on", "1"), ("false", "no", "off", "0")


def bool_text(value: Any) -> Any:
    """A yes/no, true/false, on/off or 1/0 string (as ``-e name=value`` gives it) as a bool, else unchanged."""
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    return value


def number_text(value: Any, kind: type = float) -> Any:
    """A string holding a number (as ``-e name=value`` gives it) converted by ``kind``, else ``value`` unchanged."""
    if isinstance(value, str):
        try:
            return kind(value.strip())
        except ValueError:
            return value
    return value


@dataclass
class HostQualification(Jsonable):
    """The highest tier a host meets every minimum of, or ``None`` with its shortfalls against the smallest."""

    tier: Tier | None
    shortfalls: list[str] = field(default_factory=list)


@dataclass
class LoadRequirement(Jsonable):
    """The smallest tier that carries a load, or ``None`` when one server cannot (then ``reason`` says why)."""

    tier: Tier | None
    reason: str = ""


@dataclass
class SizingVerdict(Jsonable):
    """Whether a host can carry a planned load, with each shortfall as a sentence."""

    fits: bool
    host_tier: Tier | None
    needed_tier: Tier | None
    shortfalls: list[str] = field(default_factory=list)


@dataclass
class HostAssessment(Jsonable):
    """THE sizing verdict of a host for its role: ``ok``, one sentence, the table it was judged by.

    ``tier`` is the highest row met; with a planned load, ``needed_tier`` is the row the load needs and ``ok``
    says whether the host meets it; without one, ``ok`` says whether it meets the smallest row. ``notes`` are
    what other reference sections ask that a sizing row does not (setup's free-space check [1.3], the
    retention drive [2.1]): worth acting on, never a second verdict.
    """

    role: str
    table: str
    ok: bool
    verdict: str
    tier: Tier | None
    needed_tier: Tier | None = None
    shortfalls: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def tiers_for(role: str = PROCESS_SERVER) -> tuple[Tier, ...]:
    """The documented tiers of ``role`` (``process_server`` or ``configuration_server``), smallest first."""
    return _TIERS_BY_ROLE[require_choice("role", role, ROLES)]


def get_tier(name: str, role: str = PROCESS_SERVER) -> Tier:
    """The tier called ``name`` for ``role``; unknown names fail naming the option ``tier``."""
    tiers = tiers_for(role)
    require_choice("tier", name, [t.name for t in tiers], f"Tiers of a {role.replace('_', ' ')} [7.1, 7.2].")
    return next(t for t in tiers if t.name == name)


def _meets(have: float, need: float, tolerance: float) -> bool:
    return have >= need * (1 - tolerance)


def _host_shortfalls(facts: HostFacts, tier: Tier, tolerance: float) -> list[tuple[str, float, float]]:
    """(option, has, needs) for every minimum of ``tier`` the host misses."""
    checks = (
        ("vcpus", facts.vcpus, tier.vcpus, 0.0),
        ("memory_gb", facts.memory_gb, tier.memory_gb, tolerance),
        ("cache_disk_gb", facts.cache_disk_gb, tier.cache_disk_gb, tolerance),
    )
    return [(option, have, need) for option, have, need, tol in checks if not _meets(have, need, tol)]


_UNIT = {"vcpus": "vCPU", "memory_gb": "GB memory", "cache_disk_gb": "GB cache disk"}


def qualifying_tier(
    facts: HostFacts, role: str = PROCESS_SERVER, tolerance: float = REPORTED_SIZE_TOLERANCE
) -> HostQualification:
    """The highest tier of ``role`` whose every minimum the host meets, else ``None`` and what it lacks."""
    require_number("tolerance", tolerance, 0)
    tiers = tiers_for(role)
    for tier in reversed(tiers):
        if not _host_shortfalls(facts, tier, tolerance):
            return HostQualification(tier)
    smallest = tiers[0]
    shortfalls = [
        f"{option}: host has {have:g}, the smallest tier ({smallest.describe()}) needs {need:g} {_UNIT[option]}"
        for option, have, need in _host_shortfalls(facts, smallest, tolerance)
    ]
    return HostQualification(None, shortfalls)


def required_tier(load: PlannedLoad, role: str = PROCESS_SERVER) -> LoadRequirement:
    """The smallest tier of ``role`` that covers both the machine count and the daily churn of ``load``."""
    tiers = tiers_for(role)
    for tier in tiers:
        if load.protected_machines <= tier.max_protected_machines and load.daily_churn_gb <= tier.max_daily_churn_gb:
            return LoadRequirement(tier)
    largest = tiers[-1]
    over = []
    if load.protected_machines > largest.max_protected_machines:
        over.append(f"{load.protected_machines} protected machines (at most {largest.max_protected_machines})")
    if load.daily_churn_gb > largest.max_daily_churn_gb:
        over.append(f"{load.daily_churn_gb:g} GB/day of churn (at most {largest.max_daily_churn_gb} GB/day, 2 TB)")
    # [7.2, 7.3] Beyond the largest row the documents say to deploy another process server.
    reason = f"more than one process server needed: {' and '.join(over)} exceed the largest {role} tier [7.1-7.3]"
    return LoadRequirement(None, reason)


def _load_drivers(load: PlannedLoad, needed: Tier, tiers: tuple[Tier, ...]) -> str:
    """Which part of the load pushed it into ``needed`` (machines, churn or both), for shortfall sentences."""
    index = tiers.index(needed)
    if index == 0:
        return f"{load.protected_machines} machines and {load.daily_churn_gb:g} GB/day"
    below = tiers[index - 1]
    drivers = []
    if load.protected_machines > below.max_protected_machines:
        drivers.append(f"{load.protected_machines} machines")
    if load.daily_churn_gb > below.max_daily_churn_gb:
        drivers.append(f"{load.daily_churn_gb:g} GB/day")
    return " and ".join(drivers)


def sizing_verdict(
    facts: HostFacts, load: PlannedLoad, role: str = PROCESS_SERVER, tolerance: float = REPORTED_SIZE_TOLERANCE
) -> SizingVerdict:
    """Compare the tier a host qualifies for with the tier a load needs, naming each shortfall.

    Example shortfall: ``"vcpus: needs 12 vCPU for 180 machines, host has 8"``.
    """
    host = qualifying_tier(facts, role, tolerance)
    needed = required_tier(load, role)
    if needed.tier is None:
        return SizingVerdict(False, host.tier, None, [needed.reason])
    drivers = _load_drivers(load, needed.tier, tiers_for(role))
    shortfalls = [
        f"{option}: needs {need:g} {_UNIT[option]} for {drivers}, host has {have:g} "
        f"({needed.tier.name} tier {needed.tier.source})"
        for option, have, need in _host_shortfalls(facts, needed.tier, tolerance)
    ]
    return SizingVerdict(not shortfalls, host.tier, needed.tier, shortfalls)


def _notes(facts: HostFacts) -> list[str]:
    """What [1.3] and [2.1] ask beyond a sizing row, for this host (only when it is short of it)."""
    notes = []
    cache_free = facts.cache_free_gb if facts.cache_free_gb is not None else facts.cache_disk_gb
    if cache_free < SETUP_FREE_SPACE_GB:
        notes.append(
            f"cache drive has {cache_free:g} GB free: Unified Setup needs {SETUP_FREE_SPACE_GB} GB free on the install "
            "drive [1.3] unless skip_space_check (asr_skip_space_check), which a small-tier host's 300 GB cache "
            "disk [7.1] needs"
        )
    if facts.retention_free_gb is not None and facts.retention_free_gb < RETENTION_FREE_GB:
        notes.append(
            f"retention drive has {facts.retention_free_gb:g} GB free; the requirements page asks for "
            f"{RETENTION_FREE_GB} GB for failback [2.1]"
        )
    return notes


def assess_host(
    facts: HostFacts,
    role: str = PROCESS_SERVER,
    load: PlannedLoad | None = None,
    tolerance: float = REPORTED_SIZE_TOLERANCE,
) -> HostAssessment:
    """The one sizing verdict of a host for ``role``, judged by that role's table (see the module docstring).

    A scale-out process server is judged by [7.1], a configuration server by [7.2]. With ``load``: does the
    host meet the row that load needs; without: does it meet the smallest row.
    """
    table = TABLES[require_choice("role", role, ROLES)]
    host = qualifying_tier(facts, role, tolerance)
    notes = _notes(facts)
    if load is None:
        if host.tier is None:
            verdict = f"meets no row of the {table} table"
            return HostAssessment(role, table, False, verdict, None, None, list(host.shortfalls), notes)
        tier = host.tier
        verdict = (
            f"{tier.name} tier {tier.source}: up to {tier.max_protected_machines} machines and "
            f"{tier.max_daily_churn_gb} GB/day"
        )
        return HostAssessment(role, table, True, verdict, tier, None, [], notes)
    result = sizing_verdict(facts, load, role, tolerance)
    shortfalls = list(result.shortfalls)
    carried = f"{load.protected_machines} machines and {load.daily_churn_gb:g} GB/day"
    if result.needed_tier is None:
        verdict = f"cannot carry {carried} alone"
    elif result.fits:
        verdict = f"carries {carried}: needs the {result.needed_tier.name} tier {result.needed_tier.source}"
    else:
        verdict = (
            f"cannot carry {carried}: needs the {result.needed_tier.name} tier {result.needed_tier.source}, "
            f"host meets {f'the {host.tier.name} tier' if host.tier else 'no tier'}"
        )
    return HostAssessment(role, table, result.fits, verdict, host.tier, result.needed_tier, shortfalls, notes)
