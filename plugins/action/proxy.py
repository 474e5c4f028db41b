# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.proxy: make the MARS agent's proxy match, re-register the MT, optional settings file [8]."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    argument_specs,
    proxy_plan,
    registration_plan,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import check_optional_ipv4
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import proxy as _op_proxy
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.probe import probe_host


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.PROXY
    REPORTS_STEPS = True
    ARGUMENT_RULES = argument_specs.PROXY_RULES

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        request = proxy_plan.proxy_request(args)  # every value rule, before any remote call
        check_optional_ipv4("configuration_server_ip", args.get("configuration_server_ip"))
        probed = probe_host(self, task_vars, _op_proxy.probe_request(request))
        # The procedure runs cdpcli --registermt [8], which registers with the configured server: with
        # configuration_server_ip given, a process server of another configuration server is refused unchanged.
        registration_plan.check_configuration_server(probed.asr, args.get("configuration_server_ip"))
        return _op_proxy.ensure_proxy(self, probed, request, task_vars).result
