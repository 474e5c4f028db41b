# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.registration: re-register a process server's master target with its configuration server [3.3]."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import check_optional_ipv4
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import registration as _op_register
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.probe import probe_host


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.REGISTRATION
    REPORTS_STEPS = True

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        check_optional_ipv4("configuration_server_ip", args.get("configuration_server_ip"))
        probed = probe_host(self, task_vars, _op_register.probe_request())
        return _op_register.ensure_registered(self, probed, args, task_vars).result
