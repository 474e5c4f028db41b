"""Read paths never purge (ARCHITECTURE.md decision 9, issue 10 item 1), end to end over real WinRM.

The configuration server carries the 2017 revision of Unregister-ASRComponent.pl, which purges a process server
at once -- no listing, no prompt [5]. Every fleet playbook runs against it with hosts that need a change, so
each health gate really reads the heartbeats on the configuration server; afterwards every registration is still
there and the configuration server's process log shows that perl never started. Then the read-only module
itself, and unregister and decommission.yml in check mode, on the same configuration server.

One estate for the module (the playbooks only change the process servers they are meant to change):
ps01 bare (site.yml installs it), ps02 at 9.53 (upgrade.yml), ps03 with a drifted MARS proxy (proxy.yml), ps04
current (reregister.yml with asr_force_reregister), ps05 registered but dead (for unregister's check mode).
"""

from __future__ import annotations

import pathlib

import pytest
import yaml
from lab_ops import clear, identities, playbook, processes, recap, run_task, served

from lab.asr import constants as c
from lab.asr import products
from lab.asr.installer import package_bytes
from tests.lab_support import CURRENT, fleet_vars

pytestmark = pytest.mark.lab

PROXY = {"address": "http://proxy.corp.example", "port": 3128, "username": "CORP\\svc-asr"}
SEED = {
    "description": "configuration server with the 2017 Unregister-ASRComponent.pl (purges at once)",
    "hosts": [
        {
            "name": "cs01",
            "role": "configuration_server",
            "ip": "10.0.0.11",
            "asr": {"version": CURRENT, "unregister_script": "2017"},
        },
        {"name": "ps01", "role": "process_server", "ip": "10.0.0.101", "asr": {}},
        {"name": "ps02", "role": "process_server", "ip": "10.0.0.102", "asr": {"cs": "cs01", "version": "9.53.6904.1"}},
        {
            "name": "ps03",
            "role": "process_server",
            "ip": "10.0.0.103",
            "asr": {
                "cs": "cs01",
                "version": CURRENT,
                "proxy": PROXY,
                "mars_proxy": {"address": "http://old-proxy.corp.example", "port": 8080},
            },
        },
        {"name": "ps04", "role": "process_server", "ip": "10.0.0.104", "asr": {"cs": "cs01", "version": CURRENT}},
        {
            "name": "ps05",
            "role": "process_server",
            "ip": "10.0.0.105",
            "reachable": False,
            "asr": {"cs": "cs01", "version": CURRENT, "heartbeat_age_s": 3600, "services": {"tmansvc": "stopped"}},
        },
    ],
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("read-paths")
    seed_file = root / "purge-2017.yml"
    seed_file.write_text(yaml.safe_dump(SEED), encoding="utf-8")
    installer = root / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    installer.write_bytes(package_bytes(CURRENT))
    with served(root, str(seed_file), ps=5) as estate:
        yield estate, installer, root


def variables(installer: pathlib.Path, **extra) -> dict:
    return fleet_vars(asr_installer=str(installer), asr_proxy={**PROXY, "password": "Read-Paths-Pw-1"}, **extra)


def registrations(estate) -> set[str]:
    return set(estate.read_host("cs01").asr.get("registered_process_servers", {}))


def assert_nothing_purged(estate, before: set[str]) -> None:
    cs = estate.read_host("cs01").asr
    assert before <= registrations(estate), sorted(before - registrations(estate))
    assert cs.get("unregistered_process_servers", []) == []
    started = processes(estate, "cs01")
    assert not [line for line in started if "perl" in line.lower() or "unregister-asrcomponent" in line.lower()]


def run(lab, name: str, *extra: str, **extra_vars):
    estate, installer, root = lab
    clear(estate)
    before = registrations(estate)
    rc, output = playbook(estate, name, variables(installer, **extra_vars), root / name, *extra)
    assert_nothing_purged(estate, before)
    return rc, output


def heartbeat_reads(estate) -> list[str]:
    """The configuration server's remote calls of the health gates (anything but the CS's own probe)."""
    return [i for i in identities(estate, "cs01") if i != "probe v1"]


def test_preflight_and_plan_read_only(lab):
    rc, output = run(lab, "preflight.yml", "--limit", "!ps05")
    assert "Preflight a process server rollout" in output, output[-3000:]
    rc, output = run(lab, "plan.yml", "--limit", "!ps05")
    assert rc == 0, output[-3000:]


def test_proxy_gate_reads_heartbeats_without_purging(lab):
    estate = lab[0]
    rc, output = run(lab, "proxy.yml", "--limit", "ps03")
    assert rc == 0, output[-3000:]
    assert recap(output)["ps03"]["changed"] >= 1
    assert heartbeat_reads(estate) == ["registration_read v1"]  # the batch's one read on the configuration server
    # what ran on the configuration server: the MySQL client only, a SELECT in a read-only transaction, with the
    # configuration server's own account and the password in the client's environment, never on its command line
    started = processes(estate, "cs01")
    assert len(started) == 1 and "mysql.exe" in started[0] and "--user=svsystems" in started[0]
    assert c.LAB_DB_PASSWORD not in started[0] and c.LAB_DB_PASSWORD not in output
    session = estate.read_host("cs01").asr["mysql"]["sessions"][-1]
    assert session["rc"] == 0 and session["password_from"] == "MYSQL_PWD" and session["user"] == "svsystems"
    assert [s.split()[0].upper() for s in session["statements"]] == ["SET", "START", "SELECT", "COMMIT"]
    assert "READ ONLY" in session["statements"][1].upper()


def test_reregister_gate_reads_heartbeats_without_purging(lab):
    estate = lab[0]
    rc, output = run(lab, "reregister.yml", "--limit", "ps04", asr_force_reregister=True)
    assert rc == 0, output[-3000:]
    assert recap(output)["ps04"]["changed"] >= 1 and len(heartbeat_reads(estate)) == 1


def test_upgrade_gate_reads_heartbeats_without_purging(lab):
    estate = lab[0]
    rc, output = run(lab, "upgrade.yml", "--limit", "cs01,ps02")
    assert rc == 0, output[-3000:]
    assert estate.read_host("ps02").reg_get(c.REG_INSTALLED_CSPS, "Build_Version") == CURRENT
    assert len(heartbeat_reads(estate)) == 1


def test_site_gate_reads_heartbeats_without_purging(lab):
    estate = lab[0]
    rc, output = run(lab, "site.yml", "--limit", "ps01")
    assert rc == 0, output[-3000:]
    assert "10.0.0.101" in registrations(estate) and len(heartbeat_reads(estate)) == 1


def test_registration_info_with_a_dedicated_account_and_a_wrong_password(lab):
    estate, _, root = lab
    with estate.open_host("cs01") as cs:  # the runbook's least-privilege account
        products.mysql_accounts(cs)["asr_ro"] = "Ro-Account#1"
    clear(estate)
    args = {"ip_addresses": ["10.0.0.103", "10.0.0.9"], "database_user": "asr_ro", "database_password": "Ro-Account#1"}
    read, _ = run_task(estate, "cs01", "registration_info", args, root / "ri")
    assert not read.get("failed"), read.get("msg")
    assert [r["ip"] for r in read["process_servers"]] == ["10.0.0.103"] and read["database"]["credentials"] == "task"
    assert len(read["reasons"]) == 1
    assert read["reasons"][0].startswith("no process server with IP address 10.0.0.9 is registered")
    session = estate.read_host("cs01").asr["mysql"]["sessions"][-1]
    assert session["user"] == "asr_ro" and session["password_from"] == "MYSQL_PWD"
    wrong, _ = run_task(estate, "cs01", "registration_info", {**args, "database_password": "nope#123"}, root / "ri")
    assert wrong["failed"] and "database_user/database_password of the task" in wrong["msg"]
    assert "nope#123" not in str(wrong) and "Ro-Account#1" not in str(read)
    assert not [line for line in processes(estate, "cs01") if "perl" in line.lower() or "Ro-Account" in line]


def test_unregister_and_decommission_in_check_mode_never_start_the_purge_script(lab):
    estate, _, root = lab
    clear(estate)
    before = registrations(estate)
    predicted, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.105"}, root / "u", "--check")
    assert predicted["changed"] is True, predicted.get("msg")
    assert_nothing_purged(estate, before)
    extra = {"asr_decommission_hosts": "ps05", "asr_workload_moved": True, "asr_purge_from_configuration_server": True}
    rc, output = run(lab, "decommission.yml", "--check", **extra)
    assert rc == 0, output[-3000:]
    assert "10.0.0.105" in registrations(estate)


def test_unregister_purges_the_dead_process_server_once_and_verifies_in_the_database(lab):
    estate, _, root = lab
    clear(estate)
    purged, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.105"}, root / "purge")
    assert purged["changed"] is True and [r["ip"] for r in purged["purged"]] == ["10.0.0.105"], purged
    assert identities(estate, "cs01") == ["registration_read v1", "unregister_purge v2", "registration_read v1"]
    assert "10.0.0.105" not in registrations(estate)
    perl = [line for line in processes(estate, "cs01") if "perl" in line.lower()]
    assert perl == ['"perl.exe" Unregister-ASRComponent.pl -IPAddress 10.0.0.105 -Component PS']
    assert {"10.0.0.101", "10.0.0.102", "10.0.0.103", "10.0.0.104"} <= registrations(estate)
