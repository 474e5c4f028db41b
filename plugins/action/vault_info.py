# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.vault_info: what the Recovery Services vault knows of each configuration server -- its process
servers (Azure id, IP, machines, health, last heartbeat) and the process server of every protected machine."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs, vault
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.azure_action import AzureActionBase


class ActionModule(AzureActionBase):
    ARGUMENT_SPEC = argument_specs.VAULT_INFO

    def run_azure(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        if args.get("fabric") is not None and not str(args["fabric"]).strip():
            raise InvalidOption("fabric", args["fabric"], "a configuration server's name, or omit it", "It is empty.")
        session = self.open_session(args)
        views = session.read(args.get("fabric"), args["protected_machines"])
        if args.get("fabric"):
            views = [v for v in views if v.matches(args["fabric"])]
        return {"changed": False, "configuration_servers": [_with_health(v) for v in views]}


def _with_health(view: vault.FabricView) -> dict[str, Any]:
    data = view.to_dict()
    for server, shown in zip(view.process_servers, data["process_servers"], strict=True):
        verdict = vault.health(server)
        shown["health_verdict"] = {"level": verdict.level, "reasons": list(verdict.reasons)}
    return data
