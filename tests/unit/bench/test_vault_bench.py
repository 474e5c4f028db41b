"""bench/vault_bench.py's own logic: how an Azure journal line is counted, the seed it writes, the table."""

from __future__ import annotations

import pytest
import yaml

from bench import vault_bench
from lab import seed


@pytest.mark.parametrize(
    ("entry", "kind"),
    [
        ({"op": "token", "identity": "POST /t/oauth2/v2.0/token", "rc": 200}, "token"),
        ({"op": "discovery", "identity": "GET /t/v2.0/.well-known/openid-configuration", "rc": 200}, "discovery"),
        ({"op": "arm", "identity": "GET replicationFabrics", "rc": 200}, "fabrics"),
        ({"op": "arm", "identity": "GET replicationFabrics/{}", "rc": 200}, "fabrics"),
        (
            {"op": "arm", "identity": "GET replicationFabrics/{}/replicationProtectionContainers", "rc": 200},
            "containers",
        ),
        (
            {
                "op": "arm",
                "identity": "GET replicationFabrics/{}/replicationProtectionContainers/{}/replicationProtectedItems",
                "rc": 200,
            },
            "protected_items_page",
        ),
        ({"op": "arm", "identity": "POST replicationFabrics/{}/reassociateGateway", "rc": 202}, "switch"),
        ({"op": "arm", "identity": "GET replicationOperationStatus/{}", "rc": 200}, "operation_poll"),
        ({"op": "arm", "identity": "GET replicationFabrics", "rc": 429}, "throttled"),
        ({"op": "arm", "identity": "GET replicationPolicies", "rc": 200}, "other"),
    ],
)
def test_each_request_is_counted_as_what_it_was(entry, kind):
    assert vault_bench.classify(entry) == kind


def test_the_seed_puts_every_machine_on_ps01(tmp_path):
    path = vault_bench.write_seed(tmp_path / "s.yml", 200)
    spec = seed.load(path)
    hosts = {h["name"]: h for h in spec["hosts"]}
    assert sorted(hosts) == ["cs01", "ps01", "ps02", "ps03"]
    assert hosts["ps01"]["asr"]["protected_machines"] == 200
    assert "protected_machines" not in hosts["ps02"]["asr"] and hosts["ps03"]["asr"]["cs"] == "cs01"
    assert yaml.safe_load(path.read_text(encoding="utf-8")) == spec


def test_the_table_shows_calls_per_moved_machine_and_a_dash_when_nothing_moved():
    rows = [
        {"run": "drain", "moved": 200, "azure_requests": 12, "requests_per_moved_machine": 0.06, "wall_s": 9.5,
         "calls": {"switch": 1, "operation_poll": 3, "fabrics": 2, "containers": 2, "protected_items_page": 4}},
        {"run": "drain-again", "moved": 0, "azure_requests": 4, "requests_per_moved_machine": None, "wall_s": 5.0,
         "calls": {"fabrics": 1, "containers": 1, "protected_items_page": 2}},
    ]  # fmt: skip
    lines = vault_bench.table({"runs": rows}).splitlines()
    assert lines[2] == "| drain | 200 | 12 | 0.06 | 1 | 3 | 8 | 9.5 |"
    assert lines[3] == "| drain-again | 0 | 4 | - | 0 | 0 | 4 | 5.0 |"
