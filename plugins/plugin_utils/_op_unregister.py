# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Purge a disconnected process server on its configuration server [5]: ``ensure_unregistered``.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Runs on the CONFIGURATION SERVER. Its probe is ``unregister_list.ps1`` (read-only listing by the documented
``Unregister-ASRComponent.pl``; the assumptions are in :mod:`unregister_plan`), not the process-server probe.
Not registered: that one call. Purge: one ``unregister_purge.ps1`` call per listed row. Check mode: the
listing only.
"""

from __future__ import annotations

from typing import Any

from . import unregister_plan
from ._action_base import ActionFailure


def list_registered(action: Any, ip: str, task_vars: dict[str, Any]) -> dict[str, Any]:
    return action.run_script("unregister_list", task_vars, {"IpAddress": ip})


def list_process_servers(action: Any, ips: list[str], task_vars: dict[str, Any]) -> dict[str, Any]:
    """The listing's rows for every address in ``ips``, in ONE remote call (one run of the script per address).

    Read-only in any mode (the prompt is never answered): the heartbeat read a rollout shares per batch.
    """
    listing = action.run_script("unregister_list", task_vars, {"IpAddress": list(ips)})
    unregister_plan.check_listing(listing)
    rows = []
    for run in listing.get("listings") or []:
        rows += unregister_plan.parse_listing(run.get("stdout") or "", str(run.get("ip")), listing.get("now_local"))
    listed = {r.ip for r in rows}
    return {
        "changed": False,
        "process_servers": [r.to_dict() for r in rows],
        "reasons": [f"no process server with IP address {ip} is registered" for ip in ips if ip not in listed],
        "purged": [],
    }


def ensure_unregistered(
    action: Any, listing: dict[str, Any], args: dict[str, Any], task_vars: dict[str, Any]
) -> dict[str, Any]:
    ip = args["ip_address"]
    plan = unregister_plan.plan_unregister(listing, ip, force=bool(args.get("force")))
    result: dict[str, Any] = {
        "changed": plan.changed,
        "process_servers": [r.to_dict() for r in plan.listed],
        "reasons": plan.reasons,
        "purged": [],
    }
    action.set_diff(
        result,
        {"registered": [f"{r.ip} {r.name or ''}".strip() for r in plan.listed]},
        {"registered": []},
    )
    if not plan.changed or action.check_mode:
        return result
    for row in plan.purge:
        outcome = action.run_script("unregister_purge", task_vars, {"IpAddress": ip, "SerialNumber": row.serial})
        stdout = outcome.get("stdout") or ""
        if not outcome.get("listing_matches"):
            raise ActionFailure(
                f"The configuration server's list changed while purging: S.No {row.serial} no longer names {ip}, so "
                "nothing was purged. Run the task again.",
                changed=bool(result["purged"]),
                stdout=stdout,
            )
        if not unregister_plan.purge_succeeded(stdout, ip):
            raise ActionFailure(
                f"perl Unregister-ASRComponent.pl did not report 'Successfully unregistered ... ({ip})' (rc "
                f"{outcome.get('rc')}). Read stdout; run it by hand on the configuration server from "
                f"{listing.get('bin_dir')} if it asks something unexpected [5].",
                changed=True,
                rc=outcome.get("rc"),
                stdout=stdout,
                stderr=outcome.get("stderr") or "",
            )
        result["purged"].append(row.to_dict())
    return result
