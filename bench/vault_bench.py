"""The Azure side's benchmark: Azure calls per moved machine, and the wall time to drain a process server of 200
protected machines, against the lab's emulated Resource Manager (lab/azure.py) by real ansible-playbook.

    nice -n 19 .venv/bin/python bench/vault_bench.py                      # 200 machines, batches of 10, 25, 100
    .venv/bin/python bench/vault_bench.py --machines 200 --rebalance 100 --batch-sizes 10 50 --out bench/results

One lab estate (cs01, ps01 carrying ``--machines`` protected machines, ps02 and ps03 empty; a seed written here),
re-seeded before each scenario:

* ``drain``: ps01's every machine to ps02 with ``asr.process_server.switch_process_server`` (no ``machines``:
  one ``SystemLevel`` Switch), the task decommission.yml's drain runs; then the same task again (nothing to move).
* ``rebalance b=N``: ``playbooks/rebalance.yml`` moving ``--rebalance`` of ps01's machines to ps03 in batches of N
  (the check before the first Switch, then per batch the Switch and the health gate's read); then again.

Per run: the Resource Manager requests the lab answered (its Azure journal: sign-ins, fabric / container /
protected-item reads with their pages, Switch POSTs, operation status polls, 429s), the machines that changed
process server in the lab's state, calls per moved machine, the wall time and controller CPU of ansible-playbook,
and the span from the first Switch to the last status read (the emulated operations' share of the wall time). The lab's
timings are its own choices (lab/azure.py): an operation takes ``operation_seconds_per_machine`` (0.01 s) per
machine and answers ``Retry-After: lro_retry_after_s`` (1 s; Microsoft's example shows 30 s). Writes
``bench/results/<date>-vault.json`` and prints a table. Timing is reported, never asserted.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import tempfile
from collections import Counter
from typing import Any

import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.labctl import Lab  # noqa: E402
from bench.run import ansible_playbook, measured_run, recap  # noqa: E402
from lab import azure, journal  # noqa: E402
from lab.asr import protection  # noqa: E402

VERSION = "9.55.7123.1"
PS_IPS = {"ps01": "10.0.0.101", "ps02": "10.0.0.102", "ps03": "10.0.0.103"}
RUN_TIMEOUT_S = 3600


def write_seed(path: pathlib.Path, machines: int) -> pathlib.Path:
    """cs01 and three process servers at the current build; ps01 carries ``machines`` protected machines."""
    hosts: list[dict[str, Any]] = [
        {"name": "cs01", "role": "configuration_server", "ip": "10.0.0.11", "asr": {"version": VERSION}}
    ]
    for name, ip in PS_IPS.items():
        asr: dict[str, Any] = {"cs": "cs01", "version": VERSION}
        if name == "ps01":
            asr.update(protected_machines=machines, machine_churn_gb=5)
        hosts.append({"name": name, "role": "process_server", "ip": ip, "asr": asr})
    seed = {"description": f"vault benchmark: ps01 carries {machines} protected machines", "hosts": hosts}
    path.write_text(yaml.safe_dump(seed, sort_keys=False), encoding="utf-8")
    return path


def classify(entry: dict[str, Any]) -> str:
    """What one request of the Azure journal was (lab/azure.py records each request it answered; an ARM request's
    identity is its method and path template below the vault, e.g. ``GET replicationFabrics/{}``)."""
    if entry["op"] != "arm":
        return entry["op"]  # token, discovery (the sign-in)
    if entry.get("rc") == 429:
        return "throttled"
    method, _, template = entry["identity"].partition(" ")
    names = [s for s in template.strip("/").split("/") if s and s != "{}"]
    last = names[-1] if names else ""
    if method == "POST" and last == "reassociateGateway":
        return "switch"
    return {
        "replicationOperationStatus": "operation_poll",
        "replicationProtectedItems": "protected_items_page",
        "replicationProtectionContainers": "containers",
        "replicationFabrics": "fabrics",
    }.get(last, "other")


def placement(lab: Lab) -> dict[str, str]:
    """Each protected machine's process server IP, as the configuration server lists it."""
    cs = lab._estate().read_host("cs01")
    return {name: str(m.get("ps_ip", "")) for name, m in protection.machines(cs).items()}


def one_run(lab: Lab, work: pathlib.Path, label: str, playbook: pathlib.Path, variables: dict[str, Any]) -> dict:
    estate = lab._estate()
    vars_file = work / f"{label}.json"
    vars_file.write_text(json.dumps(variables), encoding="utf-8")
    journal.clear(estate, azure.NAME)
    before = placement(lab)
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
           "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0"}  # fmt: skip
    log = work / f"{label}.log"
    cmd = [ansible_playbook(), "-i", str(lab.inventory), "-e", f"@{vars_file}", str(playbook)]
    print(f"  {label:<28} ...", end="", flush=True)
    measured = measured_run(cmd, log, env, RUN_TIMEOUT_S)
    after = placement(lab)
    entries = journal.read(estate, azure.NAME)
    calls = Counter(classify(e) for e in entries)
    arm = sum(n for kind, n in calls.items() if kind not in ("token", "discovery"))
    moved = sum(1 for name, ps in after.items() if before.get(name) != ps)
    switch_times = [e["time"] for e in entries if classify(e) in ("switch", "operation_poll")]
    row = {
        "run": label,
        "rc": measured["rc"],
        "wall_s": measured["wall_s"],
        "controller_cpu_s": measured["cpu_s"],
        "moved": moved,
        "azure_requests": arm,
        "sign_in_requests": calls.get("token", 0) + calls.get("discovery", 0),
        "calls": dict(sorted(calls.items())),
        "requests_per_moved_machine": round(arm / moved, 3) if moved else None,
        "switch_span_s": round(max(switch_times) - min(switch_times), 2) if switch_times else 0.0,
        "changed": sum(h["changed"] for h in recap(log.read_text(encoding="utf-8", errors="replace")).values()),
    }
    status = "ok" if measured["rc"] == 0 else f"FAILED rc={measured['rc']} (log {log})"
    print(f" {measured['wall_s']:7.1f}s  {arm:4d} requests  {moved:4d} moved  {status}")
    return row


def drain_playbook(work: pathlib.Path) -> pathlib.Path:
    """The drain task of roles/decommission (switch_process_server without machines), on the controller."""
    play = [
        {
            "name": "Drain ps01 through the vault",
            "hosts": "localhost",
            "gather_facts": False,
            "module_defaults": {"group/asr.process_server.azure": "{{ asr_azure }}"},
            "tasks": [
                {
                    "name": "Switch every protected machine of ps01 to ps02",
                    "asr.process_server.switch_process_server": {"source": PS_IPS["ps01"], "target": PS_IPS["ps02"]},
                }
            ],
        }
    ]
    path = work / "drain.yml"
    path.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    return path


def run_all(args: argparse.Namespace, work: pathlib.Path) -> dict[str, Any]:
    seed = write_seed(work / "vault-bench-seed.yml", args.machines)
    lab = Lab(work / "estate", ps=3)
    rows: list[dict[str, Any]] = []
    try:
        lab.up(str(seed))
        print(f"lab up: cs01 + ps01 ({args.machines} protected machines), ps02, ps03")
        lab.reseed(str(seed))
        drain = drain_playbook(work)
        for run in ("drain", "drain again"):
            rows.append({"scenario": "drain", **one_run(lab, work, run.replace(" ", "-"), drain, {})})
        for size in args.batch_sizes:
            lab.reseed(str(seed))
            on_ps01 = sorted(n for n, ip in placement(lab).items() if ip == PS_IPS["ps01"])[: args.rebalance]
            moves = [{"machine": m, "from_server": "ps01", "to_server": "ps03"} for m in on_ps01]
            variables = {"asr_rebalance_moves": moves, "asr_rebalance_batch_size": size}
            for run in ("rebalance", "rebalance again"):
                label = f"{run.replace(' ', '-')}-b{size}"
                row = one_run(lab, work, label, ROOT / "playbooks" / "rebalance.yml", variables)
                rows.append({"scenario": f"rebalance b={size}", "batch_size": size, **row})
    finally:
        lab.down()
    return {
        "kind": "vault",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_at_end": os.getloadavg(),
        },
        "parameters": {
            "machines_on_ps01": args.machines,
            "rebalance_moves": args.rebalance,
            "batch_sizes": args.batch_sizes,
            # the lab's defaults (lab/azure.py docstring: LAB choices), not set by this benchmark
            "lab_operation_seconds_per_machine": 0.01,
            "lab_retry_after_s": 1,
        },
        "runs": rows,
    }


def table(result: dict[str, Any]) -> str:
    head = "| run | moved | Azure requests | per moved machine | Switch POSTs | status polls | reads | wall s |"
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for row in result["runs"]:
        calls = row["calls"]
        reads = sum(calls.get(k, 0) for k in ("fabrics", "containers", "protected_items_page"))
        per = row["requests_per_moved_machine"]
        lines.append(
            f"| {row['run']} | {row['moved']} | {row['azure_requests']} | {per if per is not None else '-'} | "
            f"{calls.get('switch', 0)} | {calls.get('operation_poll', 0)} | {reads} | {row['wall_s']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--machines", type=int, default=200, help="protected machines on ps01 (default 200)")
    parser.add_argument("--rebalance", type=int, default=100, help="machines rebalance.yml moves (default 100)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[10, 25, 100])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if args.rebalance > args.machines:
        parser.error("--rebalance cannot be more than --machines")
    with tempfile.TemporaryDirectory(prefix="vault-bench-") as tmp:
        result = run_all(args, pathlib.Path(tmp))
    failed = [r["run"] for r in result["runs"] if r["rc"] != 0]
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{result['date'][:10]}-vault-m{args.machines}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"written: {out}")
    if failed:
        print(f"FAILED runs: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
