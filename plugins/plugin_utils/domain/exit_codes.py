# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Unified Setup exit code means, and what the operator should do about it.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

[1.4] The codes are not documented by Microsoft; they come from the enum ``SetupReturnValues`` in SRC
``host/ASRSetup/SetupFramework/SetupHelper.cs`` and how ``WrapperSetup/Program.cs`` returns them. In the table
``changed`` means "the host may have been modified": a failure after components were installed still leaves
them behind, which an Ansible task should report.
"""

from __future__ import annotations

from dataclasses import dataclass

from .product import CDPCLI_EXE, MARS_SERVICE, SETUP_CHECKED_PS_SERVICES
from .unified_setup import (
    ASR_SETUP_LOG,
    CONFIG_MANAGER_LOG,
    CSPS_INSTALL_LOG,
    DEPENDENCIES_INSTALL_LOG,
    DRA_SETUP_LOG,
    MARS_MSI_LOG,
    MARS_STATUS_LOG,
)


@dataclass(frozen=True)
class ExitCodeInfo:
    """One exit code of ``UnifiedSetup.exe`` and its consequences for a task."""

    code: int
    name: str
    meaning: str
    success: bool
    changed: bool
    reboot_required: bool
    remediation: str


def _entry(code: int, name: str, meaning: str, *, success: bool, changed: bool, remediation: str) -> ExitCodeInfo:
    return ExitCodeInfo(code, name, meaning, success, changed, False, remediation)


_READ_MAIN_LOG = f"Read {ASR_SETUP_LOG} for the reason."

EXIT_CODES: dict[int, ExitCodeInfo] = {
    info.code: info
    for info in (
        _entry(0, "Successful", "Setup finished.", success=True, changed=True, remediation="Nothing to do."),
        _entry(
            1,
            "Failed",
            "Setup failed (also: .NET Framework 4.6.2+ missing, TLS 1.0 check failed, or another setup running).",
            success=False,
            changed=True,
            remediation=f"{_READ_MAIN_LOG} Component logs: {DEPENDENCIES_INSTALL_LOG}, {CSPS_INSTALL_LOG}.",
        ),
        _entry(
            2,
            "InvalidCommandLine",
            "A switch or its value was refused, or all components are installed and /Upgrade was not passed.",
            success=False,
            changed=False,
            remediation=f"{_READ_MAIN_LOG} Check install_location (exists, NTFS, 600 GB free), the passphrase "
            "and the configuration server IP; use the upgrade module when the product is already installed.",
        ),
        _entry(
            4,
            "PrerequisiteChecksFailed",
            "A prerequisite check failed before anything was installed.",
            success=False,
            changed=False,
            remediation=f"{_READ_MAIN_LOG} Fix the failed prerequisite (OS, IIS/port 443, time sync, roles, "
            "group policies) and run again.",
        ),
        _entry(
            101,
            "DRAInstallationFailed",
            "The Azure Site Recovery Provider (configuration server only) did not install.",
            success=False,
            changed=True,
            remediation=f"Read {DRA_SETUP_LOG} and {ASR_SETUP_LOG}.",
        ),
        _entry(
            102,
            "ServicesAreNotRunning",
            "Installation finished but the post-install service check failed.",
            success=False,
            changed=True,
            remediation="Start and check these services (StartType Automatic): "
            + ", ".join(SETUP_CHECKED_PS_SERVICES)
            + f"; then read {ASR_SETUP_LOG}.",
        ),
        _entry(
            103,
            "VaultRegistrationFailed",
            "The configuration server could not register with the Recovery Services vault.",
            success=False,
            changed=True,
            remediation="Download fresh vault credentials (they expire), check the proxy and Azure URLs, "
            f"and read {DRA_SETUP_LOG}.",
        ),
        _entry(
            111,
            "MARSAgentInstallationFailed",
            "The Microsoft Azure Recovery Services agent did not install.",
            success=False,
            changed=True,
            remediation=f"Read {MARS_MSI_LOG} and {MARS_STATUS_LOG}.",
        ),
        _entry(
            112,
            "ContainerRegistrationFailed",
            "The MARS agent could not register its container with the vault.",
            success=False,
            changed=True,
            remediation=f"Check the proxy and Azure URLs and read {MARS_STATUS_LOG}.",
        ),
        _entry(
            113,
            "MTContainerRegistrationFailed",
            f"The master target registration ({CDPCLI_EXE} --registermt) failed.",
            success=False,
            changed=True,
            remediation="Check the passphrase and that the configuration server is reachable on 443, then "
            f"re-run the registration ({CDPCLI_EXE} --registermt and restart {MARS_SERVICE}: the "
            "asr.process_server.registration module).",
        ),
        _entry(
            115,
            "MARSAgentProxyIsNotSet",
            "Setup could not apply the custom proxy to the MARS agent.",
            success=False,
            changed=True,
            remediation="Check the proxy settings (proxy_address, proxy_port, credentials), set them on the MARS "
            f"agent (Set-OBMachineSetting, then restart {MARS_SERVICE}: the proxy module) and read {ASR_SETUP_LOG}.",
        ),
        _entry(
            116,
            "ConfigManagerInstallationFailed",
            "Azure Site Recovery Configuration Manager (OVF configuration server) did not install.",
            success=False,
            changed=True,
            remediation=f"Read {CONFIG_MANAGER_LOG} and {ASR_SETUP_LOG}.",
        ),
        _entry(
            201,
            "ProductIsAlreadyInstalled",
            "The same version is already installed.",
            success=True,
            changed=False,
            remediation="Nothing to do; run the upgrade module with a newer installer to upgrade.",
        ),
        _entry(
            203,
            "UpgradeNotSupported",
            "The installed version is too old to upgrade to this installer directly (the N-4 rule) [4].",
            success=False,
            changed=False,
            remediation="Upgrade in hops of at most 4 minor versions (e.g. 9.16 -> 9.20 -> 9.24), "
            "configuration server first, then process servers.",
        ),
    )
}
EXIT_CODES[3010] = ExitCodeInfo(
    3010,
    "SuccessfulNeedReboot",
    "Setup finished; a reboot completes it.",
    success=True,
    changed=True,
    reboot_required=True,
    remediation="Reboot the server to complete setup.",
)


def interpret(rc: int) -> ExitCodeInfo:
    """Look up a ``UnifiedSetup.exe`` exit code; an unknown one is a failure entry that says so.

    [1.4] Codes 14-62 come from the inner CX Inno Setup installer's ``ExitProcess`` calls and are not mapped
    by Unified Setup; MSI codes such as 1603 or 1641 are not Unified Setup results either.
    """
    if rc in EXIT_CODES:
        return EXIT_CODES[rc]
    return ExitCodeInfo(
        rc,
        "Unknown",
        f"Exit code {rc} is not one of Unified Setup's result codes "
        "(14-62 would come from the inner CX Inno Setup installer).",
        success=False,
        changed=True,
        reboot_required=False,
        remediation=f"{_READ_MAIN_LOG} Also read {CSPS_INSTALL_LOG} and {DEPENDENCIES_INSTALL_LOG}.",
    )
