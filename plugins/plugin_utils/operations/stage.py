# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
r"""Stage the Unified Setup package on a host: at ``<staging_dir>\<sha16>\``, its SHA-256 checked there.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

One script, ``package_stage`` (``powershell/package_stage.ps1``), does it for every source
(:mod:`package_source`): it reports a package already staged, moves a controller transfer into place, or starts
(resumes) the host's own download or share copy, detached, and reports its progress. It changes nothing of the
product, so a fleet rollout stages every host before the canary (``process_server`` with ``state: staged``), and
install/upgrade stage through it when the package comes from a URL or a share.

Remote calls: a package already staged costs one call; a URL or share transfer one call to start it (it returns at
once) and one per ``poll_interval`` until it has ended; a controller package (state
``staged`` only: install/upgrade keep their own put_file path) one call, the put_file, and one to check and move it.
``package_stage`` never starts a second transfer while one runs, so a call lost with the connection is repeated.
"""

from __future__ import annotations

import time
from typing import Any

from ansible.errors import AnsibleConnectionFailure

from ..domain import package_source
from ..domain.install_plan import Installer
from .action_base import ActionFailure, AsrActionBase
from .setup import MAX_POLL_RETRIES, RETRYABLE, put_package, reset_connection, upload_name

WAIT_SECONDS = 0  # a package_stage call returns at once; the caller looks again (poll_interval, or the play's until)
MAX_ATTEMPTS = 5  # the runner's attempts (each resuming from what arrived) before it reports a failure
STAGED = "staged"
RUNNING = "running"
FAILED = "failed"

SHARE_ACCESS_HELP = (
    "The account the task runs as must be able to read the share: with become (SYSTEM, as the playbooks run) that is "
    "the host's computer account (DOMAIN\\HOST$): grant Domain Computers (or the process servers' computer accounts) "
    "read access on the share and the file. Without become, a WinRM logon (NTLM, or Kerberos without delegation) "
    "cannot pass its credentials on to the file server (the double hop): use become, or CredSSP or Kerberos "
    "constrained delegation to that server."
)


def parameters_for(installer: Installer, kind: str, wait_s: int = 0) -> tuple[dict[str, Any], dict[str, str]]:
    """``package_stage``'s parameters and its sensitive ones (the URL, as a SecureString) for ``installer``."""
    if not installer.sha256:  # internal invariant: every staged package is named and checked by its SHA-256
        raise AssertionError("a staged package has a SHA-256")
    parameters: dict[str, Any] = {
        "PackagePath": installer.remote_path,
        "ExpectedSha256": installer.sha256,
        "SourceKind": kind,
        "SourceShown": installer.shown,
        "WaitSeconds": wait_s,
        "MaxAttempts": MAX_ATTEMPTS,
    }
    sensitive: dict[str, str] = {}
    source = installer.source
    if kind == package_source.URL and source is not None:
        sensitive["Url"] = source.location
    elif kind == package_source.SHARE and source is not None:
        parameters["SourcePath"] = source.location
    elif kind == "upload":
        parameters["SourcePath"] = upload_name(installer.sha256)
    return parameters, sensitive


def failure_message(installer: Installer, transfer: dict[str, Any] | None) -> str:
    """Why the host's transfer failed, and what to do."""
    transfer = transfer or {}
    error = str(transfer.get("error") or "no error recorded")
    attempts = transfer.get("attempts")
    what = f"Staging the Unified Setup package from {installer.shown} on the host failed"
    if attempts:
        what += f" after {attempts} attempt(s)"
    lowered = error.lower()
    if "sha-256" in lowered:
        todo = (
            "The source holds another file than installer_checksum says: correct installer_checksum or the file on "
            "the server. The wrong download was deleted; nothing was staged."
        )
    elif "denied" in lowered or "(401)" in lowered or "(403)" in lowered:
        todo = (
            SHARE_ACCESS_HELP
            if installer.source is not None and installer.source.kind == package_source.SHARE
            else "The server refused the download: check the URL's token (an Azure SAS expires) and the server's "
            "access rules."
        )
    elif "(404)" in lowered or "could not find" in lowered:
        todo = f"The file is not at {installer.shown}: check {installer.option}, or publish the package there."
    elif "network path" in lowered:
        todo = (
            "The host cannot reach the file server: check its name resolution, the firewall (SMB, TCP 445) and "
            "that the share exists. " + SHARE_ACCESS_HELP
        )
    else:
        todo = (
            "Run the task again: the transfer resumes from what arrived. Check that the host reaches the server "
            "(its proxy settings apply to a download)."
        )
    return f"{what}: {error}. {todo}"


class PackageStager:
    """``package_stage`` calls for one task (counted on the action like every remote call)."""

    def __init__(self, action: AsrActionBase, task_vars: dict[str, Any], poll_interval: int, timeout: int) -> None:
        self.action = action
        self.task_vars = task_vars
        self.poll_interval = poll_interval
        self.timeout = timeout
        self.sleep = time.sleep
        self.clock = time.monotonic
        self.calls = 0
        self.changed = False  # a call moved, removed or started something, or the package was sent

    def call(self, installer: Installer, kind: str, wait_s: int = 0) -> dict[str, Any]:
        """One ``package_stage`` call; repeated after a lost connection (it never starts a second transfer)."""
        parameters, sensitive = parameters_for(installer, kind, wait_s)
        failures = 0
        while True:
            try:
                self.calls += 1
                result = self.action.run_script("package_stage", self.task_vars, parameters, sensitive or None)
                self.changed = self.changed or bool(result.get("changed"))
                return result
            except RETRYABLE as exc:
                failures += 1
                if failures > MAX_POLL_RETRIES:
                    raise AnsibleConnectionFailure(
                        f"Staging the Unified Setup package failed {failures} times in a row on the connection "
                        f"({exc}); a transfer the host started goes on. Run the task again once the host answers."
                    ) from exc
                reset_connection(self.action)
                self.sleep(min(self.poll_interval, 10) or 1)

    def ensure(self, installer: Installer, *, wait: bool) -> dict[str, Any]:
        """The package staged (``wait``: until it is, or fails, or the timeout), or its transfer started/advanced.

        Returns ``package_stage``'s result (``state``, ``package``, ``transfer``); raises :class:`ActionFailure` for a
        failed transfer.
        """
        if installer.source is None:
            return self._from_controller(installer)
        kind = installer.source.kind
        result = self.call(installer, kind, WAIT_SECONDS)
        deadline = self.clock() + self.timeout
        while wait and result.get("state") == RUNNING and not self.action.check_mode:
            if self.clock() >= deadline:
                done = (result.get("transfer") or {}).get("bytes_done")
                raise ActionFailure(
                    f"The Unified Setup package from {installer.shown} was still being transferred after "
                    f"{self.timeout} s (setup_timeout; {done} bytes so far). The transfer goes on on the host; run the "
                    "task again to pick it up, or raise setup_timeout.",
                    transfer=result.get("transfer"),
                )
            self.sleep(self.poll_interval)
            result = self.call(installer, kind, WAIT_SECONDS)
        if result.get("state") == FAILED:
            raise ActionFailure(failure_message(installer, result.get("transfer")), transfer=result.get("transfer"))
        return result

    def _from_controller(self, installer: Installer) -> dict[str, Any]:
        """A controller package: staged already, else put_file into the host's temporary folder, checked, moved."""
        if installer.local_path is None:  # internal invariant: only transferred packages are staged
            raise AssertionError("a staged package comes from the controller, a URL or a share")
        result = self.call(installer, "upload")
        if result.get("state") == STAGED or self.action.check_mode:
            return result  # in check mode: what would happen, nothing sent
        target = result.get("upload_path")
        if not target:
            raise ActionFailure("package_stage reported no temporary folder to transfer the package to.")
        put_package(self.action, installer.local_path, str(target))
        self.changed = True
        result = self.call(installer, "upload")
        if result.get("state") != STAGED:
            raise ActionFailure(
                f"The Unified Setup package {installer.local_path} arrived on the host different from the controller's "
                f"file ({result.get('note')}); it was deleted. Check the host's free space and run the task again.",
                package=result.get("package"),
            )
        return result
