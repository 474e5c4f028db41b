"""asr.process_server.uninstall and .unregister end to end: real ansible-playbook over WinRM against the lab.

installed-old: refusal without workload_moved; check mode lists exactly the steps and changes nothing; ordered
removal (the process log's uninstaller order); resume after a failed MSI step (fault msiexec_exit_code) and
after a dropped connection (fault drop_connection_at); a finished host costs one call.
disconnected: unregister on the CS refuses a live PS, predicts in check mode from the database alone, purges the
dead one and verifies it in the database, then is one unchanged call; an unreadable database fails, never purges.
"""

from __future__ import annotations

import pytest
from lab_ops import clear, identities, processes, run_task, served

pytestmark = pytest.mark.lab

ORDER = [
    "configuration_process_server",
    "configuration_process_server_dependencies",
    "mobility_service_master_target",
    "recovery_services_agent",
]
MOVED = {"workload_moved": True}


def uninstallers(estate, host="ps01"):
    """The process log's uninstall command lines, as (program, product code or folder)."""
    out = []
    for line in processes(estate, host):
        exe = line.split('"')[1]
        if exe.lower().endswith("unins000.exe"):
            out.append(("inno", exe.rsplit("\\", 1)[0]))
        elif exe.lower() == "msiexec.exe":
            out.append(("msi", line.split()[3]))
    return out


def installed(estate, host="ps01"):
    from lab.asr import products

    return sorted(products.installed_versions(estate.read_host(host)))


def test_refusal_check_mode_and_ordered_removal(tmp_path):
    with served(tmp_path, "installed-old") as estate:
        clear(estate)
        refused, _ = run_task(estate, "ps01", "uninstall", {}, tmp_path / "o")
        assert refused["failed"] and "workload_moved" in refused["msg"] and "Switch" in refused["msg"]
        assert "Start-AzRecoveryServicesAsrSwitchProcessServerJob" in refused["msg"]
        assert identities(estate, "ps01") == ["probe v1"]

        before = estate.read_host("ps01").data
        clear(estate)
        predicted, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o", "--check")
        assert [s["product"] for s in predicted["plan"]] == ORDER and predicted["changed"]
        assert [s["name"] for s in predicted["steps"]] == [f"uninstall {s['display_name']}" for s in predicted["plan"]]
        assert identities(estate, "ps01") == ["probe v1"] and estate.read_host("ps01").data == before

        clear(estate)
        done, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o")
        assert not done.get("failed"), done.get("msg")
        assert [r["product"] for r in done["removed"]] == ORDER == [s["product"] for s in predicted["plan"]]
        assert [s["name"] for s in done["steps"]] == [s["name"] for s in predicted["steps"]]
        assert identities(estate, "ps01") == ["probe v1"] + ["uninstall_step v1"] * 4
        assert uninstallers(estate) == [
            ("inno", r"D:\home\svsystems"),
            ("inno", r"C:\thirdparty"),
            ("msi", "{275197FC-14FD-4560-A5EB-38217F80CBD1}"),
            ("msi", "{0000004C-4142-4D41-5253-000000000001}"),
        ]
        assert installed(estate) == []
        # [5] connected path: the CS/PS uninstall unregistered it on the configuration server
        assert "10.0.0.101" not in estate.read_host("cs01").asr["registered_process_servers"]

        clear(estate)
        again, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o")
        assert again["changed"] is False and identities(estate, "ps01") == ["probe v1"]


def test_resume_after_a_failed_msi_step_and_keep_mars(tmp_path):
    with served(tmp_path, "installed-old") as estate:
        with estate.open_host("ps01") as host:
            host.faults["msiexec_exit_code"] = 1603
        failed, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o")
        assert failed["failed"] and failed["rc"] == 1603 and "UnifiedAgentMSIUninstall.log" in failed["msg"]
        assert any("1603" in line for line in failed["log_tail"])
        assert [r["product"] for r in failed["removed"]] == ORDER[:2]
        assert installed(estate) == ["mars", "mt"]

        clear(estate)
        resumed, _ = run_task(estate, "ps01", "uninstall", {**MOVED, "keep_mars_agent": True}, tmp_path / "o")
        assert [r["product"] for r in resumed["removed"]] == [ORDER[2]]
        assert identities(estate, "ps01") == ["probe v1", "uninstall_step v1"] and installed(estate) == ["mars"]


def test_resume_after_a_dropped_connection(tmp_path):
    with served(tmp_path, "installed-old") as estate:
        with estate.open_host("ps01") as host:
            host.faults["drop_connection_at"] = 3  # probe, CS/PS step, then the Dependencies step is lost
        lost, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o", task_extra={"ignore_unreachable": True})
        assert lost.get("unreachable") or lost.get("failed")
        assert installed(estate) == ["dependencies", "mars", "mt"]  # only the CS/PS went

        clear(estate)
        resumed, _ = run_task(estate, "ps01", "uninstall", MOVED, tmp_path / "o")
        assert not resumed.get("failed"), resumed.get("msg")
        assert [r["product"] for r in resumed["removed"]] == ORDER[1:] and installed(estate) == []


def test_unregister_refuses_live_purges_dead_then_unchanged(tmp_path):
    with served(tmp_path, "disconnected") as estate:
        live, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.102"}, tmp_path / "o")
        assert live["failed"] and "force=true" in live["msg"]
        assert "10.0.0.102" in estate.read_host("cs01").asr["registered_process_servers"]

        clear(estate)
        before = estate.read_host("cs01").asr["registered_process_servers"].keys()
        predicted, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.101"}, tmp_path / "o", "--check")
        assert predicted["changed"] and predicted["process_servers"][0]["name"] == "PS01"
        assert estate.read_host("cs01").asr["registered_process_servers"].keys() == before
        assert identities(estate, "cs01") == ["registration_read v1"]
        assert not [line for line in processes(estate, "cs01") if "perl" in line.lower()]  # check mode: no purge script

        clear(estate)
        purged, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.101"}, tmp_path / "o")
        assert purged["changed"] and [r["name"] for r in purged["purged"]] == ["PS01"]
        assert identities(estate, "cs01") == ["registration_read v1", "unregister_purge v2", "registration_read v1"]
        cs = estate.read_host("cs01").asr
        assert "10.0.0.101" not in cs["registered_process_servers"]
        assert cs["unregistered_process_servers"][-1]["unregistered_by"] == "Unregister-ASRComponent.pl"

        clear(estate)
        again, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.101"}, tmp_path / "o")
        assert again["changed"] is False and identities(estate, "cs01") == ["registration_read v1"]

        on_ps, _ = run_task(estate, "ps02", "unregister", {"ip_address": "10.0.0.101"}, tmp_path / "o")
        assert on_ps["failed"] and "not a configuration server" in on_ps["msg"]


def test_a_database_that_cannot_be_read_fails_with_what_to_do_and_never_purges(tmp_path):
    with served(tmp_path, "disconnected") as estate:
        with estate.open_host("cs01") as cs:
            cs.set_service_state("MySQL", "stopped")
        clear(estate)
        result, _ = run_task(estate, "cs01", "unregister", {"ip_address": "10.0.0.101", "force": True}, tmp_path / "o")
        assert result["failed"] and "start the MySQL service" in result["msg"]
        assert identities(estate, "cs01") == ["registration_read v1"]
        assert "10.0.0.101" in estate.read_host("cs01").asr["registered_process_servers"]
        info, _ = run_task(estate, "cs01", "registration_info", {"ip_addresses": ["10.0.0.101"]}, tmp_path / "o")
        assert info["failed"] and "ERROR 2003" in info["msg"]
        assert not [line for line in processes(estate, "cs01") if "perl" in line.lower()]
