from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.health import HealthSample, evaluate_health

GREEN = {"cpu_percent": 40, "memory_percent": 40, "cache_free_percent": 60}


def levels(report):
    return {a.metric: a.level for a in report.alerts}


@pytest.mark.parametrize(
    ("metric", "value", "expected"),
    [
        ("cpu_percent", 80, None),  # "> 80 %": exactly 80 does not warn
        ("cpu_percent", 80.1, "warning"),
        ("cpu_percent", 95, "warning"),
        ("cpu_percent", 95.5, "critical"),
        ("memory_percent", 81, "warning"),
        ("memory_percent", 96, "critical"),
        ("cache_free_percent", 30, None),  # "< 30 %"
        ("cache_free_percent", 29.9, "warning"),
        ("cache_free_percent", 25, "warning"),
        ("cache_free_percent", 24.9, "critical"),
        ("upload_backlog_minutes", 30, None),
        ("upload_backlog_minutes", 31, "warning"),
        ("upload_backlog_minutes", 45, "warning"),
        ("upload_backlog_minutes", 46, "critical"),
        ("heartbeat_age_minutes", 14.9, None),
        ("heartbeat_age_minutes", 15, "critical"),
    ],
)
def test_documented_thresholds(metric, value, expected):
    report = evaluate_health(HealthSample(**{**GREEN, metric: value}))
    assert levels(report).get(metric) == expected
    assert report.status == (expected or "healthy")


def test_no_heartbeat_points_at_tmansvc_and_the_event_manager_logs():
    alert = evaluate_health(HealthSample(heartbeat_age_minutes=20)).alerts[0]
    assert "tmansvc" in alert.message
    assert r"C:\ProgramData\ASR\home\svsystems\eventmanager*.log" in alert.message


def test_stopped_services_warn_and_are_named():
    report = evaluate_health(HealthSample(**GREEN, services_not_running=["ProcessServer", "cxprocessserver"]))
    assert report.status == "warning"
    assert "ProcessServer, cxprocessserver" in report.alerts[0].message
    assert not report.green_for_new_load


def test_overall_status_is_the_worst_alert():
    report = evaluate_health(HealthSample(cpu_percent=85, memory_percent=97, cache_free_percent=50))
    assert levels(report) == {"cpu_percent": "warning", "memory_percent": "critical"}
    assert report.status == "critical"


def test_green_for_new_load():
    assert evaluate_health(HealthSample(**GREEN)).green_for_new_load
    # At exactly 80 % no alert is raised, yet the server is not green ("< 80 %").
    edge = evaluate_health(HealthSample(cpu_percent=80, memory_percent=10, cache_free_percent=90))
    assert edge.status == "healthy" and not edge.green_for_new_load
    assert any("cpu_percent" in r for r in edge.not_green_because)
    # 78 % cannot take ~30 % more load.
    assert not evaluate_health(
        HealthSample(cpu_percent=78, memory_percent=10, cache_free_percent=90)
    ).green_for_new_load
    unmeasured = evaluate_health(HealthSample(cpu_percent=10))
    assert not unmeasured.green_for_new_load
    assert any("memory_percent not measured" in r for r in unmeasured.not_green_because)


@given(
    cpu=st.floats(0, 100),
    memory=st.floats(0, 100),
    free=st.floats(0, 100),
    backlog=st.floats(0, 600),
    heartbeat=st.floats(0, 600),
)
def test_status_is_the_worst_alert_and_green_implies_healthy(cpu, memory, free, backlog, heartbeat):
    report = evaluate_health(HealthSample(cpu, memory, free, backlog, heartbeat))
    rank = {"healthy": 0, "warning": 1, "critical": 2}
    assert rank[report.status] == max((rank[a.level] for a in report.alerts), default=0)
    if report.green_for_new_load:
        assert report.status == "healthy" and cpu < 80 and memory < 80 and free > 30
    json.dumps(report.to_dict())


@pytest.mark.parametrize(
    ("kwargs", "option", "allowed"),
    [
        ({"cpu_percent": 101}, "cpu_percent", "0 to 100"),
        ({"memory_percent": -1}, "memory_percent", "at least 0"),
        ({"cache_free_percent": "full"}, "cache_free_percent", "a number"),
        ({"upload_backlog_minutes": -3}, "upload_backlog_minutes", "at least 0"),
        ({"heartbeat_age_minutes": float("inf")}, "heartbeat_age_minutes", "a number"),
        ({"services_not_running": "tmansvc"}, "services_not_running", "a list of Windows service names"),
        ({"services_not_running": [""]}, "services_not_running", "non-empty string"),
    ],
)
def test_bad_samples_name_the_option_and_what_is_allowed(kwargs, option, allowed):
    with pytest.raises(InvalidOption) as err:
        HealthSample(**kwargs)
    assert err.value.option == option
    assert allowed in str(err.value)
