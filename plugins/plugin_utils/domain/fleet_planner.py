# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet planner: how many scale-out process servers a set of source machines needs, and which machine goes where.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Rules used [7.3]: a protected machine uses exactly one process server; one process server handles at most
2 TB/day, so a machine above 2 TB/day cannot be protected at all (:class:`PlanningError`). Caps per server
come from the sizing tiers [7.1] (or are given explicitly) and are planned only up to ``max_utilisation``
of each cap, so that servers stay "green" [7.5].

Algorithm (O(n log n) in the number of machines):

1. Keep (``keep_current``) each machine on its current process server while that server stays within its
   planned caps; smallest machines are kept first, which keeps the most machines in place (fewest moves).
2. Sort the remaining machines by churn, largest first, and place each on the open server with the most
   churn room that still has a machine slot (worst-fit decreasing, a max-heap of servers). Balancing churn
   this way also balances machine counts, which first-fit decreasing does not: first-fit fills a server
   with large machines, leaving small ones to open extra servers when both caps bind.
3. Open as few servers as the remaining load needs (given servers, largest first, then new servers of
   ``new_server_tier``); if the placement fails, open more and place again, then bisect back to the fewest
   servers with which the placement succeeds (each try is one worst-fit pass).

The lower bound reported is the best of: machines over the largest machine caps, churn over the largest
churn caps (servers taken largest first), machines above half the largest churn cap (no two can share a
server) and servers already carrying load outside the plan.

Configuration servers. A process server is registered to one configuration server (amethyst.conf CS_IP
[6.5]), and a machine can only be moved to another process server of the same configuration server: the
portal's Load balance / Switch [7.4] lists the process servers of the configuration server the machine is
protected through. So when any server or machine names its ``configuration_server``, the plan is made per
configuration server (each group planned as above, new servers added to the group that needs them):

* a machine belongs to the configuration server of its current process server (or its own
  ``configuration_server``, which must agree); a new machine (no current process server) to its own
  ``configuration_server``, or to the only configuration server of the plan when there is one;
* a process server whose configuration server is unknown (not registered, or not surveyed) never receives a
  machine; the machines on it stay where they are while it has room, the others are unplaced, and the
  reason says why;
* a machine whose configuration server cannot be told is unplaced, with the reason.

When nothing names a configuration server, every server is planned as a member of one configuration server
(``membership`` in the result says which of the two the plan did).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from .checks import Jsonable, require_choice, require_int, require_name, require_number, to_jsonable
from .errors import InvalidOption, PlanningError
from .sizing import MAX_DAILY_CHURN_PER_PROCESS_SERVER_GB, PROCESS_SERVER, get_tier, tiers_for

# [7.5] A process server is green while CPU and memory stay below 80 % (the warning threshold) and it can
# take ~30 % more load. Assuming resource use grows with load relative to the tier's caps, planning each
# server to at most 80 % of its caps keeps it out of the warning band. Strictly, "30 % more load" would mean
# 1 / 1.3 = 77 %; the guidance says "~", so 80 % is the default and an operator can set 0.77.
DEFAULT_MAX_UTILISATION = 0.8
DEFAULT_NEW_SERVER_TIER = "large"
NEW_SERVER_PREFIX = "new-process-server-"
_EPSILON = 1e-9


@dataclass(frozen=True)
class SourceMachine(Jsonable):
    """A protected (or to-be-protected) machine: its daily churn and the process server it uses today, if any."""

    name: str
    daily_churn_gb: float
    current_process_server: str | None = None
    configuration_server: str | None = None

    def __post_init__(self) -> None:
        require_name("name", self.name, "Each source machine needs a name.")
        require_number("daily_churn_gb", self.daily_churn_gb, 0, f"Source machine {self.name!r}.")
        if self.current_process_server is not None:
            require_name("current_process_server", self.current_process_server, f"Source machine {self.name!r}.")
        if self.configuration_server is not None:
            require_name("configuration_server", self.configuration_server, f"Source machine {self.name!r}.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SourceMachine:
        return cls(
            data.get("name"),  # type: ignore[arg-type]
            data.get("daily_churn_gb"),  # type: ignore[arg-type]
            data.get("current_process_server"),
            data.get("configuration_server"),
        )


@dataclass(frozen=True)
class ProcessServerSpec(Jsonable):
    """A process server available to the plan: a sizing ``tier`` or explicit caps, and load outside the plan.

    ``existing_protected_machines`` / ``existing_daily_churn_gb`` count machines the server keeps that are not in
    the plan's machine list (they are never moved). ``configuration_server`` is the configuration server it is
    registered to (its address or name); ``configuration_server_unknown`` says why it is not known, when it
    is not (see the module docstring).
    """

    name: str
    tier: str | None = None
    max_protected_machines: int | None = None
    max_daily_churn_gb: float | None = None
    existing_protected_machines: int = 0
    existing_daily_churn_gb: float = 0.0
    configuration_server: str | None = None
    configuration_server_unknown: str | None = None

    def __post_init__(self) -> None:
        context = f"Process server {self.name!r}."
        require_name("name", self.name, "Each process server needs a name.")
        explicit = (self.max_protected_machines, self.max_daily_churn_gb)
        if self.tier is not None:
            if explicit != (None, None):
                raise InvalidOption("tier", self.tier, "either tier or both max_* caps, not both", context)
            get_tier(self.tier, PROCESS_SERVER)
        elif None in explicit:
            raise InvalidOption("tier", None, "a tier, or both max_protected_machines and max_daily_churn_gb", context)
        else:
            require_int("max_protected_machines", self.max_protected_machines, 1, context)
            churn = require_number("max_daily_churn_gb", self.max_daily_churn_gb, 0, context, above=True)
            if churn > MAX_DAILY_CHURN_PER_PROCESS_SERVER_GB:
                # [7.3] One process server handles up to 2 TB/day.
                raise InvalidOption("max_daily_churn_gb", churn, "a number greater than 0 and at most 2048", context)
        require_int("existing_protected_machines", self.existing_protected_machines, 0, context)
        require_number("existing_daily_churn_gb", self.existing_daily_churn_gb, 0, context)
        if self.configuration_server is not None:
            require_name("configuration_server", self.configuration_server, context)
            if self.configuration_server_unknown is not None:
                raise InvalidOption(
                    "configuration_server_unknown",
                    self.configuration_server_unknown,
                    "nothing when configuration_server is given",
                    context,
                )
        elif self.configuration_server_unknown is not None:
            require_name("configuration_server_unknown", self.configuration_server_unknown, context)

    @property
    def caps(self) -> tuple[int, float]:
        """(protected machines, daily churn GB) this server is documented to carry."""
        if self.tier is not None:
            tier = get_tier(self.tier, PROCESS_SERVER)
            return tier.max_protected_machines, float(tier.max_daily_churn_gb)
        return self.max_protected_machines, float(self.max_daily_churn_gb)  # type: ignore[return-value,arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessServerSpec:
        return cls(
            data.get("name"),  # type: ignore[arg-type]
            data.get("tier"),
            data.get("max_protected_machines"),
            data.get("max_daily_churn_gb"),
            data.get("existing_protected_machines", 0),
            data.get("existing_daily_churn_gb", 0.0),
            data.get("configuration_server"),
            data.get("configuration_server_unknown"),
        )


@dataclass
class ServerLoad:
    """One server's planned load against its documented caps and its planned (headroom) caps."""

    name: str
    tier: str | None
    new: bool
    max_protected_machines: int
    max_daily_churn_gb: float
    planned_max_protected_machines: int
    planned_max_daily_churn_gb: float
    protected_machines: int
    daily_churn_gb: float
    machines: list[str]
    configuration_server: str | None = None
    receives_machines: bool = True  # False: its configuration server is unknown, nothing is moved onto it

    @property
    def used(self) -> bool:
        return self.protected_machines > 0 or self.daily_churn_gb > 0

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["machine_utilisation_percent"] = round(100 * self.protected_machines / self.max_protected_machines, 1)
        data["churn_utilisation_percent"] = round(100 * self.daily_churn_gb / self.max_daily_churn_gb, 1)
        return data


@dataclass
class Move(Jsonable):
    """A machine that must switch process server ([7.4]: Load balance in the portal or the Switch job)."""

    machine: str
    from_server: str
    to_server: str
    daily_churn_gb: float


@dataclass
class UnplacedMachine(Jsonable):
    name: str
    daily_churn_gb: float
    reason: str


@dataclass
class ConfigurationServerPlan(Jsonable):
    """The plan of one configuration server's process servers (``configuration_server`` None: membership unknown)."""

    configuration_server: str | None
    servers: list[str]
    servers_needed: int
    lower_bound: int
    machines: int
    daily_churn_gb: float
    moves: int
    unplaced: int
    additional_servers: dict[str, int] = field(default_factory=dict)
    note: str = ""


MEMBERSHIP_GIVEN = "by_configuration_server"
MEMBERSHIP_NOT_GIVEN = "not_given"


@dataclass
class FleetPlan:
    """The plan: servers used vs the lower bound, each server's load, moves, unplaced machines, servers to add.

    ``configuration_servers`` is the same plan per configuration server; ``membership`` says whether the plan
    knew the servers' configuration servers (:data:`MEMBERSHIP_GIVEN`) or planned them as one
    (:data:`MEMBERSHIP_NOT_GIVEN`).
    """

    servers_needed: int
    lower_bound: int
    gap: int
    gap_reason: str
    max_utilisation: float
    servers: list[ServerLoad]
    assignments: dict[str, str]
    moves: list[Move] = field(default_factory=list)
    unplaced: list[UnplacedMachine] = field(default_factory=list)
    additional_servers: dict[str, int] = field(default_factory=dict)
    membership: str = MEMBERSHIP_NOT_GIVEN
    configuration_servers: list[ConfigurationServerPlan] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["servers"] = [s.to_dict() for s in self.servers]
        data["configuration_servers"] = [g.to_dict() for g in self.configuration_servers]
        return data


class _Bin:
    """Mutable planning state of one server (kept small: the planner touches it once per machine)."""

    __slots__ = ("cap_c", "cap_m", "cs", "max_c", "max_m", "name", "new", "order", "tier", "used_c", "used_m")

    def __init__(self, name: str, tier: str | None, new: bool, caps: tuple[int, float], utilisation: float) -> None:
        self.name, self.tier, self.new = name, tier, new
        self.cs: str | None = None
        self.max_m, self.max_c = caps
        # Planned caps: a machine count is whole, so round down.
        self.cap_m = math.floor(self.max_m * utilisation + _EPSILON)
        self.cap_c = self.max_c * utilisation
        self.used_m, self.used_c = 0, 0.0
        self.order = 0

    def clone(self) -> _Bin:
        twin = _Bin(self.name, self.tier, self.new, (self.max_m, self.max_c), 1.0)
        twin.cap_m, twin.cap_c, twin.cs = self.cap_m, self.cap_c, self.cs
        return twin

    def room(self) -> tuple[int, float]:
        return self.cap_m - self.used_m, self.cap_c - self.used_c

    def fits(self, churn: float) -> bool:
        return self.used_m < self.cap_m and self.used_c + churn <= self.cap_c + _EPSILON


def _coerce(items: Iterable[Any], cls: type, option: str) -> list[Any]:
    result = []
    for item in items:
        if isinstance(item, cls):
            result.append(item)
        elif isinstance(item, Mapping):
            result.append(cls.from_dict(item))  # type: ignore[attr-defined]
        else:
            raise InvalidOption(option, item, f"a list of {cls.__name__} or mappings with its fields")
    return result


def _unique(names: Iterable[str], option: str, what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidOption(option, name, f"unique {what} names", f"{name!r} appears twice.")
        seen.add(name)


def _reject_over_two_tb(machines: Sequence[SourceMachine]) -> None:
    # [7.3] A machine uses exactly one process server and a process server handles at most 2 TB/day.
    over = [m for m in machines if m.daily_churn_gb > MAX_DAILY_CHURN_PER_PROCESS_SERVER_GB]
    if over:
        shown = ", ".join(f"{m.name!r} ({m.daily_churn_gb:g} GB/day)" for m in over[:5])
        more = f" and {len(over) - 5} more" if len(over) > 5 else ""
        raise PlanningError(
            f"daily_churn_gb: source machine {shown}{more} cannot be protected; allowed: at most "
            f"{MAX_DAILY_CHURN_PER_PROCESS_SERVER_GB} GB/day (2 TB) per machine, because a machine uses exactly "
            "one process server and one process server handles at most 2 TB/day [7.3]."
        )


OPTIONS = ("max_utilisation", "new_server_tier", "keep_current")


def check_options(
    max_utilisation: Any = DEFAULT_MAX_UTILISATION,
    new_server_tier: Any = DEFAULT_NEW_SERVER_TIER,
    keep_current: Any = True,
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The planner's knobs checked: ``{max_utilisation, new_server_tier, keep_current}`` or :class:`InvalidOption`.

    ``names`` maps an option to the name an error shows (a playbook variable, say); default: the option.
    ``max_utilisation`` is a fraction in (0, 1] of each cap, large enough that a server of ``new_server_tier``
    takes one machine; ``new_server_tier`` is a scale-out process server tier [7.1]; ``keep_current`` a boolean.
    """
    shown = {option: (names or {}).get(option, option) for option in OPTIONS}
    utilisation = require_number(
        shown["max_utilisation"], max_utilisation, 0, "A fraction of each server's caps.", above=True
    )
    if utilisation > 1:
        raise InvalidOption(shown["max_utilisation"], max_utilisation, "a number greater than 0 and at most 1")
    tiers = tiers_for(PROCESS_SERVER)
    require_choice(
        shown["new_server_tier"],
        new_server_tier,
        [t.name for t in tiers],
        "The tier of the process servers the plan adds [7.1].",
    )
    tier = get_tier(new_server_tier, PROCESS_SERVER)
    if math.floor(tier.max_protected_machines * utilisation + _EPSILON) < 1:
        raise InvalidOption(
            shown["max_utilisation"],
            max_utilisation,
            f"at least {1 / tier.max_protected_machines:.3f} so that a {tier.name!r} server takes one machine",
        )
    if not isinstance(keep_current, bool):
        raise InvalidOption(shown["keep_current"], keep_current, "true or false")
    return {"max_utilisation": utilisation, "new_server_tier": tier.name, "keep_current": keep_current}


def check_machines(machines: Any, option: str = "machines") -> list[SourceMachine]:
    """Source machines as a list of :class:`SourceMachine` with unique names, or :class:`InvalidOption`."""
    if isinstance(machines, str | bytes | Mapping) or not isinstance(machines, Iterable):
        raise InvalidOption(
            option, machines, "a list of source machines {name, daily_churn_gb, current_process_server}"
        )
    machine_list: list[SourceMachine] = _coerce(machines, SourceMachine, option)
    _unique((m.name for m in machine_list), "name", "source machine")
    return machine_list


def _check_utilisation(max_utilisation: float, new_server_tier: str, keep_current: bool) -> _Bin:
    """Validate the knobs; return a template bin of the new-server tier."""
    checked = check_options(max_utilisation, new_server_tier, keep_current)
    tier = get_tier(checked["new_server_tier"], PROCESS_SERVER)
    return _Bin("", tier.name, True, (tier.max_protected_machines, float(tier.max_daily_churn_gb)), max_utilisation)


def _keep_in_place(machines: Sequence[SourceMachine], bins: dict[str, _Bin]) -> tuple[dict[str, str], list]:
    """Keep machines on their current server while it stays within planned caps; return kept and pending."""
    by_server: dict[str, list[SourceMachine]] = {}
    pending: list[SourceMachine] = []
    for machine in machines:
        if machine.current_process_server in bins:
            by_server.setdefault(machine.current_process_server, []).append(machine)  # type: ignore[arg-type]
        else:
            pending.append(machine)
    kept: dict[str, str] = {}
    for name, current in by_server.items():
        target = bins[name]
        # Smallest first keeps the most machines in place for the churn room there is.
        for machine in sorted(current, key=lambda m: m.daily_churn_gb):
            if target.fits(machine.daily_churn_gb):
                target.used_m += 1
                target.used_c += machine.daily_churn_gb
                kept[machine.name] = name
            else:
                pending.append(machine)
    return kept, pending


def _servers_to_cover(machines: int, churn: float, rooms: Sequence[tuple[int, float]], new: _Bin) -> int:
    """Fewest servers whose room covers the load, taking the largest rooms first and then new servers."""

    def count(need: float, sizes: list[float], new_size: float) -> int:
        taken = 0
        for size in sorted(sizes, reverse=True):
            if need <= _EPSILON or size <= new_size:
                break
            need -= size
            taken += 1
        return taken + max(0, math.ceil(need / new_size - _EPSILON))

    by_machines = count(machines, [float(r[0]) for r in rooms], float(new.cap_m))
    by_churn = count(churn, [r[1] for r in rooms], new.cap_c)
    return max(by_machines, by_churn)


def _lower_bound(churns: Sequence[float], rooms: Sequence[tuple[int, float]], forced: int, new: _Bin) -> int:
    """A bound no assignment of machines with these ``churns`` can beat (see module docstring)."""
    bound = _servers_to_cover(len(churns), sum(churns), rooms, new)
    largest_room = max([new.cap_c, *(r[1] for r in rooms)])
    # Two machines above half the largest churn room can never share a server.
    bound = max(bound, sum(1 for churn in churns if churn > largest_room / 2 + _EPSILON))
    # Servers with load outside the plan are in use whatever the plan does.
    return max(bound, forced)


def _worst_fit(churns: Sequence[float], open_bins: Sequence[_Bin]) -> tuple[list[_Bin], int]:
    """Place largest-first on the server with the most churn room; return each machine's server and the failing index.

    The heap is keyed by minus the churn room, so its top is the roomiest server with a machine slot left: when a
    machine does not fit there, it fits nowhere.
    """
    heap = [(b.used_c - b.cap_c, b.order, b) for b in open_bins if b.used_m < b.cap_m]
    heapq.heapify(heap)
    targets: list[_Bin] = []
    for index, churn in enumerate(churns):
        if not heap or -heap[0][0] + _EPSILON < churn:
            return targets, index
        _room, order, target = heap[0]
        target.used_m += 1
        target.used_c += churn
        targets.append(target)
        if target.used_m < target.cap_m:
            heapq.heapreplace(heap, (target.used_c - target.cap_c, order, target))
        else:
            heapq.heappop(heap)
    return targets, len(churns)


def _place(
    pending: list[SourceMachine], open_bins: list[_Bin], candidates: list[_Bin], new: _Bin, unplaced: list
) -> dict[str, _Bin]:
    """Open the fewest servers from ``candidates`` (then new ones) with which worst-fit places every pending machine.

    Start from what the load needs (:func:`_opening_count`); while worst-fit fails, open more (half of what the
    machines left over would need on their own); once it succeeds, bisect back between the last count that failed
    and the one that worked. A failure is not always a lack of room: with both caps binding, spreading the heavy
    machines one server too thin leaves some servers full of churn with machine slots nobody can use, and the
    leftover machines then overstate what is missing (bench/planner_bench.py's bimodal estate: 594 servers before
    the bisection, 558 with it, for a lower bound of 556).
    """
    churns = [m.daily_churn_gb for m in pending]
    extra = _opening_count(pending, open_bins, candidates, new)
    failed_count = extra - 1  # fewer servers than that cannot hold the load at all
    while True:
        _opened, _targets, failed = _trial(churns, open_bins, candidates, new, extra)
        if failed == len(pending):
            break
        stuck = pending[failed]
        if stuck.daily_churn_gb > new.cap_c + _EPSILON and extra >= len(candidates):
            # More new servers cannot help a machine bigger than a new server's planned churn cap.
            pending.remove(stuck)
            churns.pop(failed)
            unplaced.append(_unplaced(stuck, new))
            continue
        failed_count = extra
        extra += max(1, _servers_to_cover(len(pending) - failed, sum(churns[failed:]), [], new) // 2)
    while extra - failed_count > 1:
        middle = (failed_count + extra) // 2
        if _trial(churns, open_bins, candidates, new, middle)[2] == len(pending):
            extra = middle
        else:
            failed_count = middle
    opened, targets = _trial(churns, open_bins, candidates, new, extra, keep=True)[:2]
    del candidates[: len(opened)]
    open_bins.extend(opened)
    return dict(zip([m.name for m in pending], targets, strict=True))


def _trial(
    churns: Sequence[float],
    open_bins: Sequence[_Bin],
    candidates: Sequence[_Bin],
    new: _Bin,
    extra: int,
    keep: bool = False,
) -> tuple[list[_Bin], list[_Bin], int]:
    """Worst-fit over the open servers plus the next ``extra`` to open (the largest given ones first, then new).

    Returns the servers opened, each machine's server and the index of the first machine that did not fit. The
    servers' load is put back afterwards unless ``keep`` (the final, successful trial).
    """
    opened = [candidates[i] if i < len(candidates) else new.clone() for i in range(extra)]
    for order, b in enumerate(opened, start=len(open_bins)):
        b.order = order
    trial = [*open_bins, *opened]
    saved = [(b.used_m, b.used_c) for b in trial]
    targets, failed = _worst_fit(churns, trial)
    if not keep:
        for b, (used_m, used_c) in zip(trial, saved, strict=True):
            b.used_m, b.used_c = used_m, used_c
    return opened, targets, failed


def _opening_count(
    pending: Sequence[SourceMachine], open_bins: Sequence[_Bin], candidates: Sequence[_Bin], new: _Bin
) -> int:
    """Fewest servers to open, in opening order, whose room with the open servers' covers the pending load.

    Never more than worst-fit needs, so no server is opened only to be left empty.
    """
    need_m = len(pending) - sum(b.room()[0] for b in open_bins)
    need_c = sum(m.daily_churn_gb for m in pending) - sum(b.room()[1] for b in open_bins)
    count = 0
    for b in candidates:
        if need_m <= 0 and need_c <= _EPSILON:
            return count
        room_m, room_c = b.room()
        need_m, need_c, count = need_m - room_m, need_c - room_c, count + 1
    return count + _servers_to_cover(max(0, need_m), max(0.0, need_c), [], new)


def _unplaced(machine: SourceMachine, new: _Bin) -> UnplacedMachine:
    reason = (
        f"needs {machine.daily_churn_gb:g} GB/day but a {new.tier!r} process server is planned to at most "
        f"{new.cap_c:g} GB/day (max_utilisation {new.cap_c / new.max_c:g}) and no given process server has the "
        "room; raise max_utilisation or give it a dedicated process server"
    )
    return UnplacedMachine(machine.name, machine.daily_churn_gb, reason)


def plan_fleet(
    machines: Iterable[SourceMachine | Mapping[str, Any]],
    servers: Iterable[ProcessServerSpec | Mapping[str, Any]] = (),
    *,
    max_utilisation: float = DEFAULT_MAX_UTILISATION,
    new_server_tier: str = DEFAULT_NEW_SERVER_TIER,
    keep_current: bool = True,
) -> FleetPlan:
    """Assign source machines to process servers within each server's planned caps, adding servers if needed.

    Machines move only between process servers of the same configuration server (module docstring). Raises
    :class:`PlanningError` for a machine above 2 TB/day and :class:`InvalidOption` for bad inputs.
    """
    new = _check_utilisation(max_utilisation, new_server_tier, keep_current)
    machine_list = check_machines(machines)
    server_list: list[ProcessServerSpec] = _coerce(servers, ProcessServerSpec, "process_servers")
    _unique((s.name for s in server_list), "name", "process server")
    _reject_over_two_tb(machine_list)
    membership = _membership(machine_list, server_list)
    if membership == MEMBERSHIP_NOT_GIVEN:
        groups = [_Group(None, True, list(machine_list), list(server_list))]
        stray: list[UnplacedMachine] = []
    else:
        groups, stray = _partition(machine_list, server_list)
    results = [
        _plan_group(g, new, max_utilisation, keep_current) if g.known else _keep_on_unknown(g, max_utilisation)
        for g in groups
    ]
    return _report(machine_list, results, stray, max_utilisation, keep_current, membership)


@dataclass
class _Group:
    """The machines and process servers of one configuration server (``known`` False: membership unknown)."""

    configuration_server: str | None
    known: bool
    machines: list[SourceMachine] = field(default_factory=list)
    servers: list[ProcessServerSpec] = field(default_factory=list)


@dataclass
class _GroupResult:
    group: _Group
    given: list[_Bin]
    open_bins: list[_Bin]
    kept: dict[str, str]
    placed: dict[str, _Bin]
    unplaced: list[UnplacedMachine]
    lower_bound: int


def _membership(machines: Sequence[SourceMachine], servers: Sequence[ProcessServerSpec]) -> str:
    named = any(s.configuration_server is not None or s.configuration_server_unknown for s in servers)
    return MEMBERSHIP_GIVEN if named or any(m.configuration_server for m in machines) else MEMBERSHIP_NOT_GIVEN


def _partition(
    machines: Sequence[SourceMachine], servers: Sequence[ProcessServerSpec]
) -> tuple[list[_Group], list[UnplacedMachine]]:
    """Groups per configuration server (in order of appearance; the unknown ones last) and the machines whose
    configuration server cannot be told."""
    known: dict[str, _Group] = {}
    unknown = _Group(None, False)
    for spec in servers:
        if spec.configuration_server is None:
            unknown.servers.append(spec)
        else:
            known.setdefault(spec.configuration_server, _Group(spec.configuration_server, True)).servers.append(spec)
    only = next(iter(known)) if len(known) == 1 else None
    by_name = {s.name: s for s in servers}
    stray: list[UnplacedMachine] = []
    for machine in machines:
        current = by_name.get(machine.current_process_server or "")
        cs = current.configuration_server if current is not None else machine.configuration_server
        if current is not None and cs is not None and machine.configuration_server not in (None, cs):
            raise InvalidOption(
                "configuration_server",
                machine.configuration_server,
                f"{cs}, the configuration server of its current process server {current.name!r}, or nothing",
                f"Source machine {machine.name!r}.",
            )
        if current is not None and cs is None:
            unknown.machines.append(machine)
        elif cs is not None:
            known.setdefault(cs, _Group(cs, True)).machines.append(machine)
        elif machine.current_process_server is None and only is not None:
            known[only].machines.append(machine)
        else:
            stray.append(_no_configuration_server(machine, list(known)))
    groups = list(known.values())
    return ([*groups, unknown] if unknown.servers else groups), stray


def _no_configuration_server(machine: SourceMachine, known: Sequence[str]) -> UnplacedMachine:
    if machine.current_process_server is not None:
        why = (
            f"its current process server {machine.current_process_server!r} is not in the plan, so its "
            "configuration server is unknown"
        )
    elif known:
        why = f"it names no configuration_server and the plan has {len(known)} ({', '.join(known)})"
    else:
        why = "it names no configuration_server and no process server of the plan has a known one"
    return UnplacedMachine(
        machine.name,
        machine.daily_churn_gb,
        f"{why}: a machine moves only between process servers of the same configuration server [7.4]; give its "
        "configuration_server",
    )


def _plan_group(group: _Group, new: _Bin, max_utilisation: float, keep_current: bool) -> _GroupResult:
    """The plan of one configuration server's machines over its own process servers (plus new ones)."""
    given = [_Bin(s.name, s.tier, False, s.caps, max_utilisation) for s in group.servers]
    for spec, b in zip(group.servers, given, strict=True):
        b.used_m, b.used_c = spec.existing_protected_machines, spec.existing_daily_churn_gb
        b.cs = group.configuration_server
    group_new = new.clone()
    group_new.cs = group.configuration_server
    largest_given = max((b.cap_c - b.used_c for b in given), default=0.0)
    too_big = max(group_new.cap_c, largest_given)
    unplaced = [_unplaced(m, group_new) for m in group.machines if m.daily_churn_gb > too_big + _EPSILON]
    skip = {u.name for u in unplaced}
    placeable = [m for m in group.machines if m.name not in skip]
    rooms = [b.room() for b in given]
    forced = sum(1 for b in given if b.used_m or b.used_c)

    by_name = {b.name: b for b in given}
    kept, pending = _keep_in_place(placeable, by_name) if keep_current else ({}, list(placeable))
    # Stable sort: machines of equal churn keep the caller's order, so plans are reproducible.
    pending.sort(key=attrgetter("daily_churn_gb"), reverse=True)
    open_bins = [b for b in given if b.used_m or b.used_c]
    candidates = sorted((b for b in given if not (b.used_m or b.used_c)), key=lambda b: (-b.cap_c, -b.cap_m, b.name))
    for index, b in enumerate(open_bins):
        b.order = index
    placed = _place(pending, open_bins, candidates, group_new, unplaced)
    churn_of = {m.name: m.daily_churn_gb for m in placeable}
    lower_bound = _lower_bound([churn_of[n] for n in (*kept, *placed)], rooms, forced, group_new)
    return _GroupResult(group, given, open_bins, kept, placed, unplaced, lower_bound)


def _keep_on_unknown(group: _Group, max_utilisation: float) -> _GroupResult:
    """Process servers whose configuration server is unknown: nothing moves onto them, and nothing on them can be
    moved elsewhere (its configuration server is unknown too). Machines stay while the server has room."""
    given = [_Bin(s.name, s.tier, False, s.caps, max_utilisation) for s in group.servers]
    for spec, b in zip(group.servers, given, strict=True):
        b.used_m, b.used_c = spec.existing_protected_machines, spec.existing_daily_churn_gb
    kept, left = _keep_in_place(group.machines, {b.name: b for b in given})
    why = {s.name: s.configuration_server_unknown or "not given" for s in group.servers}
    unplaced = [
        UnplacedMachine(
            m.name,
            m.daily_churn_gb,
            f"its process server {m.current_process_server!r} is over its planned caps and its configuration server "
            f"is unknown ({why[m.current_process_server or '']}): a machine moves only between process servers of "
            "the same configuration server [7.4]; register the process server or name its configuration_server",
        )
        for m in left
    ]
    used = [b for b in given if b.used_m or b.used_c]
    return _GroupResult(group, given, used, kept, {}, unplaced, len(used))


def _report(
    machines: Sequence[SourceMachine],
    results: Sequence[_GroupResult],
    stray: list[UnplacedMachine],
    max_utilisation: float,
    keep_current: bool,
    membership: str,
) -> FleetPlan:
    new_bins = [b for r in results for b in r.open_bins if b.new and b.used_m]
    for number, b in enumerate(new_bins, start=1):
        b.name = f"{NEW_SERVER_PREFIX}{number}"
    kept = {name: server for r in results for name, server in r.kept.items()}
    assignments = dict(kept)
    assignments.update((name, b.name) for r in results for name, b in r.placed.items())
    members: dict[str, list[str]] = {}
    for machine in machines:
        if machine.name in assignments:
            members.setdefault(assignments[machine.name], []).append(machine.name)
    loads = [
        _server_load(b, members.get(b.name, []), r.group)
        for r in results
        for b in [*r.given, *(n for n in r.open_bins if n.new and n.used_m)]
    ]
    moves = [
        Move(m.name, m.current_process_server, assignments[m.name], m.daily_churn_gb)
        for m in machines
        if m.current_process_server is not None
        and m.name in assignments
        and assignments[m.name] != m.current_process_server
    ]
    unplaced = [*(u for r in results for u in r.unplaced), *stray]
    used = [load for load in loads if load.used]
    lower_bound = sum(r.lower_bound for r in results)
    gap = len(used) - lower_bound
    reason = _gap_reason(gap, used, kept, new_bins, keep_current) if gap > 0 else ""
    additional: dict[str, int] = {}
    for b in new_bins:
        additional[b.tier] = additional.get(b.tier, 0) + 1  # type: ignore[index]
    per_cs = [_group_plan(r, loads, moves, membership) for r in results]
    return FleetPlan(
        len(used),
        lower_bound,
        gap,
        reason,
        max_utilisation,
        loads,
        assignments,
        moves,
        unplaced,
        additional,
        membership,
        per_cs,
    )


def _group_plan(
    result: _GroupResult, loads: Sequence[ServerLoad], moves: Sequence[Move], membership: str
) -> ConfigurationServerPlan:
    group = result.group
    names = {b.name for b in result.given} | {b.name for b in result.open_bins}
    mine = [load for load in loads if load.name in names]
    additional: dict[str, int] = {}
    for load in mine:
        if load.new:
            additional[load.tier] = additional.get(load.tier, 0) + 1  # type: ignore[index]
    if membership == MEMBERSHIP_NOT_GIVEN:
        note = "no process server names its configuration server: all are planned as members of one"
    elif not group.known:
        note = "configuration server unknown: no machine is moved onto these process servers"
    else:
        note = ""
    return ConfigurationServerPlan(
        configuration_server=group.configuration_server,
        servers=[load.name for load in mine],
        servers_needed=sum(1 for load in mine if load.used),
        lower_bound=result.lower_bound,
        machines=sum(load.protected_machines for load in mine),
        daily_churn_gb=round(sum(load.daily_churn_gb for load in mine), 3),
        moves=sum(1 for move in moves if move.to_server in names),
        unplaced=len(result.unplaced),
        additional_servers=additional,
        note=note,
    )


def _server_load(b: _Bin, members: list[str], group: _Group) -> ServerLoad:
    return ServerLoad(
        b.name, b.tier, b.new, b.max_m, b.max_c, b.cap_m, b.cap_c, b.used_m, b.used_c, members,
        group.configuration_server, group.known,
    )  # fmt: skip


def _gap_reason(
    gap: int, used: Sequence[ServerLoad], kept: dict[str, str], new_bins: Sequence[_Bin], keep_current: bool
) -> str:
    reasons = []
    if keep_current and kept:
        reasons.append(
            f"{len(kept)} machines are kept on their current process servers (keep_current=True), which spreads "
            "the load over more servers than a fresh packing would"
        )
    if new_bins and any(not s.new and s.max_daily_churn_gb < new_bins[0].max_c for s in used):
        reasons.append("given process servers smaller than a new one are filled before new servers are added")
    if not reasons:
        reasons.append(
            "machine sizes leave room on some servers that the remaining machines cannot use "
            "(the bound assumes load can be split freely)"
        )
    return f"{gap} more server(s) than the lower bound: " + "; ".join(reasons)
