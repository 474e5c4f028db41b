"""The rollout health gate (health_verdict, heartbeat_verdict, needs_rollout): the verify role's verdict in Python."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.health import (
    health_source,
    health_verdict,
    heartbeat_verdict,
    needs_rollout,
    rollout_hosts,
    screening_refusal,
)

CS = "10.0.0.11"
BUILD = "9.55.7123.1"
REGISTRATION = {
    "configuration_server_error": None,
    "configuration_server_ip": CS,
    "configuration_server_port": 443,
    "configuration_server_reachable": True,
    "master_target_installed": True,
    "obengine": "running",
    "registered": True,
    "tmansvc": "running",
}


def converge(changed: bool = False, **registration) -> dict:
    """A result of asr.process_server.process_server as the lab returns it (operations.registration.registration)."""
    return {
        "changed": changed,
        "failed": False,
        "version_after": BUILD,
        "version_before": BUILD,
        "steps": [],
        "operations": {"registration": {"changed": False, "registration": {**REGISTRATION, **registration}}},
    }


def survey(**asr) -> dict:
    base = {
        "installed": True,
        "build_version": BUILD,
        "services_not_running": [],
        "registration": {"registered": True, "configuration_server_ip": CS},
        "checks": {"configuration_server": {"reachable": True}},
    }
    return {"changed": False, "asr": {**base, **asr}}


def registrations(*rows) -> dict:
    return {"changed": False, "process_servers": [{"ip": ip, "heartbeat_age_minutes": age} for ip, age in rows]}


def test_a_healthy_converge_result_needs_no_survey_and_passes():
    report = health_verdict(converge(), configuration_server_ip=CS, expected_version=BUILD, ip="10.0.0.101")
    assert report == {
        "healthy": True,
        "problems": [],
        "source": "converge result",
        "version": BUILD,
        "heartbeat_ip": None,  # heartbeat=changed and nothing changed
    }


@pytest.mark.parametrize(
    ("result", "source"),
    [
        (None, "survey"),
        (converge(), "converge result"),
        ({"changed": True, "registration": REGISTRATION}, "registration result"),
        ({"changed": False, "proxy": {"enabled": False}}, "proxy result"),
        ({"changed": False}, "survey"),
    ],
)
def test_the_source_follows_what_the_result_carries(result, source):
    assert health_source(result) == source


def test_services_want_a_survey_except_for_a_predicted_change_in_check_mode():
    assert health_source(converge(), services=True) == "survey"
    assert health_source(converge(changed=True), services=True, check_mode=True) == "converge result"
    assert health_source(converge(changed=False), services=True, check_mode=True) == "survey"


@pytest.mark.parametrize(
    ("registration", "needle"),
    [
        ({"registered": False}, "not registered with a configuration server"),
        ({"configuration_server_ip": "10.0.0.12"}, "registered with configuration server 10.0.0.12, not 10.0.0.11"),
        (
            {"configuration_server_reachable": False, "configuration_server_error": "timed out"},
            "does not answer on 443",
        ),
        ({"obengine": "stopped"}, "obengine (Microsoft Azure Recovery Services Agent) is stopped"),
        ({"tmansvc": None}, "tmansvc (the heartbeat sender) is missing"),
    ],
)
def test_each_problem_of_a_converge_result_is_named(registration, needle):
    report = health_verdict(converge(**registration), configuration_server_ip=CS)
    assert report["healthy"] is False
    assert any(needle in p for p in report["problems"]), report["problems"]


def test_a_reregistration_excuses_the_unreachable_configuration_server():
    result = converge(configuration_server_reachable=False)
    result["operations"]["registration"]["changed"] = True
    result["steps"] = [{"name": "cdpcli.exe --registermt", "changed": True, "operation": "registration"}]
    assert health_verdict(result)["healthy"] is True


def test_failed_task_wrong_build_and_missing_install_are_problems():
    failed = {**converge(), "failed": True, "msg": "setup exit 1"}
    assert "the converge task failed: setup exit 1" in health_verdict(failed)["problems"]
    old = {**converge(), "version_after": "9.52.6801.1"}
    assert health_verdict(old, expected_version=BUILD)["problems"] == [f"build 9.52.6801.1 is not the expected {BUILD}"]
    absent = {**converge(), "version_after": None}
    assert "the process server is not installed" in health_verdict(absent)["problems"]


def test_a_survey_lists_stopped_services_and_a_failed_survey_is_a_problem():
    report = health_verdict(None, survey(services_not_running=["tmansvc"]))
    assert report["source"] == "survey" and report["problems"] == ["services not running: tmansvc"]
    failed = health_verdict(None, {"failed": True, "msg": "WinRM refused"})
    assert failed["problems"][0] == "the survey failed: WinRM refused"
    assert health_verdict(None, None)["problems"][0] == "the survey failed: no result"


def test_a_proxy_result_is_judged_on_its_success_only():
    assert health_verdict({"changed": True, "proxy": {}}, ip="10.0.0.101")["healthy"] is True
    assert health_verdict({"failed": True, "msg": "x", "proxy": {}})["healthy"] is False


def test_the_heartbeat_is_wanted_after_a_change_always_or_never():
    ip = "10.0.0.101"
    assert health_verdict(converge(changed=True), ip=ip)["heartbeat_ip"] == ip
    assert health_verdict(converge(), ip=ip, heartbeat="always")["heartbeat_ip"] == ip
    assert health_verdict(converge(changed=True), ip=ip, heartbeat="never")["heartbeat_ip"] is None
    # an unhealthy host is not worth the read: it fails anyway
    assert health_verdict(converge(changed=True, obengine="stopped"), ip=ip)["heartbeat_ip"] is None
    # no address to look it up by
    assert health_verdict(converge(changed=True), ip=None)["problems"] == [
        "no asr_ip to find the process server in the configuration server's list"
    ]


def test_check_mode_predicts_a_change_without_judging_its_heartbeat():
    report = health_verdict(converge(changed=True), ip="10.0.0.101", check_mode=True)
    assert report["healthy"] is True and report["heartbeat_ip"] is None
    assert report["heartbeat"] == "read after the change (not in check mode)"
    # an unchanged host's heartbeat can be read in check mode (the read is read-only)
    assert health_verdict(converge(), ip="10.0.0.101", heartbeat="always", check_mode=True)["heartbeat_ip"]


def test_an_unknown_heartbeat_choice_is_refused():
    with pytest.raises(InvalidOption, match="heartbeat"):
        health_verdict(converge(), heartbeat="sometimes")


def wanted(ip: str = "10.0.0.101") -> dict:
    return health_verdict(converge(changed=True), ip=ip)


def test_the_shared_read_judges_each_host_by_its_own_rows():
    shared = registrations(("10.0.0.101", 2.0), ("10.0.0.102", 40.0))
    ok = heartbeat_verdict(wanted("10.0.0.101"), shared, configuration_server="cs01")
    assert ok["healthy"] is True and ok["heartbeat_age_minutes"] == 2.0
    stale = heartbeat_verdict(wanted("10.0.0.102"), shared, configuration_server="cs01")
    assert stale["problems"] == ["last heartbeat 40 minutes ago (more than 15)"]
    missing = heartbeat_verdict(wanted("10.0.0.103"), shared, configuration_server="cs01")
    assert missing["problems"] == ["configuration server cs01 has no process server registered with 10.0.0.103"]


def test_duplicate_rows_count_the_freshest_heartbeat_and_an_unreadable_one_fails():
    assert heartbeat_verdict(wanted(), registrations(("10.0.0.101", 50.0), ("10.0.0.101", 1.0)))["healthy"] is True
    unreadable = heartbeat_verdict(wanted(), registrations(("10.0.0.101", None)))
    assert unreadable["problems"] == ["last heartbeat ? minutes ago (more than 15)"]


@pytest.mark.parametrize(
    ("shared", "needle"),
    [
        (
            {"unreachable": True, "msg": "read timeout"},
            "the heartbeat read failed on configuration server cs01: read timeout",
        ),
        ({"failed": True, "msg": "not a configuration server"}, "the heartbeat read failed"),
        ({"changed": False, "msg": "odd"}, "the heartbeat read failed"),
        ({"skipped": True}, "the heartbeat was not read on configuration server cs01"),
        (None, "the heartbeat was not read"),
    ],
)
def test_a_read_that_failed_or_did_not_run_never_passes(shared, needle):
    report = heartbeat_verdict(wanted(), shared, configuration_server="cs01")
    assert report["healthy"] is False and needle in report["problems"][0]


def test_a_report_without_heartbeat_ip_is_returned_as_is():
    report = health_verdict(converge())
    assert heartbeat_verdict(report, None) == report


@given(st.lists(st.tuples(st.sampled_from(["10.0.0.101", "10.0.0.102"]), st.none() | st.floats(0, 600)), max_size=6))
def test_healthy_exactly_when_a_listed_heartbeat_is_at_most_15_minutes(rows):
    ages = [a for ip, a in rows if ip == "10.0.0.101" and a is not None]
    report = heartbeat_verdict(wanted(), registrations(*rows))
    assert report["healthy"] is (bool(ages) and min(ages) <= 15)


def test_screening_sends_only_what_the_rolling_play_must_see():
    results = {
        "converged": converge(),
        "change": converge(changed=True),
        "failed": {"failed": True, "msg": "pending reboot"},
        "lost": {"unreachable": True, "msg": "connection refused"},
        "unhealthy": converge(tmansvc="stopped"),
        "missing": None,
    }
    assert rollout_hosts(results) == ["change", "failed", "lost", "unhealthy", "missing"]
    assert rollout_hosts(results, verify=False) == ["change", "failed", "lost", "missing"]
    assert rollout_hosts(results, heartbeat="always") == list(results)
    assert rollout_hosts(results, services=True) == list(results)
    assert needs_rollout({"changed": False, "proxy": {}}) is False  # a proxy result proves its own success
    assert needs_rollout({"changed": False}) is True  # nothing to judge health from: the gate must survey
    with pytest.raises(InvalidOption):
        needs_rollout(converge(), heartbeat="maybe")


def test_the_verdict_does_not_modify_its_input():
    result = converge(changed=True)
    before = copy.deepcopy(result)
    heartbeat_verdict(health_verdict(result, ip="10.0.0.101"), registrations(("10.0.0.101", 1.0)))
    assert result == before


def test_only_a_refusal_is_failed_by_the_rolling_play_without_running_the_module():
    refused = {"failed": True, "refused": True, "changed": False, "msg": "registered to 10.0.0.12, not 10.0.0.11."}
    text = screening_refusal(refused, "ps02")
    assert text.startswith("ps02: refused by the screening") and text.endswith("not 10.0.0.11.")
    assert screening_refusal(refused).startswith("refused by the screening")
    assert needs_rollout(refused) is True  # it goes to the rolling play, which fails it in its batch
    for other in (
        {"failed": True, "msg": "Script probe v1 failed on the host"},  # the probe failed: not a decision
        {"unreachable": True, "refused": True, "msg": "connection refused"},
        converge(changed=True),
        converge(),
        None,
        "text",
    ):
        assert screening_refusal(other, "ps01") is None, other
