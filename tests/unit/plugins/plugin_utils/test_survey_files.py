"""The probe: what it could not read, and the .NET Framework release, as the controller reads them."""

from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import registration_plan
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import dotnet_version, facts, read_probe
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
    assert dotnet_version(release) == version


def test_an_unreadable_amethyst_conf_leaves_the_registration_unknown_and_nothing_is_decided():
    probe = installed()
    probe["amethyst_conf"] = {**probe["amethyst_conf"], "ps_cs_ip": None, "error": "being used by another process"}
    asr = read_probe(probe).asr
    assert asr["registration"]["registered"] is None
    assert asr["registration"]["error"] == "being used by another process"
    with pytest.raises(PlanningError, match=r"amethyst\.conf could not be read"):
        registration_plan.plan_registration(asr, force=True)


def test_a_readable_amethyst_conf_has_no_error():
    asr = read_probe(installed()).asr
    assert asr["registration"]["error"] is None and asr["registration"]["registered"] is True


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        (
            {"release": 394254, "version": "4.6.01055"},
            {"release": 394254, "version": "4.6.1", "meets_setup_minimum": False},
        ),
        (
            {"release": 394802, "version": "4.6.01586"},
            {"release": 394802, "version": "4.6.2", "meets_setup_minimum": True},
        ),
        ({"release": None}, {"release": None, "version": None, "meets_setup_minimum": None}),
    ],
)
def test_info_shows_the_dotnet_release_and_whether_setup_can_run(reported, expected):
    probe = installed()
    probe["dotnet_framework"] = reported
    assert facts(probe)["dotnet_framework"] == expected
