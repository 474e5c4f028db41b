"""proxy/registration/uninstall/unregister actions with _execute_module replaying recorded win_powershell results:
one remote call when converged, bad input fails before any call, passwords never in results, check mode runs
no changing script."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from tests.unit.plugins.action.replay import make_plugin, ps, replay, scripts, step

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PROBE = json.loads((FIXTURES / "probe_v1_lab_drifted_proxy.json").read_text(encoding="utf-8"))
READ = json.loads((FIXTURES / "registration_read_v1_lab_disconnected.json").read_text(encoding="utf-8"))  # lab
PASSWORD = "Pr0xy-S3cret-7781"
CURRENT = {"proxy_address": "http://old-proxy.corp.example", "proxy_port": 8080}
WANTED = {
    "proxy_address": "http://proxy.corp.example",
    "proxy_port": 3128,
    "proxy_username": "CORP\\svc-asr",
    "proxy_password": PASSWORD,
}


def run(monkeypatch, module, args, replies, check_mode=False, diff=False):
    plugin = make_plugin(module, args, check_mode=check_mode, diff=diff)
    execute, result = replay(monkeypatch, plugin, replies)
    return result, scripts(execute), execute


# ---- converged: exactly one remote call ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "args", "reply"),
    [
        ("proxy", CURRENT, PROBE),
        ("registration", {"configuration_server_ip": "10.0.0.11"}, PROBE),
        ("unregister", {"ip_address": "10.0.0.9"}, READ),
    ],
)
def test_converged_is_one_remote_call(monkeypatch, module, args, reply):
    result, scripts, _ = run(monkeypatch, module, args, [ps(reply)])
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is False and len(scripts) == 1


def test_uninstall_with_nothing_left_is_one_call(monkeypatch):
    probe = copy.deepcopy(PROBE)
    probe["uninstall_entries"] = []
    probe["installed_products"] = {"csps": None, "dependencies": None}
    probe["amethyst_conf"]["ps_cs_ip"] = None
    result, scripts, _ = run(monkeypatch, "uninstall", {}, [ps(probe)])
    assert result["changed"] is False and scripts == ["probe v1"] and result["steps"] == []


# ---- changes ----------------------------------------------------------------------------------------------
def test_proxy_change_is_probe_plus_one_script_with_a_secure_password(monkeypatch):
    applied = {
        "ok": True,
        "failed_step": None,
        "steps": [step("set_ob_machine_setting"), step("registermt", stdout="ok")],
        "readback": {"enabled": True, "address": WANTED["proxy_address"], "port": 3128, "username": "CORP\\svc-asr"},
    }
    result, scripts, execute = run(monkeypatch, "proxy", WANTED, [ps(PROBE), ps(applied)], diff=True)
    assert not result.get("failed"), result.get("msg")
    assert scripts == ["probe v1", "proxy_apply v1"] and result["changed"] and result["registered_mt"]
    sent = execute.call_args_list[1].kwargs["module_args"]
    assert sent["sensitive_parameters"] == [{"name": "ProxyPassword", "value": PASSWORD}]
    assert PASSWORD not in json.dumps(sent["parameters"]) and PASSWORD not in sent["script"]
    assert result["diff"]["before"]["mars_proxy"]["address"] == "http://old-proxy.corp.example"
    assert PASSWORD not in json.dumps(result)


def test_proxy_failed_step_is_reported_with_rc_and_no_password(monkeypatch):
    applied = {
        "ok": False,
        "failed_step": "start_obengine",
        "steps": [step("set_ob_machine_setting"), step("start_obengine", 2, "", f"could not be started {PASSWORD}")],
        "readback": None,
    }
    result, _scripts, _ = run(monkeypatch, "proxy", WANTED, [ps(PROBE), ps(applied)])
    assert result["failed"] and result["rc"] == 2 and "start_obengine" in result["msg"]
    assert "event log" in result["msg"] and PASSWORD not in json.dumps(result)


def test_register_force_and_cs_unreachable_failure(monkeypatch):
    ok = {"ok": True, "failed_step": None, "steps": [step("registermt"), step("stop_obengine"), step("start_obengine")]}
    result, scripts, _ = run(monkeypatch, "registration", {"force": True}, [ps(PROBE), ps(ok)])
    assert result["changed"] and scripts == ["probe v1", "register_apply v1"]
    failed = {"ok": False, "failed_step": "registermt", "steps": [step("registermt", 1, "", "Unable to connect")]}
    result, _scripts, _ = run(monkeypatch, "registration", {"force": True}, [ps(PROBE), ps(failed)])
    assert result["failed"] and result["rc"] == 1 and "TCP 443" in result["msg"] and "Unable" in result["stderr"]


def test_uninstall_runs_one_call_per_step_and_stops_at_a_failure(monkeypatch):
    names = [e["display_name"] for e in PROBE["uninstall_entries"]]
    mt = next(n for n in names if "Master Target" in n)
    mars = next(n for n in names if "Recovery Services" in n)
    replies = [
        ps(PROBE),
        ps({"rc": 0, "stdout": "", "stderr": "", "remaining_entries": [mt, mars], "log_tail": []}),
        ps({"rc": 0, "stdout": "", "stderr": "", "remaining_entries": [mt, mars], "log_tail": []}),
        ps(
            {"rc": 1603, "stdout": "", "stderr": "Fatal", "remaining_entries": [mt, mars], "log_tail": ["status: 1603"]}
        ),
    ]
    result, scripts, execute = run(monkeypatch, "uninstall", {"workload_moved": True}, replies)
    assert scripts == ["probe v1", "uninstall_step v1", "uninstall_step v1", "uninstall_step v1"]
    assert result["failed"] and result["rc"] == 1603 and result["log_tail"] == ["status: 1603"]
    assert [r["product"] for r in result["removed"]] == ORDER[:2] and result["changed"] is True
    first = execute.call_args_list[1].kwargs["module_args"]["parameters"]["Argv"]
    assert first[0].lower().endswith("unins000.exe") and "/VERYSILENT" in first


ORDER = ["configuration_process_server", "configuration_process_server_dependencies"]


@pytest.mark.parametrize(
    ("outcome", "said"),
    [
        (
            {"rc": None, "timed_out": True, "stderr": "stopped"},
            "timed out (the program and what it started were stopped)",
        ),
        (
            {"rc": None, "error": True, "stderr": "The system cannot find the file"},
            "did not complete: The system cannot",
        ),
    ],
)
def test_an_uninstaller_without_exit_code_is_a_failure_that_says_why(monkeypatch, outcome, said):
    names = [e["display_name"] for e in PROBE["uninstall_entries"]]
    left = {"stdout": "", "remaining_entries": names, "log_tail": ["last line"]}
    result, scripts, _ = run(monkeypatch, "uninstall", {"workload_moved": True}, [ps(PROBE), ps({**left, **outcome})])
    assert scripts == ["probe v1", "uninstall_step v1"]
    assert result["failed"] and "the uninstaller gave no exit code" in result["msg"] and said in result["msg"]
    assert result.get("rc") is None and result["log_tail"] == ["last line"] and result["removed"] == []


def test_a_step_that_did_not_complete_keeps_the_steps_done_before_it(monkeypatch):
    applied = {
        "ok": False,
        "failed_step": "registermt",
        "steps": [
            step("set_ob_machine_setting"),
            step("stop_obengine"),
            step("start_obengine"),
            {**step("registermt", None, "", "cdpcli.exe was not found"), "error": True},
        ],
        "readback": None,
    }
    result, _scripts, _ = run(monkeypatch, "proxy", WANTED, [ps(PROBE), ps(applied)])
    assert result["failed"] and "registermt (did not complete: cdpcli.exe was not found)" in result["msg"]
    # the procedure's steps [8]: net stop + net start are one restart; the one that did not complete says why
    assert [s["name"] for s in result["steps"]] == [
        "Set-OBMachineSetting (proxy)",
        "restart obengine",
        "cdpcli.exe --registermt",
    ]
    assert result["steps"][-1] == {
        "name": "cdpcli.exe --registermt",
        "changed": False,
        "msg": "did not complete: cdpcli.exe was not found",
        "failed": True,
    }
    assert all(s["changed"] and "failed" not in s for s in result["steps"][:-1])


def without(read, ip):
    """The read after a purge: the rows of ``ip`` are gone."""
    lines = [line for line in read["stdout"].split("\r\n") if f"\t{ip}\t" not in line]
    return {**read, "stdout": "\r\n".join(lines)}


def test_unregister_decides_from_the_database_purges_then_verifies(monkeypatch):
    purge = {
        "is_configuration_server": True,
        "script_present": True,
        "bin_dir": "x",
        "rc": 0,
        "stdout": "",
        "stderr": "",
    }
    replies = [ps(READ), ps(purge), ps(without(READ, "10.0.0.101"))]
    result, scripts, execute = run(monkeypatch, "unregister", {"ip_address": "10.0.0.101"}, replies)
    assert scripts == ["registration_read v1", "unregister_purge v2", "registration_read v1"] and result["changed"]
    assert [r["name"] for r in result["purged"]] == ["PS01"]
    assert execute.call_args_list[1].kwargs["module_args"]["parameters"] == {"IpAddress": "10.0.0.101"}


def test_unregister_fails_when_the_database_still_lists_the_address(monkeypatch):
    purge = {
        "is_configuration_server": True,
        "script_present": True,
        "bin_dir": "B",
        "rc": 1,
        "stdout": "?",
        "stderr": "",
    }
    result, scripts, _ = run(monkeypatch, "unregister", {"ip_address": "10.0.0.101"}, [ps(READ), ps(purge), ps(READ)])
    assert result["failed"] and result["changed"] is True and "still lists 1 process server" in result["msg"]
    assert scripts == ["registration_read v1", "unregister_purge v2", "registration_read v1"]


def test_unregister_refuses_a_live_process_server_with_one_read(monkeypatch):
    result, scripts, _ = run(monkeypatch, "unregister", {"ip_address": "10.0.0.102"}, [ps(READ)])
    assert result["failed"] and "force=true" in result["msg"] and scripts == ["registration_read v1"]


def test_unregister_never_falls_back_to_the_purge_script_when_the_database_cannot_be_read(monkeypatch):
    denied = {
        **READ,
        "rc": 1,
        "stdout": "",
        "stderr": "ERROR 1045 (28000): Access denied for user 'svsystems'@'localhost'",
    }
    result, scripts, _ = run(monkeypatch, "unregister", {"ip_address": "10.0.0.101", "force": True}, [ps(denied)])
    assert result["failed"] and "refused the account" in result["msg"] and result["rc"] == 1
    assert scripts == ["registration_read v1"]


# ---- check mode: no changing script ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "args", "reply"),
    [
        ("proxy", WANTED, PROBE),
        ("registration", {"force": True}, PROBE),
        ("uninstall", {"workload_moved": True}, PROBE),
        ("unregister", {"ip_address": "10.0.0.101"}, READ),
    ],
)
def test_check_mode_predicts_with_the_read_only_call_only(monkeypatch, module, args, reply):
    result, scripts, _ = run(monkeypatch, module, args, [ps(reply)], check_mode=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] is True and len(scripts) == 1 and scripts[0] in ("probe v1", "registration_read v1")
    assert PASSWORD not in json.dumps(result)


# ---- bad input: fails before any remote call, naming the option and what it accepts -------------------------
BAD = [
    ("proxy", {"state": "gone", **CURRENT}, "state", "present, absent"),
    ("proxy", {**CURRENT, "update_password": "sometimes"}, "update_password", "always, on_change"),
    ("proxy", {"proxy_address": "proxy.corp", "proxy_port": 80}, "proxy_address", "http://"),
    ("proxy", {"proxy_address": "http://p", "proxy_port": 0}, "proxy_port", "1 to 65535"),
    ("proxy", {"proxy_address": "http://p", "proxy_port": 70000}, "proxy_port", "1 to 65535"),
    ("proxy", {"proxy_address": "http://p"}, "proxy_port", "type int"),
    ("proxy", {"proxy_address": "http://p", "proxy_port": "eighty"}, "proxy_port", "type int"),
    ("proxy", {**CURRENT, "proxy_username": "u"}, "proxy_password", "type str"),
    ("proxy", {**CURRENT, "proxy_username": "u", "proxy_password": 'a"b'}, "proxy_password", "without"),
    ("proxy", {"state": "absent", "proxy_port": 8080}, "proxy_port", "nothing with state=absent"),
    ("proxy", {**WANTED, "settings_file": r"C:\p.conf"}, "settings_file", "without authentication"),
    ("proxy", {**CURRENT, "settings_file": "p.conf"}, "settings_file", "absolute Windows path"),
    ("proxy", {**CURRENT, "bogus": 1}, "bogus", "Supported parameters"),
    ("registration", {"configuration_server_ip": "10.0.0.300"}, "configuration_server_ip", "IPv4"),
    ("registration", {"force": "perhaps"}, "force", "type bool"),
    ("uninstall", {"workload_moved": "maybe"}, "workload_moved", "type bool"),
    ("uninstall", {"keep_mars_agent": [1]}, "keep_mars_agent", "type bool"),
    ("unregister", {}, "ip_address", "required"),
    ("unregister", {"ip_address": "ps01.corp"}, "ip_address", "IPv4"),
    ("unregister", {"ip_address": "10.0.0.101", "force": "no way"}, "force", "type bool"),
    ("unregister", {"ip_address": "10.0.0.101", "ip_addresses": ["10.0.0.101"]}, "ip_addresses", "Supported"),
    ("unregister", {"ip_address": "10.0.0.101", "database_user": "ro"}, "database_password", "together"),
    (
        "unregister",
        {"ip_address": "10.0.0.101", "database_user": "", "database_password": "x"},
        "database_user",
        "empty",
    ),
]


@pytest.mark.parametrize(("module", "args", "option", "allowed"), BAD)
def test_bad_input_fails_before_any_remote_call(monkeypatch, module, args, option, allowed):
    result, scripts, _ = run(monkeypatch, module, args, [])
    assert result["failed"] and scripts == []
    assert option in result["msg"] and allowed in result["msg"], result["msg"]
    assert PASSWORD not in json.dumps(result) and 'a"b' not in json.dumps(result)


# ---- a process server of another configuration server ---------------------------------------------------------
@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("proxy", {**WANTED, "configuration_server_ip": "10.0.0.12"}),
        ("registration", {"configuration_server_ip": "10.0.0.12", "force": True}),
    ],
)
def test_another_configuration_server_is_refused_after_the_probe(monkeypatch, module, args, check_mode):
    # PROBE is registered to 10.0.0.11 (amethyst.conf PS_CS_IP); the task names 10.0.0.12
    result, scripts, _ = run(monkeypatch, module, args, [ps(PROBE)], check_mode=check_mode)
    assert result["failed"] and scripts == ["probe v1"]
    assert result["refused"] is True and result["changed"] is False
    assert "10.0.0.11" in result["msg"] and "10.0.0.12" in result["msg"] and "cspsconfigtool" in result["msg"]
    assert PASSWORD not in json.dumps(result)


def test_proxy_without_configuration_server_ip_keeps_the_configured_one(monkeypatch):
    applied = {"ok": True, "failed_step": None, "steps": [step("set_ob_machine_setting")], "readback": None}
    result, scripts, _ = run(monkeypatch, "proxy", {**WANTED}, [ps(PROBE), ps(applied)], check_mode=True)
    assert not result.get("failed") and scripts == ["probe v1"] and result["changed"]
