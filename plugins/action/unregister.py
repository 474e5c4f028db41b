# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.unregister: purge a disconnected process server from its configuration server [5]."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils import _op_unregister
from ansible_collections.asr.process_server.plugins.plugin_utils._action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.unified_setup import check_ipv4

# Kept equal to DOCUMENTATION in plugins/modules/unregister.py by tests/unit/plugins/test_docs_match_spec.py.
ARGUMENT_SPEC: dict[str, Any] = {
    "ip_address": {"type": "str"},
    "ip_addresses": {"type": "list", "elements": "str"},
    "force": {"type": "bool", "default": False},
}
MUTUALLY_EXCLUSIVE = [["ip_address", "ip_addresses"]]
REQUIRED_ONE_OF = [["ip_address", "ip_addresses"]]


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE
    REQUIRED_ONE_OF = REQUIRED_ONE_OF

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        if args.get("ip_addresses") is not None:
            # The listing only (never a purge): one remote call for every address, e.g. a rollout batch's heartbeats.
            ips = list(dict.fromkeys(check_ipv4("ip_addresses", ip) for ip in args["ip_addresses"]))
            if not ips:
                raise InvalidOption("ip_addresses", [], "a non-empty list of IPv4 addresses")
            return _op_unregister.list_process_servers(self, ips, task_vars)
        check_ipv4("ip_address", args["ip_address"])
        listing = _op_unregister.list_registered(self, args["ip_address"], task_vars)
        return _op_unregister.ensure_unregistered(self, listing, args, task_vars)
