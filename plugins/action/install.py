# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.install: install a scale-out process server and register it to a configuration server.

validate (no remote call) -> probe (one call) -> ensure_installed (plan, then stage/start/poll/cleanup).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs, unified_setup
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.install import (
    ensure_installed,
    install_spec,
    probe_request,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.installers import resolve_installer
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.probe import probe_host


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.INSTALL
    REPORTS_STEPS = True
    ARGUMENT_RULES = argument_specs.INSTALL_RULES
    REPORTS_REMOTE_CALLS = True

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        installer = resolve_installer(self, args, unified_setup.check_staging_dir(args["staging_dir"]))
        spec = install_spec(args, installer)
        return ensure_installed(self, probe_host(self, task_vars, probe_request(spec)), spec, task_vars).result
