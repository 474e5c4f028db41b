"""The execution-environment files: what ansible-builder reads, and what certification expects of them."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))


def _requirement_lines(path: str) -> list[str]:
    lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_definition_uses_the_project_files():
    ee = _load("execution-environment.yml")
    assert ee["version"] == 3
    assert ee["images"]["base_image"]["name"]
    deps = ee["dependencies"]
    # The same requirements file AWX installs for a project, not a copy that can drift.
    assert deps == {
        "galaxy": "collections/requirements.yml",
        "python": "meta/ee-requirements.txt",
        "system": "meta/ee-bindep.txt",
    }
    for rel in deps.values():
        assert (ROOT / rel).is_file(), rel
    # The collection itself is installed from its artifact (scripts/ee_context.sh builds it).
    [extra] = ee["additional_build_files"]
    assert extra["src"].startswith("build/ee/asr-process_server-")
    assert any("ansible-galaxy collection install" in step for step in ee["additional_build_steps"]["append_galaxy"])


def test_definition_is_valid_for_ansible_builder():
    ee_schema = pytest.importorskip("ansible_builder.ee_schema")
    ee_schema.validate_schema(_load("execution-environment.yml"))


def test_collection_metadata_points_at_the_ee_files():
    meta = _load("meta/execution-environment.yml")
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "meta/ee-bindep.txt"}


def test_ansible_builder_introspection_reads_the_collection_metadata():
    introspect = pytest.importorskip("ansible_builder._target_scripts.introspect")
    pip_lines, bindep_lines = introspect.process_collection(str(ROOT))
    assert pip_lines == _requirement_lines("meta/ee-requirements.txt")
    assert bindep_lines == _requirement_lines("meta/ee-bindep.txt")


def test_python_requirements_are_unpinned_and_leave_ansible_to_the_base_image():
    lines = _requirement_lines("meta/ee-requirements.txt")
    names = {re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower() for line in lines}
    assert "pywinrm" in names
    assert not names & {"ansible", "ansible-core", "ansible-base"}
    for line in lines:
        assert "==" not in line and "<" not in line, f"pin or upper bound in meta/ee-requirements.txt: {line}"
    pywinrm = next(line for line in lines if line.lower().startswith("pywinrm"))
    assert "kerberos" in pywinrm and "credssp" in pywinrm


def test_bindep_covers_kerberos_on_rpm_and_dpkg():
    lines = _requirement_lines("meta/ee-bindep.txt")
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9.+_-]+ \[[^\]]+\]", line), f"bindep line without selector: {line}"
    text = "\n".join(lines)
    for package in ("krb5-devel [platform:rpm", "libkrb5-dev [platform:dpkg", "gcc [platform:rpm"):
        assert package in text
    assert "python3-devel [platform:rpm" in text and "python3-dev [platform:dpkg" in text
