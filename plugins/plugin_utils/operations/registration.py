# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute a re-registration decision (:mod:`registration_plan`) on a probed host: ``ensure_registered``.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Converged host: no remote call here. Change: ONE call of ``register_apply.ps1`` (``cdpcli --registermt`` from
``%ProgramData%\\ASR\\Agent``, obengine restart [3.3]). Check mode: the plan only.
"""

from __future__ import annotations

from typing import Any

from ..domain import registration_plan, steps
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.script_steps import step_status
from .action_base import ActionFailure
from .probe import OperationOutcome


def probe_request() -> ProbeRequest:
    """Whether the configuration server in amethyst.conf answers [6.5]."""
    return ProbeRequest(check_registered_configuration_server=True)


def ensure_registered(
    action: Any, probed: ProbedHost, args: dict[str, Any], task_vars: dict[str, Any]
) -> OperationOutcome:
    """The master target registered with its configuration server; ``after``: the CS answered, obengine runs."""
    result = _ensure_registered(action, probed, args, task_vars)
    return OperationOutcome(result, probed.after_registration() if result["changed"] else probed)


def _ensure_registered(
    action: Any, probed: ProbedHost, args: dict[str, Any], task_vars: dict[str, Any]
) -> dict[str, Any]:
    plan = registration_plan.plan_registration(
        probed.asr, configuration_server_ip=args.get("configuration_server_ip"), force=bool(args.get("force"))
    )
    state = registration_plan.registration_state(probed.asr)
    result: dict[str, Any] = {
        "changed": plan.register,
        "reasons": plan.reasons,
        "registration": state,
        "steps": steps.planned(steps.REGISTRATION_STEPS) if plan.register else [],
    }
    for warning in plan.warnings:
        action._warn(warning)
    if not plan.register or action.check_mode:
        return result
    applied = action.run_script("register_apply", task_vars)
    reported = applied.get("steps") or []
    result["steps"] = steps.from_script(steps.REGISTRATION_STEPS, reported)
    if not applied.get("ok"):
        step = applied.get("failed_step") or "registermt"
        detail = next((s for s in reported if s.get("name") == step), {})
        if step == "registermt":
            msg = (
                f"cdpcli.exe --registermt failed ({step_status(detail)}) registering with configuration server "
                f"{plan.configuration_server_ip}. "
                + registration_plan.registration_failure_hint(detail.get("rc"), detail.get("stdout", ""))
            )
        else:
            msg = (
                f"The master target was registered but step {step} failed ({step_status(detail)}): the obengine "
                "service (Microsoft Azure Recovery Services Agent) did not restart. Read the System event log, start "
                "it, then run the task again."
            )
        raise ActionFailure(
            msg,
            rc=detail.get("rc"),
            stdout=detail.get("stdout", ""),
            stderr=detail.get("stderr", ""),
            steps=result["steps"],
            changed=step != "registermt",
        )
    state["obengine"] = "running"
    return result
