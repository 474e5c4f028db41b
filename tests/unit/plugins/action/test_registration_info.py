"""asr.process_server.registration_info: one read-only remote call reads the registrations and heartbeats of
several process servers in the configuration server's database (the read a rollout batch shares); it only ever
runs registration_read, bad input is refused before any call, a password goes as a SecureString and never comes
back; and the health filters over its result."""

from __future__ import annotations

import json
import pathlib

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.filter.health import FilterModule
from tests.unit.plugins.action.replay import make_plugin, ps, replay

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
READ = json.loads((FIXTURES / "registration_read_v1_lab_disconnected.json").read_text(encoding="utf-8"))  # lab
FILTERS = FilterModule().filters()
SECRET = "Ro-Acc0unt#Pw"


def run(monkeypatch, args, replies, check_mode=False):
    plugin = make_plugin("registration_info", args, check_mode=check_mode)
    execute, result = replay(monkeypatch, plugin, [ps(r) for r in replies], host="cs01")
    return result, execute


def script_of(call) -> str:
    return call.kwargs["module_args"]["script"].splitlines()[0]


@pytest.mark.parametrize("check_mode", [False, True])
def test_several_addresses_in_one_read_only_call(monkeypatch, check_mode):
    args = {"ip_addresses": ["10.0.0.101", "10.0.0.102", "10.0.0.9", "10.0.0.101"]}
    result, execute = run(monkeypatch, args, [READ], check_mode=check_mode)
    assert (
        execute.call_count == 1 and script_of(execute.call_args) == "# asr.process_server script: registration_read v1"
    )
    assert execute.call_args.kwargs["module_args"]["parameters"] == {}  # the configuration server's own account
    assert result["changed"] is False
    assert [(r["ip"], r["name"], r["heartbeat_age_minutes"]) for r in result["process_servers"]] == [
        ("10.0.0.101", "PS01", 60.0),
        ("10.0.0.102", "PS02", 0.0),
    ]
    assert result["reasons"] == [
        "no process server with IP address 10.0.0.9 is registered with this configuration server"
    ]
    assert result["database"] == {
        "name": "svsdb1",
        "client": READ["mysql_client"],
        "client_source": "amethyst.conf MYSQL_PATH",
        "credentials": "amethyst.conf",
    }


def test_without_addresses_every_registered_process_server(monkeypatch):
    result, _ = run(monkeypatch, {}, [READ])
    assert [r["ip"] for r in result["process_servers"]] == ["10.0.0.11", "10.0.0.101", "10.0.0.102"]
    assert result["reasons"] == []


def test_a_given_account_goes_as_a_secure_string_and_never_comes_back(monkeypatch):
    result, execute = run(monkeypatch, {"database_user": "asr_ro", "database_password": SECRET}, [READ])
    module_args = execute.call_args.kwargs["module_args"]
    assert module_args["parameters"] == {"DatabaseUser": "asr_ro"}
    assert module_args["sensitive_parameters"] == [{"name": "DatabasePassword", "value": SECRET}]
    assert SECRET not in json.dumps(result)
    assert result["invocation"]["module_args"]["database_password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"ip_addresses": ["10.0.0.101", "fe80::1"]}, "ip_addresses"),
        ({"ip_addresses": []}, "ip_addresses"),
        ({"database_user": "asr_ro"}, "together"),
        ({"database_user": "", "database_password": SECRET}, "database_user"),
        ({"database_user": "asr_ro", "database_password": ""}, "database_password is empty"),
        ({"bogus": 1}, "Supported"),
    ],
)
def test_bad_input_fails_before_any_remote_call(monkeypatch, args, needle):
    result, execute = run(monkeypatch, args, [])
    assert result.get("failed") and needle in result["msg"] and execute.call_count == 0
    assert SECRET not in json.dumps(result)


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"is_configuration_server": False}, "not a configuration server"),
        ({"rc": 1, "stdout": "", "stderr": "ERROR 2003 (HY000): Can't connect to MySQL server"}, "MySQL service"),
    ],
)
def test_a_read_that_cannot_be_used_fails_with_what_to_do(monkeypatch, change, needle):
    result, execute = run(monkeypatch, {"ip_addresses": ["10.0.0.101"]}, [{**READ, **change}])
    assert result.get("failed") and needle in result["msg"] and execute.call_count == 1


def test_the_filters_pass_plain_data_to_the_domain_core_and_name_bad_options():
    result = {"changed": True, "proxy": {}}
    assert FILTERS["health_source"](result) == "proxy result"
    report = FILTERS["health_verdict"](result, ip="10.0.0.101")
    assert report["heartbeat_ip"] == "10.0.0.101"
    registrations = {"process_servers": [{"ip": "10.0.0.101", "heartbeat_age_minutes": 3}]}
    assert FILTERS["health_heartbeat"](report, registrations, "cs01", "15")["healthy"] is True
    assert FILTERS["rollout_hosts"]({"ps01": result, "ps02": {"changed": False, "proxy": {}}}) == ["ps01"]
    with pytest.raises(AnsibleFilterError, match="unsupported options bogus"):
        FILTERS["health_verdict"](result, bogus=1)
    with pytest.raises(AnsibleFilterError, match="heartbeat"):
        FILTERS["health_verdict"](result, heartbeat="sometimes")
    with pytest.raises(AnsibleFilterError, match="max_age_minutes"):
        FILTERS["health_heartbeat"](report, registrations, "cs01", "soon")
    with pytest.raises(AnsibleFilterError, match="host name to registered result"):
        FILTERS["rollout_hosts"](["ps01"])
