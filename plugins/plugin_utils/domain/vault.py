# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Recovery Services vault's view of a configuration server: its process servers, their load and health, and
which process server each protected machine replicates through.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

What Azure Resource Manager returns (Microsoft.RecoveryServices, API version 2025-08-01, the version of
``azure-mgmt-recoveryservicessiterecovery`` 2.0.0; REST reference "Replication Fabrics - Get", "Replication
Protection Containers - List By Replication Fabrics", "Replication Protected Items - List By Replication Protection
Containers"; models in ``Azure/azure-rest-api-specs:specification/recoveryservicessiterecovery/resource-manager/
Microsoft.RecoveryServices/SiteRecovery/models.tsp``):

* a configuration server is a **fabric** of the vault whose ``properties.customDetails.instanceType`` is
  ``VMware``; ``properties.friendlyName`` is the configuration server's name; ``customDetails.processServers[]``
  lists every process server the configuration server knows (its in-built one too) with ``id``, ``friendlyName``,
  ``ipAddress``, ``machineCount`` ("the servers configured with this PS", a string), ``health`` (``None``,
  ``Normal``, ``Warning``, ``Critical``), ``lastHeartbeat`` (RFC 3339), ``psServiceStatus``, ``healthErrors[]``;
* a fabric has **protection containers** (``cloud_<id>``); the Switch job of Azure PowerShell sends the first one as
  ``containerName`` (``Azure/azure-powershell``, class ``StartAzureRmRecoveryServicesAsrSwitchProcessServerJob``);
* a **protected item** of the classic VMware/physical stack carries ``properties.providerSpecificDetails`` of
  ``instanceType`` ``InMageAzureV2`` (``InMage`` for the failback direction) with ``processServerId`` and
  ``processServerName``: the process server the machine replicates through. ``properties.friendlyName`` is the
  machine's name, and the last segment of ``properties.protectableItemId`` is what ``vmsToMigrate`` takes (the same
  cmdlet).

Health [7.5]: overall process server health is the worst alert; no heartbeat for 15 minutes is critical, and a
critical process server takes no new workload. The vault's ``health`` is read as given, and a heartbeat older than
15 minutes makes it critical whatever the vault says (its health may lag the heartbeat).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable
from .errors import PlanningError

VMWARE_FABRIC = "VMware"
# The classic stack's replication providers (VMware/physical to Azure, and the failback direction).
CLASSIC_PROVIDERS = ("InMageAzureV2", "InMage")
NORMAL, WARNING, CRITICAL, UNKNOWN = "Normal", "Warning", "Critical", "Unknown"
HEALTH_ORDER = {NORMAL: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3}
HEARTBEAT_CRITICAL_S = 15 * 60  # [7.5] Critical: no heartbeat for 15 minutes


def names_one_of(ref: str, *names: str) -> bool:
    """``ref`` is one of ``names`` (an empty name matches nothing), ignoring case and the spaces around ``ref``."""
    return ref.strip().lower() in {name.lower() for name in names} - {""}


@dataclass(frozen=True)
class ProcessServerView(Jsonable):
    """A process server as the vault lists it under its configuration server's fabric."""

    id: str
    name: str
    ip_address: str
    machine_count: int | None
    health: str
    last_heartbeat: str | None
    heartbeat_age_s: int | None
    service_status: str | None
    health_errors: tuple[str, ...]
    fabric: str
    configuration_server: str

    def matches(self, ref: str) -> bool:
        """``ref`` names this process server: its Azure id, its name or its IP address (case-insensitive)."""
        return names_one_of(ref, self.id, self.name, self.ip_address)


@dataclass(frozen=True)
class ProtectedMachine(Jsonable):
    """A replication protected item of the classic stack and the process server it replicates through."""

    name: str
    item_name: str
    protectable_item: str
    container: str
    fabric: str
    process_server_id: str
    process_server_name: str
    ip_address: str
    replication_health: str
    protection_state: str
    provider: str

    def matches(self, ref: str) -> bool:
        return names_one_of(ref, self.name, self.item_name, self.protectable_item)


@dataclass(frozen=True)
class FabricView:
    """One configuration server of the vault: its fabric, containers, process servers and protected machines."""

    name: str
    friendly_name: str
    id: str
    instance_type: str
    configuration_server_ip: str
    containers: tuple[str, ...] = ()
    process_servers: tuple[ProcessServerView, ...] = ()
    machines: tuple[ProtectedMachine, ...] = ()
    machines_read: bool = False

    @property
    def is_configuration_server(self) -> bool:
        return self.instance_type == VMWARE_FABRIC

    def matches(self, ref: str) -> bool:
        return names_one_of(ref, self.name, self.friendly_name, self.configuration_server_ip)

    def machines_on(self, process_server: ProcessServerView) -> list[ProtectedMachine]:
        return [m for m in self.machines if m.process_server_id.lower() == process_server.id.lower()]

    def load(self, process_server: ProcessServerView) -> int:
        """Machines replicating through ``process_server``: counted from the protected items when they were read,
        else the vault's ``machineCount``."""
        if self.machines_read:
            return len(self.machines_on(process_server))
        return process_server.machine_count or 0

    def to_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "friendly_name": self.friendly_name,
            "id": self.id,
            "instance_type": self.instance_type,
            "configuration_server_ip": self.configuration_server_ip,
            "containers": list(self.containers),
            "process_servers": [
                {**ps.to_dict(), "protected_machines": self.load(ps) if self.machines_read else None}
                for ps in self.process_servers
            ],
            "machines_read": self.machines_read,
        }
        if self.machines_read:
            data["protected_machines"] = [m.to_dict() for m in self.machines]
        return data


@dataclass(frozen=True)
class HealthVerdict:
    level: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


# ---- parsing what Resource Manager returns ----------------------------------------------------------------
def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _count(value: Any) -> int | None:
    """``machineCount`` is a string in the REST model; anything not a whole number is unknown."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def parse_time(value: Any) -> datetime.datetime | None:
    """An RFC 3339 time as Resource Manager writes it (``Z`` or an offset; fractions of any length)."""
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    text = _text(value).strip()
    if not text:
        return None
    text = text.replace("z", "Z").replace("Z", "+00:00")
    date, sep, rest = text.partition(".")
    if sep:  # Python accepts at most 6 digits of fraction: trim what .NET writes (7)
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[: min(digits, 6)] + rest[digits:]
        text = f"{date}.{rest}"
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _age(stamp: str | None, now: datetime.datetime) -> int | None:
    when = parse_time(stamp)
    return None if when is None else max(0, int((now - when).total_seconds()))


def _health_errors(errors: Any) -> tuple[str, ...]:
    out = []
    for error in errors or []:
        if isinstance(error, Mapping):
            code = _text(error.get("errorCode"))
            text = _text(error.get("summaryMessage") or error.get("errorMessage"))
            out.append(f"{code}: {text}".strip(": ") if code else text)
    return tuple(t for t in out if t)


# The process server fields read as given, under the REST model's keys (the module docstring) and under to_dict's
# (the field names). parse_fabric computes the others (the heartbeat's age, the health errors, the fabric);
# fabric_from_dict reads them back as to_dict wrote them.
_API_KEYS = {
    "id": "id",
    "name": "friendlyName",
    "ip_address": "ipAddress",
    "machine_count": "machineCount",
    "health": "health",
    "last_heartbeat": "lastHeartbeat",
    "service_status": "psServiceStatus",
}
_OWN_KEYS = {field_name: field_name for field_name in _API_KEYS}


def _process_server(
    ps: Mapping[str, Any],
    keys: Mapping[str, str],
    *,
    heartbeat_age_s: int | None,
    health_errors: tuple[str, ...],
    fabric: str,
    configuration_server: str,
) -> ProcessServerView:
    """A :class:`ProcessServerView` from ``ps`` read through ``keys`` (:data:`_API_KEYS` or :data:`_OWN_KEYS`)."""

    def given(field_name: str) -> str:
        return _text(ps.get(keys[field_name]))

    return ProcessServerView(
        id=given("id"),
        name=given("name"),
        ip_address=given("ip_address"),
        machine_count=_count(ps.get(keys["machine_count"])),
        health=given("health") or "None",
        last_heartbeat=given("last_heartbeat") or None,
        heartbeat_age_s=heartbeat_age_s,
        service_status=given("service_status") or None,
        health_errors=health_errors,
        fabric=fabric,
        configuration_server=configuration_server,
    )


def parse_fabric(fabric: Mapping[str, Any], now: datetime.datetime) -> FabricView:
    """A fabric (``GET .../replicationFabrics/{name}``) as a :class:`FabricView` (no containers or machines yet)."""
    props = fabric.get("properties") or {}
    details = props.get("customDetails") or {}
    name = _text(fabric.get("name"))
    friendly = _text(props.get("friendlyName")) or name
    servers = tuple(
        _process_server(
            ps,
            _API_KEYS,
            heartbeat_age_s=_age(ps.get("lastHeartbeat"), now),
            health_errors=_health_errors(ps.get("healthErrors")),
            fabric=name,
            configuration_server=friendly,
        )
        for ps in details.get("processServers") or []
        if isinstance(ps, Mapping)
    )
    return FabricView(
        name=name,
        friendly_name=friendly,
        id=_text(fabric.get("id")),
        instance_type=_text(details.get("instanceType")),
        configuration_server_ip=_text(details.get("ipAddress")),
        process_servers=servers,
    )


def last_segment(arm_id: Any) -> str:
    return _text(arm_id).rstrip("/").rsplit("/", 1)[-1]


def parse_protected_item(item: Mapping[str, Any], fabric: str, container: str) -> ProtectedMachine | None:
    """A protected item of the classic stack, or None for another provider (it has no process server)."""
    props = item.get("properties") or {}
    details = props.get("providerSpecificDetails") or {}
    provider = _text(details.get("instanceType"))
    if provider not in CLASSIC_PROVIDERS:
        return None
    return ProtectedMachine(
        name=_text(props.get("friendlyName")) or _text(item.get("name")),
        item_name=_text(item.get("name")),
        protectable_item=last_segment(props.get("protectableItemId")) or _text(item.get("name")),
        container=container,
        fabric=fabric,
        process_server_id=_text(details.get("processServerId")),
        process_server_name=_text(details.get("processServerName")),
        ip_address=_text(details.get("ipAddress")),
        replication_health=_text(props.get("replicationHealth")),
        protection_state=_text(props.get("protectionState")),
        provider=provider,
    )


def with_machines(
    fabric: FabricView, containers: Sequence[str], items_by_container: Mapping[str, Iterable[Mapping[str, Any]]]
) -> FabricView:
    """``fabric`` with its protection containers and the classic protected items read from them."""
    machines = []
    for container in containers:
        for item in items_by_container.get(container, ()):
            machine = parse_protected_item(item, fabric.name, container)
            if machine is not None:
                machines.append(machine)
    return FabricView(
        name=fabric.name,
        friendly_name=fabric.friendly_name,
        id=fabric.id,
        instance_type=fabric.instance_type,
        configuration_server_ip=fabric.configuration_server_ip,
        containers=tuple(containers),
        process_servers=fabric.process_servers,
        machines=tuple(sorted(machines, key=lambda m: m.name.lower())),
        machines_read=True,
    )


def fabric_from_dict(data: Mapping[str, Any]) -> FabricView:
    """A configuration server as ``vault_info`` returns it (:meth:`FabricView.to_dict`) back as a :class:`FabricView`,
    for the playbooks' filters that judge a registered read."""
    servers = tuple(
        _process_server(
            ps,
            _OWN_KEYS,
            heartbeat_age_s=_count(ps.get("heartbeat_age_s")),
            health_errors=tuple(_text(e) for e in ps.get("health_errors") or [] if _text(e)),
            fabric=_text(ps.get("fabric")),
            configuration_server=_text(ps.get("configuration_server")),
        )
        for ps in data.get("process_servers") or []
        if isinstance(ps, Mapping)
    )
    machines = tuple(
        ProtectedMachine(**{key: _text(m.get(key)) for key in ProtectedMachine.__dataclass_fields__})
        for m in data.get("protected_machines") or []
        if isinstance(m, Mapping)
    )
    return FabricView(
        name=_text(data.get("name")),
        friendly_name=_text(data.get("friendly_name")),
        id=_text(data.get("id")),
        instance_type=_text(data.get("instance_type")),
        configuration_server_ip=_text(data.get("configuration_server_ip")),
        containers=tuple(_text(c) for c in data.get("containers") or []),
        process_servers=servers,
        machines=machines,
        machines_read=bool(data.get("machines_read")),
    )


# ---- health [7.5] ---------------------------------------------------------------------------------------------
def health(process_server: ProcessServerView) -> HealthVerdict:
    """The process server's health: the vault's, made critical by a heartbeat older than 15 minutes [7.5]."""
    reasons = []
    level = process_server.health if process_server.health in HEALTH_ORDER else UNKNOWN
    if level != NORMAL:
        reasons.append(f"the vault reports its health as {process_server.health}")
    age = process_server.heartbeat_age_s
    if age is None:
        level = _worst(level, UNKNOWN)
        reasons.append("the vault has no heartbeat time for it")
    elif age > HEARTBEAT_CRITICAL_S:
        level = CRITICAL
        reasons.append(f"no heartbeat for {age // 60} minutes (critical after 15 minutes [7.5])")
    reasons.extend(f"health error {e}" for e in process_server.health_errors)
    return HealthVerdict(level, tuple(reasons))


def _worst(a: str, b: str) -> str:
    return a if HEALTH_ORDER[a] >= HEALTH_ORDER[b] else b


# ---- finding things ---------------------------------------------------------------------------------------
def configuration_servers(fabrics: Iterable[FabricView]) -> list[FabricView]:
    return [f for f in fabrics if f.is_configuration_server]


def find_fabric(fabrics: Sequence[FabricView], ref: str, option: str = "fabric") -> FabricView:
    """The configuration server's fabric ``ref`` names (fabric name, friendly name or configuration server IP)."""
    found = [f for f in configuration_servers(fabrics) if f.matches(ref)]
    if len(found) == 1:
        return found[0]
    known = ", ".join(f"{f.friendly_name} ({f.name})" for f in configuration_servers(fabrics)) or "none"
    if not found:
        raise PlanningError(
            f"{option}: the vault has no configuration server {ref!r} (its configuration servers: {known}). Give "
            "the fabric's name, the configuration server's name as the portal shows it, or its IP address."
        )
    raise PlanningError(f"{option}: {ref!r} names more than one configuration server of the vault ({known}).")


def pick_fabric(fabrics: Sequence[FabricView], ref: str | None, option: str = "configuration_server") -> FabricView:
    """The configuration server ``ref`` names, or the vault's only one when ``ref`` is empty."""
    if ref:
        return find_fabric(fabrics, ref, option)
    if len(fabrics) == 1:
        return fabrics[0]
    names = ", ".join(f.friendly_name for f in fabrics) or "none"
    raise PlanningError(
        f"{option}: the vault has {len(fabrics)} configuration servers ({names}); name the one whose process servers "
        "these are."
    )


def find_process_server(
    fabric: FabricView, ref: str, option: str, others: Sequence[FabricView] = ()
) -> ProcessServerView:
    """The process server of ``fabric`` that ``ref`` names; one of another configuration server is refused [7.4]."""
    found = [ps for ps in fabric.process_servers if ps.matches(ref)]
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise PlanningError(f"{option}: {ref!r} names more than one process server of {fabric.friendly_name}.")
    for other in others:
        if other.name != fabric.name and any(ps.matches(ref) for ps in other.process_servers):
            raise PlanningError(
                f"{option}: process server {ref!r} belongs to configuration server {other.friendly_name}, not "
                f"{fabric.friendly_name}: machines move only between process servers of one configuration server "
                "[7.4]."
            )
    known = ", ".join(f"{ps.name} ({ps.ip_address})" for ps in fabric.process_servers) or "none"
    raise PlanningError(
        f"{option}: configuration server {fabric.friendly_name} has no process server {ref!r} (its process servers: "
        f"{known}). Give the process server's name, IP address or Azure id as vault_info lists them."
    )


# ---- the vault as plan.yml's load (asr_load_source=vault) ------------------------------------------------------
def plan_machines(
    vault_result: Mapping[str, Any],
    servers: Mapping[str, str],
    inventory_machines: Sequence[Mapping[str, Any]] = (),
    default_churn_gb: float = 0.0,
) -> dict[str, Any]:
    """vault_info's protected machines as plan.yml's source machines.

    ``servers`` maps each inventory process server to the IP address the configuration server knows it by (or its
    name): a machine's ``current_process_server`` is the inventory host whose name or IP is its process server's
    name or IP in the vault. The vault gives no daily churn the plan can use (the unit of its data change rates is
    not documented), so each machine's ``daily_churn_gb`` is the inventory's machine of the same name, else
    ``default_churn_gb``. Inventory machines the vault does not list (machines still to protect) are kept; vault
    machines on a process server outside the inventory (the configuration server's in-built one) are counted, not
    planned."""
    by_ref: dict[str, str] = {}
    for host, ref in servers.items():
        for key in (host, ref):
            if key:
                by_ref[str(key).lower()] = host
    churn = {str(m.get("name", "")).lower(): m for m in inventory_machines}
    machines, outside, from_inventory = [], [], 0
    seen: set[str] = set()
    for cs in vault_result.get("configuration_servers") or []:
        names = {str(ps.get("id", "")).lower(): ps for ps in cs.get("process_servers") or []}
        for machine in cs.get("protected_machines") or []:
            ps = names.get(str(machine.get("process_server_id", "")).lower()) or {}
            host = by_ref.get(str(ps.get("name", "")).lower()) or by_ref.get(str(ps.get("ip_address", "")).lower())
            if host is None:
                outside.append(str(machine.get("name")))
                continue
            known = churn.get(str(machine.get("name", "")).lower())
            from_inventory += known is not None
            daily = (known or {}).get("daily_churn_gb", default_churn_gb)
            machines.append({"name": machine.get("name"), "daily_churn_gb": daily, "current_process_server": host})
            seen.add(str(machine.get("name", "")).lower())
    new = [dict(m) for m in inventory_machines if str(m.get("name", "")).lower() not in seen]
    return {
        "machines": machines + new,
        "from_vault": len(machines),
        "churn_from_inventory": from_inventory,
        "churn_default_gb": default_churn_gb,
        "new_from_inventory": len(new),
        "not_planned": sorted(outside),
    }
