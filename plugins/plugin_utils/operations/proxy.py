# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Execute a proxy decision (:mod:`proxy_plan`) on a probed host: ``ensure_proxy``.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Converged host: no remote call here (the caller's probe was the only one). Change: ONE call of
``proxy_apply.ps1`` (Set-OBMachineSetting with the password as a SecureString, obengine restart,
``cdpcli --registermt``, obengine restart, optional settings file [8]), verified with its read-back.
Check mode: the plan only.
"""

from __future__ import annotations

from typing import Any

from ..domain import proxy_plan, steps
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.product import MARS_SERVICE
from ..domain.proxy_plan import ProxyRequest
from ..domain.script_steps import step_status
from .action_base import ActionFailure
from .probe import OperationOutcome

REMEDIATION = {
    "set_ob_machine_setting": "Check that the MARS agent is healthy (Microsoft Azure Backup console opens) and the "
    "proxy values are accepted by Set-OBMachineSetting [6.6].",
    "stop_obengine": f"Stop the {MARS_SERVICE} service by hand and read the System event log.",
    "start_obengine": f"The {MARS_SERVICE} service (Microsoft Azure Recovery Services Agent) did not start: read the "
    "System event log and C:\\Program Files\\Microsoft Azure Recovery Services Agent\\Temp\\CBEngineCurr.errlog "
    "[7.5], fix it, then run the task again (it re-applies what is missing).",
    "registermt": "cdpcli.exe --registermt could not register with the configuration server: check that it is "
    "reachable on TCP 443 through the new proxy, then run the task again [3.3].",
    "write_settings_file": "Check that the folder of settings_file exists or can be created and is writable by the "
    "connection user.",
    "restart_obengine": f"The {MARS_SERVICE} service (Microsoft Azure Recovery Services Agent) could not be restarted "
    "(rc 1060: it does not exist, so the MARS agent is not installed): read stderr and the System event log, then run "
    "the task again.",
}


def probe_request(request: ProxyRequest | None) -> ProbeRequest:
    """The proxy settings file's facts (``settings_file``), to compare with the wanted proxy."""
    return ProbeRequest(proxy_settings_file=request.settings_file if request is not None else None)


def ensure_proxy(action: Any, probed: ProbedHost, request: ProxyRequest, task_vars: dict[str, Any]) -> OperationOutcome:
    """The MARS proxy as ``request`` wants it; ``after``: the proxy proxy_apply.ps1 read back (or would set)."""
    result = _ensure_proxy(action, probed, request, task_vars)
    if not result["changed"]:
        return OperationOutcome(result, probed)
    # Derived, not re-probed: proxy_apply.ps1 reports ok only when every step succeeded and Get-OBMachineSetting
    # read the new proxy back, so the MARS proxy, a running obengine and (when it ran) a successful
    # cdpcli --registermt -- the CS answered -- are known without another call [8].
    return OperationOutcome(result, probed.after_mars_proxy(result["proxy"], registered_mt=result["registered_mt"]))


def _ensure_proxy(action: Any, probed: ProbedHost, request: ProxyRequest, task_vars: dict[str, Any]) -> dict[str, Any]:
    wanted = request.wanted
    plan = proxy_plan.plan_proxy(
        probed.asr, wanted, update_password=request.update_password, settings_file=request.settings_file
    )
    result: dict[str, Any] = {
        "changed": plan.changed,
        "proxy": plan.after,
        "reasons": plan.reasons,
        "registered_mt": False,
        "settings_file": request.settings_file,
        "steps": [],
    }
    names = step_names(plan)
    action.set_diff(result, {"mars_proxy": plan.before}, {"mars_proxy": plan.after})
    if not plan.changed or action.check_mode:
        if plan.changed:
            result.update(registered_mt=plan.register_mt, steps=steps.planned(names))
        return result
    parameters: dict[str, Any] = {
        "SetMarsProxy": plan.set_mars_proxy,
        "NoProxy": plan.no_proxy,
        "ProxyServer": wanted.address if wanted else "",
        "ProxyPort": wanted.port if wanted else 0,
        "ProxyUserName": wanted.username if wanted else "",
        "RegisterMt": plan.register_mt,
        "SettingsFilePath": request.settings_file if plan.write_settings_file else "",
        "SettingsFileContent": proxy_plan.settings_file_text(wanted) if (plan.write_settings_file and wanted) else "",
    }
    sensitive = {"ProxyPassword": wanted.password} if (wanted and wanted.password and plan.set_mars_proxy) else None
    applied = action.run_script("proxy_apply", task_vars, parameters, sensitive)
    reported = applied.get("steps") or []
    result["steps"] = steps.from_script(names, reported)
    result["registered_mt"] = any(s.get("name") == "registermt" and s.get("rc") == 0 for s in reported)
    if not applied.get("ok"):
        step = applied.get("failed_step") or "unknown"
        detail = next((s for s in reported if s.get("name") == step), {})
        raise ActionFailure(
            f"Changing the MARS proxy failed at step {step} ({step_status(detail)}). "
            + REMEDIATION.get(step.split("_after")[0], "Read stdout and stderr."),
            rc=detail.get("rc"),
            stdout=detail.get("stdout", ""),
            stderr=detail.get("stderr", ""),
            steps=result["steps"],
            changed=True,
        )
    readback = applied.get("readback") or {}
    if plan.set_mars_proxy:
        if readback.get("error"):
            raise ActionFailure(f"The MARS proxy was set but could not be read back: {readback['error']}", changed=True)
        left = proxy_plan.mars_proxy_differences({**readback, "enabled": bool(readback.get("enabled"))}, wanted)
        if left:
            raise ActionFailure(
                "The MARS proxy was set but Get-OBMachineSetting reads back something else: " + "; ".join(left),
                changed=True,
            )
        result["proxy"] = proxy_plan.current_mars_proxy({"proxy": {"mars": readback}})
    return result


def step_names(plan: proxy_plan.ProxyPlan) -> list[str]:
    """The steps of ``plan`` as check mode predicts them and a real run reports them."""
    return steps.proxy_step_names(
        set_mars_proxy=plan.set_mars_proxy,
        no_proxy=plan.no_proxy,
        register_mt=plan.register_mt,
        write_settings_file=plan.write_settings_file,
    )
