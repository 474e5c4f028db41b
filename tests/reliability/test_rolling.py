"""Rolling safety of playbooks/upgrade.yml: never more process servers out of service than one batch.

The lab records when each host was out of service: every Unified Setup run from its start to its end (setup
stops the process server's services while it runs) and every service outage (``downtime`` windows,
lab/state.py bookkeeping). From those windows across the estate the test computes the largest number of
hosts down at the same instant and asserts it is at most the batch size. A failing canary (an installer fault
on the first batch's host) stops the rollout with every other host untouched (journal: only the screening play's
read-only probe, in check mode, before the canary started).
"""

from __future__ import annotations

import _lab as L
import pytest
import registry

from lab.asr import constants as c

pytestmark = pytest.mark.lab

SECTION = "rolling"
registry.section(
    SECTION,
    "Rolling safety",
    "playbooks/upgrade.yml with `serial` batches on a lab fleet: the largest number of process servers out of "
    "service at the same instant (computed from the lab's per-host setup-run and service-downtime windows) is at "
    "most one batch; a failing canary stops the rollout with every other process server untouched.",
    order=40,
)
PSS = [f"ps{n:02d}" for n in range(1, 6)]


def test_an_upgrade_never_has_more_than_one_batch_down(tmp_path):
    batch = 2
    name = f"upgrade.yml serial={batch}: max hosts down at once <= {batch}"
    with registry.case(SECTION, name, group="upgrade.yml"), L.served(tmp_path / "e", "installed-old", ps=5) as estate:
        remote = L.preplace_package(estate, PSS)
        for host in PSS:  # setup takes a few seconds, so hosts of one batch really overlap
            L.set_fault(estate, host, "installer_seconds", 3)
        proc, _ = L.run_fleet(estate, "upgrade.yml", L.fleet_vars(remote, asr_serial=batch), tmp_path / "u")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        for host in PSS:
            assert estate.read_host(host).reg_get(c.REG_INSTALLED_CSPS, "Build_Version") == L.CURRENT, host
        windows = {host: L.out_of_service(estate, host) for host in PSS}
        assert all(windows[h] for h in PSS), windows  # every host was upgraded (and so was down once)
        most, who = L.max_concurrent(windows)
        registry.fact(
            SECTION, f"max process servers down at once (serial {batch}, 5 hosts)", f"{most} ({', '.join(who)})"
        )
        assert 1 <= most <= batch, (most, who, windows)
        # the batches were really concurrent inside and sequential across: ps01+ps02 overlap, ps02 ends
        # before ps03 starts
        assert most == batch, "the hosts of one batch did not overlap: the measurement would prove nothing"
        assert max(e for _, e in windows["ps02"]) <= min(s for s, _ in windows["ps03"])


def test_a_failing_canary_stops_the_rollout_with_the_rest_untouched(tmp_path):
    name = "upgrade.yml: failing canary stops the rollout, others untouched"
    with registry.case(SECTION, name, group="upgrade.yml"), L.served(tmp_path / "e", "installed-old", ps=5) as estate:
        remote = L.preplace_package(estate, PSS)
        L.set_fault(estate, "ps01", "installer_exit_code", 1)
        L.clear(estate)
        variables = L.fleet_vars(remote)  # default serial [1, '25%']: ps01 is the canary
        proc, report = L.run_fleet(estate, "upgrade.yml", variables, tmp_path / "canary")
        assert proc.returncode != 0
        text = " ".join(L.task_messages(report, "ps01"))
        assert "exit code 1" in text and "ASRUnifiedSetup.log" in text, text[:600]
        for host in PSS[1:]:  # only the screening's read-only probe (check mode), before the canary
            assert L.identities(estate, host) == ["probe v1"], (host, L.identities(estate, host))
        assert max(L.max_concurrent({h: L.out_of_service(estate, h) for h in PSS})[0], 0) <= 1

        L.clear_faults(estate)
        proc, _ = L.run_fleet(estate, "upgrade.yml", variables, tmp_path / "resume")
        assert proc.returncode == 0, proc.stdout[-3000:]
        L.clear(estate)
        proc, report = L.run_fleet(estate, "upgrade.yml", variables, tmp_path / "again")
        assert proc.returncode == 0
        stats = report.get("stats") or {}
        assert all(stats[h]["changed"] == 0 for h in PSS), stats
        assert all(L.changing_calls(estate, h) == [] for h in PSS)
