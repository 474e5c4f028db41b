"""The configuration server's MySQL command-line client (``mysql.exe``) and the one table it is read for.

What the product documents and its source shows:

* [5] DOC (configuration-server troubleshooting, "Remove the stale entries for protected items from the
  configuration server database"): on the CS, in the MySQL command line, ``use svsdb1;`` then
  ``select id as hostid, name, ipaddress, ostype as operatingsystem, from_unixtime(lasthostupdatetime) as
  heartbeat from hosts where name!='InMageProfiler'`` "returns the list of registered machines with their IP
  addresses and last heartbeat";
* [6.5] amethyst.conf holds the "DB keys" on a CS -- SRC (AzMigrate-Hydration 572a86a96d)
  ``server/tm/etc/amethyst.conf``: DB_NAME "svsdb1", DB_HOST "localhost", DB_USER "svsystems", DB_PASSWD,
  DB_ROOT_USER "root", DB_ROOT_PASSWD; ``server/windows/ucx_server_setup.iss`` adds MYSQL_PATH (the client is
  ``<MYSQL_PATH>\\bin\\mysql.exe``, the folder also being ``HKLM\\SOFTWARE\\Wow6432Node\\MySQL AB\\MySQL Server 5.7``
  ``Location``) -- see lab/asr/products.py ``install_mysql``;
* SRC ``server/db/svsdb.sql`` table ``hosts``: ``id``, ``name``, ``ipaddress``, ``osType``, ``lastHostUpdateTime``
  (BIGINT, epoch seconds: the agent's heartbeat), ``processServerEnabled``, ``lastHostUpdateTimePs`` (DATETIME:
  the process server's heartbeat; SRC ``admin/web/app/PSAPI.php`` inserts a registering PS's row with
  ``lastHostUpdateTimePs = now()``, and the product raises EC_NO_PS_HEART_BEAT when ``now - lastHostUpdateTimePs >
  900`` seconds, ``admin/web/ScoutAPI/*Handler.php``).

The MySQL client itself follows the MySQL 5.7 Reference Manual: 4.2.2.3 (``--defaults-extra-file`` /
``--defaults-file`` must come before any other option; a missing file is an error), 4.2.2.2 (option-file syntax:
``[client]``/``[mysql]`` groups, ``name=value``, ``#``/``;`` comments, a value may be quoted, escapes ``\\b \\t \\n
\\r \\\\ \\s``), 4.5.1.1 (``--batch``: tab-separated rows, special characters escaped unless ``--raw``; NULL printed
as ``NULL``; ``--skip-column-names``; ``--execute``; a password on the command line draws a warning), 13.3.1
(``START TRANSACTION READ ONLY`` and ``SET SESSION TRANSACTION READ ONLY``, MySQL >= 5.6.5: a write in a read-only
transaction fails with ERROR 1792), 4.9 (``MYSQL_PWD``: the password when none is given as an option), and the
client's usual connection errors (1045 access denied, 1049 unknown
database, 2003 cannot connect).

LAB scope (documented choices): only the svsdb1 ``hosts`` table exists, built from the CS's bookkeeping of
registered process servers (lab/asr/cs.py) plus the CS's own row and an ``InMageProfiler`` row (the documented
query excludes one, so the table has one; its values are LAB). Only a SELECT of that table in the documented
shape is answered: a list of columns, ``from_unixtime(col)``, ``unix_timestamp(col)``, ``unix_timestamp()`` and
``unix_timestamp() - col`` / ``unix_timestamp() - unix_timestamp(col)``, each with an optional alias, ``FROM
hosts`` and optionally ``WHERE name != 'InMageProfiler'``. Any other statement is refused loudly (ERROR 1792 for
a write inside a read-only transaction, else a LAB ERROR 1064): the lab never pretends to run SQL it does not
emulate. Every session is recorded in ``host.asr["mysql"]["sessions"]`` (user, option file and its LAB ``acl``,
statements, exit code) so tests can prove what ran. The CS's local time zone is UTC in the lab.
"""

from __future__ import annotations

import re
import time
from typing import Any

from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import products
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host

EXIT_UNKNOWN_OPTION = 7  # my_getopt's exit code for an unknown option
MAX_SESSIONS = 25
HOSTS_COLUMNS = (
    "id",
    "name",
    "ipaddress",
    "ostype",
    "lasthostupdatetime",
    "processserverenabled",
    "lasthostupdatetimeps",
)
PROFILER_NAME = "InMageProfiler"  # SRC amethyst.conf IN_PROFILER
_WRITES = re.compile(
    r"^\s*(insert|update|delete|replace|drop|alter|create|truncate|rename|grant|revoke|lock|load|call|handler|"
    r"set\s+password|flush|kill)\b",
    re.IGNORECASE,
)


class MysqlError(Exception):
    def __init__(self, code: int, state: str, message: str, *, at_line: bool = True) -> None:
        super().__init__(message)
        self.text = f"ERROR {code} ({state})" + (" at line 1" if at_line else "") + f": {message}"


# ---- the svsdb1.hosts table ----------------------------------------------------------------------------
def hosts_table(cs: Host) -> list[dict[str, Any]]:
    """The rows of ``svsdb1.hosts`` the lab knows (column names lower-case; DATETIME as epoch seconds)."""
    now = cs.now()
    rows: list[dict[str, Any]] = [
        {  # LAB: the profiler row the documented WHERE clause excludes
            "id": "00000000-0000-0000-0000-00000000fe11",
            "name": PROFILER_NAME,
            "ipaddress": cs.ip,
            "ostype": "",
            "lasthostupdatetime": 0,
            "processserverenabled": 0,
            "lasthostupdatetimeps": None,
        },
        {  # the CS's own in-built process server (CX_TYPE 3 [6.4]), heartbeating while the CS answers
            "id": cs.asr.get("host_guid", ""),
            "name": cs.data.get("hostname", cs.name.upper()),
            "ipaddress": cs.ip,
            "ostype": cs.data.get("os", {}).get("name", ""),
            "lasthostupdatetime": int(now),
            "processserverenabled": 1,
            "lasthostupdatetimeps": now,
        },
    ]
    for ip, record in cs_mod.refresh_heartbeats(cs).items():
        beat = float(record.get("last_heartbeat", 0))
        rows.append(
            {
                "id": record.get("host_guid") or "",
                "name": record.get("hostname", ""),
                "ipaddress": ip,
                "ostype": record.get("os", ""),
                # LAB: the master target agent on the PS heartbeats with the PS once it is registered [3.3]
                "lasthostupdatetime": int(beat) if record.get("mt_registered") else 0,
                "processserverenabled": 1,
                "lasthostupdatetimeps": beat,
            }
        )
    return rows


def _datetime(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch))  # LAB: the CS's time zone is UTC


# ---- the restricted SELECT -----------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'[^']*')|(?P<op>!=|<>|[(),\-*=])|(?P<word>[A-Za-z_][A-Za-z0-9_]*))")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise MysqlError(1064, "42000", f"You have an error in your SQL syntax near '{text[pos : pos + 20]}'")
        out.append(m.group(m.lastgroup or "word"))
        pos = m.end()
    return out


def _column(token: str) -> str:
    name = token.lower()
    if name not in HOSTS_COLUMNS:
        raise MysqlError(1054, "42S22", f"Unknown column '{token}' in 'field list'")
    return name


def _parse_expression(tok: list[str], i: int) -> tuple[Any, int]:
    """One select item's expression: ``col``, ``fn(col)``, ``unix_timestamp()`` [``- col`` | ``- fn(col)``]."""
    word = tok[i].lower()
    if word in ("from_unixtime", "unix_timestamp") and i + 1 < len(tok) and tok[i + 1] == "(":
        if tok[i + 2] == ")":
            if word != "unix_timestamp":
                message = "Incorrect parameter count in the call to native function 'FROM_UNIXTIME'"
                raise MysqlError(1582, "42000", message)
            expr: Any = ("now",)
            i += 3
        else:
            expr = (word, _column(tok[i + 2]))
            if tok[i + 3] != ")":
                raise MysqlError(1064, "42000", "You have an error in your SQL syntax near ')'")
            i += 4
        if expr == ("now",) and i < len(tok) and tok[i] == "-":
            right, i = _parse_expression(tok, i + 1)
            if right[0] not in ("col", "unix_timestamp"):
                raise MysqlError(1064, "42000", "lab: only unix_timestamp() - <column> is emulated")
            expr = ("age", right)
        return expr, i
    return ("col", _column(tok[i])), i + 1


def parse_select(statement: str) -> tuple[list[tuple[str, Any]], bool]:
    """The select items (header, expression) and whether the profiler row is excluded; raises MysqlError."""
    try:
        return _parse_select(_tokens(statement))
    except IndexError:
        raise MysqlError(1064, "42000", "You have an error in your SQL syntax (unexpected end)") from None


def _parse_select(tok: list[str]) -> tuple[list[tuple[str, Any]], bool]:
    if not tok or tok[0].lower() != "select":
        raise MysqlError(1064, "42000", "lab: only a SELECT of svsdb1.hosts is emulated")
    items: list[tuple[str, Any]] = []
    i = 1
    while True:
        start = i
        if tok[i] == "*":
            raise MysqlError(1064, "42000", "lab: SELECT * is not emulated; name the columns ([5])")
        expr, i = _parse_expression(tok, i)
        header = " ".join(tok[start:i]).replace("( ", "(").replace(" (", "(").replace(" )", ")")
        if i < len(tok) and tok[i].lower() == "as":
            header, i = tok[i + 1], i + 2
        items.append((header, expr))
        if i < len(tok) and tok[i] == ",":
            i += 1
            continue
        break
    if [t.lower() for t in tok[i : i + 2]] != ["from", "hosts"]:
        raise MysqlError(1064, "42000", "lab: only the table hosts of svsdb1 is emulated ([5])")
    rest = [t.lower() if not t.startswith("'") else t for t in tok[i + 2 :]]
    if not rest:
        return items, False
    if rest in (["where", "name", "!=", f"'{PROFILER_NAME}'"], ["where", "name", "<>", f"'{PROFILER_NAME}'"]):
        return items, True
    raise MysqlError(1064, "42000", f"lab: only WHERE name != '{PROFILER_NAME}' is emulated ([5])")


def _value(expr: Any, row: dict[str, Any], now: float) -> Any:
    kind = expr[0]
    if kind == "now":
        return int(now)
    if kind == "col":
        value = row[expr[1]]
        return _datetime(value) if expr[1] == "lasthostupdatetimeps" and value is not None else value
    if kind == "from_unixtime":
        value = row[expr[1]]
        return None if value is None else _datetime(float(value))
    if kind == "unix_timestamp":
        value = row[expr[1]]
        return None if value is None else int(float(value))
    right = expr[1]
    value = row[right[1]]
    if value is None:
        return None
    return int(now) - int(float(value))


def _escape(value: Any, raw: bool) -> str:
    if value is None:
        return "NULL"
    text = str(value)
    if raw:
        return text
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\0", "\\0")


def run_select(cs: Host, statement: str, *, raw: bool, headers: bool) -> str:
    items, exclude_profiler = parse_select(statement)
    now = cs.now()
    lines = ["\t".join(h for h, _ in items)] if headers else []
    for row in hosts_table(cs):
        if exclude_profiler and row["name"] == PROFILER_NAME:
            continue
        lines.append("\t".join(_escape(_value(expr, row, now), raw) for _, expr in items))
    return "".join(line + "\r\n" for line in lines)


# ---- option files (MySQL 5.7 manual 4.2.2.2) ----------------------------------------------------------
_OPTION_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "r": "\r", "\\": "\\", "s": " "}


def _option_value(text: str) -> str:
    value = text.strip()
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        value = value[1:-1]
    elif "#" in value:  # an unquoted value ends where a comment starts
        value = value.split("#", 1)[0].rstrip()
    return re.sub(r"\\(.)", lambda m: _OPTION_ESCAPES.get(m.group(1), "\\" + m.group(1)), value)


def read_option_file(text: str) -> dict[str, str]:
    """The ``[client]`` and ``[mysql]`` groups' options (later lines win)."""
    options: dict[str, str] = {}
    group = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("[") and stripped.endswith("]"):
            group = stripped[1:-1].strip().lower()
            continue
        if group not in ("client", "mysql"):
            continue
        name, _, value = stripped.partition("=")
        options[name.strip().lower().replace("_", "-")] = _option_value(value) if _ else ""
    return options


# ---- the client ----------------------------------------------------------------------------------------
_SHORT = {"-u": "user", "-D": "database", "-e": "execute", "-h": "host"}
_LONG_VALUE = {"user", "password", "database", "execute", "host", "default-character-set", "connect-timeout"}
_LONG_FLAG = {"batch", "raw", "skip-column-names", "silent", "no-auto-rehash"}
_SHORT_FLAG = {"-B": "batch", "-r": "raw", "-N": "skip-column-names", "-s": "silent", "-A": "no-auto-rehash"}


class _Usage(Exception):
    def __init__(self, rc: int, text: str) -> None:
        super().__init__(text)
        self.rc = rc
        self.text = text


def _parse_arguments(inv: Invocation) -> tuple[dict[str, str], list[str], str | None]:
    """Options given on the command line, the flags, and the option file named first (4.2.2.3)."""
    args = list(inv.args)
    options: dict[str, str] = {}
    flags: list[str] = []
    option_file = None
    if args and re.match(r"^--defaults(-extra)?-file=", args[0]):
        option_file = args.pop(0).split("=", 1)[1]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            name = name.replace("_", "-")
            if name in _LONG_FLAG:
                flags.append(name)
            elif name == "password" and not eq:
                options["prompted-password"] = ""  # asks on the console; nothing answers it here
            elif name in _LONG_VALUE and eq:
                options[name] = value
            elif name in _LONG_VALUE and name != "password" and i + 1 < len(args):
                options[name] = args[i + 1]
                i += 1
            else:  # includes --defaults-extra-file anywhere but first (4.2.2.3)
                raise _Usage(EXIT_UNKNOWN_OPTION, f"mysql: [ERROR] unknown variable '{arg[2:]}'.\r\n")
        elif arg in _SHORT_FLAG:
            flags.append(_SHORT_FLAG[arg])
        elif arg[:2] in _SHORT:
            if len(arg) > 2:
                options[_SHORT[arg[:2]]] = arg[2:]
            elif i + 1 < len(args):
                options[_SHORT[arg]] = args[i + 1]
                i += 1
        elif arg.startswith("-p") and len(arg) > 2:
            options["password"] = arg[2:]
        elif arg.startswith("-"):
            raise _Usage(EXIT_UNKNOWN_OPTION, f"mysql: [ERROR] unknown option '{arg}'.\r\n")
        else:
            options["database"] = arg  # mysql [options] db_name
        i += 1
    return options, flags, option_file


def _split_statements(sql: str) -> list[str]:
    out, current, quote = [], [], ""
    for ch in sql:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == ";":
            out.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    out.append("".join(current).strip())
    return [s for s in out if s]


def _normal(statement: str) -> str:
    return " ".join(statement.split()).lower()


def _record(cs: Host, session: dict[str, Any]) -> None:
    sessions = cs.asr.setdefault("mysql", {}).setdefault("sessions", [])
    sessions.append(session)
    del sessions[:-MAX_SESSIONS]


@executable("mysql.exe")
def mysql(inv: Invocation) -> ProcessResult:
    host = inv.host
    session: dict[str, Any] = {"time": host.now(), "statements": [], "option_file": None, "rc": 1}
    try:
        result = _run_client(inv, session)
    except _Usage as exc:
        result = ProcessResult(exc.rc, "", exc.text)
    session["rc"] = result.rc
    if products.is_configuration_server(host):
        _record(host, session)
    return result


def _run_client(inv: Invocation, session: dict[str, Any]) -> ProcessResult:
    host = inv.host
    options, flags, option_file = _parse_arguments(inv)
    warnings = ""
    if "password" in options:  # 4.5.1.1 / 6.1.2.1: the client warns about a password on the command line
        warnings = "mysql: [Warning] Using a password on the command line interface can be insecure.\r\n"
    if option_file is not None:
        path = option_file if (len(option_file) > 1 and option_file[1] == ":") else products.join(inv.cwd, option_file)
        session["option_file"] = path
        entry = host._entry(path)
        session["option_file_acl"] = (entry or {}).get("acl")
        if not host.is_file(path):
            return ProcessResult(
                1,
                "",
                f"mysql: [ERROR] Could not open required defaults file: {option_file}\r\n"
                "mysql: [ERROR] Fatal error in defaults handling. Program aborted!\r\n",
            )
        options = {**read_option_file(host.read_text(path)), **options}
    user = options.get("user") or "ODBC"  # the client's default user on Windows
    session["user"] = user
    sql = options.get("execute")
    if sql is None:
        sql = inv.stdin or ""
    statements = _split_statements(sql)
    session["statements"] = statements
    # connecting: the MySQL service ([6.3] a CS runs MySQL) must run; then the account (LAB: products.mysql_accounts)
    if not products.is_configuration_server(host) or (host.service("MySQL") or {}).get("state") != "running":
        return ProcessResult(
            1, "", warnings + "ERROR 2003 (HY000): Can't connect to MySQL server on 'localhost' (10061)\r\n"
        )
    # 4.2.2 / 4.9: the command line and option files win over the MYSQL_PWD environment variable
    password = options.get("password")
    session["password_from"] = "option" if password is not None else None
    if password is None and "MYSQL_PWD" in inv.env:
        password, session["password_from"] = inv.env["MYSQL_PWD"], "MYSQL_PWD"
    if password is None:
        password = options.get("prompted-password")
    accounts = products.mysql_accounts(host)
    if user not in accounts or password != accounts[user]:
        using = "YES" if password else "NO"
        denied = f"ERROR 1045 (28000): Access denied for user '{user}'@'localhost' (using password: {using})\r\n"
        return ProcessResult(1, "", warnings + denied)
    database = options.get("database")
    if database is not None and database.lower() != c.DB_NAME:
        return ProcessResult(1, "", warnings + f"ERROR 1049 (42000): Unknown database '{database}'\r\n")
    out = []
    read_only = False
    raw = "raw" in flags
    headers = "skip-column-names" not in flags
    for statement in statements:
        text = _normal(statement)
        try:
            if text in ("set session transaction read only", "start transaction read only"):
                read_only = True  # 13.3.1 (MySQL >= 5.6.5)
            elif text in ("commit", "rollback"):
                pass
            elif text == f"use {c.DB_NAME}":
                database = c.DB_NAME
            elif _WRITES.match(statement):
                session["write_refused"] = statement
                if read_only:
                    raise MysqlError(1792, "25006", "Cannot execute statement in a READ ONLY transaction.")
                raise MysqlError(1064, "42000", "lab: only reading svsdb1.hosts is emulated; nothing was written")
            elif text.startswith("select"):
                if database is None:
                    raise MysqlError(1046, "3D000", "No database selected")
                out.append(run_select(host, statement, raw=raw, headers=headers))
            else:
                raise MysqlError(1064, "42000", f"lab: statement not emulated: {statement[:60]}")
        except MysqlError as exc:
            return ProcessResult(1, "".join(out), warnings + exc.text + "\r\n")
    return ProcessResult(0, "".join(out), warnings)
