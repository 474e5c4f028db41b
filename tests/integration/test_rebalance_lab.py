"""plan.yml from the vault's load, rebalance.yml carrying out its moves, and decommission.yml draining a process
server through the vault before the ordered uninstall -- real ansible-playbook against one lab estate (seed
``vault``: ps01 40 protected machines, ps02 10, ps03 none), end to end."""

from __future__ import annotations

import json

import pytest

from lab import azure, journal
from lab import estate as estate_mod
from lab.asr import products, protection
from tests.integration import lab_ops

pytest.importorskip("azure.mgmt.recoveryservicessiterecovery")
PS01, PS02, PS03 = "10.0.0.101", "10.0.0.102", "10.0.0.103"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_ops.served(tmp_path_factory.mktemp("rebalance"), "vault", cs=1, ps=3) as estate:
        yield estate


def posts(estate):
    return [e for e in journal.read(estate, azure.NAME) if e["op"] == "arm" and e["identity"].startswith("POST")]


def arm_calls(estate):
    return [e for e in journal.read(estate, azure.NAME) if e["op"] == "arm"]


def load(estate):
    cs = estate.read_host("cs01")
    return {ip: len(protection.on_process_server(cs, ip)) for ip in (PS01, PS02, PS03)}


def test_plan_from_the_vault_then_rebalance_in_batches(lab, tmp_path):
    variables = {
        "asr_load_source": "vault",
        "asr_report_dir": str(tmp_path),
        "asr_vault_machine_churn_gb": 5,
        "asr_max_utilisation": 0.2,
    }  # fmt: skip  -- a medium server plans 30 machines: ps01 must shed some
    rc, out = lab_ops.playbook(lab, "plan.yml", variables, tmp_path / "plan")
    assert rc == 0, out[-3000:]
    (report_file,) = tmp_path.glob("capacity-*.json")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["load_source"].startswith("the vault (50 protected machines read with vault_info")
    assert "load from: the vault" in out
    moves = report["fleet"]["plan"]["moves"]
    assert moves and {m["from_server"] for m in moves} == {"ps01"}

    before = load(lab)
    journal.clear(lab, azure.NAME)
    variables = {"asr_rebalance_report": str(report_file), "asr_rebalance_batch_size": 4}
    rc, out = lab_ops.playbook(lab, "rebalance.yml", variables, tmp_path / "rebalance")
    assert rc == 0, out[-3000:]
    after = load(lab)
    assert after[PS01] == before[PS01] - len(moves) and sum(after.values()) == sum(before.values())
    sent = posts(lab)
    batches = -(-len(moves) // 4)  # per source/target pair, at most 4 machines each
    assert len(sent) >= batches and all(e["args"]["machines"] <= 4 for e in sent)
    assert f"{len(moves)} machine(s) moved" in out
    # the same plan again (molecule/vault's idempotence step): every machine already on its target, no Switch sent
    journal.clear(lab, azure.NAME)
    rc, out = lab_ops.playbook(lab, "rebalance.yml", variables, tmp_path / "again")
    assert rc == 0 and lab_ops.recap(out)["localhost"]["changed"] == 0, out[-3000:]
    assert posts(lab) == [] and load(lab) == after
    assert f"0 machine(s) moved, {len(moves)} already on their target" in " ".join(out.split())


def move(machine, source, target):
    return {"machine": machine, "from_server": source, "to_server": target}


@pytest.mark.parametrize(
    ("case", "reads", "words"),
    [
        # batch 1 alone would be fine: without the check before the first Switch it moved, then batch 2 failed
        ("machine-not-on-source", 3, "batch 2 (ps02 -> ps03): machines: '{other}' replicates through PS01"),
        ("unknown-vault", 1, "vaults/no-such-vault"),
    ],
)
def test_a_bad_plan_is_refused_before_any_switch(lab, tmp_path, case, reads, words):
    """Runs before the decommission test (which takes ps02 out of the vault); the machines are read from the lab.
    Source equals target, an unknown configuration server or process server, a machine the vault does not protect:
    rows of tests/reliability/bad_input_cases.py."""
    on_ps01 = sorted(protection.on_process_server(lab.read_host("cs01"), PS01))
    moves = [move(on_ps01[0], "ps01", "ps03"), move(on_ps01[1], "ps02", "ps03")]
    variables = {"asr_rebalance_moves": moves, "asr_rebalance_batch_size": 1}
    if case == "unknown-vault":
        options = azure.module_options(lab, estate_mod.read_meta(lab))
        variables["asr_azure"] = {**options, "vault": "no-such-vault"}
        moves.pop()
    machines = dict(protection.machines(lab.read_host("cs01")))
    journal.clear(lab, azure.NAME)
    rc, out = lab_ops.playbook(lab, "rebalance.yml", variables, tmp_path)
    assert rc != 0 and words.format(other=on_ps01[1]) in " ".join(out.split()), out[-3000:]
    assert len(arm_calls(lab)) == reads and not posts(lab)
    assert protection.machines(lab.read_host("cs01")) == machines


def test_decommission_drains_through_the_vault_then_uninstalls(lab, tmp_path):
    machines = load(lab)[PS02]
    assert machines
    variables = {"asr_decommission_hosts": "ps02", "asr_drain_to": "PS03", "asr_drain_target_tier": "large"}
    rc, out = lab_ops.playbook(lab, "decommission.yml", variables, tmp_path / "decommission")
    assert rc == 0, out[-3000:]
    assert load(lab)[PS02] == 0
    ps02 = lab.read_host("ps02")
    assert not any(products.installed_version(ps02, c) for c in ("csps", "mt"))
    # the drain came before the uninstall: the vault's POST precedes the first uninstall call on the host
    post = posts(lab)[-1]["time"]
    first_change = min(e["time"] for e in journal.read(lab, "ps02") if "uninstall" in str(e.get("identity")))
    assert post < first_change
    rc, out = lab_ops.playbook(lab, "decommission.yml", variables, tmp_path / "again")
    assert rc == 0 and lab_ops.recap(out)["ps02"]["changed"] == 0, out[-3000:]


def test_decommission_without_a_drain_target_still_refuses(lab, tmp_path):
    rc, out = lab_ops.playbook(lab, "decommission.yml", {"asr_decommission_hosts": "ps01"}, tmp_path / "refuse")
    assert rc != 0 and "asr_drain_to=" in " ".join(out.split())
    assert load(lab)[PS01] > 0
