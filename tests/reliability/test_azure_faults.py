"""The Azure side's faults (lab/azure.py) against switch_process_server, run by real ansible-playbook: throttling,
a Switch that fails half-way, a token that expires while the task waits, and a wait that outlasts wait_timeout.
For each, nothing is left half-moved that the next run does not finish, and no machine is moved twice. Then the
same for playbooks/rebalance.yml: a run throttled and stopped by a Switch that fails half-way starts no later batch,
and the next run of the same plan finishes it.

One estate (seed ``vault``) and ONE playbook for the module: the faults are set between the tasks by ``python -m lab
fault azure`` tasks, so the whole sequence costs one ansible-playbook run; rebalance.yml runs twice on the same
estate afterwards."""

from __future__ import annotations

import json
import sys

import _lab as L
import pytest
import registry
import rel_helpers as rh

from lab import azure, journal
from lab import estate as estate_mod
from lab.asr import protection

pytestmark = pytest.mark.lab
pytest.importorskip("azure.mgmt.recoveryservicessiterecovery")

SECTION = "azure-faults"
registry.section(
    SECTION,
    "Azure faults",
    "switch_process_server against the lab's Azure side (lab/azure.py) with one fault at a time, by real "
    "`ansible-playbook`: throttling is waited out, a Switch that fails half-way or outlasts `wait_timeout` fails "
    "naming the operation and what moved, and the next run moves only what is still on the source (no machine "
    "moved twice); a token that expires while the task waits is renewed. `playbooks/rebalance.yml` under throttling "
    "and a Switch that fails half-way stops before its next batch, and its next run finishes the plan.",
    order=25,
)
PS02, PS03, PS01 = "10.0.0.102", "10.0.0.103", "10.0.0.101"


def fault(estate, knob, value=None):
    cmd = [sys.executable, "-m", "lab", "fault", "--dir", str(estate.path), "azure", knob]
    cmd += [json.dumps(value)] if value is not None else ["--clear"]
    return {
        "name": f"fault {knob}",
        "ansible.builtin.command": {"argv": cmd, "chdir": str(rh.ROOT)},
        "changed_when": False,
    }


def switch(name, options, register, **args):
    return {
        "name": name,
        "asr.process_server.switch_process_server": {**options, "poll_interval": 1, **args},
        "register": register,
        "ignore_errors": True,
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("azure-faults")
    with L.served(tmp / "estate", "vault", cs=1, ps=3) as estate:
        options = azure.module_options(estate, estate_mod.read_meta(estate))
        first3 = sorted(protection.on_process_server(estate.read_host("cs01"), PS02))[:3]
        tasks = [
            fault(estate, "arm_throttle", 3),
            switch("throttled", options, "throttled", source="PS02", target="PS03", machines=first3),
            fault(estate, "operation_fails", True),
            fault(estate, "operation_fails_after", 4),
            switch("half", options, "half", source="PS02", target="PS03"),
            switch("finish", options, "finish", source="PS02", target="PS03"),
            fault(estate, "operation_seconds_per_machine", 0.3),
            fault(estate, "token_expires_at_request", 4),  # reads 3, POST, then a status poll finds it expired
            switch("token", options, "token", source="PS03", target="PS01", machines=first3),
            fault(estate, "operation_seconds_per_machine", 0.5),
            switch("slow", options, "slow", source="PS03", target="PS01", wait_timeout=1),
            {"name": "let the operation end in Azure", "ansible.builtin.pause": {"seconds": 5}},
            switch("after_slow", options, "after_slow", source="PS03", target="PS01"),
        ]
        keep = "{{ {'throttled': throttled, 'half': half, 'finish': finish, 'token': token, 'slow': slow, " + (
            "'after_slow': after_slow} | to_json }}"
        )
        tasks.append({"name": "keep", "ansible.builtin.copy": {"content": keep, "dest": str(tmp / "r.json")}})
        book = rh.write_playbook(tmp / "azure.yml", [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}])
        proc = rh.playbook(book, estate.path / "inventory.yml")
        assert (tmp / "r.json").exists(), proc.stdout[-4000:] + proc.stderr[-2000:]
        results = json.loads((tmp / "r.json").read_text(encoding="utf-8"))
        moves = {name: int(m.get("moves", 0)) for name, m in protection.machines(estate.read_host("cs01")).items()}
        yield {
            "results": results,
            "first3": first3,
            "moves": moves,
            "cs": estate.read_host("cs01"),
            "journal": journal.read(estate, azure.NAME),
            "secret": options["secret"],
            "estate": estate,
            "tmp": tmp,
        }


def test_throttling_is_waited_out(run):
    with registry.case(SECTION, "429 with Retry-After on reads and the Switch", group="switch_process_server"):
        r = run["results"]["throttled"]
        assert not r.get("failed"), r.get("msg")
        assert r["moved"] == run["first3"] and r["azure"]["throttled"] == 3
        assert sum(1 for e in run["journal"] if e["rc"] == 429) == 3


def test_a_switch_that_fails_half_way_is_finished_by_the_next_run(run):
    with registry.case(
        SECTION, "operation fails after 4 of 7 machines; next run finishes", group="switch_process_server"
    ):
        half, finish = run["results"]["half"], run["results"]["finish"]
        assert half["failed"] and not half.get("refused") and half["changed"]
        assert half["operation"]["status"] == "Failed" and "LabSwitchFailed" in half["msg"]
        assert len(half["moved"]) == 4 and len(half["not_moved"]) == 3
        assert "Run the task again" in half["msg"]
        assert not finish.get("failed"), finish.get("msg")
        assert sorted(finish["moved"]) == sorted(half["not_moved"])  # only what was left
        assert finish["plan"]["update_type"] == "SystemLevel"
        assert protection.on_process_server(run["cs"], PS02) == []


def test_a_token_that_expires_while_waiting_is_renewed(run):
    with registry.case(SECTION, "token expires while the Switch is polled", group="switch_process_server"):
        r = run["results"]["token"]
        assert not r.get("failed"), r.get("msg")
        assert r["moved"] == run["first3"] and r["azure"]["token_refreshes"] == 2
        assert any(e["rc"] == 401 and e["args"].get("error") == "ExpiredAuthenticationToken" for e in run["journal"])


def test_a_wait_that_outlasts_wait_timeout_is_finished_by_the_next_run(run):
    with registry.case(
        SECTION, "wait_timeout passes; the operation ends in Azure; next run", group="switch_process_server"
    ):
        slow, after = run["results"]["slow"], run["results"]["after_slow"]
        assert slow["failed"] and slow["operation"]["status"] == "TimedOut", slow.get("msg")
        assert "still running after wait_timeout" in slow["msg"]
        assert not after.get("failed"), after.get("msg")
        assert not after["changed"] or set(after["moved"]).isdisjoint(slow["moved"])
        assert protection.on_process_server(run["cs"], PS03) == []


def test_no_machine_moved_twice_and_no_secret_in_results(run):
    with registry.case(SECTION, "every machine moved at most once per Switch it was in", group="switch_process_server"):
        # PS02's 10 machines moved once (to PS03), the first three once more back to PS01 by the token case:
        # the ones the slow Switch moved after its timeout moved once more, never a machine twice in a run
        assert max(run["moves"].values()) <= 2
        assert sum(run["moves"].values()) == 10 + 10  # PS02 -> PS03 (10), then PS03 -> PS01 (10)
        assert run["secret"] not in json.dumps(run["results"])


# ---- rebalance.yml ---------------------------------------------------------------------------------------------
def rebalance(estate, tmp, name, moves):
    variables = tmp / f"{name}.json"
    variables.write_text(json.dumps({"asr_rebalance_moves": moves, "asr_rebalance_batch_size": 3}), encoding="utf-8")
    journal.clear(estate, azure.NAME)
    proc = rh.playbook(rh.ROOT / "playbooks" / "rebalance.yml", estate.path / "inventory.yml", "-e", f"@{variables}")
    posts = [e for e in journal.read(estate, azure.NAME) if e["op"] == "arm" and e["identity"].startswith("POST")]
    return proc, journal.read(estate, azure.NAME), posts


@pytest.fixture(scope="module")
def rebalanced(run):
    """After the module's sequence every machine is on PS01. rebalance.yml moves nine of them to ps02 in three
    batches of three: the first run is throttled (two 429s) and its first Switch fails after one machine; the
    second run, with no fault, is the operator running the same plan again."""
    estate, tmp = run["estate"], run["tmp"]
    nine = sorted(protection.on_process_server(estate.read_host("cs01"), PS01))[:9]
    moves = [{"machine": m, "from_server": "ps01", "to_server": "ps02"} for m in nine]
    before = {n: int(m.get("moves", 0)) for n, m in protection.machines(estate.read_host("cs01")).items()}
    with azure.open_state(estate) as state:
        state["faults"].clear()
        state["faults"].update({"arm_throttle": 2, "operation_fails": True, "operation_fails_after": 1})
    first = rebalance(estate, tmp, "first", moves)
    after_first = sorted(protection.on_process_server(estate.read_host("cs01"), PS02))
    with azure.open_state(estate) as state:
        state["faults"].clear()
    second = rebalance(estate, tmp, "second", moves)
    cs = estate.read_host("cs01")
    moved = {n: int(m.get("moves", 0)) - before.get(n, 0) for n, m in protection.machines(cs).items()}
    return {"nine": nine, "first": first, "after_first": after_first, "second": second, "cs": cs, "moved": moved}


def test_rebalance_stops_at_a_failed_switch_and_starts_no_later_batch(rebalanced):
    with registry.case(SECTION, "rebalance.yml: throttled, first Switch fails after 1 of 3", group="rebalance.yml"):
        proc, entries, posts = rebalanced["first"]
        assert proc.returncode != 0, proc.stdout[-3000:]
        assert sum(1 for e in entries if e["rc"] == 429) == 2  # throttling waited out: the run reached the Switch
        assert len(posts) == 1  # batches 2 and 3 never started
        assert len(rebalanced["after_first"]) == 1 and rebalanced["after_first"][0] in rebalanced["nine"][:3]
        text = " ".join(proc.stdout.split())
        assert "LabSwitchFailed" in text and "Run the task again" in text


def test_the_next_rebalance_run_finishes_the_plan_moving_nothing_twice(rebalanced):
    with registry.case(SECTION, "rebalance.yml run again: the rest moved, none twice", group="rebalance.yml"):
        proc, _entries, posts = rebalanced["second"]
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert len(posts) == 3  # batch 1's two machines left, then batches 2 and 3
        assert "8 machine(s) moved, 1 already on their target" in " ".join(proc.stdout.split())
        assert sorted(protection.on_process_server(rebalanced["cs"], PS02)) == rebalanced["nine"]
        assert {n: c for n, c in rebalanced["moved"].items() if c} == dict.fromkeys(rebalanced["nine"], 1)
