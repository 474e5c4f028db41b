# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether to purge a disconnected process server from its configuration server [5].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The decision is made from the configuration server's registrations read READ-ONLY from its database
(:mod:`registrations`), never from ``Unregister-ASRComponent.pl``: that script is the purge itself. The revisions
of Microsoft's include disagree about it [5] -- the 2017 one (the seed's) says ``perl Unregister-ASRComponent.pl
-IPAddress <ip> -Component PS`` purges the process server at once; the 2018/2019 ones describe a listing (S.No,
IP/Name, Heartbeat) and a prompt for the S.No. So it is started only in a real run of
``asr.process_server.unregister`` once this plan says purge, with "1" on its standard input (the first row of a
listing that shows only that address; unread by a script that purges at once), once per registered row, and the
database is read again to verify (:func:`remaining`).

A process server whose heartbeat is at most 15 minutes old, or unknown, may still be connected: refused unless
``force`` (a connected one is decommissioned on the process server itself [5]).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import PlanningError
from .registrations import HostRow, registered_process_servers

HEARTBEAT_STALE_MINUTES = 15  # [7.5] Critical: no heartbeat for 15 minutes


@dataclass
class UnregisterPlan:
    ip: str
    registered: list[HostRow]
    reasons: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.registered)

    @property
    def purges(self) -> int:
        """How many times the purge script runs at most: once per registered row (duplicate entries [5])."""
        return len(self.registered)

    def to_dict(self) -> dict[str, Any]:
        return {
            "changed": self.changed,
            "ip": self.ip,
            "registered": [r.to_dict() for r in self.registered],
            "reasons": list(self.reasons),
        }


def _alive(row: HostRow) -> bool:
    age = row.heartbeat_age_minutes
    return age is None or age <= HEARTBEAT_STALE_MINUTES


def plan_unregister(rows: Sequence[HostRow], ip: str, *, force: bool = False) -> UnregisterPlan:
    """Purge every process server row of ``ip`` unless a heartbeat says it may be alive; raise when refused."""
    mine = registered_process_servers(rows, [ip])
    if not mine:
        return UnregisterPlan(ip, [], [f"no process server with IP address {ip} is registered"])
    alive = [r for r in mine if _alive(r)]
    if alive and not force:
        row = alive[0]
        seen = (
            f"its last heartbeat was {row.heartbeat_age_minutes:g} minutes ago"
            if row.heartbeat_age_minutes is not None
            else "the configuration server has no heartbeat time for it"
        )
        raise PlanningError(
            f"Refusing to purge process server {ip} ({row.name or 'unknown name'}): {seen}, so it may still be "
            f"connected (a PS without a heartbeat for {HEARTBEAT_STALE_MINUTES} minutes is critical [7.5]). The purge "
            "is only for a process server that cannot be revived [5]: uninstall a connected one on the process "
            "server itself (asr.process_server.uninstall), or set force=true if the machine is gone."
        )
    reasons = [
        f"process server {r.ip} ({r.name or 'unknown name'}) is registered, last heartbeat {r.heartbeat or 'unknown'}"
        for r in mine
    ]
    return UnregisterPlan(ip, mine, reasons)


def remaining(rows: Sequence[HostRow], ip: str) -> list[HostRow]:
    """The process server rows of ``ip`` still registered after a purge (verify)."""
    return registered_process_servers(rows, [ip])
