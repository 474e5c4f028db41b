"""survey: what the probe could not read, and the .NET Framework release, as the controller reads them."""

from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import registration_plan, survey
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import PlanningError
from tests.unit.setup_probes import installed


@pytest.mark.parametrize(
    ("release", "version"),
    [
        (None, None),
        (300000, None),
        (378389, "4.5"),
        (394806, "4.6.2"),
        (461814, "4.7.2"),
        (528449, "4.8"),
        (533320, "4.8.1"),
    ],
)
def test_dotnet_version_of_a_release(release, version):
    assert survey.dotnet_version(release) == version


def test_an_unreadable_amethyst_conf_leaves_the_registration_unknown_and_nothing_is_decided():
    probe = installed()
    probe["amethyst_conf"] = {**probe["amethyst_conf"], "ps_cs_ip": None, "error": "being used by another process"}
    asr = survey.interpret(probe)
    assert asr["registration"]["registered"] is None
    assert asr["registration"]["error"] == "being used by another process"
    with pytest.raises(PlanningError, match=r"amethyst\.conf could not be read"):
        registration_plan.plan_registration(asr, force=True)


def test_a_readable_amethyst_conf_has_no_error():
    asr = survey.interpret(installed())
    assert asr["registration"]["error"] is None and asr["registration"]["registered"] is True
