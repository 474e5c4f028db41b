"""The Pester tests run exactly what the controller sends: AsrScripts.ps1's loader equals load_script."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils import _action_base
from tests.unit.pwsh_session import PwshSession

SCRIPTS = sorted(p.stem for p in pathlib.Path(_action_base.SCRIPT_DIR).glob("*.ps1"))


@pytest.fixture(scope="module")
def pwsh():
    session = PwshSession()
    yield session
    session.close()


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_pester_loader_gives_the_text_load_script_sends(pwsh, name):
    assert pwsh.request("script_text", name=name) == _action_base.load_script(name).text


def test_the_runner_is_the_here_string_of_setup_start(pwsh):
    runner = pwsh.request("runner_text")
    sent = _action_base.load_script("setup_start").text
    assert runner.startswith("# asr.process_server detached Unified Setup runner")
    assert f"@'\n{runner}\n'@" in sent
