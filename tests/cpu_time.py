"""CPU seconds per test, for measuring the suite on a shared machine (docs/dev/test-time.md).

Wall-clock durations (``--durations``) grow with the machine's load; the CPU a test costs does not. With
``ASR_TEST_CPU_LOG=<file>`` every pytest process (each xdist worker, or the one process) appends one line per test:
``<cpu s> <wall s> <node id> <process s> <waited children s> <running children s>`` (tab-separated). The CPU counts
the test process itself (the in-process lab's WinRM server threads), the children it waited for (ansible-playbook,
python -m lab ...) and the growth of the children still running (the lab's persistent pwsh workers, lab/pshost.py),
for setup, call and teardown together. ``python scripts/cpu_report.py <file>`` sums it per test and per file.
"""

from __future__ import annotations

import os
import pathlib
import resource
import time

import pytest

from tests import playbook_runner

_TICK = os.sysconf("SC_CLK_TCK")


def _running_children_cpu_s() -> float:
    """user+sys of this process's children that are still running (any thread may have started them)."""
    total = 0.0
    for children in pathlib.Path("/proc/self/task").glob("*/children"):
        try:
            pids = children.read_text().split()
        except OSError:
            continue
        for pid in pids:
            try:
                fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def cpu_parts() -> tuple[float, float, float]:
    """CPU seconds used so far: (this process, the children it waited for, its children still running)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the ansible-playbook runs forked for this process (tests/playbook_runner.py) are not its children
    forked = playbook_runner.forked_cpu_s()
    return own.ru_utime + own.ru_stime, waited.ru_utime + waited.ru_stime + forked, _running_children_cpu_s()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    before, wall0 = cpu_parts(), time.monotonic()
    yield
    parts = [b - a for a, b in zip(before, cpu_parts(), strict=True)]
    line = f"{sum(parts):.3f}\t{time.monotonic() - wall0:.3f}\t{item.nodeid}\t" + "\t".join(f"{p:.3f}" for p in parts)
    with open(os.environ["ASR_TEST_CPU_LOG"], "a", encoding="utf-8") as log:
        log.write(line + "\n")  # one short append per test: lines from two workers do not interleave
