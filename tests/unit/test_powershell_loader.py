"""The Pester tests run exactly what the controller sends: AsrScripts.ps1's loader equals load_script."""

from __future__ import annotations

import pathlib
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from tests.unit.pwsh_session import PwshSession

SCRIPTS = sorted(p.stem for p in pathlib.Path(loader.SCRIPT_DIR).glob("*.ps1"))


@pytest.fixture(scope="module")
def pwsh():
    session = PwshSession()
    yield session
    session.close()


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_pester_loader_gives_the_text_load_script_sends(pwsh, name):
    assert pwsh.request("script_text", name=name) == loader.load_script(name).text


def test_the_runner_is_the_here_string_of_setup_start(pwsh):
    runner = pwsh.request("runner_text")
    sent = loader.load_script("setup_start").text
    assert runner.startswith("# asr.process_server detached Unified Setup runner")
    assert f"@'\n{runner}\n'@" in sent


PESTER = pathlib.Path(__file__).resolve().parents[1] / "powershell"


def test_every_script_runs_in_a_pester_test_and_every_fragment_is_tested():
    """A new script or fragment comes with its Pester test (tests/powershell/*.Tests.ps1)."""
    tests = "\n".join(p.read_text(encoding="utf-8") for p in PESTER.glob("*.Tests.ps1"))
    untested = [name for name in SCRIPTS if not re.search(rf"Invoke-AsrScript -Name '?{name}'?\b", tests)]
    assert untested == [], f"scripts no Pester test runs: {untested}"
    fragments = sorted(p.stem for p in (pathlib.Path(loader.SCRIPT_DIR) / "fragments").glob("*.ps1"))
    dot_sourced = set(re.findall(r"Get-AsrFragmentBody -Name '?([a-z_]+)'?", tests))
    for name in SCRIPTS:  # a fragment spliced into a script a test runs is run by that test
        for included in re.findall(r"^# asr\.process_server include: ([a-z0-9_]+)", _raw(name), re.MULTILINE):
            if re.search(rf"Invoke-AsrScript -Name '?{name}'?\b", tests):
                dot_sourced.add(included)
    assert sorted(set(fragments) - dot_sourced) == [], "fragments no Pester test runs"


def _raw(name: str) -> str:
    return (pathlib.Path(loader.SCRIPT_DIR) / f"{name}.ps1").read_text(encoding="utf-8-sig")
