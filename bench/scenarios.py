"""The benchmark's scenario table: one small declarative entry per measured rollout.

A scenario names a lab seed (the estate's starting state), the playbook of this collection and the baseline
playbook that do the same job, the extra variables both receive, and the runs made one after the other on the
same estate (``fresh`` then ``converged``: the second run finds the work done). A playbook that is not in
the repository yet is reported as "not available yet" instead of failing the benchmark.

To add a scenario, add an entry to ``SCENARIOS``; ``bench/run.py --list`` shows what will run.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent

CURRENT_VERSION = "9.55.7123.1"  # lab/seeds/README.md: the lab's current build (installer package version)
LAB_CS_IP = "10.0.0.11"  # cs01 in every lab seed
LAB_PASSPHRASE = "LabPassphrase0001"  # lab/seeds/README.md: the lab's default CS passphrase (LAB ONLY)
# The proxy every PS should use. drifted-proxy's setup proxy; its MARS proxy drifted to old-proxy:8080.
PROXY = {
    "address": "http://proxy.corp.example",
    "port": 3128,
    "username": "CORP\\svc-asr",
    "password": "Bench-Proxy-Pw1",
}

# Variables both implementations get: the ones playbooks/*.yml read (inventories/example/group_vars/all, as
# tests/integration/test_playbooks_lab.py and scripts/demo.sh pass them). ``asr_installer`` is filled in by
# run.py with the package file it writes (lab.asr.installer.package_bytes).
COMMON_VARS: dict[str, Any] = {
    "asr_installer_version": CURRENT_VERSION,
    "asr_configuration_server_ip": LAB_CS_IP,
    "asr_passphrase": LAB_PASSPHRASE,
    "asr_env_type": "VMware",
    "asr_install_location": "D:\\",
    "asr_data_port": 9443,
    "asr_proxy": PROXY,
    # the lab inventory names each host's emulated address asr_lab_ip; the example inventory calls it asr_ip
    "asr_ip": "{{ asr_lab_ip }}",
    # the roles poll Unified Setup every asr_poll_interval seconds (default 15, sized for real installs of tens
    # of minutes); the lab's setup finishes in about a second, so the default would only measure the sleep.
    # The baseline's win_command blocks until setup exits. Same as the integration tests and demo.sh.
    "asr_poll_interval": 1,
}


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: str  # lab/seeds/<seed>.yml
    ours: str  # playbook of this collection, relative to the repository root
    baseline: str  # the naive playbook a user would otherwise write
    runs: tuple[str, ...] = ("first", "again")  # run labels, one after the other on the same estate
    extra_vars: dict[str, Any] = field(default_factory=dict)
    # the run whose per-host calls must be exactly 1 for this collection (the converged run), if any
    converged_run: str | None = "again"
    description: str = ""

    def vars(self) -> dict[str, Any]:
        return {**COMMON_VARS, **self.extra_vars}

    def playbook(self, impl: str) -> str:
        if impl not in IMPLEMENTATIONS:
            raise ValueError(f"unknown implementation {impl!r}; one of {', '.join(IMPLEMENTATIONS)}")
        return self.ours if impl == "ours" else self.baseline


IMPLEMENTATIONS = ("ours", "baseline")


def _rollout(name: str, seed: str, first_run: str, description: str) -> Scenario:
    """playbooks/<name>.yml against bench/baseline/<name>.yml on the ``seed`` estate: ``first_run``, then the same
    playbook again on its result (the converged run, exactly one call per host for this collection)."""
    return Scenario(
        name=name,
        seed=seed,
        ours=f"playbooks/{name}.yml",
        baseline=f"bench/baseline/{name}.yml",
        runs=(first_run, "converged"),
        converged_run="converged",
        description=description,
    )


SCENARIOS: tuple[Scenario, ...] = (
    _rollout(
        "site",
        "fresh",
        "fresh",
        "roll out process servers on fresh hosts (install, register, proxy), then re-run on the result",
    ),
    _rollout("upgrade", "installed-old", "upgrade", "upgrade a fleet at 9.52 (N-3) to the current build, then re-run"),
    _rollout(
        "proxy",
        "drifted-proxy",
        "fix drift",
        "put the MARS proxy back on every PS (drifted to another proxy), then re-run",
    ),
)


def by_name(names: list[str] | None) -> list[Scenario]:
    if not names:
        return list(SCENARIOS)
    known = {s.name: s for s in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[n] for n in names]


def availability(scenario: Scenario, impl: str, root: pathlib.Path = ROOT) -> str | None:
    """None when the playbook is there, else why it cannot run ("not available yet: ...")."""
    path = root / scenario.playbook(impl)
    if not path.is_file():
        return f"not available yet: {scenario.playbook(impl)} is not in the repository"
    return None
