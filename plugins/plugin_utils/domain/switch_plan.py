# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Switch protected machines from one process server to another: which machines move, and whether the target
may take them.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

[7.4] In the vault, a configuration server's process server offers **Load balance** (selected machines) and
**Switch** (its whole workload) to another process server of the same configuration server; Azure PowerShell's
``Start-AzRecoveryServicesAsrSwitchProcessServerJob`` does the same. Both are Resource Manager's
``POST .../replicationFabrics/{fabric}/reassociateGateway`` ("the operation to move replications from a process
server to another process server") with ``FailoverProcessServerRequestProperties``: ``containerName``,
``sourceProcessServerId``, ``targetProcessServerId``, ``vmsToMigrate`` and ``updateType``. The cmdlet
(``Azure/azure-powershell``, ``StartAzureRmRecoveryServicesAsrSwitchProcessServerJob``) sends the fabric's first
protection container, ``updateType`` ``ServerLevel`` with the machines' protectable item names when machines are
given, and ``SystemLevel`` without ``vmsToMigrate`` to move them all. This module plans the same request.

Rules, each a refusal before any change:

* source and target are different process servers of the same configuration server [7.4];
* a machine named must replicate through the source (already on the target: nothing to do for it, so a second run
  changes nothing; elsewhere: refused, the plan was made from another view of the vault);
* the target must be healthy enough to take load: never ``Critical`` (no heartbeat for 15 minutes, or the vault
  says so: "adding new workloads to that PS is disabled" [7.5]); ``Warning`` or unknown only when allowed;
* after the move the target must stay within its tier's protected machines [7.1] (the largest scale-out row, 225
  machines, when no tier is given).

Moving everything when the source still has machines ``SystemLevel`` (the portal's Switch) costs one operation;
a rerun after a partial failure names what is left (``ServerLevel``), so nothing is moved twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .checks import require_int, to_jsonable
from .errors import AsrError, InvalidOption, PlanningError
from .sizing import PROCESS_SERVER, get_tier, tiers_for
from .vault import (
    CRITICAL,
    NORMAL,
    WARNING,
    FabricView,
    ProcessServerView,
    ProtectedMachine,
    fabric_from_dict,
    find_process_server,
    health,
    pick_fabric,
)

SERVER_LEVEL = "ServerLevel"  # the machines named in vmsToMigrate
SYSTEM_LEVEL = "SystemLevel"  # every machine of the source process server
ACCEPTED_HEALTH = (NORMAL, WARNING, "any")


@dataclass(frozen=True)
class SwitchPlan:
    """What one ``reassociateGateway`` call would do (``changed`` False: nothing to move)."""

    fabric: str
    configuration_server: str
    container: str
    source: ProcessServerView
    target: ProcessServerView
    to_move: tuple[str, ...]
    vms_to_migrate: tuple[str, ...]
    already_on_target: tuple[str, ...]
    update_type: str
    source_before: int
    target_before: int
    target_after: int
    target_limit: int
    target_health: str

    @property
    def changed(self) -> bool:
        return bool(self.to_move)

    def request(self) -> dict[str, Any]:
        """The body of ``reassociateGateway`` (``FailoverProcessServerRequest``)."""
        props: dict[str, Any] = {
            "containerName": self.container,
            "sourceProcessServerId": self.source.id,
            "targetProcessServerId": self.target.id,
            "updateType": self.update_type,
        }
        if self.update_type == SERVER_LEVEL:
            props["vmsToMigrate"] = list(self.vms_to_migrate)
        return {"properties": props}

    def to_dict(self) -> dict[str, Any]:
        data = to_jsonable(self)
        data["source"] = self.source.name
        data["target"] = self.target.name
        data["source_id"] = self.source.id
        data["target_id"] = self.target.id
        data["changed"] = self.changed
        return data


def target_limit(tier: str | None, max_machines: int | None) -> int:
    """The most protected machines the target may carry: ``max_machines``, else its tier's [7.1], else the largest
    scale-out row's (225)."""
    if max_machines is not None:
        return require_int("target_max_machines", max_machines, 1)
    if tier is not None:
        return get_tier(tier, PROCESS_SERVER).max_protected_machines
    return max(t.max_protected_machines for t in tiers_for(PROCESS_SERVER))


def check_options(source: str, target: str, machines: Sequence[str] | None, accept_health: str) -> None:
    """What can be refused before reading the vault."""
    for option, value in (("source", source), ("target", target)):
        if not isinstance(value, str) or not value.strip():
            raise InvalidOption(option, value, "a process server's name, IP address or Azure id", "It is empty.")
    if source.strip().lower() == target.strip().lower():
        raise InvalidOption(
            "target", target, "a process server other than the source", "Source and target are the same process server."
        )
    if machines is not None:
        if not machines:
            raise InvalidOption("machines", [], "a non-empty list of machine names, or omit it to move every machine")
        for index, name in enumerate(machines):
            if not isinstance(name, str) or not name.strip():
                raise InvalidOption(f"machines[{index}]", name, "a protected machine's name", "It is empty.")
    if accept_health not in ACCEPTED_HEALTH:
        raise InvalidOption("target_health", accept_health, "one of " + ", ".join(ACCEPTED_HEALTH))


def _check_target(target: ProcessServerView, accept_health: str) -> str:
    verdict = health(target)
    why = "; ".join(verdict.reasons)
    if verdict.level == CRITICAL:
        raise PlanningError(
            f"target: process server {target.name} is critical ({why}): a critical process server takes no new "
            "workload [7.5]. Fix it first, or pick another target."
        )
    if accept_health == NORMAL and verdict.level != NORMAL:
        raise PlanningError(
            f"target: process server {target.name} is not healthy ({verdict.level}: {why}); pick a healthy target "
            "[7.5], or set target_health to Warning to accept it."
        )
    return verdict.level


def plan_switch(
    fabric: FabricView,
    source: str,
    target: str,
    machines: Sequence[str] | None = None,
    *,
    others: Sequence[FabricView] = (),
    tier: str | None = None,
    max_machines: int | None = None,
    accept_health: str = NORMAL,
) -> SwitchPlan:
    """Plan moving ``machines`` (None: all) of ``fabric`` from ``source`` to ``target`` (both by name, IP or id)."""
    check_options(source, target, machines, accept_health)
    if not fabric.machines_read:
        raise PlanningError("the plan needs the fabric's protected items (read them with the fabric).")
    if not fabric.containers:
        raise PlanningError(f"configuration server {fabric.friendly_name} has no protection container in the vault.")
    src = find_process_server(fabric, source, "source", others)
    dst = find_process_server(fabric, target, "target", others)
    if src.id.lower() == dst.id.lower():
        raise InvalidOption("target", target, "a process server other than the source", f"{source!r} is {target!r}.")
    on_source = fabric.machines_on(src)
    on_target = {m.item_name for m in fabric.machines_on(dst)}
    moving, already = _select(fabric, src, on_source, on_target, machines)
    limit = target_limit(tier, max_machines)
    level = _check_target(dst, accept_health) if moving else health(dst).level
    before = fabric.load(dst)
    if before + len(moving) > limit:
        raise PlanningError(
            f"target: process server {dst.name} carries {before} protected machines; {len(moving)} more would make "
            f"{before + len(moving)}, over its limit of {limit} [7.1]. Move fewer machines, or pick a bigger target."
        )
    everything = machines is None and len(moving) == len(on_source) and bool(moving)
    return SwitchPlan(
        fabric=fabric.name,
        configuration_server=fabric.friendly_name,
        container=fabric.containers[0],
        source=src,
        target=dst,
        to_move=tuple(m.name for m in moving),
        vms_to_migrate=tuple(m.protectable_item for m in moving),
        already_on_target=tuple(already),
        update_type=SYSTEM_LEVEL if everything else SERVER_LEVEL,
        source_before=len(on_source),
        target_before=before,
        target_after=before + len(moving),
        target_limit=limit,
        target_health=level,
    )


def _select(
    fabric: FabricView,
    src: ProcessServerView,
    on_source: list[ProtectedMachine],
    on_target: set[str],
    machines: Sequence[str] | None,
) -> tuple[list[ProtectedMachine], list[str]]:
    """The machines to move and the names of those already on the target; anything else is refused."""
    if machines is None:
        return list(on_source), []
    moving: list[ProtectedMachine] = []
    already: list[str] = []
    problems: list[str] = []
    seen: set[str] = set()
    for ref in machines:
        found = [m for m in fabric.machines if m.matches(ref)]
        if len(found) != 1:
            problems.append(
                f"{ref!r} is {'not a protected machine' if not found else 'ambiguous'} of {fabric.friendly_name}"
            )
            continue
        machine = found[0]
        if machine.item_name in seen:
            continue
        seen.add(machine.item_name)
        if machine.item_name in on_target:
            already.append(machine.name)
        elif machine.process_server_id.lower() == src.id.lower():
            moving.append(machine)
        else:
            where = machine.process_server_name or machine.process_server_id or "no process server"
            problems.append(f"{machine.name!r} replicates through {where}, not through the source {src.name}")
    if problems:
        raise PlanningError(
            "machines: " + "; ".join(problems) + ". Name machines of the source process server (vault_info lists "
            "each machine's process server)."
        )
    return moving, already


# ---- batches and the health gate (rebalance.yml) --------------------------------------------------------------
def batches(
    moves: Sequence[Mapping[str, Any]], size: int, names: Mapping[str, str] | None = None, option: str = "moves"
) -> list[dict[str, Any]]:
    """Fleet-plan moves (``machine``, ``from_server``, ``to_server``) as switch batches: grouped by source and
    target (one ``reassociateGateway`` call each), at most ``size`` machines per batch, in a stable order.
    ``names`` maps a plan's server name (an inventory host) to the name or IP the vault knows it by; ``option``
    is what the moves are called in an error (the playbook variable they come from)."""
    require_int("batch_size", size, 1)
    names = names or {}
    grouped: dict[tuple[str, str], list[str]] = {}
    for index, move in enumerate(moves):
        if not isinstance(move, Mapping):
            raise InvalidOption(f"{option}[{index}]", move, "a mapping with machine, from_server and to_server")
        for key in ("machine", "from_server", "to_server"):
            if not isinstance(move.get(key), str) or not move[key].strip():
                why = "It is empty." if isinstance(move.get(key), str) or move.get(key) is None else ""
                raise InvalidOption(f"{option}[{index}].{key}", move.get(key), "a non-empty string", why)
        source, target = move["from_server"], move["to_server"]
        if {source.strip().lower(), (names.get(source) or source).strip().lower()} & {
            target.strip().lower(),
            (names.get(target) or target).strip().lower(),
        }:
            raise InvalidOption(
                f"{option}[{index}].to_server",
                target,
                "a process server other than from_server",
                f"{move['machine']!r} would move from {source!r} to the same process server.",
            )
        grouped.setdefault((move["from_server"], move["to_server"]), []).append(move["machine"])
    out = []
    for (source, target), machine_names in sorted(grouped.items()):
        for start in range(0, len(machine_names), size):
            out.append(
                {
                    "source": names.get(source) or source,
                    "target": names.get(target) or target,
                    "source_host": source,
                    "target_host": target,
                    "machines": machine_names[start : start + size],
                }
            )
    return out


def check_batches(
    vault_result: Mapping[str, Any], batches_: Sequence[Mapping[str, Any]], configuration_server: str | None = None
) -> dict[str, Any]:
    """rebalance.yml before its first Switch: every batch planned in order against ONE vault read, each batch's moves
    applied to that view before the next batch is planned. Whatever a later batch's Switch would refuse (an unknown
    process server, source and target the same, a machine that is not on its source, an unhealthy target, a target
    over its tier after the earlier batches) is found here, before any machine moved, instead of half-way through
    the run. ``ok`` False lists every problem; ``moving`` and ``already_on_target`` count the machines."""
    views = [fabric_from_dict(cs) for cs in vault_result.get("configuration_servers") or []]
    try:
        fabric = pick_fabric(views, configuration_server)
    except AsrError as exc:
        return {"ok": False, "problems": [str(exc)], "moving": 0, "already_on_target": 0}
    problems: list[str] = []
    moving = already = 0
    for index, batch in enumerate(batches_, 1):
        try:
            plan = plan_switch(fabric, batch["source"], batch["target"], batch["machines"], others=views)
        except AsrError as exc:
            problems.append(f"batch {index} ({batch.get('source_host')} -> {batch.get('target_host')}): {exc}")
            continue
        fabric = _after_switch(fabric, plan)
        moving += len(plan.to_move)
        already += len(plan.already_on_target)
    return {"ok": not problems, "problems": problems, "moving": moving, "already_on_target": already}


def _after_switch(fabric: FabricView, plan: SwitchPlan) -> FabricView:
    """``fabric`` as the vault will list it once ``plan`` is carried out."""
    moved = set(plan.to_move)
    machines = tuple(
        replace(m, process_server_id=plan.target.id, process_server_name=plan.target.name) if m.name in moved else m
        for m in fabric.machines
    )
    return replace(fabric, machines=machines)


def gate(vault_result: Mapping[str, Any], switch_result: Mapping[str, Any]) -> dict[str, Any]:
    """The health gate after one Switch: from a vault_info result read after it, the target (and the source) must
    not be critical [7.5], and every machine the Switch moved must replicate through the target."""
    plan = switch_result.get("plan") or {}
    if switch_result.get("failed") or not plan:
        return {"healthy": False, "problems": [f"the Switch failed: {switch_result.get('msg', 'no plan')}"]}
    servers = {
        str(ps.get("id", "")).lower(): ps
        for cs in vault_result.get("configuration_servers") or []
        for ps in cs.get("process_servers") or []
    }
    problems = []
    for role in ("target", "source"):
        server = servers.get(str(plan.get(f"{role}_id", "")).lower())
        if server is None:
            problems.append(f"the vault no longer lists the {role} process server {plan.get(role)}")
            continue
        verdict = server.get("health_verdict") or {}
        if verdict.get("level") == CRITICAL:
            problems.append(f"{role} {server.get('name')} is critical: {'; '.join(verdict.get('reasons') or [])}")
    machines = {
        str(m.get("name")): m
        for cs in vault_result.get("configuration_servers") or []
        for m in cs.get("protected_machines") or []
    }
    if machines:
        target_id = str(plan.get("target_id", "")).lower()
        stray = [
            n
            for n in switch_result.get("moved") or []
            if str(machines.get(n, {}).get("process_server_id", "")).lower() != target_id
        ]
        if stray:
            problems.append(
                f"{len(stray)} moved machine(s) not on {plan.get('target')} in the vault: {', '.join(stray[:5])}"
            )
    return {"healthy": not problems, "problems": problems}
