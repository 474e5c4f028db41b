"""scripts/cpu_of.py counts the CPU of a daemon its command leaves behind, which /usr/bin/time does not."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]
CPU_OF = str(ROOT / "scripts" / "cpu_of.py")

# Starts a child in its own session that burns 0.6 s of its own CPU, and returns at once without waiting for it: what
# `python -m lab up` does with the lab's server (lab/cli.py).
DAEMONISE = textwrap.dedent(
    """
    import subprocess, sys
    burn = "import time\\nt = time.process_time()\\nwhile time.process_time() - t < 0.6: pass\\n"
    subprocess.Popen([sys.executable, "-c", burn], start_new_session=True)
    """
)


def cpu_seconds(stderr: str) -> float:
    match = re.search(r"CPU ([0-9.]+) s", stderr)
    assert match, stderr
    return float(match.group(1))


def test_the_cpu_of_a_daemonised_descendant_is_counted():
    proc = subprocess.run(
        [sys.executable, CPU_OF, "--label", "daemon", "--", sys.executable, "-c", DAEMONISE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("daemon: CPU "), proc.stderr
    assert cpu_seconds(proc.stderr) >= 0.6, proc.stderr


def test_the_command_exit_status_is_returned():
    proc = subprocess.run(
        [sys.executable, CPU_OF, "--", sys.executable, "-c", "raise SystemExit(3)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3
    assert "exit 3" in proc.stderr


# The command runs `up` (which starts a daemon that ends after 0.3 s and returns at once, as `python -m lab up` does),
# then looks for the daemon in /proc while the command itself still runs: the orphan, re-parented to the subreaper,
# must be reaped as soon as it ends (`python -m lab down` waits for the server's pid to disappear).
LOOK_FOR_THE_ENDED_DAEMON = textwrap.dedent(
    """
    import os, subprocess, sys, time
    up = "import subprocess, sys\\n" + (
        "d = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(0.3)'], start_new_session=True)\\n"
    ) + "print(d.pid)\\n"
    pid = int(subprocess.run([sys.executable, "-c", up], capture_output=True, text=True, check=True).stdout)
    deadline = time.monotonic() + 30
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    print("gone" if not os.path.exists(f"/proc/{pid}") else "still in /proc")
    """
)


def test_a_daemon_that_ends_while_the_command_runs_is_reaped_at_once():
    proc = subprocess.run(
        [sys.executable, CPU_OF, "--", sys.executable, "-c", LOOK_FOR_THE_ENDED_DAEMON],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "gone", proc.stderr
