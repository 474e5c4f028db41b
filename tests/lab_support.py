"""What the lab test suites (tests/integration, tests/reliability) share: an estate served over real WinRM,
ansible-playbook run against its inventory, the lab's process log, and the arguments every install starts from.
tests/lab's end-to-end tests run their ansible commands with :func:`run_ansible` too.

The suites keep their own runners (one module task with its result kept by a callback; many hosts with the json
callback); this module holds only what both do the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from lab import estate as lab_estate
from lab import journal, seed, wsman

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent  # this virtualenv's ansible, ansible-playbook
ANSIBLE_PLAYBOOK = str(BIN / "ansible-playbook")
CURRENT = "9.55.7123.1"  # the current build in the lab's seeds (lab/seeds/*.yml; lab/asr/versions.py)
CS_IP = "10.0.0.11"  # cs01 in every seed
PASSPHRASE = "LabPassphrase0001"  # the configuration server's passphrase when a seed names none (lab/asr/build.py)


@contextlib.contextmanager
def serving(estate: lab_estate.Estate) -> Iterator[lab_estate.Estate]:
    """``estate`` answered over WinRM for the duration of the block."""
    server = wsman.serve(estate)
    try:
        yield estate
    finally:
        server.shutdown()


@contextlib.contextmanager
def served(path: pathlib.Path, seed_name: str, *, cs: int = 1, ps: int = 2) -> Iterator[lab_estate.Estate]:
    """A new estate at ``path`` (``cs`` configuration servers, ``ps`` process servers) seeded and served."""
    estate = lab_estate.create(path, cs=cs, ps=ps)
    seed.apply(estate, seed_name)
    with serving(estate):
        yield estate


def ansible_env(**extra: str) -> dict[str, str]:
    """The environment of an ansible-playbook run: the repository's ansible.cfg, no colour, plus ``extra``."""
    return {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1", **extra}


def run_ansible(
    tool: str, inventory: pathlib.Path, *args: str, env: dict[str, str], cwd: pathlib.Path = ROOT, timeout: int = 300
) -> subprocess.CompletedProcess:
    """This virtualenv's ``tool`` (ansible, ansible-playbook) against ``inventory``, its output kept as text."""
    return subprocess.run(
        [str(BIN / tool), "-i", str(inventory), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def playbook_command(estate: lab_estate.Estate, *args: str) -> list[str]:
    """ansible-playbook against ``estate``'s inventory, followed by ``args`` (options, then the playbook)."""
    return [ANSIBLE_PLAYBOOK, "-i", str(estate.path / "inventory.yml"), *args]


def processes(estate: lab_estate.Estate, host: str) -> list[str]:
    """The command lines ``host`` started, in order (the lab's process log)."""
    path = estate.processes_path(host)
    if not path.exists():
        return []
    return [json.loads(line)["command_line"] for line in path.read_text(encoding="utf-8").splitlines() if line]


def clear(estate: lab_estate.Estate) -> None:
    """Forget every host's journal and process log (the hosts' state stays)."""
    journal.clear(estate)
    for name in estate.host_names():
        estate.processes_path(name).unlink(missing_ok=True)


def install_args(installer: pathlib.Path, **extra: Any) -> dict[str, Any]:
    """Module arguments of an install from the controller's ``installer`` to D: on the lab's configuration server."""
    return {
        "configuration_server_ip": CS_IP,
        "passphrase": PASSPHRASE,
        "installer": str(installer),
        "installer_version": CURRENT,
        "install_location": "D:\\",
        "env_type": "VMware",
        "poll_interval": 1,
        **extra,
    }


def fleet_vars(**extra: Any) -> dict[str, Any]:
    """Playbook variables of a rollout on the lab (where the package comes from is the caller's ``extra``)."""
    return {
        "asr_configuration_server_ip": CS_IP,
        "asr_passphrase": PASSPHRASE,
        "asr_installer_version": CURRENT,
        "asr_install_location": "D:\\",
        # ps06 and up are bare hosts without VMware Tools; NonVMware is valid on every host of the lab
        "asr_env_type": "NonVMware",
        "asr_poll_interval": 1,
        "asr_ip": "{{ asr_lab_ip }}",
        **extra,
    }


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    """``predicate()``'s first true value within ``timeout`` seconds, else its last value (false): for what the lab
    records a moment after the client saw its answer (a wire log entry, a one-shot fault's removal)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
