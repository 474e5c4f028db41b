"""CPU seconds (user + sys) of a command and EVERY process it starts, daemons included (docs/dev/test-time.md).

python scripts/cpu_of.py [--label TEXT] [--grace S] -- COMMAND [ARG...]

``/usr/bin/time`` counts only the descendants that were waited for. The lab's WinRM server is daemonised
(``python -m lab up`` starts ``python -m lab serve`` in its own session and returns), so the CPU of that server
and of its pwsh workers, all of the PowerShell a Molecule scenario or a benchmark run executes, is missing from
``time``'s figure. This wrapper makes itself the "child subreaper" (Linux prctl PR_SET_CHILD_SUBREAPER): an
orphaned descendant is re-parented to it instead of to init, it waits for each one, and the kernel adds their CPU
to its children's usage. Each one is reaped as soon as it ends (a zombie would still show in /proc: `python -m lab
down` and the tests that check no lab process is left would see it). After COMMAND ends it waits up to --grace
seconds for descendants still running (a lab server being stopped) and counts what those that outlive it used so far.
Prints one line to stderr and exits with COMMAND's status.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import pathlib
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
_TICK = os.sysconf("SC_CLK_TCK")


def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def wait_for(main: int) -> int:
    """Reap every child as it ends (orphans re-parented here included) until ``main`` ends; its exit code."""
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == main:
            return os.waitstatus_to_exitcode(status)


def reap_all() -> None:
    """Collect every child that has ended."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def running_children() -> list[int]:
    return [int(p) for p in pathlib.Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()]


def cpu_of_running(pids: list[int]) -> float:
    """user+sys so far of running processes and of the children they waited for (fields 14-17 of stat)."""
    total = 0.0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / _TICK
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="")
    parser.add_argument("--grace", type=float, default=30.0, help="seconds to wait for descendants still running")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    become_subreaper()
    wall0 = time.monotonic()
    proc = subprocess.Popen(command)
    rc = proc.returncode = wait_for(proc.pid)  # reaped here, not by Popen
    deadline = time.monotonic() + args.grace
    reap_all()
    while running_children() and time.monotonic() < deadline:
        time.sleep(0.2)
        reap_all()
    left = running_children()
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    extra = cpu_of_running(left)
    total = waited.ru_utime + waited.ru_stime + extra
    label = f"{args.label}: " if args.label else ""
    note = f" (incl. {extra:.1f} s of {len(left)} process(es) still running)" if left else ""
    print(
        f"{label}CPU {total:.1f} s (user {waited.ru_utime:.1f} s, sys {waited.ru_stime:.1f} s){note}, "
        f"wall {time.monotonic() - wall0:.1f} s, exit {rc}",
        file=sys.stderr,
    )
    return rc


if __name__ == "__main__":
    sys.exit(main())
