"""preflight.evaluate: what in one info result would block a process server rollout."""

from __future__ import annotations

import pytest
from _info_results import LARGE, MEDIUM, SMALL, info_result
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import preflight as pf
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import facts

CS = {"configuration_server_version": "9.55.7123.1"}


def codes(findings, severity=None):
    return [f.code for f in findings if severity is None or f.severity == severity]


def test_a_good_host_has_no_finding():
    assert pf.evaluate(info_result(**LARGE), CS) == []


def test_asr_alone_is_accepted():
    assert pf.evaluate(info_result(**LARGE)["asr"], CS) == []


@pytest.mark.parametrize(
    ("version", "blocked"),
    [("6.3.9600", False), ("10.0.14393", False), ("10.0.17763", True), ("10.0.20348", True), ("6.1.7601", True)],
)
def test_os(version, blocked):
    found = pf.evaluate(info_result(**LARGE, os_version=version), CS)
    assert ("os_unsupported" in codes(found, pf.BLOCK)) is blocked


def with_dotnet(result, release):
    """An info result whose host reports .NET Framework ``release`` (as the probe reads it, ``probe.facts``)."""
    asr = result["asr"]
    asr["dotnet_framework"] = facts({"dotnet_framework": {"release": release}})["dotnet_framework"]
    return result


@pytest.mark.parametrize(
    ("release", "installed", "severity"),
    [
        (394254, False, pf.BLOCK),
        (394254, True, pf.WARN),
        (394802, False, None),
        (528449, True, None),
        (None, False, None),
    ],
)
def test_dotnet_below_4_6_2_blocks_a_fresh_host_and_warns_on_an_installed_one(release, installed, severity):
    found = pf.evaluate(with_dotnet(info_result(**LARGE, installed=installed), release), CS)
    if severity is None:
        assert "dotnet_framework" not in codes(found)
    else:
        assert codes(found, severity) == ["dotnet_framework"]
        assert ".NET Framework 4.6.1 (release 394254)" in found[0].message and "4.6.2" in found[0].message


def test_install_location_on_system_drive():
    found = pf.evaluate(info_result(**LARGE, install_location="C:\\ASR"), CS)
    assert codes(found, pf.BLOCK) == ["install_location_system_drive"]


def test_fresh_host_requested_location_on_a_missing_drive():
    found = pf.evaluate(info_result(**LARGE, installed=False), {**CS, "install_location": "F:\\ASR"})
    assert codes(found, pf.BLOCK) == ["install_drive_missing"]
    assert "C:, D:" in found[0].message


def test_not_ntfs():
    found = pf.evaluate(info_result(**LARGE, filesystem="ReFS"), CS)
    assert "not_ntfs" in codes(found, pf.BLOCK)


def test_free_space_blocks_an_install_and_warns_on_an_installed_host():
    fresh = pf.evaluate(info_result(**SMALL, installed=False), CS)
    assert codes(fresh, pf.BLOCK) == ["cache_space"]
    assert "290 GB free" in fresh[0].message
    installed = pf.evaluate(info_result(**SMALL), CS)
    assert codes(installed, pf.WARN) == ["cache_space"] and not codes(installed, pf.BLOCK)
    skipped = pf.evaluate(info_result(**SMALL, installed=False), {**CS, "skip_space_check": True})
    assert skipped == []


def test_configuration_server_unreachable_and_pending_reboot():
    found = pf.evaluate(info_result(**LARGE, cs_reachable=False, pending=["PendingFileRenameOperations"]), CS)
    assert codes(found, pf.BLOCK) == ["cs_unreachable", "pending_reboot"]
    assert "10.0.0.11" in found[0].message and "443" in found[0].message
    assert "PendingFileRenameOperations" in found[1].message


@pytest.mark.parametrize(
    ("installed", "installer", "cs", "expected"),
    [
        ("9.55.7123.1", "9.55.7123.1", "9.55.7123.1", []),
        ("9.53.6904.1", "9.55.7123.1", "9.55.7123.1", []),
        ("9.50.6601.1", "9.55.7123.1", "9.55.7123.1", ["beyond_n4"]),
        ("9.55.7123.1", "9.54.7012.1", "9.55.7123.1", ["downgrade"]),
        ("9.55.7123.1", "9.56.7200.1", "9.55.7123.1", ["installer_newer_than_cs"]),
        ("9.56.7200.1", None, "9.55.7123.1", ["ps_newer_than_cs"]),
    ],
)
def test_versions(installed, installer, cs, expected):
    expect = {"configuration_server_version": cs, "installer_version": installer}
    assert codes(pf.evaluate(info_result(**LARGE, version=installed), expect), pf.BLOCK) == expected


def test_beyond_n4_without_installer_is_a_warning():
    found = pf.evaluate(info_result(**LARGE, version="9.50.6601.1"), CS)
    assert codes(found, pf.WARN) == ["beyond_n4"] and not codes(found, pf.BLOCK)


def test_unknown_cs_version_is_a_warning():
    assert codes(pf.evaluate(info_result(**LARGE), {}), pf.WARN) == ["cs_version_unknown"]


def test_installer_path_missing_or_read_from_the_host():
    expect = {**CS, "installer_path": "D:\\Media\\setup.exe"}
    missing = pf.evaluate(info_result(**LARGE, installer={"exists": False}), expect)
    assert codes(missing, pf.BLOCK) == ["installer_missing"]
    newer = pf.evaluate(info_result(**LARGE, installer={"exists": True, "product_version": "9.56.7200.1"}), expect)
    assert codes(newer, pf.BLOCK) == ["installer_newer_than_cs"]


def test_sizing_against_the_planned_load():
    load = {"protected_machines": 160, "daily_churn_gb": 900}
    found = pf.evaluate(info_result(**MEDIUM), {**CS, "planned_load": load})
    assert codes(found, pf.BLOCK) == ["undersized"]
    assert "vcpus: needs 12 vCPU" in found[0].message
    assert pf.evaluate(info_result(**LARGE), {**CS, "planned_load": load}) == []
    tiny = pf.evaluate(info_result(vcpus=2, memory_gb=4, cache_gb=1024, cache_free_gb=1000), CS)
    assert codes(tiny, pf.BLOCK) == ["no_tier"]


def test_health_critical_blocks_warning_warns():
    alerts = [
        {"level": "critical", "metric": "cache_free_percent", "message": "Cache drive free space is 20 %"},
        {"level": "warning", "metric": "services_not_running", "message": "Process server services not running"},
    ]
    found = pf.evaluate(info_result(**LARGE, alerts=alerts), CS)
    assert codes(found, pf.BLOCK) == ["health_cache_free_percent"]
    assert codes(found, pf.WARN) == ["health_services_not_running"]


def test_unreachable_failed_and_configuration_server():
    assert codes(pf.evaluate({"unreachable": True, "msg": "timeout"}, CS)) == ["unreachable"]
    assert codes(pf.evaluate({"failed": True, "msg": "boom"}, CS)) == ["survey_failed"]
    assert codes(pf.evaluate(None, CS)) == ["survey_failed"]
    cs_host = info_result(**LARGE, role="configuration_server")
    assert codes(pf.evaluate(cs_host, CS)) == ["is_configuration_server"]


def test_blockers_come_before_warnings_and_verdict_line():
    found = pf.evaluate(info_result(**SMALL, pending=["CBS RebootPending"]), CS)
    assert [f.severity for f in found] == [pf.BLOCK, pf.WARN]
    line = pf.verdict_line("ps01", [f.to_dict() for f in found], 6)
    assert line.startswith("ps01    BLOCKED: reboot pending") and "(warnings: " in line
    assert pf.verdict_line("ps02", []) == "ps02  OK"


# ---- the operator's expectations are checked, not read as "not given" ------------------------------------------
@pytest.mark.parametrize(
    ("key", "value", "needles"),
    [
        ("installer_version", "9.x", ["installer_version", "dot-separated numbers, such as 9.55.7123.1"]),
        ("installer_version", "latest", ["installer_version", "dot-separated"]),
        ("installer_version", 9.55, ["installer_version", "Quote it"]),
        ("configuration_server_version", "9.55.x", ["configuration_server_version", "dot-separated"]),
        ("install_location", "ASR", ["install_location", "absolute path on a local fixed drive", "Relative"]),
        ("install_location", "D:ASR", ["install_location", "drive-relative"]),
        ("install_location", "\\\\fs01\\share\\ASR", ["install_location", "UNC", "[1.3]"]),
        ("install_location", "D:\\..\\ASR", ["install_location", "'..'"]),
        ("skip_space_check", "maybe", ["skip_space_check", "true or false"]),
        ("installer_path", 5, ["installer_path", "non-empty string"]),
        ("planned_load", {"protected_machines": 10}, ["planned_load", "Missing keys: daily_churn_gb"]),
        (
            "planned_load",
            {"protected_machines": 10, "daily_churn_gb": -1},
            ["planned_load.daily_churn_gb", "at least 0"],
        ),
        ("planned_load", "10 machines", ["planned_load", "a mapping with the keys protected_machines, daily_churn_gb"]),
    ],
)
def test_a_bad_expectation_fails_naming_the_key_and_what_is_allowed(key, value, needles):
    with pytest.raises(InvalidOption) as err:
        pf.evaluate(info_result(**LARGE), {**CS, key: value})
    assert err.value.option.startswith(key)
    for needle in needles:
        assert needle in str(err.value)


def test_an_unknown_expectation_key_is_refused():
    with pytest.raises(InvalidOption, match=r"install_locaton.*allowed: the keys install_location"):
        pf.evaluate(info_result(**LARGE), {"install_locaton": "D:\\"})


def test_playbook_variables_are_named_in_errors_and_mapped_to_expectations():
    checked = pf.expectations_from_variables(
        {
            "asr_install_location": "d:/ASR/",
            "asr_skip_space_check": "yes",
            "asr_installer_remote_path": "D:\\Media\\setup.exe",
            "asr_installer_version": "9.55",
            "asr_configuration_server_version": None,
            "asr_planned_load": {"protected_machines": "10", "daily_churn_gb": "5.5"},
        }
    )
    assert checked == {
        "install_location": "D:\\ASR",
        "skip_space_check": True,
        "installer_path": "D:\\Media\\setup.exe",
        "installer_version": "9.55.0.0",
        "planned_load": {"protected_machines": 10, "daily_churn_gb": 5.5},
    }
    for variable, value in [
        ("asr_installer_version", "9.x"),
        ("asr_install_location", "ASR"),
        ("asr_install_location", "\\\\fs01\\share\\ASR"),
        ("asr_configuration_server_version", "nine"),
    ]:
        with pytest.raises(InvalidOption) as err:
            pf.expectations_from_variables({variable: value})
        assert err.value.option == variable
    with pytest.raises(InvalidOption) as err:
        pf.expectations_from_variables({"asr_planned_load": {"protected_machines": -3, "daily_churn_gb": 5}})
    assert err.value.option == "asr_planned_load.protected_machines"
    with pytest.raises(InvalidOption, match=r"asr_installer_path.*the variables asr_install_location"):
        pf.expectations_from_variables({"asr_installer_path": "D:\\x.exe"})


@pytest.mark.parametrize(
    ("value", "normalised"),
    [("VMWare", "VMware"), ("vmware", "VMware"), ("NonVMWare", "NonVMware"), (" NONVMWARE ", "NonVMware")],
)
def test_asr_env_type_in_any_capitalisation_is_normalised(value, normalised):
    """[1.1, 1.3] Microsoft's command lines write VMWare/NonVMWare; preflight must not block what setup accepts."""
    assert pf.expectations_from_variables({"asr_env_type": value}) == {"env_type": normalised}


@pytest.mark.parametrize("value", ["Hyper-V", "VMware Tools", "Physical", 1])
def test_a_wrong_asr_env_type_blocks_preflight_naming_the_variable(value):
    with pytest.raises(InvalidOption) as err:
        pf.expectations_from_variables({"asr_env_type": value})
    assert err.value.option == "asr_env_type"
    assert "VMware or NonVMware, in any capitalisation" in str(err.value)


def test_unset_expectations_are_left_out():
    assert pf.check_expectations({key: None for key in pf.EXPECTATION_KEYS}) == {}
    assert pf.check_expectations({"installer_version": "", "install_location": ""}) == {}
    assert pf.check_expectations(None) == {}


def test_a_host_reported_location_that_is_not_a_local_path_is_named_for_what_it_is():
    found = pf.evaluate(info_result(**LARGE, install_location="\\\\fs01\\share\\ASR"), CS)
    assert codes(found, pf.BLOCK) == ["install_location_invalid"]
    assert "UNC" in found[0].message and "system drive C:" not in found[0].message.split(":", 1)[0]


def test_a_requested_location_on_the_system_drive_is_a_finding_of_the_host():
    found = pf.evaluate(info_result(**LARGE, installed=False), {**CS, "install_location": "c:\\ASR"})
    assert codes(found, pf.BLOCK) == ["install_location_system_drive"]


_SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019 _-"), min_size=1, max_size=8).filter(lambda s: s.strip(" ") == s)


@given(drive=st.sampled_from("DEFGH"), segments=st.lists(_SEGMENT, max_size=3))
def test_any_absolute_local_path_is_accepted_and_normalised(drive, segments):
    path = f"{drive.lower()}:\\" + "\\".join(segments)
    checked = pf.check_expectations({"install_location": path})["install_location"]
    assert checked[:3] == f"{drive}:\\"
    assert checked.split("\\")[1:] == (segments or [""])


@given(
    text=st.text(alphabet=st.sampled_from("ABC\\/:. 01"), min_size=1, max_size=12).filter(
        lambda s: not (len(s) >= 3 and s[0].isalpha() and s[1] == ":" and s[2] in "\\/")
    )
)
def test_anything_not_starting_with_a_drive_root_is_refused(text):
    with pytest.raises(InvalidOption) as err:
        pf.check_expectations({"install_location": text})
    assert err.value.option == "install_location"
    assert err.value.allowed == pf.INSTALL_LOCATION_ALLOWED


@given(parts=st.lists(st.integers(0, 10**6), min_size=2, max_size=4), junk=st.sampled_from(["x", "", "-1", " 1"]))
def test_every_dotted_build_is_accepted_and_anything_else_refused(parts, junk):
    text = ".".join(map(str, parts))
    full = parts + [0] * (4 - len(parts))
    assert pf.check_expectations({"installer_version": text})["installer_version"] == ".".join(map(str, full))
    for bad in (f"{text}.{junk}", f"v{text}", f"{text}.1.2.3", text.replace(".", ",", 1)):
        with pytest.raises(InvalidOption, match=r"dot-separated numbers, such as 9\.55\.7123\.1"):
            pf.check_expectations({"installer_version": bad})
