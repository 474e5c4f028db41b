"""Every action plugin's ARGUMENT_SPEC equals the options its doc-only module documents, so they cannot drift.

validate-modules cannot introspect action plugins (ansible-windows-practice.md §1.3), so this test does:
names, type, default, choices, required, no_log, elements, aliases, recursively for suboptions.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
PACKAGE = "ansible_collections.asr.process_server.plugins"
ACTIONS = sorted(p.stem for p in (ROOT / "plugins" / "action").glob("*.py") if not p.stem.startswith("_"))


def normalise(options: dict) -> dict:
    """Option -> the attributes both sides must agree on, with Ansible's defaults filled in."""
    out = {}
    for name, spec in (options or {}).items():
        out[name] = {
            "type": spec.get("type", "str"),
            "default": spec.get("default"),
            "choices": list(spec["choices"]) if spec.get("choices") is not None else None,
            "required": bool(spec.get("required", False)),
            "no_log": bool(spec.get("no_log", False)),
            "elements": spec.get("elements"),
            "aliases": sorted(spec.get("aliases") or []),
            "options": normalise(spec.get("options") or spec.get("suboptions")) or None,
        }
    return out


def actions_with_spec():
    found = []
    for name in ACTIONS:
        module = importlib.import_module(f"{PACKAGE}.action.{name}")
        if getattr(module, "ARGUMENT_SPEC", None) is not None:
            found.append(name)
    return found


def test_there_is_at_least_one_action_with_a_spec():
    assert "info" in actions_with_spec()


@pytest.mark.parametrize("name", actions_with_spec())
def test_documented_options_equal_the_argument_spec(name):
    spec = importlib.import_module(f"{PACKAGE}.action.{name}").ARGUMENT_SPEC
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
    assert doc["module"] == name
    assert normalise(doc.get("options")) == normalise(spec)


@pytest.mark.parametrize("name", actions_with_spec())
def test_the_action_uses_the_module_level_spec(name):
    module = importlib.import_module(f"{PACKAGE}.action.{name}")
    assert module.ActionModule.ARGUMENT_SPEC is module.ARGUMENT_SPEC


@pytest.mark.parametrize("name", actions_with_spec())
def test_doc_declares_version_added_and_attributes(name):
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
    assert doc.get("version_added")
    assert {"check_mode", "diff_mode", "platform"} <= set(doc.get("attributes", {}))
    assert doc["attributes"]["platform"]["platforms"] == "windows"
