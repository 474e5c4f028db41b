"""The configuration server's registrations read from svsdb1.hosts [5]: the ``mysql --batch`` parser, what a
failed read says to do, and the purge decision made from the rows (never from Unregister-ASRComponent.pl)."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import registrations, unregister_plan
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.registrations import COLUMNS, HostRow
from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader

ROOT = pathlib.Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests" / "unit" / "plugins" / "action" / "fixtures"
# recorded from the lab (seed "disconnected": PS01 silent for an hour, PS02 healthy) -- not from a real server
READ = json.loads((FIXTURES / "registration_read_v1_lab_disconnected.json").read_text(encoding="utf-8"))
HEADER = "\t".join(COLUMNS)


def escape(value: str | None) -> str:
    """What mysql.exe --batch prints for one field (NULL, and its escapes of backslash, tab, newline, NUL)."""
    if value is None:
        return "NULL"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")


def batch(*rows: tuple) -> str:
    return "".join(line + "\r\n" for line in [HEADER, *("\t".join(escape(v) for v in row) for row in rows)])


def row(ip="10.0.0.101", name="PS01", ps="1", age="60", host_id="GUID-1"):
    return (host_id, name, ip, "Windows", "2026-11-26 00:00:00", ps, "2026-11-26 00:00:00", age, age)


# ---- the parser ------------------------------------------------------------------------------------------
def test_the_recorded_read_parses_into_process_server_rows():
    rows = registrations.parse_batch(READ["stdout"])
    assert [(r.ip, r.name, r.process_server) for r in rows] == [
        ("10.0.0.11", "CS01", True),
        ("10.0.0.101", "PS01", True),
        ("10.0.0.102", "PS02", True),
    ]
    dead = rows[1]
    assert dead.heartbeat_age_minutes == 60.0 and dead.to_dict()["heartbeat"] == dead.heartbeat
    assert registrations.read_problem(READ) is None


# mysql --batch prints SQL NULL and the text "NULL" alike, so that one text cannot read back as itself (pinned
# below); every other text must.
printable = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(lambda s: s != "NULL")


@given(st.lists(st.tuples(printable, printable, printable, st.one_of(st.none(), printable)), max_size=5))
def test_any_text_the_client_escapes_reads_back_exactly(values):
    rows = [("id", name, ip, os, None, "1", None, None, None) for name, ip, os, _ in values]
    parsed = registrations.parse_batch(batch(*rows))
    assert [(r.name, r.ip, r.operating_system) for r in parsed] == [(n, i, o) for n, i, o, _ in values]


def test_the_text_null_reads_as_sql_null_as_the_client_prints_both_alike():
    (parsed,) = registrations.parse_batch(batch(("id", "PS01", "10.0.0.101", "NULL", None, "1", None, None, None)))
    assert parsed.operating_system is None and parsed.name == "PS01"


@given(st.one_of(st.none(), st.integers(-(10**6), 10**9)))
def test_ages_are_whole_seconds_or_null(age):
    text = None if age is None else str(age)
    (parsed,) = registrations.parse_batch(batch(row(age=text)))
    if age is None:
        assert parsed.heartbeat_age_minutes is None
    else:
        assert parsed.heartbeat_age_s == age and parsed.heartbeat_age_minutes == round(max(age, 0) / 60, 1)


@pytest.mark.parametrize(
    ("stdout", "needle"),
    [
        ("", "returned nothing"),
        ("hostid\tname\tipaddress\toperatingsystem\theartbeat\r\n", "not hostid, name"),  # the documented columns only
        (HEADER + "\r\nid\tPS01\r\n", "has 2 fields"),
        (batch(row(age="soon")), "not a number"),
    ],
)
def test_output_of_another_shape_is_refused_with_what_to_do(stdout, needle):
    with pytest.raises(PlanningError, match=needle) as caught:
        registrations.parse_batch(stdout)
    assert registrations.RUNBOOK in str(caught.value)


def test_only_process_server_rows_count_and_addresses_are_whole():
    rows = registrations.parse_batch(
        batch(row(ip="10.0.0.1010"), row(ip="10.0.0.101", ps="0"), row(ip="10.0.0.101", name="PS01-DUP"))
    )
    assert [r.name for r in registrations.registered_process_servers(rows, ["10.0.0.101"])] == ["PS01-DUP"]
    assert len(registrations.registered_process_servers(rows)) == 2
    assert registrations.not_registered(rows, ["10.0.0.101", "10.0.0.9"]) == [
        "no process server with IP address 10.0.0.9 is registered with this configuration server"
    ]


# ---- a read that cannot be used says what to do ------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"is_configuration_server": False}, "not a configuration server"),
        ({"mysql_client": None}, "No MySQL client"),
        ({"credentials_missing": ["DB_PASSWD"]}, "has no DB_PASSWD"),
        (
            {"rc": 1, "stderr": "ERROR 1045 (28000): Access denied for user 'svsystems'@'localhost'"},
            "refused the account (DB_USER/DB_PASSWD of",
        ),
        (
            {"rc": 1, "credentials": "task", "stderr": "ERROR 1045 (28000): Access denied for user 'ro'@'localhost'"},
            "database_user/database_password of the task",
        ),
        (
            {"rc": 1, "stderr": "ERROR 2003 (HY000): Can't connect to MySQL server on 'localhost' (10061)"},
            "MySQL service",
        ),
        ({"rc": 1, "stderr": "ERROR 1054 (42S22) at line 1: Unknown column 'lasthostupdatetimeps'"}, "lacks a column"),
        ({"rc": 1, "stderr": "ERROR 1142 (42000) at line 1: SELECT command denied"}, "may not SELECT"),
        ({"rc": 3, "stderr": "something odd"}, "by hand"),
    ],
)
def test_a_read_that_cannot_be_used_says_what_to_do(change, needle):
    problem = registrations.read_problem({**READ, **change})
    assert problem and needle in problem, problem
    assert "Unregister-ASRComponent" not in problem  # never a fallback to the purge script


# ---- the script agrees with the parser ------------------------------------------------------------------------
def script_query() -> str:
    """The query as registration_read sends it (the svsdb_read fragment spliced in)."""
    text = loader.load_script("registration_read").text
    block = text[text.index("$query = (") : text.index('return "SET SESSION')]
    return "".join(single or double for single, double in re.findall(r"'([^']*)'|\"([^\"]*)\"", block))


def test_the_script_selects_exactly_the_columns_the_parser_reads():
    query = script_query()
    aliases = [item.strip().split()[-1].lower() for item in query[len("SELECT ") : query.index(" FROM ")].split(",")]
    assert tuple(aliases) == COLUMNS
    assert query.endswith("FROM hosts WHERE name != 'InMageProfiler'")


@pytest.mark.parametrize("name", ["registration_read", "diagnose"])  # diagnose makes the same read (svsdb_read)
def test_the_read_only_script_runs_only_a_select_in_a_read_only_transaction_and_never_the_purge_script(name):
    text = loader.load_script(name).text
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    assert 'return "SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; $query; COMMIT"' in code
    assert "perl" not in code.lower() and "unregister" not in code.lower()
    assert code.count("Invoke-NativeCommand -FilePath") == 1 and "MYSQL_PWD" in code
    assert "SupportsShouldProcess" in code and "Set-Content" not in code and "WriteAllText" not in code


# ---- the purge decision ------------------------------------------------------------------------------------
def rows_of(*specs) -> list[HostRow]:
    return registrations.parse_batch(batch(*specs))


def test_a_dead_process_server_is_purged_once_per_registered_row():
    plan = unregister_plan.plan_unregister(rows_of(row(age="3600"), row(age="7200", host_id="GUID-2")), "10.0.0.101")
    assert plan.changed and plan.purges == 2
    assert plan.to_dict()["registered"][0]["name"] == "PS01"


def test_not_registered_is_unchanged():
    plan = unregister_plan.plan_unregister(rows_of(row(ip="10.0.0.102")), "10.0.0.101")
    assert not plan.changed and plan.reasons == ["no process server with IP address 10.0.0.101 is registered"]


@pytest.mark.parametrize("age", ["60", "900", None])
def test_a_fresh_or_unknown_heartbeat_is_refused_unless_force(age):
    rows = rows_of(row(age=age))
    with pytest.raises(PlanningError, match="force=true"):
        unregister_plan.plan_unregister(rows, "10.0.0.101")
    assert unregister_plan.plan_unregister(rows, "10.0.0.101", force=True).changed


def test_remaining_rows_after_a_purge():
    assert unregister_plan.remaining(rows_of(row(ip="10.0.0.102")), "10.0.0.101") == []
    assert len(unregister_plan.remaining(rows_of(row()), "10.0.0.101")) == 1
