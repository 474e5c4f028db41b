"""``steps`` has one shape in every module (plugin_utils/domain/steps.py, doc fragment asr.process_server.steps).

Each module that changes a host runs here in check mode and for real on recorded win_powershell replies (the other
tests' harnesses), and on a failure and a refusal. Every result's ``steps`` must be a list of dictionaries with
``name`` and ``changed`` and nothing but the documented optional keys, the real run must name the steps check mode
predicted, a failed step is marked and a refusal has no step. The documentation side: every such module extends
the fragment and documents ``steps`` as a list of dictionaries; no other module returns or documents it.
"""

from __future__ import annotations

import importlib
import json

import pytest
import yaml

from tests.unit.plugins.action import test_install as setup_cases
from tests.unit.plugins.action import test_ops_actions as ops_cases
from tests.unit.plugins.action import test_process_server as ps_cases
from tests.unit.plugins.action.replay import freeze_setup_clock
from tests.unit.setup_probes import fresh, installed, installer_facts

PACKAGE = "ansible_collections.asr.process_server.plugins"
MODULES = ("info", "install", "process_server", "proxy", "registration", "registration_info", "uninstall",
           "unregister", "upgrade")  # fmt: skip
WITH_STEPS = {"install", "process_server", "proxy", "registration", "uninstall", "upgrade"}
OPTIONAL = {"rc": int, "msg": str, "failed": bool}
OPERATIONS = {"install", "upgrade", "proxy", "registration", "uninstall"}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    freeze_setup_clock(monkeypatch)


def assert_shape(result: dict, module: str) -> list[dict]:
    steps = result["steps"]
    assert isinstance(steps, list), steps
    for entry in steps:
        assert isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"], entry
        assert isinstance(entry.get("changed"), bool), entry
        extra = set(entry) - {"name", "changed"}
        allowed = set(OPTIONAL) | ({"operation"} if module == "process_server" else set())
        assert extra <= allowed, f"{module}: undocumented step keys {sorted(extra - allowed)}"
        for key, kind in OPTIONAL.items():
            if key in entry and kind is bool:
                assert entry[key] is True, entry  # present only when true
            elif key in entry:
                assert isinstance(entry[key], kind) and not isinstance(entry[key], bool), entry
        if module == "process_server":
            assert entry["operation"] in OPERATIONS, entry
    return steps


def names(result: dict) -> list[tuple[str | None, str]]:
    return [(s.get("operation"), s["name"]) for s in result["steps"]]


# ---- the scenarios: (check-mode result, real-run result) for each module --------------------------------------
def install_pair(monkeypatch, package):
    args = setup_cases.base_args(package, installer_version="9.55.7123.1")
    replies = [setup_cases.ps(fresh()), setup_cases.START, setup_cases.poll(), setup_cases.CLEANUP]
    *_, predicted = setup_cases.run(monkeypatch, args, [setup_cases.ps(fresh())], check_mode=True)
    *_, done = setup_cases.run(monkeypatch, args, replies)
    return predicted, done


def upgrade_pair(monkeypatch, package):
    probe = installed("9.52.6801.1", installer=installer_facts(setup_cases.STAGED, sha256=setup_cases.SHA))
    replies = [setup_cases.ps(probe), setup_cases.START, setup_cases.poll(), setup_cases.CLEANUP]
    args = {"installer": package}
    *_, predicted = setup_cases.run(monkeypatch, args, [setup_cases.ps(probe)], module=setup_cases.upgrade,
                                    check_mode=True)  # fmt: skip
    *_, done = setup_cases.run(monkeypatch, args, replies, module=setup_cases.upgrade)
    return predicted, done


def proxy_pair(monkeypatch, _package):
    step = ops_cases.step
    applied = {
        "ok": True,
        "failed_step": None,
        "steps": [step("set_ob_machine_setting"), step("stop_obengine"), step("start_obengine"), step("registermt"),
                  step("stop_obengine_after_registermt"), step("start_obengine_after_registermt")],
        "readback": {"enabled": True, "address": ops_cases.WANTED["proxy_address"], "port": 3128,
                     "username": ops_cases.WANTED["proxy_username"]},
    }  # fmt: skip
    predicted, *_ = ops_cases.run(monkeypatch, "proxy", ops_cases.WANTED, [ops_cases.ps(ops_cases.PROBE)], True)
    done, *_ = ops_cases.run(monkeypatch, "proxy", ops_cases.WANTED,
                             [ops_cases.ps(ops_cases.PROBE), ops_cases.ps(applied)])  # fmt: skip
    return predicted, done


def registration_pair(monkeypatch, _package):
    step = ops_cases.step
    applied = {"ok": True, "failed_step": None,
               "steps": [step("registermt"), step("stop_obengine"), step("start_obengine")]}  # fmt: skip
    args = {"force": True}
    predicted, *_ = ops_cases.run(monkeypatch, "registration", args, [ops_cases.ps(ops_cases.PROBE)], True)
    done, *_ = ops_cases.run(monkeypatch, "registration", args, [ops_cases.ps(ops_cases.PROBE), ops_cases.ps(applied)])
    return predicted, done


def uninstall_pair(monkeypatch, _package):
    probe = ops_cases.PROBE
    args = {"workload_moved": True}
    predicted, *_ = ops_cases.run(monkeypatch, "uninstall", args, [ops_cases.ps(probe)], True)
    order = [p["display_name"] for p in predicted["plan"]]
    left = [order[i + 1 :] for i in range(len(order))]  # what Add/Remove Programs lists after each step
    replies = [ops_cases.ps(probe)] + [
        ops_cases.ps({"rc": 0, "stdout": "", "stderr": "", "remaining_entries": r, "log_tail": []}) for r in left
    ]
    done, *_ = ops_cases.run(monkeypatch, "uninstall", args, replies)
    return predicted, done


def process_server_pair(monkeypatch, _package):
    args = {**ps_cases.BASE, "proxy": ps_cases.PROXY}
    probe = ps_cases.with_installer(ps_cases.FRESH)
    predicted, *_ = ps_cases.run(monkeypatch, args, [ps_cases.ps(probe)], True)
    replies = [ps_cases.ps(probe), *ps_cases.setup_replies(post_state=ps_cases.CONVERGED)]
    done, *_ = ps_cases.run(monkeypatch, args, replies)
    return predicted, done


PAIRS = {
    "install": install_pair,
    "upgrade": upgrade_pair,
    "proxy": proxy_pair,
    "registration": registration_pair,
    "uninstall": uninstall_pair,
    "process_server": process_server_pair,
}


@pytest.mark.parametrize("module", sorted(PAIRS))
def test_check_mode_and_the_real_run_report_the_same_steps_in_one_shape(monkeypatch, module, tmp_path):
    package = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    package.write_bytes(setup_cases.CONTENT)
    predicted, done = PAIRS[module](monkeypatch, str(package))
    assert not predicted.get("failed") and not done.get("failed"), (predicted.get("msg"), done.get("msg"))
    assert assert_shape(predicted, module) and assert_shape(done, module)
    assert names(done) == names(predicted)
    assert all(s["changed"] for s in predicted["steps"] + done["steps"]) and done["changed"] and predicted["changed"]
    assert not any(s.get("failed") for s in done["steps"])


def test_a_failed_step_is_the_last_one_and_says_so(monkeypatch):
    step = ops_cases.step
    failed = {"ok": False, "failed_step": "registermt", "steps": [step("registermt", 1, "", "Unable to connect")]}
    result, *_ = ops_cases.run(monkeypatch, "registration", {"force": True},
                               [ops_cases.ps(ops_cases.PROBE), ops_cases.ps(failed)])  # fmt: skip
    assert result["failed"]
    assert assert_shape(result, "registration") == [
        {"name": "cdpcli.exe --registermt", "changed": False, "rc": 1, "msg": "rc 1", "failed": True}
    ]


def test_a_failed_uninstaller_keeps_the_steps_before_it(monkeypatch):
    probe, args = ops_cases.PROBE, {"workload_moved": True}
    predicted, *_ = ops_cases.run(monkeypatch, "uninstall", args, [ops_cases.ps(probe)], True)
    order = [p["display_name"] for p in predicted["plan"]]
    ok = {"rc": 0, "stdout": "", "stderr": "", "remaining_entries": order[1:], "log_tail": []}
    bad = {"rc": 1603, "stdout": "", "stderr": "", "remaining_entries": order[1:], "log_tail": ["x"]}
    replies = [ops_cases.ps(probe), ops_cases.ps(ok), ops_cases.ps(bad)]
    result, *_ = ops_cases.run(monkeypatch, "uninstall", args, replies)
    assert result["failed"]
    first, second = assert_shape(result, "uninstall")
    assert first["changed"] and first["rc"] == 0 and "failed" not in first
    assert second["failed"] and second["rc"] == 1603 and not second["changed"] and second["msg"]
    assert [s["name"] for s in result["steps"]] == [f"uninstall {name}" for name in order[:2]]
    assert result["plan"] == predicted["plan"]


@pytest.mark.parametrize(
    ("module", "args"),
    [("proxy", {"proxy_address": "proxy.corp", "proxy_port": 1}), ("registration", {"force": "perhaps"}),
     ("uninstall", {"workload_moved": "maybe"})],
)  # fmt: skip
def test_a_refused_option_has_no_step(monkeypatch, module, args):
    result, scripts, _ = ops_cases.run(monkeypatch, module, args, [])
    assert result["failed"] and scripts == [] and result["steps"] == []


def test_a_process_server_refusal_after_the_probe_has_no_step(monkeypatch):
    result, *_ = ps_cases.run(monkeypatch, {"state": "absent"}, [ps_cases.ps(ps_cases.OLD)])
    assert result["refused"] and result["changed"] is False
    assert assert_shape(result, "process_server") == [] and result["operations"]["uninstall"]["failed"]


# ---- the documentation side -----------------------------------------------------------------------------------
@pytest.mark.parametrize("module", MODULES)
def test_steps_are_documented_once_and_only_where_returned(module):
    doc_module = importlib.import_module(f"{PACKAGE}.modules.{module}")
    action = importlib.import_module(f"{PACKAGE}.action.{module}").ActionModule
    doc = yaml.safe_load(doc_module.DOCUMENTATION)
    returns = yaml.safe_load(doc_module.RETURN)
    extends = "asr.process_server.steps" in doc["extends_documentation_fragment"]
    assert action.REPORTS_STEPS is (module in WITH_STEPS) is extends is ("steps" in returns)
    if module in WITH_STEPS:
        entry = returns["steps"]
        assert (entry["type"], entry["elements"], entry["returned"]) == ("list", "dict", "always")
        assert "contains" not in entry, "the keys of a step are described once, in the fragment's note"
        for sample in entry.get("sample") or []:
            assert {"name", "changed"} <= set(sample), sample


def test_the_fragment_names_every_key_the_code_may_return():
    note = yaml.safe_load(importlib.import_module(f"{PACKAGE}.doc_fragments.steps").ModuleDocFragment.DOCUMENTATION)
    text = json.dumps(note["notes"])
    for key in ("name", "changed", *OPTIONAL, "operation"):
        assert f"C({key})" in text, key
