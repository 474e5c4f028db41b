"""The fleet playbooks end to end: real ansible-playbook over real WinRM against a lab of 1 CS + 10 PS.

* site.yml on ``mixed`` (ps01 fresh, ps02 current, ps03 old on E:, ps04 drifted proxy, ps05 dead, ps06-ps10
  bare): converges every live process server (ps05 is left out with --limit; decommission.yml purges it), and a
  second run changes nothing with exactly ONE remote call per process server and none on the CS;
* upgrade.yml on ``installed-old``: the configuration server comes first (already at the build: unchanged);
  process servers upgrade in a canary then waves; an injected installer failure on ps05 stops the rollout with
  ps06-ps10 untouched (no call at all in their journals); after the fault is gone a re-run finishes; a
  configuration server that cannot be upgraded stops before any process server is touched;
* decommission.yml: refuses without asr_workload_moved (nothing uninstalled), then removes ps03 and purges
  ps05 (gone for good) from the configuration server;
* proxy.yml on ``drifted-proxy``: every MARS proxy put back, then one call per host.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from lab_ops import clear, identities, playbook, processes, recap, served

from lab.asr import constants as c
from lab.asr.installer import package_bytes
from tests import lab_support
from tests.lab_support import CURRENT

pytestmark = pytest.mark.lab

OLD = "9.52.6801.1"
PASSWORD = "Fleet-Proxy-Pw-4711"
PSS = [f"ps{n:02d}" for n in range(1, 11)]


def fleet_vars(installer: pathlib.Path) -> dict:
    proxy = {"address": "http://proxy.corp.example", "port": 3128, "username": "CORP\\svc-asr", "password": PASSWORD}
    return lab_support.fleet_vars(asr_installer=str(installer), asr_data_port=9443, asr_proxy=proxy)


@pytest.fixture
def installer(tmp_path):
    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(package_bytes(CURRENT))
    return path


def version(estate, host: str) -> str | None:
    """The Configuration/Process Server's Build_Version (Installed Products\\9 [6.4]) in the host's state."""
    return estate.read_host(host).reg_get(c.REG_INSTALLED_CSPS, "Build_Version")


def registered_ips(estate) -> set[str]:
    return set(estate.read_host("cs01").asr.get("registered_process_servers", {}))


CHANGING = ("setup_start v1", "proxy_apply v1", "register_apply v1", "uninstall_step v1")


def changing_calls(estate, host: str) -> list[str]:
    return [i for i in identities(estate, host) if i and (i in CHANGING or i.startswith("ansible.windows.win_copy"))]


def test_site_converges_a_mixed_fleet_then_costs_one_call_per_host(tmp_path, installer):
    live = [h for h in PSS if h != "ps05"]  # ps05 is dead in the mixed seed (decommission.yml purges it)
    with served(tmp_path, "mixed", ps=10) as estate:
        clear(estate)
        rc, output = playbook(estate, "site.yml", fleet_vars(installer), tmp_path / "first", "--limit", "!ps05")
        assert rc == 0, output[-4000:]
        result = recap(output)
        for host in live:
            assert result[host]["failed"] == 0 and result[host]["changed"] >= 1, (host, result[host])
            effective = estate.read_host(host).asr.get("mars_proxy_effective") or {}
            assert effective.get("ProxyServer") == "http://proxy.corp.example", host
        for host in ("ps01", *PSS[5:]):  # fresh and bare hosts were installed at the installer's build
            assert version(estate, host) == CURRENT, host
        assert version(estate, "ps03") == "9.53.6904.1"  # present does not upgrade (upgrade.yml does)
        assert {f"10.0.0.{100 + n}" for n in (1, 2, 3, 4, 6, 7, 8, 9, 10)} <= registered_ips(estate)
        assert identities(estate, "ps05") == []
        assert PASSWORD not in output
        for host in live:
            assert PASSWORD not in estate.journal_path(host).read_text(encoding="utf-8"), host
            assert not any(PASSWORD in line for line in processes(estate, host)), host

        # the heartbeat was read ONCE PER BATCH of the rolling play (one read-only read of the batch's hosts in the
        # configuration server's database), not once per changed host: 9 hosts in [1, 25%] batches
        batches = output.count("PLAY [Converge the scale-out process servers that need it, in rolling batches]")
        assert batches == 5, output[-4000:]
        assert identities(estate, "cs01") == ["registration_read v1"] * batches
        assert "has no process server registered" not in output

        clear(estate)
        rc, output = playbook(estate, "site.yml", fleet_vars(installer), tmp_path / "again", "--limit", "!ps05")
        assert rc == 0, output[-4000:]
        result = recap(output)
        for host in live:
            assert result[host]["changed"] == 0 and result[host]["failed"] == 0, (host, result[host])
            assert identities(estate, host) == ["probe v1"], host  # ONE remote call per host in total
            assert result[host]["ok"] == 1, (host, result[host])  # and one task: the screening's check-mode probe
        assert identities(estate, "cs01") == []  # no heartbeat read when nothing changed
        # the rolling play has no hosts, and the optional preflight ran nothing (not even skips)
        assert re.search(
            r"PLAY \[Converge the scale-out process servers that need it[^\n]*\n+skipping: no hosts matched",
            output,
        )
        assert "Preflight a process server rollout" not in output


def test_upgrade_goes_in_batches_and_stops_on_a_failed_batch(tmp_path, installer):
    with served(tmp_path, "installed-old", ps=10) as estate:
        with estate.open_host("ps05") as host:
            host.faults["installer_exit_code"] = 1
        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "faulted")
        assert rc != 0
        assert identities(estate, "cs01")[0] == "probe v1"  # the configuration server was surveyed first
        for host in ("ps01", "ps02", "ps03", "ps04"):
            assert version(estate, host) == CURRENT, host
        assert recap(output)["ps05"]["failed"] == 1
        # serial [1, '25%'] of 10: [ps01], [ps02, ps03], [ps04, ps05] -- the third batch failed, so the rollout
        # stopped there: ps06-ps10 were only screened (one read-only probe in check mode) and got the package staged
        # before the canary (package_stage, one put_file, package_stage: nothing of the product), never changed
        for host in PSS[5:]:
            assert identities(estate, host) == ["probe v1", "package_stage v1", "put_file", "package_stage v1"], host
            assert version(estate, host) == OLD, host
        # the canary finished (upgrade, then its gate) before the first wave started
        canary_end = max(e["time"] for e in json_lines(estate.journal_path("ps01")))
        # (ps02's first calls are the screening's read-only probe and the staging, before the canary; its wave
        # starts with its module's probe, its second "probe v1")
        ps02 = sorted(json_lines(estate.journal_path("ps02")), key=lambda e: e["time"])
        wave_start = [e["time"] for e in ps02 if e["identity"] == "probe v1"][1]
        assert canary_end < wave_start
        # the heartbeats were read on the configuration server once per batch (one read-only read of the
        # batch): [ps01] and [ps02, ps03] passed their gates; the failed batch stopped before its gate
        assert identities(estate, "cs01").count("registration_read v1") == 2
        assert "unregister_purge v2" not in identities(estate, "cs01")

        with estate.open_host("ps05") as host:
            host.faults.pop("installer_exit_code", None)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "resumed")
        assert rc == 0, output[-4000:]
        assert all(version(estate, host) == CURRENT for host in PSS)

        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "converged")
        assert rc == 0, output[-4000:]
        for host in PSS:
            assert identities(estate, host) == ["probe v1"], host


def test_upgrade_stops_before_any_process_server_when_the_cs_cannot_be_upgraded(tmp_path, installer):
    # the configuration server (9.55) is upgraded first now (tests/integration/test_upgrade_cs_lab.py); here its
    # upgrade cannot happen (the package is not the 9.56 the variables claim), so no process server is touched
    with served(tmp_path, "installed-old", ps=2) as estate:
        clear(estate)
        variables = {**fleet_vars(installer), "asr_installer_version": "9.56.7200.1"}
        rc, output = playbook(estate, "upgrade.yml", variables, tmp_path / "cs-old")
        assert rc != 0
        assert recap(output)["cs01"]["failed"] == 1
        assert re.search(r"not (the )?9\.56\.7200\.1", " ".join(output.split()))  # the package is 9.55
        assert version(estate, "cs01") == CURRENT
        for host in ("ps01", "ps02"):
            assert identities(estate, host) == [], host
            assert version(estate, host) == OLD


def test_decommission_refuses_without_the_drain_then_removes_and_purges(tmp_path, installer):
    with served(tmp_path, "mixed", ps=10) as estate:
        base = fleet_vars(installer)
        clear(estate)
        rc, output = playbook(estate, "decommission.yml", base, tmp_path / "nohosts")
        assert rc != 0 and "Name the process servers to decommission" in output
        assert all(identities(estate, h) == [] for h in PSS)

        one = {**base, "asr_decommission_hosts": "ps03"}
        rc, output = playbook(estate, "decommission.yml", one, tmp_path / "nodrain")
        assert rc != 0 and "Start-AzRecoveryServicesAsrSwitchProcessServerJob" in output
        assert changing_calls(estate, "ps03") == []
        assert "10.0.0.103" in registered_ips(estate)

        variables = {
            **base,
            "asr_decommission_hosts": "ps03,ps05",
            "asr_workload_moved": True,
            "asr_purge_from_configuration_server": True,
        }
        rc, output = playbook(estate, "decommission.yml", variables, tmp_path / "gone")
        assert rc == 0, output[-4000:]
        ips = registered_ips(estate)
        assert "10.0.0.103" not in ips and "10.0.0.105" not in ips
        assert {"10.0.0.102", "10.0.0.104"} <= ips  # the others stay
        assert version(estate, "ps03") is None
        for host in ("ps01", "ps02", "ps04", *PSS[5:]):
            assert identities(estate, host) == [], host


def test_proxy_converges_a_drifted_fleet(tmp_path, installer):
    with served(tmp_path, "drifted-proxy", ps=10) as estate:
        clear(estate)
        rc, output = playbook(estate, "proxy.yml", fleet_vars(installer), tmp_path / "fix")
        assert rc == 0, output[-4000:]
        for host in PSS:
            effective = estate.read_host(host).asr.get("mars_proxy_effective") or {}
            assert effective.get("ProxyServer") == "http://proxy.corp.example" and effective.get("ProxyPort") == 3128
            # the screening's read-only probe, then the rolling play's task: its probe and the procedure
            assert identities(estate, host) == ["probe v1", "probe v1", "proxy_apply v1"], host
        assert PASSWORD not in output

        clear(estate)
        rc, output = playbook(estate, "proxy.yml", fleet_vars(installer), tmp_path / "again")
        assert rc == 0, output[-4000:]
        for host in PSS:
            assert identities(estate, host) == ["probe v1"], host
        assert identities(estate, "cs01") == []


READ_ONLY = {"probe v1", "registration_read v1"}
# package_stage changes files (the staged package) in a real run; run in check mode, as here, it only reports (its
# SupportsShouldProcess guards every change), which the unchanged host states below prove
CHECK_MODE_CALLS = READ_ONLY | {"package_stage v1"}


def state_of(estate, host: str) -> dict:
    """The host's emulated state, less the heartbeats the lab's CS records as live process servers send them and
    the lab's own record of the reads its MySQL answered (lab/asr/mysql.py: an audit trail, not host state)."""
    data = json.loads(json.dumps(estate.read_host(host).data))
    for record in (data.get("asr") or {}).get("registered_process_servers", {}).values():
        record.pop("last_heartbeat", None)
    ((data.get("asr") or {}).get("mysql") or {}).pop("sessions", None)
    return data


# ps05 is dead in the mixed seed (a real run fails it too); the proxy and the registration need an installed host
# (on the bare ps01/ps06 the real run fails, so check mode does as well: honest, not a prediction problem)
INSTALLED = "ps02,ps03,ps04"


@pytest.mark.parametrize(
    ("name", "extra_vars", "limit"),
    [
        ("site.yml", {}, "!ps05"),
        ("proxy.yml", {}, INSTALLED),
        ("reregister.yml", {"asr_force_reregister": True}, INSTALLED),
        ("upgrade.yml", {}, "!ps05"),
        (  # ps03 uninstalled (its purge decided after the uninstall), the dead ps05 purged: both predicted
            "decommission.yml",
            {
                "asr_decommission_hosts": "ps03,ps05",
                "asr_workload_moved": True,
                "asr_purge_from_configuration_server": True,
            },
            "all",
        ),
    ],
)
def test_check_mode_on_the_mixed_estate_predicts_and_changes_nothing(tmp_path, installer, name, extra_vars, limit):
    with served(tmp_path, "mixed", ps=6) as estate:
        before = {h: state_of(estate, h) for h in ("cs01", *PSS[:6])}
        clear(estate)
        variables = {**fleet_vars(installer), **extra_vars}
        rc, output = playbook(estate, name, variables, tmp_path / "check", "--check", "--limit", limit)
        assert rc == 0, output[-4000:]
        assert sum(r["changed"] for r in recap(output).values()) >= 1  # it predicts the changes it would make
        for host, data in before.items():
            assert set(identities(estate, host)) <= CHECK_MODE_CALLS, (host, identities(estate, host))
            assert state_of(estate, host) == data, host  # no write at all
        assert PASSWORD not in output


def test_a_failed_heartbeat_read_fails_the_batch_and_stops_the_rollout(tmp_path, installer):
    with served(tmp_path, "drifted-proxy", ps=4) as estate:
        with estate.open_host("cs01") as host:  # the configuration server drops the read's connection
            host.faults["drop_connection_at"] = "registration_read v1"
        clear(estate)
        rc, output = playbook(estate, "proxy.yml", fleet_vars(installer), tmp_path / "hb")
        assert rc != 0
        assert "the heartbeat read failed on configuration server cs01" in " ".join(output.split())
        result = recap(output)
        assert result["ps01"]["failed"] == 1  # the canary, whose heartbeat could not be read
        assert identities(estate, "cs01") == ["registration_read v1"]  # once, for the canary batch
        for host in PSS[1:4]:  # the rollout stopped: later batches were screened (read-only) and not changed
            assert identities(estate, host) == ["probe v1"], host


def json_lines(path: pathlib.Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
