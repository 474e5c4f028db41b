"""Two plays against the same host at once: the second fails clearly, the host is not corrupted.

Unified Setup is single-instance [1.3] (the lab emulates its mutex: a second concurrent setup exits 1), and a
second ``setup_start`` used to delete the extracted files the running setup executes from. ``setup_start``
now refuses (changes nothing) while a run of the collection recorded in the staging folder is alive, or while
setup's own mutex is held; the task fails with a message naming the running run and what to do.

Real ansible-playbook processes, started concurrently against one lab host, with Unified Setup taking a few
seconds (``installer_seconds``) so the runs overlap.
"""

from __future__ import annotations

import subprocess

import _lab as L
import pytest
import registry

from tests.lab_support import wait_until

pytestmark = pytest.mark.lab

SECTION = "concurrency"
registry.section(
    SECTION,
    "Concurrency",
    "Two ansible-playbook processes against the same host at the same time (real WinRM, the lab's single-instance "
    "Unified Setup): one installs, the other fails clearly without touching the host; a run after both converges "
    "with `changed: false` and Unified Setup ran exactly once.",
    order=50,
)


def _start(estate, book, out_name):
    env, cmd = L.ansible_env(ANSIBLE_STDOUT_CALLBACK="ansible.posix.json"), L.playbook_command(estate, str(book))
    return subprocess.Popen(cmd, cwd=L.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("module", ["install", "upgrade"])
def test_two_plays_at_once_one_runs_setup_the_other_fails_clearly(module, tmp_path):
    seed_name = "fresh" if module == "install" else "installed-old"
    name = f"{module}: two concurrent plays on one host"
    with registry.case(SECTION, name, group=module), L.served(tmp_path / "estate", seed_name, ps=1) as estate:
        remote = L.preplace_package(estate, ["ps01"])
        if module == "install":
            args = L.install_args(tmp_path, installer_remote_path=remote)
            del args["installer"]
        else:
            args = {"installer_remote_path": remote, "installer_version": L.CURRENT, "poll_interval": 1}
        L.set_fault(estate, "ps01", "installer_seconds", 20)
        book = L.write_playbook(tmp_path / "p", L.module_play(["ps01"], module, args))
        first = _start(estate, book, "a")
        # the second play starts while the first one's setup is running (its start is in the journal)
        assert wait_until(lambda: "setup_start v1" in L.identities(estate, "ps01"), 120, 0.2), (
            "first play never started"
        )
        second = _start(estate, book, "b")
        outs = [p.communicate(timeout=300)[0] for p in (first, second)]
        results = [L.results(subprocess.CompletedProcess([], 0, out, ""), ["ps01"])["ps01"] for out in outs]
        ok = [r for r in results if r and not r.get("failed")]
        refused = [r for r in results if r and r.get("failed")]
        assert len(ok) == 1 and len(refused) == 1, [(r or {}).get("msg") for r in results]
        assert ok[0]["changed"] and ok[0]["version_after"] == L.CURRENT
        msg = refused[0]["msg"]
        assert "was not started" in msg and "still running" in msg and "run folder" in msg, msg
        assert "Wait for that run to end" in msg and "run the task again" in msg, msg
        assert refused[0]["changed"] is False and refused[0]["busy"]["pid"]
        # the host: Unified Setup ran once; the refused play ran no setup_cleanup (the extracted files stayed)
        assert len(L.setup_runs(estate, "ps01")) == 1, L.setup_runs(estate, "ps01")
        assert L.identities(estate, "ps01").count("setup_start v1") == 2
        assert L.identities(estate, "ps01").count("setup_cleanup v1") == 1

        L.clear(estate)
        again, _ = L.run_module(estate, ["ps01"], module, args, tmp_path / "again")
        assert again["ps01"]["changed"] is False and not again["ps01"].get("failed"), again["ps01"].get("msg")
        assert L.identities(estate, "ps01") == ["probe v1"]


def test_a_setup_started_outside_the_collection_is_not_raced(tmp_path):
    """An operator's own Unified Setup (the mutex is held, no run folder of ours): refused, nothing changed."""
    from lab import programs
    from lab.asr import installer

    name = "install: Unified Setup already running (started by hand)"
    with registry.case(SECTION, name, group="install"), L.served(tmp_path / "estate", "fresh", ps=1) as estate:
        remote = L.preplace_package(estate, ["ps01"])
        L.set_fault(estate, "ps01", "installer_seconds", 3600)
        with estate.open_host("ps01") as host:  # the operator started setup by hand a while ago
            programs.run(host, f'"{remote}" /q /x:C:\\Temp\\us', user="PS01\\Administrator", become=True)
            host.write_file(r"C:\Temp\passphrase.txt", "LabPassphrase0001")
            record = installer.start_setup(
                host,
                r'"C:\Temp\us\UnifiedSetup.exe" /AcceptThirdpartyEULA /ServerMode PS /InstallLocation D:\ '
                r"/EnvType VMware /CSIP 10.0.0.11 /PassphraseFilePath C:\Temp\passphrase.txt",
                "PS01\\Administrator",
                True,
                cwd=r"C:\Temp\us",
            )
            assert record["state"] == "running", record
        args = L.install_args(tmp_path, installer_remote_path=remote)
        del args["installer"]
        before = estate.read_host("ps01").data
        L.clear(estate)
        refused, _ = L.run_module(estate, ["ps01"], "install", args, tmp_path / "r")
        result = refused["ps01"]
        assert result["failed"] and "single-instance mutex" in result["msg"], result.get("msg")
        assert result["changed"] is False
        assert L.changing_calls(estate, "ps01") == ["setup_start v1"]
        after = estate.read_host("ps01").data
        assert after["files"] == before["files"] if "files" in before else True
        assert len(L.setup_runs(estate, "ps01")) == 0  # no second UnifiedSetup.exe
