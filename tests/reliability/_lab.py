"""Helpers of the reliability lab tests (faults, resume, rolling, concurrency): an estate served over real WinRM,
a play of module tasks on many hosts at once with real ansible-playbook, and readers for the lab's journal,
process log and host state. One estate per module family; every host gets its own fault, so one playbook run
exercises a whole row of the fault matrix (fast on 2 cores)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import yaml

from lab import estate as lab_estate
from lab import journal, seed
from lab.asr.installer import package_bytes
from tests import lab_support, playbook_runner
from tests.lab_support import (  # noqa: F401 (the suite's names)
    CURRENT,
    ROOT,
    clear,
    install_args,
    playbook_command,
    processes,
    served,
)

BIN = pathlib.Path(sys.executable).parent
OLD = "9.52.6801.1"
BECOME = {"become": True, "become_method": "runas", "become_user": "SYSTEM"}

# Remote calls that change a host (the journal's identities); everything else only reads.
READ_ONLY = {"probe v1", "setup_poll v1", "registration_read v1", "ansible.windows.win_ping", "setup"}


def reseed(estate: lab_estate.Estate, seed_name: str) -> None:
    """Back to the seed (journals and process logs cleared); the server keeps serving the same ports."""
    lab_estate.reset(estate)
    seed.apply(estate, seed_name)
    clear(estate)


def installer_file(directory: pathlib.Path, version: str = CURRENT) -> pathlib.Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"MicrosoftAzureSiteRecoveryUnifiedSetup-{version}.exe"
    path.write_bytes(package_bytes(version))
    return path


def set_fault(estate: lab_estate.Estate, host: str, knob: str, value: Any) -> None:
    with estate.open_host(host) as state:
        state.faults[knob] = value


def clear_faults(estate: lab_estate.Estate, hosts: list[str] | None = None) -> None:
    for name in hosts or estate.host_names():
        with estate.open_host(name) as state:
            state.faults.clear()


def write_playbook(out: pathlib.Path, plays: list[dict[str, Any]]) -> pathlib.Path:
    out.mkdir(parents=True, exist_ok=True)
    book = out / "play.yml"
    book.write_text(yaml.safe_dump(plays, sort_keys=False), encoding="utf-8")
    return book


def module_play(
    hosts: list[str],
    module: str,
    args: dict[str, Any] | str,
    *,
    become: bool = True,
    no_become: list[str] | None = None,
    serial: Any = None,
    any_errors_fatal: bool = False,
    extra_task: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One play running ``asr.process_server.<module>`` on ``hosts`` (results come from the json callback).

    ``args`` may be a Jinja expression string (per-host arguments from play vars). Hosts in ``no_become`` run
    the task without become (the network-logon fault).
    """
    task: dict[str, Any] = {
        "name": "Module under test",
        f"asr.process_server.{module}": args,
        "register": "r",
        **(extra_task or {}),
    }
    if become and no_become:
        task.update({**BECOME, "become": "{{ inventory_hostname not in reliability_no_become }}"})
    elif become:
        task.update(BECOME)
    play: dict[str, Any] = {
        "name": "reliability",
        "hosts": ":".join(hosts),
        "gather_facts": False,
        "vars": {"reliability_no_become": list(no_become or [])},
    }
    if serial is not None:
        play["serial"] = serial
        play["any_errors_fatal"] = any_errors_fatal
    else:
        task.update(ignore_errors=True, ignore_unreachable=True)
    play["tasks"] = [task]
    return [play]


def ansible_env(**extra: str) -> dict[str, str]:
    """The suite's ansible-playbook environment: 20 forks, so one run reaches every host of a fault row at once."""
    return lab_support.ansible_env(ANSIBLE_FORKS="20", **extra)


def run_playbook(
    estate: lab_estate.Estate,
    playbook: pathlib.Path,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: int = 300,
) -> subprocess.CompletedProcess:
    # Results as JSON on stdout (ansible.posix.json): no per-host "save the result" task on localhost, which
    # costs a local Python module run per host.
    environment = ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", **(env or {}))
    cmd = playbook_command(estate, *extra, str(playbook))
    return playbook_runner.run(cmd, cwd=ROOT, env=environment, timeout=timeout)


def results(proc: subprocess.CompletedProcess, hosts: list[str], task: str = "Module under test") -> dict[str, Any]:
    """Each host's result of ``task`` from the json callback's output (None: the task never ran there)."""
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(hosts)
    text = proc.stdout
    try:
        report = json.loads(text[text.index("{") :])
    except ValueError:
        return found
    for play in report.get("plays") or []:
        for entry in play.get("tasks") or []:
            if (entry.get("task") or {}).get("name") != task:
                continue
            for host, result in (entry.get("hosts") or {}).items():
                if host in found:
                    found[host] = result
    return found


def run_module(
    estate: lab_estate.Estate,
    hosts: list[str],
    module: str,
    args: dict[str, Any] | str,
    out: pathlib.Path,
    *extra: str,
    **play_options: Any,
) -> tuple[dict[str, dict[str, Any] | None], subprocess.CompletedProcess]:
    book = write_playbook(out, module_play(hosts, module, args, **play_options))
    proc = run_playbook(estate, book, *extra)
    return results(proc, hosts), proc


def calls(estate: lab_estate.Estate, host: str) -> list[dict[str, Any]]:
    return journal.read(estate, host)


def identities(estate: lab_estate.Estate, host: str) -> list[str]:
    return [str(e.get("identity")) for e in journal.read(estate, host)]


def changing_calls(estate: lab_estate.Estate, host: str) -> list[str]:
    """Journal identities of calls that may change the host (file transfers and collection scripts that act)."""
    return [i for i in identities(estate, host) if i not in READ_ONLY and not i.startswith("raw: Remove-Item")]


def setup_runs(estate: lab_estate.Estate, host: str) -> list[str]:
    """Process-log lines that ran UnifiedSetup.exe (not the package extraction)."""
    return [p for p in processes(estate, host) if _exe(p).lower().endswith("\\unifiedsetup.exe")]


def _exe(command_line: str) -> str:
    text = command_line.strip()
    return text.split('"')[1] if text.startswith('"') else (text.split() or [""])[0]


def failure_text(result: dict[str, Any] | None) -> str:
    """msg plus the structured remediation fields, as an operator reads them."""
    if not result:
        return ""
    return " ".join(str(result.get(k) or "") for k in ("msg", "remediation"))


REMOTE_PACKAGE = r"C:\ProgramData\ASRSetupStaging\preplaced\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"


def preplace_package(estate: lab_estate.Estate, hosts: list[str], version: str = CURRENT) -> str:
    """Put a Unified Setup package on each host (as an operator's file share copy would), so a run skips staging."""
    data = package_bytes(version)
    for name in hosts:
        with estate.open_host(name) as state:
            state.mkdir(REMOTE_PACKAGE.rsplit("\\", 1)[0])
            state.write_file(REMOTE_PACKAGE, data)
    return REMOTE_PACKAGE


def fleet_vars(remote_package: str | None = None, **extra: Any) -> dict[str, Any]:
    """Inventory variables for the fleet playbooks on a lab estate (package pre-placed on the hosts)."""
    if remote_package:
        extra = {"asr_installer_remote_path": remote_package, **extra}
    return lab_support.fleet_vars(**extra)


def run_fleet(
    estate: lab_estate.Estate, name: str, variables: dict[str, Any], out: pathlib.Path, *extra: str
) -> tuple[subprocess.CompletedProcess, dict[str, Any]]:
    """Run ``playbooks/<name>`` with ``variables``; the process and the json callback's report."""
    out.mkdir(parents=True, exist_ok=True)
    vars_file = out / "vars.yml"
    vars_file.write_text(yaml.safe_dump(variables), encoding="utf-8")
    proc = run_playbook(estate, ROOT / "playbooks" / name, "-e", f"@{vars_file}", *extra)
    (out / f"{name}.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    try:
        report = json.loads(proc.stdout[proc.stdout.index("{") :])
    except ValueError:
        report = {}
    return proc, report


def task_messages(report: dict[str, Any], host: str) -> list[str]:
    """Every failure message a host got in a playbook run (json callback report)."""
    messages = []
    for play in report.get("plays") or []:
        for entry in play.get("tasks") or []:
            result = (entry.get("hosts") or {}).get(host)
            if result and (result.get("failed") or result.get("unreachable")):
                messages.append(failure_text(result))
    return messages


def out_of_service(estate: lab_estate.Estate, host: str) -> list[tuple[float, float]]:
    """When ``host`` was out of service (host clock): each Unified Setup run, from start to end (in the lab a
    run's effects land at its end, but on a real host setup stops the services while it runs), and each service
    downtime window the lab recorded (``downtime``, lab/state.py bookkeeping). An open window ends now."""
    state = estate.read_host(host)
    windows = []
    for run in (state.asr.get("setup_runs") or {}).values():
        start, end = run.get("started"), run.get("finished") or run.get("finish_at")
        if start is not None and end is not None and float(end) > float(start):  # not a run refused at once
            windows.append((float(start), float(end)))
    for window in state.data.get("downtime") or []:
        windows.append(
            (float(window["down_at"]), float(window["up_at"] if window["up_at"] is not None else state.now()))
        )
    return windows


def max_concurrent(windows_by_host: dict[str, list[tuple[float, float]]]) -> tuple[int, list[str]]:
    """The largest number of hosts out of service at the same instant, and which hosts they were."""
    events = []
    for host, windows in windows_by_host.items():
        for start, end in windows:
            events.append((start, 0, host))  # at equal times an end (1) comes after a start: touching counts
            events.append((end, 1, host))
    events.sort()
    down: dict[str, int] = {}
    best, best_hosts = 0, []
    for _, kind, host in events:
        down[host] = down.get(host, 0) + (1 if kind == 0 else -1)
        current = [h for h, n in down.items() if n > 0]
        if len(current) > best:
            best, best_hosts = len(current), sorted(current)
    return best, best_hosts
