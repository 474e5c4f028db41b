"""Helpers for the lab integration tests of proxy/register/uninstall/unregister: an estate served over real
WinRM, a playbook of one module task run with real ansible-playbook, the journal and the process log."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
from typing import Any

import yaml

from lab import estate as lab_estate
from lab import journal
from tests import lab_support, playbook_runner
from tests.lab_support import ROOT, ansible_env, clear, playbook_command, processes  # noqa: F401 (the suite's names)

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


def served(tmp_path: pathlib.Path, seed_name: str, *, cs: int = 1, ps: int = 2):
    """The estate of ``seed_name`` in ``tmp_path/estate``, served for the duration of the block."""
    return lab_support.served(tmp_path / "estate", seed_name, cs=cs, ps=ps)


def run_task(
    estate: lab_estate.Estate,
    host: str,
    module: str,
    args: dict[str, Any],
    out: pathlib.Path,
    *extra: str,
    task_extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], subprocess.CompletedProcess]:
    """Run ``asr.process_server.<module>`` once on ``host``; its registered result and the process."""
    out.mkdir(parents=True, exist_ok=True)
    results = out / f"results-{module}"
    result_file = results / f"{host}.json"
    result_file.unlink(missing_ok=True)
    task = {"name": RESULT_TASK, f"asr.process_server.{module}": args, "register": "r", "ignore_errors": True}
    task.update(task_extra or {})
    play = [{"name": "lab", "hosts": host, "gather_facts": False, "tasks": [task]}]
    playbook = out / f"{module}.yml"
    playbook.write_text(yaml.safe_dump(play, sort_keys=False), encoding="utf-8")
    cmd, env = playbook_command(estate, *extra, str(playbook)), ansible_env(**keep_results(results))
    proc = playbook_runner.run(cmd, cwd=ROOT, env=env, timeout=300)
    assert result_file.exists(), proc.stdout[-4000:] + proc.stderr[-4000:]
    return json.loads(result_file.read_text(encoding="utf-8")), proc


RESULT_TASK = "Module under test"
CALLBACKS = pathlib.Path(__file__).resolve().parent / "callback_plugins"


def keep_results(directory: pathlib.Path, task: str = RESULT_TASK) -> dict[str, str]:
    """Environment for ansible-playbook: ``task``'s registered result per host into ``directory/<host>.json``
    (callback_plugins/asr_test_results.py: written by the controller, no extra task or module run per host)."""
    return {
        "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
        "ANSIBLE_CALLBACKS_ENABLED": "asr_test_results",
        "ASR_TEST_RESULTS_DIR": str(directory),
        "ASR_TEST_RESULTS_TASK": task,
    }


def calls(estate: lab_estate.Estate, host: str) -> list[dict[str, Any]]:
    return journal.read(estate, host)


def identities(estate: lab_estate.Estate, host: str) -> list[str]:
    return [e.get("identity") for e in journal.read(estate, host)]


def playbook(estate, name: str, variables: dict, out: pathlib.Path, *extra: str) -> tuple[int, str]:
    out.mkdir(parents=True, exist_ok=True)
    vars_file = out / "vars.yml"
    vars_file.write_text(yaml.safe_dump(variables), encoding="utf-8")
    cmd = playbook_command(estate, "-e", f"@{vars_file}", *extra, str(ROOT / "playbooks" / name))
    proc = playbook_runner.run(cmd, cwd=ROOT, env=ansible_env(), timeout=900)
    output = proc.stdout + proc.stderr
    (out / f"{name}.log").write_text(output, encoding="utf-8")
    return proc.returncode, output


def recap(output: str) -> dict[str, dict[str, int]]:
    return {
        m.group(1): dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()[1:]), strict=True))
        for m in RECAP.finditer(output)
    }
