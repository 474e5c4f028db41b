"""Helpers of the reliability suite (security side): a lab estate served in-process over real WinRM, real
ansible-playbook runs against it, and readers for everything the lab keeps (journal, process log, host state)."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
from typing import Any

import yaml
from _lab import calls as journal_entries  # noqa: F401 (re-exported for the security tests)
from _lab import clear, served  # noqa: F401
from _lab import processes as command_lines  # noqa: F401

from tests import playbook_runner

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CURRENT = "9.55.7123.1"


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
    return playbook_runner.run([*cmd, *extra, str(playbook_path)], cwd=ROOT, env=env or ansible_env(), timeout=timeout)
