# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.switch_process_server: move protected machines from one process server to another of the same
configuration server -- the vault's Switch / Load balance [7.4] -- through Resource Manager's reassociateGateway."""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs, switch_plan, vault
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.checks import require_int
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import ActionFailure
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.azure_action import AzureActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.azure_vault import (
    Outcome,
)


class ActionModule(AzureActionBase):
    ARGUMENT_SPEC = argument_specs.SWITCH_PROCESS_SERVER
    ARGUMENT_RULES = argument_specs.SWITCH_PROCESS_SERVER_RULES

    def run_azure(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        # validate: everything that can be refused without asking Azure
        switch_plan.check_options(args["source"], args["target"], args.get("machines"), args["target_health"])
        if args.get("configuration_server") is not None and not str(args["configuration_server"]).strip():
            raise InvalidOption(
                "configuration_server", args["configuration_server"], "a configuration server's name", "It is empty."
            )
        if args.get("target_max_machines") is not None:
            require_int("target_max_machines", args["target_max_machines"], 1)
        require_int("wait_timeout", args["wait_timeout"], 1)
        require_int("poll_interval", args["poll_interval"], 1)
        session = self.open_session(args, poll_interval=args["poll_interval"])
        # read and decide (reads only: a refusal here changed nothing)
        plan = self._plan(args, session.read(args.get("configuration_server")))
        result = {
            "changed": plan.changed,
            "plan": plan.to_dict(),
            "moved": [],
            "already_on_target": list(plan.already_on_target),
        }
        self._diff(result, plan, moved=plan.to_move)
        if not plan.changed or self.check_mode:
            result["moved"] = list(plan.to_move) if self.check_mode else []
            return result
        # act, then verify from a fresh read
        self.azure_changed = True
        outcome = session.switch(plan, args["wait_timeout"])
        after = self._plan(args, session.read(plan.fabric), after=True)
        moved = [name for name in plan.to_move if name not in after.to_move]
        left = [name for name in plan.to_move if name in after.to_move]
        result.update(moved=moved, operation=_operation(outcome), not_moved=left)
        if outcome.status != "Succeeded":
            raise ActionFailure(_failure_text(self.fqcn, plan, outcome, moved, left), **_detail(result))
        if left:
            self._warn(
                f"Azure reported the Switch done but the vault still lists {len(left)} machine(s) on "
                f"{plan.source.name} ({', '.join(left[:5])}...). The vault can take about 15 minutes to show a move "
                "[7.4]; run the task again later: it moves only what is still on the source."
            )
        return result

    def _plan(self, args: dict[str, Any], views: list[vault.FabricView], after: bool = False) -> switch_plan.SwitchPlan:
        fabric = vault.pick_fabric(views, args.get("configuration_server"))
        return switch_plan.plan_switch(
            fabric,
            args["source"],
            args["target"],
            args.get("machines"),
            others=views,
            tier=args.get("target_tier"),
            # the verifying read must not refuse what the move itself made true (limits, health)
            max_machines=10**9 if after else args.get("target_max_machines"),
            accept_health="any" if after else args["target_health"],
        )

    def _diff(self, result: dict[str, Any], plan: switch_plan.SwitchPlan, moved: tuple[str, ...]) -> None:
        before = {"process_server": plan.source.name, "machines": sorted(moved)}
        after = {"process_server": plan.target.name, "machines": sorted(moved)}
        self.set_diff(result, before, after)


def _operation(outcome: Outcome) -> dict[str, Any]:
    return {"id": outcome.operation_id, "status": outcome.status, "seconds": outcome.seconds, "error": outcome.error}


def _detail(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("plan", "moved", "not_moved", "already_on_target", "operation")}


def _failure_text(fqcn: str, plan: switch_plan.SwitchPlan, outcome: Outcome, moved: list[str], left: list[str]) -> str:
    done = (
        f"{len(moved)} of {len(plan.to_move)} machine(s) moved to {plan.target.name}, {len(left)} still on "
        f"{plan.source.name}"
    )
    if outcome.status == "TimedOut":
        return (
            f"{fqcn}: the Switch (operation {outcome.operation_id}) was still running after wait_timeout; {done}. It "
            "goes on in Azure (Site Recovery jobs in the vault): run the task again later, it moves only what is "
            "still on the source."
        )
    return (
        f"{fqcn}: the Switch (operation {outcome.operation_id}) failed: {outcome.error}; {done}. Run the task again: "
        "it moves only the machines still on the source."
    )
