"""One name per setting (issue 11 item 9): a role reads each setting under ONE documented name.

A setting that the fleet playbooks, the inventory and more than one role share is the collection-wide ``asr_*``
variable; what belongs to one role alone carries that role's prefix. These tests fail when a role reads a setting
under two names again (a default that templates another variable, a task that reads a deprecated name), when a name
is read but not documented in the role's argument spec, or when one setting is documented differently in two roles.
The last test runs a role with a former name and proves it still works, with its deprecation warning.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import pathlib
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jinja2
import jinja2.meta
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (ROOT / "roles").iterdir() if (path / "meta" / "argument_specs.yml").is_file())
DEPRECATED_TASKS = "deprecated_names.yml"
# Task keys whose value Ansible evaluates as a bare Jinja2 expression (no braces).
CONDITIONALS = {"when", "that", "until", "failed_when", "changed_when"}
# Ansible's own variables: never a setting.
MAGIC = {"groups", "hostvars", "inventory_hostname", "ansible_check_mode", "ansible_play_hosts", "ansible_play_batch",
         "item", "omit", "none", "true", "false", "role_path"}  # fmt: skip
# Switches the role sets itself (tasks_from: screen); not for users, so not in the argument spec.
INTERNAL = {f"{role}_screen" for role in ROLES}


class _Any(dict):
    """Every filter and test name exists: only the variables a template reads matter here."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


ENV = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
ENV.filters, ENV.tests = _Any(ENV.filters), _Any(ENV.tests)


def load(role: str, *parts: str) -> Any:
    return yaml.safe_load((ROOT / "roles" / role / pathlib.Path(*parts)).read_text(encoding="utf-8"))


@functools.cache
def spec(role: str) -> dict[str, dict[str, Any]]:
    """Every option of the role's argument spec, the deprecated former names included."""
    return load(role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]


@functools.cache
def options(role: str) -> dict[str, dict[str, Any]]:
    """The role's documented settings: its argument spec without the former names."""
    return {name: option for name, option in spec(role).items() if name not in deprecated(role)}


@functools.cache
def defaults(role: str) -> dict[str, Any]:
    return load(role, "defaults", "main.yml")


@functools.cache
def deprecated(role: str) -> dict[str, str]:
    """The role's table of former names: the old name -> the setting's one name."""
    (block,) = load(role, "tasks", DEPRECATED_TASKS)
    return block["vars"][f"{role}_deprecated_names"]


def variables(text: str, expression: bool = False) -> set[str]:
    """The variables a template (or a bare conditional expression) reads."""
    source = "{{ (" + text + ") }}" if expression else text
    return set(jinja2.meta.find_undeclared_variables(ENV.parse(source))) - MAGIC


def reads(node: Any, key: str = "") -> Iterator[str]:
    """Every variable a task file's data reads, through templates and conditionals."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from reads(value, str(name))
            if isinstance(name, str) and "{{" in name:
                yield from variables(name)
    elif isinstance(node, list):
        for value in node:
            yield from reads(value, key)
    elif isinstance(node, str):
        yield from variables(node, expression=key in CONDITIONALS and "{{" not in node)
    elif isinstance(node, bool) or node is None:
        return


def task_reads(role: str) -> dict[str, set[str]]:
    """Variables read per task file of the role, the deprecation mapping left out."""
    return {
        path.name: set(reads(yaml.safe_load(path.read_text(encoding="utf-8"))))
        for path in sorted((ROOT / "roles" / role / "tasks").glob("*.yml"))
        if path.name != DEPRECATED_TASKS
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_a_shared_setting_or_the_roles_own(role):
    wrong = [name for name in defaults(role) if not name.startswith(("asr_", f"{role}_"))]
    assert not wrong, f"{role}: {wrong} - a shared setting is asr_*, the role's own variable {role}_*"


@pytest.mark.parametrize("role", ROLES)
def test_no_default_reads_a_setting_under_another_name(role):
    """``process_server_ip: "{{ asr_ip }}"`` made one setting two names: a default is a value, not another name."""
    two_names = {name: sorted(variables(value)) for name, value in defaults(role).items() if isinstance(value, str)}
    assert not {name: read for name, read in two_names.items() if read}


@pytest.mark.parametrize("role", ROLES)
def test_the_tasks_read_no_former_name(role):
    former = set(deprecated(role))
    for task_file, names in task_reads(role).items():
        assert not names & former, f"roles/{role}/tasks/{task_file} reads {sorted(names & former)}"


@pytest.mark.parametrize("role", ROLES)
def test_every_setting_the_role_reads_is_documented_in_its_argument_spec(role):
    read = set().union(*task_reads(role).values())
    documented = set(options(role)) | INTERNAL
    settings = {name for name in read if name.startswith("asr_") or name in defaults(role)}
    assert settings <= documented, f"{role} reads undocumented {sorted(settings - documented)}"


@pytest.mark.parametrize("role", ROLES)
def test_the_argument_spec_and_the_defaults_name_the_same_variables_with_the_same_values(role):
    spec, values = options(role), defaults(role)
    assert set(values) - INTERNAL == set(spec), role
    for name, option in spec.items():
        if "default" in option:
            assert values[name] == option["default"], (role, name)
        if "default" not in option and not (isinstance(values[name], str) and "{{" in values[name]):
            assert values[name] is None, (role, name, "a default the argument spec does not document")


def test_a_shared_setting_is_documented_alike_in_every_role():
    seen: dict[str, tuple[str, dict[str, Any]]] = {}
    for role in ROLES:
        for name, option in options(role).items():
            if not name.startswith("asr_"):
                continue
            shape = {key: option.get(key) for key in ("type", "elements", "choices", "default", "no_log")}
            first = seen.setdefault(name, (role, shape))
            assert shape == first[1], f"{name}: {role} says {shape}, {first[0]} says {first[1]}"


@pytest.mark.parametrize("role", ROLES)
def test_each_former_name_leads_to_a_documented_setting(role):
    """A former name stays in the argument spec only as a pointer (ansible-core refuses an unknown role parameter,
    and the role spec schema has no aliases): deprecated, the one name, the same type; no default of its own."""
    for old, new in deprecated(role).items():
        assert new in options(role), (role, old, new)
        assert old not in defaults(role), (role, old)
        pointer, one = spec(role)[old], options(role)[new]
        text = pointer["description"]
        assert text.startswith("Deprecated, removed in 1.0.0") and f"O({new})" in text, (role, old)
        assert "default" not in pointer, (role, old)
        for key in ("type", "elements", "choices", "no_log"):
            assert pointer.get(key) == one.get(key), (role, old, key)


def test_the_fleet_playbooks_check_every_shared_setting_a_role_reads():
    """check_variables.yml validates every asr_* variable a role reads, before any remote call."""
    from ansible_collections.asr.process_server.plugins.plugin_utils.domain import playbook_variables

    shared = {name for role in ROLES for name in options(role) if name.startswith("asr_")}
    assert shared <= set(playbook_variables.VARIABLES), sorted(shared - set(playbook_variables.VARIABLES))


def run_playbook(tmp_path: pathlib.Path, play: dict[str, Any]) -> subprocess.CompletedProcess:
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False), encoding="utf-8")
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def converge_result(changed: bool) -> dict[str, Any]:
    """A healthy asr.process_server.process_server result (as the lab returns it) that changed the host."""
    registration = {
        "registered": True,
        "configuration_server_ip": "10.0.0.11",
        "configuration_server_reachable": True,
        "obengine": "running",
        "tmansvc": "running",
    }
    return {
        "changed": changed,
        "failed": False,
        "version_after": "9.55.7123.1",
        "operations": {"registration": {"changed": False, "registration": registration}},
    }


@pytest.mark.parametrize(("former", "expect_ok"), [("verify_heartbeat", True), (None, False)])
def test_a_former_name_still_works_with_a_deprecation_warning(tmp_path, former, expect_ok):
    """The verify role given ``verify_heartbeat: never`` (its former name) takes it as asr_verify_heartbeat.

    After a change the gate wants the heartbeat (asr_verify_heartbeat defaults to ``changed``), which needs the
    process server's address; there is none here, so only the former name, taken, lets the gate pass - on
    localhost, with no remote call. Without it (the control row) the gate fails naming asr_ip.
    """
    role: dict[str, Any] = {"role": "asr.process_server.verify", "verify_result": converge_result(changed=True)}
    if former:
        role[former] = "never"
    proc = run_playbook(tmp_path, {"hosts": "localhost", "connection": "local", "gather_facts": False,
                                   "roles": [role]})  # fmt: skip
    output = " ".join((proc.stdout + proc.stderr).split())
    if expect_ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert (
            "[DEPRECATION WARNING] verify_heartbeat is deprecated and will be removed from asr.process_server 1.0.0:"
            " set asr_verify_heartbeat instead" in output
        ), output
    else:
        assert proc.returncode != 0 and "no asr_ip to find the process server" in output, output
        assert "DEPRECATION WARNING" not in output


# One former name per role, given as a play variable; each must reach its one name (a host fact) with a warning.
FORMER_NAME_CASES = {
    "process_server": ("process_server_install_location", "E:\\"),
    "proxy": ("proxy_update_password", "always"),
    "reregister": ("reregister_force", True),
    "decommission": ("decommission_keep_mars_agent", True),
    "verify": ("verify_services", ["obengine"]),
}


def former_name_play(host: str, role: str, params: dict[str, Any]) -> dict[str, Any]:
    """A play that runs only the role's former-name tasks, then prints every one name the role's table leads to.
    Each play has a host of its own (all local): facts set by one play must not reach the next."""
    return {
        "hosts": host,
        "connection": "local",
        "gather_facts": False,
        "vars": params,
        "tasks": [
            {"ansible.builtin.include_role": {"name": f"asr.process_server.{role}", "tasks_from": "deprecated_names"}},
            {"ansible.builtin.debug": {"msg": "ONE-NAMES " + "{{ {" + ", ".join(
                f"'{new}': lookup('ansible.builtin.vars', '{new}', default='(unset)')"
                for new in sorted(set(deprecated(role).values()))) + "} | to_json | b64encode }}"}},
        ],
    }  # fmt: skip


def one_names(output: str) -> list[dict[str, Any]]:
    """The ONE-NAMES lines (base64 of JSON, so no quoting of the callback's gets in the way)."""
    return [json.loads(base64.b64decode(match)) for match in re.findall(r"ONE-NAMES ([A-Za-z0-9+/=]+)", output)]


def test_each_role_takes_a_former_name_under_its_one_name_and_only_what_was_given(tmp_path):
    """Every role's table, run for real (one ansible-playbook run): the former name given as a play variable reaches
    its one name with the deprecation warning; a former name given as an extra var does too; asr_version gives way
    to asr_installer_version; with nothing given, nothing is set and nothing is warned about."""
    cases = [(role, {old: value}) for role, (old, value) in sorted(FORMER_NAME_CASES.items())]
    cases.append(("process_server", {"asr_version": "9.1.0.0"}))
    cases.append(("process_server", {"asr_version": "9.1.0.0", "asr_installer_version": "9.2.0.0"}))
    cases.append(("verify", {}))
    plays = [former_name_play(f"case{index}", role, params) for index, (role, params) in enumerate(cases)]
    playbook = tmp_path / "play.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    env = {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "ANSIBLE_CALLBACK_RESULT_FORMAT": "json",
    }
    inventory = ",".join(play["hosts"] for play in plays) + ","
    proc = subprocess.run(
        [str(pathlib.Path(sys.executable).parent / "ansible-playbook"), "-i", inventory,
         "-e", "reregister_verify_heartbeat=never", str(playbook)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    seen = one_names(output)
    assert len(seen) == len(plays), output
    singles = sorted(FORMER_NAME_CASES.items())
    for (role, (old, value)), got in zip(singles, seen[: len(singles)], strict=True):
        new = deprecated(role)[old]
        assert got[new] == value, (role, old, got)
        assert f"[DEPRECATION WARNING] {old} is deprecated" in " ".join(output.split()), (role, old)
        given = {name for name, v in got.items() if v != "(unset)"}
        expected = {new} | ({"asr_verify_heartbeat"} if role == "reregister" else set())
        assert given == expected, (role, given)  # nothing else is set, the extra var reaches reregister
    assert seen[len(FORMER_NAME_CASES)]["asr_installer_version"] == "9.1.0.0"  # asr_version taken
    assert seen[len(FORMER_NAME_CASES) + 1]["asr_installer_version"] == "9.2.0.0"  # the one name wins (no fact)
    assert set(seen[-1].values()) == {"(unset)"}, seen[-1]  # nothing given: nothing set
