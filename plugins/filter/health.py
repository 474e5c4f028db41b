# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Health gate filters: thin adapters from registered results to the domain core's health verdict.

The logic lives in plugins/plugin_utils/domain/health.py (pure, unit-tested Python); the verify role and the fleet
playbooks' screening plays only call these filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import health as health_mod
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError
from ansible_collections.asr.process_server.plugins.plugin_utils.report.filter_support import plain, unknown_options


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def health_source(result: Any, services: bool = False, check_mode: bool = False) -> str:
    """What the health verdict on ``result`` is derived from; see health_source.yml."""
    return health_mod.health_source(plain(result), bool(services), bool(check_mode))


def health_verdict(result: Any, survey: Any = None, **options: Any) -> dict[str, Any]:
    """The health gate's verdict from a registered result; see health_verdict.yml."""
    problem = unknown_options(
        "health_verdict",
        options,
        {"services", "check_mode", "configuration_server_ip", "expected_version", "heartbeat", "ip"},
    )
    if problem:
        raise AnsibleFilterError(problem)
    try:
        return health_mod.health_verdict(
            plain(result),
            plain(survey),
            services=bool(options.get("services", False)),
            check_mode=bool(options.get("check_mode", False)),
            configuration_server_ip=_text(options.get("configuration_server_ip")),
            expected_version=_text(options.get("expected_version")),
            heartbeat=str(options.get("heartbeat", "changed")),
            ip=_text(options.get("ip")),
        )
    except AsrError as exc:
        raise AnsibleFilterError(f"health_verdict: {exc}") from exc


def health_heartbeat(
    report: Any, registrations: Any = None, configuration_server: Any = None, max_age_minutes: Any = 15
) -> dict[str, Any]:
    """A health_verdict report judged against the configuration server's registrations; see health_heartbeat.yml."""
    if not isinstance(report, Mapping):
        raise AnsibleFilterError("health_heartbeat: input must be the dictionary health_verdict returns")
    try:
        age = float(max_age_minutes)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            f"health_heartbeat: max_age_minutes must be a number, got {max_age_minutes!r}"
        ) from exc
    try:
        return health_mod.heartbeat_verdict(
            plain(report), plain(registrations), configuration_server=_text(configuration_server), max_age_minutes=age
        )
    except AsrError as exc:
        raise AnsibleFilterError(f"health_heartbeat: {exc}") from exc


def rollout_hosts(results: Any, verify: Any = True, heartbeat: Any = "changed", services: Any = False) -> list[str]:
    """The screened hosts that must go through the rolling play; see rollout_hosts.yml."""
    if not isinstance(results, Mapping):
        raise AnsibleFilterError("rollout_hosts: input must be a dictionary of host name to registered result")
    try:
        return health_mod.rollout_hosts(
            plain(results), verify=bool(verify), heartbeat=str(heartbeat), services=bool(services)
        )
    except AsrError as exc:
        raise AnsibleFilterError(f"rollout_hosts: {exc}") from exc


def screening_refusal(result: Any, host: Any = None) -> str | None:
    """The screening's refusal message for one host's check-mode result, or None; see screening_refusal.yml."""
    return health_mod.screening_refusal(plain(result), _text(host))


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "health_source": health_source,
            "health_verdict": health_verdict,
            "health_heartbeat": health_heartbeat,
            "rollout_hosts": rollout_hosts,
            "screening_refusal": screening_refusal,
        }
