# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running Unified Setup on a host: stage the package, start it detached, poll, clean up, reboot.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Shared by ``_op_install.py`` and ``_op_upgrade.py`` (and a later converged module). The shape is
ansible.windows' ``win_updates`` (ansible-windows-practice.md §1.2, §4 pain 2): one *start* call that returns
at once, short *poll* calls -- the only calls retried after a connection failure, since they only read --
under a hard timeout, and a *cleanup* call in ``finally`` that removes the secret files whatever happened.
Reboots use ansible.windows' ``reboot_host`` (the win_reboot implementation).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.utils.display import Display

from . import product
from ._action_base import WINRM_ERRORS, ActionFailure, AsrActionBase
from .install_plan import Installer
from .setup_outcome import Outcome, interpret_run
from .unified_setup import PACKAGE_EXE, SETUP_EXE, to_command_line

display = Display()

try:  # the exceptions a dropped WinRM connection surfaces as, besides AnsibleConnectionFailure
    from requests.exceptions import ConnectionError as _RequestsConnectionError
    from requests.exceptions import Timeout as _RequestsTimeout

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (_RequestsConnectionError, _RequestsTimeout)
except ImportError:  # pragma: no cover - requests comes with pywinrm
    _TRANSPORT_ERRORS = ()
# WINRM_ERRORS: after a dropped connection or a WinRM restart the host forgets its shells, and pywinrm's
# "shell not found" fault replaces the connection error (tests/reliability/test_faults.py).
RETRYABLE = (AnsibleConnectionFailure, ConnectionError, *_TRANSPORT_ERRORS, *WINRM_ERRORS)
MAX_POLL_RETRIES = 5  # consecutive failed polls before giving up (a reboot or WinRM restart takes a while)
LOG_TAIL_LINES = 40
PASSPHRASE_FILE = "passphrase.txt"
PROXY_SETTINGS_FILE = "ProxySettings.ini"


@dataclass
class SetupSettings:
    """The timing and location options every setup run shares."""

    staging_dir: str
    setup_timeout: int
    poll_interval: int
    reboot: bool = False
    reboot_timeout: int = 1200


@dataclass
class SetupRun:
    """One Unified Setup run, from start to its verdict."""

    operation: str
    package: str
    extract_dir: str
    run_dir: str
    secret_files: list[str] = field(default_factory=list)
    started: dict[str, Any] | None = None
    last_poll: dict[str, Any] | None = None
    outcome: Outcome | None = None
    polls: int = 0
    poll_retries: int = 0


def staged_path(staging_dir: str, sha256: str) -> str:
    """Where a controller package is staged: one folder per package (by SHA-256), so hops can coexist."""
    return f"{staging_dir}\\{sha256[:16]}\\{PACKAGE_EXE}"


def extract_dir_for(staging_dir: str, package: str) -> str:
    r"""``<package folder>\extracted`` for a staged package, ``<staging_dir>\extracted`` otherwise."""
    folder = package.rsplit("\\", 1)[0]
    if folder.lower().startswith(staging_dir.lower() + "\\"):
        return folder + "\\extracted"
    return staging_dir + "\\extracted"


def busy_message(operation: str, busy: dict[str, Any]) -> str:
    """Why setup_start refused: another Unified Setup is running on the host (setup is single-instance [1.3])."""
    if busy.get("run_dir"):
        who = (
            f"a Unified Setup run of this collection is still running on the host (run folder {busy['run_dir']}, "
            f"runner process id {busy.get('pid')}, started {busy.get('started')}): another play, or an earlier run "
            "whose controller was interrupted"
        )
    else:
        who = (
            "Unified Setup is already running on the host (its single-instance mutex is held), "
            "not started by this collection"
        )
    return (
        f"Unified Setup ({operation}) was not started: {who}. Nothing was changed. Wait for that run to end "
        "(C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log), then run the task again: it sees what that run did."
    )


class SetupRunner:
    """Runs the steps on the host for one task; counts remote calls on the action (``action.remote_calls``)."""

    def __init__(self, action: AsrActionBase, task_vars: dict[str, Any], settings: SetupSettings) -> None:
        self.action = action
        self.task_vars = task_vars
        self.settings = settings
        self.sleep = time.sleep
        self.clock = time.monotonic
        self.service_names: list[str] = list(product.PROCESS_SERVER_SERVICES)  # [6.3] read by every poll

    # ---- staging ---------------------------------------------------------------------------------------------
    def stage(self, installer: Installer) -> dict[str, Any]:
        """Copy a controller package to its staging path; the host verifies the SHA-256 and reads the version."""
        action = self.action
        if not (installer.local_path is not None):  # internal invariant
            raise AssertionError("installer.local_path is not None")
        tmp = action._make_tmp_path()
        action.remote_calls += 1
        try:
            remote_tmp = action._connection._shell.join_path(tmp, PACKAGE_EXE)
            action._transfer_file(installer.local_path, remote_tmp)
            action.remote_calls += 1
            facts = action.run_script(
                "setup_stage",
                self.task_vars,
                {
                    "SourcePath": remote_tmp,
                    "DestinationPath": installer.remote_path,
                    "ExpectedSha256": installer.sha256 or "",
                },
            )
        finally:
            action._remove_tmp_path(tmp)
            action.remote_calls += 1
        if installer.version is not None and facts.get("file_version"):
            from .versions import parse_version

            if parse_version(facts["file_version"], installer.option) != installer.version:
                raise ActionFailure(
                    f"{installer.option}: the staged file's version is {facts['file_version']}, not the "
                    f"{installer.version} given for it. Correct the version or the file."
                )
        return facts

    # ---- one run ---------------------------------------------------------------------------------------------
    def new_run_dir(self) -> str:
        """A fresh run folder (protected by setup_start) for one run's secret files, spec and status."""
        return f"{self.settings.staging_dir}\\run-{uuid.uuid4().hex[:12]}"

    def run(
        self,
        *,
        operation: str,
        package: str,
        expected_sha256: str | None,
        argv: list[str],
        install_location: str = "",
        secrets: dict[str, str] | None = None,
        version: str | None = None,
        configuration_server_ip: str | None = None,
        run_dir: str | None = None,
    ) -> SetupRun:
        """Start setup detached, poll it to the end (hard timeout), always clean up; return the verdict.

        ``argv`` is the full argument vector (``<extract_dir>\\UnifiedSetup.exe`` first); ``secrets`` maps a
        secret file name in the run folder (passphrase, proxy settings) to its content, sent as a SecureString.
        """
        extract_dir = argv[0].rsplit("\\", 1)[0]
        if not (argv[0].lower().endswith(SETUP_EXE.lower())):  # internal invariant
            raise AssertionError("argv[0].lower().endswith(SETUP_EXE.lower())")
        run = SetupRun(
            operation=operation,
            package=package,
            extract_dir=extract_dir,
            run_dir=run_dir or self.new_run_dir(),
        )
        secrets = secrets or {}
        parameters: dict[str, Any] = {
            "PackagePath": package,
            "ExpectedSha256": expected_sha256 or "",
            "ExtractDir": extract_dir,
            "RunDir": run.run_dir,
            "SetupArguments": to_command_line(argv[1:]),
            "InstallLocation": install_location,
        }
        sensitive: dict[str, str] = {}
        if PASSPHRASE_FILE in secrets:
            parameters["PassphraseFile"] = f"{run.run_dir}\\{PASSPHRASE_FILE}"
            sensitive["Passphrase"] = secrets[PASSPHRASE_FILE]
        if PROXY_SETTINGS_FILE in secrets:
            parameters["ProxySettingsFile"] = f"{run.run_dir}\\{PROXY_SETTINGS_FILE}"
            sensitive["ProxySettings"] = secrets[PROXY_SETTINGS_FILE]
        run.secret_files = [parameters[k] for k in ("PassphraseFile", "ProxySettingsFile") if k in parameters]
        busy = False
        try:
            # The start is NOT retried: after a lost connection nobody knows whether setup started.
            try:
                run.started = self.action.run_script("setup_start", self.task_vars, parameters, sensitive or None)
            except RETRYABLE as exc:
                raise AnsibleConnectionFailure(
                    f"The connection was lost while starting Unified Setup ({run.operation}): {exc}. Whether setup "
                    f"started is not known (run folder {run.run_dir}). Run the task again once the host answers: "
                    "it refuses while that setup run is still alive and otherwise continues from what it finds"
                ) from exc
            if run.started.get("busy"):
                busy = True
                raise ActionFailure(busy_message(run.operation, run.started["busy"]), busy=run.started["busy"])
            self._wait(run)
            run.outcome = interpret_run(
                run.last_poll or {},
                operation=operation,
                version=version,
                configuration_server_ip=configuration_server_ip,
            )
        finally:
            if not busy:  # a refused start created nothing; the running setup's extracted files must stay
                self.cleanup(run)
        return run

    def _wait(self, run: SetupRun) -> None:
        deadline = self.clock() + self.settings.setup_timeout
        while True:
            poll = self.poll(run.run_dir, run)
            state = (poll.get("run") or {}).get("state")
            if state != "running":
                return
            if self.clock() >= deadline:
                pid = (poll.get("run") or {}).get("pid")
                raise ActionFailure(
                    f"Unified Setup ({run.operation}) was still running after setup_timeout "
                    f"({self.settings.setup_timeout} s). It was left running (runner process id {pid}); its secret "
                    "files were removed. Wait for it to end (C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log) and "
                    "run the task again, or raise setup_timeout (setup usually takes 20 to 60 minutes).",
                    rc=None,
                    stdout="\n".join((poll.get("run") or {}).get("stdout_tail") or []),
                )
            display.vv(f"{self.action.fqcn}: Unified Setup ({run.operation}) still running, next poll in "
                       f"{self.settings.poll_interval} s")  # fmt: skip
            self.sleep(self.settings.poll_interval)

    def poll(self, run_dir: str, run: SetupRun | None = None) -> dict[str, Any]:
        """One read-only poll; retried (only this call) after a connection failure, up to MAX_POLL_RETRIES."""
        parameters = {
            "RunDir": run_dir,
            "ServiceNames": list(self.service_names),
            "LogTailLines": LOG_TAIL_LINES,
        }
        failures = 0
        while True:
            try:
                result = self.action.run_script("setup_poll", self.task_vars, parameters)
            except RETRYABLE as exc:
                failures += 1
                if run is not None:
                    run.poll_retries += 1
                if failures > MAX_POLL_RETRIES:
                    raise AnsibleConnectionFailure(
                        f"Polling Unified Setup failed {failures} times in a row ({exc}); setup may still be "
                        "running on the host. Check the WinRM connection and run the task again."
                    ) from exc
                display.warning(f"Connection failure when polling Unified Setup - retrying: {exc}")
                self._reset_connection()
                self.sleep(min(self.settings.poll_interval, 10) or 1)
                continue
            if run is not None:
                run.polls += 1
                run.last_poll = result
            return result

    def _reset_connection(self) -> None:
        try:
            self.action._connection.reset()
        except (AnsibleError, *RETRYABLE) as exc:  # the next poll reconnects or fails again
            display.vvv(f"{self.action.fqcn}: connection reset failed: {exc}")

    def cleanup(self, run: SetupRun) -> None:
        """Remove the secret files, the run folder and the extracted files; never hides an earlier error."""
        try:
            result = self.action.run_script(
                "setup_cleanup",
                self.task_vars,
                {"RunDir": run.run_dir, "ExtractDir": run.extract_dir, "SecretFiles": run.secret_files},
            )
        except (ActionFailure, AnsibleError, *RETRYABLE) as exc:
            self.action._warn(
                f"Could not clean up after Unified Setup ({exc}). Delete {run.run_dir} (it may hold the passphrase "
                f"or proxy settings file) and {run.extract_dir} on the host."
            )
            return
        for problem in result.get("problems") or []:
            self.action._warn(f"Cleanup after Unified Setup: {problem}")

    # ---- reboot ----------------------------------------------------------------------------------------------
    def reboot(self, why: str) -> dict[str, Any]:
        """Reboot with ansible.windows' reboot_host (win_reboot's implementation) and wait until it is back."""
        from ansible_collections.ansible.windows.plugins.plugin_utils._reboot import reboot_host

        display.vv(f"{self.action.fqcn}: rebooting: {why}")
        self.action.remote_calls += 1
        result = reboot_host(
            self.action._task.action,
            self.action._connection,
            reboot_timeout=self.settings.reboot_timeout,
            msg=f"Reboot initiated by {self.action.fqcn}: {why}",
        )
        if result.get("failed"):
            raise ActionFailure(
                f"Rebooting the host ({why}) failed: {result.get('msg')}. Check the host and run the task again.",
                reboot_result=result,
            )
        return result
