# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.upgrade: bring an installed process server or configuration server to the installer's
version (``UnifiedSetup.exe /Upgrade``).

validate (no remote call) -> probe (one call) -> ensure_upgraded (plan hops, then stage/start/poll/cleanup).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    argument_specs,
    registration_plan,
    unified_setup,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.installers import (
    intermediate_installer,
    resolve_installer,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.probe import probe_host
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.upgrade import (
    ensure_upgraded,
    probe_request,
    upgrade_spec,
)

UPGRADE_KEEPS = (
    "/Upgrade keeps the configuration server the host is registered to [4], and the rule that a process server is "
    "never newer than its configuration server [3.1] must be judged against that one"
)


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.UPGRADE
    REPORTS_STEPS = True
    ARGUMENT_RULES = argument_specs.UPGRADE_RULES
    REPORTS_REMOTE_CALLS = True

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        staging = unified_setup.check_staging_dir(args["staging_dir"])
        installer = resolve_installer(self, args, staging)
        intermediate = [intermediate_installer(self, item, i, staging) for i, item in enumerate(args["installers"])]
        spec = upgrade_spec(args, installer, intermediate)
        unified_setup.check_optional_ipv4("configuration_server_ip", args.get("configuration_server_ip"))
        host = probe_host(self, task_vars, probe_request(spec))
        # /Upgrade keeps the registration the host has [4]: with configuration_server_ip given, a host registered to
        # another configuration server is refused unchanged (process_server with state=latest does the same).
        registration_plan.check_configuration_server(host.asr, args.get("configuration_server_ip"), UPGRADE_KEEPS)
        return ensure_upgraded(self, host, spec, task_vars).result
