# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Upgrade a scale-out process server or a configuration server with ``UnifiedSetup.exe /Upgrade`` [4], hop by
hop when N-4 requires.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

``upgrade_spec`` checks the options (no remote call); ``ensure_upgraded`` takes an already-made probe, plans with
:func:`upgrade_plan.plan_upgrade` and runs each hop with :class:`_op_setup.SetupRunner` (stage, start detached,
poll, clean up, verify the new build).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..domain import install_plan, upgrade_plan
from ..domain.install_plan import REBOOT_AFTER, REBOOT_BEFORE, Installer
from ..domain.playbook_variables import both
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.setup_outcome import verify
from ..domain.steps import planned as planned_steps
from ..domain.upgrade_plan import UpgradeRequest, hop_steps
from ..domain.versions import parse_version
from .action_base import ActionFailure, AsrActionBase
from .install import check_timing
from .probe import OperationOutcome
from .setup import SetupRunner, SetupSettings, extract_dir_for, host_after_setup, upload_name_for


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
    result = _ensure_upgraded(action, host, spec, task_vars, after_probe)
    read = result.pop("_post_state", None)
    if not result["changed"]:
        return OperationOutcome(result, host)
    expected = host.after_setup(result.get("version_after"))
    return OperationOutcome(result, host_after_setup(action, task_vars, read, after_probe, expected))


def _ensure_upgraded(
    action: AsrActionBase,
    state: ProbedHost,
    spec: UpgradeSpec,
    task_vars: dict[str, Any],
    post_probe: ProbeRequest | None = None,
) -> dict[str, Any]:
    plan = upgrade_plan.plan_upgrade(state, spec.request)
    for warning in plan.warnings:
        action._warn(warning)
    role = upgrade_plan.resolve_role(state, spec.request)[0]
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
    if plan.changed:
        before = state.summary()
        after = {
            **before,
            "components": {k: plan.version_after for k in before["components"] if before["components"][k]},
        }
        action.set_diff(result, before, after)
    if action.check_mode or not plan.changed:
        result["msg"] = plan.reason if not plan.changed else "check mode: " + "; ".join(plan.steps)
        return result
    done: list[str] = []
    try:
        result = _execute(action, state, plan, spec, task_vars, result, done, role, post_probe)
    except ActionFailure as exc:
        exc.detail.update(changed=bool(done) or exc.detail.get("changed", False), steps=planned_steps(done))
        exc.detail.setdefault("version_before", result["version_before"])
        raise
    result["steps"] = planned_steps(done)  # the names the plan predicted, each a step that ran
    return result


def _execute(action, state, plan, spec, task_vars, result, done, role, post_probe=None):  # type: ignore[no-untyped-def]
    runner = SetupRunner(action, task_vars, spec.settings, state, post_probe)
    runner.service_names = upgrade_plan.services_to_check(role)
    name = upgrade_plan.ROLE_NAMES[role]
    target = spec.request.installer
    if REBOOT_BEFORE in plan.steps:
        runner.reboot("a reboot was pending before Unified Setup")
        done.append(REBOOT_BEFORE)
        runner.host = state = replace(state, pending_reboot=False)
    if not plan.version_known:  # stage the target to learn its version, then plan again
        runner.stage(target)
        state = runner.host
        done.append(f"{install_plan.STAGE} {state.installer.get('file_version')}")
        plan = upgrade_plan.plan_upgrade(state, spec.request)
        if plan.failure:
            raise ActionFailure(plan.failure, refusal=True)
        result.update(installer_version=plan.installer_version, hops=[h["version"] for h in plan.hops])
        if not plan.steps:
            result.update(changed=True, steps=done, msg=plan.reason)
            return result
    hops = upgrade_plan.hop_installers(state, spec.request)
    current = str(state.version)
    for index, hop in enumerate(hops):
        version = str(hop.version)
        stage_step, run_step, cleanup_step = (
            hop_steps(hop.version, True)
            if hop.transferred
            else [None, *hop_steps(hop.version, False)]
        )  # fmt: skip
        if hop.transferred and (hop is not target or install_plan.needs_staging(state, target)):
            facts = runner.stage(hop)
            done.append(stage_step)
            if parse_version(facts.get("file_version") or "0.0") != hop.version:
                raise ActionFailure(
                    f"{both('installers')}: the file given for {version} is version {facts.get('file_version')}; "
                    "correct that entry's version or file."
                )
        argv = upgrade_plan.upgrade_command(
            role, extract_dir_for(spec.settings.staging_dir, hop.remote_path), spec.request.accept_third_party_eula
        )
        run = runner.run(
            operation=f"upgrade {current} -> {version}",
            package=hop.remote_path,
            expected_sha256=hop.sha256,
            argv=argv,
            version=version,
        )
        done.extend([run_step, cleanup_step])
        outcome = run.outcome
        if not (outcome is not None):  # internal invariant
            raise AssertionError("outcome is not None")
        result.update(exit_code=outcome.rc, exit_code_name=outcome.name, polls=run.polls, poll_retries=run.poll_retries)
        if not outcome.success:
            msg = outcome.msg
            if outcome.rc == 203:
                msg = (
                    f"Upgrade not supported: Unified Setup refused to upgrade {current} to {version} (exit code 203, "
                    "UpgradeNotSupported). It refuses jumps of more than 4 minor versions (N-4 rule), downgrades and "
                    "a process server newer than its configuration server [4]; the log tail says which. "
                    + ("" if role == upgrade_plan.PROCESS_SERVER else "No process server was touched. ")
                    + (outcome.detail.get("remediation") or "")
                )
            raise ActionFailure(msg, **outcome.detail, version_after=current)
        poll = run.last_poll or {}
        if outcome.reboot_required:
            if not spec.settings.reboot:
                result.update(changed=True, steps=done, reboot_required=True, version_after=version)
                if index < len(hops) - 1:
                    action._warn(
                        f"Unified Setup needs a reboot after the hop to {version} (3010); reboot the host and run the "
                        "task again to continue, or set reboot: true."
                    )
                return result
            runner.reboot(f"Unified Setup exit code 3010 after the upgrade to {version}")
            done.append(REBOOT_AFTER)
            poll = runner.poll("")
        problems = verify(poll, version=version, configuration_server_ip=None, after_reboot=outcome.reboot_required)
        if role == upgrade_plan.CONFIGURATION_SERVER:
            problems += upgrade_plan.configuration_server_problems(poll)
        if problems:
            raise ActionFailure(
                f"Unified Setup reported success for the upgrade to {version} but: "
                + "; ".join(problems)
                + ". Read the setup logs (log_tail) and run the task again.",
                log_tail=list((poll.get("setup_log") or {}).get("tail") or []),
                exit_code=outcome.rc,
            )
        current = (poll.get("csps") or {}).get("build_version") or version
        if index < len(hops) - 1:
            state = replace(state, version=parse_version(current))
    result.update(
        changed=True,
        steps=done,
        version_after=current,
        msg=f"{name[0].upper()}{name[1:]} upgraded from {result['version_before']} to {current}.",
    )
    if runner.post_state is not None:
        result["_post_state"] = runner.post_state
    return result
