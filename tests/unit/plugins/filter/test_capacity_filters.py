"""The capacity/preflight filters are thin adapters: plain data in, the domain core's answer out."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugin_utils"))
from _info_results import LARGE, MEDIUM, info_result

from ansible_collections.asr.process_server.plugins.filter.capacity import FilterModule

FILTERS = FilterModule().filters()


def test_report_html_and_summary():
    hosts = [{"name": "ps01", "info": info_result(**MEDIUM), "planned_load": {"protected_machines": 5,
                                                                               "daily_churn_gb": 5}}]  # fmt: skip
    report = FILTERS["capacity_report"](hosts, None, generated="now")
    assert report["hosts"][0]["status"] == "fits"
    assert FILTERS["capacity_report_html"](report).startswith("<!DOCTYPE html>")
    summary = FILTERS["capacity_report_summary"](report)
    assert summary[0] == "load from: inventory variables (asr_planned_load, asr_source_machines)"
    assert summary[1].startswith("ps01: tier medium")


def test_report_rejects_unknown_options_and_bad_input():
    with pytest.raises(AnsibleFilterError, match="unsupported options"):
        FILTERS["capacity_report"]([], None, colour="red")
    with pytest.raises(AnsibleFilterError, match="list"):
        FILTERS["capacity_report"]("ps01")
    with pytest.raises(AnsibleFilterError, match="not a capacity report"):
        FILTERS["capacity_report_html"]({})


def test_preflight_table_and_blocked():
    ok = FILTERS["preflight"](info_result(**LARGE), {"configuration_server_version": "9.55.7123.1"})
    bad = FILTERS["preflight"]({"unreachable": True, "msg": "gone"})
    table = FILTERS["preflight_table"]({"ps10": bad, "ps2": ok})
    assert table == ["ps10  BLOCKED: host unreachable: gone", "ps2   OK"]
    assert FILTERS["preflight_blocked"]({"ps10": bad, "ps2": ok}) == ["ps10"]
    with pytest.raises(AnsibleFilterError):
        FILTERS["preflight_table"](["ps1"])


def test_variable_checks_name_the_variable():
    assert FILTERS["capacity_plan_options"]({"asr_new_server_tier": "medium"})["new_server_tier"] == "medium"
    with pytest.raises(AnsibleFilterError, match=r"asr_new_server_tier: 'huge' is not allowed; allowed: one of"):
        FILTERS["capacity_plan_options"]({"asr_new_server_tier": "huge"})
    assert FILTERS["preflight_expectations"]({"asr_installer_version": "9.55.7123.1"}) == {
        "installer_version": "9.55.7123.1"
    }
    with pytest.raises(AnsibleFilterError, match=r"asr_installer_version: '9\.x' is not allowed"):
        FILTERS["preflight_expectations"]({"asr_installer_version": "9.x"})
    with pytest.raises(AnsibleFilterError, match=r"preflight: installer_version: '9\.x'"):
        FILTERS["preflight"](info_result(**LARGE), {"installer_version": "9.x"})
