"""script_steps.step_status: how a step a script reported ended, for a failure message."""

from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.script_steps import step_status


@pytest.mark.parametrize(
    ("step", "said"),
    [
        ({"rc": 3}, "rc 3"),
        ({"rc": 0}, "rc 0"),
        ({"rc": None, "timed_out": True}, "timed out (the program and what it started were stopped)"),
        ({"rc": None, "error": True, "stderr": " access denied \n"}, "did not complete: access denied"),
        ({"rc": None}, "did not complete: no exit code was reported"),
        ({"rc": 2, "already_running": True}, "rc 2, the service was already running"),
    ],
)
def test_step_status(step, said):
    assert step_status(step) == said
