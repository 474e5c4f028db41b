"""Renamed modules keep working under their old name, with a deprecation, through meta/runtime.yml plugin routing.

``asr.process_server.register`` (a name that reads like the ``register:`` task keyword) is now
``asr.process_server.registration``: ansible-core follows the redirect for the action plugin (the code) and the
module (the documentation), warns with the collection's text, and the action group's ``module_defaults`` still reach
the task. The playbook below needs no Windows host: an invalid option is refused before any remote call, and the
message names the module that ran.
"""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
BIN = pathlib.Path(sys.executable).parent
RENAMED = {"register": "registration"}


def runtime() -> dict:
    return yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))


def galaxy_version() -> tuple[int, ...]:
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    return tuple(int(p) for p in str(version).split("."))


def ansible(tool: str, *args: str, cwd: pathlib.Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_DEPRECATION_WARNINGS", None)
    return subprocess.run(
        [str(BIN / tool), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )


@pytest.mark.parametrize("plugin_type", ["action", "modules"])
@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_the_old_name_is_routed_to_the_new_module_with_a_deprecation(plugin_type, old, new):
    route = runtime()["plugin_routing"][plugin_type][old]
    assert route["redirect"] == f"asr.process_server.{new}"
    deprecation = route["deprecation"]
    removal = tuple(int(p) for p in str(deprecation["removal_version"]).split("."))
    assert removal > galaxy_version() and removal[1:] == (0, 0), "removed in a later major release"
    assert f"asr.process_server.{new}" in deprecation["warning_text"]
    # the new name exists as both halves, the old one as neither (routing, not a copy)
    assert (ROOT / "plugins" / "action" / f"{new}.py").is_file()
    assert (ROOT / "plugins" / "modules" / f"{new}.py").is_file()
    assert not (ROOT / "plugins" / plugin_type / f"{old}.py").exists()


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_the_action_group_lists_the_new_name_only(old, new):
    group = runtime()["action_groups"]["process_server"]
    assert new in group and old not in group


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED.items()))
def test_ansible_doc_follows_the_old_name_and_warns(old, new):
    proc = ansible("ansible-doc", f"asr.process_server.{old}")
    assert proc.returncode == 0, proc.stderr
    assert f"asr.process_server.{new}" in proc.stdout
    assert "DEPRECATION WARNING" in proc.stderr and f"Use asr.process_server.{new} instead" in proc.stderr


def test_a_playbook_with_the_old_name_runs_the_new_module_and_warns(tmp_path):
    playbook = tmp_path / "old_name.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "hosts": "localhost",
                    "gather_facts": False,
                    # group defaults reach the redirected task: the bad address comes from here
                    "module_defaults": {
                        "group/asr.process_server.process_server": {"configuration_server_ip": "10.0.0.300"}
                    },
                    "tasks": [
                        {"asr.process_server.register": {"force": True}, "register": "old", "ignore_errors": True},
                        {
                            "ansible.builtin.assert": {
                                "that": [
                                    "old is failed",
                                    "old.refused",
                                    "'asr.process_server.registration: configuration_server_ip' in old.msg",
                                ]
                            }
                        },
                    ],
                }
            ]
        ),
        encoding="utf-8",
    )
    proc = ansible("ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    assert "DEPRECATION WARNING" in output and "asr.process_server.register has been deprecated" in output
    assert "Use asr.process_server.registration instead" in output
    assert "version 1.0.0" in output
