"""A process server registered to ANOTHER configuration server is refused before any change (issue 10, item 2).

Seed ``foreign-cs``: ps02's amethyst.conf names 10.0.0.12 [6.5], not this estate's configuration server 10.0.0.11,
and every process server's MARS proxy has drifted from the fleet's. The documented re-registration
(``cdpcli --registermt``) only re-registers with the configured server [3.3], so the proxy procedure [8] on ps02
would change its MARS proxy, restart obengine and register its master target with the other server:

* site.yml, proxy.yml and reregister.yml: the screening refuses ps02 (one read-only probe) and the rolling play
  fails it with the screening's message before any task that can change it: no other call in its journal, no
  program in its process log, its MARS proxy unchanged; the batch counts it as failed (max_fail_percentage 0
  stops the rollout there);
* the modules themselves (process_server, proxy, registration, upgrade, uninstall) refuse it after their
  read-only probe, outside any fleet playbook, in check mode and in a real run, naming both configuration servers.
"""

from __future__ import annotations

import pathlib

import pytest
from lab_ops import clear, identities, processes, run_task, served
from test_playbooks_lab import fleet_vars, playbook, recap

pytestmark = pytest.mark.lab

SEED = pathlib.Path(__file__).parent / "seeds" / "foreign-cs.yml"
FOREIGN = "ps02"
OLD_PROXY = "http://old-proxy.corp.example"


@pytest.fixture
def installer(tmp_path):
    from lab.asr.installer import package_bytes

    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(package_bytes("9.55.7123.1"))
    return path


def mars_proxy(estate, host: str) -> str | None:
    return (estate.read_host(host).asr.get("mars_proxy_effective") or {}).get("ProxyServer")


def assert_untouched(estate, host: str) -> None:
    """Only read-only probes reached the host, no program ran on it, and its MARS proxy is the seed's."""
    assert set(identities(estate, host)) <= {"probe v1"}, identities(estate, host)
    assert processes(estate, host) == [], processes(estate, host)
    assert mars_proxy(estate, host) == OLD_PROXY


@pytest.mark.parametrize(
    ("name", "extra_vars"),
    [("site.yml", {}), ("proxy.yml", {}), ("reregister.yml", {"asr_force_reregister": True})],
)
def test_a_fleet_playbook_changes_nothing_on_a_process_server_of_another_configuration_server(
    tmp_path, installer, name, extra_vars
):
    with served(tmp_path, SEED, ps=3) as estate:
        clear(estate)
        rc, output = playbook(estate, name, {**fleet_vars(installer), **extra_vars}, tmp_path / "run")
        assert rc != 0
        assert_untouched(estate, FOREIGN)
        # the screening's probe, then nothing: the rolling play failed it without calling the module again
        assert identities(estate, FOREIGN) == ["probe v1"]
        text = " ".join(output.split())
        assert "refused by the screening" in text, output[-3000:]
        assert "10.0.0.12" in text and "10.0.0.11" in text  # what is wrong: both configuration servers named
        assert "cspsconfigtool" in text  # what to do
        assert "TCP 443" not in text  # not the proxy procedure's failure
        assert recap(output)[FOREIGN]["failed"] == 1
        # the canary (ps01) rolled; ps02's batch failed, so ps03 of the same batch was stopped before any change
        assert "ps03" in recap(output)
        if name != "reregister.yml":
            assert mars_proxy(estate, "ps01") == "http://proxy.corp.example"
        assert_untouched(estate, "ps03")


MODULE_ARGS = {
    "process_server": {
        "configuration_server_ip": "10.0.0.11",
        "passphrase": "LabPassphrase0001",
        "installer_remote_path": "C:\\ProgramData\\ASRSetupStaging\\x\\MicrosoftAzureSiteRecoveryUnifiedSetup.exe",
        "install_location": "D:\\",
        "env_type": "VMware",
        "proxy": {"address": "http://proxy.corp.example", "port": 3128},
    },
    "proxy": {
        "configuration_server_ip": "10.0.0.11",
        "proxy_address": "http://proxy.corp.example",
        "proxy_port": 3128,
    },
    "registration": {"configuration_server_ip": "10.0.0.11", "force": True},
    # issue 11 item 10: configuration_server_ip means "the configuration server the host belongs to" here too
    "upgrade": {
        "configuration_server_ip": "10.0.0.11",
        "installer_remote_path": "C:\\ProgramData\\ASRSetupStaging\\x\\MicrosoftAzureSiteRecoveryUnifiedSetup.exe",
        "installer_version": "9.56.7200.1",
    },
    "uninstall": {"configuration_server_ip": "10.0.0.11", "workload_moved": True},
}


@pytest.mark.parametrize("check", [True, False], ids=["check", "real"])
@pytest.mark.parametrize("module", sorted(MODULE_ARGS))
def test_the_module_refuses_a_process_server_of_another_configuration_server(tmp_path, module, check):
    with served(tmp_path, SEED, ps=3) as estate:
        clear(estate)
        result, _proc = run_task(
            estate, FOREIGN, module, MODULE_ARGS[module], tmp_path, *(["--check"] if check else [])
        )
        assert result.get("failed") is True, result
        assert result.get("refused") is True, result
        assert result.get("changed") is not True, result
        assert "10.0.0.12" in result["msg"] and "10.0.0.11" in result["msg"], result["msg"]
        assert identities(estate, FOREIGN) == ["probe v1"]
        assert_untouched(estate, FOREIGN)


def test_a_jump_beyond_n4_is_refused_by_the_screening_naming_asr_installers(tmp_path, installer):
    # issue 10, item 10a: an operator of site.yml (asr_state=latest) or upgrade.yml sets asr_installers, not the
    # module option installers; ps03 of the mixed seed is at 9.53, the installer claims 9.58 (5 minor versions)
    variables = {
        **fleet_vars(installer),
        "asr_installer_version": "9.58.1.1",
        "asr_configuration_server_version": "9.58.1.1",
        "asr_state": "latest",
    }
    with served(tmp_path, "mixed", ps=3) as estate:
        clear(estate)
        rc, output = playbook(estate, "site.yml", variables, tmp_path / "n4", "--limit", "ps03")
        assert rc != 0
        text = " ".join(output.split())
        assert "refused by the screening" in text and "N-4" in text, output[-3000:]
        assert "installers (asr_installers in the playbooks)" in text
        assert identities(estate, "ps03") == ["probe v1"]
