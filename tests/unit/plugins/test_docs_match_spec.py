"""Every action plugin's ARGUMENT_SPEC equals the options its doc-only module documents, so they cannot drift.

validate-modules cannot introspect action plugins (ansible-windows-practice.md §1.3), so this test does:
names, type, default, choices, required, elements, aliases, recursively for suboptions. ``no_log`` is not a
documentation key, so a separate test requires it on every option that names a secret.
"""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import deprecated_shared_options

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
            "elements": spec.get("elements"),
            "aliases": sorted(spec.get("aliases") or []),
            "options": normalise(spec.get("options") or spec.get("suboptions")) or None,
        }
    return out


def actions_with_spec():
    found = []
    for name in ACTIONS:
        module = importlib.import_module(f"{PACKAGE}.action.{name}")
        if module.ActionModule.ARGUMENT_SPEC:
            found.append(name)
    return found


def group_of(name: str) -> str:
    """The action group of a module: ``azure`` (Resource Manager, from the controller) or ``process_server`` (WinRM)."""
    groups = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]
    return "azure" if name in groups.get("azure", []) else "process_server"


# The support levels each group's doc fragment gives (the WinRM modules' and the Azure modules').
ATTRIBUTES_FRAGMENT = {
    "process_server": "asr.process_server.common",
    "azure": "asr.process_server.azure",
}
PLATFORMS = {"process_server": "windows", "azure": "all"}


def test_there_is_at_least_one_action_with_a_spec():
    assert "info" in actions_with_spec()


def fragment_text(fragment: str) -> str:
    """The YAML of a doc fragment: this collection's or ansible-core's (``<collection>.<name>[.<var>]``)."""
    if fragment.startswith("asr.process_server."):
        name, _, var = fragment.removeprefix("asr.process_server.").partition(".")
        source = importlib.import_module(f"{PACKAGE}.doc_fragments.{name}")
        return getattr(source.ModuleDocFragment, var.upper() or "DOCUMENTATION")
    assert fragment.startswith("ansible.builtin."), fragment
    name, _, var = fragment.removeprefix("ansible.builtin.").partition(".")
    source = importlib.import_module(f"ansible.plugins.doc_fragments.{name}")
    return getattr(source.ModuleDocFragment, var.upper() or "DOCUMENTATION")


def merged(doc: dict, key: str) -> dict:
    """``options`` or ``attributes`` of the module and the doc fragments it extends, as ansible-doc merges them.

    ansible.utils.plugin_docs.merge_fragment: fragments are merged in the order listed and what is already there
    wins, key by key - the module's own entries over every fragment, an earlier fragment over a later one (so a
    module may document only ``required: true`` for an option a fragment describes, or only the support level of
    an attribute, and asr.process_server.common's support levels stand over ansible-core's placeholders).
    """
    out: dict = {name: dict(entry) for name, entry in (doc.get(key) or {}).items()}
    for fragment in doc.get("extends_documentation_fragment") or []:
        for name, entry in (yaml.safe_load(fragment_text(fragment)).get(key) or {}).items():
            out[name] = {**entry, **out.get(name, {})}
    return out


def documented_options(doc: dict) -> dict:
    return merged(doc, "options")


def full_spec(name: str) -> dict:
    """What the action validates: its own options and the group's shared options it does not use (deprecated)."""
    spec = importlib.import_module(f"{PACKAGE}.action.{name}").ActionModule.ARGUMENT_SPEC
    if group_of(name) == "azure":  # the WinRM group's shared options are not the Azure group's
        return dict(spec)
    return {**deprecated_shared_options(spec), **spec}


@pytest.mark.parametrize("name", actions_with_spec())
def test_documented_options_equal_the_argument_spec(name):
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
    assert doc["module"] == name
    assert normalise(documented_options(doc)) == normalise(full_spec(name))


@pytest.mark.parametrize("name", actions_with_spec())
def test_every_group_module_is_in_the_group(name):
    # module_defaults for the action group hands the shared options to every module of the group.
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert name in runtime["action_groups"][group_of(name)]


@pytest.mark.parametrize("name", actions_with_spec())
def test_the_action_uses_the_spec_of_argument_specs(name):
    # one source of truth: plugin_utils/domain/argument_specs.py, not a copy in the action plugin
    module = importlib.import_module(f"{PACKAGE}.action.{name}")
    assert module.ActionModule.ARGUMENT_SPEC is getattr(argument_specs, name.upper())


@pytest.mark.parametrize("name", actions_with_spec())
def test_doc_declares_version_added_and_attributes(name):
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
    assert doc.get("version_added")
    attributes = merged(doc, "attributes")
    assert {"action", "action_group", "async", "bypass_host_loop", "check_mode", "diff_mode", "platform"} <= set(
        attributes
    )
    assert attributes["platform"]["platforms"] == PLATFORMS[group_of(name)]
    assert attributes["action_group"]["membership"] == [f"asr.process_server.{group_of(name)}"]
    assert attributes["action"]["support"] == "full"
    for name, attribute in attributes.items():  # what validate-modules requires of every attribute
        assert attribute.get("description") and attribute.get("support") in ("full", "partial", "none", "N/A"), name


BUILTIN_ATTRIBUTES = [
    "ansible.builtin.action_common_attributes",
    "ansible.builtin.action_common_attributes.flow",
    "ansible.builtin.action_common_attributes.actiongroups",
]


@pytest.mark.parametrize("name", actions_with_spec())
def test_attribute_descriptions_are_ansible_cores_not_retyped(name):
    """The attributes extend ansible-core's fragments; the collection and the module only add support and details."""
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{name}").DOCUMENTATION)
    fragments = doc["extends_documentation_fragment"]
    assert set(BUILTIN_ATTRIBUTES) <= set(fragments)
    # ours first: merged first, its support levels stand over the builtin placeholders (support: N/A, membership: [])
    own = ATTRIBUTES_FRAGMENT[group_of(name)]
    assert fragments.index(own) < min(fragments.index(f) for f in BUILTIN_ATTRIBUTES)
    ours = yaml.safe_load(fragment_text(own))["attributes"]
    for source in (ours, doc.get("attributes") or {}):
        assert all("description" not in entry for entry in source.values()), source
    builtin = {}
    for fragment in BUILTIN_ATTRIBUTES:
        builtin.update(yaml.safe_load(fragment_text(fragment))["attributes"])
    for key, attribute in merged(doc, "attributes").items():
        assert attribute["description"] == builtin[key]["description"], key


def test_the_declared_async_and_bypass_host_loop_support_is_the_code():
    """async: none - ActionBase refuses the keyword before anything runs; bypass_host_loop: none - one task per host."""
    from unittest.mock import MagicMock

    from ansible.errors import AnsibleActionFail
    from ansible.playbook.task import Task

    for name in actions_with_spec():
        action = importlib.import_module(f"{PACKAGE}.action.{name}").ActionModule
        assert action.BYPASS_HOST_LOOP is False, name
        task = MagicMock(Task)
        task.args, task.check_mode, task.diff, task.async_val = {}, False, False, 30
        plugin = action(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
        plugin._execute_module = MagicMock(side_effect=AssertionError("no remote call with async"))
        with pytest.raises(AnsibleActionFail, match="does not support async"):
            plugin.run(task_vars={})


SECRET_WORDS = ("password", "passphrase", "secret", "credential")


def _secret_named(spec: dict, path: str = "") -> list[tuple[str, bool]]:
    found = []
    for name, option in spec.items():
        full = f"{path}{name}"
        # An option with choices (update_password: always/on_change) names a policy, not a secret.
        if (
            any(word in name for word in SECRET_WORDS)
            and not name.endswith(("_file", "_path"))
            and not option.get("choices")
        ):
            found.append((full, bool(option.get("no_log"))))
        found += _secret_named(option.get("options") or {}, full + ".")
    return found


@pytest.mark.parametrize("name", actions_with_spec())
def test_every_secret_option_is_no_log(name):
    secrets = _secret_named(full_spec(name))
    # the WinRM modules accept the group's passphrase; the Azure modules the service principal's secret
    assert ("secret" if group_of(name) == "azure" else "passphrase", True) in secrets
    assert all(no_log for _, no_log in secrets), secrets
