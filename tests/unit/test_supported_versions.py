"""The ansible-core floor is one number everywhere: meta/runtime.yml, the roles, the README's reasons, CI's lane.

README.md says why the floor is 2.19 (the oldest release proven end to end: the lab decodes the 2.19+ module
payload). The number must not drift between the places a user or Galaxy reads it and what CI installs.
"""

from __future__ import annotations

import pathlib
import re

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def floor() -> str:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    match = re.fullmatch(r">=(\d+\.\d+)\.0", runtime["requires_ansible"])
    assert match, runtime["requires_ansible"]
    return match.group(1)


def test_the_roles_declare_the_same_floor():
    for meta in sorted((ROOT / "roles").glob("*/meta/main.yml")):
        info = yaml.safe_load(meta.read_text(encoding="utf-8"))["galaxy_info"]
        assert str(info["min_ansible_version"]) == floor(), meta


def test_the_readme_says_why_this_floor():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Why ansible-core {floor()} is the floor" in readme
    assert f'requires_ansible: ">={floor()}.0"' in readme
    assert "bootstrap_wrapper.ps1" in readme  # the reason: the payload the lab decodes


def test_ci_runs_the_floor():
    pins = (ROOT / "requirements" / "dev.txt").read_text(encoding="utf-8")
    assert re.search(rf"^ansible-core=={re.escape(floor())}\.\d+$", pins, re.MULTILINE), pins
