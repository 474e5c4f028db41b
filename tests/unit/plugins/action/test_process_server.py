"""asr.process_server.process_server with _execute_module replaying recorded probe results (lab mixed estate:
fresh ps01, old ps03; drifted-proxy ps01): one remote call when converged, each state/combination composes the
right operations on the ONE probe, check mode predicts with the probe only, bad option combinations fail before
any remote call naming the option and what is allowed, secrets never in results."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from ansible_collections.asr.process_server.plugins.action import process_server
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import probe as probe_domain
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import proxy_plan
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.product import PROCESS_SERVER_SERVICES
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import install as op_install
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import proxy as op_proxy
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import registration as op_registration
from tests.unit.plugins.action.replay import make_plugin, ps, replay, scripts, step

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


def fixture(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


FRESH = fixture("probe_v1_lab_mixed_fresh.json")
OLD = fixture("probe_v1_lab_mixed_installed_old.json")  # 9.53.6904.1 (N-2), no proxy
DRIFTED = fixture("probe_v1_lab_drifted_proxy.json")  # 9.55.7123.1, MARS proxy old-proxy:8080
PASSWORD = "Pr0xy-S3cret-7781"
PASSPHRASE = "Lab-Passphrase-9931"
CURRENT = "9.55.7123.1"
REMOTE = r"D:\Media\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
PROXY = {"address": "http://proxy.corp.example", "port": 3128, "username": "CORP\\svc-asr", "password": PASSWORD}
BASE = {
    "configuration_server_ip": "10.0.0.11",
    "passphrase": PASSPHRASE,
    "installer_remote_path": REMOTE,
    "installer_version": CURRENT,
    "install_location": "D:\\",
    "env_type": "VMware",
}


def with_installer(probe):
    """The probe as it reads an installer_remote_path that is on the host."""
    probe = copy.deepcopy(probe)
    probe["checks"]["installer"] = {
        "path": REMOTE,
        "exists": True,
        "size_bytes": 1024,
        "file_version": CURRENT,
        "product_version": CURRENT,
        "sha256": "ab" * 32,
    }
    return probe


def with_mars_proxy(probe, proxy=None):
    probe = copy.deepcopy(probe)
    proxy = proxy or PROXY
    probe["mars"]["proxy"] = {
        "source": "Get-OBMachineSetting",
        "enabled": True,
        "address": proxy["address"],
        "port": proxy["port"],
        "username": proxy.get("username"),
    }
    return probe


def at_version(probe, version):
    probe = copy.deepcopy(probe)
    probe["installed_products"]["csps"]["build_version"] = version
    probe["installed_products"]["dependencies"]["build_version"] = version
    for entry in probe["uninstall_entries"]:
        entry["display_version"] = version
    return probe


CONVERGED = with_mars_proxy(with_installer(DRIFTED))


def setup_replies(version=CURRENT, rc=0, post_state=None):
    """setup_start, one setup_poll that finds setup exited, setup_cleanup (with the probe it ran: ``post_state``)."""
    services = [{"name": n, "present": True, "state": "running"} for n in PROCESS_SERVER_SERVICES]
    poll = {
        "run": {"state": "exited", "rc": rc, "error": None, "pid": 4242, "stdout_tail": []},
        "csps": {"build_version": version, "cx_type": "2"},
        "amethyst_conf": {"ps_cs_ip": "10.0.0.11", "ps_cs_port": "443"},
        "services": services,
        "pending_reboot": False,
        "setup_log": {"path": r"C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log", "tail": []},
    }
    cleanup = {"removed": [], "problems": [], "post_state_error": None}
    if post_state is not None:
        cleanup["post_state"] = post_state
    return [ps({"pid": 4242, "run_dir": "x"}), ps(poll), ps(cleanup)]


def run(monkeypatch, args, replies, check_mode=False, diff=False):
    plugin = make_plugin(process_server, args, check_mode=check_mode, diff=diff)
    execute, result = replay(monkeypatch, plugin, replies)
    text = json.dumps(result)
    assert PASSWORD not in text and PASSPHRASE not in text  # secrets never in any result
    return result, scripts(execute), execute


def ok(result):
    assert not result.get("failed"), result.get("msg")
    return result


def changed_ops(result):
    return [name for name, entry in result["operations"].items() if entry["changed"]]


def op_steps(result, operation):
    """The names of one operation's steps (``steps`` is one list in the shared shape, each marked ``operation``)."""
    return [s["name"] for s in result["steps"] if s["operation"] == operation]


# ---- converged: exactly ONE remote call --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("state", "probe", "extra"),
    [
        ("present", CONVERGED, {"proxy": PROXY}),
        ("latest", CONVERGED, {"proxy": PROXY}),
        ("present", with_installer(DRIFTED), {}),  # proxy not managed
        ("present", with_installer(OLD), {"proxy": {"state": "absent"}}),  # old but present: no upgrade
        ("present", CONVERGED, {"proxy": PROXY, "force_reregister": False}),
    ],
)
def test_converged_host_is_exactly_one_remote_call(monkeypatch, state, probe, extra):
    result, scripts, execute = run(monkeypatch, {**BASE, "state": state, **extra}, [ps(probe)], diff=True)
    ok(result)
    assert execute.call_count == 1 and scripts == ["probe v1"] and result["remote_calls"] == 1
    assert result["changed"] is False and result["actions"] == []
    assert result["diff"]["before"] == result["diff"]["after"]


def test_the_one_probe_carries_the_union_of_the_operations_parameters(monkeypatch):
    _result, _scripts, execute = run(monkeypatch, {**BASE, "proxy": PROXY}, [ps(CONVERGED)])
    params = execute.call_args.kwargs["module_args"]["parameters"]
    assert params["CheckRegisteredConfigurationServer"] is True  # registration
    assert params["ConfigurationServerIp"] == "10.0.0.11" and params["ConfigurationServerPort"] == 443  # install
    assert params["InstallerPath"] == REMOTE  # install preflight
    assert "sensitive_parameters" not in execute.call_args.kwargs["module_args"]


# ---- fresh: install (setup sets the proxy), re-probe once -------------------------------------------------------
def test_fresh_check_mode_predicts_install_and_the_proxy_setup_sets(monkeypatch):
    result, scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, [ps(with_installer(FRESH))], True, True)
    ok(result)
    assert scripts == ["probe v1"] and result["changed"] and changed_ops(result) == ["install"]
    assert op_steps(result, "install") == [
        "run Unified Setup (install)",
        "clean up staged secrets and extracted files",
    ]
    # [1.3] setup sets the MARS proxy from its proxy settings file and registers: nothing left for those steps
    assert (
        result["operations"]["proxy"]["changed"] is False and result["operations"]["registration"]["changed"] is False
    )
    after = result["diff"]["after"]
    assert after["components"]["configuration_process_server"] == CURRENT
    assert after["proxy"] == {"enabled": True, "address": PROXY["address"], "port": 3128, "username": "CORP\\svc-asr"}
    assert after["registration"] == {"registered": True, "configuration_server_ip": "10.0.0.11"}
    assert result["diff"]["before"]["proxy"] is None and result["version_after"] == CURRENT


def test_fresh_real_run_installs_and_reads_the_result_in_the_cleanup_call(monkeypatch):
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=CONVERGED)]
    result, scripts, execute = run(monkeypatch, {**BASE, "proxy": PROXY}, replies)
    ok(result)
    assert scripts == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]
    assert result["remote_calls"] == 4 and changed_ops(result) == ["install"]
    # the cleanup call ran the collection's probe script with the first probe's parameters (the final read)
    cleanup = execute.call_args_list[3].kwargs["module_args"]["parameters"]
    assert cleanup["ProbeScript"].startswith("# asr.process_server script: probe v1")
    assert cleanup["ProbeParameters"] == execute.call_args_list[0].kwargs["module_args"]["parameters"]
    assert "_post_state" not in result["operations"]["install"] and "post_state" not in json.dumps(result)
    sent = execute.call_args_list[1].kwargs["module_args"]
    secrets = {p["name"]: p["value"] for p in sent["sensitive_parameters"]}
    assert secrets["Passphrase"] == PASSPHRASE and PASSWORD in secrets["ProxySettings"]
    assert PASSWORD not in json.dumps(sent["parameters"]) and PASSPHRASE not in json.dumps(sent["parameters"])


@pytest.mark.parametrize("check_mode", [False, True])
def test_each_probe_result_is_read_once(monkeypatch, check_mode):
    """One reading per probe (issue 11 item 1): the task's probe and the cleanup call's, each read once into the
    ProbedHost every operation plans from (it was read four times: once per operation that looked at it)."""
    reads = []
    read = probe_domain.facts
    monkeypatch.setattr(probe_domain, "facts", lambda raw: reads.append(raw) or read(raw))
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=CONVERGED)]
    result, scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, replies, check_mode=check_mode)
    ok(result)
    assert len(reads) == len([s for s in scripts if s == "probe v1"]) + (not check_mode)
    assert reads[0] == with_installer(FRESH) and (check_mode or reads[1] == CONVERGED)


def spy(monkeypatch, module, name, seen):
    real = getattr(module, name)

    def call(action, host, *args, **kwargs):
        outcome = real(action, host, *args, **kwargs)
        seen.append((name, host, outcome))
        return outcome

    monkeypatch.setattr(module, name, call)


@pytest.mark.parametrize("check_mode", [False, True])
def test_each_operation_plans_from_the_host_the_one_before_left(monkeypatch, check_mode):
    """Issue 11 item 2: every operation returns its own ``after`` and the next one starts from it; the action makes
    no host of its own (it made a probe-shaped dict after setup, the proxy and the registration)."""
    seen = []
    for module, name in ((op_install, "ensure_installed"), (op_proxy, "ensure_proxy"),
                         (op_registration, "ensure_registered")):  # fmt: skip
        spy(monkeypatch, module, name, seen)
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=CONVERGED)]
    ok(run(monkeypatch, {**BASE, "proxy": PROXY}, replies, check_mode=check_mode)[0])
    assert [name for name, _host, _outcome in seen] == ["ensure_installed", "ensure_proxy", "ensure_registered"]
    (_, first, installed), (_, after_install, proxied), (_, after_proxy, _registered) = seen
    assert first.raw == with_installer(FRESH) and after_install is installed.after and after_proxy is proxied.after
    # the real run reads the host again (setup's cleanup call); check mode predicts what setup leaves [1.3]
    assert after_install.raw == (with_installer(FRESH) if check_mode else CONVERGED)
    assert after_install.complete and after_install.registered_cs_ip == "10.0.0.11"


def test_the_wanted_proxy_is_checked_once_before_the_probe(monkeypatch):
    """Issue 11 item 2: the action and the proxy operation each planned the wanted proxy from the options."""
    calls = []
    real = proxy_plan.desired_settings
    monkeypatch.setattr(proxy_plan, "desired_settings", lambda args: calls.append(args) or real(args))
    ok(run(monkeypatch, {**BASE, "proxy": PROXY}, [ps(CONVERGED)])[0])
    assert len(calls) == 1


@pytest.mark.parametrize(("given", "passed"), [("VMWare", "VMware"), ("nonvmware", "NonVMware")])
def test_env_type_in_microsofts_spelling_installs_with_the_normalised_value(monkeypatch, given, passed):
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=CONVERGED)]
    result, _scripts, execute = run(monkeypatch, {**BASE, "env_type": given, "proxy": PROXY}, replies)
    ok(result)
    arguments = execute.call_args_list[1].kwargs["module_args"]["parameters"]["SetupArguments"]
    assert f" /EnvType {passed} " in f" {arguments} ", arguments


def test_fresh_real_run_probes_on_its_own_when_the_cleanup_could_not_read(monkeypatch):
    replies = [ps(with_installer(FRESH)), *setup_replies(), ps(CONVERGED)]  # no post_state (the read failed)
    result, scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, replies)
    ok(result)
    assert scripts == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1", "probe v1"]
    assert result["remote_calls"] == 5 and changed_ops(result) == ["install"]


def test_fresh_real_run_sets_the_proxy_when_setup_did_not(monkeypatch):
    # The re-probe is what the next steps see: setup left no MARS proxy (e.g. exit 115 was not reported).
    no_proxy = with_installer(DRIFTED)
    no_proxy["mars"]["proxy"] = {"source": "Get-OBMachineSetting", "enabled": False, "address": None, "port": None}
    applied = {
        "ok": True,
        "steps": [step("set_ob_machine_setting"), step("registermt")],
        "readback": {"enabled": True, "address": PROXY["address"], "port": 3128, "username": "CORP\\svc-asr"},
    }
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=no_proxy), ps(applied)]
    result, scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, replies)
    ok(result)
    assert scripts[-2:] == ["setup_cleanup v1", "proxy_apply v1"] and changed_ops(result) == ["install", "proxy"]


# ---- drifted proxy: proxy only ------------------------------------------------------------------------------
def test_drifted_proxy_is_probe_plus_one_proxy_call_and_no_second_registration(monkeypatch):
    applied = {
        "ok": True,
        "steps": [
            step("set_ob_machine_setting"),
            step("stop_obengine"),
            step("start_obengine"),
            step("registermt"),
            step("stop_obengine_after_registermt"),
            step("start_obengine_after_registermt"),
        ],
        "readback": {"enabled": True, "address": PROXY["address"], "port": 3128, "username": "CORP\\svc-asr"},
    }
    args = {**BASE, "proxy": PROXY, "force_reregister": True}
    predicted, scripts, _ = run(monkeypatch, args, [ps(with_installer(DRIFTED))], check_mode=True)
    assert scripts == ["probe v1"] and changed_ops(ok(predicted)) == ["proxy"]
    result, scripts, execute = run(monkeypatch, args, [ps(with_installer(DRIFTED)), ps(applied)], diff=True)
    ok(result)
    assert scripts == ["probe v1", "proxy_apply v1"] and changed_ops(result) == ["proxy"]
    assert (
        op_steps(result, "proxy")
        == op_steps(predicted, "proxy")
        == [
            "Set-OBMachineSetting (proxy)",
            "restart obengine",
            "cdpcli.exe --registermt",
            "restart obengine",
        ]
    )
    # force_reregister is satisfied by the proxy procedure's cdpcli --registermt [8], not run twice
    assert result["operations"]["registration"]["changed"] is False
    assert execute.call_args_list[1].kwargs["module_args"]["sensitive_parameters"] == [
        {"name": "ProxyPassword", "value": PASSWORD}
    ]
    assert result["diff"]["before"]["proxy"]["address"] == "http://old-proxy.corp.example"
    assert result["diff"]["after"]["proxy"]["address"] == PROXY["address"]


def test_force_reregister_alone_runs_the_registration(monkeypatch):
    done = {"ok": True, "steps": [step("registermt"), step("stop_obengine"), step("start_obengine")]}
    result, scripts, _ = run(monkeypatch, {**BASE, "force_reregister": True}, [ps(CONVERGED), ps(done)])
    assert scripts == ["probe v1", "register_apply v1"] and changed_ops(ok(result)) == ["registration"]
    assert op_steps(result, "registration") == ["cdpcli.exe --registermt", "restart obengine"]


# ---- latest: upgrade -----------------------------------------------------------------------------------------
def test_latest_on_an_old_host_upgrades_and_present_does_not(monkeypatch):
    probe = with_installer(OLD)
    present, scripts, _ = run(monkeypatch, BASE, [ps(probe)])
    assert scripts == ["probe v1"] and ok(present)["changed"] is False
    assert "does not upgrade" in present["operations"]["install"]["msg"]

    predicted, scripts, _ = run(monkeypatch, {**BASE, "state": "latest"}, [ps(probe)], check_mode=True, diff=True)
    ok(predicted)
    assert scripts == ["probe v1"] and changed_ops(predicted) == ["upgrade"]
    assert op_steps(predicted, "upgrade") == [
        f"run Unified Setup /Upgrade to {CURRENT}",
        f"clean up staged secrets and extracted files ({CURRENT})",
    ]
    assert predicted["version_before"] == "9.53.6904.1" and predicted["version_after"] == CURRENT

    replies = [ps(probe), *setup_replies(post_state=at_version(probe, CURRENT))]
    done, scripts, execute = run(monkeypatch, {**BASE, "state": "latest"}, replies)
    ok(done)
    assert scripts == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]
    assert op_steps(done, "upgrade") == op_steps(predicted, "upgrade")
    assert execute.call_args_list[1].kwargs["module_args"]["parameters"]["SetupArguments"].strip() == "/Upgrade"
    assert done["version_after"] == CURRENT


def test_an_upgrade_that_needs_a_reboot_hands_on_the_host_its_cleanup_call_read(monkeypatch):
    """3010 without reboot: the upgrade stops, says a reboot is required, and (one setup path, issue 11 item 3) the
    next operations plan from the probe setup's cleanup call ran, as after an install -- no separate probe."""
    probe = with_installer(OLD)
    replies = [ps(probe), *setup_replies(rc=3010, post_state=at_version(probe, CURRENT))]
    done, scripts, _ = run(monkeypatch, {**BASE, "state": "latest"}, replies)
    ok(done)
    assert scripts == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]
    assert done["reboot_required"] is True and done["operations"]["upgrade"]["reboot_required"] is True
    assert done["version_after"] == CURRENT and done["remote_calls"] == 4


def test_latest_beyond_n_minus_4_plans_hops_through_the_intermediate_installers(monkeypatch):
    hop = r"D:\Media\UnifiedSetup-9.51.exe"
    args = {**BASE, "state": "latest", "installers": [{"remote_path": hop, "version": "9.51.6712.1"}]}
    probe = with_installer(at_version(OLD, "9.50.6601.1"))
    result, scripts, execute = run(monkeypatch, args, [ps(probe)], check_mode=True)
    ok(result)
    assert scripts == ["probe v1"] and result["operations"]["upgrade"]["hops"] == ["9.51.6712.1", CURRENT]
    assert op_steps(result, "upgrade")[0] == "run Unified Setup /Upgrade to 9.51.6712.1"
    assert execute.call_args.kwargs["module_args"]["parameters"]["InstallerPath"] == REMOTE


def test_latest_beyond_n_minus_4_fails_after_the_probe_naming_the_rule(monkeypatch):
    result, scripts, _ = run(
        monkeypatch, {**BASE, "state": "latest"}, [ps(with_installer(at_version(OLD, "9.50.6601.1")))]
    )
    assert (
        result["failed"] and scripts == ["probe v1"] and "N-4" in result["msg"] and result["msg"].startswith("upgrade:")
    )
    assert result["changed"] is False


# ---- absent --------------------------------------------------------------------------------------------------
def test_absent_without_workload_moved_is_refused_after_the_probe(monkeypatch):
    result, scripts, _ = run(monkeypatch, {"state": "absent"}, [ps(OLD)])
    assert result["failed"] and scripts == ["probe v1"] and "workload_moved" in result["msg"]
    assert result["changed"] is False and result["operations"]["uninstall"]["failed"]


def test_absent_with_workload_moved_check_then_real(monkeypatch):
    args = {"state": "absent", "workload_moved": True}
    predicted, scripts, _ = run(monkeypatch, args, [ps(OLD)], check_mode=True, diff=True)
    ok(predicted)
    assert scripts == ["probe v1"] and len(op_steps(predicted, "uninstall")) == 4
    assert set(predicted["diff"]["after"]["components"].values()) == {None}
    names = [e["display_name"] for e in OLD["uninstall_entries"]]
    deps, mt, mars = (
        next(n for n in names if word in n) for word in ("Dependencies", "Master Target", "Recovery Serv")
    )
    left = [[deps, mt, mars], [mt, mars], [mars], []]  # what Add/Remove Programs lists after each step
    replies = [ps(OLD)] + [
        ps({"rc": 0, "stdout": "", "stderr": "", "remaining_entries": r, "log_tail": []}) for r in left
    ]
    done, scripts, _ = run(monkeypatch, args, replies)
    ok(done)
    assert scripts == ["probe v1"] + ["uninstall_step v1"] * 4 and done["remote_calls"] == 5
    assert op_steps(done, "uninstall") == op_steps(predicted, "uninstall")


def test_absent_on_a_bare_host_is_one_call(monkeypatch):
    result, scripts, _ = run(monkeypatch, {"state": "absent", "install_location": "D:\\"}, [ps(FRESH)])
    assert scripts == ["probe v1"] and ok(result)["changed"] is False


def test_a_configuration_server_is_refused(monkeypatch):
    probe = with_installer(DRIFTED)
    probe["installed_products"]["csps"]["cx_type"] = "3"
    result, scripts, _ = run(monkeypatch, BASE, [ps(probe)])
    assert result["failed"] and scripts == ["probe v1"] and "configuration server" in result["msg"]


def test_a_failed_proxy_step_after_install_reports_both(monkeypatch):
    no_proxy = with_installer(DRIFTED)
    no_proxy["mars"]["proxy"] = {"source": "Get-OBMachineSetting", "enabled": False, "address": None, "port": None}
    failed = {
        "ok": False,
        "failed_step": "start_obengine",
        "steps": [step("set_ob_machine_setting"), step("start_obengine", 2, "", f"could not be started {PASSWORD}")],
    }
    replies = [ps(with_installer(FRESH)), *setup_replies(post_state=no_proxy), ps(failed)]
    result, _scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, replies)
    assert result["failed"] and result["msg"].startswith("proxy:") and result["changed"] is True
    assert result["operations"]["install"]["changed"] and result["operations"]["proxy"]["failed"] and result["rc"] == 2
    assert result["remote_calls"] == 5


# ---- bad option combinations: fail before any remote call ----------------------------------------------------
BAD = [
    ({**BASE, "state": "installed"}, "state", "present, latest, absent"),
    ({k: v for k, v in BASE.items() if k != "configuration_server_ip"}, "configuration_server_ip", "state is present"),
    ({k: v for k, v in BASE.items() if k != "env_type"}, "env_type", "VMware or NonVMware, in any capitalisation"),
    ({k: v for k, v in BASE.items() if k != "installer_remote_path"}, "installer_remote_path", "installer"),
    ({k: v for k, v in BASE.items() if k != "passphrase"}, "passphrase_file", "passphrase"),
    ({**BASE, "installer": "/x/setup.exe"}, "installer_remote_path", "mutually exclusive"),
    ({**BASE, "passphrase_file": r"C:\p.txt"}, "passphrase_file", "mutually exclusive"),
    ({**BASE, "state": "latest", "env_type": "Hyper-V"}, "env_type", "VMware or NonVMware, in any capitalisation"),
    ({**BASE, "env_type": " "}, "env_type", "The value is empty"),
    ({**BASE, "configuration_server_ip": "10.0.0.300"}, "configuration_server_ip", "IPv4"),
    ({**BASE, "data_port": 443}, "data_port", "443"),
    ({**BASE, "setup_timeout": 5}, "setup_timeout", "at least 60"),
    ({**BASE, "proxy": {"port": 3128}}, "address", "state is present"),
    ({**BASE, "proxy": {"address": "proxy.corp", "port": 3128}}, "proxy.address", "http://"),
    ({**BASE, "proxy": {"address": "http://p", "port": 70000}}, "proxy.port", "1 to 65535"),
    ({**BASE, "proxy": {"address": "http://p", "port": 80, "username": "u"}}, "password", "username"),
    ({**BASE, "proxy": {"state": "absent", "address": "http://p"}}, "proxy.address", "nothing with proxy.state=absent"),
    ({**BASE, "proxy": {**PROXY, "update_password": "sometimes"}}, "update_password", "always, on_change"),
    ({**BASE, "proxy": {**PROXY, "password": 'a"b'}}, "proxy.password", "without"),
    ({"state": "absent", "proxy": PROXY}, "proxy", "nothing with state=absent"),
    ({"state": "absent", "force_reregister": True}, "force_reregister", "false with state=absent"),
    ({"state": "absent", "workload_moved": "perhaps"}, "workload_moved", "type bool"),
    ({**BASE, "bogus": 1}, "bogus", "Supported parameters"),
    ({**BASE, "installers": [{"remote_path": REMOTE, "version": "9.51.6712.1"}]}, "installers", "unless state=latest"),
    ({**BASE, "state": "latest", "installers": [{"remote_path": REMOTE}]}, "version", "missing"),
]


@pytest.mark.parametrize(("args", "option", "allowed"), BAD, ids=[f"{i}-{b[1]}" for i, b in enumerate(BAD)])
def test_bad_combinations_fail_before_any_remote_call(monkeypatch, args, option, allowed):
    result, scripts, _ = run(monkeypatch, args, [])
    assert result["failed"] and scripts == [], result
    assert option in result["msg"] and allowed in result["msg"], result["msg"]
    assert 'a"b' not in json.dumps(result)


def test_the_spec_is_composed_from_the_other_modules():
    from ansible_collections.asr.process_server.plugins.action import install, proxy, registration, uninstall, upgrade

    spec = process_server.ActionModule.ARGUMENT_SPEC
    for name, option in install.ActionModule.ARGUMENT_SPEC.items():
        if name != "proxy":
            assert {k: v for k, v in option.items() if k != "required"} == spec[name]
    sub = spec["proxy"]["options"]
    assert sub["password"]["no_log"] and sub["update_password"] == proxy.ActionModule.ARGUMENT_SPEC["update_password"]
    assert spec["force_reregister"] == registration.ActionModule.ARGUMENT_SPEC["force"]
    assert all(spec[name] == option for name, option in uninstall.ActionModule.ARGUMENT_SPEC.items())
    assert spec["installers"] == upgrade.ActionModule.ARGUMENT_SPEC["installers"]


# ---- a process server of another configuration server: refused after the probe, before any step ---------------
def registered_to(probe, cs_ip):
    probe = copy.deepcopy(probe)
    probe["amethyst_conf"]["ps_cs_ip"] = cs_ip
    return probe


@pytest.mark.parametrize("state", ["present", "latest"])
@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
def test_a_process_server_of_another_configuration_server_is_refused_before_any_step(monkeypatch, state, check_mode):
    # the drifted MARS proxy would make the proxy step run cdpcli --registermt (against 10.0.0.12) before the
    # registration step saw the mismatch: the refusal comes first, and the only call is the probe
    probe = registered_to(with_installer(at_version(DRIFTED, "9.53.6904.1")), "10.0.0.12")
    args = {**BASE, "state": state, "proxy": PROXY}
    result, scripts, _ = run(monkeypatch, args, [ps(probe)], check_mode=check_mode)
    assert result["failed"] and scripts == ["probe v1"] and result["remote_calls"] == 1
    assert (
        result["refused"] is True
        and result["changed"] is False
        and result["steps"] == []
        and result["operations"] == {}
    )
    assert "10.0.0.12" in result["msg"] and "10.0.0.11" in result["msg"] and "cspsconfigtool" in result["msg"]


def test_refused_only_when_nothing_that_changes_the_host_ran(monkeypatch):
    # N-4 is refused after the probe: refused; a proxy step that failed after proxy_apply ran: not refused
    result, _scripts, _ = run(
        monkeypatch, {**BASE, "state": "latest"}, [ps(with_installer(at_version(OLD, "9.50.6601.1")))]
    )
    assert result["refused"] is True
    failed = {"ok": False, "failed_step": "start_obengine", "steps": [step("start_obengine", 2)]}
    result, scripts, _ = run(monkeypatch, {**BASE, "proxy": PROXY}, [ps(with_installer(DRIFTED)), ps(failed)])
    assert result["failed"] and scripts == ["probe v1", "proxy_apply v1"] and "refused" not in result
    probe = with_installer(DRIFTED)
    probe["installed_products"]["csps"]["cx_type"] = "3"
    assert run(monkeypatch, BASE, [ps(probe)])[0]["refused"] is True  # a configuration server


# ---- passphrase_file: checked by the probe, refused before any change (check mode too) -------------------------
DESKTOP = r"C:\Users\Administrator\Desktop\Passphrase.txt"


def with_passphrase_file(probe, **facts):
    probe = copy.deepcopy(probe)
    probe["checks"]["passphrase_file"] = {
        "path": DESKTOP,
        "exists": True,
        "readable": True,
        "error": None,
        "lines": 1,
        "non_empty_lines": 1,
        "profiles_directory": "C:\\Users",
        "under_user_profile": True,
        **facts,
    }
    return probe


FILE_ARGS = {**{k: v for k, v in BASE.items() if k != "passphrase"}, "passphrase_file": DESKTOP}


@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
def test_a_missing_passphrase_file_is_refused_after_the_probe(monkeypatch, check_mode):
    probe = with_passphrase_file(with_installer(FRESH), exists=False, readable=False, lines=None, non_empty_lines=None)
    result, scripts, execute = run(monkeypatch, FILE_ARGS, [ps(probe)], check_mode=check_mode)
    assert execute.call_args.kwargs["module_args"]["parameters"]["PassphraseFilePath"] == DESKTOP
    assert result["failed"] and scripts == ["probe v1"] and result["refused"] is True
    assert result["changed"] is False and result["msg"].startswith("install:")
    assert "passphrase_file" in result["msg"] and DESKTOP in result["msg"] and "does not exist" in result["msg"]


def test_a_passphrase_file_on_a_desktop_installs_with_a_warning(monkeypatch):
    probe = with_passphrase_file(with_installer(FRESH))
    result, scripts, _ = run(monkeypatch, FILE_ARGS, [ps(probe)], check_mode=True)
    ok(result)
    assert scripts == ["probe v1"] and changed_ops(result) == ["install"]
    assert any("per-user" in w and "Ansible Vault" in w for w in result["warnings"]), result.get("warnings")


def test_a_bad_argument_is_a_refusal_naming_the_playbook_variable(monkeypatch):
    # the argument check runs before any remote call: refused (the screening fails the host without calling the
    # module again), and the option is named with the asr_* variable a playbook user sets
    args = {k: v for k, v in BASE.items() if k != "configuration_server_ip"}
    result, scripts, _ = run(monkeypatch, args, [])
    assert result["failed"] and scripts == [] and result["refused"] is True and result["changed"] is False
    assert "'configuration_server_ip' (asr_configuration_server_ip in the playbooks) accepts" in result["msg"]
