from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.filter.sizing import FilterModule

FILTERS = FilterModule().filters()
SIZING = FILTERS["process_server_sizing"]
PLAN = FILTERS["fleet_plan"]


@pytest.mark.parametrize(
    ("facts", "tier"),
    [
        ({"vcpus": 4, "memory_gb": 8, "cache_disk_gb": 300}, "small"),
        ({"vcpus": 8, "memory_gb": 12, "cache_disk_gb": 600}, "medium"),
        ({"vcpus": 12, "memory_gb": 24, "cache_disk_gb": 1024}, "large"),
    ],
)
def test_seed_table_rows_qualify_for_their_tier(facts, tier):
    assert SIZING(facts)["qualifies_for"]["tier"]["name"] == tier


def test_the_small_tier_row_has_one_verdict_and_no_contradicting_requirements():
    """Issue 10 item 8: a host built exactly to the small tier is not refused by a second table."""
    result = SIZING({"vcpus": 4, "memory_gb": 8, "cache_disk_gb": 300})
    assert "requirements" not in result
    assessment = result["assessment"]
    assert assessment["ok"] is True and assessment["tier"]["name"] == "small"
    assert assessment["table"] == "[7.1] scale-out process server sizing"
    with_load = SIZING(
        {"vcpus": 4, "memory_gb": 8, "cache_disk_gb": 300}, {"protected_machines": 85, "daily_churn_gb": 250}
    )
    assert with_load["assessment"]["ok"] is with_load["verdict"]["fits"] is True


def test_load_verdict_names_the_shortfall():
    result = SIZING(
        {"vcpus": 8, "memory_gb": 12, "cache_disk_gb": 600}, {"protected_machines": 180, "daily_churn_gb": 500}
    )
    verdict = result["verdict"]
    assert verdict["fits"] is False
    assert verdict["needed_tier"]["name"] == "large"
    assert any("vcpus" in s and "12" in s for s in verdict["shortfalls"])


@pytest.mark.parametrize(
    ("facts", "load", "needle"),
    [
        ("8 vcpus", None, "must be a dictionary"),
        ({"vcpus": 8, "memory_gb": 12, "cache_disk": 600}, None, "cache_disk"),
        ({"vcpus": 0, "memory_gb": 12, "cache_disk_gb": 600}, None, "vcpus"),
        (
            {"vcpus": 8, "memory_gb": 12, "cache_disk_gb": 600},
            {"protected_machines": -1, "daily_churn_gb": 1},
            "protected_machines",
        ),
    ],
)
def test_bad_input_is_a_filter_error_naming_the_key(facts, load, needle):
    with pytest.raises(AnsibleFilterError, match=needle):
        SIZING(facts, load)


def test_fleet_plan_places_every_machine_within_caps():
    machines = [{"name": f"vm{i:03}", "daily_churn_gb": 10} for i in range(300)]
    plan = PLAN(machines, [{"name": "ps01", "tier": "large"}, {"name": "ps02", "tier": "large"}])
    assert sorted(plan["assignments"]) == sorted(m["name"] for m in machines)
    for server in plan["servers"]:
        assert server["protected_machines"] <= server["max_protected_machines"]
    assert plan["servers_needed"] >= plan["lower_bound"]


def test_fleet_plan_rejects_unknown_options_and_machines_over_two_tb():
    with pytest.raises(AnsibleFilterError, match="max_utilization"):
        PLAN([], [], max_utilization=0.5)
    with pytest.raises(AnsibleFilterError, match="vm-big"):
        PLAN([{"name": "vm-big", "daily_churn_gb": 3000}])
