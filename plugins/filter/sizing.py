# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sizing filters: thin adapters from playbook data to the domain core's sizing and fleet planner."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.fleet_planner import plan_fleet
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.sizing import (
    PROCESS_SERVER,
    HostFacts,
    PlannedLoad,
    assess_host,
    qualifying_tier,
    sizing_verdict,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.report.filter_support import unknown_options

_FACT_KEYS = ("vcpus", "memory_gb", "cache_disk_gb", "cache_free_gb", "retention_free_gb")
_LOAD_KEYS = ("protected_machines", "daily_churn_gb")


def _pick(data: Any, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AnsibleFilterError(f"{what} must be a dictionary with keys {', '.join(keys)}, got {type(data).__name__}")
    unknown = sorted(set(data) - set(keys))
    if unknown:
        raise AnsibleFilterError(f"{what}: unsupported keys {', '.join(unknown)}; allowed: {', '.join(keys)}")
    return dict(data)


def process_server_sizing(facts: Any, load: Any = None, role: str = PROCESS_SERVER) -> dict[str, Any]:
    """The host's one sizing verdict (``assessment``), the tier it qualifies for and, with a load, the detail."""
    try:
        host = HostFacts(**_pick(facts, _FACT_KEYS, "facts"))
        planned = PlannedLoad(**_pick(load, _LOAD_KEYS, "load")) if load is not None else None
        result: dict[str, Any] = {
            "assessment": assess_host(host, role, planned).to_dict(),
            "qualifies_for": qualifying_tier(host, role).to_dict(),
        }
        if planned is not None:
            result["verdict"] = sizing_verdict(host, planned, role).to_dict()
    except (AsrError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from exc
    return result


def fleet_plan(machines: Any, servers: Any = (), **options: Any) -> dict[str, Any]:
    """Assign source machines to process servers within their caps; see the fleet_plan filter documentation."""
    problem = unknown_options("fleet_plan", options, {"max_utilisation", "new_server_tier", "keep_current"})
    if problem:
        raise AnsibleFilterError(problem)
    try:
        return plan_fleet(machines, servers, **options).to_dict()
    except (AsrError, TypeError) as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"process_server_sizing": process_server_sizing, "fleet_plan": fleet_plan}
