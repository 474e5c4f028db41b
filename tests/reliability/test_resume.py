"""Interruption and resume: the run is cut at each step, then run again; the host converges and nothing that
should happen once happens twice.

Cuts: the lab's ``drop_connection_at`` knob drops the WinRM connection at a chosen call (before the host acts
on it, as a connection lost on the way), by script identity or by call number; and for the long step, the poll,
the controller itself is killed (SIGKILL of ansible-playbook) while Unified Setup runs on the host.

Every host of an estate gets its own cut, so one play exercises all steps at once. After the rerun:
* the host is converged (installed/upgraded build, or nothing left to remove) and a further run is unchanged;
* the process log shows UnifiedSetup.exe ran once per successful install/upgrade, and each uninstaller once;
* the rerun's journal skipped the completed steps (no second package transfer once the package was staged).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import time

import _lab as L
import pytest
import registry

from lab import fileserver, link
from lab.asr import constants as c
from lab.asr.installer import package_bytes
from tests import playbook_runner

pytestmark = pytest.mark.lab

SECTION = "resume"
registry.section(
    SECTION,
    "Interruption and resume",
    "Each step of install, upgrade and decommission cut (a WinRM connection dropped at that call, or the controller "
    "killed while setup runs), then run again: the host converges, Unified Setup runs once per successful "
    "install/upgrade, each uninstaller once, and the rerun's journal skips the steps already done.",
    order=30,
)


@contextlib.contextmanager
def _cut(tmp_path, seed, cuts):
    """An estate of one process server per host of ``cuts``, each losing its WinRM connection at its call (a script
    identity, or a call number): the lab's ``drop_connection_at``."""
    with L.served(tmp_path / "estate", seed, ps=len(cuts)) as estate:
        for host, at in cuts.items():
            L.set_fault(estate, host, "drop_connection_at", at)
        yield estate


def _version(estate, host):
    return estate.read_host(host).reg_get(c.REG_INSTALLED_CSPS, "Build_Version")


def _uninstallers(estate, host):
    return [p for p in L.processes(estate, host) if "unins000.exe" in p.lower() or "msiexec" in p.lower()]


# install: each step of a run with a controller-side package: transfer (put_file straight into the host's temp
# folder), start (move into the staging folder after the SHA-256 check, extract, start detached), poll (retried:
# the run itself survives), cleanup (warned: the run succeeds)
INSTALL_CUTS = {
    "ps01": ("transfer: put_file", "put_file"),
    "ps02": ("move/extract/start: setup_start", "setup_start v1"),
    "ps03": ("poll: setup_poll (connection drop)", "setup_poll v1"),
    "ps04": ("cleanup: setup_cleanup", "setup_cleanup v1"),
}


def test_install_cut_at_each_step_then_rerun(tmp_path):
    hosts = list(INSTALL_CUTS)
    with _cut(tmp_path, "fresh", {host: identity for host, (_, identity) in INSTALL_CUTS.items()}) as estate:
        args = L.install_args(L.installer_file(tmp_path / "pkg"))
        first, _ = L.run_module(estate, hosts, "install", args, tmp_path / "cut")
        staged = {  # the package arrived on the host before the cut
            h: any(e["identity"] == "put_file" and not e.get("dropped") for e in L.calls(estate, h)) for h in hosts
        }
        before = {h: L.identities(estate, h) for h in hosts}
        first_setups = {h: len(L.setup_runs(estate, h)) for h in hosts}
        L.clear(estate)
        rerun, _ = L.run_module(estate, hosts, "install", args, tmp_path / "rerun")
        rerun_calls = {h: L.identities(estate, h) for h in hosts}
        setups = {h: len(L.setup_runs(estate, h)) for h in hosts}
        L.clear(estate)
        again, _ = L.run_module(estate, hosts, "install", args, tmp_path / "again")
        for host, (step, identity) in INSTALL_CUTS.items():
            with registry.case(SECTION, f"install cut at {step}", group="install"):
                assert identity in before[host], (host, before[host])  # the cut call was made (and dropped)
                assert _version(estate, host) == L.CURRENT, host
                assert not (rerun[host] or {}).get("failed"), (host, L.failure_text(rerun[host]))
                cut_ok = identity in ("setup_poll v1", "setup_cleanup v1")  # survived inside the first run
                if cut_ok:
                    assert not (first[host] or {}).get("failed"), (host, L.failure_text(first[host]))
                    assert rerun[host]["changed"] is False and rerun_calls[host] == ["probe v1"], rerun_calls[host]
                else:  # the first run stopped and said so; the rerun did the rest
                    assert (first[host] or {}).get("unreachable") or (first[host] or {}).get("failed"), host
                    assert rerun[host]["changed"] is True
                # UnifiedSetup.exe ran exactly once over both runs (process logs of the first run and the rerun)
                assert first_setups[host] + setups[host] == 1, (host, first_setups[host], setups[host])
                if staged[host]:  # the package was on the host before the cut: the rerun does not send it again
                    assert "put_file" not in rerun_calls[host], (host, rerun_calls[host])
                assert staged[host] is (host != "ps01"), (host, before[host])
                assert again[host]["changed"] is False and not again[host].get("failed"), host


def test_install_controller_killed_while_setup_runs_then_rerun(tmp_path):
    """The controller dies during the poll; the detached setup goes on. A rerun while it still runs refuses
    clearly (it does not start a second setup); once it ended the rerun converges with no setup run."""
    name = "install: controller killed during the poll"
    with registry.case(SECTION, name, group="install"), L.served(tmp_path / "estate", "fresh", ps=1) as estate:
        args = L.install_args(L.installer_file(tmp_path / "pkg"))
        L.set_fault(estate, "ps01", "installer_seconds", 25)
        book = L.write_playbook(tmp_path / "p", L.module_play(["ps01"], "install", args))
        env, cmd = L.ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"), L.playbook_command(estate, str(book))
        proc = subprocess.Popen(cmd, cwd=L.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while "setup_poll v1" not in L.identities(estate, "ps01") and time.monotonic() < deadline:
            time.sleep(0.2)
        # the controller and its workers, mid-poll (ansible's workers call setsid(): kill each descendant)
        for pid in [*playbook_runner.descendants(proc.pid), proc.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert "setup_poll v1" in L.identities(estate, "ps01")

        L.clear(estate)
        busy, _ = L.run_module(estate, ["ps01"], "install", args, tmp_path / "busy")
        result = busy["ps01"]
        assert result["failed"] and "still running" in result["msg"] and result["changed"] is False, result
        assert "put_file" not in L.identities(estate, "ps01")  # the staged package was reused
        assert L.setup_runs(estate, "ps01") == []

        with estate.open_host("ps01") as host:  # let the host clock pass the setup's end
            host.faults["clock_skew_seconds"] = 60
        L.clear(estate)
        done, _ = L.run_module(estate, ["ps01"], "install", args, tmp_path / "done")
        assert not done["ps01"].get("failed"), L.failure_text(done["ps01"])
        assert done["ps01"]["changed"] is False and L.identities(estate, "ps01") == ["probe v1"]
        assert _version(estate, "ps01") == L.CURRENT
        runs = estate.read_host("ps01").asr.get("setup_runs") or {}
        assert len(runs) == 1  # Unified Setup ran once in all


UPGRADE_CUTS = {
    "ps01": ("extract/start: setup_start", "setup_start v1"),
    "ps02": ("poll: setup_poll (connection drop)", "setup_poll v1"),
    "ps03": ("cleanup: setup_cleanup", "setup_cleanup v1"),
}


def test_upgrade_cut_at_each_step_then_rerun(tmp_path):
    hosts = list(UPGRADE_CUTS)
    with _cut(tmp_path, "installed-old", {host: identity for host, (_, identity) in UPGRADE_CUTS.items()}) as estate:
        remote = L.preplace_package(estate, hosts)
        args = {"installer_remote_path": remote, "installer_version": L.CURRENT, "poll_interval": 1}
        L.run_module(estate, hosts, "upgrade", args, tmp_path / "cut")
        first_setups = {h: len(L.setup_runs(estate, h)) for h in hosts}
        dropped = {h: [str(e.get("identity")) for e in L.calls(estate, h) if e.get("dropped")] for h in hosts}
        L.clear(estate)
        rerun, _ = L.run_module(estate, hosts, "upgrade", args, tmp_path / "rerun")
        rerun_setups = {h: len(L.setup_runs(estate, h)) for h in hosts}
        for host, (step, identity) in UPGRADE_CUTS.items():
            with registry.case(SECTION, f"upgrade cut at {step}", group="upgrade"):
                assert dropped[host] == [identity], (host, dropped[host])  # the cut call was made and dropped
                assert _version(estate, host) == L.CURRENT, host
                assert not (rerun[host] or {}).get("failed"), (host, L.failure_text(rerun[host]))
                assert first_setups[host] + rerun_setups[host] == 1, (host, first_setups[host], rerun_setups[host])
                if first_setups[host]:  # the upgrade ran in the first run: the rerun is one probe, unchanged
                    assert rerun[host]["changed"] is False, host


def test_decommission_cut_before_each_uninstall_step_then_rerun(tmp_path):
    """uninstall: call 1 is the probe, calls 2-5 the four product steps [6.1]; host psN loses step N."""
    hosts = [f"ps0{n}" for n in range(1, 5)]
    with _cut(tmp_path, "installed-old", {host: n + 1 for n, host in enumerate(hosts, start=1)}) as estate:
        args = {"workload_moved": True}
        first, _ = L.run_module(estate, hosts, "uninstall", args, tmp_path / "cut")
        removed_first = {h: len(_uninstallers(estate, h)) for h in hosts}
        first_processes = {h: _uninstallers(estate, h) for h in hosts}
        L.clear(estate)
        rerun, _ = L.run_module(estate, hosts, "uninstall", args, tmp_path / "rerun")
        rerun_calls = {h: L.identities(estate, h) for h in hosts}
        rerun_processes = {h: _uninstallers(estate, h) for h in hosts}
        L.clear(estate)
        again, _ = L.run_module(estate, hosts, "uninstall", args, tmp_path / "again")
        for n, host in enumerate(hosts, start=1):
            with registry.case(SECTION, f"decommission cut before uninstall step {n} of 4", group="uninstall"):
                assert (first[host] or {}).get("unreachable") or (first[host] or {}).get("failed"), host
                assert removed_first[host] == n - 1, (host, first_processes[host])
                assert not rerun[host].get("failed"), L.failure_text(rerun[host])
                # the rerun skipped the removed products: one step per product still installed
                assert rerun_calls[host] == ["probe v1"] + ["uninstall_step v1"] * (5 - n), rerun_calls[host]
                every = first_processes[host] + rerun_processes[host]
                assert len(every) == 4 and len(set(every)) == 4, every  # each uninstaller exactly once
                assert again[host]["changed"] is False and L.changing_calls(estate, host) == []


# ---- the package from a URL: a download cut in the middle (issue 12) -------------------------------------------------
def test_install_from_a_url_download_cut_in_the_middle_then_resumed(tmp_path):
    """The file server resets the connection halfway through the package: the host's own transfer (package_stage's
    detached runner, .NET HttpWebRequest) asks again with a Range request from what reached its file, checks the
    SHA-256 and stages the package; setup then runs once. Nothing is downloaded twice."""
    name = "install from installer_url: download cut halfway, resumed with a Range request"
    with registry.case(SECTION, name, group="package transfer"), L.served(tmp_path / "e", "fresh", ps=1) as estate:
        package = package_bytes(L.CURRENT, 300_000)
        fileserver.publish(estate, "asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe", package)
        L.set_fault(estate, "ps01", "http_cut_at", 0.5)
        sha = hashlib.sha256(package).hexdigest()
        args = L.install_args(L.installer_file(tmp_path / "pkg"), installer_checksum=sha)
        del args["installer"]
        args["installer_url"] = "{{ asr_lab_files_url }}/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
        L.clear(estate)
        first, _ = L.run_module(estate, ["ps01"], "install", args, tmp_path / "cut")
        assert not (first["ps01"] or {}).get("failed"), L.failure_text(first["ps01"])
        assert _version(estate, "ps01") == L.CURRENT and len(L.setup_runs(estate, "ps01")) == 1
        wire = [e for e in link.read(estate, "ps01") if e["channel"] == "http"]
        gets = [e for e in wire if e["what"].startswith("GET")]
        bodies = [e["bytes_in"] for e in wire if e["what"] == "body"]
        assert len(gets) == 2 and gets[0].get("range") is None and str(gets[1].get("range")).startswith("bytes=")
        resumed = int(str(gets[1]["range"])[len("bytes=") : -1])
        assert 0 < resumed < len(package) and bodies[1] == len(package) - resumed  # only the rest, once
        transfer = rf"C:\ProgramData\ASRSetupStaging\{sha[:16]}\transfer"
        status = json.loads(estate.read_host("ps01").read_text(transfer + "\\status.json").lstrip("\ufeff"))  # 5.1: BOM
        assert status["state"] == "staged" and status["attempts"] == 2 and status["resumed_from"] == resumed
        assert "put_file" not in L.identities(estate, "ps01")
