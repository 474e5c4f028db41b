"""The action group's shared options: each means something where a module accepts it, or is deprecated there.

module_defaults for group/asr.process_server.process_server hands configuration_server_ip, configuration_server_port,
passphrase and passphrase_file to every module of the group. A module lists the ones it uses in its own argument
spec; the others are accepted, deprecated (removed in 1.0.0), documented as such and warned about when a task (or
module_defaults) sets them. configuration_server_ip means something on upgrade and uninstall too: a host registered
to another configuration server is refused before any change.
"""

from __future__ import annotations

import importlib
import json
import pathlib

import pytest
import yaml

from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import (
    SHARED_OPTION_USERS,
    SHARED_OPTIONS,
    SHARED_OPTIONS_REMOVED_IN,
    deprecated_shared_options,
)
from tests.unit.plugins.action import test_install as setup_cases
from tests.unit.plugins.action import test_ops_actions as ops_cases
from tests.unit.plugins.test_docs_match_spec import documented_options
from tests.unit.setup_probes import CS_IP, installed, installer_facts

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = "ansible_collections.asr.process_server.plugins"
# The WinRM group's modules (the Azure group, meta/runtime.yml, takes none of its shared options).
AZURE_GROUP = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["azure"]
ACTIONS = (p.stem for p in (ROOT / "plugins" / "action").glob("*.py") if not p.stem.startswith("_"))
MODULES = sorted(name for name in ACTIONS if name not in AZURE_GROUP)
PROBE = ops_cases.PROBE  # a process server registered to 10.0.0.11


def own_spec(module: str) -> dict:
    return importlib.import_module(f"{PACKAGE}.action.{module}").ActionModule.ARGUMENT_SPEC


def test_each_shared_option_is_used_exactly_by_the_modules_the_warning_names():
    for option in SHARED_OPTIONS:
        users = tuple(m for m in MODULES if option in own_spec(m))
        assert users == SHARED_OPTION_USERS[option], option


def test_the_removal_is_a_later_major_release_of_the_collection():
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    removal = tuple(int(p) for p in SHARED_OPTIONS_REMOVED_IN.split("."))
    assert removal > tuple(int(p) for p in version.split(".")) and removal[1:] == (0, 0)


@pytest.mark.parametrize("module", MODULES)
def test_an_unused_shared_option_is_deprecated_in_the_spec_and_the_docs(module):
    spec = own_spec(module)
    deprecated = deprecated_shared_options(spec)
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{module}").DOCUMENTATION)
    options = documented_options(doc)
    for option in SHARED_OPTIONS:
        said = " ".join(options[option]["description"])
        if option in deprecated:
            assert deprecated[option]["removed_in_version"] == SHARED_OPTIONS_REMOVED_IN
            assert deprecated[option]["removed_from_collection"] == "asr.process_server"
            assert "default" not in deprecated[option]  # a default would make every task "set" it
            assert said.startswith("B(Deprecated), ignored") and "1.0.0" in said, (module, option)
        else:
            assert "Deprecated" not in said, (module, option)


# ---- the warning, when a task or module_defaults sets an option the module does not use ---------------------
@pytest.mark.parametrize(
    ("module", "args", "reply", "ignored"),
    [
        ("registration", {"passphrase": "S3cret-Value-1", "configuration_server_port": 443}, PROBE,
         ["configuration_server_port", "passphrase"]),
        ("proxy", {**ops_cases.CURRENT, "passphrase_file": "D:\\p.txt"}, PROBE, ["passphrase_file"]),
        ("unregister", {"ip_address": "10.0.0.9", "configuration_server_ip": "10.0.0.11"}, ops_cases.READ,
         ["configuration_server_ip"]),
        ("registration_info", {"configuration_server_port": 443}, ops_cases.READ, ["configuration_server_port"]),
    ],
)  # fmt: skip
def test_setting_an_ignored_option_warns_naming_the_modules_that_use_it(monkeypatch, module, args, reply, ignored):
    result, _scripts, _ = ops_cases.run(monkeypatch, module, args, [ops_cases.ps(reply)])
    assert not result.get("failed"), result.get("msg")
    deprecations = result["deprecations"]
    assert [d["msg"].split(" does not use the option ")[1].split(" ")[0] for d in deprecations] == ignored
    for entry, option in zip(deprecations, ignored, strict=True):
        assert entry["version"] == "1.0.0" and entry["collection_name"] == "asr.process_server"
        assert entry["msg"].startswith(f"asr.process_server.{module} does not use the option {option}")
        assert all(f"asr.process_server.{user}" in entry["msg"] for user in SHARED_OPTION_USERS[option])
    assert "S3cret-Value-1" not in json.dumps(result)


def test_options_the_module_uses_or_that_are_unset_do_not_warn(monkeypatch):
    result, *_ = ops_cases.run(monkeypatch, "registration", {"configuration_server_ip": "10.0.0.11"},
                               [ops_cases.ps(PROBE)])  # fmt: skip
    assert not result.get("failed") and "deprecations" not in result


# ---- configuration_server_ip on upgrade and uninstall: the host must belong to that configuration server -----
@pytest.mark.parametrize("check_mode", [True, False], ids=["check", "real"])
def test_uninstall_refuses_a_process_server_of_another_configuration_server(monkeypatch, check_mode):
    args = {"workload_moved": True, "configuration_server_ip": "10.0.0.12"}
    result, scripts, _ = ops_cases.run(monkeypatch, "uninstall", args, [ops_cases.ps(PROBE)], check_mode=check_mode)
    assert result["failed"] and result["refused"] and result["changed"] is False and scripts == ["probe v1"]
    assert "10.0.0.11" in result["msg"] and "10.0.0.12" in result["msg"] and "decommissioning" in result["msg"]
    # the configuration server it does belong to: the ordinary decommission
    same = {**args, "configuration_server_ip": "10.0.0.11"}
    predicted, scripts, _ = ops_cases.run(monkeypatch, "uninstall", same, [ops_cases.ps(PROBE)], check_mode=True)
    assert not predicted.get("failed") and predicted["changed"] and scripts == ["probe v1"]


@pytest.mark.parametrize("role", ["process_server", "auto"])
def test_upgrade_refuses_a_host_of_another_configuration_server_after_the_probe(monkeypatch, tmp_path, role):
    package = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    package.write_bytes(setup_cases.CONTENT)
    probe = installed("9.52.6801.1", installer=installer_facts(setup_cases.STAGED, sha256=setup_cases.SHA))
    args = {"installer": str(package), "server_role": role, "configuration_server_ip": "10.0.0.12"}
    _plugin, execute, result = setup_cases.run(monkeypatch, args, [setup_cases.ps(probe)], module=setup_cases.upgrade)
    assert result["failed"] and result["refused"] and result["changed"] is False and execute.call_count == 1
    assert CS_IP in result["msg"] and "10.0.0.12" in result["msg"] and "/Upgrade keeps" in result["msg"]
    # its own configuration server: upgraded as before
    replies = [setup_cases.ps(probe), setup_cases.START, setup_cases.poll(), setup_cases.CLEANUP]
    _plugin, _execute, done = setup_cases.run(
        monkeypatch, {**args, "configuration_server_ip": CS_IP}, replies, module=setup_cases.upgrade
    )
    assert not done.get("failed") and done["version_after"] == "9.55.7123.1"
