"""asr.process_server.upgrade on a configuration server, replaying recorded win_powershell results ([4], [1.3])."""

from __future__ import annotations

import json

import pytest

from ansible_collections.asr.process_server.plugins.action import upgrade
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.product import (
    CONFIGURATION_SERVER_EXTRA_SERVICES,
)
from tests.unit.plugins.action import test_install as install_cases
from tests.unit.plugins.action.test_install import CLEANUP, SHA, STAGED, START, poll, ps, run, scripts
from tests.unit.setup_probes import installed, installer_facts

OLD = "9.52.6801.1"
# the install tests' fixtures: the package on the controller, setup polling on a fake clock (autouse)
package, no_waiting = install_cases.package, install_cases.no_waiting


def cs_probe(version=OLD, cx_type="3"):
    return installed(version, cx_type=cx_type, installer=installer_facts(STAGED, sha256=SHA))


def cs_poll(stopped=(), **kw):
    reply = poll(**kw)
    result = json.loads(reply["result"])
    result["csps"]["cx_type"] = "3"
    result["services"] += [
        {"name": name, "present": True, "state": "stopped" if name in stopped else "running"}
        for name in CONFIGURATION_SERVER_EXTRA_SERVICES
    ]
    reply["result"] = json.dumps(result)
    return reply


@pytest.mark.parametrize(
    "extra,option,allowed",
    [
        ({"server_role": "cs"}, "server_role", "configuration_server"),
        ({"server_role": "process_server", "accept_third_party_eula": True}, "accept_third_party_eula", "false"),
    ],
)
def test_bad_role_input_fails_before_any_remote_call(monkeypatch, package, extra, option, allowed):
    plugin, execute, result = run(monkeypatch, {"installer": package, **extra}, [], module=upgrade)
    assert execute.call_count == 0 and plugin._connection.put_file.call_count == 0
    assert result["failed"] is True and option in result["msg"] and allowed in result["msg"], result["msg"]


@pytest.mark.parametrize("role", ["auto", "configuration_server"])
def test_a_configuration_server_is_upgraded_with_slash_upgrade_and_its_services_checked(monkeypatch, package, role):
    replies = [ps(cs_probe()), START, cs_poll(), CLEANUP]
    _plugin, execute, result = run(monkeypatch, {"installer": package, "server_role": role}, replies, module=upgrade)
    assert "failed" not in result, result
    assert scripts(execute) == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]
    assert execute.call_args_list[1].kwargs["module_args"]["parameters"]["SetupArguments"] == "/Upgrade"
    polled = execute.call_args_list[2].kwargs["module_args"]["parameters"]["ServiceNames"]
    assert {"W3SVC", "MySQL", "dra", "tmansvc"} <= set(polled)  # [6.3]
    assert result["server_role"] == "configuration_server" and result["version_after"] == "9.55.7123.1"
    assert result["msg"].startswith("Configuration server upgraded from 9.52.6801.1")


def test_third_party_eula_is_added_for_a_configuration_server(monkeypatch, package):
    args = {"installer": package, "accept_third_party_eula": True}
    replies = [ps(cs_probe()), START, cs_poll(), CLEANUP]
    _plugin, execute, result = run(monkeypatch, args, replies, module=upgrade)
    assert "failed" not in result, result
    start = execute.call_args_list[1].kwargs["module_args"]["parameters"]["SetupArguments"]
    assert start == "/Upgrade /AcceptThirdpartyEULA"


def test_third_party_eula_on_a_host_that_is_a_process_server_fails_after_the_probe(monkeypatch, package):
    args = {"installer": package, "accept_third_party_eula": True}
    _plugin, execute, result = run(monkeypatch, args, [ps(cs_probe(cx_type="2"))], module=upgrade)
    assert execute.call_count == 1 and result["failed"] and "accept_third_party_eula" in result["msg"]
    assert result["changed"] is False


def test_a_configuration_server_service_left_stopped_fails_the_task(monkeypatch, package):
    replies = [ps(cs_probe()), START, cs_poll(stopped=("dra",)), CLEANUP]
    _plugin, _execute, result = run(monkeypatch, {"installer": package}, replies, module=upgrade)
    assert result["failed"] and "dra" in result["msg"] and result["changed"] is True


def test_an_explicit_role_that_contradicts_cx_type_is_refused_after_one_call(monkeypatch, package):
    args = {"installer": package, "server_role": "process_server"}
    _plugin, execute, result = run(monkeypatch, args, [ps(cs_probe())], module=upgrade)
    assert execute.call_count == 1 and result["failed"] and "is a configuration server" in result["msg"]


def test_configuration_server_version_is_not_applied_to_the_configuration_server_itself(monkeypatch, package):
    args = {"installer": package, "server_role": "configuration_server", "configuration_server_version": OLD}
    replies = [ps(cs_probe()), START, cs_poll(), CLEANUP]
    _plugin, _execute, result = run(monkeypatch, args, replies, module=upgrade)
    assert "failed" not in result, result
    # the same option on a process-server upgrade is refused before any remote call [3.1]
    args.update(server_role="auto", installer_version="9.55.7123.1")
    _plugin, execute, result = run(monkeypatch, args, [], module=upgrade)
    assert execute.call_count == 0 and result["failed"] and "server_role: configuration_server" in result["msg"]


def test_check_mode_predicts_the_configuration_server_upgrade_with_one_call(monkeypatch, package):
    _plugin, execute, result = run(monkeypatch, {"installer": package}, [ps(cs_probe())], module=upgrade,
                                   check_mode=True)  # fmt: skip
    assert execute.call_count == 1 and result["changed"] is True and result["server_role"] == "configuration_server"
