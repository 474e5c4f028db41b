"""The one setup path (issue 11 item 3): install and upgrade hand SetupHop requests to one SetupExecutor, which
runs them in order and returns a typed SetupDone; every failure says which steps ran before it, added in one place
(the two near-copy executors patched it into results and exceptions each)."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.install_plan import (
    REBOOT_AFTER,
    REBOOT_BEFORE,
    Installer,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.setup_outcome import Outcome
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import ActionFailure
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup import SetupRun, SetupSettings
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup_executor import (
    SetupExecutor,
    SetupHop,
)
from tests.unit.setup_probes import installed

SETUP = r"C:\Stage\extracted\UnifiedSetup.exe"
OK = Outcome(rc=0, name="Success", success=True, changed=True, reboot_required=False, msg="setup ran")
REBOOT = Outcome(rc=3010, name="SuccessfulNeedReboot", success=True, changed=True, reboot_required=True, msg="3010")
FAILED = Outcome(rc=1, name="Failed", success=False, changed=False, reboot_required=False, msg="setup failed",
                 detail={"rc": 1, "log_tail": ["boom"]})  # fmt: skip
N4_REFUSED = Outcome(rc=203, name="UpgradeNotSupported", success=False, changed=False, reboot_required=False,
                     msg="203", detail={"rc": 203})  # fmt: skip


def poll(version):
    services = [{"name": n, "present": True, "state": "running"} for n in ("tmansvc", "InMage PushInstall",
                "cxprocessserver", "ProcessServer", "ProcessServerMonitor", "obengine", "svagents",
                "InMage Scout Application Service")]  # fmt: skip
    return {"csps": {"build_version": version}, "amethyst_conf": {"ps_cs_ip": "10.0.0.11"}, "services": services}


class FakeRunner:
    """What the executor asks of SetupRunner, answered from a list of verdicts; records the calls."""

    def __init__(self, host, outcomes, versions):
        self.host = host
        self.outcomes = list(outcomes)
        self.versions = list(versions)
        self.calls = []
        self.post_state = None
        self.service_names = []

    def run(self, **kw):
        self.calls.append(("run", kw["operation"]))
        run = SetupRun(operation=kw["operation"], package=kw["package"], extract_dir="x", run_dir="r")
        run.last_poll, run.polls = poll(self.versions.pop(0)), 2
        return run, self.outcomes.pop(0)

    def reboot(self, why):
        self.calls.append(("reboot", why))

    def poll(self, run_dir):
        self.calls.append(("poll", run_dir))
        return poll(self.versions.pop(0))

    def stage(self, installer):
        self.calls.append(("stage", installer.remote_path))
        return {"exists": True, "file_version": str(installer.version)}


def executor(outcomes, versions, *, reboot=False, pending=False):
    host = read_probe(installed("9.52.6801.1", pending=pending))
    settings = SetupSettings(staging_dir=r"C:\Stage", setup_timeout=600, poll_interval=5, reboot=reboot)
    ex = SetupExecutor(MagicMock(), {}, settings, host, version_before="9.52.6801.1")
    ex.runner = FakeRunner(host, outcomes, versions)
    return ex


def hop(version, start, stage=False):
    package = Installer(remote_path=rf"C:\Stage\{version}\setup.exe", version=parse_version(version), sha256="ab" * 32)
    return SetupHop(installer=package, argv=(SETUP, "/Upgrade"), version=version, run_step=f"run {version}",
                    cleanup_step=f"clean {version}", upgrade_from=start,
                    stage_step=f"stage {version}" if stage else None)  # fmt: skip


def test_hops_run_in_order_and_the_outcome_is_typed():
    ex = executor([OK, OK], ["9.54.7000.1", "9.56.7300.2"])
    done = ex.run([hop("9.54.7000.1", "9.52.6801.1", stage=True), hop("9.56.7300.2", "9.54.7000.1")])
    assert [c[0] for c in ex.runner.calls] == ["stage", "run", "run"]
    assert [s["name"] for s in done.steps] == [
        "stage 9.54.7000.1", "run 9.54.7000.1", "clean 9.54.7000.1", "run 9.56.7300.2", "clean 9.56.7300.2"
    ]  # fmt: skip
    assert done.changed and done.version_after == "9.56.7300.2" and not done.reboot_required
    assert done.run_fields() == {"exit_code": 0, "exit_code_name": "Success", "polls": 2, "poll_retries": 0}


def test_a_failure_says_which_steps_ran_before_it():
    ex = executor([OK, FAILED], ["9.54.7000.1", "9.56.7300.2"], pending=True)
    ex.reboot_first()
    with pytest.raises(ActionFailure) as caught:
        ex.run([hop("9.54.7000.1", "9.52.6801.1"), hop("9.56.7300.2", "9.54.7000.1")])
    detail = caught.value.detail
    assert [s["name"] for s in detail["steps"]] == [
        REBOOT_BEFORE, "run 9.54.7000.1", "clean 9.54.7000.1", "run 9.56.7300.2", "clean 9.56.7300.2"
    ]  # fmt: skip
    assert detail["changed"] is True and detail["version_before"] == "9.52.6801.1"
    assert detail["version_after"] == "9.54.7000.1" and detail["log_tail"] == ["boom"] and detail["polls"] == 2
    assert caught.value.msg == "setup failed" and ex.host.pending_reboot is False


def test_a_refusal_after_staging_says_the_staging_ran():
    ex = executor([], [])
    ex.stage(hop("9.56.7300.2", "9.52.6801.1").installer)
    with pytest.raises(ActionFailure) as caught:
        ex.refuse("older than the installed build")
    assert caught.value.refusal and caught.value.detail["changed"] is True
    assert [s["name"] for s in caught.value.detail["steps"]] == ["stage installer 9.56.7300.2"]


def test_exit_203_on_a_hop_explains_the_n_minus_4_rule():
    ex = executor([N4_REFUSED], ["9.52.6801.1"])
    with pytest.raises(ActionFailure) as caught:
        ex.run([hop("9.60.1.1", "9.52.6801.1")])
    assert caught.value.msg.startswith("Upgrade not supported: Unified Setup refused to upgrade 9.52.6801.1 to 9.60")


def test_3010_without_reboot_stops_after_that_hop_and_says_a_reboot_is_required():
    ex = executor([REBOOT, OK], ["9.54.7000.1", "9.56.7300.2"])
    done = ex.run([hop("9.54.7000.1", "9.52.6801.1"), hop("9.56.7300.2", "9.54.7000.1")])
    assert done.reboot_required and done.version_after == "9.54.7000.1" and len(ex.runner.calls) == 1
    ex.action._warn.assert_called_once()
    assert "after the hop to 9.54.7000.1" in ex.action._warn.call_args.args[0]


def test_3010_with_reboot_reboots_and_verifies_after_it():
    ex = executor([REBOOT], ["9.54.7000.1", "9.54.7000.1"], reboot=True)
    done = ex.run([hop("9.54.7000.1", "9.52.6801.1")])
    assert [c[0] for c in ex.runner.calls] == ["run", "reboot", "poll"]
    assert done.steps[-1]["name"] == REBOOT_AFTER and not done.reboot_required


def test_a_run_that_leaves_another_build_fails_verification():
    ex = executor([OK], ["9.53.1.1"])
    with pytest.raises(ActionFailure) as caught:
        ex.run([hop("9.54.7000.1", "9.52.6801.1")])
    assert "reported success" in caught.value.msg and "expected 9.54.7000.1" in caught.value.msg
