"""Sum a per-test CPU log (ASR_TEST_CPU_LOG, tests/cpu_time.py): the costliest tests and files, and the total.

python scripts/cpu_report.py FILE [--top N]
"""

from __future__ import annotations

import argparse
import collections
import pathlib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=pathlib.Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    tests: dict[str, list[float]] = {}
    parts = [0.0, 0.0, 0.0]
    for line in args.log.read_text(encoding="utf-8").splitlines():
        cpu, wall, nodeid, *split = line.split("\t")
        tests[nodeid] = [float(cpu), float(wall)]
        for i, value in enumerate(split[:3]):
            parts[i] += float(value)
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0])
    for nodeid, (cpu, wall) in tests.items():
        entry = files[nodeid.split("::", 1)[0]]
        entry[0] += cpu
        entry[1] += wall
        entry[2] += 1
    total_cpu = sum(c for c, _ in tests.values())
    total_wall = sum(w for _, w in tests.values())
    print(f"{len(tests)} tests: {total_cpu:.0f} s CPU, {total_wall:.0f} s wall summed over the processes")
    print(
        f"CPU: {parts[0]:.0f} s in the pytest processes (the in-process lab's WinRM server), {parts[1]:.0f} s in "
        f"children they waited for (ansible-playbook, python -m lab), {parts[2]:.0f} s in running children (pwsh)"
    )
    print(f"\ncostliest {args.top} tests (CPU s, wall s):")
    for nodeid, (cpu, wall) in sorted(tests.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{cpu:8.1f} {wall:8.1f}  {nodeid}")
    print(f"\ncostliest {args.top} files (CPU s, wall s, tests):")
    for name, (cpu, wall, count) in sorted(files.items(), key=lambda kv: -kv[1][0])[: args.top]:
        print(f"{cpu:8.1f} {wall:8.1f} {count:5d}  {name}")


if __name__ == "__main__":
    main()
