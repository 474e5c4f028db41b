"""upgrade.yml upgrades the configuration server first, then the process servers ([4] order), against the lab.

* ``cs-old`` seed (cs01 and every process server at 9.52, installer 9.55): cs01 runs ``UnifiedSetup.exe
  /Upgrade`` (CS mode, decided from CX_TYPE [6.4]) and its last call ends before any process server's first call
  (journal timestamps); then the process servers are upgraded; a second run changes nothing;
* the configuration server's upgrade fails (lab fault ``installer_exit_code`` 1): the playbook ends with no
  call at all on any process server, which keep their build;
* check mode predicts the configuration server's upgrade and changes nothing anywhere.
"""

from __future__ import annotations

import pathlib

import pytest
from lab_ops import clear, identities, processes, served
from test_playbooks_lab import CURRENT, OLD, fleet_vars, json_lines, playbook, recap, version

from lab.asr import products

pytestmark = pytest.mark.lab

SEED = pathlib.Path(__file__).parent / "seeds" / "cs-old.yml"
PSS = ("ps01", "ps02", "ps03")


@pytest.fixture
def installer(tmp_path):
    from lab.asr.installer import package_bytes

    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(package_bytes(CURRENT))
    return path


def setup_runs(estate, host: str) -> list[str]:
    return [line for line in processes(estate, host) if "UnifiedSetup.exe" in line and "/Upgrade" in line]


def test_the_configuration_server_is_upgraded_first_then_the_process_servers(tmp_path, installer):
    with served(tmp_path, SEED, ps=3) as estate:
        assert version(estate, "cs01") == OLD and all(version(estate, h) == OLD for h in PSS)
        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "first")
        assert rc == 0, output[-4000:]
        assert recap(output)["cs01"]["changed"] >= 1
        cs = estate.read_host("cs01")
        assert version(estate, "cs01") == CURRENT and products.is_configuration_server(cs)
        assert products.installed_version(cs, "provider") == CURRENT  # [1.3] the CS-only Provider too
        assert setup_runs(estate, "cs01") and all(r.rstrip().endswith("/Upgrade") for r in setup_runs(estate, "cs01"))
        for host in PSS:
            assert version(estate, host) == CURRENT, host
            assert len(setup_runs(estate, host)) == 1, host
        # order [4]: every call of the configuration server's play ended before the first process server call
        cs_calls = json_lines(estate.journal_path("cs01"))
        cs_upgrade_end = max(e["time"] for e in cs_calls if e.get("identity") in ("setup_poll v1", "setup_cleanup v1"))
        first_ps_call = min(e["time"] for h in PSS for e in json_lines(estate.journal_path(h)))
        assert cs_upgrade_end < first_ps_call
        # the configuration server was upgraded, then surveyed (health) before any process server
        cs_identities = [e.get("identity") for e in cs_calls if e["time"] < first_ps_call]
        assert cs_identities[0] == "probe v1" and "setup_start v1" in cs_identities
        assert cs_identities[-1] == "probe v1"

        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "again")
        assert rc == 0, output[-4000:]
        assert all(counts["changed"] == 0 for counts in recap(output).values()), recap(output)
        assert identities(estate, "cs01")[:2] == ["probe v1", "probe v1"]  # upgrade (unchanged) + health survey
        for host in PSS:
            assert identities(estate, host) == ["probe v1"], host


def test_a_failed_configuration_server_upgrade_touches_no_process_server(tmp_path, installer):
    with served(tmp_path, SEED, ps=3) as estate:
        with estate.open_host("cs01") as host:
            host.faults["installer_exit_code"] = 1  # [1.4] Failed
        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "faulted")
        assert rc != 0
        result = recap(output)
        assert result["cs01"]["failed"] == 1
        assert "setup_start v1" in identities(estate, "cs01")
        for host in PSS:
            assert identities(estate, host) == [], host  # not even a read
            assert version(estate, host) == OLD, host
            assert result.get(host, {}).get("changed", 0) == 0, host


def test_check_mode_predicts_the_configuration_server_upgrade_and_changes_nothing(tmp_path, installer):
    with served(tmp_path, SEED, ps=3) as estate:
        clear(estate)
        rc, output = playbook(estate, "upgrade.yml", fleet_vars(installer), tmp_path / "check", "--check")
        assert rc == 0, output[-4000:]
        assert recap(output)["cs01"]["changed"] >= 1
        for host in PSS:  # planned against the configuration server's predicted build (9.55), not refused
            assert recap(output)[host]["changed"] >= 1 and recap(output)[host]["failed"] == 0, host
        for host in ("cs01", *PSS):
            assert version(estate, host) == OLD, host
            assert not setup_runs(estate, host), host
