"""The lab's answer to ``registration_read v1`` (plugins/plugin_utils/powershell/registration_read.ps1).

A twin kept small until the lab runs the script's own text (ARCHITECTURE.md decision 8). Mirrors the script: on
a configuration server (Installed Products\\9 CX_TYPE 1 or 3 [6.4]) find ``mysql.exe`` (amethyst.conf MYSQL_PATH,
else the MySQL registry key's ``Location``), the account (the task's DatabaseUser/DatabasePassword, else
amethyst.conf DB_USER/DB_PASSWD [6.5]), and run the client with the password in its environment only
(MYSQL_PWD). What is missing is reported, not thrown. The product behaviour (the client, svsdb1.hosts) is
lab/asr/mysql.py's.
"""

from __future__ import annotations

import json
from typing import Any

from lab import scripts
from lab.asr.cdpcli import read_conf
from lab.collection_scripts._native import invoke

CSPS_KEY = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9"
MYSQL_KEY = r"HKLM\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7"
AMETHYST = r"C:\ProgramData\ASR\home\svsystems\etc\amethyst.conf"  # Join-Path $env:ProgramData ...
QUERY = (  # the script's $Query, verbatim
    "SELECT id AS hostid, name, ipaddress, ostype AS operatingsystem, "
    "FROM_UNIXTIME(lasthostupdatetime) AS heartbeat, processserverenabled, lasthostupdatetimeps AS ps_heartbeat, "
    "UNIX_TIMESTAMP() - lasthostupdatetime AS heartbeat_age_s, "
    "UNIX_TIMESTAMP() - UNIX_TIMESTAMP(lasthostupdatetimeps) AS ps_heartbeat_age_s "
    "FROM hosts WHERE name != 'InMageProfiler'"
)
STATEMENTS = f"SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; {QUERY}; COMMIT"


def _client(ctx: scripts.ScriptContext, conf: dict[str, str]) -> tuple[str | None, str | None]:
    for folder, source in (
        (conf.get("MYSQL_PATH"), "amethyst.conf MYSQL_PATH"),
        (ctx.registry_value(MYSQL_KEY, "Location"), r"registry MySQL AB\MySQL Server 5.7 Location"),
    ):
        if folder and ctx.host.is_file(folder.rstrip("\\") + r"\bin\mysql.exe"):
            return folder.rstrip("\\") + r"\bin\mysql.exe", source
    return None, None


@scripts.register("registration_read", 1)
def registration_read(ctx: scripts.ScriptContext) -> str:
    ctx.changed = False
    cx_type = ctx.registry_value(CSPS_KEY, "CX_TYPE")
    result: dict[str, Any] = {
        "is_configuration_server": cx_type is not None and int(cx_type) in (1, 3),
        "amethyst_conf": AMETHYST,
        "amethyst_present": ctx.host.is_file(AMETHYST),
        "mysql_client": None,
        "mysql_client_source": None,
        "database": "svsdb1",
        "credentials": None,
        "credentials_missing": [],
        "statements": STATEMENTS,
        "rc": None,
        "stdout": None,
        "stderr": None,
    }
    if not result["is_configuration_server"]:
        return json.dumps(result, separators=(",", ":"))
    conf = read_conf(ctx.host, AMETHYST)
    result["mysql_client"], result["mysql_client_source"] = _client(ctx, conf)
    user = ctx.param("DatabaseUser") or ""
    if user:
        result["credentials"] = "task"
        password = ctx.secret("DatabasePassword") or ""
    else:
        user, password = conf.get("DB_USER") or "", conf.get("DB_PASSWD") or ""
        result["credentials"] = "amethyst.conf"
        result["credentials_missing"] = [k for k, v in (("DB_USER", user), ("DB_PASSWD", password)) if not v]
    if not result["mysql_client"] or result["credentials_missing"]:
        return json.dumps(result, separators=(",", ":"))
    arguments = ["--batch", f"--user={user}", "--database=svsdb1", f"--execute={STATEMENTS}"]
    run = invoke(ctx, result["mysql_client"], arguments, environment={"MYSQL_PWD": password})
    result.update(rc=run["rc"], stdout=run["stdout"], stderr=run["stderr"])
    return json.dumps(result, separators=(",", ":"))
