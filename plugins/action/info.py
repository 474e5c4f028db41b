# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.info: survey an ASR configuration/process server in one read-only remote call."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils import survey
from ansible_collections.asr.process_server.plugins.plugin_utils._action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.unified_setup import check_ipv4

# Kept equal to DOCUMENTATION in plugins/modules/info.py by tests/unit/plugins/test_docs_match_spec.py.
ARGUMENT_SPEC: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "configuration_server_port": {"type": "int", "default": 443},
    "connect_timeout": {"type": "int", "default": 3},
    "installer_path": {"type": "str"},
    "installer_checksum": {"type": "bool", "default": True},
    "include_log_tail": {"type": "bool", "default": False},
    "log_tail_lines": {"type": "int", "default": 40},
}


def _check_ranges(args: dict[str, Any]) -> None:
    """Rules the spec cannot say, checked before any remote call."""
    if args.get("configuration_server_ip") is not None:
        check_ipv4("configuration_server_ip", args["configuration_server_ip"])
    for option, low, high in (
        ("configuration_server_port", 1, 65535),
        ("connect_timeout", 1, 60),
        ("log_tail_lines", 1, 1000),
    ):
        if not low <= args[option] <= high:
            raise InvalidOption(option, args[option], f"an integer from {low} to {high}")


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        _check_ranges(args)
        # Only info's own options: the group's shared options (passphrase...) mean nothing to the survey.
        parameters = survey.probe_parameters(**{name: args[name] for name in ARGUMENT_SPEC})
        probe = self.run_script("probe", task_vars, parameters)
        asr = survey.interpret(probe)
        if not args["include_log_tail"]:
            asr["setup_log"].pop("tail", None)
        return {"changed": False, "asr": asr, "survey": survey.to_survey(probe, self.secrets)}
