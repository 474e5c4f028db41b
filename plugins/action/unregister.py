# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.unregister: purge a disconnected process server from its configuration server [5]."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import check_ipv4
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import (
    registration_read as _op_registrations,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import unregister as _op_unregister
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.UNREGISTER
    ARGUMENT_RULES = argument_specs.DATABASE_RULES

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        check_ipv4("ip_address", args["ip_address"])
        _op_registrations.check_database_options(args)
        return _op_unregister.ensure_unregistered(self, args, task_vars)
