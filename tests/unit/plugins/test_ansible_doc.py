"""``ansible-doc`` renders the collection's modules from a checkout, and the action group lists them."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
ANSIBLE_DOC = pathlib.Path(sys.executable).parent / "ansible-doc"
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if not p.stem.startswith("_"))


def ansible_doc(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    return subprocess.run(
        [str(ANSIBLE_DOC), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def every_module_rendered() -> subprocess.CompletedProcess:
    """One ``ansible-doc`` for every module (each ansible-doc start costs about 0.5 s of CPU; 11 modules in one run
    cost 0.8 s). It renders them one after another, each under its own ``> MODULE <name> (<path>)`` heading."""
    return ansible_doc(*(f"asr.process_server.{name}" for name in MODULES))


def clean(proc: subprocess.CompletedProcess) -> bool:
    return proc.returncode == 0 and "[WARNING]" not in proc.stderr and "ERROR" not in proc.stderr


@pytest.mark.parametrize("name", MODULES)
def test_ansible_doc_renders(name, every_module_rendered):
    if clean(every_module_rendered) and f"> MODULE asr.process_server.{name} (" in every_module_rendered.stdout:
        return
    # the run of all modules failed (one broken module stops it): ansible-doc on this module alone says whether
    # this one is the broken one, and what is wrong with it
    proc = ansible_doc(f"asr.process_server.{name}")
    assert proc.returncode == 0, proc.stderr
    assert f"asr.process_server.{name}" in proc.stdout
    assert "[WARNING]" not in proc.stderr and "ERROR" not in proc.stderr, proc.stderr


def test_info_doc_as_json_has_options_and_returns():
    proc = ansible_doc("--json", "asr.process_server.info")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)["asr.process_server.info"]
    assert data["doc"]["version_added"] == "0.1.0"
    assert {"asr", "survey"} <= set(data["return"])
    assert data["examples"].strip()


def test_action_group_lists_every_module_that_declares_membership():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    group = runtime["action_groups"]["process_server"]
    assert "info" in group
    for name in MODULES:
        text = (ROOT / "plugins" / "modules" / f"{name}.py").read_text(encoding="utf-8")
        if "asr.process_server.process_server" in text:
            assert name in group, f"{name} declares action_group membership but is not in meta/runtime.yml"
