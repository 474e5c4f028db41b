# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
r"""The Unified Setup command line: build, validate, render and read it.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Sources are the sections of ``reference/asr-process-server.md``: [1.1] extraction and examples, [1.2] the
documented parameter table, [1.3] what the installer source (SRC) actually accepts, [1.5] log files. Where the
documentation and the installer code disagree this module follows the code and says so:

* ``/x:<dir>`` extracts the package; the 2017/2018 docs (and the seed) print ``/xC:\Temp\Extracted``.
* ``/BypassProxy`` is documented but does not exist; leaving out ``/ProxySettingsFilePath`` is what makes
  setup connect directly (proxy type "Bypass").
* ``/InstallDrive`` appears in the docs' syntax line; only ``/InstallLocation`` exists.
* The docs' default data port "9433" is a typo for 9443, and the seed's ``/DataTransferSecurePort 443`` is
  silently ignored in PS mode.
* The docs call ``/PSIP`` mandatory; the code treats it as optional.

Builders return a :class:`SetupCommand` (an argv list plus warnings); :func:`to_command_line` turns an argv
into the one string Windows passes to a process. Every rule violation raises
:class:`~.errors.InvalidOption` naming the module option (``install_location``, ``env_type``, ...).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from .errors import InvalidOption

# --- Names and files [1.1, 1.5] ---------------------------------------------------------------------------
PACKAGE_EXE = "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
SETUP_EXE = "UnifiedSetup.exe"

# [1.5] SRC Constants.cs: %SystemDrive%\ProgramData\ASRSetupLogs\... (written for C: here).
ASR_SETUP_LOG_DIR = r"C:\ProgramData\ASRSetupLogs"
ASR_SETUP_LOG = ASR_SETUP_LOG_DIR + r"\ASRUnifiedSetup.log"  # main log, wizard and silent
DEPENDENCIES_INSTALL_LOG = ASR_SETUP_LOG_DIR + r"\CX_TP_InstallLogFile.log"
CSPS_INSTALL_LOG = ASR_SETUP_LOG_DIR + r"\CX_InstallLogFile.log"
AGENT_INSTALLER_LOG = ASR_SETUP_LOG_DIR + r"\ASRUnifiedAgentInstaller.log"
AGENT_CONFIGURATOR_LOG = ASR_SETUP_LOG_DIR + r"\ASRUnifiedAgentConfigurator.log"
AGENT_MSI_LOG = ASR_SETUP_LOG_DIR + r"\UnifiedAgentMSIInstall.log"
MARS_STATUS_LOG = ASR_SETUP_LOG_DIR + r"\MARSStatus.log"
MYSQL_DOWNLOAD_LOG = ASR_SETUP_LOG_DIR + r"\MySQLDownload.log"
CONFIG_MANAGER_LOG = ASR_SETUP_LOG_DIR + r"\ASRConfigurationManager.log"
INTEGRITY_CHECK_LOG = ASR_SETUP_LOG_DIR + r"\IntegrityCheck.log"
DRA_SETUP_LOG = r"C:\ProgramData\ASRLogs\DRASetupWizard.log"  # Provider, CS only
MARS_MSI_LOG = r"C:\Windows\Temp\OBMsi.log"

# --- Switch vocabulary [1.3] ------------------------------------------------------------------------------
# [1.3] SRC CommandlineParameters.cs: the full table, in the installer's own spelling. Switch names are
# matched case-insensitively after a "/" or "-" marker.
FLAG_SWITCHES = (
    "?",
    "Upgrade",
    "ShowThirdpartyEULA",
    "AcceptThirdpartyEULA",
    "SkipSpaceCheck",
    "SkipPrereqsCheck",
    "SkipTLSCheck",
    "SkipRegistration",
)
VALUE_SWITCHES = (
    "ServerMode",
    "InstallLocation",
    "MySQLCredsFilePath",
    "VaultCredsFilePath",
    "EnvType",
    "PSIP",
    "AZUREIP",
    "CSIP",
    "PassphraseFilePath",
    "SourceConfigFilePath",
    "ProxySettingsFilePath",
    "DataTransferSecurePort",
)
# Switches the docs print but the installer does not have; reading them is an error with this reason.
REFUSED_SWITCHES = {
    "BypassProxy": (
        "[1.2]/[1.3] /BypassProxy is documented but the installer has no such switch (SRC "
        "CommandlineParameters.cs); leave out the proxy settings file and setup connects directly "
        '(proxy type "Bypass").'
    ),
    "InstallDrive": ("[1.2] the docs' syntax line shows /InstallDrive but the installer only knows /InstallLocation."),
}
# Module option an operator writes for each switch the builders produce.
SWITCH_OPTIONS = {
    "InstallLocation": "install_location",
    "EnvType": "env_type",
    "CSIP": "configuration_server_ip",
    "PSIP": "process_server_ip",
    "PassphraseFilePath": "passphrase_file",
    "ProxySettingsFilePath": "proxy_settings_file",
    "DataTransferSecurePort": "data_port",
    "SkipSpaceCheck": "skip_space_check",
    "MySQLCredsFilePath": "mysql_credentials_file",
    "VaultCredsFilePath": "vault_credentials_file",
    "SkipRegistration": "skip_registration",
}

SERVER_MODES = ("PS", "CS")
ENV_TYPES = ("VMware", "NonVMware")  # [1.2] doc spelling; the installer compares case-insensitively [1.3]
DEFAULT_DATA_PORT = 9443  # [1.3] SRC SetupParameters.cs (the docs' "9433" is a typo)
CONTROL_PORT = 443  # [1.3] the CS is always reached on 443; [3.2] "do not use 443 for replication traffic"

_CANONICAL_SWITCH = {name.lower(): name for name in (*FLAG_SWITCHES, *VALUE_SWITCHES, *REFUSED_SWITCHES)}
_PATH_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')  # Windows file-name rules; ":" only after the drive
_DRIVE_PATH = re.compile(r"^[A-Za-z]:\\")


@dataclass
class SetupCommand:
    """An argument vector for ``win_command``-style execution, plus warnings for the operator."""

    argv: list[str]
    warnings: list[str] = field(default_factory=list)

    @property
    def command_line(self) -> str:
        """The argv as the single string Windows hands to the process (see :func:`to_command_line`)."""
        return to_command_line(self.argv)


# --- Value rules ------------------------------------------------------------------------------------------


def check_windows_path(option: str, value: object, *, allow_spaces: bool = True) -> str:
    r"""Check an absolute drive-letter path (``D:\`` or ``E:\Program Files (x86)\...``) and normalise it.

    Relative paths, drive-relative ``D:foo``/``D:``, UNC shares and ``.``/``..`` segments are refused: the
    installer runs as SYSTEM in an unknown current directory, and [1.3] SRC ValidationHelper.IsNonSystemDrive
    rejects ``\\`` paths. ``/`` becomes ``\``; the drive letter is upper-cased; a trailing ``\`` is kept only
    on a drive root.
    """
    allowed = r"an absolute path on a drive letter, such as D:\ or E:\Program Files (x86)\Microsoft Azure Site Recovery"
    if not isinstance(value, str) or not value:
        raise InvalidOption(option, value, allowed, "A path is required.")
    path = value.replace("/", "\\")
    if path.startswith("\\\\"):
        raise InvalidOption(option, value, allowed, "UNC and \\\\?\\ paths are not accepted by the installer.")
    if not _DRIVE_PATH.match(path):
        raise InvalidOption(option, value, allowed, "Relative and drive-relative paths depend on the current folder.")
    segments = [s for s in path[3:].split("\\") if s]
    if any(s in (".", "..") for s in segments):
        raise InvalidOption(option, value, allowed, "Write the folder without '.' or '..' segments.")
    if _PATH_FORBIDDEN.search(path[2:]):
        raise InvalidOption(option, value, allowed, 'Windows paths cannot contain < > : " | ? * or control characters.')
    if not allow_spaces and " " in path:
        raise InvalidOption(option, value, f"{allowed}, without spaces")
    return path[0].upper() + ":\\" + "\\".join(segments)


def check_install_location(value: object, system_drive: str = "C:") -> str:
    r"""Validate ``install_location``: absolute, on a drive letter, not on the system drive.

    [1.3] SRC Program.cs/ValidationHelper.IsNonSystemDrive refuses relative paths, UNC paths and the root of
    the system drive (``C:\``) but, strictly read, lets ``C:\SomeFolder`` through. This collection refuses
    the whole system drive: the process-server cache lives under the install location and [2.1]/[2.3] ask for
    a separate cache disk (600 GB free, which setup checks unless ``/SkipSpaceCheck``).
    """
    drive = _system_drive(system_drive)
    path = check_windows_path("install_location", value)
    if path[:2] == drive:
        raise InvalidOption(
            "install_location",
            value,
            f"a folder on a drive other than the system drive {drive}, such as D:\\",
            "The process-server cache lives under the install location and needs its own disk [2.1].",
        )
    return path


def _system_drive(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z]:\\?", value):
        raise InvalidOption("system_drive", value, "a drive letter with a colon, such as C:")
    return value[0].upper() + ":"


def check_ipv4(option: str, value: object) -> str:
    """Validate a NIC address for ``/CSIP`` or ``/PSIP``: a unicast IPv4 address in dotted-quad form.

    [1.3] SRC ValidationHelper.ValidateIPAddress accepts only a dotted quad without leading zeros (Python's
    ``ipaddress`` has the same rule), and [2.3] ASR classic needs a static IPv4 address, so IPv6 is refused.
    Addresses that cannot belong to a NIC (0.0.0.0, loopback, multicast, broadcast) are refused as well.
    """
    allowed = "a unicast IPv4 address in dotted-quad form, such as 10.150.24.119"
    try:
        address = ipaddress.IPv4Address(value) if isinstance(value, str) else None
    except ValueError:
        address = None
    if address is None:
        why = "IPv6 is not supported by ASR classic [2.3]." if isinstance(value, str) and ":" in value else ""
        raise InvalidOption(option, value, allowed, why)
    if address.is_unspecified or address.is_loopback or address.is_multicast or address == _BROADCAST:
        raise InvalidOption(option, value, allowed, "That address cannot be a network card's address.")
    return str(address)


_BROADCAST = ipaddress.IPv4Address("255.255.255.255")


def check_optional_ipv4(option: str, value: object) -> str | None:
    """:func:`check_ipv4` for an option that may be left out (``None``: not given)."""
    return None if value is None else check_ipv4(option, value)


def check_staging_dir(value: object) -> str:
    """``staging_dir``, the host folder packages are staged and extracted in, without its trailing backslash.

    No spaces: the self-extractor's ``/x:`` folder is made under it (see :func:`build_extract`).
    """
    return check_windows_path("staging_dir", value, allow_spaces=False).rstrip("\\")


ENV_TYPES_ALLOWED = "VMware or NonVMware, in any capitalisation (Microsoft's examples write VMWare, NonVMWare)"


def canonical_env_type(value: object, option: str = "env_type") -> str:
    """Canonical ``/EnvType``: ``VMware`` or ``NonVMware`` from any capitalisation [1.2, 1.3].

    Microsoft spells the value three ways: the parameter table [1.2] ``VMware``/``NonVMware``, the installer's
    usage string and the documented command lines [1.1, 1.3] ``VMWare``/``NonVMWare``. The installer (SRC
    Program.cs) upper-cases the value before comparing it with ``VMWARE``/``NONVMWARE``, so every spelling
    means the same to it. We normalise to the parameter table's spelling because that is what this
    collection's documentation, results and inventories have always shown: a playbook that switches from
    ``VMware`` to ``VMWare`` sees no change. ``VMware`` also makes setup require VMware Tools on the machine,
    so a physical or non-VMware virtual PS must say ``NonVMware``. ``option`` is the name an error shows
    (a playbook variable such as ``asr_env_type``).
    """
    if isinstance(value, str):
        for canonical in ENV_TYPES:
            if value.strip().lower() == canonical.lower():
                return canonical
    empty = value is None or (isinstance(value, str) and not value.strip())
    raise InvalidOption(option, value, ENV_TYPES_ALLOWED, "The value is empty." if empty else "")


def canonical_server_mode(value: object) -> str:
    """Canonical ``/ServerMode``: ``PS`` or ``CS`` (SRC Program.cs upper-cases it) [1.3]."""
    if isinstance(value, str) and value.upper() in SERVER_MODES:
        return value.upper()
    raise InvalidOption("server_mode", value, "PS (scale-out process server) or CS (configuration server)")


def check_data_port(value: object) -> int:
    """Validate ``data_port`` (``/DataTransferSecurePort``): 1-65535, never 443, default 9443.

    [1.3] SRC Program.cs refuses 443 in CS mode and silently ignores it in PS mode (9443 stays), so this API
    refuses it in both: 443 is the control channel every PS and agent uses to reach the CS.
    """
    allowed = f"an integer from 1 to 65535 other than {CONTROL_PORT} (default {DEFAULT_DATA_PORT})"
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidOption("data_port", value, allowed)
    if value == CONTROL_PORT:
        raise InvalidOption(
            "data_port",
            value,
            allowed,
            "443 is the control channel to the configuration server [2.1, 3.2]; the installer refuses it for a "
            "CS and ignores it for a PS, keeping 9443.",
        )
    return value


def check_vault_credentials_file(value: object) -> str:
    """A ``.VaultCredentials`` file (SRC ValidationHelper.ValidateVaultCredsFilePath checks the extension)."""
    path = check_windows_path("vault_credentials_file", value)
    if not path.lower().endswith(".vaultcredentials"):
        raise InvalidOption("vault_credentials_file", value, "a path ending in .VaultCredentials")
    return path


# --- Builders [1.1, 1.3] ----------------------------------------------------------------------------------


def build_extract(package: str, extract_dir: str) -> SetupCommand:
    r"""``MicrosoftAzureSiteRecoveryUnifiedSetup.exe /q /x:<dir>`` [1.1].

    The 2017/2018 docs (and the seed) print ``/xC:\Temp\Extracted`` without the colon; the 2019 docs and
    Microsoft's own InstallPS.ps1 use ``/x:``. The folder must not contain spaces: how the self-extractor reads
    a quoted ``"/x:C:\a b"`` is not confirmed.
    """
    package_path = check_windows_path("package", package)
    if not package_path.lower().endswith(".exe"):
        raise InvalidOption("package", package, f"the path of {PACKAGE_EXE}")
    folder = check_windows_path("extract_dir", extract_dir, allow_spaces=False)
    return SetupCommand([package_path, "/q", f"/x:{folder}"])


def build_ps_install(
    *,
    extract_dir: str,
    install_location: str,
    env_type: str,
    configuration_server_ip: str,
    passphrase_file: str,
    process_server_ip: str | None = None,
    proxy_settings_file: str | None = None,
    data_port: int = DEFAULT_DATA_PORT,
    skip_space_check: bool = False,
    system_drive: str = "C:",
) -> SetupCommand:
    """Fresh install of a scale-out process server (``/ServerMode PS``) [1.3].

    Mandatory per SRC Program.cs: ``/AcceptThirdpartyEULA``, ``/ServerMode``, ``/InstallLocation``,
    ``/EnvType``, ``/CSIP``, ``/PassphraseFilePath``. The data port is always written out so the command says
    which port the PS will listen on.
    """
    pairs: list[tuple[str, str | None]] = [
        ("AcceptThirdpartyEULA", None),
        ("ServerMode", "PS"),
        *_common_install_pairs(install_location, env_type, system_drive),
        ("CSIP", check_ipv4("configuration_server_ip", configuration_server_ip)),
        *_optional_ip_pair(process_server_ip),
        ("PassphraseFilePath", check_windows_path("passphrase_file", passphrase_file)),
        *_tail_pairs(proxy_settings_file, data_port, skip_space_check),
    ]
    return SetupCommand(_argv(extract_dir, pairs))


def build_cs_install(
    *,
    extract_dir: str,
    install_location: str,
    env_type: str,
    mysql_credentials_file: str,
    vault_credentials_file: str | None = None,
    skip_registration: bool = False,
    process_server_ip: str | None = None,
    proxy_settings_file: str | None = None,
    data_port: int = DEFAULT_DATA_PORT,
    skip_space_check: bool = False,
    system_drive: str = "C:",
) -> SetupCommand:
    """Fresh install of a configuration server with its in-built PS (``/ServerMode CS``) [1.3].

    Mandatory per SRC Program.cs: ``/InstallLocation``, ``/MySQLCredsFilePath``, ``/EnvType`` and
    ``/VaultCredsFilePath`` unless ``/SkipRegistration`` (register the vault later).
    """
    if vault_credentials_file is None and not skip_registration:
        raise InvalidOption(
            "vault_credentials_file",
            None,
            "the path of the vault's .VaultCredentials file, or skip_registration=true",
            "A configuration server registers with the vault during setup [1.3].",
        )
    vault: list[tuple[str, str | None]] = []
    if vault_credentials_file is not None:
        vault.append(("VaultCredsFilePath", check_vault_credentials_file(vault_credentials_file)))
    pairs: list[tuple[str, str | None]] = [
        ("AcceptThirdpartyEULA", None),
        ("ServerMode", "CS"),
        *_common_install_pairs(install_location, env_type, system_drive),
        ("MySQLCredsFilePath", check_windows_path("mysql_credentials_file", mysql_credentials_file)),
        *vault,
        *([("SkipRegistration", None)] if skip_registration else []),
        *_optional_ip_pair(process_server_ip),
        *_tail_pairs(proxy_settings_file, data_port, skip_space_check),
    ]
    return SetupCommand(_argv(extract_dir, pairs))


def build_upgrade(*, extract_dir: str, server_mode: str = "PS", accept_third_party_eula: bool = False) -> SetupCommand:
    """Silent upgrade of whatever Unified Setup finds installed: ``UnifiedSetup.exe /Upgrade`` [1.3, 4].

    SRC Program.cs refuses ``/Upgrade`` with other switches; a CS that still has MySQL 5.5 also needs
    ``/AcceptThirdpartyEULA`` (the third-party EULA is MySQL's, which a process server does not have).
    """
    mode = canonical_server_mode(server_mode)
    if accept_third_party_eula and mode == "PS":
        raise InvalidOption(
            "accept_third_party_eula",
            accept_third_party_eula,
            "false for a process server (true only for a configuration server)",
            "A process server upgrade takes /Upgrade alone; the third-party EULA covers MySQL on the CS.",
        )
    pairs: list[tuple[str, str | None]] = [("Upgrade", None)]
    if accept_third_party_eula:
        pairs.append(("AcceptThirdpartyEULA", None))
    return SetupCommand(_argv(extract_dir, pairs))


def _common_install_pairs(location: str, environment: str, system_drive: str) -> list[tuple[str, str | None]]:
    return [
        ("InstallLocation", check_install_location(location, system_drive)),
        ("EnvType", canonical_env_type(environment)),
    ]


def _optional_ip_pair(process_server_ip: str | None) -> list[tuple[str, str | None]]:
    # [1.3] SRC: /PSIP is optional (the docs say mandatory); without it setup picks the NIC itself.
    if process_server_ip is None:
        return []
    return [("PSIP", check_ipv4("process_server_ip", process_server_ip))]


def _tail_pairs(proxy_file: str | None, port: int, skip_space: bool) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    if proxy_file is not None:
        # [1.3] With a proxy settings file the proxy type is "Custom"; without it, "Bypass" (direct).
        pairs.append(("ProxySettingsFilePath", check_windows_path("proxy_settings_file", proxy_file)))
    pairs.append(("DataTransferSecurePort", str(check_data_port(port))))
    if skip_space:
        pairs.append(("SkipSpaceCheck", None))
    return pairs


def _argv(extract_dir: str, pairs: list[tuple[str, str | None]]) -> list[str]:
    argv = [check_windows_path("extract_dir", extract_dir).rstrip("\\") + "\\" + SETUP_EXE]
    for switch, value in pairs:
        argv.append("/" + switch)
        if value is not None:
            argv.append(value)
    return argv


# --- Windows command-line quoting -------------------------------------------------------------------------


def to_command_line(argv: list[str]) -> str:
    r"""Join an argv into one Windows command line that CommandLineToArgvW splits back into the same argv.

    Rules (Microsoft C runtime / CommandLineToArgvW, which .NET's GetCommandLineArgs follows): an argument
    with a space, tab, newline or ``"`` (or an empty one) is quoted; backslashes are literal except before a
    ``"``, where 2n backslashes + ``"`` mean n backslashes and a quote delimiter, and 2n+1 mean n backslashes
    and a literal ``"``. So a quoted path that ends in ``\`` must end in ``\\"``.

    This is why the seed's ``/InstallLocation "D:\"`` is broken when typed at cmd.exe: ``\"`` is a literal
    quote, and the argument runs on into ``/EnvType ...``. It works from PowerShell only because PowerShell
    reads ``"D:\"`` as the string ``D:\`` and passes it unquoted. Here ``D:\`` needs no quotes, and
    ``E:\Program Files (x86)\ASR\`` becomes ``"E:\Program Files (x86)\ASR\\"``.
    """
    return " ".join(_quote(arg) for arg in argv)


def _quote(arg: str) -> str:
    if arg and not re.search(r'[ \t\n\v"]', arg):
        return arg
    out = ['"']
    backslashes = 0
    for char in arg:
        if char == "\\":
            backslashes += 1
            continue
        if char == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + char)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def split_command_line(cmdline: str) -> list[str]:
    """Split a Windows command line the way CommandLineToArgvW does (inverse of :func:`to_command_line`).

    The first token is the program name and is read without backslash rules, as Windows does.
    """
    program, rest = _split_program(cmdline.lstrip(" \t"))
    args: list[str] = [program] if program is not None else []
    i, current, in_quotes, have_arg = 0, [], False, False
    while i < len(rest):
        char = rest[i]
        if char == "\\":
            run = len(rest[i:]) - len(rest[i:].lstrip("\\"))
            i += run
            if i < len(rest) and rest[i] == '"':
                current.append("\\" * (run // 2))
                if run % 2:
                    current.append('"')
                    i += 1
                have_arg = True
                continue
            current.append("\\" * run)
            have_arg = True
            continue
        if char == '"':
            if in_quotes and rest[i + 1 : i + 2] == '"':  # "" inside quotes: a literal quote
                current.append('"')
                i += 2
                continue
            in_quotes = not in_quotes
            have_arg = True
        elif char in " \t" and not in_quotes:
            if have_arg:
                args.append("".join(current))
            current, have_arg = [], False
        else:
            current.append(char)
            have_arg = True
        i += 1
    if have_arg:
        args.append("".join(current))
    return args


def _split_program(cmdline: str) -> tuple[str | None, str]:
    if not cmdline or cmdline[0] in "/-":  # no program name: the line starts with a switch
        return None, cmdline
    if cmdline[0] == '"':
        end = cmdline.find('"', 1)
        end = len(cmdline) if end < 0 else end
        return cmdline[1:end], cmdline[end + 1 :]
    # CommandLineToArgvW: an unquoted program name ends at the first space or tab.
    end = next((i for i, ch in enumerate(cmdline) if ch in " \t"), len(cmdline))
    return cmdline[:end], cmdline[end:]


# --- Reading a documented command line (the seed) ---------------------------------------------------------


@dataclass
class SeedCommand:
    """A command line as written in the docs, read back into canonical switches and module options.

    ``switches`` maps the installer's own switch spelling to the value written (canonical case for
    ``ServerMode`` and ``EnvType``; ``True`` for flags). ``options`` holds the keyword arguments for
    :func:`build_ps_install` / :func:`build_cs_install` (minus ``extract_dir``), leaving out what the
    installer would ignore. ``warnings`` tells the operator what the line does not do as written.
    """

    server_mode: str
    switches: dict[str, str | bool]
    options: dict[str, object]
    warnings: list[str]


def from_seed_command(cmdline: str) -> SeedCommand:
    r"""Read a documented ``UNIFIEDSETUP.EXE /servermode "PS" ...`` line, switches case-insensitively.

    Quotes are read as the doc's author meant them (PowerShell's reading: a quoted value runs to the matching
    quote, backslashes are literal), so ``"D:\"`` is ``D:\``. When cmd.exe/CommandLineToArgvW would split the
    same line differently a warning says so.
    """
    tokens = _split_as_written(cmdline)
    if tokens and not tokens[0].startswith(("/", "-")):
        tokens = tokens[1:]  # the program name
    switches = _read_switches(tokens)
    mode = canonical_server_mode(switches.get("ServerMode"))
    switches["ServerMode"] = mode
    if "EnvType" in switches:
        switches["EnvType"] = canonical_env_type(switches["EnvType"])
    warnings = _cmd_exe_warning(cmdline)
    options = _options_from_switches(switches, mode, warnings)
    return SeedCommand(mode, switches, options, warnings)


_WRITTEN_TOKEN = re.compile(r"""(?:"[^"]*"|'[^']*'|[^\s"'])+""")


def _split_as_written(cmdline: str) -> list[str]:
    if _WRITTEN_TOKEN.sub("", cmdline).strip():
        raise InvalidOption("command_line", cmdline, "a command line whose quotes are balanced")
    tokens = _WRITTEN_TOKEN.findall(cmdline)
    return [re.sub(r""""([^"]*)"|'([^']*)'""", lambda m: m.group(1) or m.group(2) or "", t) for t in tokens]


def _read_switches(tokens: list[str]) -> dict[str, str | bool]:
    # [1.3] SRC CommandlineParameters.cs: "/" or "-" marker, case-insensitive names, each switch once,
    # and a value that itself starts with a marker counts as missing.
    switches: dict[str, str | bool] = {}
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name = _CANONICAL_SWITCH.get(token[1:].lower()) if token[:1] in ("/", "-") else None
        if name is None:
            raise InvalidOption("command_line", token, "the switches in UnifiedSetup.exe's usage text [1.3]")
        if name in REFUSED_SWITCHES:
            raise InvalidOption(
                "command_line", token, "the switches in UnifiedSetup.exe's usage text [1.3]", REFUSED_SWITCHES[name]
            )
        if name in switches:
            raise InvalidOption("command_line", token, "each switch once", "SRC: 'Argument already set'.")
        if name in FLAG_SWITCHES:
            switches[name] = True
            i += 1
            continue
        if i + 1 >= len(tokens) or tokens[i + 1][:1] in ("/", "-"):
            raise InvalidOption("command_line", token, f"/{name} followed by its value")
        switches[name] = tokens[i + 1]
        i += 2
    return switches


def _options_from_switches(switches: dict[str, str | bool], mode: str, warnings: list[str]) -> dict[str, object]:
    options: dict[str, object] = {}
    for switch, value in switches.items():
        if switch in ("ServerMode", "AcceptThirdpartyEULA"):
            continue  # every install command the builders make carries these
        if switch not in SWITCH_OPTIONS:
            raise InvalidOption("command_line", f"/{switch}", "switches this collection builds: " + _supported())
        option = SWITCH_OPTIONS[switch]
        if switch == "DataTransferSecurePort":
            port = _port_text(str(value))
            if port == CONTROL_PORT and mode == "PS":
                warnings.append(_IGNORED_443)
                continue
            value = port
        options[option] = value
    return options


_IGNORED_443 = (
    f"/DataTransferSecurePort {CONTROL_PORT} is ignored by the installer in PS mode (SRC Program.cs [1.3]): the "
    f"process server keeps listening on {DEFAULT_DATA_PORT} for replication data, and {CONTROL_PORT} stays the "
    f"control channel. The built command passes /DataTransferSecurePort {DEFAULT_DATA_PORT}."
)


def _port_text(text: str) -> int:
    if not re.fullmatch(r"[0-9]{1,5}", text):
        raise InvalidOption("data_port", text, f"an integer from 1 to 65535 other than {CONTROL_PORT}")
    return int(text)


def _supported() -> str:
    return ", ".join("/" + s for s in ("ServerMode", "AcceptThirdpartyEULA", *SWITCH_OPTIONS))


def _cmd_exe_warning(cmdline: str) -> list[str]:
    if split_command_line(cmdline) == _split_as_written(cmdline):
        return []
    return [
        "Typed at cmd.exe this line would not reach the installer as written: CommandLineToArgvW treats a "
        'backslash before a closing quote (as in "D:\\") as a literal quote and does not group single quotes, '
        "so switches run together. This collection renders the argument list with Windows quoting instead."
    ]
