"""Helpers of the reliability suite (security side): a lab estate served in-process over real WinRM, real
ansible-playbook runs against it, and readers for everything the lab keeps (journal, process log, host state)."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import yaml

from lab import estate as lab_estate
from lab import journal, seed, wsman

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CURRENT = "9.55.7123.1"


@contextlib.contextmanager
def served(path: pathlib.Path, seed_name: str, *, cs: int = 1, ps: int = 2) -> Iterator[lab_estate.Estate]:
    """An estate seeded with ``seed_name``, served on loopback until the block ends (no process left behind)."""
    estate = lab_estate.create(path, cs=cs, ps=ps)
    seed.apply(estate, seed_name)
    server = wsman.serve(estate)
    try:
        yield estate
    finally:
        server.shutdown()


def ansible_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    env.pop("ANSIBLE_LOG_PATH", None)
    env.update(extra)
    return env


def write_playbook(path: pathlib.Path, plays: list[dict[str, Any]]) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(plays, sort_keys=False, width=1000), encoding="utf-8")
    return path


def playbook(
    playbook_path: pathlib.Path | str,
    inventory: pathlib.Path | str | None,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: int = 600,
) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible-playbook")]
    if inventory is not None:
        cmd += ["-i", str(inventory)]
    return subprocess.run(
        [*cmd, *extra, str(playbook_path)],
        cwd=ROOT,
        env=env or ansible_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def journal_entries(estate: lab_estate.Estate, host: str) -> list[dict[str, Any]]:
    return journal.read(estate, host)


def clear(estate: lab_estate.Estate) -> None:
    journal.clear(estate)
    for name in estate.host_names():
        estate.processes_path(name).unlink(missing_ok=True)


def command_lines(estate: lab_estate.Estate, host: str) -> list[str]:
    path = estate.processes_path(host)
    if not path.exists():
        return []
    return [json.loads(line)["command_line"] for line in path.read_text(encoding="utf-8").splitlines() if line]
