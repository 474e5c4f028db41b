"""playbooks/preflight.yml end to end against the `mixed` seed: the table names the blocked hosts and why.

The seed as is: ps01 fresh, ps02 current, ps03 old (9.53 on E:), ps04 drifted proxy, ps05 dead (seed
``reachable: false``: its WinRM answers nothing). The test adds what a rollout would trip on: ps03 has a pending
reboot and ps04 cannot reach the configuration server (lab faults), ps01 is asked to install on F: (no such
drive), ps02 is planned a load its medium tier cannot carry (host vars) and its tmansvc is stopped (a warning,
not a block). ps05 is blocked as unreachable. Nothing on any host changes.
"""

from __future__ import annotations

import textwrap

import pytest
import yaml

pytestmark = pytest.mark.lab


lab_estate = pytest.importorskip("lab.estate")
from lab import journal  # noqa: E402
from tests import playbook_runner  # noqa: E402
from tests.lab_support import ROOT, ansible_env, playbook_command, serving  # noqa: E402


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("preflight")
    est = lab_estate.create(tmp / "estate", cs=1, ps=5, seed="mixed")
    for name, knob in (("ps03", "pending_reboot"), ("ps04", "cs_unreachable")):
        with est.open_host(name) as host:
            host.faults[knob] = True
    with est.open_host("ps02") as host:
        host.service("tmansvc")["state"] = "stopped"
    overlay = tmp / "overlay.yml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "process_servers": {
                    "hosts": {
                        "ps01": {"asr_install_location": "F:\\Microsoft Azure Site Recovery"},
                        "ps02": {"asr_planned_load": {"protected_machines": 180, "daily_churn_gb": 900}},
                    },
                    "vars": {"asr_configuration_server_ip": "10.0.0.11"},
                }
            }
        ),
        encoding="utf-8",
    )
    with serving(est):
        yield est, overlay


def run(est, overlay, *extra):
    journal.clear(est)
    before = {name: est.read_host(name).data for name in est.host_names()}
    cmd = playbook_command(est, "-i", str(overlay), *extra, str(ROOT / "playbooks" / "preflight.yml"))
    proc = playbook_runner.run(cmd, cwd=ROOT, env=ansible_env(), timeout=300)
    calls = {name: journal.read(est, name) for name in est.host_names()}
    after = {name: est.read_host(name).data for name in est.host_names()}
    return proc, calls, before, after


def table(stdout: str) -> dict[str, str]:
    """The debug task's ``msg`` list (YAML result format) as {host: verdict}."""
    section = stdout.split("What would block a rollout", 1)[1].split("TASK [", 1)[0]
    block = section.split("msg:\n", 1)[1].split("\n\n", 1)[0]
    lines = yaml.safe_load(textwrap.dedent(block))
    return {line.split()[0]: line.split(None, 1)[1] for line in lines}


def test_table_names_blocked_hosts_and_reasons_and_fails(estate):
    est, overlay = estate
    proc, calls, before, after = run(est, overlay)
    assert proc.returncode != 0, proc.stdout[-3000:]
    assert "Rollout blocked on: ps01, ps02, ps03, ps04, ps05 (see the table above)" in proc.stdout
    lines = table(proc.stdout)
    assert set(lines) == {"ps01", "ps02", "ps03", "ps04", "ps05"}, proc.stdout[-4000:]
    assert lines["ps01"].startswith("BLOCKED: install location drive F: is not a fixed drive")
    assert lines["ps02"].startswith("BLOCKED: tier medium [7.1] cannot carry 180 machines") and "vcpus" in lines["ps02"]
    assert lines["ps03"].startswith("BLOCKED: reboot pending (PendingFileRenameOperations)")
    assert lines["ps04"].startswith("BLOCKED: configuration server 10.0.0.11 not reachable on 443")
    assert lines["ps05"].startswith("BLOCKED: host unreachable") and "Check the WinRM connection" in lines["ps05"]
    assert "tmansvc" in proc.stdout  # ps02's stopped heartbeat sender is reported
    for name in ("cs01", "ps01", "ps02", "ps03", "ps04"):
        assert len(calls[name]) == 1, (name, calls[name])  # one read-only survey each
    assert calls["ps05"] == []  # the dead host answered nothing
    assert before == after  # nothing changed


def test_does_not_fail_when_told_not_to(estate):
    est, overlay = estate
    proc, _, _, _ = run(est, overlay, "-e", "asr_preflight_fail_on_block=false")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "BLOCKED: reboot pending" in proc.stdout


def test_installer_newer_than_the_configuration_server_blocks_every_host(estate):
    est, overlay = estate
    proc, _, _, _ = run(est, overlay, "-e", "asr_installer_version=9.56.7200.1", "-e", "asr_preflight_fail_on_block=0")
    lines = table(proc.stdout)
    live = {host: verdict for host, verdict in lines.items() if host != "ps05"}  # ps05 is dead: nothing to compare
    assert all("installer 9.56.7200.1 is newer than the CS's 9.55.7123.1" in v for v in live.values()), lines
