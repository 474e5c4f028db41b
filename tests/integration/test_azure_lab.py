"""vault_info and switch_process_server run by real ansible-playbook against the lab's Azure side (lab/azure.py):
the read, check mode and diff, a Switch that the configuration server then lists, the second run that changes
nothing, refusals before any change, and the secret kept out of every result. One estate for the module."""

from __future__ import annotations

import json

import pytest

from lab import azure, journal
from lab import estate as estate_mod
from lab.asr import protection
from tests.integration import lab_ops

pytest.importorskip("azure.mgmt.recoveryservicessiterecovery")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with lab_ops.served(tmp_path_factory.mktemp("azure-lab"), "vault", cs=1, ps=3) as estate:
        yield estate, azure.module_options(estate, estate_mod.read_meta(estate))


def run(lab, module, args, out, *extra):
    estate, options = lab
    return lab_ops.run_task(estate, "localhost", module, {**options, **args}, out, *extra)


def azure_calls(estate, method=""):
    return [e for e in journal.read(estate, azure.NAME) if e["op"] == "arm" and e["identity"].startswith(method)]


def test_vault_info_reads_each_process_server_and_machine(lab, tmp_path):
    _estate, options = lab
    result, _ = run(lab, "vault_info", {}, tmp_path)
    assert not result.get("failed"), result.get("msg")
    (cs,) = result["configuration_servers"]
    load = {p["name"]: p["protected_machines"] for p in cs["process_servers"]}
    assert load == {"CS01": 2, "PS01": 40, "PS02": 10, "PS03": 0}
    assert {p["health_verdict"]["level"] for p in cs["process_servers"]} == {"Normal"}
    assert len(cs["protected_machines"]) == 52
    assert result["azure"]["calls"] == 3  # fabrics, containers, one page of protected items
    assert options["secret"] not in json.dumps(result)


def test_check_mode_and_diff_predict_without_moving(lab, tmp_path):
    estate, _ = lab
    before = len(azure_calls(estate, "POST"))
    args = {"source": "PS02", "target": "ps03", "machines": ["PS02-VM001", "PS02-VM002"]}
    result, proc = run(lab, "switch_process_server", args, tmp_path, "--check", "--diff")
    assert result["changed"] and result["moved"] == ["PS02-VM001", "PS02-VM002"]
    assert result["plan"]["update_type"] == "ServerLevel" and result["plan"]["target_after"] == 2
    assert "-    process_server: PS02" in proc.stdout and "+    process_server: PS03" in proc.stdout
    assert len(azure_calls(estate, "POST")) == before
    assert len(protection.on_process_server(estate.read_host("cs01"), "10.0.0.102")) == 10


def test_load_balance_moves_then_changes_nothing(lab, tmp_path):
    estate, options = lab
    args = {"source": "PS02", "target": "PS03", "machines": ["PS02-VM001", "PS02-VM002"], "target_tier": "small"}
    result, _ = run(lab, "switch_process_server", args, tmp_path)
    assert result["changed"] and result["moved"] == ["PS02-VM001", "PS02-VM002"], result.get("msg")
    assert result["operation"]["status"] == "Succeeded"
    assert protection.on_process_server(estate.read_host("cs01"), "10.0.0.103") == ["PS02-VM001", "PS02-VM002"]
    posts = len(azure_calls(estate, "POST"))
    again, _ = run(lab, "switch_process_server", args, tmp_path)
    assert not again["changed"] and again["already_on_target"] == ["PS02-VM001", "PS02-VM002"]
    assert len(azure_calls(estate, "POST")) == posts
    assert options["secret"] not in json.dumps(result) + json.dumps(again)


@pytest.mark.parametrize(
    ("args", "words", "reads"),
    [
        ({"source": "PS02", "target": "ps02"}, "Source and target are the same", 0),
        ({"source": "PS02", "target": "PS09"}, "has no process server 'PS09'", 3),
        ({"source": "PS02", "target": "PS03", "machines": ["PS01-VM001"]}, "not through the source PS02", 3),
        ({"source": "PS01", "target": "PS03", "target_max_machines": 41}, "over its limit of 41", 3),
        ({"source": "PS02", "target": "PS03", "vault": "nope"}, "vaults/nope", 1),
        ({"source": "PS02", "target": "PS03", "configuration_server": "CS09"}, "no configuration server 'CS09'", 1),
    ],
)
def test_bad_input_is_refused_before_any_change(lab, tmp_path, args, words, reads):
    """Refused after reading the vault at most (reads), never a POST; the rows refused before any request to Azure
    are in tests/reliability/bad_input_cases.py."""
    estate, _ = lab
    journal.clear(estate, azure.NAME)
    machines = dict(protection.machines(estate.read_host("cs01")))
    result, _ = run(lab, "switch_process_server", args, tmp_path)
    assert result["failed"] and result.get("refused"), result
    assert words in result["msg"], result["msg"]
    assert len(azure_calls(estate)) == reads
    assert not azure_calls(estate, "POST")
    assert protection.machines(estate.read_host("cs01")) == machines
