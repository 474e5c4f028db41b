"""The detached Unified Setup runner setup_start writes and starts with Win32_Process.Create: the lab runs its real text
(lab/detached.py), stops it where it waits for a setup still running, and runs it again when that setup has ended."""

from __future__ import annotations

import contextlib
import json

from asr_helpers import CURRENT as VERSION
from asr_helpers import PACKAGE, PASSPHRASE, RUN_DIR, SHA, STAGED, STAGING, error_text, run_script

from lab import detached
from lab.asr import build, installer
from lab.state import Estate, new_host

PASSPHRASE_FILE = RUN_DIR + r"\passphrase.txt"
ARGUMENTS = (
    r'/AcceptThirdpartyEULA /ServerMode "PS" /InstallLocation "D:\ASR" /EnvType "NonVMware" /CSIP "10.0.0.11" '
    rf'/PassphraseFilePath "{PASSPHRASE_FILE}"'
)


def start(host, run_dir=RUN_DIR, text=None):
    parameters = {
        "PackagePath": STAGED,
        "ExpectedSha256": SHA,
        "ExtractDir": STAGED.rsplit("\\", 1)[0] + "\\extracted",
        "RunDir": run_dir,
        "SetupArguments": ARGUMENTS,
        "InstallLocation": r"D:\ASR",
        "PassphraseFile": run_dir + r"\passphrase.txt",
    }
    fields = run_script(host, text or "setup_start", parameters, {"Passphrase": PASSPHRASE})
    assert not fields["failed"], error_text(fields)
    return json.loads(fields["result"])


def poll(host, run_dir=RUN_DIR):
    fields = run_script(host, "setup_poll", {"RunDir": run_dir, "ServiceNames": ["tmansvc"]})
    assert not fields["failed"], error_text(fields)
    return json.loads(fields["result"])["run"]


@contextlib.contextmanager
def staged_host(tmp_path):
    """ps01 with the package staged, in an estate with the configuration server setup checks the passphrase with."""
    estate = Estate(tmp_path)
    cs = new_host("cs01", "10.0.0.11", "configuration_server")
    build.configuration_server(cs, VERSION, passphrase=PASSPHRASE)
    estate.save_new_host(cs)
    ps = new_host("ps01", "10.0.0.101")
    ps.write_file(STAGED, PACKAGE)
    estate.save_new_host(ps)
    with estate.open_host("ps01") as host:
        yield host


def test_a_short_setup_ends_within_the_start_call_and_the_runner_cleans_up(tmp_path):
    with staged_host(tmp_path) as host:
        short_setup(host)


def short_setup(host):
    started = start(host)
    runner = detached.table(host)[str(started["pid"])]
    assert runner["state"] == "exited" and runner["exit_code"] == 0
    assert runner["command_line"].split()[1:4] == ["-NoProfile", "-NonInteractive", "-EncodedCommand"]
    assert not host.exists(PASSPHRASE_FILE)  # the runner's finally deleted the secret file
    status = json.loads(host.read_text(RUN_DIR + r"\status.json").lstrip("\ufeff"))
    assert status["rc"] == 0 and status["state"] == "exited" and status["error"] is None
    assert "Unified Setup has succeeded" in host.read_text(RUN_DIR + r"\stdout.txt")
    run = poll(host)
    assert run["state"] == "exited" and run["rc"] == 0 and run["pid"] == started["pid"]


def test_a_long_setup_keeps_the_runner_waiting_then_it_finishes_when_setup_has_ended(tmp_path):
    with staged_host(tmp_path) as host:
        long_setup(host)


def long_setup(host):
    host.faults["installer_seconds"] = 600
    started = start(host)
    assert poll(host)["state"] == "running"
    assert host.is_file(PASSPHRASE_FILE) and not host.exists(RUN_DIR + r"\status.json")
    assert host.read_text(RUN_DIR + r"\stdout.txt") == ""  # created when setup started
    # a second start while the runner waits changes nothing: busy
    busy = start(host, STAGING + r"\run-second000000")
    assert busy["busy"]["pid"] == started["pid"] and busy["busy"]["by"] == "asr.process_server"
    host.faults["clock_skew_seconds"] = 700  # setup's 600 s have passed on the host clock
    run = poll(host)
    assert run["state"] == "exited" and run["rc"] == 0
    assert not host.exists(PASSPHRASE_FILE)
    assert len(host.asr["setup_runs"]) == 1  # run again, the runner did not start a second setup


def test_the_runner_that_runs_again_is_the_text_setup_start_wrote(tmp_path):
    """No copy of the runner's logic in the lab: an edit of the runner text setup_start carries shows in what it does
    (after it waited for setup and ran again)."""
    with staged_host(tmp_path) as host:
        edited_runner(host)


def edited_runner(host):
    from asr_helpers import collection_script

    marker = "Set-Content -LiteralPath (Join-Path -Path $RunDir -ChildPath 'edited.txt') -Value 'edited'\n"
    text = collection_script("setup_start")
    assert text.count("$status = [ordered]@{") == 1  # the runner's line, inside $RunnerText
    host.faults["installer_seconds"] = 600
    start(host, text=text.replace("$status = [ordered]@{", marker + "$status = [ordered]@{"))
    host.faults["clock_skew_seconds"] = 700
    assert poll(host)["state"] == "exited"
    assert host.read_text(RUN_DIR + r"\edited.txt").strip().lstrip("\ufeff") == "edited"


def test_a_runner_lost_with_a_reboot_is_reported_lost(tmp_path):
    with staged_host(tmp_path) as host:
        lost_runner(host)


def lost_runner(host):
    host.faults["installer_seconds"] = 600
    start(host)
    host.reboot()
    assert poll(host)["state"] == "lost"


def stop(host, run_dir=RUN_DIR, check_mode=False):
    fields = run_script(host, "setup_stop", {"RunDir": run_dir}, check_mode=check_mode)
    assert not fields["failed"], error_text(fields)
    return fields, json.loads(fields["result"])


def test_a_hung_setup_is_stopped_with_its_runner_and_a_new_run_can_start(tmp_path):
    """stop_setup_on_timeout: setup_stop's real text lists the runner's tree (Win32_Process) and stops it."""
    with staged_host(tmp_path) as host:
        stopped_tree(host)


def stopped_tree(host):
    host.faults["installer_seconds"] = 100000  # a setup that never ends (a message box in session 0)
    started = start(host)
    runner = str(started["pid"])
    setup = next(k for k, v in detached.table(host).items() if v.get("run_id"))
    fields, would = stop(host, check_mode=True)
    assert would["state"] == "would_stop" and not fields["changed"]
    assert detached.running(host, int(runner)) and detached.running(host, int(setup))
    fields, result = stop(host)
    assert fields["changed"] and result["state"] == "stopped" and result["runner_pid"] == started["pid"]
    assert [(p["pid"], p["name"]) for p in result["stopped"]] == [
        (int(setup), "UnifiedSetup.exe"),
        (started["pid"], "powershell.exe"),
    ]
    assert detached.running(host, int(runner)) is None and detached.running(host, int(setup)) is None
    assert host.asr["setup_runs"] and all(r["state"] == "exited" for r in host.asr["setup_runs"].values())
    assert not installer._mutex_held(host)  # [1.3] the single-instance mutex went with the process
    assert not host.exists(RUN_DIR + r"\status.json")  # the runner was stopped, it did not finish
    assert poll(host)["state"] == "lost"
    assert not start(host, STAGING + r"\run-second000000").get("busy")  # nothing holds the host any more
    assert stop(host)[1]["state"] == "ended"  # a second stop finds nothing to stop (idempotent)


def test_a_runner_whose_start_time_differs_is_never_stopped(tmp_path):
    """A process id alone stops nothing: started.json's runner started at another time than the live process."""
    with staged_host(tmp_path) as host:
        host.faults["installer_seconds"] = 100000
        started = start(host)
        record = json.loads(host.read_text(RUN_DIR + r"\started.json").lstrip("\ufeff"))
        record["process_started"] = "2020-01-01T00:00:00.000Z"  # the id now names a later process
        host.write_file(RUN_DIR + r"\started.json", json.dumps(record))
        fields, result = stop(host)
        assert result["state"] == "ended" and result["stopped"] == [] and not fields["changed"]
        assert detached.running(host, started["pid"]) is not None
