"""asr.process_server.info with diagnose: true -- one read-only call (diagnose.ps1), the survey's results plus
``diagnostics``; bad input refused before any remote call; a failed survey part still returns the diagnosis."""

from __future__ import annotations

import json
import pathlib
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import diagnostics
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import (
    PROBE_IDENTITY,
    ProbeRequest,
    read_probe,
    to_survey,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from tests.unit.plugins.action.test_info import PROBE, make_plugin, powershell_result, run
from tests.unit.plugins.plugin_utils.test_diagnostics import raw_diagnosis

SCRIPTS = pathlib.Path(loader.SCRIPT_DIR)


def test_one_read_only_call_with_the_diagnose_script(monkeypatch):
    raw = raw_diagnosis()
    plugin, execute, result = run(
        monkeypatch, {"diagnose": True, "installer_path": "D:\\Media\\setup.exe"}, [powershell_result(raw)]
    )
    assert execute.call_count == 1 and plugin.remote_calls == 1
    module_args = execute.call_args.kwargs["module_args"]
    assert module_args["script"].splitlines()[0] == "# asr.process_server script: diagnose v1"
    assert module_args["parameters"] == diagnostics.diagnose_parameters(
        ProbeRequest(installer_path="D:\\Media\\setup.exe")
    )
    assert plugin.changing_calls() == []  # diagnose is one of the read-only scripts
    assert result["changed"] is False and "failed" not in result
    assert result["asr"] == {**read_probe(PROBE).asr, "setup_log": result["asr"]["setup_log"]}
    assert result["survey"] == to_survey(PROBE)
    doc = result["diagnostics"]
    assert doc["format"] == diagnostics.DIAGNOSTICS_FORMAT
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["generated"])
    assert doc["survey"] == result["survey"]


def test_without_diagnose_the_probe_runs_and_no_diagnostics_are_returned(monkeypatch):
    _plugin, execute, result = run(monkeypatch, {})
    assert execute.call_args.kwargs["module_args"]["script"].startswith("# asr.process_server script: probe v1")
    assert "diagnostics" not in result


def test_check_mode_diagnoses_too(monkeypatch):
    _plugin, execute, result = run(
        monkeypatch, {"diagnose": True}, [powershell_result(raw_diagnosis())], check_mode=True
    )
    assert execute.call_count == 1 and result["diagnostics"]["diagnose"] == "diagnose v1"


@pytest.mark.parametrize("path", ["setup.exe", "Media\\setup.exe", "D:setup.exe", "\\\\server", "\\\\?\\D:\\x.exe"])
def test_a_relative_package_path_is_refused_before_any_remote_call(monkeypatch, path):
    plugin, execute, result = run(monkeypatch, {"diagnose": True, "installer_path": path}, [])
    assert execute.call_count == 0 and plugin.remote_calls == 0
    assert result["failed"] is True and result["refused"] is True
    assert "installer_path" in result["msg"] and "absolute path" in result["msg"]


@pytest.mark.parametrize("path", ["D:\\Media\\setup.exe", "\\\\files01\\asr\\setup.exe"])
def test_a_drive_or_unc_package_path_is_read_on_the_host(monkeypatch, path):
    _plugin, execute, result = run(
        monkeypatch, {"diagnose": True, "installer_path": path}, [powershell_result(raw_diagnosis())]
    )
    assert execute.call_args.kwargs["module_args"]["parameters"]["InstallerPath"] == path
    assert "failed" not in result


def test_a_failed_survey_part_fails_the_task_and_still_returns_the_diagnosis(monkeypatch):
    raw = raw_diagnosis(survey={"error": "Access is denied"})
    _plugin, _execute, result = run(monkeypatch, {"diagnose": True}, [powershell_result(raw)])
    assert result["failed"] is True
    assert "Access is denied" in result["msg"] and "bug report" in result["msg"]
    assert result["diagnostics"]["survey"] is None
    assert result["diagnostics"]["diagnostics"]["fips"]["enabled"] == 0


def test_a_no_log_value_given_to_the_task_never_reaches_the_diagnosis(monkeypatch):
    raw = raw_diagnosis()
    raw["services"] = {"services": [{"name": "x", "path_name": "x.exe Group-Secret-42"}], "missing": []}
    plugin = make_plugin({"diagnose": True, "passphrase": "Group-Secret-42"})
    monkeypatch.setattr(plugin, "_execute_module", lambda **_kw: powershell_result(raw))
    result = plugin.run(task_vars={})
    assert "Group-Secret-42" not in json.dumps(result)


def parameters(name: str) -> list[str]:
    """The param() block's declarations of a script as sent (comments and blank lines left out)."""
    text = loader.load_script(name).text
    block = text[text.index("param (\n") : text.index("\n)\n", text.index("param (\n"))]
    return [
        line.strip().rstrip(",") for line in block.splitlines()[1:] if line.strip() and not line.strip().startswith("#")
    ]


def test_diagnose_declares_every_survey_parameter_as_probe_does():
    """Get-Survey (the survey fragment) reads the including script's parameters: both declare the survey_parameters
    fragment's block, which takes every parameter the controller sends either script."""
    probe, diagnose = parameters("probe"), parameters("diagnose")
    assert diagnose == probe
    declared = {re.search(r"\$(\w+)", p).group(1) for p in diagnose}
    assert set(diagnostics.diagnose_parameters(ProbeRequest())) == declared
    assert set(ProbeRequest().script_parameters()) == declared - {"RelatedNames"}


def test_the_survey_fragment_names_the_probe_version():
    fragment = (SCRIPTS / "fragments" / "survey.ps1").read_text(encoding="utf-8")
    assert f"$survey.probe = '{PROBE_IDENTITY}'" in fragment
    assert loader.load_script("probe").identity == PROBE_IDENTITY
