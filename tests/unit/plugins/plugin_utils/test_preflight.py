"""preflight.evaluate: what in one info result would block a process server rollout."""

from __future__ import annotations

import pytest
from _info_results import LARGE, MEDIUM, SMALL, info_result

from ansible_collections.asr.process_server.plugins.plugin_utils import preflight as pf

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
