# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrade a scale-out process server or a configuration server with ``UnifiedSetup.exe /Upgrade`` [4], hop by
hop when N-4 requires.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

``upgrade_spec`` checks the options (no remote call); ``ensure_upgraded`` takes an already-made probe, plans with
:func:`upgrade_plan.plan_upgrade` and runs the hops as :class:`SetupHop` requests of the one setup path
(:class:`SetupExecutor`: stage, start detached, poll, clean up, verify the new build), as install does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import install_plan, upgrade_plan
from ..domain.install_plan import REBOOT_BEFORE, Installer
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.steps import planned as planned_steps
from ..domain.upgrade_plan import UpgradeRequest
from ..domain.versions import parse_version
from .action_base import ActionFailure, AsrActionBase
from .install import check_timing
from .probe import OperationOutcome
from .setup import SetupSettings, extract_dir_for, host_after_setup, upload_name_for
from .setup_executor import SetupDone, SetupExecutor, SetupHop


@dataclass
class UpgradeSpec:
    request: UpgradeRequest
    settings: SetupSettings


def upgrade_spec(args: dict[str, Any], installer: Installer, intermediate: list[Installer]) -> UpgradeSpec:
    """Validate the upgrade options (raises :class:`InvalidOption`); no remote call."""
    settings = check_timing(args)
    # The process_server module has no server_role: it upgrades process servers only.
    eula = bool(args.get("accept_third_party_eula", False))
    role = upgrade_plan.check_server_role(args.get("server_role", upgrade_plan.PROCESS_SERVER), eula)
    cs_version = None
    if args.get("configuration_server_version"):
        cs_version = parse_version(args["configuration_server_version"], "configuration_server_version")
    # [3.1] PS <= CS, checked before any remote call unless the host is declared a configuration server (the
    # rule does not apply to a CS against itself; with auto the plan skips it once the probe shows a CS).
    failure = None
    if role != upgrade_plan.CONFIGURATION_SERVER:
        failure = install_plan.check_configuration_server_version(installer.version, cs_version, installer.option)
    if failure:
        from ..domain.errors import InvalidOption

        raise InvalidOption(
            "configuration_server_version", str(cs_version), f"a version at or above the installer's "
            f"{installer.version}", failure + " On the configuration server itself leave configuration_server_version "
            "unset or set server_role: configuration_server.",
        )  # fmt: skip
    upgrade_plan.upgrade_command(
        upgrade_plan.CONFIGURATION_SERVER if eula else upgrade_plan.PROCESS_SERVER,
        extract_dir_for(settings.staging_dir, installer.remote_path),
        eula,
    )
    return UpgradeSpec(
        request=UpgradeRequest(
            installer=installer,
            intermediate=intermediate,
            configuration_server_version=cs_version,
            reboot=args["reboot"],
            server_role=role,
            accept_third_party_eula=eula,
        ),
        settings=settings,
    )


def probe_request(spec: UpgradeSpec) -> ProbeRequest:
    """What the one probe call must also check for the upgrade: the installer file (staged, or transferred)."""
    installer = spec.request.installer
    return ProbeRequest(
        installer_path=installer.remote_path,
        installer_checksum=bool(installer.sha256) or installer.transferred,
        installer_upload_name=upload_name_for([installer, *spec.request.intermediate]),
    )


def ensure_upgraded(
    action: AsrActionBase,
    host: ProbedHost,
    spec: UpgradeSpec,
    task_vars: dict[str, Any],
    after_probe: ProbeRequest | None = None,
) -> OperationOutcome:
    """Bring an installed process server (or configuration server) to the installer's version from its probe.

    ``after`` is the host once setup ran: read again when the caller asks (``after_probe``), else as ``/Upgrade``
    leaves it [4]: the same configuration, every component at the new version.
    """
    plan = upgrade_plan.plan_upgrade(host, spec.request)
    for warning in plan.warnings:
        action._warn(warning)
    role = upgrade_plan.resolve_role(host, spec.request)[0]
    result: dict[str, Any] = {
        "server_role": role,
        "changed": plan.changed,
        "steps": planned_steps(plan.steps),
        "hops": [h["version"] for h in plan.hops],
        "version_before": plan.version_before,
        "version_after": plan.version_after,
        "installer_version": plan.installer_version,
        "reboot_required": False,
    }
    if plan.failure:
        raise ActionFailure(plan.failure, refusal=True, **{**result, "changed": False, "steps": [], "hops": []})
    if not plan.changed:
        return OperationOutcome({**result, "msg": plan.reason}, host)
    before = host.summary()
    components = before["components"]
    action.set_diff(
        result, before, {**before, "components": {k: plan.version_after for k in components if components[k]}}
    )
    if action.check_mode:
        predicted = host.after_setup(plan.version_after)
        return OperationOutcome({**result, "msg": "check mode: " + "; ".join(plan.steps)}, predicted)
    executor = SetupExecutor(
        action, task_vars, spec.settings, host, version_before=plan.version_before, role=role, after_probe=after_probe
    )
    done, plan = _upgrade(executor, plan, spec, role)
    result.update(done.result_fields(plan), hops=[h["version"] for h in plan.hops])
    if done.exit_code_name is not None:
        name = upgrade_plan.ROLE_NAMES[role]
        result["msg"] = (
            done.setup_msg
            if done.reboot_required
            else f"{name[0].upper()}{name[1:]} upgraded from {result['version_before']} to {done.version_after}."
        )
    expected = host.after_setup(done.version_after)
    return OperationOutcome(result, host_after_setup(action, task_vars, done.read_after, after_probe, expected))


def _upgrade(
    executor: SetupExecutor, plan: install_plan.Plan, spec: UpgradeSpec, role: str
) -> tuple[SetupDone, install_plan.Plan]:
    """Reboot first when planned; stage the target to learn its version and plan again when it is not known; then
    one ``/Upgrade`` run per hop [4], each hop's package staged first when it is transferred."""
    target = spec.request.installer
    if REBOOT_BEFORE in plan.steps:
        executor.reboot_first()
    if not plan.version_known:
        executor.stage(target)
        plan = upgrade_plan.plan_upgrade(executor.host, spec.request)
        if plan.failure:
            executor.refuse(plan.failure)
        if not plan.steps:
            return executor.nothing_to_run(plan.version_after), plan
    host = executor.host
    hops = []
    current = str(host.version)
    for hop in upgrade_plan.hop_installers(host, spec.request):
        version = str(hop.version)
        stage = hop.transferred and (hop is not target or install_plan.needs_staging(host, target))
        stage_step, run_step, cleanup_step = upgrade_plan.hop_steps(hop.version, True)
        argv = upgrade_plan.upgrade_command(
            role, extract_dir_for(spec.settings.staging_dir, hop.remote_path), spec.request.accept_third_party_eula
        )
        hops.append(
            SetupHop(
                installer=hop,
                argv=tuple(argv),
                version=version,
                run_step=run_step,
                cleanup_step=cleanup_step,
                upgrade_from=current,
                stage_step=stage_step if stage else None,
            )
        )
        current = version
    return executor.run(hops), plan
