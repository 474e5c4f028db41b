"""asr.process_server.proxy and .register end to end: real ansible-playbook over WinRM against the lab.

drifted-proxy: the proxy converges (probe + one change call), a second run is exactly one remote call (the
probe); check mode predicts exactly and changes nothing; a recognisable password never appears in -vvvv output,
the journal, the process log or the host's files; obengine failing to start gives a clear failure.
installed-old/fresh: register is one call when nothing is wrong, re-registers with force, fails clearly when
the configuration server is unreachable or nothing is installed.
"""

from __future__ import annotations

import json

import pytest
from lab_ops import clear, identities, processes, run_task, served

pytestmark = pytest.mark.lab

PASSWORD = "Zq9-Recognisable-Proxy-Pw-41"
ARGS = {
    "proxy_address": "http://proxy.corp.example",
    "proxy_port": 3128,
    "proxy_username": "CORP\\svc-asr",
    "proxy_password": PASSWORD,
}


def mars_proxy(estate, host="ps01"):
    return estate.read_host(host).asr.get("mars_proxy_effective")


def test_drifted_proxy_converges_then_one_call_and_the_password_leaks_nowhere(tmp_path):
    with served(tmp_path, "drifted-proxy") as estate:
        before = estate.read_host("ps01").data
        clear(estate)
        predicted, _ = run_task(estate, "ps01", "proxy", ARGS, tmp_path / "o", "--check", "--diff")
        assert predicted["changed"] and predicted["registered_mt"] and identities(estate, "ps01") == ["probe v1"]
        assert estate.read_host("ps01").data == before  # check mode changed nothing
        assert predicted["diff"]["after"]["mars_proxy"]["address"] == ARGS["proxy_address"]

        clear(estate)
        first, proc = run_task(estate, "ps01", "proxy", ARGS, tmp_path / "o", "-vvvv", "--diff")
        assert not first.get("failed"), first.get("msg")
        assert first["changed"] and identities(estate, "ps01") == ["probe v1", "proxy_apply v1"]
        assert first["proxy"] == predicted["proxy"]  # check mode predicted exactly
        effective = mars_proxy(estate)
        assert effective["ProxyServer"] == ARGS["proxy_address"] and effective["ProxyPort"] == 3128
        assert effective["ProxyUserName"] == ARGS["proxy_username"] and "password_sha256" in effective
        # [8] order: restart obengine, cdpcli --registermt from the Agent folder, restart obengine again
        assert [p.split('"')[1].rsplit("\\", 1)[-1] + p.split('"')[2] for p in processes(estate, "ps01")] == [
            "net.exe stop obengine",
            "net.exe start obengine",
            "cdpcli.exe --registermt",
            "net.exe stop obengine",
            "net.exe start obengine",
        ]
        cs = estate.read_host("cs01").asr["registered_process_servers"]["10.0.0.101"]
        assert cs["mt_registered"] is True

        journal_text = estate.journal_path("ps01").read_text(encoding="utf-8")
        host_state = estate.host_path("ps01").read_text(encoding="utf-8")
        process_log = estate.processes_path("ps01").read_text(encoding="utf-8")
        for where, text in {
            "-vvvv output": proc.stdout + proc.stderr,
            "journal": journal_text,
            "process log": process_log,
            "host files and state": host_state,
            "result": json.dumps(first),
        }.items():
            assert PASSWORD not in text, where

        clear(estate)
        second, _ = run_task(estate, "ps01", "proxy", ARGS, tmp_path / "o")
        assert second["changed"] is False and identities(estate, "ps01") == ["probe v1"]


def test_absent_and_settings_file(tmp_path):
    path = r"C:\ProgramData\ASRSetup\ProxySettings.conf"
    anonymous = {"proxy_address": "http://10.0.0.5", "proxy_port": 8080, "settings_file": path}
    with served(tmp_path, "drifted-proxy") as estate:
        first, _ = run_task(estate, "ps02", "proxy", anonymous, tmp_path / "o")
        assert first["changed"] and not first.get("failed"), first.get("msg")
        host = estate.read_host("ps02")
        assert host.read_text(path).splitlines()[2] == 'ProxyIP = "http://10.0.0.5"'
        acl = host.stat(path)["acl"]  # what Set-Acl gave it: SYSTEM and Administrators only, inheritance removed
        assert acl["sids"] == ["S-1-5-18", "S-1-5-32-544"] and acl["protected"] is True
        clear(estate)
        again, _ = run_task(estate, "ps02", "proxy", anonymous, tmp_path / "o")
        assert again["changed"] is False and identities(estate, "ps02") == ["probe v1"]
        absent, _ = run_task(estate, "ps02", "proxy", {"state": "absent"}, tmp_path / "o")
        assert absent["changed"] and mars_proxy(estate, "ps02") == {}


def test_obengine_failing_to_start_is_a_clear_failure(tmp_path):
    with served(tmp_path, "drifted-proxy") as estate:
        with estate.open_host("ps01") as host:
            host.faults["service_fails_to_start"] = ["obengine"]
        result, _ = run_task(estate, "ps01", "proxy", ARGS, tmp_path / "o")
        assert result["failed"] and "start_obengine" in result["msg"] and "event log" in result["msg"]
        assert result["rc"] == 2 and "could not be started" in result["stderr"]
        assert PASSWORD not in json.dumps(result)
        with estate.open_host("ps01") as host:
            host.faults.pop("service_fails_to_start")
        clear(estate)
        repaired, _ = run_task(estate, "ps01", "proxy", ARGS, tmp_path / "o")
        # The proxy was set before the failure but obengine is stopped: the re-run applies the procedure again.
        assert repaired["changed"] and not repaired.get("failed"), repaired.get("msg")
        assert identities(estate, "ps01") == ["probe v1", "proxy_apply v1"]
        assert estate.read_host("ps01").service("obengine")["state"] == "running"
        assert mars_proxy(estate)["ProxyServer"] == ARGS["proxy_address"]


def test_registration_converged_force_and_cs_unreachable(tmp_path):
    with served(tmp_path, "installed-old") as estate:
        clear(estate)
        result, _ = run_task(estate, "ps01", "registration", {"configuration_server_ip": "10.0.0.11"}, tmp_path / "o")
        assert result["changed"] is False and identities(estate, "ps01") == ["probe v1"]
        assert result["registration"]["configuration_server_reachable"] is True

        predicted, _ = run_task(estate, "ps01", "registration", {"force": True}, tmp_path / "o", "--check")
        assert predicted["changed"] and [s["name"] for s in predicted["steps"]] == [
            "cdpcli.exe --registermt",
            "restart obengine",
        ]

        clear(estate)
        forced, _ = run_task(estate, "ps01", "registration", {"force": True}, tmp_path / "o")
        assert forced["changed"] and identities(estate, "ps01") == ["probe v1", "register_apply v1"]
        assert [p.split('"')[1].rsplit("\\", 1)[-1] for p in processes(estate, "ps01")] == [
            "cdpcli.exe",
            "net.exe",
            "net.exe",
        ]

        with estate.open_host("ps01") as host:
            host.faults["cs_unreachable"] = True
        clear(estate)
        failed, _ = run_task(estate, "ps01", "registration", {}, tmp_path / "o")
        assert failed["failed"] and failed["rc"] == 1 and "TCP 443" in failed["msg"]
        assert "Unable to connect" in failed["stderr"]
        assert identities(estate, "ps01") == ["probe v1", "register_apply v1"]

        moved, _ = run_task(estate, "ps02", "registration", {"configuration_server_ip": "10.0.0.99"}, tmp_path / "o")
        assert moved["failed"] and "cspsconfigtool" in moved["msg"]


def test_registration_on_a_fresh_host_fails_clearly_after_the_probe(tmp_path):
    with served(tmp_path, "fresh") as estate:
        clear(estate)
        result, _ = run_task(estate, "ps01", "registration", {}, tmp_path / "o")
        assert result["failed"] and "install" in result["msg"] and identities(estate, "ps01") == ["probe v1"]
