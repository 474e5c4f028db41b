"""Fault matrix: every module of the collection against every lab fault that applies to it, over real WinRM.

One estate per module family; each host of the estate carries ONE fault, so a single ansible-playbook run
exercises a whole column of the matrix at once (fast on 2 cores). For every (module, fault) case:

1. the faulted run ends as the case expects (failed, unreachable, or ok) and its message names the CAUSE
   and the NEXT STEP (a remediation sentence);
2. the fault is cleared and the same task runs again: the host converges (no failure);
3. a third run reports ``changed: false``: the host is converged, not merely "no longer failing".

Each case is recorded in the reliability registry (section ``faults``, group = module) from what executed.
Faults come from lab/DESIGN.md's table (``python -m lab fault``); a few host-state preparations stand in for a
fault the lab only applies to one side (noted at the case).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import pathlib
import re
from collections.abc import Callable
from typing import Any

import _lab as L
import pytest
import registry

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import exit_codes
from lab import fileserver
from lab import share as lab_share
from lab.asr.installer import PACKAGE_NAME, package_bytes

pytestmark = pytest.mark.lab

SECTION = "faults"
registry.section(
    SECTION,
    "Fault matrix",
    "Each module against each applicable lab fault (lab/DESIGN.md fault table) over real WinRM: the faulted run "
    "fails (or survives) with a message naming the cause and the next step; after the fault is cleared the same "
    "task converges, and the run after that is `changed: false`. Playbook rows run the fleet playbooks with "
    "`serial` batches and check in the journal that no host of a later batch was changed after a batch failed.",
    order=20,
)

# A remediation sentence: the message tells the operator what to do next.
NEXT_STEP = re.compile(
    r"\b(run (the task )?again|run again|run the task|read|check|reboot|start|set |use |open|fix|free space|"
    r"upgrade|download|re-run|connect|wait|retry)\b",
    re.IGNORECASE,
)


@dataclasses.dataclass
class Case:
    fault: str  # label in the matrix
    knob: str | None = None  # lab fault knob, or None when ``prep`` sets the host up
    value: Any = True
    first: str = "failed"  # "failed" | "ok" | "unreachable" (unreachable counts as failed too)
    says: tuple[str, ...] = ()  # regexes the faulted run's message must contain (the cause)
    then_changed: bool | None = None  # the convergence run's `changed` (None: either)
    no_become: bool = False  # the faulted run goes without become
    prep: Callable[[Any], None] | None = None  # host-state preparation (instead of, or with, a knob)
    after: Callable[[Any, str], None] | None = None  # extra check on the converged host (estate, host)


def exit_code(code: int, *more: str, first: str = "failed", then_changed: bool | None = None) -> Case:
    info = exit_codes.interpret(code)
    says = (rf"exit code {code}\b", re.escape(info.name), *more) if not info.success else more
    return Case(
        f"installer_exit_code {code}", "installer_exit_code", code, first=first, says=says, then_changed=then_changed
    )


def no_become(**expect: Any) -> Case:
    """The task runs without become, as an account the host denies network logon (knob network_logon_restricted)."""
    return Case("network_logon_restricted without become", "network_logon_restricted", True, no_become=True, **expect)


def dropped_at(script: str, note: str = "", **expect: Any) -> Case:
    """The WinRM connection drops while ``<script> v1`` runs (knob drop_connection_at)."""
    return Case(f"drop_connection_at {script}{note}", "drop_connection_at", f"{script} v1", **expect)


def fails_to_start(service: str, *says: str) -> Case:
    """``service`` does not start (knob service_fails_to_start); the message names ``says`` or the service."""
    return Case(f"service_fails_to_start {service}", "service_fails_to_start", [service], says=says or (service,))


def _services_running(names: tuple[str, ...]) -> Callable[[Any, str], None]:
    def check(estate: Any, host: str) -> None:
        state = estate.read_host(host)
        stopped = [n for n in names if (state.service(n) or {}).get("state") != "running"]
        assert not stopped, f"{host}: services still stopped after convergence: {stopped}"

    return check


def _stop(*names: str) -> Callable[[Any], None]:
    def prep(state: Any) -> None:
        for name in names:
            if state.service(name) is not None:
                state.set_service_state(name, "stopped")

    return prep


def _small_disk(state: Any) -> None:
    # The lab's disk_too_small knob shrinks the space Unified Setup sees, not what Win32_LogicalDisk reports to
    # the probe; this case shrinks the volume itself so the collection's own preflight sees it.
    state.data["disks"]["D"]["free_gb"] = 100


def _restore_disk(state: Any) -> None:
    state.data["disks"]["D"]["free_gb"] = 1000


SETUP_FAULTS = [
    exit_code(1, r"ASRUnifiedSetup\.log"),
    exit_code(2, r"ASRUnifiedSetup\.log"),
    exit_code(4, r"prerequisite"),
    exit_code(102, r"ProcessServer", r"Start and check these services"),
    exit_code(103, r"vault"),
    exit_code(111, r"Recovery Services agent", r"OBMsi\.log"),
    exit_code(113, r"registermt", r"registration module"),
    exit_code(115, r"proxy", r"proxy module"),
    exit_code(203, r"(N-4|4 minor versions)"),
    exit_code(3010, first="ok"),
    dropped_at("setup_poll", " (mid-install)", first="ok"),
    fails_to_start("ProcessServer", r"exit code 102", r"ProcessServer"),
    Case("cs_unreachable", "cs_unreachable", True, says=(r"10\.0\.0\.11", r"443")),
    Case("disk_too_small (knob: setup's own check)", "disk_too_small", True, says=(r"600 GB",)),
    Case("pending_reboot", "pending_reboot", True, says=(r"reboot is pending", r"reboot: true")),
    no_become(says=(r"network logon", r"become")),
]


@dataclasses.dataclass
class Family:
    module: str
    seed: str
    cases: list[Case]
    args: Callable[[Any, pathlib.Path, list[str]], dict[str, Any]]
    prep_all: Callable[[Any], None] | None = None
    cs: int = 1


def _install_args(estate: Any, tmp: pathlib.Path, hosts: list[str]) -> dict[str, Any]:
    remote = L.preplace_package(estate, hosts)
    args = L.install_args(tmp, installer_remote_path=remote)
    del args["installer"]
    return args


def _upgrade_args(estate: Any, tmp: pathlib.Path, hosts: list[str]) -> dict[str, Any]:
    remote = L.preplace_package(estate, hosts)
    return {"installer_remote_path": remote, "installer_version": L.CURRENT, "poll_interval": 1}


def _process_server_args(estate: Any, tmp: pathlib.Path, hosts: list[str]) -> dict[str, Any]:
    return {**_install_args(estate, tmp, hosts), "state": "present"}


PROXY_ARGS = {"proxy_address": "http://10.0.0.5", "proxy_port": 8080}


INSTALL_CASES = [
    *SETUP_FAULTS,
    Case("install drive too small (volume)", prep=_small_disk, says=(r"600 GB", r"skip_space_check")),
]
# The install module does not manage services: after 102 its converged path reports the installed build; the
# remediation (start the services) is the operator's next step, so the matrix does not expect install to fix it.

# /Upgrade takes no other switch [1.3]: no /InstallLocation, so no space check (the lab's disk_too_small knob
# does not apply); whether it contacts the configuration server is not documented (outcome recorded, either way
# the host must converge once the fault is gone).
UPGRADE_CASES = [c for c in SETUP_FAULTS if not c.fault.startswith(("cs_unreachable", "disk_too_small"))] + [
    Case("cs_unreachable", "cs_unreachable", True, first="any"),
    Case("disk_too_small (no space check in /Upgrade)", "disk_too_small", True, first="ok"),
]

FAMILIES = {
    "install": Family("install", "fresh", INSTALL_CASES, _install_args),
    "upgrade": Family("upgrade", "installed-old", UPGRADE_CASES, _upgrade_args),
    "proxy": Family(
        "proxy",
        "drifted-proxy",
        [
            fails_to_start("obengine"),
            dropped_at("proxy_apply", first="unreachable"),
            no_become(first="any"),
            # the documented proxy change ends with cdpcli --registermt [3.3], which needs the CS on 443
            Case("cs_unreachable", "cs_unreachable", True, says=(r"registermt", r"443")),
            Case("pending_reboot", "pending_reboot", True, first="ok"),
        ],
        lambda estate, tmp, hosts: dict(PROXY_ARGS),
    ),
    "registration": Family(
        "registration",
        "installed-old",
        [
            Case("cs_unreachable", "cs_unreachable", True, says=(r"10\.0\.0\.11",)),
            fails_to_start("obengine"),
            dropped_at("register_apply", first="unreachable"),
            no_become(first="any"),
            Case("pending_reboot", "pending_reboot", True, first="any"),
        ],
        lambda estate, tmp, hosts: {},
        prep_all=_stop("obengine"),  # re-registration is due when obengine is down [3.3]
    ),
    "uninstall": Family(
        "uninstall",
        "installed-old",
        [
            Case("msiexec_exit_code 1603", "msiexec_exit_code", 1603, says=(r"1603", r"UnifiedAgentMSIUninstall")),
            dropped_at("uninstall_step", first="unreachable"),
            no_become(says=(r"(become|[Aa]ccess)",)),
            Case("cs_unreachable", "cs_unreachable", True, first="any"),
            Case("pending_reboot", "pending_reboot", True, first="any"),
        ],
        lambda estate, tmp, hosts: {"workload_moved": True},
    ),
    "process_server": Family(
        "process_server",
        "fresh",
        [
            exit_code(1, r"ASRUnifiedSetup\.log"),
            exit_code(102, r"ProcessServer"),
            exit_code(113, r"registermt"),
            exit_code(115, r"proxy"),
            dropped_at("setup_poll", " (mid-install)", first="ok"),
            Case("cs_unreachable", "cs_unreachable", True, says=(r"10\.0\.0\.11", r"443")),
            no_become(says=(r"network logon", r"become")),
        ],
        _process_server_args,
    ),
}


def _outcome(result: dict[str, Any] | None) -> str:
    if not result:
        return "missing"
    if result.get("unreachable"):
        return "unreachable"
    return "failed" if result.get("failed") else "ok"


def _check_first(case: Case, result: dict[str, Any] | None) -> list[str]:
    problems = []
    outcome = _outcome(result)
    if case.first == "any":
        if outcome == "missing":
            problems.append("no result")
    elif case.first == "unreachable":
        if outcome not in ("unreachable", "failed"):
            problems.append(f"expected the run to stop (unreachable/failed), got {outcome}")
    elif outcome != case.first:
        problems.append(f"expected {case.first}, got {outcome}: {L.failure_text(result)[:300]}")
    if outcome in ("failed", "unreachable"):
        text = L.failure_text(result)
        for pattern in case.says:
            if not re.search(pattern, text):
                problems.append(f"message does not name the cause /{pattern}/: {text[:400]}")
        if not NEXT_STEP.search(text):
            problems.append(f"message has no next step: {text[:400]}")
        if "Task failed:" in text or "Traceback" in text:
            problems.append(f"an uncaught exception, not the module's message: {text[:300]}")
    return problems


def run_family(family: Family, tmp: pathlib.Path) -> dict[str, list[str]]:
    """Run the three rounds; per case label, the problems found (empty = passed)."""
    hosts = [f"ps{i:02d}" for i in range(1, len(family.cases) + 1)]
    by_host = dict(zip(hosts, family.cases, strict=True))
    problems: dict[str, list[str]] = {c.fault: [] for c in family.cases}
    with L.served(tmp / "estate", family.seed, cs=family.cs, ps=len(hosts)) as estate:
        args = family.args(estate, tmp, hosts)
        for host, case in by_host.items():
            with estate.open_host(host) as state:
                if family.prep_all:
                    family.prep_all(state)
                if case.prep:
                    case.prep(state)
                if case.knob:
                    state.faults[case.knob] = case.value
        no_become = [h for h, c in by_host.items() if c.no_become]
        first, proc = L.run_module(estate, hosts, family.module, args, tmp / "r1", no_become=no_become)
        for host, case in by_host.items():
            problems[case.fault] += [f"faulted run: {p}" for p in _check_first(case, first[host])]

        L.clear_faults(estate, hosts)
        for host, case in by_host.items():
            if case.prep is _small_disk:
                with estate.open_host(host) as state:
                    _restore_disk(state)
        second, _ = L.run_module(estate, hosts, family.module, args, tmp / "r2")
        for host, case in by_host.items():
            result = second[host]
            if _outcome(result) != "ok":
                problems[case.fault].append(f"did not converge once the fault was cleared: {L.failure_text(result)}")
            elif case.then_changed is not None and result.get("changed") is not case.then_changed:
                problems[case.fault].append(f"convergence run changed={result.get('changed')}")

        L.clear(estate)
        third, _ = L.run_module(estate, hosts, family.module, args, tmp / "r3")
        for host, case in by_host.items():
            result = third[host]
            if _outcome(result) != "ok" or result.get("changed") is not False:
                problems[case.fault].append(
                    f"run after convergence: {_outcome(result)} changed={(result or {}).get('changed')} "
                    f"{L.failure_text(result)[:300]}"
                )
            if case.after:
                try:
                    case.after(estate, host)
                except AssertionError as exc:
                    problems[case.fault].append(str(exc))
    if any(r is None for r in first.values()):
        problems.setdefault("(playbook)", []).append(proc.stdout[-3000:] + proc.stderr[-3000:])
    return problems


@pytest.mark.parametrize("name", list(FAMILIES))
def test_fault_matrix(name, tmp_path):
    family = FAMILIES[name]
    problems = run_family(family, tmp_path)
    for case in family.cases:
        found = problems.get(case.fault) or []
        registry.record(SECTION, f"{family.module} x {case.fault}", "failed" if found else "passed", group=name)
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, "\n".join(f"{name} x {k}: {'; '.join(v)}" for k, v in bad.items())


def test_unregister_fault_matrix(tmp_path):
    """unregister runs on the configuration server: the purge's connection dropped, then rerun and rerun."""
    group = "unregister"
    with L.served(tmp_path / "estate", "disconnected", ps=2) as estate:
        args = {"ip_address": "10.0.0.101"}
        for label, knob, value in (
            ("drop_connection_at unregister_purge", "drop_connection_at", "unregister_purge v2"),
            ("network_logon_restricted without become", "network_logon_restricted", True),
        ):
            with registry.case(SECTION, f"unregister x {label}", group=group):
                L.reseed(estate, "disconnected")
                L.set_fault(estate, "cs01", knob, value)
                first, _ = L.run_module(
                    estate, ["cs01"], "unregister", args, tmp_path / "u1", become=knob != "network_logon_restricted"
                )
                registered = "10.0.0.101" in estate.read_host("cs01").asr["registered_process_servers"]
                if _outcome(first["cs01"]) != "ok":
                    text = L.failure_text(first["cs01"])
                    assert NEXT_STEP.search(text) and "Task failed:" not in text, text
                    assert registered, "a failed purge must leave the registration to purge again"
                L.clear_faults(estate)
                second, _ = L.run_module(estate, ["cs01"], "unregister", args, tmp_path / "u2")
                assert _outcome(second["cs01"]) == "ok", L.failure_text(second["cs01"])
                assert "10.0.0.101" not in estate.read_host("cs01").asr["registered_process_servers"]
                third, _ = L.run_module(estate, ["cs01"], "unregister", args, tmp_path / "u3")
                assert third["cs01"]["changed"] is False and _outcome(third["cs01"]) == "ok"


# ---- playbook rows: serial batches; a fault in batch 2 must stop the play before batch 3 ---------------------
PSS = [f"ps{n:02d}" for n in range(1, 6)]
BATCHES = [["ps01", "ps02"], ["ps03", "ps04"], ["ps05"]]  # asr_serial: 2
PLAYBOOK_ROWS = [
    # (playbook, seed, fault host, knob, value, cause regexes, extra vars)
    ("site.yml", "fresh", "ps03", "cs_unreachable", True, (r"10\.0\.0\.11", r"443"), {}),
    ("site.yml", "fresh", "ps03", "installer_exit_code", 1, (r"exit code 1\b", r"ASRUnifiedSetup\.log"), {}),
    ("upgrade.yml", "installed-old", "ps03", "service_fails_to_start", ["ProcessServer"], (r"102|ProcessServer",), {}),
    ("upgrade.yml", "installed-old", "ps03", "drop_connection_at", "setup_start v1", (r"(connection|WinRM)",), {}),
    (
        "decommission.yml",
        "installed-old",
        "ps02",
        "msiexec_exit_code",
        1603,
        (r"1603", r"UnifiedAgentMSIUninstall"),
        {"asr_decommission_hosts": "process_servers", "asr_workload_moved": True},
    ),
]


@pytest.mark.parametrize("row", PLAYBOOK_ROWS, ids=[f"{r[0]}-{r[3]}" for r in PLAYBOOK_ROWS])
def test_playbook_batches_stop_at_the_failed_batch(row, tmp_path):
    book, seed_name, bad, knob, value, says, extra = row
    name = f"{book} x {knob} (host {bad})"
    with registry.case(SECTION, name, group=f"playbook {book}"), L.served(tmp_path / "e", seed_name, ps=5) as estate:
        remote = L.preplace_package(estate, PSS)
        variables = L.fleet_vars(remote, asr_serial=2, **extra)
        L.set_fault(estate, bad, knob, value)
        L.clear(estate)
        proc, report = L.run_fleet(estate, book, variables, tmp_path / "faulted")
        assert proc.returncode != 0, proc.stdout[-2000:]
        text = " ".join(L.task_messages(report, bad))
        for pattern in says:
            assert re.search(pattern, text), (pattern, text[:800])
        assert NEXT_STEP.search(text) and "Task failed:" not in text, text[:800]
        # the batch that failed is the last one touched: no changing call on any host of a later batch
        serial = 1 if book == "decommission.yml" else 2
        order = PSS if serial == 1 else [h for b in BATCHES for h in b]
        later = order[(order.index(bad) // serial + 1) * serial :]
        for host in later:
            assert L.changing_calls(estate, host) == [], (host, L.identities(estate, host))

        L.clear_faults(estate)
        proc, _ = L.run_fleet(estate, book, variables, tmp_path / "converge")
        assert proc.returncode == 0, proc.stdout[-3000:]
        L.clear(estate)
        proc, report = L.run_fleet(estate, book, variables, tmp_path / "again")
        assert proc.returncode == 0, proc.stdout[-3000:]
        stats = report.get("stats") or {}
        assert all(stats.get(h, {}).get("changed", 0) == 0 for h in PSS), stats
        assert all(L.changing_calls(estate, h) == [] for h in PSS)


# ---- the package from a URL or a share (issue 12): faults of the server, the share and the download ----------------
PACKAGE_URL = "{{ asr_lab_files_url }}/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
PACKAGE_UNC = r"\\files.lab.example\media\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
TRANSFER_CASES = {
    # host: (label, knob, value, source, what the message must say)
    "ps01": ("a wrong file from the server (checksum)", "http_wrong_content", True, "url",
             (r"SHA-256 [0-9a-f]{64}, not the expected", r"deleted and not staged", r"correct installer_checksum")),
    "ps02": ("a share that cannot be reached", "share_unreachable", True, "share",
             (r"The network path was not found", r"TCP 445", r"computer account")),
    "ps03": ("the file is not on the server (404)", "http_status", 404, "url",
             (r"\(404\)", r"check installer_url")),
}  # fmt: skip


def test_package_transfer_faults_fail_before_setup_then_converge(tmp_path):
    """Each host fetches the package from a faulty source: the install fails before Unified Setup starts, naming the
    cause and what to do, and leaves no package staged; with the fault gone the same task converges, then is
    unchanged. One run covers every row (one host per fault)."""
    hosts = list(TRANSFER_CASES)
    with L.served(tmp_path / "e", "fresh", ps=len(hosts)) as estate:
        package = package_bytes(L.CURRENT, 200_000)
        sha = hashlib.sha256(package).hexdigest()
        fileserver.publish(estate, "asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe", package)
        lab_share.publish(estate, PACKAGE_UNC, package)
        base = L.install_args(L.installer_file(tmp_path / "pkg"), installer_checksum=sha)
        del base["installer"]
        sources = {"url": {"installer_url": PACKAGE_URL}, "share": {"installer_remote_path": PACKAGE_UNC}}
        per_host = {h: {**base, **sources[case[3]]} for h, case in TRANSFER_CASES.items()}
        args = "{{ reliability_args[inventory_hostname] }}"
        for host, (_label, knob, value, _source, _says) in TRANSFER_CASES.items():
            L.set_fault(estate, host, knob, value)
        L.clear(estate)
        extra = ["-e", json.dumps({"reliability_args": per_host})]
        faulted, _ = L.run_module(estate, hosts, "install", args, tmp_path / "faulted", *extra)
        staged_path = rf"C:\ProgramData\ASRSetupStaging\{sha[:16]}\{PACKAGE_NAME}"
        staged = {h: estate.read_host(h).is_file(staged_path) for h in hosts}
        calls = {h: L.identities(estate, h) for h in hosts}
        L.clear_faults(estate)
        L.clear(estate)
        converged, _ = L.run_module(estate, hosts, "install", args, tmp_path / "converge", *extra)
        L.clear(estate)
        again, _ = L.run_module(estate, hosts, "install", args, tmp_path / "again", *extra)
        for host, (label, _knob, _value, source, says) in TRANSFER_CASES.items():
            with registry.case(SECTION, f"install from {source} x {label}", group="package transfer"):
                result = faulted[host] or {}
                text = L.failure_text(result)
                assert result.get("failed"), (host, result)
                for pattern in says:
                    assert re.search(pattern, text), (host, pattern, text[:800])
                assert NEXT_STEP.search(text), text[:800]
                assert "setup_start v1" not in calls[host] and not staged[host], (host, calls[host])
                assert not (converged[host] or {}).get("failed"), (host, L.failure_text(converged[host]))
                assert (again[host] or {}).get("changed") is False, (host, again[host])
