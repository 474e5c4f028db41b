# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Well-known names and paths of an ASR classic configuration/process server.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Everything here is a fact about the product that a probe script or a module needs to find or check an
installation: registry keys and values, Windows service names, the ``C:\\ProgramData\\ASR`` junction and the
``cdpcli.exe`` that registers the master target. Each constant cites its section of
``reference/asr-process-server.md``.
"""

from __future__ import annotations

# --- Registry [6.4] ---------------------------------------------------------------------------------------
# [6.4] SRC Constants.cs: the CS/PS installers are 32-bit, so their keys live under Wow6432Node.
INSTALLED_PRODUCTS_KEY = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products"
# [6.4] "...\9" is the Configuration/Process Server itself, "...\10" its Dependencies package.
CSPS_REGISTRY_KEY = INSTALLED_PRODUCTS_KEY + r"\9"
DEPENDENCIES_REGISTRY_KEY = INSTALLED_PRODUCTS_KEY + r"\10"

# Value names under CSPS_REGISTRY_KEY [6.4] (ucx_server_setup.iss, Constants.cs).
VALUE_PRODUCT_NAME = "Product_Name"  # "Caspian CX"
VALUE_INSTALL_DIRECTORY = "InstallDirectory"
VALUE_CX_TYPE = "CX_TYPE"
VALUE_BUILD_VERSION = "Build_Version"  # also under DEPENDENCIES_REGISTRY_KEY
VALUE_PROXY_TYPE = "Proxy_Type"  # "Bypass" (no proxy settings file) or "Custom" [1.3]

# [6.4] CX_TYPE: what Unified Setup installed on this machine.
CX_TYPE_CS_ONLY = 1
CX_TYPE_PS_ONLY = 2
CX_TYPE_CS_AND_PS = 3
_CX_TYPE_NAMES = {
    CX_TYPE_CS_ONLY: "configuration server only",
    CX_TYPE_PS_ONLY: "process server only",
    CX_TYPE_CS_AND_PS: "configuration server and process server",
}

# [6.4] Proxy used by setup and registration (the MARS agent keeps its own, see [6.6]).
ASR_PROXY_SETTINGS_KEY = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"

# [6.2] What Unified Setup installs on a scale-out process server (the uninstall_plan keys of each product).
PS_COMPONENTS: tuple[str, ...] = (
    "configuration_process_server",
    "configuration_process_server_dependencies",
    "mobility_service_master_target",
    "recovery_services_agent",
)

# --- Windows services [6.3] -------------------------------------------------------------------------------
# [6.3] DOC vmware-physical-azure-troubleshoot-process-server.md + SRC Constants.cs: service name -> display.
PROCESS_SERVER_SERVICES: dict[str, str] = {
    "ProcessServer": "Process Server",
    "ProcessServerMonitor": "Process Server Monitor",
    "cxprocessserver": "cxps transport",
    "InMage PushInstall": "InMage PushInstall",
    "LogUpload": "Log Upload Service",
    "InMage Scout Application Service": "InMage Scout Application Service",
    "obengine": "Microsoft Azure Recovery Services Agent",
    "svagents": "InMage Scout VX Agent - Sentinel/Outpost",
    "tmansvc": "tmansvc",
}
# [6.3] A configuration server runs these on top of the process-server services.
CONFIGURATION_SERVER_EXTRA_SERVICES: dict[str, str] = {
    "W3SVC": "World Wide Web Publishing Service",
    "MySQL": "MySQL",
    "dra": "Microsoft Azure Site Recovery Service",
}
# [6.3] SRC EvaluateOperations.cs: the services Unified Setup checks after a PS install; any one stopped
# turns a successful install into exit code 102. (LogUpload is not among them.)
SETUP_CHECKED_PS_SERVICES: tuple[str, ...] = (
    "tmansvc",
    "InMage PushInstall",
    "cxprocessserver",
    "ProcessServer",
    "ProcessServerMonitor",
    "obengine",
    "svagents",
    "InMage Scout Application Service",
)
# [6.3] StartType must be Automatic (or Automatic, delayed) for every service except obengine.
MANUAL_START_ALLOWED: frozenset[str] = frozenset({"obengine"})
# [6.3] No heartbeat from a PS: this is the service to look at first.
HEARTBEAT_SERVICE = "tmansvc"
MARS_SERVICE = "obengine"

# --- Paths [3.3, 6.5] -------------------------------------------------------------------------------------
# [3.3] SRC ucx_server_setup.iss: setup makes C:\ProgramData\ASR a junction to <InstallLocation>, so these
# paths hold whatever drive the operator installed on.
ASR_JUNCTION = r"C:\ProgramData\ASR"
SVSYSTEMS_DIR = ASR_JUNCTION + r"\home\svsystems"
AGENT_DIR = ASR_JUNCTION + r"\Agent"
# [3.3] DOC vmware-azure-manage-process-server.md: "%PROGRAMDATA%\ASR\Agent\cdpcli.exe --registermt".
CDPCLI_EXE = AGENT_DIR + r"\cdpcli.exe"
REGISTER_MT_ARGV: tuple[str, ...] = (CDPCLI_EXE, "--registermt")
# [6.5] CS/PS configuration, relative to SVSYSTEMS_DIR.
AMETHYST_CONF = SVSYSTEMS_DIR + r"\etc\amethyst.conf"
CXPS_CONF = SVSYSTEMS_DIR + r"\transport\cxps.conf"


def cx_type_name(cx_type: int | str) -> str:
    """Say in words what a ``CX_TYPE`` registry value means, e.g. ``2 -> "process server only"``.

    A probe reads the value from the registry, possibly as a string; an unknown value is reported, not
    raised, so that ``info`` can still describe a host in an unexpected state.
    """
    try:
        return _CX_TYPE_NAMES[int(cx_type)]
    except (KeyError, ValueError):
        return f"unknown (CX_TYPE={cx_type!r})"


def is_scale_out_process_server(cx_type: int | str) -> bool:
    """True when ``CX_TYPE`` says the host is a process server without a configuration server [6.4]."""
    try:
        return int(cx_type) == CX_TYPE_PS_ONLY
    except ValueError:
        return False


def svsystems_dir(install_location: str) -> str:
    r"""``<InstallLocation>\home\svsystems``, where setup puts the CS/PS files [1.3] SRC Program.cs."""
    return install_location.rstrip("\\") + r"\home\svsystems"


def agent_dir(install_location: str) -> str:
    r"""``<InstallLocation>\agent``, where the master target agent and ``cdpcli.exe`` live [1.3]."""
    return install_location.rstrip("\\") + r"\agent"
