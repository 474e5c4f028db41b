"""upgrade_plan: upgrading a configuration server as well as a process server ([4], [1.3], [3.1], [6.3], [6.4])."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import install_plan as ip
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import upgrade_plan as up
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version as V
from tests.unit.setup_probes import installed

STAGED = r"C:\ProgramData\ASRSetupStaging\abababababababab\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
EXTRACT = r"C:\ProgramData\ASRSetupStaging\x"
CS, PS, AUTO = up.CONFIGURATION_SERVER, up.PROCESS_SERVER, up.AUTO


def uplan(probe, target="9.55.7123.1", **kw):
    installer = ip.Installer(remote_path=STAGED, local_path="/media/setup.exe", version=V(target), sha256="ab" * 32)
    return up.plan_upgrade(read_probe(probe), up.UpgradeRequest(installer=installer, **kw))


def cs_probe(version="9.52.6801.1", cx_type="3"):
    return installed(version, cx_type=cx_type)


@pytest.mark.parametrize("cx_type,role", [("1", CS), ("3", CS), ("2", PS), (None, None)])
def test_role_from_cx_type(cx_type, role):
    assert up.host_role(None if cx_type is None else int(cx_type)) == role


@pytest.mark.parametrize("cx_type", ["1", "3"])
def test_auto_upgrades_a_configuration_server_with_the_same_hop_logic(cx_type):
    p = uplan(cs_probe(cx_type=cx_type), server_role=AUTO)
    assert p.failure is None
    assert p.steps == up.hop_steps(V("9.55.7123.1"), True)
    assert p.version_after == "9.55.7123.1" and "configuration server is at 9.52.6801.1" in p.reason


def test_ps_le_cs_rule_is_not_applied_to_a_configuration_server_against_itself():
    # configuration_server_version is the CS's own (old) build: a PS would be refused, the CS is upgraded.
    p = uplan(cs_probe(), server_role=AUTO, configuration_server_version=V("9.52.6801.1"))
    assert p.failure is None and p.changed
    ps = uplan(installed("9.52.6801.1"), server_role=AUTO, configuration_server_version=V("9.52.6801.1"))
    assert "newer than the configuration server" in ps.failure


def test_configuration_server_beyond_n4_explains_the_rule_and_hops_with_installers():
    p = uplan(cs_probe("9.50.6601.1"), server_role=CS)
    assert "N-4" in p.failure and "203" in p.failure
    hop = ip.Installer(remote_path="D:\\m\\951.exe", version=V("9.51.6712.1"), option="installers[0]")
    p = uplan(cs_probe("9.50.6601.1"), server_role=CS, intermediate=[hop])
    assert [h["version"] for h in p.hops] == ["9.51.6712.1", "9.55.7123.1"]


def test_configuration_server_at_the_installers_build_is_nothing_to_do():
    p = uplan(cs_probe("9.55.7123.1"), server_role=CS)
    assert not p.changed and p.failure is None and "configuration server is already" in p.reason


def test_configuration_server_newer_than_the_installer_is_left_alone_with_a_warning():
    p = uplan(cs_probe("9.56.7200.1"), server_role=AUTO)
    assert p.failure is None and not p.changed
    assert "does not downgrade" in p.warnings[0] and p.version_after == "9.56.7200.1"


def test_process_server_older_installer_is_still_refused():
    assert "does not downgrade" in uplan(installed("9.56.7200.1"), server_role=AUTO).failure


@pytest.mark.parametrize(
    "role,cx_type,expect",
    [(PS, "3", "is a configuration server"), (CS, "2", "is a process server"), (CS, "1", None), (PS, "2", None)],
)
def test_explicit_role_must_match_cx_type(role, cx_type, expect):
    p = uplan(cs_probe(cx_type=cx_type), server_role=role)
    if expect is None:
        assert p.failure is None and p.changed
    else:
        assert expect in p.failure and "server_role" in p.failure and "CX_TYPE" in p.failure


def test_explicit_role_is_used_when_cx_type_is_unreadable():
    role, failure = up.resolve_role(read_probe(cs_probe(cx_type=None)), up.UpgradeRequest(
        installer=ip.Installer(remote_path=STAGED), server_role=CS))  # fmt: skip
    assert (role, failure) == (CS, None)
    role, _ = up.resolve_role(read_probe(cs_probe(cx_type=None)), up.UpgradeRequest(
        installer=ip.Installer(remote_path=STAGED), server_role=AUTO))  # fmt: skip
    assert role == PS


def test_third_party_eula_on_a_process_server_found_by_auto_fails_after_the_probe():
    p = uplan(installed("9.52.6801.1"), server_role=AUTO, accept_third_party_eula=True)
    assert "accept_third_party_eula" in p.failure and not p.steps


def test_third_party_eula_on_a_configuration_server_is_accepted():
    assert uplan(cs_probe(), server_role=AUTO, accept_third_party_eula=True).failure is None


@pytest.mark.parametrize("value", ["cs", "ps", "Auto", "", None, 3])
def test_bad_server_role_names_the_option_and_the_values(value):
    with pytest.raises(InvalidOption) as err:
        up.check_server_role(value)
    assert "server_role" in str(err.value) and "auto, process_server, configuration_server" in str(err.value)


def test_eula_with_an_explicit_process_server_fails_before_any_call():
    with pytest.raises(InvalidOption, match="accept_third_party_eula"):
        up.check_server_role(PS, accept_third_party_eula=True)
    assert up.check_server_role(CS, accept_third_party_eula=True) == CS
    assert up.check_server_role(AUTO, accept_third_party_eula=True) == AUTO


@pytest.mark.parametrize(
    "role,eula,tail",
    [
        (PS, False, ["/Upgrade"]),
        (CS, False, ["/Upgrade"]),
        (CS, True, ["/Upgrade", "/AcceptThirdpartyEULA"]),  # [1.3] CS with MySQL 5.5
    ],
)
def test_upgrade_command(role, eula, tail):
    argv = up.upgrade_command(role, EXTRACT, eula)
    assert argv[0] == EXTRACT + "\\UnifiedSetup.exe" and argv[1:] == tail


def test_services_to_check_and_configuration_server_problems():
    assert {"W3SVC", "MySQL", "dra"} <= set(up.services_to_check(CS))
    assert not {"W3SVC", "MySQL", "dra"} & set(up.services_to_check(PS))
    poll = {"services": [{"name": n, "present": True, "state": "running"} for n in up.services_to_check(CS)]}
    assert up.configuration_server_problems(poll) == []
    poll["services"][-1]["state"] = "stopped"  # dra
    poll["services"].pop(-2)  # MySQL absent
    assert up.configuration_server_problems(poll) == ["configuration server services not running: MySQL, dra"]


@given(
    minor_installed=st.integers(min_value=40, max_value=60),
    minor_target=st.integers(min_value=40, max_value=60),
    cs=st.booleans(),
)
def test_cs_and_ps_share_the_n4_and_version_rules(minor_installed, minor_target, cs):
    """[4] the N-4 rule applies to CS and PS alike; only a CS newer than the installer differs (left alone)."""
    probe = cs_probe(f"9.{minor_installed}.1.1") if cs else installed(f"9.{minor_installed}.1.1")
    p = uplan(probe, target=f"9.{minor_target}.1.1", server_role=AUTO)
    gap = minor_target - minor_installed
    if gap == 0:
        assert p.failure is None and not p.changed
    elif gap < 0:
        assert (p.failure is None and not p.changed) if cs else ("does not downgrade" in p.failure)
    elif gap > 4:
        assert "N-4" in p.failure
    else:
        assert p.failure is None and p.version_after == f"9.{minor_target}.1.1"
