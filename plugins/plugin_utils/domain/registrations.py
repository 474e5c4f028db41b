# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which process servers a configuration server has registered, and when each last sent a heartbeat [5].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The read-only source (ARCHITECTURE.md decision 9)
================================================
``perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS`` is NOT one: the 2017 revision of Microsoft's
include (the collection's seed) says it purges the process server at once, without a listing or a prompt; only
the 2018/2019 revisions describe a listing with a prompt [5]. It is started only to purge (:mod:`unregister_plan`).

What Microsoft documents for "the list of registered machines with their IP addresses and last heartbeat" is the
configuration server's database [5] (configuration-server troubleshooting, "Remove the stale entries for
protected items from the configuration server database"): in the MySQL command line, ``use svsdb1;`` then
``select id as hostid, name, ipaddress, ostype as operatingsystem, from_unixtime(lasthostupdatetime) as heartbeat
from hosts where name!='InMageProfiler'``. ``registration_read.ps1`` runs that query on the configuration server,
inside a READ ONLY transaction, with the client and the account the configuration server itself uses (amethyst.conf
MYSQL_PATH, DB_USER, DB_PASSWD [6.5]; or the task's ``database_user``/``database_password``), and returns
mysql.exe's ``--batch`` output, which :func:`parse_batch` reads here.

Columns added to the documented ones, from the published product source (AzMigrate-Hydration 572a86a96d,
``server/db/svsdb.sql`` table ``hosts``): ``processserverenabled`` (1 on a process server's row) and
``lasthostupdatetimeps`` (DATETIME, the process server's own heartbeat: a registering PS's row is inserted with
``lastHostUpdateTimePs = now()`` by ``admin/web/app/PSAPI.php``, and the product raises EC_NO_PS_HEART_BEAT when
it is more than 900 s old). The documented ``lasthostupdatetime`` (epoch seconds) is the agent's heartbeat (the
master target on a scale-out process server). Ages are computed by the database's clock (``UNIX_TIMESTAMP() -
...``), so no time zone is involved. A process server's heartbeat, as judged here, is ``lasthostupdatetimeps``.

[UNCONFIRMED] on a real configuration server: that process servers have rows in ``hosts`` with
``processserverenabled = 1`` and a maintained ``lasthostupdatetimeps``; that amethyst.conf carries DB_USER,
DB_PASSWD and MYSQL_PATH as the source's installer writes them; that the DB_USER account may read ``hosts``.
docs/runbooks/registrations.md gives the read to try by hand on a first real server.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .checks import to_jsonable
from .errors import PlanningError

DATABASE = "svsdb1"
COLUMNS = (
    "hostid",
    "name",
    "ipaddress",
    "operatingsystem",
    "heartbeat",
    "processserverenabled",
    "ps_heartbeat",
    "heartbeat_age_s",
    "ps_heartbeat_age_s",
)
RUNBOOK = "docs/runbooks/registrations.md"
_ESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "0": "\0"}
_MYSQL_ERROR = re.compile(r"ERROR (\d+) \(([0-9A-Z]+)\)(?: at line \d+)?: (.*)")
_REPORT = (
    "the configuration server's database does not look like the one this collection reads. Run the read by hand "
    f"({RUNBOOK}) and report what it shows."
)


@dataclass(frozen=True)
class HostRow:
    """One row of ``svsdb1.hosts`` as the read returns it (None: NULL)."""

    host_id: str
    name: str
    ip: str
    operating_system: str | None
    agent_heartbeat: str | None
    process_server: bool
    heartbeat: str | None
    agent_heartbeat_age_s: int | None
    heartbeat_age_s: int | None

    @property
    def heartbeat_age_minutes(self) -> float | None:
        return None if self.heartbeat_age_s is None else round(max(self.heartbeat_age_s, 0) / 60, 1)

    def to_dict(self) -> dict[str, Any]:
        """What modules return for a registered process server (``heartbeat*`` = the process server's own)."""
        agent_age = self.agent_heartbeat_age_s
        return {
            "ip": self.ip,
            "name": self.name,
            "host_id": self.host_id,
            "operating_system": self.operating_system,
            "heartbeat": self.heartbeat,
            "heartbeat_age_minutes": self.heartbeat_age_minutes,
            "agent_heartbeat": self.agent_heartbeat,
            "agent_heartbeat_age_minutes": None if agent_age is None else round(max(agent_age, 0) / 60, 1),
        }


# ---- mysql --batch output ------------------------------------------------------------------------------
def unescape(field: str) -> str | None:
    """One ``--batch`` field: ``NULL`` is SQL NULL; ``\\\\``, ``\\t``, ``\\n``, ``\\0`` are the client's escapes."""
    if field == "NULL":
        return None
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), field)


def _integer(column: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise PlanningError(f"svsdb1.hosts column {column} is {value!r}, not a number: {_REPORT}") from None


def parse_batch(stdout: str) -> list[HostRow]:
    """The rows of the read's ``mysql --batch`` output (a header line, then one tab-separated line per row)."""
    lines = [line[:-1] if line.endswith("\r") else line for line in stdout.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise PlanningError(f"The read of svsdb1.hosts returned nothing, not even its header line: {_REPORT}")
    header = lines[0].split("\t")
    if tuple(header) != COLUMNS:
        raise PlanningError(
            f"svsdb1.hosts was read with the columns {', '.join(header)}, not {', '.join(COLUMNS)}: {_REPORT}"
        )
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = [unescape(f) for f in line.split("\t")]
        if len(fields) != len(COLUMNS):
            raise PlanningError(f"Line {number} of the read of svsdb1.hosts has {len(fields)} fields: {_REPORT}")
        value = dict(zip(COLUMNS, fields, strict=True))
        rows.append(
            HostRow(
                host_id=value["hostid"] or "",
                name=value["name"] or "",
                ip=value["ipaddress"] or "",
                operating_system=value["operatingsystem"],
                agent_heartbeat=value["heartbeat"],
                process_server=value["processserverenabled"] == "1",
                heartbeat=value["ps_heartbeat"],
                agent_heartbeat_age_s=_integer("heartbeat_age_s", value["heartbeat_age_s"]),
                heartbeat_age_s=_integer("ps_heartbeat_age_s", value["ps_heartbeat_age_s"]),
            )
        )
    return rows


def registered_process_servers(rows: Iterable[HostRow], ips: Sequence[str] | None = None) -> list[HostRow]:
    """The process servers' rows (``processserverenabled`` 1), only those of ``ips`` when given, in table order."""
    wanted = None if ips is None else set(ips)
    return [r for r in rows if r.process_server and (wanted is None or r.ip in wanted)]


def not_registered(rows: Iterable[HostRow], ips: Sequence[str]) -> list[str]:
    """What to say about each address of ``ips`` no process server row carries."""
    seen = {r.ip for r in registered_process_servers(rows, ips)}
    return [
        f"no process server with IP address {ip} is registered with this configuration server"
        for ip in ips
        if ip not in seen
    ]


# ---- what went wrong, and what to do -------------------------------------------------------------------
def read_problem(read: dict[str, Any]) -> str | None:
    """Why ``registration_read``'s result cannot be used, as a sentence that says what to do; None when it can.

    The read never falls back to anything else (least of all the purge script): a configuration server whose
    database cannot be read fails the task with this message.
    """
    if not read.get("is_configuration_server"):
        return (
            "This host is not a configuration server (Installed Products\\9 CX_TYPE is not 1 or 3 [6.4]). Run the "
            "task on (or delegate it to) the configuration server the process servers are registered with."
        )
    if not read.get("mysql_client"):
        return (
            "No MySQL client was found on the configuration server: neither <MYSQL_PATH>\\bin\\mysql.exe (MYSQL_PATH "
            f"of {read.get('amethyst_conf')}) nor bin\\mysql.exe under the folder registered in "
            "HKLM\\SOFTWARE\\Wow6432Node\\MySQL AB\\MySQL Server 5.7 (Location) exists. The configuration server "
            f"keeps its registrations in MySQL 5.7 [2.1]: check its installation ({RUNBOOK})."
        )
    missing = list(read.get("credentials_missing") or [])
    if missing:
        return (
            f"{read.get('amethyst_conf')} has no {' or '.join(missing)} to read the configuration server's database "
            f"with. Give database_user and database_password (a MySQL account that may SELECT svsdb1.hosts; {RUNBOOK})."
        )
    if read.get("rc") == 0:
        return None
    return _client_problem(read)


def _client_problem(read: dict[str, Any]) -> str:
    stderr = str(read.get("stderr") or "")
    match = _MYSQL_ERROR.search(stderr)
    code = int(match.group(1)) if match else None
    said = match.group(0) if match else (stderr.strip().splitlines() or ["no error text"])[-1]
    source = (
        "database_user/database_password of the task"
        if read.get("credentials") == "task"
        else f"DB_USER/DB_PASSWD of {read.get('amethyst_conf')}"
    )
    advice = {
        1045: f"MySQL refused the account ({source}). Correct it, or give database_user and database_password.",
        1044: f"The account ({source}) may not use svsdb1. Give an account that may SELECT svsdb1.hosts.",
        1142: f"The account ({source}) may not SELECT svsdb1.hosts. Give an account that may.",
        2003: "MySQL does not answer on the configuration server: start the MySQL service [6.3] and run again.",
        1049: f"The configuration server has no database svsdb1: {_REPORT}",
        1146: f"svsdb1 has no table hosts: {_REPORT}",
        1054: f"svsdb1.hosts lacks a column this collection reads: {_REPORT}",
    }.get(code or -1, f"Run the read by hand on the configuration server ({RUNBOOK}) to see why.")
    return (
        f"Reading the registrations in the configuration server's database failed (mysql.exe rc {read.get('rc')}: "
        f"{said}). {advice}"
    )


def describe_source(read: dict[str, Any]) -> dict[str, Any]:
    """Where the registrations were read (no secret): returned by the modules as ``database``."""
    return to_jsonable(
        {
            "name": read.get("database") or DATABASE,
            "client": read.get("mysql_client"),
            "client_source": read.get("mysql_client_source"),
            "credentials": read.get("credentials"),
        }
    )
