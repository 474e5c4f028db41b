# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
r"""Running Unified Setup on a host: transfer the package, start it detached, poll, clean up, reboot.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Shared by ``_op_install.py`` and ``_op_upgrade.py`` (and the converged ``process_server`` module). The shape is
ansible.windows' ``win_updates`` (ansible-windows-practice.md §1.2, §4 pain 2): one *start* call that returns
at once, short *poll* calls -- the only calls retried after a connection failure, since they only read --
under a hard timeout, and a *cleanup* call in ``finally`` that removes the secret files whatever happened.
Reboots use ``reboot_host`` (:mod:`reboot`: the collection's copy of win_reboot's implementation).

Remote calls of a run after the module's probe (a fresh install with a controller package is 5 in all):

1. ``put_file`` (the connection's own transfer, one call): the package goes straight into the host's
   ``$env:SystemRoot\Temp`` -- a folder the probe reported, that exists on every host, since put_file cannot
   create one -- under a per-package name (:func:`upload_name`). No ``mkdtemp``, no copy module, no temp-folder
   cleanup. Skipped when the probe saw the package (same SHA-256) there or at its staging path, and for
   ``installer_remote_path``. A package from ``installer_url`` or a UNC ``installer_remote_path`` is fetched by the
   host instead (``package_stage``, :mod:`_op_stage`: one call that starts the transfer, polls while it runs);
2. ``setup_start``: moves the transferred package to its per-SHA-256 staging folder (:func:`staged_path`, so the
   hops of an N-4 upgrade coexist), refuses a package whose SHA-256 (or version) differs, extracts it, writes the
   secret files and starts setup detached;
3. ``setup_poll`` until setup ends (the only retried call);
4. ``setup_cleanup``: removes the secret files (in ``finally``) and, when the caller asks (``post_probe``), runs
   the probe script in the same call and returns its result as the host's state after setup, so the converged
   module needs no separate final probe.

Only when neither the controller nor the task knows the package's version does one more read (the probe) learn it
after the transfer, before anything is decided.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from ansible.errors import AnsibleConnectionFailure, AnsibleError
from ansible.utils.display import Display

from ..domain import product
from ..domain.install_plan import Installer, needs_staging, staged_facts
from ..domain.probe import ProbedHost, ProbeRequest, read_probe
from ..domain.setup_outcome import Outcome, interpret_run
from ..domain.unified_setup import PACKAGE_EXE, SETUP_EXE, to_command_line
from ..powershell.loader import load_script
from .action_base import WINRM_ERRORS, ActionFailure, AsrActionBase
from .probe import probe_host
from .reboot import reboot_host

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
    stop_on_timeout: bool = False  # stop_setup_on_timeout: stop the runner's process tree on a hard timeout


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
    polls: int = 0
    poll_retries: int = 0


def staged_path(staging_dir: str, sha256: str) -> str:
    """Where a controller package is staged: one folder per package (by SHA-256), so hops can coexist."""
    return f"{staging_dir}\\{sha256[:16]}\\{PACKAGE_EXE}"


def upload_name(sha256: str) -> str:
    """The file name a controller package is transferred under into the host's temporary folder (per package)."""
    return f"asr-{sha256[:16]}-{PACKAGE_EXE}"


def upload_name_for(installers: list[Installer]) -> str | None:
    """The probe's ``InstallerUploadName``: the first controller package's (the probe also reports the folder)."""
    for each in installers:
        if each.local_path is not None and each.sha256:
            return upload_name(each.sha256)
    return None


def upload_path(folder: str, sha256: str) -> str:
    r"""``<folder>\asr-<sha16>-MicrosoftAzureSiteRecoveryUnifiedSetup.exe``: where put_file writes the package."""
    return f"{folder.rstrip(chr(92))}\\{upload_name(sha256)}"


def extract_dir_for(staging_dir: str, package: str) -> str:
    r"""``<package folder>\extracted`` for a staged package, ``<staging_dir>\extracted`` otherwise."""
    folder = package.rsplit("\\", 1)[0]
    if folder.lower().startswith(staging_dir.lower() + "\\"):
        return folder + "\\extracted"
    return staging_dir + "\\extracted"


def stop_runner_hint(pid: Any) -> str:
    """How to stop a setup that hangs (a message box nobody sees in session 0): its whole process tree."""
    if not pid:
        return ""
    return (
        f"If it hangs (its log stopped growing), set stop_setup_on_timeout: true to have the task stop it, or stop "
        f"the runner's whole process tree yourself: on the host, as an administrator, taskkill /PID {pid} /T /F; then "
        "run the task again, which continues from what is installed."
    )


def stopped_message(stop: dict[str, Any]) -> str:
    """What setup_stop did (stop_setup_on_timeout), for the timeout failure's message."""
    stopped = ", ".join(f"{p.get('name')} ({p.get('pid')})" for p in stop.get("stopped") or [])
    left = "; ".join(f"{p.get('name')} ({p.get('pid')}): {p.get('why')}" for p in stop.get("not_stopped") or [])
    if stop.get("state") == "stopped":
        text = f"It was stopped (stop_setup_on_timeout): {stopped or 'no process'}."
        if left:
            text += f" Not stopped: {left}."
        return text + " Run the task again: it continues from what is installed."
    if stop.get("state") == "unverified":
        return (
            f"It was NOT stopped: the runner (process id {stop.get('runner_pid')}) could not be told from a later "
            "process with the same id (no start time to compare). " + stop_runner_hint(stop.get("runner_pid"))
        )
    return "It ended by itself before it could be stopped; run the task again, which sees what it did."


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


def put_package(action: AsrActionBase, local: str, remote: str) -> None:
    """The connection's put_file of a package: one remote call, the file written straight at ``remote``."""
    action.remote_calls += 1
    action.script_calls.append("put_file")
    display.vv(f"{action.fqcn}: transferring {local} to {remote}")
    try:
        action._connection.put_file(local, remote)
    except RETRYABLE as exc:
        raise AnsibleConnectionFailure(
            f"The connection was lost while transferring the Unified Setup package to {remote}: {exc}. Run the "
            "task again once the host answers (a package that arrived complete is not sent again)."
        ) from exc
    except AnsibleError as exc:
        raise ActionFailure(
            f"Transferring the Unified Setup package {local} to {remote} on the host failed: {exc}. Check the "
            "free space of the host's system drive and run the task again."
        ) from exc


def reset_connection(action: AsrActionBase) -> None:
    """After a lost connection: a new one for the next call (or the next call fails again)."""
    try:
        action._connection.reset()
    except (AnsibleError, *RETRYABLE) as exc:
        display.vvv(f"{action.fqcn}: connection reset failed: {exc}")


def host_after_setup(
    action: AsrActionBase,
    task_vars: dict[str, Any],
    read: ProbedHost | None,
    after_probe: ProbeRequest | None,
    expected: ProbedHost,
) -> ProbedHost:
    """The host once setup ran, for the operations after it.

    READ again when the caller asks (``after_probe``), not derived from setup's result: setup's own MARS-proxy and
    registration steps can fail on their own (exit 113/115 [1.4]) and the last poll does not read the MARS proxy
    back, so only the host can say what the next operations must do. The cleanup call ran that probe after removing
    the secret files (``read``); one separate probe only when it could not (a reboot after setup, or the read
    failed). Check mode, or no ``after_probe``: ``expected``, what setup leaves by its contract.
    """
    if action.check_mode or after_probe is None:
        return expected
    return read if read is not None else probe_host(action, task_vars, after_probe)


class SetupRunner:
    """Runs the steps on the host for one task; counts remote calls on the action (``action.remote_calls``)."""

    def __init__(
        self,
        action: AsrActionBase,
        task_vars: dict[str, Any],
        settings: SetupSettings,
        host: ProbedHost | None = None,
        post_probe: ProbeRequest | None = None,
    ) -> None:
        """``host``: the module's probe (where packages are, the transfer folder), updated with what staging learns;
        ``post_probe``: what to probe in the cleanup call (``post_state``), or None for no read."""
        self.action = action
        self.task_vars = task_vars
        self.settings = settings
        self.host = host
        self.post_probe = post_probe
        self.post_state: ProbedHost | None = None  # the probe read by the last cleanup (None after a reboot)
        self.sleep = time.sleep
        self.clock = time.monotonic
        self.service_names: list[str] = list(product.PROCESS_SERVER_SERVICES)  # [6.3] read by every poll
        self.transfer: dict[str, Any] | None = None  # the host's last package transfer (URL or share), as reported

    # ---- staging ---------------------------------------------------------------------------------------------
    @property
    def upload_folder(self) -> str | None:
        """The host's temporary folder the probe reported (``checks.installer_upload``), where put_file writes."""
        facts = (self.host.installer_upload if self.host is not None else None) or {}
        if facts.get("folder") and facts.get("folder_exists", True):
            return str(facts["folder"])
        return None

    def source_for(self, package: str, sha256: str | None) -> str | None:
        """Where a controller package is transferred to (setup_start moves it from there); None for other packages."""
        folder = self.upload_folder
        if not sha256 or folder is None or package.lower() != staged_path(self.settings.staging_dir, sha256).lower():
            return None
        return upload_path(folder, sha256)

    def stage(self, installer: Installer) -> dict[str, Any]:
        """Transfer a controller package with put_file (one call) unless the probe saw it on the host already.

        setup_start verifies its SHA-256 (and version) and moves it to its staging path. Returns the package's
        facts; when its version is known neither on the controller nor from the task, one read (the probe) reads
        it from the file on the host. ``host`` then knows the staged package (``installer``).
        """
        facts = self._stage(installer)
        if self.host is not None:
            self.host = replace(self.host, installer=facts)
        return facts

    def _stage(self, installer: Installer) -> dict[str, Any]:
        if installer.source is not None:
            return self.fetch(installer)
        if installer.local_path is None or not installer.sha256:  # internal invariant
            raise AssertionError("stage() takes a controller package with its SHA-256")
        if self.host is None or needs_staging(self.host, installer):
            source = self.source_for(installer.remote_path, installer.sha256)
            if source is None:
                raise ActionFailure(
                    f"{installer.option}: the probe reported no existing temporary folder on the host "
                    f"($env:SystemRoot\\Temp) to transfer the package to. Create it, or copy the package to the host "
                    "and give its path in installer_remote_path."
                )
            self._put(installer.local_path, source)
        if installer.version is None:
            return self.read_installer(installer)
        version = str(installer.version)
        return {
            "path": installer.remote_path,
            "exists": True,
            "sha256": installer.sha256,
            "file_version": version,
            "product_version": version,
        }

    def _put(self, local: str, remote: str) -> None:
        put_package(self.action, local, remote)

    def fetch(self, installer: Installer) -> dict[str, Any]:
        """A URL or share package: the host transfers it (package_stage, detached, resumable), polled every
        ``poll_interval`` up to ``setup_timeout``; the staged file's facts (SHA-256 checked on the host)."""
        from .stage import PackageStager

        stager = PackageStager(self.action, self.task_vars, self.settings.poll_interval, self.settings.setup_timeout)
        stager.sleep = self.sleep
        stager.clock = self.clock
        result = stager.ensure(installer, wait=True)
        self.transfer = result.get("transfer")
        return dict(result.get("package") or {})

    def read_installer(self, installer: Installer) -> dict[str, Any]:
        """One read (the probe's installer checks) of a package on the host: its facts, version included."""
        raw = self.action.run_script(
            "probe",
            self.task_vars,
            ProbeRequest(
                installer_path=installer.remote_path,
                installer_upload_name=upload_name(installer.sha256) if installer.sha256 else None,
            ).script_parameters(),
        )
        read = read_probe(raw)
        if self.host is not None:
            self.host = replace(self.host, installer=read.installer, installer_upload=read.installer_upload)
        return staged_facts(read, installer)

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
    ) -> tuple[SetupRun, Outcome]:
        """Start setup detached, poll it to the end (hard timeout), always clean up; the run and its verdict.

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
            # a controller package not yet moved from where put_file wrote it (setup_start moves it when it is there)
            "SourcePath": self.source_for(package, expected_sha256) or "",
            "ExpectedSha256": expected_sha256 or "",
            "ExpectedVersion": version or "",
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
            outcome = interpret_run(
                run.last_poll or {},
                operation=operation,
                version=version,
                configuration_server_ip=configuration_server_ip,
            )
        finally:
            if not busy:  # a refused start created nothing; the running setup's extracted files must stay
                self.cleanup(run)
        return run, outcome

    def _wait(self, run: SetupRun) -> None:
        deadline = self.clock() + self.settings.setup_timeout
        while True:
            poll = self.poll(run.run_dir, run)
            state = (poll.get("run") or {}).get("state")
            if state != "running":
                return
            if self.clock() >= deadline:
                raise self._timed_out(run, poll)
            display.vv(f"{self.action.fqcn}: Unified Setup ({run.operation}) still running, next poll in "
                       f"{self.settings.poll_interval} s")  # fmt: skip
            self.sleep(self.settings.poll_interval)

    def _timed_out(self, run: SetupRun, poll: dict[str, Any]) -> ActionFailure:
        """The hard timeout's failure; with stop_setup_on_timeout the runner's process tree is stopped first."""
        pid = (poll.get("run") or {}).get("pid")
        stdout = "\n".join((poll.get("run") or {}).get("stdout_tail") or [])
        limit = self.settings.setup_timeout
        head = f"Unified Setup ({run.operation}) was still running after setup_timeout ({limit} s)."
        if not self.settings.stop_on_timeout:
            return ActionFailure(
                f"{head} It was left running (runner process id {pid}); its secret files were removed. Wait for it to "
                "end (C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log) and run the task again, or raise "
                "setup_timeout (setup usually takes 20 to 60 minutes). " + stop_runner_hint(pid),
                rc=None,
                stdout=stdout,
            )
        # setup_stop checks the runner's process id AND start time before it stops anything (ids are reused)
        try:
            stop = self.action.run_script("setup_stop", self.task_vars, {"RunDir": run.run_dir})
        except (ActionFailure, AnsibleError, *RETRYABLE) as exc:
            return ActionFailure(
                f"{head} Stopping it (stop_setup_on_timeout) failed: {exc}. " + stop_runner_hint(pid),
                rc=None,
                stdout=stdout,
            )
        return ActionFailure(
            f"{head} {stopped_message(stop)}", rc=None, stdout=stdout, stopped_processes=stop.get("stopped") or []
        )

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
        reset_connection(self.action)

    def cleanup(self, run: SetupRun) -> None:
        """Remove the secret files, the run folder and the extracted files; never hides an earlier error.

        With ``post_probe`` the same call runs the probe script afterwards (``post_state``): the verification read
        a separate final probe made before.
        """
        parameters: dict[str, Any] = {
            "RunDir": run.run_dir,
            "ExtractDir": run.extract_dir,
            "SecretFiles": run.secret_files,
        }
        if self.post_probe is not None:
            parameters["ProbeScript"] = load_script("probe").text
            parameters["ProbeParameters"] = self.post_probe.script_parameters()
        self.post_state = None
        try:
            result = self.action.run_script("setup_cleanup", self.task_vars, parameters)
        except (ActionFailure, AnsibleError, *RETRYABLE) as exc:
            self.action._warn(
                f"Could not clean up after Unified Setup ({exc}). Delete {run.run_dir} (it may hold the passphrase "
                f"or proxy settings file) and {run.extract_dir} on the host."
            )
            return
        for problem in result.get("problems") or []:
            self.action._warn(f"Cleanup after Unified Setup: {problem}")
        if isinstance(result.get("post_state"), dict):
            self.post_state = read_probe(result["post_state"])
        elif self.post_probe is not None:  # the caller probes separately instead
            display.vv(f"{self.action.fqcn}: no state read by the cleanup call: {result.get('post_state_error')}")

    # ---- reboot ----------------------------------------------------------------------------------------------
    def reboot(self, why: str) -> dict[str, Any]:
        """Reboot with reboot_host (win_reboot's implementation, :mod:`reboot`) and wait until it is back."""
        display.vv(f"{self.action.fqcn}: rebooting: {why}")
        self.post_state = None  # read before the reboot: no longer the host's state
        self.action.remote_calls += 1
        self.action.script_calls.append("reboot")
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
