"""The Unified Setup package and ``UnifiedSetup.exe`` (install, upgrade), with start/poll for detached runs.

* ``MicrosoftAzureSiteRecoveryUnifiedSetup.exe /q /x:<dir>`` extracts Unified Setup into ``<dir>`` ([1.1]).
  The lab's package file is a small text marker carrying the product version (``package_bytes``); the
  extracted ``UnifiedSetup.exe`` carries the same version.
* ``UnifiedSetup.exe <switches>`` validates its command line exactly as [1.3] (SRC Program.cs,
  ValidationHelper.cs) and [8] (proxy file) describe and then installs, in PS mode, Dependencies ->
  Configuration/Process Server -> Master Target (+ configuration) -> MARS -> ``cdpcli --registermt`` -> MARS proxy
  ([1.3]); exits with the [1.4] codes; writes the [1.5] logs.
* ``/Upgrade`` ([4], [1.3]) upgrades what is installed, keeping its configuration.

Run it synchronously with ``lab.programs.run`` or detached with ``start_setup``/``poll_setup`` (the fault
``installer_seconds`` makes a detached run stay "running" for N seconds of the host clock).

Run as a script to create a package file for the controller side::

    python -m lab.asr.installer package --version 9.55.7123.1 --out /tmp/MicrosoftAzureSiteRecoveryUnifiedSetup.exe
"""

from __future__ import annotations

import argparse
import dataclasses
import ipaddress
import pathlib
import re
import secrets
import sys
import time
from typing import Any

from lab import programs
from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import mars, products, versions
from lab.asr.cdpcli import cxps_data_port, read_conf, register_mt
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host

PACKAGE_NAME = "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
PACKAGE_KIND = "UNIFIED-SETUP"
SETUP_KIND = "UNIFIEDSETUP-EXE"
# What the package extracts. [1.1] UnifiedSetup.exe; the component installers' file names are LAB-CHOSEN after the
# SRC sources that build them ([1.3] ActionProcessess.cs, [6.1] ucx_server_setup.iss / cx_thirdparty_setup.iss).
EXTRACTED = {
    "UnifiedSetup.exe": SETUP_KIND,
    "cx_thirdparty_setup.exe": "INNO-DEPENDENCIES",
    "ucx_server_setup.exe": "INNO-CSPS",
    "UnifiedAgent.msi": "MSI-MOBILITY-SERVICE",
    "MARSAgentInstaller.exe": "MARS-INSTALLER",
    "SetMarsProxy.exe": "SETMARSPROXY",  # [6.6] SRC SetMarsProxy
}

SWITCHES = {
    "acceptthirdpartyeula",
    "showthirdpartyeula",
    "skipspacecheck",
    "upgrade",
    "skipprereqscheck",
    "skiptlscheck",
    "skipregistration",
}
VALUED = {
    "servermode",
    "installlocation",
    "mysqlcredsfilepath",
    "vaultcredsfilepath",
    "envtype",
    "psip",
    "csip",
    "passphrasefilepath",
    "proxysettingsfilepath",
    "datatransfersecureport",
    "azureip",
    "sourceconfigfilepath",
}
REQUIRED_SPACE_GB = 600  # [1.3] SRC ValidationHelper.cs


def package_bytes(version: str, size: int = 0) -> bytes:
    """The lab's ``MicrosoftAzureSiteRecoveryUnifiedSetup.exe`` for ``version`` (e.g. ``9.55.7123.1``).

    ``size``: pad the marker to that many bytes (lines of ``#``) so a test or a benchmark moves a package of a real
    size; LAB-CHOSEN, the extractor reads only the marker's first lines."""
    versions.parse(version)
    data = products.marker(PACKAGE_KIND, version).encode("ascii")
    if size > len(data):
        line = b"#" * 1023 + b"\n"
        padding = (line * (size // len(line) + 1))[: size - len(data)]
        data += padding
    return data


# ---- the extractor ([1.1]) ------------------------------------------------------------------------------
@executable(PACKAGE_NAME.lower(), marker="ASR-LAB-" + PACKAGE_KIND)
def extract_package(inv: Invocation) -> ProcessResult:
    host = inv.host
    version = products.marker_version(host.read_bytes(inv.exe_path), PACKAGE_KIND)
    if version is None:
        return ProcessResult(programs.BAD_EXE_RC, "", f"{inv.exe_path} is not a valid Win32 application.\r\n")
    quiet = any(a.lower() == "/q" for a in inv.args)
    target = None
    for arg in inv.args:
        if arg.lower().startswith("/x:"):
            target = arg[3:]
        elif arg.lower().startswith("/x") and arg.lower() != "/x":
            # [1.1] [DISCREPANCY] 2017/2018 docs print `/xC:\Temp\Extracted` (no colon); the current doc and
            # Microsoft's own InstallPS.ps1 use `/x:`. The lab accepts only `/x:<dir>` so that a caller relying on
            # the undocumented form is caught; LAB-CHOSEN behaviour: nothing extracted, rc 1.
            return ProcessResult(1, "", f"Invalid switch {arg}: use /x:<folder> to extract.\r\n")
    if not quiet or not target:
        # Without /q the extractor asks questions in a window nobody can answer over WinRM; the lab refuses (rc 1)
        # instead of hanging. [1.1] documents only `/q /x:<folder>`.
        return ProcessResult(1, "", "Usage: MicrosoftAzureSiteRecoveryUnifiedSetup.exe /q /x:<folder>\r\n")
    if not (len(target) >= 3 and target[1] == ":" and target[2] in "\\/"):
        target = products.join(inv.cwd, target)
    host.mkdir(target)
    for name, kind in EXTRACTED.items():
        host.write_file(products.join(target, name), products.marker(kind, version))
    disk = host.disk_of(target)
    if disk:
        host.consume_disk(disk["letter"], 1.5)  # LAB-CHOSEN size of the extracted files
    return ProcessResult(0, "", "")


# ---- validation ([1.3], [8]) ----------------------------------------------------------------------------
class SetupExit(Exception):
    def __init__(self, code: int, *messages: str) -> None:
        super().__init__(messages[0] if messages else c.EXIT_NAMES.get(code, str(code)))
        self.code = code
        self.messages = list(messages)


@dataclasses.dataclass
class Plan:
    version: str
    mode: str  # "PS" | "CS"
    upgrade: bool
    location: str
    env_type: str
    cs_ip: str
    ps_ip: str
    data_port: int
    proxy: dict[str, Any] | None  # validated proxy settings (password as SHA-256 only) or None = Bypass
    skip_registration: bool = False
    components: list[str] = dataclasses.field(default_factory=list)
    mysql_passwords: tuple[str, str] | None = None  # CS: (root, svsystems) from /MySQLCredsFilePath [8]


def parse_switches(args: list[str]) -> dict[str, Any]:
    """``/Name value`` pairs and bare switches; names are case-insensitive ([1.1] DOC example uses ``/servermode``)."""
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args):
        token = args[i]
        if not token.startswith("/") or len(token) < 2:
            raise SetupExit(2, f"Invalid command line argument: {token}", c.USAGE)
        name = token[1:].lower()
        if name in ("?", "help"):
            raise SetupExit(2, c.USAGE)  # [1.4] `/?` => InvalidCommandLine
        if name in SWITCHES:
            opts[name] = True
            i += 1
            continue
        if name in VALUED:
            if i + 1 >= len(args) or args[i + 1].startswith("/"):
                raise SetupExit(2, f"Missing value for {token}.", c.USAGE)
            # [UNCONFIRMED] a repeated switch: the lab keeps the last value.
            opts[name] = args[i + 1]
            i += 2
            continue
        # [1.3] SRC CommandlineParameters.cs has no /BypassProxy (documented in [1.2]) nor /InstallDrive.
        raise SetupExit(2, f"Invalid command line argument: {token}", c.USAGE)
    return opts


def _valid_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_absolute(path: str) -> bool:
    return bool(re.match(r"^[A-Za-z]:[\\/]", path))


def _read(host: Host, path: str, what: str) -> str:
    if not _is_absolute(path) or not host.is_file(path):
        raise SetupExit(2, f"{what} file {path} does not exist.")
    return host.read_text(path)


PROXY_PATTERNS = [  # [8] SRC ValidationHelper.cs ValidateProxySettingsFilePath, lines 2..6 in this order
    ("ProxyAuthentication", re.compile(r'^ProxyAuthentication\s*=\s*".*"$')),
    ("ProxyIP", re.compile(r'^ProxyIP\s*=\s*".*"$')),
    ("ProxyPort", re.compile(r'^ProxyPort\s*=\s*".*"$')),
    ("ProxyUserName", re.compile(r'^ProxyUserName\s*=\s*".*"$')),
    ("ProxyPassword", re.compile(r'^ProxyPassword\s*=\s*".*"$')),
]


def grep_value(line: str) -> str:
    # [8] SRC GrepUtils.cs: split on '=' and remove the quotes, so a value containing '=' or '"' is truncated/broken.
    return line.split("=")[1].replace('"', "").strip()


def validate_proxy_file(text: str) -> dict[str, Any]:
    """[8] SRC validator: exactly 6 non-empty lines in order, `[ProxySettings]` first, the regexes above,
    ProxyAuthentication Yes|No (case-sensitive), ProxyIP starting with http://, port 1-65535, user and password
    required only with Yes. Returns the values as setup parses them (the password is hashed at once)."""
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    bad = "Proxy settings file is not in the expected format."
    if len(lines) != 6 or lines[0] != "[ProxySettings]":
        raise SetupExit(2, bad)
    values = {}
    for (name, pattern), line in zip(PROXY_PATTERNS, lines[1:], strict=True):
        if not pattern.match(line):
            raise SetupExit(2, bad, f"Invalid line for {name}: {line.split('=')[0].strip()}")
        values[name] = grep_value(line)
    auth = values["ProxyAuthentication"]
    if auth not in ("Yes", "No"):
        raise SetupExit(2, "ProxyAuthentication must be Yes or No.")
    if not values["ProxyIP"].startswith("http://"):
        raise SetupExit(2, "ProxyIP must start with http://.")
    try:
        port = int(values["ProxyPort"])
    except ValueError:
        raise SetupExit(2, "ProxyPort must be a number between 1 and 65535.") from None
    if not 1 <= port <= 65535:
        raise SetupExit(2, "ProxyPort must be a number between 1 and 65535.")
    proxy: dict[str, Any] = {"address": values["ProxyIP"], "port": port, "authentication": auth == "Yes"}
    if auth == "Yes":
        if not values["ProxyUserName"] or not values["ProxyPassword"]:
            raise SetupExit(2, "ProxyUserName and ProxyPassword are required when ProxyAuthentication is Yes.")
        proxy["username"] = values["ProxyUserName"]
        proxy["password_sha256"] = mars.password_digest(values["ProxyPassword"])
    return proxy


MYSQL_ALLOWED_SPECIAL = set("!@#$%_")
MYSQL_FORBIDDEN = set("~'^&*()+=-/\\:;{}[]|?<>,.\" ")


def validate_mysql_file(text: str) -> tuple[str, str]:
    # [8] SRC: exactly 3 lines [MySQLCredentials] / MySQLRootPassword = "..." / MySQLUserPassword = "..."; password
    # 8-16 chars, >=1 letter, >=1 digit, >=1 of ! @ # $ % _, no spaces nor the listed characters.
    # Returns (root password, svsystems password): setup creates the MySQL accounts with them and writes them to
    # amethyst.conf DB_ROOT_PASSWD / DB_PASSWD (SRC ucx_server_setup.iss GetValue('DB_PASSWD'), csps_merge_split.sh).
    passwords = []
    lines = [line.rstrip("\r") for line in text.splitlines() if line.strip()]
    if len(lines) != 3 or lines[0] != "[MySQLCredentials]":
        raise SetupExit(2, "MySQL credentials file is not in the expected format.")
    for name, line in zip(("MySQLRootPassword", "MySQLUserPassword"), lines[1:], strict=True):
        if not re.match(rf'^{name}\s*=\s*".*"$', line):
            raise SetupExit(2, "MySQL credentials file is not in the expected format.")
        pw = grep_value(line)
        if not (
            8 <= len(pw) <= 16
            and any(ch.isalpha() for ch in pw)
            and any(ch.isdigit() for ch in pw)
            and any(ch in MYSQL_ALLOWED_SPECIAL for ch in pw)
            and not any(ch in MYSQL_FORBIDDEN for ch in pw)
        ):
            raise SetupExit(2, f"{name} does not meet the password requirements.")
        passwords.append(pw)
    return passwords[0], passwords[1]


def _required_components(mode: str) -> list[str]:
    return ["dependencies", "csps", "mt", "mars"] + (["provider", "mysql"] if mode == "CS" else [])


def validate(host: Host, args: list[str], version: str) -> Plan:
    """Validate a command line as SRC Program.cs ValidateCommandLineArguments does; a ``Plan`` or ``SetupExit``."""
    opts = parse_switches(args)
    if opts.get("showthirdpartyeula"):
        raise SetupExit(2, "Third-party EULA: see the MySQL license terms.")  # [1.2]/[1.4]: other params ignored
    installed = products.installed_versions(host)
    if opts.get("upgrade"):
        return _validate_upgrade(host, opts, version, installed)
    if not opts.get("acceptthirdpartyeula"):
        raise SetupExit(2, "/AcceptThirdpartyEULA is mandatory.", c.USAGE)
    mode = str(opts.get("servermode", "")).upper()
    if mode not in ("CS", "PS"):
        raise SetupExit(2, "/ServerMode is mandatory and must be CS or PS.", c.USAGE)
    # [1.3] mandatory per mode
    mandatory = ["installlocation", "envtype"]
    if mode == "PS":
        mandatory += ["csip", "passphrasefilepath"]
    else:
        mandatory += ["mysqlcredsfilepath"] + ([] if opts.get("skipregistration") else ["vaultcredsfilepath"])
    for name in mandatory:
        if name not in opts:
            raise SetupExit(2, f"/{_spell(name)} is mandatory in {mode} mode.", c.USAGE)
    if all(comp in installed for comp in _required_components(mode)):
        raise SetupExit(2, "All components are already installed. Pass /Upgrade switch to proceed.")  # [1.3]
    location = str(opts["installlocation"])
    _validate_location(host, location, skip_space=bool(opts.get("skipspacecheck") or opts.get("skipprereqscheck")))
    env = str(opts["envtype"])
    if env.lower() not in ("vmware", "nonvmware"):
        raise SetupExit(2, "/EnvType must be VMware or NonVMware.")
    if env.lower() == "vmware" and not host.facts.get("vmware_tools", False):
        # [1.3] SRC: /EnvType VMware requires VMware Tools on the machine (host fact `vmware_tools`, default false)
        raise SetupExit(2, "VMware Tools are not installed on this machine. Use /EnvType NonVMware.")
    for name in ("csip", "psip"):
        if name in opts and not _valid_ip(str(opts[name])):
            raise SetupExit(2, f"/{_spell(name)} {opts[name]} is not a valid IP address.")
    data_port = c.DEFAULT_DATA_PORT
    if "datatransfersecureport" in opts:
        try:
            port = int(str(opts["datatransfersecureport"]))
        except ValueError:
            raise SetupExit(2, "/DataTransferSecurePort must be a number between 1 and 65535.") from None
        if not 1 <= port <= 65535:
            raise SetupExit(2, "/DataTransferSecurePort must be a number between 1 and 65535.")
        if port == 443 and mode == "CS":
            raise SetupExit(2, "Port 443 cannot be used as /DataTransferSecurePort.")
        if port != 443:  # [1.3] SRC: 443 is silently ignored in PS mode (the default 9443 stays)
            data_port = port
    proxy = None
    if "proxysettingsfilepath" in opts:
        proxy = validate_proxy_file(_read(host, str(opts["proxysettingsfilepath"]), "Proxy settings"))
    ps_ip = str(opts.get("psip") or host.ip)  # [1.3] /PSIP optional in SRC; the lab uses the host's IP
    mysql_passwords = None
    if mode == "PS":
        cs_ip = str(opts["csip"])
        passphrase = _read(host, str(opts["passphrasefilepath"]), "Passphrase")
        if "csps" not in installed:  # [1.3] live check skipped if a PS already exists on the box
            _check_cs(host, cs_ip, passphrase, version)
    else:
        cs_ip = host.ip
        mysql_passwords = validate_mysql_file(_read(host, str(opts["mysqlcredsfilepath"]), "MySQL credentials"))
        if not opts.get("skipregistration"):
            _read(host, str(opts["vaultcredsfilepath"]), "Vault credentials")
    return Plan(
        version=version,
        mode=mode,
        upgrade=False,
        location=location,
        env_type="VMware" if env.lower() == "vmware" else "NonVMware",
        cs_ip=cs_ip,
        ps_ip=ps_ip,
        data_port=data_port,
        proxy=proxy,
        skip_registration=bool(opts.get("skipregistration")),
        components=[comp for comp in _required_components(mode) if installed.get(comp) != version],
        mysql_passwords=mysql_passwords if mode == "CS" else None,
    )


def _spell(name: str) -> str:
    spelled = {
        "installlocation": "InstallLocation",
        "envtype": "EnvType",
        "csip": "CSIP",
        "psip": "PSIP",
        "passphrasefilepath": "PassphraseFilePath",
        "mysqlcredsfilepath": "MySQLCredsFilePath",
        "vaultcredsfilepath": "VaultCredsFilePath",
    }
    return spelled.get(name, name)


def _validate_location(host: Host, location: str, *, skip_space: bool) -> None:
    # [1.3] SRC ValidationHelper.cs: absolute, not on the system drive, exists, fixed NTFS, 600 GB free unless
    # /SkipSpaceCheck or /SkipPrereqsCheck.
    if not _is_absolute(location):
        raise SetupExit(2, f"/InstallLocation {location} must be an absolute path.")
    if location[:2].upper() == host.system_drive.upper():
        raise SetupExit(2, f"/InstallLocation {location} must not be on the system drive.")
    if not host.is_dir(location):
        raise SetupExit(2, f"/InstallLocation {location} does not exist.")
    disk = host.disk_of(location)
    if disk is None or not disk.get("fixed", True) or str(disk.get("filesystem", "")).upper() != "NTFS":
        raise SetupExit(2, f"/InstallLocation {location} must be on a fixed NTFS drive.")
    if not skip_space and free_gb(host, disk) < REQUIRED_SPACE_GB:
        raise SetupExit(2, f"/InstallLocation {location} needs at least {REQUIRED_SPACE_GB} GB of free space.")


def free_gb(host: Host, disk: dict[str, Any]) -> float:
    """Free space as the installer sees it; fault ``disk_too_small`` (true, or a number of GB) reports less than
    the 600 GB setup wants."""
    fault = host.faults.get("disk_too_small")
    if fault:
        reported = fault if isinstance(fault, int | float) and not isinstance(fault, bool) else 100
        return min(float(disk["free_gb"]), float(reported), REQUIRED_SPACE_GB - 1)
    return float(disk["free_gb"])


def _check_cs(host: Host, cs_ip: str, passphrase: str, version: str) -> None:
    # [1.3] SRC: the passphrase is validated live against CSIP:443. [3.2] DOC makes the passphrase file with
    # `genpassphrase.exe -v > file`, i.e. newline-terminated: the lab ignores surrounding whitespace ([UNCONFIRMED]).
    with cs_mod.reach_cs(host, cs_ip) as (cs, why):
        if cs is None:
            raise SetupExit(2, f"Passphrase validation failed. {why}")
        if passphrase.strip() != (products.cs_passphrase(cs) or "\0"):
            raise SetupExit(
                2, "Passphrase validation failed. The passphrase is not valid for this configuration server."
            )
        cs_ver = cs_mod.cs_version(cs)
    if cs_ver and versions.parse(version) > versions.parse(cs_ver):
        # [3.1] DOC: PS version must be the same as or earlier than the CS version. The reference gives no exit
        # code for a fresh install: LAB-CHOSEN 4 (PrerequisiteChecksFailed).
        raise SetupExit(4, f"Process server version {version} is newer than the configuration server version {cs_ver}.")


def _validate_upgrade(host: Host, opts: dict[str, Any], version: str, installed: dict[str, str]) -> Plan:
    # [1.3] SRC: with /Upgrade almost no other switches are allowed (CS with MySQL 5.5: /Upgrade /AcceptThirdpartyEULA)
    extra = set(opts) - {"upgrade", "acceptthirdpartyeula"}
    if extra:
        raise SetupExit(
            2, "/Upgrade cannot be combined with other switches: " + ", ".join(f"/{_spell(e)}" for e in sorted(extra))
        )
    if "csps" not in installed:
        # Nothing to upgrade: the fresh-install mandatory switches are missing.
        raise SetupExit(
            2, "/ServerMode is mandatory. No installed Azure Site Recovery components were found to upgrade.", c.USAGE
        )
    # [4] DOC/SRC: the silent upgrade is /Upgrade for a configuration server and a process server alike; setup
    # detects what is installed, so the mode comes from CX_TYPE [6.4] (1/3 CS, 2 PS), not from a switch.
    mode = "CS" if products.is_configuration_server(host) else "PS"
    target = versions.parse(version)
    for comp in ("csps", "dependencies"):
        have = installed.get(comp)
        if have is None:
            continue
        if target < versions.parse(have):
            # [4] SRC: installing an older build over a newer one is refused. lab decision: the reference gives no
            # exit code for it; the lab uses 203 (UpgradeNotSupported, [1.4]).
            raise SetupExit(203, f"Installed version {have} is newer than {version}; downgrade is not supported.")
        if versions.minor(version) - versions.minor(have) > 4:
            # [4] SRC ActionProcessess.cs: (new minor - installed minor) > 4 for CS/PS or Dependencies => Unsupported
            raise SetupExit(203, f"Upgrade from {have} to {version} is not supported (more than 4 versions apart).")
    upgradable = [comp for comp in products.COMPONENTS if comp in installed and installed[comp] != version]
    if not upgradable:
        # [1.4] ProductIsAlreadyInstalled: LAB-CHOSEN trigger -- /Upgrade when every installed component is already at
        # the package's version (nothing to do).
        raise SetupExit(201, f"Azure Site Recovery {version} is already installed.")
    location = products.install_location(host) or ""
    home = products.svsystems(location)
    amethyst = read_conf(host, products.join(home, "etc", "amethyst.conf"))
    cs_ip = amethyst.get("PS_CS_IP") or amethyst.get("CS_IP", "")  # [6.5]
    # [3.1]/[4] PS <= CS is a process server's rule; a configuration server is its own CS and is upgraded first.
    if mode == "PS" and cs_ip:
        with cs_mod.reach_cs(host, cs_ip) as (cs, _why):
            cs_ver = cs_mod.cs_version(cs) if cs is not None else None
        if cs_ver and target > versions.parse(cs_ver):
            # [3.1]/[4] DOC: PS <= CS; upgrade the CS first. When the CS cannot be reached the lab cannot compare
            # and lets the upgrade run (its registration step then fails, 113).
            raise SetupExit(
                203, f"Upgrade the configuration server first: it runs {cs_ver}, this package is {version}."
            )
    return Plan(
        version=version,
        mode=mode,
        upgrade=True,
        location=location,
        env_type=host.asr.get("env_type", "NonVMware"),
        cs_ip=cs_ip,
        ps_ip=amethyst.get("PS_IP", host.ip),
        data_port=cxps_data_port(host, location),  # [6.5] cxps.conf ssl_port
        proxy=None,
        components=upgradable,
    )


# ---- logs ([1.5]) --------------------------------------------------------------------------------------
class Logs:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.console: list[str] = []

    def _stamp(self) -> str:
        return time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(self.host.now()))

    def write(self, path: str, text: str) -> None:
        self.host.append_text(path, f"{self._stamp()} {text}\r\n")

    def main(self, text: str, *, console: bool = True) -> None:
        self.write(c.LOG_UNIFIED, text)
        if console:
            self.console.append(text)


# ---- applying a plan -----------------------------------------------------------------------------------
# What each forced exit code (fault `installer_exit_code`) lets happen before setup stops ([1.4] names):
# the components installed, whether registermt / MARS proxy ran, and what is broken afterwards.
STOP_AFTER = {
    1: "dependencies",  # Failed: the CX Inno installer's own codes are unmapped => Failed ([1.4]); partial install
    2: None,  # InvalidCommandLine: nothing installed
    4: None,  # PrerequisiteChecksFailed: nothing installed
    111: "mt",  # MARSAgentInstallationFailed: everything before MARS
    201: None,  # ProductIsAlreadyInstalled: nothing changed
    203: None,  # UpgradeNotSupported: nothing changed
}


def apply_plan(host: Host, plan: Plan, forced: int | None, *, become: bool, logs: Logs) -> int:
    """Do what setup does for ``plan``; returns the exit code ([1.4])."""
    logs.main(
        f"Unified Setup {plan.version}: {'upgrade' if plan.upgrade else 'installation'} in {plan.mode} mode started."
    )
    if forced is not None and forced in STOP_AFTER and STOP_AFTER[forced] is None:
        logs.main(f"Setup ended with {c.EXIT_NAMES.get(forced, forced)} (lab fault installer_exit_code).")
        return forced
    if host.faults.get("network_logon_restricted") and not become:
        # ansible-windows-practice.md: over a WinRM network logon some installers fail with Access Denied; the first
        # installer (Dependencies) fails and setup reports Failed (1), nothing installed.
        logs.write(c.LOG_DEPENDENCIES, "Error: Access is denied. (0x80070005)")
        logs.main("Configuration/Process Server Dependencies installation failed: Access is denied.")
        return c.EXIT["Failed"]
    stop_after = STOP_AFTER.get(forced) if forced is not None else None
    installed = products.installed_versions(host)
    svc_ok = True

    def step(comp: str) -> bool:
        return comp in plan.components or (not plan.upgrade and comp not in installed)

    # 1. Dependencies ([1.3])
    if step("dependencies"):
        products.install_dependencies(host, plan.version)
        logs.write(c.LOG_DEPENDENCIES, f"Installing {c.DN_DEPENDENCIES} {plan.version} ... done (exit code 0)")
        logs.main(f"{c.DN_DEPENDENCIES} {'upgraded' if plan.upgrade else 'installed'} successfully.")
    if stop_after == "dependencies":
        logs.write(c.LOG_CSPS, "Setup failed with an unexpected error.")
        logs.main(f"{c.DN_CSPS} installation failed.")
        return forced or c.EXIT["Failed"]
    # 2. Configuration/Process Server (+ CS-only MySQL, Provider: [1.3] "The Provider (DRA), MySQL and Configuration
    # Manager are CS-only")
    if step("csps"):
        proxy_type = "Custom" if plan.proxy else "Bypass"  # [1.3] no /ProxySettingsFilePath => Bypass
        if plan.upgrade:
            proxy_type = host.reg_get(c.REG_INSTALLED_CSPS, "Proxy_Type", "Bypass")
        products.install_csps(
            host,
            plan.version,
            mode=plan.mode,
            location=plan.location,
            cs_ip=plan.cs_ip,
            ps_ip=plan.ps_ip,
            data_port=plan.data_port,
            proxy_type=proxy_type,
            env_type=plan.env_type,
            start_services=False,
        )
        logs.write(
            c.LOG_CSPS,
            f"ucx_server_setup.exe /ServerMode {plan.mode} /DIR={products.svsystems(plan.location)} "
            f"/CSIP {plan.cs_ip} /CSPort {c.CS_PORT} /PassphrasePath <file> /EnvType {plan.env_type} "
            f"/DataTransferSecurePort {plan.data_port} /NORESTART ... done",
        )
        logs.main(f"{c.DN_CSPS} {'upgraded' if plan.upgrade else 'installed'} successfully.")
        svc_ok &= _start_all(host, c.SERVICES_CSPS)
        if plan.mode == "CS":
            # [1.3] Provider (DRA) and MySQL are CS-only; on /Upgrade the Provider moves to the package's build and
            # its services [6.3] restart. The reference documents nothing about MySQL during an upgrade (only that
            # upgrading MySQL on the CS is not supported [2.1]), so the lab leaves MySQL's version as it is.
            products.install_cs_extras(host, plan.version, location=plan.location, mysql_passwords=plan.mysql_passwords)
            if not products.cs_passphrase(host):
                # lab decision: the reference is silent on the generated passphrase's form; the lab writes a random
                # 16-character one to the [3.2] connection.passphrase file.
                products.set_cs_passphrase(host, secrets.token_urlsafe(12)[:16])
        elif not plan.upgrade:
            _register_ps(host, plan, logs)
    # 3. Mobility Service / Master Target and its configuration
    if step("mt"):
        products.install_mt(host, plan.version, location=plan.location, cs_ip=plan.cs_ip, start_services=False)
        logs.write(c.LOG_MT_MSI, f"Product: {c.DN_MT} -- Installation completed successfully.")
        logs.write(c.LOG_AGENT_INSTALLER, f"Installed {c.DN_MT} {plan.version}")
        logs.write(
            c.LOG_AGENT_CONFIGURATOR, f"Configured master target for configuration server {plan.cs_ip}:{c.CS_PORT}"
        )
        logs.main(f"{c.DN_MT} {'upgraded' if plan.upgrade else 'installed'} successfully.")
        svc_ok &= _start_all(host, c.SERVICES_MT)
    if stop_after == "mt":
        logs.write(c.LOG_MARS_STATUS, "MARS agent installation failed.")
        logs.main(f"{c.DN_MARS} installation failed.")
        return forced or c.EXIT["MARSAgentInstallationFailed"]
    # 4. MARS agent
    if step("mars"):
        products.install_mars(host, plan.version, start_services=False)
        logs.write(c.LOG_MARS_MSI, f"Product: {c.DN_MARS} -- Installation completed successfully.")
        logs.write(c.LOG_MARS_STATUS, "MARS agent installed successfully.")
        logs.main(f"{c.DN_MARS} {'upgraded' if plan.upgrade else 'installed'} successfully.")
        svc_ok &= _start_all(host, c.SERVICES_MARS)
    if plan.upgrade:
        # lab decision: the reference is silent ([4] only says setup "detects installed components and upgrades
        # them"); the lab restarts the services of components already at the package's build as well.
        svc_ok &= _restart_unchanged(host, plan)
    rc = c.EXIT["Successful"]
    # 5. registration: cdpcli --registermt ([1.3]); CS mode registers its own MT with itself
    if forced in (112, 113):
        logs.main("Master target registration failed (lab fault installer_exit_code).")
        rc = forced
    elif plan.mode == "CS":
        # lab decision: the reference is silent on how a CS's own MT registers; the lab treats it as always succeeding.
        logs.main("Master target registered with the local configuration server.")
    elif not plan.skip_registration:
        ok, message = register_mt(host)
        logs.write(c.LOG_AGENT_CONFIGURATOR, "cdpcli.exe --registermt: " + message)
        logs.main(message)
        if not ok:
            rc = c.EXIT["MTContainerRegistrationFailed"]
    # 6. MARS proxy via SetMarsProxy.exe -> Set-OBMachineSetting when a custom proxy was given ([1.3], [6.6])
    if plan.proxy and rc == 0:
        if forced == 115:
            logs.main("Setting the MARS agent proxy failed.")
            rc = 115
        else:
            _set_mars_proxy(host, plan.proxy)
            logs.write(c.LOG_MARS_STATUS, f"MARS proxy set to {plan.proxy['address']}:{plan.proxy['port']}")
    # 7. post-install service check ([6.3] SRC EvaluateOperations.cs => 102)
    if forced == 102:
        victims = [s for s in c.POST_INSTALL_CHECK_PS if host.service_start_blocked(s)] or ["ProcessServer"]
        for name in victims:
            if host.service(name):
                host.set_service_state(name, "stopped")
    not_running = [s for s in c.POST_INSTALL_CHECK_PS if (host.service(s) or {}).get("state") != "running"]
    if rc == 0 and (not svc_ok or not_running):
        logs.main("Services are not running: " + ", ".join(not_running))
        rc = c.EXIT["ServicesAreNotRunning"]
    if forced is not None and rc == 0:
        if forced == 3010:
            host.data.setdefault("pending_reboot", []).append("PendingFileRenameOperations")
        rc = forced
    logs.main(f"Exit code {rc} ({c.EXIT_NAMES.get(rc, 'unknown')})", console=False)
    return rc


def _register_ps(host: Host, plan: Plan, logs: Logs) -> None:
    # The CS/PS component registers the PS with the CS it was given (/CSIP, passphrase; [1.3] SRC ActionProcessess.cs)
    with cs_mod.reach_cs(host, plan.cs_ip) as (cs, why):
        if cs is None:
            logs.write(c.LOG_CSPS, f"Could not register the process server: {why}")
            return
        cs_mod.register_ps(cs, host, ps_ip=plan.ps_ip, version=plan.version, data_port=plan.data_port)
    logs.write(c.LOG_CSPS, f"Process server registered with configuration server {plan.cs_ip}")


def _start_all(host: Host, table: list[tuple[str, str, str]]) -> bool:
    ok = True
    for name, _, _ in table:
        if host.service(name) is not None:
            ok &= host.set_service_state(name, "running")
            if ok and name.lower() == "obengine":
                mars.apply_on_restart(host)
    return ok


def _restart_unchanged(host: Host, plan: Plan) -> bool:
    tables = {"csps": c.SERVICES_CSPS, "mt": c.SERVICES_MT, "mars": c.SERVICES_MARS}
    if plan.mode == "CS":
        # [6.3] a CS adds W3SVC, MySQL and dra; the lab restarts them with the CS/PS component (the same lab
        # decision as above; when the CS/PS component is upgraded, install_cs_extras restarts them).
        tables = {**tables, "csps": c.SERVICES_CSPS + c.SERVICES_CS_ONLY}
    ok = True
    for comp, table in tables.items():
        if comp not in plan.components:
            for name, _, _ in table:
                if host.service(name) is not None:
                    host.set_service_state(name, "stopped")
            ok &= _start_all(host, table)
    return ok


def _set_mars_proxy(host: Host, proxy: dict[str, Any]) -> None:
    # [6.6] SRC SetMarsProxy.exe <http://address> <port> [user] [password]. The plan keeps only the password's
    # SHA-256, which is what the lab's MARS model stores.
    mars.set_proxy(host, proxy["address"], proxy["port"], proxy.get("username"))
    if proxy.get("password_sha256"):
        host.asr["mars_proxy"]["password_sha256"] = proxy["password_sha256"]
    mars.apply_on_restart(host)  # LAB-CHOSEN: setup's proxy is in effect when setup ends


# ---- running setup -------------------------------------------------------------------------------------
def _setup_version(host: Host, exe_path: str) -> str | None:
    return products.marker_version(host.read_bytes(exe_path), SETUP_KIND) if host.is_file(exe_path) else None


def _mutex_held(host: Host) -> bool:
    return any(run["state"] == "running" for run in host.asr.get("setup_runs", {}).values())


def _take_forced(host: Host) -> int | None:
    forced = host.faults.pop("installer_exit_code", None)  # "next UnifiedSetup run" (DESIGN.md faults)
    return None if forced is None else int(forced)


def _finish(logs: Logs, rc: int, messages: list[str]) -> tuple[int, str, str]:
    for message in messages:
        logs.main(message)
    if rc in (0, 3010):
        logs.main(c.MSG_SUCCEEDED)
        if rc == 3010:
            logs.main("A restart is required to complete the installation.")
    elif rc == 201:
        pass  # lab decision: the reference is silent on 201's console text; the lab prints neither result line
    else:
        logs.main(c.MSG_FAILED)  # [1.4]; Microsoft's InstallPS.ps1 ([1.1]) looks for "failed" in this output
    stdout = "".join(line + "\r\n" for line in logs.console)
    return rc, stdout, ""


def _start(
    host: Host, args: list[str], version: str, forced: int | None
) -> tuple[Plan | None, tuple[int, str, str] | None, Logs]:
    """Validate; ``(plan, None, logs)`` to go on, or ``(None, (rc, out, err), logs)`` when setup ends here."""
    logs = Logs(host)
    if not args:
        # [1.3]/[1.4] no argument => the wizard, which always returns 0; nobody clicks through it over WinRM.
        logs.main("Unified Setup started in wizard mode (no arguments); no installation performed.", console=False)
        return None, (0, "", ""), logs
    logs.main("Unified Setup started in silent mode: " + " ".join(_redact(args)), console=False)  # [1.3]
    try:
        plan = validate(host, args, version)
    except SetupExit as exc:
        return None, _finish(logs, exc.code, exc.messages), logs
    if forced in (2, 4):
        return (
            None,
            _finish(logs, forced, [f"Setup ended with {c.EXIT_NAMES[forced]} (lab fault installer_exit_code)."]),
            logs,
        )
    return plan, None, logs


def _redact(args: list[str]) -> list[str]:
    return list(args)  # setup's own arguments carry file paths only, never secrets ([1.2])


def run_setup_now(host: Host, args: list[str], version: str, *, become: bool) -> tuple[int, str, str]:
    if _mutex_held(host):
        # [1.3] single instance (mutex "Microsoft Azure Site Recovery Setup"). The exit code is not documented:
        # LAB-CHOSEN 1 (Failed).
        return 1, f'Another instance of setup is running (mutex "{c.MUTEX_NAME}").\r\n{c.MSG_FAILED}\r\n', ""
    forced = _take_forced(host)
    plan, ended, logs = _start(host, args, version, forced)
    if ended is not None:
        return ended
    assert plan is not None
    rc = apply_plan(host, plan, forced, become=become, logs=logs)
    return _finish(logs, rc, [])


@executable("unifiedsetup.exe", marker="ASR-LAB-" + SETUP_KIND)
def unified_setup(inv: Invocation) -> ProcessResult:
    host = inv.host
    version = _setup_version(host, inv.exe_path)
    if version is None:
        return ProcessResult(programs.BAD_EXE_RC, "", f"{inv.exe_path} is not a valid Win32 application.\r\n")
    settle(host)
    seconds = float(host.faults.get("installer_seconds") or 0)
    rc, out, err = run_setup_now(host, inv.args, version, become=inv.become)
    return ProcessResult(rc, out, err, duration_s=seconds or 0.0)


# ---- detached runs --------------------------------------------------------------------------------------
def start_setup(
    host: Host,
    argv: str | list[str],
    user: str,
    become: bool,
    *,
    cwd: str | None = None,
) -> dict[str, Any]:
    """Start a program detached and return its run record. For ``UnifiedSetup.exe`` the run stays ``running``
    for ``installer_seconds`` (fault) of the host clock; validation failures end it at once. Any other program
    runs to completion immediately (its record is ``exited`` at once)."""
    settle(host)
    command_line = argv if isinstance(argv, str) else " ".join(programs.quote_argument(a) for a in argv)
    tokens = programs.split_command_line(command_line.strip())
    workdir = cwd or f"{host.system_drive}\\Windows\\System32"
    exe = programs.resolve_executable(host, tokens[0], workdir) if tokens else None
    runs = host.asr.setdefault("setup_runs", {})
    run_id = f"run-{int(host.now() * 1000)}-{len(runs) + 1}"
    now = host.now()
    record: dict[str, Any] = {
        "run_id": run_id,
        "command_line": command_line,
        "user": user,
        "become": become,
        "started": now,
        "finish_at": now,
        "state": "exited",
        "rc": None,
        "stdout": "",
        "stderr": "",
    }
    if exe is None or _setup_version(host, exe) is None:
        result = programs.run(host, command_line, user=user, become=become, cwd=cwd)
        record.update(rc=result.rc, stdout=result.stdout, stderr=result.stderr)
        runs[run_id] = record
        return public(record)
    host.record_process(command_line, user)
    version = _setup_version(host, exe)
    if version is None:
        record.update(rc=programs.BAD_EXE_RC, stderr=f"{exe} is not a valid Win32 application.\r\n")
    elif _mutex_held(host):
        record.update(
            rc=1, stdout=f'Another instance of setup is running (mutex "{c.MUTEX_NAME}").\r\n{c.MSG_FAILED}\r\n'
        )
    else:
        forced = _take_forced(host)
        plan, ended, logs = _start(host, tokens[1:], version, forced)
        if ended is not None:
            record.update(rc=ended[0], stdout=ended[1], stderr=ended[2])
        else:
            assert plan is not None
            record.update(
                state="running",
                finish_at=now + float(host.faults.get("installer_seconds") or 0),
                plan=dataclasses.asdict(plan),
                forced=forced,
                console=logs.console,
            )
    runs[run_id] = record
    settle(host)
    return public(runs[run_id])


def stop_setup(host: Host, run_id: str) -> None:
    """A detached Unified Setup run stopped while it runs (Stop-Process: TerminateProcess, exit code -1, lab.detached).
    Windows releases the mutexes a process held when it ends, so its single-instance mutex [1.3] is free again.
    LAB-CHOSEN: a run stopped before its end applies none of its plan (the lab applies a run's effects when it ends;
    the reference does not say what a stopped setup leaves behind); its log keeps what it wrote until then [1.5]."""
    settle(host)
    record = host.asr.get("setup_runs", {}).get(run_id)
    if record is None or record["state"] != "running":
        return
    record.pop("plan", None)
    record.pop("forced", None)
    console = record.pop("console", [])
    stdout = "".join(line + "\r\n" for line in console)
    record.update(state="exited", rc=-1, stdout=stdout, stderr="", finished=host.now(), stopped=True)


def poll_setup(host: Host, run_id: str) -> dict[str, Any]:
    """The run's record: ``state`` ``running`` until its time has passed on the host clock, then ``exited`` with
    ``rc``/``stdout`` (the effects are applied at that moment). Unknown ``run_id`` raises ``KeyError``."""
    settle(host)
    runs = host.asr.get("setup_runs", {})
    if run_id not in runs:
        raise KeyError(f"no setup run {run_id} on {host.name}")
    return public(runs[run_id])


def settle(host: Host) -> None:
    """Finish every detached run whose time has come (the process ran on its own; nobody needs to poll)."""
    for record in host.asr.get("setup_runs", {}).values():
        if record["state"] != "running" or host.now() < record["finish_at"]:
            continue
        plan = Plan(**record.pop("plan"))
        logs = Logs(host)
        logs.console = list(record.pop("console", []))
        rc = apply_plan(host, plan, record.pop("forced", None), become=record["become"], logs=logs)
        rc, out, err = _finish(logs, rc, [])
        record.update(state="exited", rc=rc, stdout=out, stderr=err, finished=host.now())


def public(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("run_id", "command_line", "state", "rc", "stdout", "stderr", "started", "finish_at", "finished")
    return {k: record.get(k) for k in keys}


# ---- CLI -----------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None, prog: str = "python -m lab.asr.installer") -> int:
    parser = argparse.ArgumentParser(prog=prog, description="lab Unified Setup package files")
    sub = parser.add_subparsers(dest="cmd", required=True)
    pkg = sub.add_parser("package", help=f"write a lab {PACKAGE_NAME}")
    pkg.add_argument("--version", required=True, help="product version, e.g. 9.55.7123.1")
    pkg.add_argument("--out", required=True, help="file to write")
    pkg.add_argument("--size", type=int, default=0, help="pad the package to this many bytes (default: no padding)")
    args = parser.parse_args(argv)
    try:
        data = package_bytes(args.version, args.size)
    except ValueError as exc:
        print(f"{prog}: error: --version: {exc}", file=sys.stderr)
        return 2
    problem = write_package(pathlib.Path(args.out), data)
    if problem:
        print(f"{prog}: error: --out {args.out}: {problem}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


def write_package(out: pathlib.Path, data: bytes) -> str | None:
    """Write the package file; ``None``, or one sentence saying why it could not be written.

    A missing folder is an error rather than created: a typo in ``--out`` should not leave a new folder
    tree behind (lab-only convenience, no reference section).
    """
    if out.is_dir():
        return "is a folder; give the file to write, such as <folder>/" + PACKAGE_NAME
    if not out.parent.is_dir():
        return f"the folder {out.parent} does not exist; create it first (mkdir -p {out.parent})"
    try:
        out.write_bytes(data)
    except OSError as exc:
        return f"cannot write it: {exc.strerror or exc}"
    return None


if __name__ == "__main__":
    sys.exit(main())
