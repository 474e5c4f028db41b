"""asr.process_server.unregister with ip_addresses: one read-only remote call lists several process servers (the
heartbeat read a rollout batch shares), never a purge, bad input refused before any call; and the health filters."""

from __future__ import annotations

import importlib
import json
import pathlib
from unittest.mock import MagicMock

import pytest
from ansible.errors import AnsibleFilterError
from ansible.playbook.task import Task

from ansible_collections.asr.process_server.plugins.filter.health import FilterModule

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
LISTING = json.loads((FIXTURES / "unregister_list_v1_lab_disconnected.json").read_text(encoding="utf-8"))
FILTERS = FilterModule().filters()


def run(monkeypatch, args, replies, check_mode=False):
    action = importlib.import_module("ansible_collections.asr.process_server.plugins.action.unregister")
    task = MagicMock(Task)
    task.args = args
    task.check_mode = check_mode
    task.diff = False
    task.async_val = 0
    plugin = action.ActionModule(task, MagicMock(), MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    execute = MagicMock(
        side_effect=[{"changed": False, "result": json.dumps(r), "output": [], "error": []} for r in replies]
    )
    monkeypatch.setattr(plugin, "_execute_module", execute)
    return plugin.run(task_vars={"inventory_hostname": "cs01"}), execute


def many(*runs):
    """The v1 listing's reply for several addresses: rc/stdout/stderr of the first run, every run in listings."""
    listings = [{"ip": ip, "rc": 1, "stdout": stdout, "stderr": ""} for ip, stdout in runs]
    return {**LISTING, "stdout": listings[0]["stdout"], "listings": listings}


def test_several_addresses_are_listed_in_one_call_and_nothing_is_purged(monkeypatch):
    second = "S.No  IP/Name  Heartbeat\r\n1     10.0.0.102/PS02   2026-11-26 01:45:55\r\n"
    reply = many(("10.0.0.101", LISTING["stdout"]), ("10.0.0.102", second), ("10.0.0.103", "nothing\r\n"))
    result, execute = run(
        monkeypatch, {"ip_addresses": ["10.0.0.101", "10.0.0.102", "10.0.0.103", "10.0.0.101"]}, [reply]
    )
    assert execute.call_count == 1  # one remote call, the read-only listing, even outside check mode
    assert execute.call_args.kwargs["module_args"]["parameters"] == {
        "IpAddress": ["10.0.0.101", "10.0.0.102", "10.0.0.103"]
    }
    assert result["changed"] is False and result["purged"] == []
    assert [(r["ip"], r["heartbeat_age_minutes"]) for r in result["process_servers"]] == [
        ("10.0.0.101", 60.0),
        ("10.0.0.102", 1.0),
    ]
    assert result["reasons"] == ["no process server with IP address 10.0.0.103 is registered"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"ip_addresses": ["10.0.0.101", "fe80::1"]}, "ip_addresses"),
        ({"ip_addresses": []}, "ip_addresses"),
        ({"ip_address": "10.0.0.101", "ip_addresses": ["10.0.0.102"]}, "mutually exclusive"),
        ({}, "one of the following is required"),
    ],
)
def test_bad_input_fails_before_any_remote_call(monkeypatch, args, needle):
    result, execute = run(monkeypatch, args, [])
    assert result.get("failed") and needle in result["msg"] and execute.call_count == 0


def test_a_host_that_is_not_a_configuration_server_fails_the_listing(monkeypatch):
    reply = {**LISTING, "is_configuration_server": False, "rc": None, "stdout": None, "listings": []}
    result, _ = run(monkeypatch, {"ip_addresses": ["10.0.0.101"]}, [reply])
    assert result.get("failed") and "not a configuration server" in result["msg"]


def test_the_filters_pass_plain_data_to_the_domain_core_and_name_bad_options():
    result = {"changed": True, "proxy": {}}
    assert FILTERS["health_source"](result) == "proxy result"
    report = FILTERS["health_verdict"](result, ip="10.0.0.101")
    assert report["heartbeat_ip"] == "10.0.0.101"
    listing = {"process_servers": [{"ip": "10.0.0.101", "heartbeat_age_minutes": 3}]}
    assert FILTERS["health_heartbeat"](report, listing, "cs01", "15")["healthy"] is True
    assert FILTERS["rollout_hosts"]({"ps01": result, "ps02": {"changed": False, "proxy": {}}}) == ["ps01"]
    with pytest.raises(AnsibleFilterError, match="unsupported options bogus"):
        FILTERS["health_verdict"](result, bogus=1)
    with pytest.raises(AnsibleFilterError, match="heartbeat"):
        FILTERS["health_verdict"](result, heartbeat="sometimes")
    with pytest.raises(AnsibleFilterError, match="max_age_minutes"):
        FILTERS["health_heartbeat"](report, listing, "cs01", "soon")
    with pytest.raises(AnsibleFilterError, match="host name to registered result"):
        FILTERS["rollout_hosts"](["ps01"])
