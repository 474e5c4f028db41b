# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Purge a disconnected process server on its configuration server [5]: ``ensure_unregistered``.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Runs on the CONFIGURATION SERVER. Probe: the registrations read READ-ONLY from the configuration server's database
(``registration_read.ps1``, :mod:`_op_registrations`). Not registered, refused, or check mode: that one call, and
``Unregister-ASRComponent.pl`` is never started. Purge (a real run only): one ``unregister_purge.ps1`` call per
registered row, each followed by the read again, until the database no longer lists the address.
"""

from __future__ import annotations

from typing import Any

from ..domain import registrations, unregister_plan
from . import registration_read as _op_registrations
from .action_base import ActionFailure


def ensure_unregistered(action: Any, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
    ip = args["ip_address"]
    read, rows = _op_registrations.read(action, args, task_vars)
    plan = unregister_plan.plan_unregister(rows, ip, force=bool(args.get("force")))
    result: dict[str, Any] = {
        "changed": plan.changed,
        "process_servers": [r.to_dict() for r in plan.registered],
        "reasons": plan.reasons,
        "purged": [],
        "database": registrations.describe_source(read),
    }
    action.set_diff(
        result,
        {"registered": [f"{r.ip} {r.name}".strip() for r in plan.registered]},
        {"registered": []},
    )
    if not plan.changed or action.check_mode:
        return result
    outcome: dict[str, Any] = {}
    left = plan.registered
    for _purge in range(plan.purges):
        outcome = action.run_script("unregister_purge", task_vars, {"IpAddress": ip})
        if not outcome.get("is_configuration_server") or not outcome.get("script_present"):
            raise ActionFailure(
                f"Unregister-ASRComponent.pl was not found in {outcome.get('bin_dir')} on the configuration server "
                "[5], so nothing was purged. Repair or upgrade the configuration server, then run the task again."
            )
        _read, after = _op_registrations.read(action, args, task_vars)
        left = unregister_plan.remaining(after, ip)
        result["purged"] = [r.to_dict() for r in plan.registered if r.host_id not in {x.host_id for x in left}]
        if not left:
            return result
    raise ActionFailure(
        f"perl Unregister-ASRComponent.pl -IPAddress {ip} -Component PS ran (rc {outcome.get('rc')}) but the "
        f"configuration server's database still lists {len(left)} process server(s) with that address. Read stdout; "
        f"run it by hand on the configuration server from {outcome.get('bin_dir')} if it asks something unexpected "
        "[5], then run the task again.",
        changed=True,
        rc=outcome.get("rc"),
        stdout=outcome.get("stdout") or "",
        stderr=outcome.get("stderr") or "",
    )
