# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vault playbooks' filters (rebalance.yml, decommission.yml, plan.yml): thin adapters to the domain core
(plugins/plugin_utils/domain/switch_plan.py, vault.py), which holds the logic and its tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import switch_plan, vault
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError
from ansible_collections.asr.process_server.plugins.plugin_utils.report.filter_support import plain


def switch_batches(moves: Any, batch_size: Any = 10, names: Any = None, option: Any = "moves") -> list[dict[str, Any]]:
    """A fleet plan's moves as Switch batches; see switch_batches.yml."""
    if not isinstance(moves, list):
        raise AnsibleFilterError(
            f"switch_batches: {option} must be a list of moves (machine, from_server, to_server), not "
            f"{type(moves).__name__}"
        )
    try:
        return switch_plan.batches(plain(moves), int(batch_size), plain(names) or {}, str(option))
    except (AsrError, ValueError, TypeError) as exc:
        raise AnsibleFilterError(f"switch_batches: {exc}") from exc


def switch_gate(vault_result: Any, switch_result: Any) -> dict[str, Any]:
    """The health gate after a Switch; see switch_gate.yml."""
    if not isinstance(vault_result, Mapping) or not isinstance(switch_result, Mapping):
        raise AnsibleFilterError("switch_gate: give the vault_info result and the switch_process_server result")
    return switch_plan.gate(plain(vault_result), plain(switch_result))


def switch_check(vault_result: Any, batches: Any, configuration_server: Any = None) -> dict[str, Any]:
    """Every batch checked against one vault read before the first Switch; see switch_check.yml."""
    if not isinstance(vault_result, Mapping) or not isinstance(batches, list):
        raise AnsibleFilterError("switch_check: give the vault_info result and the switch_batches list")
    return switch_plan.check_batches(plain(vault_result), plain(batches), str(configuration_server or "") or None)


def vault_machines(vault_result: Any, servers: Any, machines: Any = None, default_churn_gb: Any = 0) -> dict[str, Any]:
    """vault_info's protected machines as plan.yml's source machines; see vault_machines.yml."""
    if not isinstance(vault_result, Mapping) or not isinstance(servers, Mapping):
        raise AnsibleFilterError("vault_machines: give the vault_info result and a mapping of process servers")
    try:
        churn = float(default_churn_gb)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(f"vault_machines: default_churn_gb {default_churn_gb!r} is not a number") from exc
    return vault.plan_machines(plain(vault_result), plain(servers), plain(machines) or [], churn)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "switch_batches": switch_batches,
            "switch_check": switch_check,
            "switch_gate": switch_gate,
            "vault_machines": vault_machines,
        }
