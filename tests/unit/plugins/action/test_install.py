"""asr.process_server.install / upgrade actions, replaying recorded win_powershell results (win_updates style)."""

from __future__ import annotations

import hashlib
import json
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleConnectionFailure

from ansible_collections.asr.process_server.plugins.action import install, upgrade
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import exit_codes
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.product import PROCESS_SERVER_SERVICES
from tests.unit.plugins.action import replay
from tests.unit.plugins.action.replay import freeze_setup_clock, ps, scripts
from tests.unit.setup_probes import CS_IP, NETWORK, fresh, installed, installer_facts, upload_facts

PASSPHRASE = "Recognisable-Passphrase-7Q"
PROXY_PASSWORD = "Proxy-Secret-9Z"
CONTENT = b"ASR-LAB-UNIFIED-SETUP\nversion=9.55.7123.1\n"
SHA = hashlib.sha256(CONTENT).hexdigest()
STAGED = rf"C:\ProgramData\ASRSetupStaging\{SHA[:16]}\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
UPLOAD_NAME = f"asr-{SHA[:16]}-MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
UPLOAD = rf"C:\Windows\Temp\{UPLOAD_NAME}"


def step_names(result):
    """The names of the result's steps (each a dict of the shared shape, plugin_utils/domain/steps.py)."""
    return [s["name"] for s in result["steps"]]


def poll(state="exited", rc=0, version="9.55.7123.1", cs_ip=CS_IP, stdout=()):
    return ps({
        "run": {"state": state, "rc": rc if state == "exited" else None, "error": None, "pid": 4004,
                "stdout_tail": list(stdout)},
        "csps": {"build_version": version if rc in (0, 3010, 201) else None, "cx_type": "2"},
        "dependencies": {"build_version": version},
        "amethyst_conf": {"ps_cs_ip": cs_ip, "ps_cs_port": "443", "ps_ip": "10.0.0.101"},
        "cxps_conf": {"ssl_port": "9443"},
        "services": [{"name": s, "present": True, "state": "running"} for s in PROCESS_SERVER_SERVICES],
        "pending_reboot": rc == 3010,
        "setup_log": {"path": "C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log",
                      "tail": ["Installation of Azure Site Recovery Unified Setup has failed."] if rc else []},
    })  # fmt: skip


START = ps({"run_dir": "C:\\ProgramData\\ASRSetupStaging\\run-x", "pid": 4004, "started": "t"}, changed=True)
CLEANUP = ps({"removed": [], "problems": [], "still_running": False, "pid": None}, changed=True)


@pytest.fixture
def package(tmp_path):
    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(CONTENT)
    return str(path)


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    freeze_setup_clock(monkeypatch)


def base_args(package, **extra):
    args = {"configuration_server_ip": CS_IP, "passphrase": PASSPHRASE, "installer": package,
            "install_location": "D:\\", "env_type": "VMware", "poll_interval": 5}  # fmt: skip
    args.update(extra)
    return args


def make_plugin(module, args, check_mode=False, diff=False):
    plugin = replay.make_plugin(module, args, check_mode=check_mode, diff=diff)
    plugin._make_tmp_path = MagicMock(side_effect=AssertionError("no ansible temporary folder is made"))
    plugin._connection.put_file = MagicMock()
    return plugin


def run(monkeypatch, args, replies, module=install, **kwargs):
    plugin = make_plugin(module, args, **kwargs)
    return plugin, *replay.replay(monkeypatch, plugin, replies)


def test_converged_is_exactly_one_remote_call(monkeypatch, package):
    probe = installed(installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, base_args(package), [ps(probe)])
    assert execute.call_count == 1 and result["remote_calls"] == 1
    assert result["changed"] is False and result["steps"] == [] and "failed" not in result
    params = execute.call_args.kwargs["module_args"]["parameters"]
    assert params["ConfigurationServerIp"] == CS_IP and params["InstallerPath"] == STAGED
    assert "sensitive_parameters" not in execute.call_args.kwargs["module_args"]


def test_fresh_install_sequence_budget_and_secrets(monkeypatch, package):
    args = base_args(package, installer_version="9.55.7123.1", proxy={"address": "http://proxy.corp", "port": 3128,
                     "username": "u", "password": PROXY_PASSWORD})  # fmt: skip
    replies = [ps(fresh()), START, poll("running"), poll(), CLEANUP]
    plugin, execute, result = run(monkeypatch, args, replies)
    assert "failed" not in result, result
    assert scripts(execute) == ["probe v1", "setup_start v1", "setup_poll v1", "setup_poll v1",
                                "setup_cleanup v1"]  # fmt: skip
    # probe, put_file, start, 2 polls (setup was still running at the first), cleanup: no mkdtemp, no copy module
    assert result["remote_calls"] == 6
    assert plugin.script_calls == ["probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_poll v1",
                                   "setup_cleanup v1"]  # fmt: skip
    assert execute.call_args_list[0].kwargs["module_args"]["parameters"]["InstallerUploadName"] == UPLOAD_NAME
    plugin._connection.put_file.assert_called_once_with(package, UPLOAD)  # straight into the probed folder
    assert step_names(result) == ["stage installer", "run Unified Setup (install)",
                               "clean up staged secrets and extracted files"]  # fmt: skip
    assert result["version_before"] is None and result["version_after"] == "9.55.7123.1"
    start = execute.call_args_list[1].kwargs["module_args"]
    assert start["parameters"]["PackagePath"] == STAGED and start["parameters"]["SourcePath"] == UPLOAD
    assert start["parameters"]["ExpectedSha256"] == SHA and start["parameters"]["ExpectedVersion"] == "9.55.7123.1"
    sensitive = {p["name"]: p["value"] for p in start["sensitive_parameters"]}
    assert sensitive["Passphrase"] == PASSPHRASE and PROXY_PASSWORD in sensitive["ProxySettings"]
    assert PASSPHRASE not in json.dumps(start["parameters"]) and PROXY_PASSWORD not in json.dumps(start["parameters"])
    assert "/PassphraseFilePath" in start["parameters"]["SetupArguments"]
    assert start["parameters"]["PassphraseFile"].startswith("C:\\ProgramData\\ASRSetupStaging\\run-")
    cleanup = execute.call_args_list[-1].kwargs["module_args"]["parameters"]
    assert cleanup["SecretFiles"] == [start["parameters"]["PassphraseFile"], start["parameters"]["ProxySettingsFile"]]
    text = json.dumps(result)
    assert PASSPHRASE not in text and PROXY_PASSWORD not in text


@pytest.mark.parametrize(
    ("given", "passed"),
    [("VMWare", "VMware"), ("vmware", "VMware"), ("NonVMWare", "NonVMware"), ("NONVMWARE", "NonVMware")],
)
def test_env_type_any_capitalisation_is_accepted_and_normalised(monkeypatch, package, given, passed):
    """[1.1, 1.3] Microsoft's own command lines write VMWare / NonVMWare; the installer upper-cases the value."""
    replies = [ps(fresh()), START, poll(), CLEANUP]
    _plugin, execute, result = run(monkeypatch, base_args(package, installer_version="9.55.7123.1", env_type=given),
                                   replies)  # fmt: skip
    assert "failed" not in result, result
    arguments = execute.call_args_list[1].kwargs["module_args"]["parameters"]["SetupArguments"]
    assert f" /EnvType {passed} " in f" {arguments} ", arguments


def test_version_unknown_on_the_controller_is_read_once_after_the_transfer(monkeypatch, package):
    # CONTENT has no PE version resource and no installer_version is given: the host reads the file's version
    uploaded = fresh(upload=upload_facts(UPLOAD_NAME, exists=True, sha256=SHA))
    replies = [ps(fresh()), ps(uploaded), START, poll(), CLEANUP]
    plugin, execute, result = run(monkeypatch, base_args(package), replies)
    assert "failed" not in result, result
    assert plugin.script_calls == ["probe v1", "put_file", "probe v1", "setup_start v1", "setup_poll v1",
                                   "setup_cleanup v1"]  # fmt: skip
    read = execute.call_args_list[1].kwargs["module_args"]["parameters"]
    assert read["InstallerPath"] == STAGED and read["InstallerUploadName"] == UPLOAD_NAME
    assert result["installer_version"] == "9.55.7123.1"
    start = execute.call_args_list[2].kwargs["module_args"]["parameters"]
    assert start["SourcePath"] == UPLOAD and start["ExpectedVersion"] == "9.55.7123.1"


def test_a_staged_package_of_the_installed_version_ends_the_run_with_the_plans_reason(monkeypatch, package):
    # the installed process server's version is known, the package's only once it is on the host: staged, it shows
    # there is nothing to install (the message is the second plan's reason; setup is never started)
    uploaded = installed(upload=upload_facts(UPLOAD_NAME, exists=True, sha256=SHA))
    plugin, _execute, result = run(monkeypatch, base_args(package), [ps(installed()), ps(uploaded)])
    assert "failed" not in result, result
    assert plugin.script_calls == ["probe v1", "put_file", "probe v1"]
    assert result["changed"] is True and step_names(result) == ["stage installer"]
    assert result["msg"] == "the process server is installed at the installer's version 9.55.7123.1"
    assert result["installer_version"] == result["version_after"] == "9.55.7123.1"


def test_a_package_already_transferred_is_not_sent_again(monkeypatch, package):
    # a run that stopped after the transfer (before setup_start moved the package) left it in the temp folder
    probe = fresh(upload=upload_facts(UPLOAD_NAME, exists=True, sha256=SHA))
    predicted = run(monkeypatch, base_args(package), [ps(probe)], check_mode=True)[2]
    assert "stage installer" not in step_names(predicted) and predicted["installer_version"] == "9.55.7123.1"
    plugin, execute, result = run(monkeypatch, base_args(package), [ps(probe), START, poll(), CLEANUP])
    assert "failed" not in result, result
    assert plugin._connection.put_file.call_count == 0 and result["remote_calls"] == 4
    assert result["steps"] == predicted["steps"]
    start = execute.call_args_list[1].kwargs["module_args"]["parameters"]
    assert start["SourcePath"] == UPLOAD and start["PackagePath"] == STAGED


def test_a_package_with_another_checksum_in_the_temp_folder_is_sent_again(monkeypatch, package):
    probe = fresh(upload=upload_facts(UPLOAD_NAME, exists=True, sha256="0" * 64))
    plugin, _execute, result = run(monkeypatch, base_args(package, installer_version="9.55.7123.1"),
                                   [ps(probe), START, poll(), CLEANUP])  # fmt: skip
    assert "failed" not in result, result
    plugin._connection.put_file.assert_called_once_with(package, UPLOAD)


def test_a_dropped_transfer_is_unreachable_and_starts_nothing(monkeypatch, package):
    plugin = make_plugin(install, base_args(package, installer_version="9.55.7123.1"))
    plugin._connection.put_file.side_effect = AnsibleConnectionFailure("dropped")
    execute = MagicMock(side_effect=[ps(fresh())])
    monkeypatch.setattr(plugin, "_execute_module", execute)
    result = plugin.run(task_vars={"inventory_hostname": "ps01"})
    assert result.get("unreachable") is True and "transferring the Unified Setup package" in result["msg"]
    assert scripts(execute) == ["probe v1"] and result.get("changed") is False


def test_installer_remote_path_is_never_transferred(monkeypatch, package):
    remote = "D:\\Media\\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    args = base_args(package, installer_remote_path=remote, installer_version="9.55.7123.1")
    del args["installer"]
    probe = fresh(installer=installer_facts(remote))
    plugin, execute, result = run(monkeypatch, args, [ps(probe), START, poll(), CLEANUP])
    assert "failed" not in result, result
    assert plugin._connection.put_file.call_count == 0 and result["remote_calls"] == 4
    assert execute.call_args_list[0].kwargs["module_args"]["parameters"]["InstallerUploadName"] == ""
    start = execute.call_args_list[1].kwargs["module_args"]["parameters"]
    assert start["PackagePath"] == remote and start["SourcePath"] == ""


def test_check_mode_predicts_the_steps_with_one_read_only_call(monkeypatch, package):
    _plugin, execute, result = run(monkeypatch, base_args(package), [ps(fresh())], check_mode=True, diff=True)
    assert execute.call_count == 1 and result["changed"] is True
    assert step_names(result)[-2:] == ["run Unified Setup (install)", "clean up staged secrets and extracted files"]
    assert result["diff"]["before"]["components"]["configuration_process_server"] is None
    assert result["diff"]["after"]["configuration_server_ip"] == CS_IP


BAD_INSTALL = [
    ({"configuration_server_ip": "10.0.0.300"}, "configuration_server_ip", "IPv4"),
    ({"configuration_server_ip": "fe80::1"}, "configuration_server_ip", "IPv6"),
    ({"data_port": 443}, "data_port", "other than 443"),
    ({"data_port": 70000}, "data_port", "1 to 65535"),
    ({"install_location": "C:\\ASR"}, "install_location", "system drive"),
    ({"install_location": "ASR"}, "install_location", "absolute path"),
    ({"env_type": "vmware-ish"}, "env_type", "VMware or NonVMware, in any capitalisation"),
    ({"env_type": "Hyper-V"}, "env_type", "VMware or NonVMware, in any capitalisation"),
    ({"env_type": ""}, "env_type", "The value is empty"),
    ({"passphrase_file": "D:\\p.txt"}, "passphrase", "mutually exclusive"),
    ({"installer_remote_path": "D:\\s.exe"}, "installer", "mutually exclusive"),
    ({"installer": "/nonexistent/setup.exe"}, "installer", "existing Unified Setup package"),
    ({"installer_checksum": "abc"}, "installer_checksum", "64 hexadecimal"),
    ({"installer_checksum": "0" * 64}, "installer_checksum", "SHA-256 of"),
    ({"proxy": {"address": "proxy.corp", "port": 3128}}, "proxy_address", "http://"),
    ({"proxy": {"address": "http://p", "port": 3128, "username": "u", "password": "a=b"}}, "proxy_password", "="),
    ({"proxy": {"address": "http://p", "port": 0}}, "proxy_port", "1 to 65535"),
    ({"setup_timeout": 10}, "setup_timeout", "at least 60"),
    ({"poll_interval": 0}, "poll_interval", "1 to 600"),
    ({"staging_dir": "C:\\Staging Area"}, "staging_dir", "without spaces"),
    ({"configuration_server_version": "nine"}, "configuration_server_version", "dot-separated"),
    (
        {"installer_version": "9.56.1.1", "configuration_server_version": "9.55.7123.1"},
        "configuration_server_version",
        "newer than the configuration server",
    ),
    ({"process_server_ip": "300.1.1.1"}, "process_server_ip", "IPv4"),
    ({"passphrase": "two\nlines"}, "passphrase", "one line"),
]


@pytest.mark.parametrize("extra,option,allowed", BAD_INSTALL)
def test_bad_install_input_fails_before_any_remote_call(monkeypatch, package, extra, option, allowed):
    args = base_args(package, **extra)
    plugin, execute, result = run(monkeypatch, args, [])
    assert execute.call_count == 0 and plugin._connection.put_file.call_count == 0
    assert result["failed"] is True
    assert option in result["msg"] and allowed in result["msg"], result["msg"]
    assert PASSPHRASE not in json.dumps(result)


BAD_UPGRADE = [
    ({"installers": [{"path": "x.exe"}]}, "version", "required"),
    ({"installers": [{"remote_path": "D:\\a.exe", "version": "v9"}]}, "installers[0].version", "dot-separated"),
    ({"installers": [{"version": "9.51.1.1"}]}, "path", "remote_path"),
    ({"installer_checksum": "xyz"}, "installer_checksum", "64 hexadecimal"),
    ({"reboot_timeout": 5}, "reboot_timeout", "at least 60"),
]


@pytest.mark.parametrize("extra,option,allowed", BAD_UPGRADE)
def test_bad_upgrade_input_fails_before_any_remote_call(monkeypatch, package, extra, option, allowed):
    _plugin, execute, result = run(monkeypatch, {"installer": package, **extra}, [], module=upgrade)
    assert execute.call_count == 0 and result["failed"] is True
    assert option in result["msg"] and allowed in result["msg"], result["msg"]


@pytest.mark.parametrize("rc", sorted(exit_codes.EXIT_CODES))
def test_every_exit_code_is_mapped_and_cleanup_always_runs(monkeypatch, package, rc):
    info = exit_codes.EXIT_CODES[rc]
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, base_args(package), [ps(probe), START, poll(rc=rc), CLEANUP])
    assert scripts(execute)[-1] == "setup_cleanup v1"
    if info.success:
        assert "failed" not in result, result
        assert result["reboot_required"] is (rc == 3010)
        assert result["exit_code"] == rc
    else:
        assert result["failed"] is True and result["rc"] == rc
        assert info.name in result["msg"] and result["remediation"] == info.remediation
        assert result["log_tail"] and result["changed"] is True


def test_3010_with_reboot_true_reboots_and_verifies(monkeypatch, package):
    rebooted = MagicMock(return_value={"failed": False, "rebooted": True})
    monkeypatch.setattr(
        "ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup.reboot_host", rebooted
    )
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, poll(rc=3010), CLEANUP, poll("none")]
    _plugin, _execute, result = run(monkeypatch, base_args(package, reboot=True), replies)
    assert "failed" not in result and rebooted.call_count == 1
    assert result["reboot_required"] is False and step_names(result)[-1] == "reboot (setup exit code 3010)"


def test_the_poll_retries_after_a_connection_failure(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, AnsibleConnectionFailure("dropped"), poll(), CLEANUP]
    _plugin, execute, result = run(monkeypatch, base_args(package), replies)
    assert "failed" not in result and result["poll_retries"] == 1
    assert scripts(execute).count("setup_poll v1") == 2 and scripts(execute).count("setup_start v1") == 1


def test_the_start_is_not_retried_and_cleanup_still_runs(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), AnsibleConnectionFailure("dropped"), CLEANUP]
    _plugin, execute, result = run(monkeypatch, base_args(package), replies)
    assert result.get("unreachable") is True
    assert scripts(execute) == ["probe v1", "setup_start v1", "setup_cleanup v1"]


def test_hard_timeout_fails_and_cleans_up(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, *[poll("running")] * 14, CLEANUP]
    _plugin, execute, result = run(monkeypatch, base_args(package, setup_timeout=60), replies)
    assert result["failed"] is True and "setup_timeout" in result["msg"]
    assert scripts(execute)[-1] == "setup_cleanup v1"
    # a setup that hangs (a message box in session 0) can be stopped: the runner's whole tree, named by its id, or
    # by the task itself with the option the message names; by default nothing is stopped
    assert "taskkill /PID 4004 /T /F" in result["msg"] and "stop_setup_on_timeout: true" in result["msg"]
    assert "setup_stop v1" not in scripts(execute) and "stopped_processes" not in result


STOPPED = [
    {"pid": 4008, "name": "UnifiedSetup.exe", "parent_pid": 4004},
    {"pid": 4004, "name": "powershell.exe", "parent_pid": 600},
]


def test_hard_timeout_with_stop_setup_on_timeout_stops_the_runner_tree_then_cleans_up(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    stop = ps({"state": "stopped", "runner_pid": 4004, "stopped": STOPPED, "not_stopped": []}, changed=True)
    replies = [ps(probe), START, *[poll("running")] * 13, stop, CLEANUP]  # polls at 0, 5, ... 60 s
    args = base_args(package, setup_timeout=60, stop_setup_on_timeout=True)
    _plugin, execute, result = run(monkeypatch, args, replies)
    assert scripts(execute)[-2:] == ["setup_stop v1", "setup_cleanup v1"]
    started = execute.call_args_list[1].kwargs["module_args"]["parameters"]["RunDir"]
    assert execute.call_args_list[-2].kwargs["module_args"]["parameters"] == {"RunDir": started}
    assert result["failed"] is True and result["stopped_processes"] == STOPPED
    assert "It was stopped (stop_setup_on_timeout): UnifiedSetup.exe (4008), powershell.exe (4004)." in result["msg"]


def test_a_runner_that_cannot_be_verified_is_not_stopped_and_the_message_says_so(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    stop = ps({"state": "unverified", "runner_pid": 4004, "stopped": [], "not_stopped": []})
    replies = [ps(probe), START, *[poll("running")] * 13, stop, CLEANUP]  # polls at 0, 5, ... 60 s
    args = base_args(package, setup_timeout=60, stop_setup_on_timeout=True)
    _plugin, _execute, result = run(monkeypatch, args, replies)
    assert "It was NOT stopped" in result["msg"] and "taskkill /PID 4004 /T /F" in result["msg"]
    assert result["stopped_processes"] == []


def test_network_logon_is_refused_after_one_call(monkeypatch, package):
    _plugin, execute, result = run(monkeypatch, base_args(package), [ps(fresh(identity=NETWORK))])
    assert execute.call_count == 1 and result["failed"] and "become_user: SYSTEM" in result["msg"]


def test_secrets_echoed_by_the_host_are_scrubbed(monkeypatch, package):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, poll(rc=1, stdout=[f"bad passphrase {PASSPHRASE}"]), CLEANUP]
    _plugin, _execute, result = run(monkeypatch, base_args(package), replies)
    assert result["failed"] and PASSPHRASE not in json.dumps(result)


# ---- upgrade --------------------------------------------------------------------------------------------
def test_upgrade_converged_is_one_call(monkeypatch, package):
    probe = installed(installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, {"installer": package}, [ps(probe)], module=upgrade)
    assert execute.call_count == 1 and result["changed"] is False and result["remote_calls"] == 1


def test_upgrade_runs_slash_upgrade_only(monkeypatch, package):
    probe = installed("9.52.6801.1", installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, poll(), CLEANUP]
    plugin, execute, result = run(monkeypatch, {"installer": package}, replies, module=upgrade)
    assert "failed" not in result, result
    assert plugin._connection.put_file.call_count == 0 and result["remote_calls"] == 4  # staged by an earlier run
    start = execute.call_args_list[1].kwargs["module_args"]
    assert start["parameters"]["SetupArguments"] == "/Upgrade" and "sensitive_parameters" not in start
    assert result["version_before"] == "9.52.6801.1" and result["version_after"] == "9.55.7123.1"


def test_upgrade_beyond_n4_is_refused_after_one_call(monkeypatch, package):
    probe = installed("9.50.6601.1", installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, {"installer": package}, [ps(probe)], module=upgrade)
    assert execute.call_count == 1 and result["failed"] and "N-4" in result["msg"]


def test_upgrade_exit_203_says_upgrade_not_supported(monkeypatch, package):
    probe = installed("9.52.6801.1", installer=installer_facts(STAGED, sha256=SHA))
    replies = [ps(probe), START, poll(rc=203), CLEANUP]
    _plugin, _execute, result = run(monkeypatch, {"installer": package}, replies, module=upgrade)
    assert result["failed"] and result["msg"].startswith("Upgrade not supported") and result["rc"] == 203


def test_an_n4_hop_through_a_controller_package_costs_transfer_start_poll_cleanup(monkeypatch, package, tmp_path):
    hop_content = b"ASR-LAB-UNIFIED-SETUP\nversion=9.51.6712.1\n"
    hop_file = tmp_path / "hop.exe"
    hop_file.write_bytes(hop_content)
    hop_sha = hashlib.sha256(hop_content).hexdigest()
    args = {"installer": package, "installer_version": "9.55.7123.1",
            "installers": [{"path": str(hop_file), "version": "9.51.6712.1"}]}  # fmt: skip
    probe = installed("9.50.6601.1", installer=installer_facts(STAGED, sha256=SHA))  # the target is staged
    replies = [ps(probe), START, poll(version="9.51.6712.1"), CLEANUP, START, poll(), CLEANUP]
    plugin, execute, result = run(monkeypatch, args, replies, module=upgrade)
    assert "failed" not in result, result
    hop_upload = rf"C:\Windows\Temp\asr-{hop_sha[:16]}-MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    plugin._connection.put_file.assert_called_once_with(str(hop_file), hop_upload)
    assert plugin.script_calls == ["probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1",
                                   "setup_start v1", "setup_poll v1", "setup_cleanup v1"]  # fmt: skip
    first = execute.call_args_list[1].kwargs["module_args"]["parameters"]
    assert first["SourcePath"] == hop_upload and first["ExpectedVersion"] == "9.51.6712.1"
    assert first["PackagePath"] == (
        rf"C:\ProgramData\ASRSetupStaging\{hop_sha[:16]}\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    )
    second = execute.call_args_list[4].kwargs["module_args"]["parameters"]
    assert second["PackagePath"] == STAGED and second["ExpectedVersion"] == "9.55.7123.1"
    assert result["version_after"] == "9.55.7123.1"


def test_install_and_upgrade_run_setup_through_the_one_executor(monkeypatch, package):
    """Issue 11 item 3: one setup path; each operation hands its runs (SetupHop) to SetupExecutor.run."""
    from ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup_executor import SetupExecutor

    runs = []
    real = SetupExecutor.run
    monkeypatch.setattr(
        SetupExecutor, "run", lambda self, hops: runs.append([h.operation for h in hops]) or real(self, hops)
    )
    args = base_args(package, installer_version="9.55.7123.1")
    _plugin, _execute, result = run(monkeypatch, args, [ps(fresh()), START, poll(), CLEANUP])
    assert "failed" not in result, result
    probe = installed("9.52.6801.1", installer=installer_facts(STAGED, sha256=SHA))
    _plugin, _execute, result = run(monkeypatch, {"installer": package}, [ps(probe), START, poll(), CLEANUP],
                                    module=upgrade)  # fmt: skip
    assert "failed" not in result, result
    assert runs == [["install"], ["upgrade 9.52.6801.1 -> 9.55.7123.1"]]
