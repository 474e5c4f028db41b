"""Time the fleet planner on synthetic estates of 1k, 10k and 100k source machines.

Run from the repository root: ``.venv/bin/python bench/planner_bench.py [sizes...]``. Prints, per size and
churn profile, the planning time and the servers used against the lower bound. No pass/fail: the team's
benchmark reuses :func:`run` and applies its own limits.
"""

from __future__ import annotations

import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests"))
import conftest  # noqa: F401  (installs the collection loader)

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.fleet_planner import (
    ProcessServerSpec,
    SourceMachine,
    plan_fleet,
)


def _churn(profile: str, rnd: random.Random) -> float:
    if profile == "lognormal":  # most machines change a few GB/day, a long tail changes hundreds
        return min(rnd.lognormvariate(1.5, 1.2), 1600.0)
    if profile == "bimodal":  # both caps bind: heavy and near-idle machines in equal numbers
        return 18.0 if rnd.random() < 0.5 else 0.1
    return rnd.uniform(0, 40)


def estate(size: int, profile: str, seed: int = 1) -> tuple[list[SourceMachine], list[ProcessServerSpec]]:
    """Machines, a third of them on existing 'medium' servers (some overloaded), the rest new."""
    rnd = random.Random(seed)
    servers = [ProcessServerSpec(f"ps{i}", "medium") for i in range(max(1, size // 600))]
    machines = []
    for i in range(size):
        current = f"ps{rnd.randrange(len(servers))}" if rnd.random() < 0.33 else None
        machines.append(SourceMachine(f"vm{i}", _churn(profile, rnd), current))
    return machines, servers


def run(size: int, profile: str) -> dict[str, float | int]:
    machines, servers = estate(size, profile)
    start = time.perf_counter()
    plan = plan_fleet(machines, servers)
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    fresh = plan_fleet(machines, keep_current=False)
    fresh_seconds = time.perf_counter() - start
    return {
        "machines": size,
        "seconds": seconds,
        "servers": plan.servers_needed,
        "lower_bound": plan.lower_bound,
        "moves": len(plan.moves),
        "fresh_seconds": fresh_seconds,
        "fresh_servers": fresh.servers_needed,
        "fresh_lower_bound": fresh.lower_bound,
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000, 10_000, 100_000]
    print(f"{'profile':<10} {'machines':>8} {'keep s':>7} {'used/LB':>9} {'moves':>6} {'fresh s':>8} {'used/LB':>9}")
    for profile in ("lognormal", "bimodal", "uniform"):
        for size in sizes:
            r = run(size, profile)
            print(
                f"{profile:<10} {r['machines']:>8} {r['seconds']:>7.3f} {r['servers']:>4}/{r['lower_bound']:<4} "
                f"{r['moves']:>6} {r['fresh_seconds']:>8.3f} {r['fresh_servers']:>4}/{r['fresh_lower_bound']:<4}"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
