# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ordered uninstall plan for decommissioning a scale-out process server or a configuration server.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Display names are the ones setup writes (SRC ``Constants.cs``) [6.1]; the documents' variants are kept as
aliases. A host's Add/Remove Programs entry belongs to a product when its DisplayName *contains* one of the
product's names, as setup matches them (SRC ``ValidationHelper.cs``), except that matching ignores case and
the longest matching name wins: "...Configuration/Process Server" is contained in "...Configuration/Process
Server Dependencies", so plain "contains" would take the Dependencies entry for the CS/PS one.

The plan is computed from what is still installed, so running it again after a partial uninstall resumes
at the first product still present, in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from .checks import Jsonable, require_choice
from .errors import InvalidOption, PlanningError
from .unified_setup import split_command_line

ROLES = ("process_server", "configuration_server")
SETUP_LOG_DIR = r"C:\ProgramData\ASRSetupLogs"
# [6.1] MS_MTProductGUID in SRC Constants.cs; the documented silent uninstall of the Mobility Service / MT.
MT_PRODUCT_CODE = "{275197FC-14FD-4560-A5EB-38217F80CBD1}"
REGISTRATION_KEY = r"HKLM\Software\Microsoft\Azure Site Recovery\Registration"
INNO_SILENT_FLAGS = ("/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART")

_GUID = re.compile(r"\{[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}\}")
_INNO_UNINSTALLER = re.compile(r"(?:^|[\\/])unins\d{3}\.exe$", re.IGNORECASE)
_MSIEXEC = re.compile(r"(?:^|[\\/])msiexec(?:\.exe)?$", re.IGNORECASE)


@dataclass(frozen=True)
class AsrProduct(Jsonable):
    """A product setup installs: its exact display name, the documents' variants, and how it uninstalls."""

    key: str
    display_name: str
    aliases: tuple[str, ...] = ()
    product_code: str | None = None
    msi_log: str | None = None
    optional: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return (self.display_name, *self.aliases)


CS_PS = AsrProduct(
    "configuration_process_server",
    "Microsoft Azure Site Recovery Configuration/Process Server",
    ("Microsoft Azure Site Recovery Configuration Server/Process Server",),
)
# Inno AppName of the Dependencies package lacks "Microsoft " (its AppVerName has it) [6.1].
DEPENDENCIES = AsrProduct(
    "configuration_process_server_dependencies",
    "Microsoft Azure Site Recovery Configuration/Process Server Dependencies",
    (
        "Microsoft Azure Site Recovery Configuration Server Dependencies",
        "Azure Site Recovery Configuration/Process Server Dependencies",
    ),
)
MASTER_TARGET = AsrProduct(
    "mobility_service_master_target",
    "Microsoft Azure Site Recovery Mobility Service/Master Target Server",
    ("Microsoft Azure Site Recovery Mobility Service/Master Target server",),
    MT_PRODUCT_CODE,
    "UnifiedAgentMSIUninstall.log",
)
# MARS is also the Azure Backup agent: a host that backs up files with it may keep it, so it is optional.
MARS = AsrProduct("recovery_services_agent", "Microsoft Azure Recovery Services Agent", optional=True)
PROVIDER = AsrProduct("site_recovery_provider", "Microsoft Azure Site Recovery Provider")
MYSQL = AsrProduct("mysql_server", "MySQL Server 5.7", msi_log="MySQLServerMSIUninstall.log")

# [6.1] Scale-out PS, 2017 doc order: CS/PS, Dependencies, MARS. The doc omits the MT agent although a
# scale-out PS has one [6.2]. We remove it after CS/PS and Dependencies and before MARS:
# * CS/PS goes first, as the doc says, because its uninstall unregisters the PS from the configuration
#   server while the PS can still reach it (the doc's precondition); removing the MT first would leave a
#   registered PS whose svagents service (part of the MT agent, checked by setup in PS mode [6.3]) is gone.
# * The physical-CS doc removes the MT *before* CS/PS, because there the MT unregisters through the local
#   CS (web service and MySQL on the same host). On a scale-out PS the CS is remote and stays up, so that
#   reason does not apply.
# * MARS stays last, as the PS doc says. [DISCREPANCY] The CS doc removes MARS *first*; we follow each
#   role's own document.
PROCESS_SERVER_ORDER: tuple[AsrProduct, ...] = (CS_PS, DEPENDENCIES, MASTER_TARGET, MARS)
# [6.1] Physical CS doc: MARS, MT, Provider, CS/PS, Dependencies, MySQL 5.7, then delete the registration key.
CONFIGURATION_SERVER_ORDER: tuple[AsrProduct, ...] = (MARS, MASTER_TARGET, PROVIDER, CS_PS, DEPENDENCIES, MYSQL)
_ORDER_BY_ROLE = {"process_server": PROCESS_SERVER_ORDER, "configuration_server": CONFIGURATION_SERVER_ORDER}
KNOWN_PRODUCTS: tuple[AsrProduct, ...] = (CS_PS, DEPENDENCIES, MASTER_TARGET, MARS, PROVIDER, MYSQL)


@dataclass(frozen=True)
class InstalledProduct(Jsonable):
    """One Add/Remove Programs entry as the probe read it from the registry's Uninstall keys.

    ``product_code`` is the entry's key name when it is an MSI product code (a GUID).
    """

    display_name: str
    display_version: str | None = None
    product_code: str | None = None
    uninstall_string: str | None = None
    quiet_uninstall_string: str | None = None


@dataclass
class UninstallStep(Jsonable):
    """One step of the plan: what to remove and the exact command line, as an argv list."""

    product: str
    display_name: str
    product_code: str | None
    argv: list[str]
    installer: str  # "msi", "inno", "other" or "registry"
    reboot_may_follow: bool
    optional: bool
    installed_display_name: str | None = None
    installed_version: str | None = None
    notes: list[str] = field(default_factory=list)


def identify(display_name: str) -> AsrProduct | None:
    """The known product an Add/Remove Programs DisplayName belongs to (longest contained name wins)."""
    found = display_name.casefold()
    best: tuple[int, AsrProduct] | None = None
    for product in KNOWN_PRODUCTS:
        for name in product.names:
            if name.casefold() in found and (best is None or len(name) > best[0]):
                best = (len(name), product)
    return best[1] if best else None


def _msi_code(entry: InstalledProduct, product: AsrProduct) -> str | None:
    """The MSI product code: the known one, the entry's key name, or the GUID in an MsiExec uninstall string."""
    if product.product_code:
        return product.product_code
    if entry.product_code and _GUID.fullmatch(entry.product_code):
        return entry.product_code.upper()
    for command in (entry.uninstall_string, entry.quiet_uninstall_string):
        argv = split_command_line(command or "")
        if argv and _MSIEXEC.search(argv[0]):
            match = _GUID.search(command or "")
            if match:
                return match.group(0).upper()
    return None


def _msi_step(product: AsrProduct, entry: InstalledProduct, code: str) -> UninstallStep:
    log_name = product.msi_log or f"{product.key}_MSIUninstall.log"
    argv = ["MsiExec.exe", "/qn", "/x", code, "/L+*V", f"{SETUP_LOG_DIR}\\{log_name}"]
    # MsiExec returns 3010 when a reboot is needed to finish; /qn never reboots by itself.
    return _step(product, entry, code, argv, "msi", True)


def _command_step(product: AsrProduct, entry: InstalledProduct) -> UninstallStep:
    for command in (entry.uninstall_string, entry.quiet_uninstall_string):
        argv = split_command_line(command or "")
        if argv and _INNO_UNINSTALLER.search(argv[0]):
            # Inno's QuietUninstallString adds /SILENT, which still shows progress; take the plain string
            # and make it fully silent. A restart Inno would ask for is suppressed, so one may follow.
            flags = [a for a in argv[1:] if a.upper() not in {"/SILENT", *INNO_SILENT_FLAGS}]
            return _step(product, entry, None, [argv[0], *flags, *INNO_SILENT_FLAGS], "inno", True)
    quiet = split_command_line(entry.quiet_uninstall_string or "")
    if quiet:
        return _step(product, entry, None, quiet, "other", True)
    plain = split_command_line(entry.uninstall_string or "")
    if plain:
        step = _step(product, entry, None, plain, "other", True)
        step.notes.append("No QuietUninstallString on the host: this uninstall string may not be silent.")
        return step
    raise PlanningError(
        f"{product.display_name!r} is installed ({entry.display_name!r}) but no uninstall command is known: "
        "pass its QuietUninstallString or UninstallString from the host's Uninstall registry key."
    )


def _step(
    product: AsrProduct, entry: InstalledProduct, code: str | None, argv: list[str], installer: str, reboot: bool
) -> UninstallStep:
    return UninstallStep(
        product.key,
        product.display_name,
        code,
        argv,
        installer,
        reboot,
        product.optional,
        entry.display_name,
        entry.display_version,
    )


def _registration_step() -> UninstallStep:
    # [6.1] Physical CS doc: after the products, delete the vault registration key.
    argv = ["reg.exe", "delete", REGISTRATION_KEY, "/f"]
    return UninstallStep("registration_key", REGISTRATION_KEY, None, argv, "registry", False, False)


def _check_keep(keep: Collection[str], order: Sequence[AsrProduct]) -> None:
    optional = [p.key for p in order if p.optional]
    for key in keep:
        if key not in optional:
            allowed = "any of " + ", ".join(repr(k) for k in optional) if optional else "nothing"
            raise InvalidOption("keep", key, allowed, "Only optional products may be kept.")


def plan_uninstall(
    installed: Sequence[InstalledProduct],
    role: str = "process_server",
    *,
    keep: Collection[str] = (),
    registration_key_present: bool = False,
) -> list[UninstallStep]:
    """Steps, in order, that remove the ASR products still installed on a ``role`` host.

    Products not installed are skipped, so a plan made after a partial uninstall resumes where it stopped.
    ``keep`` lists optional product keys to leave installed (``recovery_services_agent``).
    ``registration_key_present`` (configuration server only) adds the ``reg delete`` of the vault registration.
    """
    order = _ORDER_BY_ROLE[require_choice("role", role, ROLES)]
    if isinstance(keep, str):
        raise InvalidOption("keep", keep, "a list of product keys")
    _check_keep(keep, order)
    present: dict[str, InstalledProduct] = {}
    for entry in installed:
        product = identify(entry.display_name)
        if product is not None:
            present.setdefault(product.key, entry)
    steps = []
    for product in order:
        entry = present.get(product.key)
        if entry is None or product.key in keep:
            continue
        code = _msi_code(entry, product)
        steps.append(_msi_step(product, entry, code) if code else _command_step(product, entry))
    if role == "configuration_server" and registration_key_present:
        steps.append(_registration_step())
    return steps
