"""Pure figures of the benchmark: remote calls from lab journals, ratios, growth and the targets.

Nothing here starts a process or touches the network, so ``tests/unit/bench`` can check every rule.
"""

from __future__ import annotations

import collections
import json
import math
import pathlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# ---- remote calls ------------------------------------------------------------------------------------------


def read_journal(path: pathlib.Path) -> list[dict[str, Any]]:
    """Entries of one lab journal file (``journal/<host>.jsonl``); a host never called has no file."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def calls_per_host(journals: Mapping[str, Sequence[Mapping[str, Any]]], hosts: Iterable[str]) -> dict[str, int]:
    """Remote calls per host: every journal line is one WinRM command the host answered (or that was dropped).

    Hosts without a journal count 0, so a host the play skipped still weighs in the mean.
    """
    return {host: len(journals.get(host, ())) for host in hosts}


@dataclass(frozen=True)
class CallStats:
    hosts: int
    total: int
    mean: float
    min: int
    max: int

    def to_dict(self) -> dict[str, Any]:
        return {"hosts": self.hosts, "total": self.total, "mean": self.mean, "min": self.min, "max": self.max}


def call_stats(per_host: Mapping[str, int]) -> CallStats:
    counts = list(per_host.values())
    if not counts:
        return CallStats(0, 0, 0.0, 0, 0)
    return CallStats(len(counts), sum(counts), round(sum(counts) / len(counts), 3), min(counts), max(counts))


def call_mix(journals: Mapping[str, Sequence[Mapping[str, Any]]], hosts: Sequence[str]) -> dict[str, float]:
    """Mean calls per host by identity (module FQCN, file op, script), largest first: where the round trips go."""
    counter: collections.Counter[str] = collections.Counter()
    for host in hosts:
        counter.update(str(entry.get("identity") or entry.get("op") or "?") for entry in journals.get(host, ()))
    n = max(len(hosts), 1)
    return {identity: round(count / n, 3) for identity, count in counter.most_common()}


# ---- ratios and growth -------------------------------------------------------------------------------------


def ratio(baseline: float | None, ours: float | None) -> float | None:
    """``baseline / ours``: how many times better this collection is (> 1 = better). None when undefined."""
    if baseline is None or ours is None:
        return None
    if ours == 0:
        return math.inf if baseline > 0 else None
    return round(baseline / ours, 3)


def growth(values_by_n: Mapping[int, float | None]) -> dict[int, float | None]:
    """Each value divided by the value at the smallest N (1.0 there): how a figure grows with the fleet."""
    ns = sorted(n for n, v in values_by_n.items() if v is not None)
    if not ns:
        return {n: None for n in values_by_n}
    first = values_by_n[ns[0]]
    return {n: (None if v is None or not first else round(v / first, 3)) for n, v in sorted(values_by_n.items())}


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.1f}x"


# ---- targets -----------------------------------------------------------------------------------------------
CONVERGED_CALLS_PER_HOST = 1
FRESH_CALL_RATIO = 3.0
CONVERGED_WALL_RATIO = 5.0
CONVERGED_WALL_HOSTS = 200
PLANNER_MACHINES = 100_000
PLANNER_SECONDS = 2.0
PLANNER_EXTRA_SERVERS = 1


@dataclass(frozen=True)
class Verdict:
    target: str
    status: str  # "met" | "missed" | "not measured"
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"target": self.target, "status": self.status, "detail": self.detail}


def check_converged_calls(max_calls: int | None) -> Verdict:
    target = f"converged run: exactly {CONVERGED_CALLS_PER_HOST} remote call per host"
    if max_calls is None:
        return Verdict(target, "not measured", "no converged run of this collection")
    if max_calls == CONVERGED_CALLS_PER_HOST:
        return Verdict(target, "met", f"max {max_calls} call per host")
    return Verdict(target, "missed", f"max {max_calls} calls per host ({max_calls - CONVERGED_CALLS_PER_HOST:+d})")


def check_fresh_ratio(baseline_mean: float | None, ours_mean: float | None) -> Verdict:
    target = f"fresh install: >= {FRESH_CALL_RATIO:g}x fewer remote calls than the baseline"
    r = ratio(baseline_mean, ours_mean)
    if r is None:
        return Verdict(target, "not measured", "needs both a baseline and a collection fresh run")
    status = "met" if r >= FRESH_CALL_RATIO else "missed"
    return Verdict(target, status, f"{baseline_mean} / {ours_mean} calls per host = {fmt_ratio(r)}")


def check_converged_wall(baseline_s: float | None, ours_s: float | None, hosts: int | None) -> Verdict:
    target = f"converged {CONVERGED_WALL_HOSTS}-host wall time: >= {CONVERGED_WALL_RATIO:g}x better than the baseline"
    r = ratio(baseline_s, ours_s)
    if r is None or hosts is None:
        return Verdict(target, "not measured", "needs both converged runs")
    detail = f"{baseline_s:.1f} s / {ours_s:.1f} s = {fmt_ratio(r)} at N={hosts}"
    if hosts != CONVERGED_WALL_HOSTS:
        return Verdict(
            target, "not measured", detail + f" (largest N measured; the target is for N={CONVERGED_WALL_HOSTS})"
        )
    return Verdict(target, "met" if r >= CONVERGED_WALL_RATIO else "missed", detail)


def check_planner(seconds: float | None, servers: int | None, lower_bound: int | None, reason: str = "") -> Verdict:
    target = (
        f"planner: {PLANNER_MACHINES:,} machines in < {PLANNER_SECONDS:g} s with <= lower bound + "
        f"{PLANNER_EXTRA_SERVERS} servers"
    )
    if seconds is None or servers is None or lower_bound is None:
        return Verdict(target, "not measured", "")
    problems = []
    if seconds >= PLANNER_SECONDS:
        problems.append(f"{seconds:.2f} s is {seconds - PLANNER_SECONDS:.2f} s over")
    over = servers - (lower_bound + PLANNER_EXTRA_SERVERS)
    if over > 0:
        problems.append(f"{servers} servers for a lower bound of {lower_bound}: {over} more than allowed")
    detail = f"{seconds:.2f} s, {servers} servers / lower bound {lower_bound}"
    if problems:
        return Verdict(target, "missed", detail + " — " + "; ".join(problems) + (f" ({reason})" if reason else ""))
    return Verdict(target, "met", detail)
