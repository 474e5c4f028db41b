# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide what upgrading an installed scale-out process server takes, from ONE probe result.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Pure Python, like :mod:`install_plan` (whose :class:`~.install_plan.HostState`, :class:`~.install_plan.Plan`
and preflight checks it shares). Rules ([4], [1.3], [3.1] of ``reference/asr-process-server.md``):

* the only silent upgrade is ``UnifiedSetup.exe /Upgrade`` (no other switch for a process server);
* same version -> nothing to do; an older installer -> refused (setup does not downgrade);
* the N-4 rule: setup refuses a jump of more than 4 minor versions (exit 203). Without intermediate
  installers the plan fails and explains the rule; with ``installers`` (paths + versions) it plans the hops
  with :func:`versions.plan_upgrade_path` (9.16 -> 9.20 -> 9.24) and runs each;
* the process server never ends newer than its configuration server (``configuration_server_version``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidOption, PlanningError
from .install_plan import (
    CLEANUP,
    RUN_UPGRADE,
    STAGE,
    HostState,
    Installer,
    Plan,
    check_configuration_server_version,
    check_installer_file,
    check_pending_reboot,
    check_privilege,
    installer_version,
    needs_staging,
)
from .versions import MAX_MINOR_HOP, Version, minor_gap, plan_upgrade_path


@dataclass
class UpgradeRequest:
    installer: Installer
    intermediate: list[Installer] = field(default_factory=list)
    configuration_server_version: Version | None = None
    reboot: bool = False


def hop_steps(version: Version, stage: bool) -> list[str]:
    """The steps of one ``/Upgrade`` hop to ``version``."""
    return [*([f"{STAGE} {version}"] if stage else []), f"{RUN_UPGRADE} to {version}", f"{CLEANUP} ({version})"]


def plan_upgrade(state: HostState, request: UpgradeRequest) -> Plan:
    """Hops of ``/Upgrade`` (usually one) that bring the process server to the installer's version."""
    target = installer_version(state, request.installer)
    installed = state.version
    plan = Plan(
        version_before=str(installed) if installed else None,
        installer_version=str(target) if target else None,
        version_known=target is not None,
    )
    if installed is None or not state.csps_installed:
        plan.failure = (
            "No Azure Site Recovery process server is installed on the host, so there is nothing to upgrade. "
            "Install it with asr.process_server.install."
        )
        return plan
    if state.cx_type in (1, 3):
        plan.failure = (
            f"The host is a configuration server (CX_TYPE {state.cx_type}); asr.process_server.upgrade upgrades "
            "scale-out process servers. Upgrade the configuration server with its own procedure first [4]."
        )
        return plan
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
        plan.reason = f"the process server is already at the installer's version {installed}"
        return plan
    if target < installed:
        plan.failure = (
            f"installer: version {target} is older than the installed process server ({installed}); Unified Setup "
            "does not downgrade [4]. Use an installer at or above the installed version."
        )
        return plan
    try:
        hops = _hops(installed, target, request)
    except (PlanningError, InvalidOption) as exc:
        plan.failure = str(exc)
        return plan
    for failure in (check_installer_file(state, request.installer), check_privilege(state)):
        if failure:
            plan.failure = failure
            return plan
    reboot_steps, failure = check_pending_reboot(state, request.reboot)
    if failure:
        plan.failure = failure
        return plan
    steps = list(reboot_steps)
    for hop in hops:
        stage = needs_staging(state, hop) if hop is request.installer else hop.local_path is not None
        steps += hop_steps(hop.version or target, stage)
        plan.hops.append({"version": str(hop.version or target), "installer": hop.local_path or hop.remote_path})
    plan.steps = steps
    plan.version_after = str(target)
    plan.reason = f"the process server is at {installed}; the installer is {target}"
    return plan


def hop_installers(state: HostState, request: UpgradeRequest) -> list[Installer]:
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
            "intermediate Unified Setup builds in 'installers' (path and version) and this module runs each hop."
        )
    path = plan_upgrade_path(installed, target, [v for v in by_version if v < target])
    return [
        by_version[v] if v in by_version and v != target else _with_version(request.installer, target) for v in path
    ]


def _with_version(installer: Installer, version: Version) -> Installer:
    if installer.version is None:
        installer.version = version
    return installer
