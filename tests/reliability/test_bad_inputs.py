"""Bad input matrix (bad_input_cases.CASES): real ansible-playbook against one lab estate.

* module cases: one playbook, one task per case (``ignore_errors``), all on hosts whose journal must stay
  EMPTY for the whole run: every one of those tasks failed before any remote call.
* probe cases (downgrade, N-4): the host's journal may hold only the read-only probe, one per case.
* filter cases: the playbook variables through the collection's filters, one localhost playbook.
* playbook cases: the fleet playbooks run against the lab with the bad variable in ``-e``; those refused by the
  variable check (before_survey) run with cleared journals and must leave every journal empty.

Every case asserts the failure message names the option and what is allowed, and records itself in the
registry (section "bad-inputs") so docs/reliability.md counts what ran.
"""

from __future__ import annotations

import json
import pathlib
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import registry
import rel_helpers as rh
from bad_input_cases import BASELINES, CASES, PASSPHRASE, Case

from lab.asr.installer import package_bytes

pytestmark = pytest.mark.lab

SECTION = "bad-inputs"
registry.section(
    SECTION,
    "Bad input matrix",
    "Each case is a row of `tests/reliability/bad_input_cases.py`, run by real `ansible-playbook` against one lab "
    "estate (mixed seed). Module cases fail before any remote call (the host's journal stays empty for the "
    "whole run); refusals that need the installed version (downgrade, N-4) make only the read-only probe; "
    "playbook variables go through the collection's filters and through plan.yml / preflight.yml. Every "
    "message names the option and what is allowed.",
    order=10,
)

UNREGISTER_HOST = "cs01"
URL_PASSWORD = "Url-Pw-1"  # the password in the user:password@ URL rows of bad_input_cases.py
MODULE_HOST = "ps01"


def task_args(case: Case, installer: str) -> dict[str, Any]:
    args = dict(BASELINES[case.name])
    for key, value in case.args.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return {k: (installer if v == "@INSTALLER@" else v) for k, v in args.items()}


def module_play(host: str, cases: list[Case], installer: str, out: pathlib.Path) -> dict[str, Any]:
    tasks = []
    for i, case in enumerate(cases):
        tasks.append(
            {
                "name": f"case {case.id}",
                f"asr.process_server.{case.name}": task_args(case, installer),
                "register": f"r_{i}",
                "ignore_errors": True,
            }
        )
    collected = "{{ {" + ", ".join(f"'{c.id}': r_{i}" for i, c in enumerate(cases)) + "} | to_json }}"
    tasks.append(
        {
            "name": "Keep the results",
            "ansible.builtin.copy": {"content": collected, "dest": str(out), "mode": "0644"},
            "delegate_to": "localhost",
            "check_mode": False,
        }
    )
    return {"name": f"bad inputs on {host}", "hosts": host, "gather_facts": False, "tasks": tasks}


def filter_task(case: Case, i: int) -> dict[str, Any]:
    a = dict(case.args)
    if case.name == "process_server_sizing":
        expr = "{{ facts | asr.process_server.process_server_sizing(load) }}"
        variables = {"facts": a["facts"], "load": a.get("load")}
    else:
        opts = {k: v for k, v in a.items() if k not in ("machines", "servers")}
        expr = "{{ machines | asr.process_server.fleet_plan(servers, **opts) }}"
        variables = {"machines": a["machines"], "servers": a["servers"], "opts": opts}
    return {
        "name": f"case {case.id}",
        "ansible.builtin.debug": {"msg": expr},
        "vars": variables,
        "register": f"r_{i}",
        "ignore_errors": True,
    }


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Run every case once; per case: (message text, extra facts for the assertion)."""
    tmp = tmp_path_factory.mktemp("bad-inputs")
    installer = tmp / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    installer.write_bytes(package_bytes(rh.CURRENT))
    outcome: dict[str, dict[str, Any]] = {}
    with rh.served(tmp / "estate", "mixed", ps=3) as estate:
        rh.clear(estate)
        inventory = estate.path / "inventory.yml"
        module_cases = [c for c in CASES if c.kind == "module"]
        probe_cases = [c for c in CASES if c.kind == "probe"]
        filter_cases = [c for c in CASES if c.kind == "filter"]
        book_cases = [c for c in CASES if c.kind == "playbook"]

        # 1. module cases: two plays (unregister and registration_info run on the configuration server)
        on_cs = ("unregister", "registration_info")
        plays = [
            module_play(MODULE_HOST, [c for c in module_cases if c.name not in on_cs], str(installer), tmp / "m1.json"),
            module_play(UNREGISTER_HOST, [c for c in module_cases if c.name in on_cs], str(installer), tmp / "m2.json"),
        ]
        mod_book = rh.write_playbook(tmp / "modules.yml", plays)
        # 2. probe cases: one play per host, serial tasks
        probe_plays = []
        for host in sorted({c.host for c in probe_cases}):
            mine = [c for c in probe_cases if c.host == host]
            probe_plays.append(module_play(host, mine, str(installer), tmp / f"p-{host}.json"))
        probe_book = rh.write_playbook(tmp / "probes.yml", probe_plays)
        # 3. filter cases: localhost
        ftasks = [filter_task(c, i) for i, c in enumerate(filter_cases)]
        collected = "{{ {" + ", ".join(f"'{c.id}': r_{i}" for i, c in enumerate(filter_cases)) + "} | to_json }}"
        ftasks.append(
            {
                "name": "Keep",
                "ansible.builtin.copy": {"content": collected, "dest": str(tmp / "f.json"), "mode": "0644"},
            }
        )
        filter_book = rh.write_playbook(
            tmp / "filters.yml", [{"name": "filters", "hosts": "localhost", "gather_facts": False, "tasks": ftasks}]
        )

        def run_book(item):
            key, book, inv, extra = item
            return key, rh.playbook(book, inv, *extra)

        jobs = [
            ("modules", mod_book, inventory, []),
            ("probes", probe_book, inventory, []),
            (
                "filters",
                filter_book,
                None,
                ["-i", "localhost,", "-c", "local", "-e", f"ansible_python_interpreter={sys.executable}"],
            ),
        ]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=3) as pool:
            procs = dict(pool.map(run_book, jobs))
        print(f"bad inputs: module/probe/filter playbooks {time.monotonic() - t0:.1f}s")
        # the journals of the module/probe runs, before the playbooks survey the hosts
        journals = {h: rh.journal_entries(estate, h) for h in estate.host_names()}

        def book_job(c: Case):
            extra_vars = {"asr_report_dir": str(tmp / "reports"), **c.args}
            # the fresh PS (and the CS preflight reads); rebalance.yml runs on the implicit localhost only, which
            # --limit cannot name
            limit = {"plan.yml": ["--limit", "ps01"], "rebalance.yml": []}.get(c.name, ["--limit", "ps01,cs01"])
            return (c.id, rh.ROOT / "playbooks" / c.name, inventory, [*limit, "-e", json.dumps(extra_vars)])

        # playbook rows that survey the hosts first, then (journals cleared) the rows that must make NO remote call
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=3) as pool:
            procs.update(dict(pool.map(run_book, [book_job(c) for c in book_cases if not c.before_survey])))
        rh.clear(estate)
        early = [c for c in book_cases if c.before_survey]
        with ThreadPoolExecutor(max_workers=3) as pool:
            procs.update(dict(pool.map(run_book, [book_job(c) for c in early])))
        early_journals = {h: rh.journal_entries(estate, h) for h in estate.host_names()}
        print(f"bad inputs: {len(book_cases)} playbook runs {time.monotonic() - t0:.1f}s")

        for label, files in (
            ("modules", ["m1.json", "m2.json"]),
            ("probes", [f"p-{h}.json" for h in {c.host for c in probe_cases}]),
            ("filters", ["f.json"]),
        ):
            for name in files:
                path = tmp / name
                assert path.exists(), procs[label].stdout[-3000:] + procs[label].stderr[-3000:]
                for cid, result in json.loads(path.read_text(encoding="utf-8")).items():
                    outcome[cid] = {"result": result, "text": str(result.get("msg", "")), "output": procs[label].stdout}
        for c in book_cases:
            proc = procs[c.id]
            # the yaml callback wraps long lines and doubles single quotes inside single-quoted scalars
            text = " ".join((proc.stdout + proc.stderr).split()).replace("''", "'")
            outcome[c.id] = {"result": {"rc": proc.returncode}, "text": text, "rc": proc.returncode}
    return {"outcome": outcome, "journals": journals, "early_journals": early_journals, "procs": procs}


def test_module_hosts_journal_is_empty(matrix):
    """No module case reached the host: the journal of the hosts that only ran module cases is empty."""
    for host in (MODULE_HOST, UNREGISTER_HOST):
        entries = matrix["journals"][host]
        assert entries == [], (host, [e.get("identity") for e in entries])


def test_playbook_rows_refused_before_any_remote_call_made_none(matrix):
    """The playbook rows refused by the playbooks' variable check (before_survey) ran with every journal cleared:
    no host received a single call, the configuration server included (upgrade.yml upgrades it first)."""
    calls = {host: [e.get("identity") for e in entries] for host, entries in matrix["early_journals"].items()}
    assert all(not found for found in calls.values()), calls
    registry.fact(SECTION, "Playbook rows refused with no remote call", sum(c.before_survey for c in CASES))


def check(matrix: dict[str, Any], case: Case) -> None:
    got = matrix["outcome"][case.id]
    text = got["text"]
    if case.kind == "playbook":
        assert (got["rc"] != 0) is case.must_fail, (got["rc"], text[-2000:])
        if case.before_survey:  # the run stopped at a variable check: no task after it started
            tasks = re.findall(r"TASK \[([^\]]*)\]", text)
            assert tasks and tasks[-1].startswith("Check the"), (tasks, text[-2000:])
            assert "TASK [Survey the" not in text and "TASK [Screen" not in text, text[-2000:]
    else:
        result = got["result"]
        assert result.get("failed") is True, result
        assert result.get("changed") is not True, result
        if case.kind == "probe":  # the read-only probe, nothing else
            assert result.get("remote_calls") == 1, result
            identities = [e.get("identity") for e in matrix["journals"][case.host]]
            assert set(identities) == {"probe v1"}, identities
        else:
            assert not result.get("remote_calls"), result
    for needle in case.expect:
        assert needle in text, (needle, text[-1500:])
    assert PASSPHRASE not in json.dumps(got["result"])
    assert URL_PASSWORD not in text and URL_PASSWORD not in json.dumps(got["result"])  # a refused URL is redacted


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(matrix, case):
    group = case.target.split("@")[0]
    if case.known_issue:
        try:
            check(matrix, case)
        except AssertionError:
            registry.record(SECTION, case.id, "known issue (reported)", group=group)
            pytest.xfail(case.known_issue)
        registry.record(SECTION, case.id, "passed", group=group)
        pytest.fail(f"{case.id} now passes: remove known_issue from bad_input_cases.py")
    with registry.case(SECTION, case.id, group=group):
        check(matrix, case)


def test_matrix_size():
    """The brief asks for at least 60 cases across modules and playbook variables."""
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    registry.fact(SECTION, "Cases in the table", len(CASES))
    registry.fact(
        SECTION,
        "Kinds",
        ", ".join(f"{k}: {sum(c.kind == k for c in CASES)}" for k in ("module", "probe", "filter", "playbook")),
    )
