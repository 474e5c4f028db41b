"""Return values that many modules share are described once, in a doc fragment's notes; each module lists every one.

ansible-core has no doc fragments for RETURN (ansible/utils/plugin_docs.py merges fragments into DOCUMENTATION
only), so the full contract of a shared key - ``refused``, the values a Unified Setup run returns - stands in the
notes of the fragment the modules extend (``common``, ``azure``, ``setup_run``), and each module's RETURN keeps a
short entry for every key it returns (users and validate-modules need it there). These tests keep both sides
complete: every module documents ``refused`` (each action plugin derives from AsrActionBase, which sets it), the
modules that run Unified Setup document every value the one setup path returns on a failure, and every return
value a fragment's note names is in the RETURN of each module that extends the fragment (validate-modules checks
that too, in the sanity run; here it is in the fast loop).
"""

from __future__ import annotations

import importlib
import pathlib
import re

import pytest
import yaml

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import exit_codes
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.setup_outcome import failure_detail
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = "ansible_collections.asr.process_server.plugins"
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_"))
# The modules that run Unified Setup through the one setup path (operations/setup_executor.py).
RUN_SETUP = ["install", "process_server", "upgrade"]
RETURN_VALUE = re.compile(r"\bRV\(([a-z_]+)")


def docs(module: str) -> tuple[dict, dict]:
    source = importlib.import_module(f"{PACKAGE}.modules.{module}")
    return yaml.safe_load(source.DOCUMENTATION), yaml.safe_load(source.RETURN)


def own_fragments(doc: dict) -> list[str]:
    return [f for f in doc["extends_documentation_fragment"] if f.startswith("asr.process_server.")]


def fragment(name: str) -> dict:
    short, _, var = name.removeprefix("asr.process_server.").partition(".")
    source = importlib.import_module(f"{PACKAGE}.doc_fragments.{short}").ModuleDocFragment
    return yaml.safe_load(getattr(source, var.upper() or "DOCUMENTATION"))


@pytest.mark.parametrize("module", MODULES)
def test_every_module_documents_refused(module):
    action = importlib.import_module(f"{PACKAGE}.action.{module}").ActionModule
    assert issubclass(action, AsrActionBase)  # AsrActionBase._mark_refused may set it on any module
    _doc, returns = docs(module)
    entry = returns.get("refused")
    assert entry, f"{module}: RETURN lacks refused"
    assert (entry["type"], entry["returned"], entry.get("sample")) == ("bool", "when the module refused", True)


def test_the_modules_that_run_setup_extend_the_setup_fragment():
    assert [m for m in MODULES if "asr.process_server.setup_run" in own_fragments(docs(m)[0])] == RUN_SETUP


@pytest.mark.parametrize("module", RUN_SETUP)
def test_a_setup_module_documents_every_value_a_failed_run_returns(module):
    keys = set(failure_detail({}, exit_codes.interpret(4))) | {"stopped_processes"}  # setup.py _timed_out adds it
    _doc, returns = docs(module)
    assert sorted(keys - set(returns)) == [], f"{module}: RETURN lacks values a failed Unified Setup run returns"


@pytest.mark.parametrize("module", MODULES)
def test_the_return_values_a_fragment_note_names_are_the_modules(module):
    doc, returns = docs(module)
    named = {
        (name, key)
        for name in own_fragments(doc)
        for note in fragment(name).get("notes") or []
        for key in RETURN_VALUE.findall(note)
    }
    assert sorted((name, key) for name, key in named if key not in returns) == []


def test_an_azure_module_refuses_a_bad_option_without_azure_and_its_docs_say_so():
    """``refused`` is an Azure module's too; ``azure`` is missing when an option is refused before any request."""
    from unittest.mock import MagicMock

    from ansible.playbook.task import Task

    action = importlib.import_module(f"{PACKAGE}.action.vault_info").ActionModule
    task = MagicMock(Task)
    task.args, task.check_mode, task.diff, task.async_val = (
        {"resource_group": "rg", "vault": "v", "fabric": " "},
        False,
        False,
        0,
    )
    plugin = action(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    result = plugin.run(task_vars={})
    assert result["failed"] and result["refused"] and "fabric" in result["msg"] and "azure" not in result
    for module in ("vault_info", "switch_process_server"):
        assert docs(module)[1]["azure"]["returned"] != "always", module
