# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.registration_info: the process servers a configuration server has registered, and their
heartbeats, read from its database in one read-only remote call [5]."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs, registrations
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import check_ipv4
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import (
    registration_read as _op_registrations,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.REGISTRATION_INFO
    ARGUMENT_RULES = argument_specs.DATABASE_RULES

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        ips = None
        if args.get("ip_addresses") is not None:
            ips = list(dict.fromkeys(check_ipv4("ip_addresses", ip) for ip in args["ip_addresses"]))
            if not ips:
                raise InvalidOption(
                    "ip_addresses", [], "a non-empty list of IPv4 addresses, or omit it", "It is empty."
                )
        _op_registrations.check_database_options(args)
        read, rows = _op_registrations.read(self, args, task_vars)
        return {
            "changed": False,
            "process_servers": [r.to_dict() for r in registrations.registered_process_servers(rows, ips)],
            "reasons": registrations.not_registered(rows, ips) if ips else [],
            "database": registrations.describe_source(read),
        }
