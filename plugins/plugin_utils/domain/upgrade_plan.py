# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what upgrading an installed process server or configuration server takes, from ONE probe result.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Pure Python, like :mod:`install_plan` (whose :class:`~.install_plan.Plan` and preflight checks it shares), from
the probe's :class:`~.probe.ProbedHost`. Rules ([4], [1.3], [3.1] of ``reference/asr-process-server.md``):

* the only silent upgrade is ``UnifiedSetup.exe /Upgrade``, for a configuration server (CS) and a scale-out
  process server (PS) alike; a CS that still has MySQL 5.5 also needs ``/AcceptThirdpartyEULA`` [1.3]. The
  reference gives no way to tell the MySQL version from the host, so that switch is the operator's explicit
  ``accept_third_party_eula`` (CS only);
* the role comes from ``CX_TYPE`` in ``Installed Products\\9`` [6.4] (1 CS only, 2 PS only, 3 CS and PS);
  ``server_role`` ``auto`` follows it, an explicit role that contradicts it is refused;
* same version -> nothing to do; an older installer -> refused on a PS (setup does not downgrade [4]); on a CS
  it is left alone with a warning: a CS newer than the installer already satisfies "CS first" and PS <= CS;
* the N-4 rule (CS and PS alike [4]): setup refuses a jump of more than 4 minor versions (exit 203). Without
  intermediate installers the plan fails and explains the rule; with ``installers`` (paths + versions) it plans
  the hops with :func:`versions.plan_upgrade_path` (9.16 -> 9.20 -> 9.24) and runs each;
* a process server never ends newer than its configuration server (``configuration_server_version``) [3.1];
  that rule is not applied to a configuration server against itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import product, unified_setup
from .errors import InvalidOption, PlanningError
from .install_plan import (
    CLEANUP,
    RUN_UPGRADE,
    STAGE,
    Installer,
    Plan,
    check_configuration_server_version,
    check_dotnet_framework,
    check_installer_file,
    check_pending_reboot,
    check_privilege,
    installer_version,
    needs_staging,
)
from .playbook_variables import both
from .probe import ProbedHost
from .versions import MAX_MINOR_HOP, Version, minor_gap, plan_upgrade_path

AUTO = "auto"
PROCESS_SERVER = "process_server"
CONFIGURATION_SERVER = "configuration_server"
SERVER_ROLES = (AUTO, PROCESS_SERVER, CONFIGURATION_SERVER)
ROLE_NAMES = {PROCESS_SERVER: "process server", CONFIGURATION_SERVER: "configuration server"}


@dataclass
class UpgradeRequest:
    installer: Installer
    intermediate: list[Installer] = field(default_factory=list)
    configuration_server_version: Version | None = None
    reboot: bool = False
    server_role: str = PROCESS_SERVER
    accept_third_party_eula: bool = False


def check_server_role(value: object, accept_third_party_eula: bool = False) -> str:
    """``server_role`` and its pairing with ``accept_third_party_eula``, before any remote call."""
    if value not in SERVER_ROLES:
        raise InvalidOption("server_role", value, ", ".join(SERVER_ROLES))
    if accept_third_party_eula and value == PROCESS_SERVER:
        raise InvalidOption(
            "accept_third_party_eula",
            accept_third_party_eula,
            "false when server_role is process_server",
            "A process server upgrade is UnifiedSetup.exe /Upgrade alone; /AcceptThirdpartyEULA is for a "
            "configuration server that still has MySQL 5.5 [1.3].",
        )
    return str(value)


def host_role(cx_type: int | None) -> str | None:
    """[6.4] CX_TYPE 1 (CS only) and 3 (CS and PS) are configuration servers, 2 a scale-out process server."""
    if cx_type is None:
        return None
    if product.is_scale_out_process_server(cx_type):
        return PROCESS_SERVER
    if cx_type in (product.CX_TYPE_CS_ONLY, product.CX_TYPE_CS_AND_PS):
        return CONFIGURATION_SERVER
    return None


def resolve_role(state: ProbedHost, request: UpgradeRequest) -> tuple[str, str | None]:
    """The role to upgrade as, or a failure when ``server_role`` contradicts the host's CX_TYPE [6.4].

    ``auto`` on a host without a readable CX_TYPE is a process server (what this collection installs).
    """
    found = host_role(state.cx_type)
    wanted = request.server_role
    if wanted == AUTO:
        role = found or PROCESS_SERVER
    elif found is not None and found != wanted:
        return wanted, (
            f"server_role: {wanted} was given, but the host is a {ROLE_NAMES[found]} (CX_TYPE {state.cx_type}: "
            f"{product.cx_type_name(state.cx_type or 0)} [6.4]). Use server_role: {found} (or auto) for this host."
        )
    else:
        role = wanted
    if request.accept_third_party_eula and role == PROCESS_SERVER:
        return role, (
            "accept_third_party_eula: true is only for a configuration server with MySQL 5.5 [1.3]; this host is a "
            "process server, whose upgrade is UnifiedSetup.exe /Upgrade alone. Leave accept_third_party_eula false."
        )
    return role, None


def upgrade_command(role: str, extract_dir: str, accept_third_party_eula: bool = False) -> list[str]:
    """[1.3] ``UnifiedSetup.exe /Upgrade`` (+ ``/AcceptThirdpartyEULA`` on a CS whose operator says MySQL 5.5)."""
    return unified_setup.build_upgrade(
        extract_dir=extract_dir,
        server_mode="CS" if role == CONFIGURATION_SERVER else "PS",
        accept_third_party_eula=accept_third_party_eula,
    ).argv


def services_to_check(role: str) -> list[str]:
    """[6.3] the services a poll reads: a configuration server runs W3SVC, MySQL and dra on top of the PS's."""
    names = list(product.PROCESS_SERVER_SERVICES)
    if role == CONFIGURATION_SERVER:
        names += list(product.CONFIGURATION_SERVER_EXTRA_SERVICES)
    return names


def configuration_server_problems(poll: dict[str, Any]) -> list[str]:
    """[6.3] after a CS upgrade: W3SVC (IIS, which serves the CS on 443 [2.1]), MySQL and dra must run."""
    states = {s.get("name"): (s.get("state") if s.get("present") else None) for s in poll.get("services") or []}
    stopped = [name for name in product.CONFIGURATION_SERVER_EXTRA_SERVICES if states.get(name) != "running"]
    return ["configuration server services not running: " + ", ".join(stopped)] if stopped else []


def hop_steps(version: Version, stage: bool) -> list[str]:
    """The steps of one ``/Upgrade`` hop to ``version``."""
    return [*([f"{STAGE} {version}"] if stage else []), f"{RUN_UPGRADE} to {version}", f"{CLEANUP} ({version})"]


def plan_upgrade(state: ProbedHost, request: UpgradeRequest) -> Plan:
    """Hops of ``/Upgrade`` (usually one) that bring the process or configuration server to the installer's version."""
    target = installer_version(state, request.installer)
    installed = state.version
    plan = Plan(
        version_before=str(installed) if installed else None,
        installer_version=str(target) if target else None,
        version_known=target is not None,
    )
    if installed is None or not state.csps_installed:
        plan.failure = (
            "No Azure Site Recovery configuration/process server is installed on the host, so there is nothing to "
            "upgrade. Install a process server with asr.process_server.install."
        )
        return plan
    role, failure = resolve_role(state, request)
    if failure:
        plan.failure = failure
        return plan
    name = ROLE_NAMES[role]
    if role == PROCESS_SERVER:  # [3.1] PS <= CS; not a CS against itself
        failure = check_configuration_server_version(target, request.configuration_server_version)
        if failure:
            plan.failure = failure
            return plan
    plan.version_after = str(installed)
    if target is None:
        plan.steps = [f"{STAGE} (version read on the host)"]
        plan.reason = "the installer's version is only known once it is staged on the host"
        return plan
    if target == installed:
        plan.reason = f"the {name} is already at the installer's version {installed}"
        return plan
    if target < installed and role == CONFIGURATION_SERVER:
        plan.reason = f"the configuration server ({installed}) is newer than the installer ({target})"
        plan.warnings.append(
            f"The configuration server runs {installed}, newer than the installer ({target}); it was left alone "
            "(Unified Setup does not downgrade [4]). Its process servers may run the installer's build (PS <= CS "
            "[3.1])."
        )
        return plan
    if target < installed:
        plan.failure = (
            f"installer: version {target} is older than the installed {name} ({installed}); Unified Setup "
            "does not downgrade [4]. Use an installer at or above the installed version."
        )
        return plan
    try:
        hops = _hops(installed, target, request)
    except (PlanningError, InvalidOption) as exc:
        plan.failure = str(exc)
        return plan
    checks = (check_installer_file(state, request.installer), check_dotnet_framework(state), check_privilege(state))
    for failure in checks:
        if failure:
            plan.failure = failure
            return plan
    reboot_steps, failure = check_pending_reboot(state, request.reboot)
    if failure:
        plan.failure = failure
        return plan
    steps = list(reboot_steps)
    for hop in hops:
        stage = needs_staging(state, hop) if hop is request.installer else hop.transferred
        steps += hop_steps(hop.version or target, stage)
        plan.hops.append({"version": str(hop.version or target), "installer": hop.shown})
    plan.steps = steps
    plan.version_after = str(target)
    plan.reason = f"the {name} is at {installed}; the installer is {target}"
    return plan


def hop_installers(state: ProbedHost, request: UpgradeRequest) -> list[Installer]:
    """The installers of each hop of a plan that :func:`plan_upgrade` accepted (for the executor)."""
    target = installer_version(state, request.installer)
    if not (state.version is not None and target is not None):  # internal invariant
        raise AssertionError("state.version is not None and target is not None")
    return _hops(state.version, target, request)


def _hops(installed: Version, target: Version, request: UpgradeRequest) -> list[Installer]:
    """[4] one hop when within N-4, else the intermediate installers' path; a clear refusal otherwise."""
    if minor_gap(installed, target) <= MAX_MINOR_HOP:
        return [_with_version(request.installer, target)]
    by_version = {i.version: i for i in request.intermediate if i.version is not None}
    if not by_version:
        raise PlanningError(
            f"Upgrading {installed} -> {target} jumps {minor_gap(installed, target)} minor versions; Unified Setup "
            f"supports at most {MAX_MINOR_HOP} (the N-4 rule [4]) and would exit 203 (UpgradeNotSupported). "
            f"Upgrade in hops of at most {MAX_MINOR_HOP} minor versions (e.g. 9.16 -> 9.20 -> 9.24): list the "
            f"intermediate Unified Setup builds in {both('installers')} (path or remote_path, and version) and "
            "each hop is run in turn."
        )
    try:
        path = plan_upgrade_path(installed, target, [v for v in by_version if v < target])
    except PlanningError as exc:
        raise PlanningError(f"{exc} List it in {both('installers')} (path or remote_path, and version).") from exc
    return [
        by_version[v] if v in by_version and v != target else _with_version(request.installer, target) for v in path
    ]


def _with_version(installer: Installer, version: Version) -> Installer:
    if installer.version is None:
        installer.version = version
    return installer
