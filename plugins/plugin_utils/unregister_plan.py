# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether to purge a disconnected process server from its configuration server [5].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

How the configuration server's list of registered process servers is read -- and what is assumed
=================================================================================================
The collection's reference marks this [UNCONFIRMED]. The least invention found in public sources:

* DOC, later revisions of ``includes/site-recovery-vmware-unregister-process-server.md`` (ms.date 08/06/2018 and
  04/28/2019, MicrosoftDocs/azure-docs and its localizations): ``perl Unregister-ASRComponent.pl -IPAddress <IP>
  -Component PS``, run on the CS from ``%ProgramData%\\ASR\\home\\svsystems\\bin``, first LISTS the process servers
  registered with that IP ("can be more than one, in case of duplicate entries") with the columns **S.No**,
  **IP/Name** and **Heartbeat** (last heartbeat from the PS), then asks for the serial number of the one to
  unregister, purges it and prints ``Successfully unregistered <server-name> (<server-IP-address>)``. The 2017
  revision (the collection's seed) shows only the command.
* SRC (AzMigrate-Hydration 572a86a96d): the CS keeps process servers in MySQL (``server/db/svsdb.sql``: table
  ``hosts`` with ``ipaddress``, ``name`` and the DATETIME ``lastHostUpdateTimePs``; table ``processServer``),
  and ``admin/web/unregister_component.php`` purges one by host id. Reading the database directly would need the
  CS's database credentials, so the collection uses the documented script instead.

ASSUMPTIONS (each also stated in the module's documentation and emulated so by the lab):

1. Answering the prompt with nothing (standard input closed) purges nothing: the listing is read-only.
2. A listing row is a line that starts with its serial number and contains the PS's IP address as a whole
   word; its heartbeat is the first ``YYYY-MM-DD HH:MM:SS`` on the line (MySQL's DATETIME text, the type of
   ``hosts.lastHostUpdateTimePs``) in the configuration server's local time. The exact layout is only shown in a
   screenshot (``media/site-recovery-vmware-unregister-process-server/Unregister-cmd.PNG``).
3. Typing a row's serial number followed by Enter purges that row.

A row whose heartbeat cannot be read counts as "possibly connected": it is refused unless ``force: true``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .domain_checks import to_jsonable
from .errors import PlanningError

HEARTBEAT_STALE_MINUTES = 15  # [7.5] Critical: no heartbeat for 15 minutes
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})")
_SUCCESS = re.compile(r"Successfully unregistered\b", re.IGNORECASE)


@dataclass
class ListedProcessServer:
    serial: int
    ip: str
    name: str | None
    heartbeat: str | None
    heartbeat_age_minutes: float | None
    line: str

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)


@dataclass
class UnregisterPlan:
    purge: list[ListedProcessServer]
    listed: list[ListedProcessServer]
    reasons: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.purge)

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, **to_jsonable(self)}


def _parse_time(date: str, clock: str) -> datetime | None:
    try:
        return datetime.strptime(f"{date} {clock}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None


def parse_listing(stdout: str, ip: str, now_local: str | None) -> list[ListedProcessServer]:
    """The rows of the script's listing that belong to ``ip`` (assumption 2 in the module docstring)."""
    now = _parse_time(*now_local.split(" ", 1)) if now_local and " " in now_local else None
    word = re.compile(rf"(?<![\d.]){re.escape(ip)}(?![\d.])")
    rows = []
    for line in stdout.splitlines():
        first = re.match(r"^\s*(\d+)[.):|-]?\s+", line)  # "1  10.0.0.5/PS01 ...", not "10.0.0.5 ..."
        match = word.search(line)
        if not first or not match:
            continue
        stamp = _STAMP.search(line)
        heartbeat = f"{stamp.group(1)} {stamp.group(2)}" if stamp else None
        when = _parse_time(stamp.group(1), stamp.group(2)) if stamp else None
        age = round((now - when).total_seconds() / 60, 1) if (now and when) else None
        end = stamp.start() if stamp else len(line)
        name = line[match.end() : end].strip(" \t/|()[],") or None
        rows.append(ListedProcessServer(int(first.group(1)), ip, name, heartbeat, age, line.strip()))
    return rows


def check_listing(listing: dict[str, Any]) -> None:
    """Raise unless the listing ran: on a configuration server that has the documented script [5]."""
    if not listing.get("is_configuration_server"):
        raise PlanningError(
            "This host is not a configuration server (Installed Products\\9 CX_TYPE is not 1 or 3 [6.4]). Run "
            "asr.process_server.unregister on the configuration server the process server was registered with."
        )
    if not listing.get("script_present"):
        raise PlanningError(
            f"Unregister-ASRComponent.pl was not found in {listing.get('bin_dir')} on the configuration server [5]. "
            "Repair or upgrade the configuration server, then run the task again."
        )


def plan_unregister(listing: dict[str, Any], ip: str, *, force: bool = False) -> UnregisterPlan:
    """Purge the listed rows of ``ip`` unless a heartbeat says the PS is alive; raise when it must be refused."""
    check_listing(listing)
    rows = parse_listing(listing.get("stdout") or "", ip, listing.get("now_local"))
    if not rows:
        return UnregisterPlan([], [], [f"no process server with IP address {ip} is registered"])
    alive = [r for r in rows if r.heartbeat_age_minutes is None or r.heartbeat_age_minutes <= HEARTBEAT_STALE_MINUTES]
    if alive and not force:
        row = alive[0]
        seen = (
            f"its last heartbeat was {row.heartbeat_age_minutes} minutes ago"
            if row.heartbeat_age_minutes is not None
            else "its heartbeat could not be read from the listing"
        )
        raise PlanningError(
            f"Refusing to purge process server {ip} ({row.name or 'unknown name'}): {seen}, so it may still be "
            f"connected (a PS without a heartbeat for {HEARTBEAT_STALE_MINUTES} minutes is critical [7.5]). The purge "
            "is only for a process server that cannot be revived [5]: uninstall a connected one on the process "
            "server itself (asr.process_server.uninstall), or set force=true if the machine is gone."
        )
    reasons = [
        f"process server {r.ip} ({r.name or 'unknown name'}) is listed as S.No {r.serial}, last heartbeat "
        f"{r.heartbeat or 'unknown'}"
        for r in rows
    ]
    return UnregisterPlan(rows, rows, reasons)


def purge_succeeded(stdout: str, ip: str) -> bool:
    """[5] DOC: the script prints ``Successfully unregistered <server-name> (<server-IP-address>)``."""
    return any(_SUCCESS.search(line) and ip in line for line in stdout.splitlines())
