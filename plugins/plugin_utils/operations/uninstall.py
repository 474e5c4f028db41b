# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute a decommission decision (:mod:`decommission_plan`) on a probed host: ``ensure_decommissioned``.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

One remote call per product step (``uninstall_step.ps1``), in the planned order [6.1], stopping at the first
failure. Why not one script running every step: each uninstaller is a long, separate process whose outcome
must be known before the next product goes (Dependencies must not go when the CS/PS uninstall failed); a
dropped WinRM connection or a failed step then loses at most that step's report, the products after it are
untouched, and the next run probes and resumes from what is still installed. The price is one extra call per
product, negligible next to minutes of uninstalling; a host with nothing left to remove still costs only the
probe. Check mode lists the steps without running them.
"""

from __future__ import annotations

from typing import Any

from ..domain import decommission_plan, registration_plan, steps, uninstall_plan
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.script_steps import step_status
from .action_base import ActionFailure
from .probe import OperationOutcome

LOG_TAIL_LINES = 40


def probe_request() -> ProbeRequest:
    """Whether the configuration server in amethyst.conf answers [6.5] (the registration's purge needs it)."""
    return ProbeRequest(check_registered_configuration_server=True)


def _names() -> list[str]:
    return sorted({name for p in uninstall_plan.KNOWN_PRODUCTS for name in p.names})


# Why a process server of another configuration server is not decommissioned when configuration_server_ip is given.
OTHER_CONFIGURATION_SERVER = (
    "decommissioning is irreversible and its purge belongs on the configuration server the task names [5], [6.1]"
)


def ensure_decommissioned(
    action: Any, probed: ProbedHost, args: dict[str, Any], task_vars: dict[str, Any]
) -> OperationOutcome:
    """The products removed in order; ``after``: without them (check mode: without the planned ones)."""
    result = _ensure_decommissioned(action, probed, args, task_vars)
    removed = {s["product"] for s in (result["plan"] if action.check_mode else result["removed"])}
    return OperationOutcome(result, probed.after_uninstall(removed))


def _ensure_decommissioned(
    action: Any, probed: ProbedHost, args: dict[str, Any], task_vars: dict[str, Any]
) -> dict[str, Any]:
    registration_plan.check_configuration_server(
        probed.asr, args.get("configuration_server_ip"), OTHER_CONFIGURATION_SERVER
    )
    plan = decommission_plan.plan_decommission(
        probed.raw,
        probed.asr,
        workload_moved=bool(args.get("workload_moved")),
        keep_mars_agent=bool(args.get("keep_mars_agent")),
    )
    for warning in plan.warnings:
        action._warn(warning)
    result: dict[str, Any] = {
        "changed": bool(plan.steps),
        "steps": steps.planned(step_name(s) for s in plan.steps),
        "plan": [s.to_dict() for s in plan.steps],
        "removed": [],
        "reboot_required": False,
        "registration": {
            "registered": plan.registered,
            "configuration_server_ip": plan.configuration_server_ip,
            "connected": plan.connected,
        },
    }
    before = [s.product for s in plan.steps]
    action.set_diff(result, {"installed": before}, {"installed": []})
    if not plan.steps or action.check_mode:
        return result
    result["steps"] = []
    for step in plan.steps:
        log = decommission_plan.step_log(step)
        outcome = action.run_script(
            "uninstall_step",
            task_vars,
            {"Argv": list(step.argv), "LogPath": log or "", "LogTailLines": LOG_TAIL_LINES, "ProductNames": _names()},
        )
        remaining = [uninstall_plan.identify(n) for n in outcome.get("remaining_entries") or []]
        still = any(p is not None and p.key == step.product for p in remaining)
        rc = outcome.get("rc")
        judged = decommission_plan.step_outcome(step, None if rc is None else int(rc), still, step_status(outcome))
        record = {
            "product": step.product,
            "display_name": step.display_name,
            "argv": step.argv,
            "rc": outcome.get("rc"),
            "meaning": judged["meaning"],
            "seconds": outcome.get("seconds"),
            "log": log,
        }
        result["steps"].append(
            steps.step(
                step_name(step), changed=judged["ok"], rc=record["rc"], msg=judged["meaning"], failed=not judged["ok"]
            )
        )
        if not judged["ok"]:
            ended = f"exit code {rc}" if rc is not None else "the uninstaller gave no exit code"
            raise ActionFailure(
                f"Uninstalling {step.display_name} failed: {ended} ({judged['meaning']}). "
                f"Read {log or 'the log'} (log_tail), fix the cause (a pending reboot, a locked file, access denied: "
                "run with become), then run the task again: it resumes with the products still installed "
                f"({', '.join(before[len(result['removed']) :])}).",
                changed=bool(result["removed"]),
                rc=outcome.get("rc"),
                stdout=outcome.get("stdout", ""),
                stderr=outcome.get("stderr", ""),
                log_tail=outcome.get("log_tail") or [],
                removed=result["removed"],
                failed_step=record,
                steps=result["steps"],
                plan=result["plan"],
            )
        result["removed"].append(record)
        result["reboot_required"] = result["reboot_required"] or judged["reboot_required"]
    return result


def step_name(step: uninstall_plan.UninstallStep) -> str:
    """A product's uninstall step as check mode predicts it and a real run reports it."""
    return f"uninstall {step.display_name}"
