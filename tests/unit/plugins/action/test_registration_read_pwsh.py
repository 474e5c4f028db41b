"""registration_read.ps1 run as its real text under PowerShell 7 (ARCHITECTURE.md decision 8), not through the lab's
twin: on a configuration server it starts the MySQL client once, with the account on its command line and the
password only in that process's environment, and writes nothing; what is missing is reported without starting
anything. Only the registry read (Get-Item on HKLM:) is stubbed; the client is a small executable that records what
it was given."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils._action_base import load_script
from lab import pwsh

PASSWORD = 'Pw#1 with space\\and"quote'
CLIENT = """#!/bin/sh
here="$(dirname "$0")"
printf '%s\\n' "$@" > "$here/args.txt"
printf '%s' "$MYSQL_PWD" > "$here/env.txt"
printf 'hostid\\tname\\r\\n'
exit 0
"""
DRIVER = r"""
param ([string]$ProgramData, [string]$Script, [string]$CxType, [string]$User = '', [string]$Password = '')
$ErrorActionPreference = 'Stop'
$global:LabCxType = $CxType  # the script has a $cxType of its own (variable names are case-insensitive)
function Get-Item {
    # the registry is Windows-only: Installed Products\9 with CX_TYPE, nothing else
    [CmdletBinding()]
    param ([string]$LiteralPath)
    if ($global:LabCxType -and $LiteralPath -like 'HKLM:*Installed Products\9') {
        $key = [pscustomobject]@{ CxType = [int]$global:LabCxType }
        $key | Add-Member -MemberType ScriptMethod -Name GetValue -Value {
            param($n, $d)
            if ($n -eq 'CX_TYPE') { $this.CxType } else { $d }
        }
        return $key
    }
    return $null
}
$global:Ansible = [pscustomobject]@{ Changed = $true; Result = $null }
$env:ProgramData = $ProgramData
$block = [scriptblock]::Create((Get-Content -LiteralPath $Script -Raw))
if ($User) {
    & $block -DatabaseUser $User -DatabasePassword (ConvertTo-SecureString -String $Password -AsPlainText -Force)
}
else {
    & $block
}
[Console]::Out.Write((ConvertTo-Json -InputObject @{ changed = $Ansible.Changed; result = $Ansible.Result } -Compress))
"""


@pytest.fixture
def host(tmp_path):
    """A configuration server's files: amethyst.conf [6.5] and a MySQL client under MYSQL_PATH\\bin."""
    conf = tmp_path / "ProgramData" / "ASR" / "home" / "svsystems" / "etc"
    conf.mkdir(parents=True)
    client = tmp_path / "MySQL" / "bin" / "mysql.exe"
    client.parent.mkdir(parents=True)
    client.write_text(CLIENT, encoding="utf-8")
    client.chmod(client.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "script.ps1").write_text(load_script("registration_read").text, encoding="utf-8")
    (tmp_path / "driver.ps1").write_text(DRIVER, encoding="utf-8")
    return tmp_path


def amethyst(host, **keys):
    text = "".join(f'{k} = "{v}"\r\n' for k, v in keys.items())
    (host / "ProgramData" / "ASR" / "home" / "svsystems" / "etc" / "amethyst.conf").write_text(text, encoding="utf-8")


def run(host, cx_type="3", user="", password=""):
    files_before = sorted(str(p) for p in host.rglob("*"))
    args = [pwsh.find().path, "-NoProfile", "-NonInteractive", "-File", str(host / "driver.ps1")]
    args += ["-ProgramData", str(host / "ProgramData"), "-Script", str(host / "script.ps1"), "-CxType", cx_type]
    if user:
        args += ["-User", user, "-Password", password]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120, env={**os.environ, "TMPDIR": str(host)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    client_dir = host / "MySQL" / "bin"
    created = sorted(
        str(p) for p in host.rglob("*") if str(p) not in files_before and p.parent != client_dir
    )  # the fake client's own records aside, nothing is written
    return out["changed"], json.loads(out["result"]), created


def started(host):
    path = host / "MySQL" / "bin" / "args.txt"
    if not path.exists():
        return None, None
    return path.read_text(encoding="utf-8").splitlines(), (host / "MySQL" / "bin" / "env.txt").read_text("utf-8")


def test_the_configuration_servers_own_account_with_the_password_in_the_environment_only(host):
    amethyst(host, DB_USER="svsystems", DB_PASSWD=PASSWORD, MYSQL_PATH=str(host / "MySQL"))
    changed, result, created = run(host)
    args, env = started(host)
    assert changed is False and created == [], result
    assert result["credentials"] == "amethyst.conf", result
    assert result["mysql_client_source"] == "amethyst.conf MYSQL_PATH"
    assert args[:3] == ["--batch", "--user=svsystems", "--database=svsdb1"]
    assert args[3] == "--execute=" + result["statements"]
    assert result["statements"].startswith("SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; SELECT ")
    assert env == PASSWORD and not any(PASSWORD in a for a in args)
    assert PASSWORD not in json.dumps(result)
    assert result["rc"] == 0 and result["stdout"].startswith("hostid\tname")


def test_the_tasks_account_arrives_as_a_secure_string(host):
    amethyst(host, DB_USER="svsystems", DB_PASSWD="not-this-one", MYSQL_PATH=str(host / "MySQL"))
    _, result, created = run(host, user="asr_ro", password=PASSWORD)
    args, env = started(host)
    assert result["credentials"] == "task" and "--user=asr_ro" in args and env == PASSWORD and created == []
    assert PASSWORD not in json.dumps(result)


@pytest.mark.parametrize(
    ("cx_type", "keys", "expect"),
    [
        ("2", {"DB_USER": "svsystems", "DB_PASSWD": "x"}, {"is_configuration_server": False}),
        ("3", {"DB_USER": "svsystems"}, {"credentials_missing": ["DB_PASSWD"]}),
        ("3", {"DB_PASSWD": "x"}, {"credentials_missing": ["DB_USER"]}),
        ("3", {"DB_USER": "svsystems", "DB_PASSWD": "x", "MYSQL_PATH": "/nowhere"}, {"mysql_client": None}),
    ],
)
def test_what_is_missing_is_reported_and_nothing_is_started(host, cx_type, keys, expect):
    keys.setdefault("MYSQL_PATH", str(host / "MySQL"))
    amethyst(host, **keys)
    changed, result, created = run(host, cx_type=cx_type)
    assert changed is False and created == [] and started(host) == (None, None)
    for key, value in expect.items():
        assert result[key] == value, (key, result)
    assert result["rc"] is None
