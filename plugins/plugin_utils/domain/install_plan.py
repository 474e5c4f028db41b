# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what installing a scale-out process server takes, from ONE probe result: ordered steps or nothing.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Pure Python (no Ansible, no I/O) so that a converged ``process_server`` module can reach any state from one
shared probe: the plans read that probe's :class:`~.probe.ProbedHost` (``powershell/probe.ps1``, read once by
:func:`~.probe.read_probe`); :func:`plan_install` returns a :class:`Plan` whose ``steps`` the executor
(``operations/install.py``) runs in order and check mode reports as they are. A preflight failure is a ``Plan``
with ``failure`` set: nothing has changed.

Rules and their sources (``reference/asr-process-server.md``):

* [2.1] classic process servers run on Windows Server 2012 R2 or 2016 (2019/2022 are for the modernized
  appliance only);
* [1.3] ``/InstallLocation`` is on a fixed NTFS drive other than the system drive, with 600 GB free unless
  ``/SkipSpaceCheck``; the passphrase is validated live against the configuration server on 443;
* [3.1, 4] a process server is never newer than its configuration server; an installed older build is
  upgraded with ``/Upgrade`` (the upgrade module), never reinstalled; an older installer does not downgrade;
* ansible-windows-practice.md §4: installers over a WinRM network logon fail with Access Denied -> the task
  must use become (SYSTEM); a pending reboot is cleared first (``reboot: true``) or refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import product, registration_plan, unified_setup
from .errors import InvalidOption
from .package_source import PackageSource
from .probe import DOTNET_RELEASES, ProbedHost, dotnet_version, version_or_none
from .versions import Version

REQUIRED_FREE_GB = 600  # [1.3] SRC ValidationHelper.cs (unless /SkipSpaceCheck)
# [2.1] Windows Server 2012 R2 (6.3) and 2016 (10.0.14393) for a classic configuration/process server.
SUPPORTED_OS = {"6.3": "Windows Server 2012 R2", "10.0.14393": "Windows Server 2016"}
DOTNET_462_RELEASE = DOTNET_RELEASES["4.6.2"]  # [1.3] Unified Setup needs .NET Framework 4.6.2 or later
PS_COMPONENTS = product.PS_COMPONENTS

# Step names, in the order they can occur. Check mode reports exactly these.
REBOOT_BEFORE = "reboot (a reboot was pending before setup)"
STAGE = "stage installer"
RUN_INSTALL = "run Unified Setup (install)"
RUN_UPGRADE = "run Unified Setup /Upgrade"
CLEANUP = "clean up staged secrets and extracted files"
REBOOT_AFTER = "reboot (setup exit code 3010)"

BECOME_HINT = "become: true, become_method: runas, become_user: SYSTEM"


@dataclass
class Installer:
    """One Unified Setup package: where it is (or will be) on the host and what the controller knows of it.

    ``local_path`` is set when the controller copies it (``installer``); ``source`` when the host fetches it itself
    (``installer_url``, a UNC ``installer_remote_path``: :mod:`package_source`); ``remote_path`` is its path on the
    host (the staging path, or a local ``installer_remote_path``). ``version`` is known before any remote call when
    read from the file's version resource or given by the operator; ``sha256`` is the expected checksum.
    """

    remote_path: str
    local_path: str | None = None
    version: Version | None = None
    sha256: str | None = None
    option: str = "installer"
    source: PackageSource | None = None

    @property
    def transferred(self) -> bool:
        """The package reaches its staging path by a transfer (the controller's or the host's own), not in place."""
        return self.local_path is not None or self.source is not None

    @property
    def shown(self) -> str:
        """Where the package comes from, as messages may say it (a URL without its token)."""
        if self.source is not None:
            return self.source.shown
        return self.local_path or self.remote_path


@dataclass
class Plan:
    """Ordered steps (empty = nothing to do), or a preflight ``failure``; warnings and versions for results."""

    steps: list[str] = field(default_factory=list)
    failure: str | None = None
    warnings: list[str] = field(default_factory=list)
    reason: str = ""
    version_before: str | None = None
    version_after: str | None = None
    installer_version: str | None = None
    version_known: bool = True
    hops: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.steps)


@dataclass
class InstallRequest:
    """The install module's desired state (already validated option by option)."""

    configuration_server_ip: str
    install_location: str
    installer: Installer
    skip_space_check: bool = False
    configuration_server_version: Version | None = None
    reboot: bool = False
    passphrase_file: str | None = None  # /PassphraseFilePath on the host (None: the module writes one from passphrase)


# ---- shared preflight pieces -------------------------------------------------------------------------------
def check_privilege(state: ProbedHost) -> str | None:
    """Refuse a session that cannot run installers ([§4 pain 1]); None when fine or unknown (older probe)."""
    identity = state.identity
    if not identity:
        return None
    if not identity.get("elevated"):
        return (
            f"The connection user {identity.get('name')} is not an elevated local administrator; Unified Setup "
            f"needs one. Connect as a local administrator, or run the task with {BECOME_HINT}."
        )
    if identity.get("network_logon") and not identity.get("is_system"):
        return (
            f"The task runs as {identity.get('name')} over a WinRM network logon, where Unified Setup's "
            "installers fail with Access Denied (no credential delegation, no DPAPI). Run the task with "
            f"{BECOME_HINT} (documented in the module's examples)."
        )
    return None


def check_dotnet_framework(state: ProbedHost) -> str | None:
    """[1.3] Unified Setup needs .NET Framework 4.6.2 or later; without it setup shows a message box that nobody sees
    in the WinRM session (session 0) and never ends. None when it is there, or when the probe could not tell."""
    release = state.dotnet_release
    if release is None or release >= DOTNET_462_RELEASE:
        return None
    found = dotnet_version(release) or "older than 4.5"
    return (
        f"The host has .NET Framework {found} (release {release}); Unified "
        "Setup needs 4.6.2 or later [1.3] and, without it, waits for an answer to a message box nobody can see. "
        "Install .NET Framework 4.6.2 or later (4.8 is the current one), reboot, then run the task again."
    )


def check_os(state: ProbedHost) -> str | None:
    """[2.1] Windows Server 2012 R2 or 2016."""
    version = state.os_version
    if any(version == key or version.startswith(key + ".") for key in SUPPORTED_OS):
        return None
    supported = ", ".join(f"{name} ({key})" for key, name in SUPPORTED_OS.items())
    return (
        f"The host runs {state.os_caption or 'Windows'} {version}; a classic scale-out process server is "
        f"supported on {supported} only [2.1] (2019/2022 are for the modernized replication appliance)."
    )


def check_installer_file(state: ProbedHost, installer: Installer) -> str | None:
    """An ``installer_remote_path`` must exist on the host (and match ``installer_checksum``)."""
    facts = state.installer or {}
    if installer.transferred:
        return None
    if not facts.get("exists"):
        return (
            f"{installer.option}: {installer.remote_path} does not exist on the host. Copy the Unified Setup "
            "package there first, or give its controller path in 'installer'."
        )
    if installer.sha256 and (facts.get("sha256") or "").lower() != installer.sha256.lower():
        return (
            f"installer_checksum: {installer.remote_path} on the host has SHA-256 {facts.get('sha256')}, expected "
            f"{installer.sha256}. Download the package again or correct installer_checksum."
        )
    return None


PASSPHRASE_FILE_NAMES = "passphrase_file (asr_passphrase_file in the playbooks)"
PASSPHRASE_FILE_FIX = (
    "Put the configuration server's passphrase in it on one line (on the configuration server: genpassphrase.exe -v "
    "[3.2]), or give it in passphrase instead (asr_passphrase, from Ansible Vault): the module then writes it to a "
    "file only SYSTEM and Administrators can read, for the duration of setup, and removes it."
)


def _profile_note(facts: dict[str, Any]) -> str:
    if not facts.get("under_user_profile"):
        return ""
    return (
        f" It is under a user profile ({facts.get('profiles_directory')}), which is per-user: SYSTEM (become) or "
        "another administrator may not see or read it."
    )


def check_passphrase_file(state: ProbedHost, path: str | None) -> str | None:
    """``/PassphraseFilePath`` [1.2, 1.3]: the file exists, setup's session can read it, ONE non-empty line.

    Setup reads the passphrase from it and validates it against the configuration server [1.3]; a file it cannot
    use makes setup fail after the package transfer, so it is refused before any change. The probe reports only
    facts about the file (``checks.passphrase_file``), never its text; None when no file is used or not checked.
    """
    facts = state.passphrase_file
    if path is None or facts is None:
        return None
    where = f"{PASSPHRASE_FILE_NAMES}: {path}"
    if not facts.get("exists"):
        problem = "does not exist on the host (or the session that runs setup cannot see it)"
    elif not facts.get("readable"):
        problem = f"cannot be read by the session that runs setup ({facts.get('error') or 'access denied'})"
    elif not facts.get("non_empty_lines"):
        problem = "is empty"
    elif facts["non_empty_lines"] > 1:
        problem = f"holds {facts['non_empty_lines']} non-empty lines; setup reads the passphrase from one line"
    else:
        return None
    return f"{where} {problem}, so Unified Setup would fail [1.3].{_profile_note(facts)} {PASSPHRASE_FILE_FIX}"


def passphrase_file_warning(state: ProbedHost, path: str | None) -> str | None:
    """A usable passphrase file under a user profile: why that is fragile, and the better way."""
    facts = state.passphrase_file or {}
    if path is None or not facts.get("under_user_profile"):
        return None
    return (
        f"{PASSPHRASE_FILE_NAMES}: {path} is under a user profile ({facts.get('profiles_directory')}). Profiles are "
        "per-user, so SYSTEM (the become user) or a new administrator may not be able to read it, and it leaves the "
        "configuration server's passphrase in a file on that user's desktop or documents. Prefer passphrase from "
        "Ansible Vault (asr_passphrase): the module writes it to a file only SYSTEM and Administrators can read, for "
        "the duration of setup, and removes it."
    )


def _same_package(facts: dict[str, Any] | None, installer: Installer) -> bool:
    facts = facts or {}
    expected = (installer.sha256 or "").lower()
    return bool(facts.get("exists")) and bool(expected) and (facts.get("sha256") or "").lower() == expected


def needs_staging(state: ProbedHost, installer: Installer) -> bool:
    """A controller file is copied unless the probe saw it with the same SHA-256 at its staging path, or where an
    earlier transfer left it (the host's temporary folder, before setup_start moved it); a URL or share package is
    fetched by the host unless the probe saw it staged."""
    if installer.source is not None:
        return not _same_package(state.installer, installer)
    if installer.local_path is None:
        return False
    return not (_same_package(state.installer, installer) or _same_package(state.installer_upload, installer))


def staged_facts(state: ProbedHost, installer: Installer) -> dict[str, Any]:
    """The probe's facts of the package as it is on the host: at its staging path, else where it was transferred."""
    transferred = installer.local_path is not None and not _same_package(state.installer, installer)  # put_file
    if transferred and _same_package(state.installer_upload, installer):
        return dict(state.installer_upload or {})
    return dict(state.installer or {})


def installer_version(state: ProbedHost, installer: Installer) -> Version | None:
    """Known on the controller, else the version the probe read from the file on the host, else None."""
    if installer.version is not None:
        return installer.version
    facts = staged_facts(state, installer)
    if facts.get("exists") and not needs_staging(state, installer):
        return version_or_none(facts.get("file_version") or facts.get("product_version"))
    return None


def check_configuration_server_version(
    version: Version | None, configuration_server_version: Version | None, option: str = "installer"
) -> str | None:
    """[3.1] PS <= CS."""
    if version is None or configuration_server_version is None or version <= configuration_server_version:
        return None
    return (
        f"{option}: version {version} is newer than the configuration server's {configuration_server_version} "
        "(configuration_server_version). A process server must not be newer than its configuration server: "
        "upgrade the configuration server first, or use the installer last used on it [3.1]."
    )


def check_configuration_server_reachable(state: ProbedHost, cs_ip: str) -> str | None:
    """[1.3] setup validates the passphrase live against CSIP:443."""
    check = state.cs_check
    if check is None or check.get("reachable"):
        return None
    return (
        f"The host cannot reach the configuration server {cs_ip} on port {unified_setup.CONTROL_PORT} "
        f"({check.get('error') or 'no connection'}); setup validates the passphrase there [1.3]. Open TCP "
        f"{unified_setup.CONTROL_PORT} from the process server to the configuration server (firewall, routing, "
        "proxy) and run again."
    )


def check_pending_reboot(state: ProbedHost, reboot: bool) -> tuple[list[str], str | None]:
    """A pending reboot: reboot first with ``reboot: true``, else refuse before setup runs."""
    if not state.pending_reboot:
        return [], None
    if reboot:
        return [REBOOT_BEFORE], None
    reasons = ", ".join(state.pending_reasons) or "a pending reboot"
    return [], (
        f"A reboot is pending on the host ({reasons}); setup run now may fail or leave the install half "
        "done. Reboot first (ansible.windows.win_reboot), or set reboot: true to let this module reboot before "
        "and after setup."
    )


# ---- install -------------------------------------------------------------------------------------------------
def _check_install_location(state: ProbedHost, location: str, skip_space_check: bool) -> str | None:
    try:
        path = unified_setup.check_install_location(location, state.system_drive)
    except InvalidOption as exc:
        return str(exc)
    drive = path[:2].upper()
    volume = state.volumes.get(drive)
    if volume is None:
        return (
            f"install_location: {location} is on {drive}, which is not a fixed (local) drive of the host; "
            f"setup needs a fixed NTFS drive [1.3]. Fixed drives: {', '.join(sorted(state.volumes)) or 'none'}."
        )
    if str(volume.get("filesystem") or "").upper() != "NTFS":
        return f"install_location: {drive} is formatted {volume.get('filesystem')}; setup needs NTFS [1.3]."
    if not skip_space_check and float(volume.get("free_gb") or 0) < REQUIRED_FREE_GB:
        return (
            f"install_location: {drive} has {volume.get('free_gb')} GB free; setup needs {REQUIRED_FREE_GB} GB for "
            "the process server cache [1.3, 2.1]. Free space or use a bigger disk, or set skip_space_check: true "
            "(setup's /SkipSpaceCheck) for a lab or a small load."
        )
    return None


def plan_install(state: ProbedHost, request: InstallRequest) -> Plan:
    """Steps that install and register a scale-out process server, or nothing to do, or a preflight failure."""
    version = installer_version(state, request.installer)
    plan = Plan(
        version_before=str(state.version) if state.version else None,
        installer_version=str(version) if version else None,
        version_known=version is not None,
    )
    if state.cx_type in (1, 3):
        plan.failure = (
            "The host is a configuration server (CX_TYPE "
            f"{state.cx_type}); asr.process_server.install adds scale-out process servers only."
        )
        return plan
    failure = check_configuration_server_version(version, request.configuration_server_version)
    if failure:
        plan.failure = failure
        return plan
    if state.complete and state.version is not None:
        return _installed(state, request, plan, version)
    # Not installed (or a previous run left it half installed: setup installs what is missing [1.3]).
    for failure in (
        check_os(state),
        check_dotnet_framework(state),
        _check_install_location(state, request.install_location, request.skip_space_check),
        check_installer_file(state, request.installer),
        check_passphrase_file(state, request.passphrase_file),
        check_configuration_server_reachable(state, request.configuration_server_ip),
        check_privilege(state),
    ):
        if failure:
            plan.failure = failure
            return plan
    warning = passphrase_file_warning(state, request.passphrase_file)
    if warning:
        plan.warnings.append(warning)
    reboot_steps, failure = check_pending_reboot(state, request.reboot)
    if failure:
        plan.failure = failure
        return plan
    if state.csps_installed or any(state.components.values()):
        plan.warnings.append(
            "Some Azure Site Recovery components are already installed (a previous run stopped part way); "
            "setup installs the missing ones."
        )
    plan.steps = [*reboot_steps, *([STAGE] if needs_staging(state, request.installer) else []), RUN_INSTALL, CLEANUP]
    plan.version_after = str(version) if version else None
    plan.reason = "the process server is not installed"
    return plan


def _installed(state: ProbedHost, request: InstallRequest, plan: Plan, version: Version | None) -> Plan:
    installed = state.version
    if not (installed is not None):  # internal invariant
        raise AssertionError("installed is not None")
    registered = state.registered_cs_ip
    if registered and registered != request.configuration_server_ip:
        plan.failure = f"Installed at {installed}. " + registration_plan.foreign_configuration_server_message(
            registered, request.configuration_server_ip
        )
        return plan
    plan.version_after = str(installed)
    if version is None:
        # The installer's version is read on the host once it is staged; decide then (executor re-plans).
        plan.steps = [STAGE]
        plan.reason = "the installer's version is only known once it is staged on the host"
        return plan
    if version == installed:
        plan.reason = f"the process server is installed at the installer's version {installed}"
    elif version > installed:
        plan.failure = (
            f"The process server is installed at {installed}, older than the installer ({version}). Use "
            "asr.process_server.upgrade to bring it to the installer's version (setup's /Upgrade [4]); install "
            "never reinstalls over an existing process server."
        )
    else:
        plan.reason = f"the process server is installed at {installed}, newer than the installer ({version})"
        plan.warnings.append(
            f"The installer ({version}) is older than the installed process server ({installed}); nothing was done "
            "(setup does not downgrade [4])."
        )
    return plan
