"""asr.process_server.info action: one remote call, the args it sends, interpretation, failures, secrets."""

from __future__ import annotations

import copy
import json
import pathlib
from unittest.mock import MagicMock

import pytest
from ansible.playbook.task import Task

from ansible_collections.asr.process_server.plugins.action import info
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import host_facts, read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import action_base as _action_base
from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from tests.unit.plugins.action import replay

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
PROBE = json.loads((FIXTURES / "probe_v1_scale_out_ps.json").read_text(encoding="utf-8"))


def powershell_result(probe, **extra):
    """What ansible.windows.win_powershell returns for the probe (the script's JSON in ``result``)."""
    result = {
        "changed": False,
        "result": json.dumps(probe),
        "output": [],
        "error": [],
        "host_out": "",
        "host_err": "",
        "warning": [],
        "verbose": [],
        "debug": [],
        "information": [],
        "invocation": {"module_args": {"script": "<the script>"}},
    }
    result.update(extra)
    return result


def make_plugin(args, check_mode=False, diff=False):
    return replay.make_plugin(info, args, check_mode=check_mode, diff=diff)


def run(monkeypatch, args, replies=None, **kwargs):
    plugin = make_plugin(args, **kwargs)
    return plugin, *replay.replay(monkeypatch, plugin, replies if replies is not None else [powershell_result(PROBE)])


def test_one_remote_call_with_the_probe_script_and_its_parameters(monkeypatch):
    plugin, execute, result = run(monkeypatch, {"configuration_server_ip": "10.150.24.119"})
    assert execute.call_count == 1 and plugin.remote_calls == 1
    kwargs = execute.call_args.kwargs
    assert kwargs["module_name"] == "ansible.windows.win_powershell"
    module_args = kwargs["module_args"]
    assert module_args["script"].splitlines()[0] == "# asr.process_server script: probe v1"
    assert "sensitive_parameters" not in module_args  # the probe takes no secret
    params = module_args["parameters"]
    assert params["ConfigurationServerIp"] == "10.150.24.119"
    assert params["ConfigurationServerPort"] == 443
    assert params["ConnectTimeoutMs"] == 3000
    assert params["IncludeLogTail"] is False
    assert "Microsoft Azure Site Recovery Configuration/Process Server" in params["ProductNames"]
    assert {"tmansvc", "obengine", "cxprocessserver"} <= set(params["ServiceNames"])
    # user values reach the script only as parameters, never inside its text
    assert "10.150.24.119" not in module_args["script"]
    assert result["changed"] is False
    assert "failed" not in result


def test_interpreted_facts(monkeypatch):
    _plugin, _execute, result = run(monkeypatch, {})
    asr = result["asr"]
    assert asr["installed"] is True
    assert asr["role"] == "process_server"
    assert asr["cx_type"] == 2 and asr["cx_type_name"] == "process server only"
    assert asr["build_version"] == "9.55.7123.1"
    assert asr["components"]["configuration_process_server"]["version"] == "9.55.7123.1"
    assert asr["components"]["configuration_process_server_dependencies"]["installed"] is True
    assert asr["components"]["recovery_services_agent"]["version"] == "2.0.9250.0"
    assert asr["components"]["site_recovery_provider"]["installed"] is False
    assert asr["registration"]["configuration_server_ip"] == "10.150.24.119"
    assert asr["registration"]["configuration_server_port"] == 443
    assert asr["registration"]["secured_communication"] is True
    assert asr["data_port"] == 9443
    assert asr["install_location"] == r"D:\Program Files (x86)\Microsoft Azure Site Recovery"
    assert asr["cache_drive"]["drive"] == "D:" and asr["cache_drive"]["size_gb"] == 1024
    assert asr["cache_drive"]["free_percent"] == 25.0
    assert asr["proxy"]["mars"]["address"] == "http://proxy.corp.example"
    assert asr["proxy"]["setup"]["proxy_type"] == "Custom"
    assert asr["setup_log"]["result"] == "succeeded"
    assert "tail" not in asr["setup_log"]


def test_health_from_services_and_cache_with_unmeasured_metrics_named(monkeypatch):
    asr = run(monkeypatch, {})[2]["asr"]
    assert asr["services_not_running"] == ["cxprocessserver"]
    assert asr["services_wrong_start_mode"] == ["tmansvc"]  # obengine may be manual [6.3]
    health = asr["health"]
    assert health["status"] == "warning"  # stopped service warns; 25 % free is warning, not < 25 critical
    assert {a["metric"] for a in health["alerts"]} == {"services_not_running", "cache_free_percent"}
    assert set(health["not_measured"]) == {
        "cpu_percent",
        "memory_percent",
        "upload_backlog_minutes",
        "heartbeat_age_minutes",
    }
    assert health["green_for_new_load"] is False


def test_sizing_facts_and_tier(monkeypatch):
    asr = run(monkeypatch, {})[2]["asr"]
    sizing = asr["sizing"]
    assert sizing["host_facts"] == {
        "vcpus": 8,
        "memory_gb": 16.0,
        "cache_disk_gb": 1024.0,
        "cache_free_gb": 256.0,
        "retention_free_gb": None,
    }
    assert sizing["tier"] == "medium"  # 8 vCPU, 12+ GB, 600+ GB [7.1]
    assert host_facts(asr).vcpus == 8
    # one verdict, by the scale-out table [7.1]; 256 GB free is a note about setup's space check [1.3]
    assert sizing["ok"] is True and sizing["table"].startswith("[7.1]") and "requirements" not in sizing
    assert sizing["verdict"] == "medium tier [7.1]: up to 150 machines and 1024 GB/day"
    assert sizing["tier_detail"]["source"] == "[7.1]"
    assert [n for n in sizing["notes"] if "[1.3]" in n] == sizing["notes"] and len(sizing["notes"]) == 1


def test_a_host_built_to_the_small_tier_is_not_also_refused_by_another_table(monkeypatch):
    """Issue 10 item 8: 4 vCPU, 8 GB, 300 GB cache is "small tier" and nothing in the result says otherwise."""
    probe = copy.deepcopy(PROBE)
    probe["cpu"] = {"logical_processors": 4, "sockets": 2, "cores": 4}
    probe["memory_mb"] = 8 * 1024
    drive = next(v for v in probe["volumes"] if v["drive"] == "D:")
    drive.update(size_bytes=300 * 1024**3, free_bytes=280 * 1024**3)
    sizing = run(monkeypatch, {}, [powershell_result(probe)])[2]["asr"]["sizing"]
    assert sizing["tier"] == "small" and sizing["ok"] is True and sizing["shortfalls"] == []
    assert not any(isinstance(v, dict) and v.get("ok") is False for v in sizing.values())


@pytest.mark.parametrize(
    ("args", "option", "allowed"),
    [
        ({"include_log_tail": "perhaps"}, "include_log_tail", "type bool"),
        ({"configuration_server_port": "https"}, "configuration_server_port", "type int"),
        ({"bogus": 1}, "bogus", "Unsupported parameters"),
        ({"configuration_server_ip": "cs01.corp"}, "configuration_server_ip", "unicast IPv4"),
        ({"log_tail_lines": 0}, "log_tail_lines", "from 1 to 1000"),
        ({"connect_timeout": 600}, "connect_timeout", "from 1 to 60"),
    ],
)
def test_bad_option_fails_before_any_remote_call(monkeypatch, args, option, allowed):
    plugin, execute, result = run(monkeypatch, args)
    assert execute.call_count == 0 and plugin.remote_calls == 0
    assert result["failed"] is True
    assert option in result["msg"] and allowed in result["msg"]


def test_log_tail_only_on_request(monkeypatch):
    probe = copy.deepcopy(PROBE)
    probe["setup_log"]["tail"] = ["line 1", "Installation of Azure Site Recovery Unified Setup has succeeded."]
    _p, execute, result = run(monkeypatch, {"include_log_tail": True, "log_tail_lines": 2}, [powershell_result(probe)])
    assert execute.call_args.kwargs["module_args"]["parameters"]["LogTailLines"] == 2
    assert result["asr"]["setup_log"]["tail"][-1].endswith("has succeeded.")
    assert result["survey"]["host"]["setup_log"]["tail"] is None  # never in the survey (logs can hold secrets)


def test_no_password_in_output_even_if_the_host_returned_one(monkeypatch):
    probe = copy.deepcopy(PROBE)
    probe["asr_proxy"]["values"]["Note"] = "ProxyPassword is not here"
    result = run(monkeypatch, {}, [powershell_result(probe)])[2]
    text = json.dumps(result)
    assert 'ProxyPassword":' not in text
    for proxy in (result["asr"]["proxy"]["mars"], result["asr"]["proxy"]["setup"]):
        assert not any("password" in k.lower() for k in proxy)


def test_no_log_values_are_scrubbed_from_everything(monkeypatch):
    """The base scrubs every no_log option value (info has none; a subclass with a secret shows it works)."""

    class Secretive(info.ActionModule):
        ARGUMENT_SPEC = {**info.ActionModule.ARGUMENT_SPEC, "passphrase": {"type": "str", "no_log": True}}

        def run_asr(self, args, task_vars):
            probe = self.run_script("probe", task_vars, {}, sensitive={"Passphrase": args["passphrase"]})
            return {"echo": probe["computer_name"]}

    task = MagicMock(Task)
    task.args, task.check_mode, task.diff, task.async_val = {"passphrase": "PS01-s3cret"}, False, False, 0
    plugin = Secretive(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    probe = copy.deepcopy(PROBE)
    probe["computer_name"] = "PS01-s3cret-leak"
    execute = MagicMock(return_value=powershell_result(probe))
    monkeypatch.setattr(plugin, "_execute_module", execute)
    result = plugin.run(task_vars={})
    sent = execute.call_args.kwargs["module_args"]
    assert sent["sensitive_parameters"] == [{"name": "Passphrase", "value": "PS01-s3cret"}]
    assert "PS01-s3cret" not in json.dumps(result)
    assert result["invocation"]["module_args"]["passphrase"] == _action_base.HIDDEN


def test_invocation_shows_the_users_args_not_the_script(monkeypatch):
    result = run(monkeypatch, {"installer_path": r"D:\Media\setup.exe"})[2]
    module_args = result["invocation"]["module_args"]
    assert module_args["installer_path"] == r"D:\Media\setup.exe"
    assert "script" not in module_args


def test_script_failure_is_structured(monkeypatch):
    failed = powershell_result(
        {},
        failed=True,
        result={},
        host_out="partial",
        error=[{"output": "Get-CimInstance : Access denied", "exception": {"message": "Access denied"}}],
    )
    result = run(monkeypatch, {}, [failed])[2]
    assert result["failed"] is True
    assert "probe v1 failed on the host" in result["msg"] and "administrator" in result["msg"]
    assert result["stdout"] == "partial"
    assert "Access denied" in result["stderr"]
    assert result["rc"] == 1


def test_result_that_is_not_json_fails_clearly(monkeypatch):
    result = run(monkeypatch, {}, [powershell_result({}, result="<html>")])[2]
    assert result["failed"] is True and "not JSON" in result["msg"]


def test_check_mode_runs_the_read_only_probe(monkeypatch):
    _p, execute, result = run(monkeypatch, {}, check_mode=True)
    assert execute.call_count == 1
    assert result["changed"] is False and result["asr"]["installed"] is True
    script = execute.call_args.kwargs["module_args"]["script"]
    assert "[CmdletBinding(SupportsShouldProcess)]" in script  # else win_powershell skips it in check mode


def test_check_mode_skip_by_win_powershell_is_reported(monkeypatch):
    skipped = powershell_result({}, result={}, changed=True, msg="skipped, running in check mode")
    result = run(monkeypatch, {}, [skipped], check_mode=True)[2]
    assert result["failed"] is True and "SupportsShouldProcess" in result["msg"]


def test_host_without_asr(monkeypatch):
    probe = copy.deepcopy(PROBE)
    probe.update(
        uninstall_entries=[],
        installed_products={"csps": None, "dependencies": None},
        asr_junction={"path": r"C:\ProgramData\ASR", "exists": False, "target": None},
    )
    probe["amethyst_conf"] = {"path": "x", "present": False, "ps_cs_ip": None, "ps_cs_port": None}
    asr = run(monkeypatch, {}, [powershell_result(probe)])[2]["asr"]
    assert asr["installed"] is False and asr["role"] is None
    assert asr["health"]["status"] == "not_installed"
    assert asr["cache_drive"]["source"] == "largest_data_volume" and asr["cache_drive"]["drive"] == "D:"
    assert asr["registration"]["registered"] is False
    assert asr["services_not_running"] == []


def test_survey_is_redacted_and_reproduces_the_facts(monkeypatch):
    result = run(monkeypatch, {"configuration_server_ip": "10.150.24.119"})[2]
    surveyed = result["survey"]
    assert surveyed["format"] == "asr.process_server.survey/v1" and surveyed["probe"] == "probe v1"
    assert "checks" not in surveyed["host"]
    again = read_probe(surveyed["host"]).asr
    expected = {k: v for k, v in result["asr"].items() if k not in ("checks", "setup_log")}
    assert {k: v for k, v in again.items() if k not in ("checks", "setup_log")} == expected


def test_scripts_are_loaded_by_identity_header(tmp_path):
    (tmp_path / "good.ps1").write_text("# asr.process_server script: good v3\nparam()\n", encoding="utf-8")
    (tmp_path / "bad.ps1").write_text("param()\n", encoding="utf-8")
    assert loader.load_script("good", str(tmp_path)).identity == "good v3"
    with pytest.raises(Exception, match="first line must be"):
        loader.load_script("bad", str(tmp_path))


def test_diff_only_with_diff_mode():
    plugin = make_plugin({}, diff=True)
    result = {}
    plugin.set_diff(result, {"a": 1}, {"a": 2})
    assert result["diff"] == {"before": {"a": 1}, "after": {"a": 2}}
    plugin = make_plugin({}, diff=False)
    result = {}
    plugin.set_diff(result, 1, 2)
    assert "diff" not in result
