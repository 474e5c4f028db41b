"""The protected machines a configuration server replicates, and the process server each one uses.

[7.3] DOC: a protected machine uses exactly one process server. [7.4] DOC: the vault's Load balance / Switch (and
``Start-AzRecoveryServicesAsrSwitchProcessServerJob``) moves machines to another process server of the same
configuration server; "~15 min to reflect, or Refresh Server on the CS". [5] DOC: the configuration server's
database lists the registered machines ("Remove the stale entries for protected items from the configuration
server database").

LAB bookkeeping (the product's tables for this are not in the reference): ``cs.asr["protected_machines"]`` maps a
machine's name to ``{id, ip, os, daily_churn_gb, ps_ip, ps_id, protected_at, moves}``: ``ps_ip``/``ps_id`` are the
process server it replicates through (its IP as the configuration server registered it, and its host GUID, the id
the vault shows: lab/azure.py). The lab's Azure side (lab/azure.py) reads and moves them here, in the same host
state the WinRM side changes, so a Switch made through Resource Manager is what the configuration server lists.
A move takes effect at once when the emulated operation applies it (the 15 minutes the portal needs to show it are
not emulated).
"""

from __future__ import annotations

import uuid
from typing import Any

from lab.asr import cs as cs_mod
from lab.state import Host

DEFAULT_CHURN_GB = 5.0  # LAB: a machine's daily change when a seed gives none


def machines(cs: Host) -> dict[str, dict[str, Any]]:
    return cs.asr.setdefault("protected_machines", {})


def process_server_ids(cs: Host) -> dict[str, str]:
    """IP -> Azure id of every process server the configuration server knows: its in-built one (the CS's own host
    GUID) and each registered scale-out process server (its host GUID, [6.4] HostId)."""
    ids = {cs.ip: str(cs.asr.get("host_guid") or "")}
    for ip, record in cs_mod.registered(cs).items():
        ids[ip] = str(record.get("host_guid") or "")
    return ids


def protect(cs: Host, name: str, ps_ip: str, *, churn_gb: float | None = None, ip: str = "") -> dict[str, Any]:
    """Book ``name`` as protected through the process server at ``ps_ip`` (the CS's own IP: its in-built one)."""
    ids = process_server_ids(cs)
    if ps_ip not in ids:
        raise ValueError(f"{cs.name}: no process server with IP {ps_ip} is registered (known: {', '.join(ids)})")
    record = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{cs.asr.get('host_guid')}/{name}")),
        "ip": ip,
        "os": "Windows",
        "daily_churn_gb": float(DEFAULT_CHURN_GB if churn_gb is None else churn_gb),
        "ps_ip": ps_ip,
        "ps_id": ids[ps_ip],
        "protected_at": cs.now(),
        "moves": 0,
    }
    machines(cs)[name] = record
    return record


def move(cs: Host, name: str, ps_ip: str, ps_id: str) -> bool:
    """Switch one machine to another process server; False when it already replicates through it."""
    record = machines(cs)[name]
    if record["ps_ip"] == ps_ip:
        return False
    record.update({"ps_ip": ps_ip, "ps_id": ps_id, "moves": int(record.get("moves", 0)) + 1})
    return True


def on_process_server(cs: Host, ps_ip: str) -> list[str]:
    return sorted(name for name, record in machines(cs).items() if record["ps_ip"] == ps_ip)
