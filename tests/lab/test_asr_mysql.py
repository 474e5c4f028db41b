"""The configuration server's MySQL client and svsdb1.hosts [5]/[6.5], and the 2017 revision of
Unregister-ASRComponent.pl (purges at once, no listing, no prompt [5])."""

from __future__ import annotations

import json

import pytest
import yaml
from asr_helpers import install_ps, make_estate, run

from lab import programs, seed
from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import mysql, products
from lab.asr.cdpcli import read_conf
from lab.state import Estate

BIN = r"C:\ProgramData\ASR\home\svsystems\bin"
AMETHYST = r"C:\ProgramData\ASR\home\svsystems\etc\amethyst.conf"
OPTIONS = r"C:\Windows\Temp\asr-db\client.cnf"
DOCUMENTED = (  # [5] DOC, as the article gives it
    "select id as hostid, name, ipaddress, ostype as operatingsystem, from_unixtime(lasthostupdatetime) as heartbeat "
    "from hosts where name!='InMageProfiler'"
)
PS_COLUMNS = (
    "select id as hostid, name, ipaddress, processserverenabled, "
    "unix_timestamp() - unix_timestamp(lasthostupdatetimeps) as ps_heartbeat_age_s from hosts "
    "where name != 'InMageProfiler'"
)


@pytest.fixture
def installed(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate).rc == 0
    return estate


def client(cs, *args, stdin=None, cwd=r"C:\Windows\Temp"):
    line = " ".join([f'"{c.MYSQL_EXE}"', *(programs.quote_argument(a) for a in args)])
    return programs.run(cs, line, user="Administrator", become=True, cwd=cwd, stdin=stdin)


def option_file(cs, password, *, user="svsystems"):
    cs.write_file(OPTIONS, f'[client]\r\nuser={user}\r\npassword="{password}"\r\n')


def rows(stdout):
    return [line.split("\t") for line in stdout.splitlines()]


def test_a_configuration_server_has_the_client_and_the_db_keys(installed):
    cs = installed.read_host("cs01")
    conf = read_conf(cs, AMETHYST)
    assert conf["DB_NAME"] == "svsdb1" and conf["DB_USER"] == "svsystems" and conf["DB_HOST"] == "localhost"
    assert conf["DB_PASSWD"] == c.LAB_DB_PASSWORD and conf["MYSQL_PATH"] == c.MYSQL_BASEDIR
    assert cs.is_file(conf["MYSQL_PATH"] + r"\bin\mysql.exe")
    assert cs.reg_get(c.REG_MYSQL, "Location") == c.MYSQL_BASEDIR + "\\"
    assert conf["CX_TYPE"] == "3"  # the keys install_csps writes are kept
    ps = installed.read_host("ps01")
    assert "DB_PASSWD" not in read_conf(ps, AMETHYST) and not ps.is_file(c.MYSQL_EXE)


def test_the_documented_query_lists_registered_machines_with_heartbeats(installed):
    with installed.open_host("cs01") as cs:
        option_file(cs, c.LAB_DB_PASSWORD)
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "--batch", "--database=svsdb1", f"--execute={DOCUMENTED}")
        assert r.rc == 0, r.stderr
        table = rows(r.stdout)
        assert table[0] == ["hostid", "name", "ipaddress", "operatingsystem", "heartbeat"]
        by_ip = {row[2]: row for row in table[1:]}
        assert set(by_ip) == {"10.0.0.11", "10.0.0.101"}  # the CS's own row and the PS; no InMageProfiler
        assert by_ip["10.0.0.101"][1] == "PS01" and by_ip["10.0.0.101"][4].startswith("20")
        session = cs.asr["mysql"]["sessions"][-1]
        assert session["user"] == "svsystems" and session["option_file"] == OPTIONS and session["rc"] == 0


def test_the_ps_heartbeat_columns_and_a_read_only_transaction(installed):
    with installed.open_host("cs01") as cs:
        cs_mod.registered(cs)["10.0.0.101"]["last_heartbeat"] = cs.now() - 3600
        host = installed.read_host("ps01")
        host.service("tmansvc")["state"] = "stopped"  # no heartbeat refresh: the PS is silent
        installed.host_path("ps01").write_text(json.dumps(host.data), encoding="utf-8")
        option_file(cs, c.LAB_DB_PASSWORD)
        sql = f"SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; {PS_COLUMNS}; COMMIT"
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "--batch", "svsdb1", "-e", sql)
        assert r.rc == 0, r.stderr
        by_ip = {row[2]: row for row in rows(r.stdout)[1:]}
        assert by_ip["10.0.0.101"][3] == "1" and 3590 <= int(by_ip["10.0.0.101"][4]) <= 3700
        assert int(by_ip["10.0.0.11"][4]) <= 5


def test_writes_and_other_statements_are_refused(installed):
    with installed.open_host("cs01") as cs:
        option_file(cs, c.LAB_DB_PASSWORD)
        base = (f"--defaults-extra-file={OPTIONS}", "--batch", "--database=svsdb1")
        r = client(cs, *base, "--execute=START TRANSACTION READ ONLY; DELETE FROM hosts; COMMIT")
        assert r.rc == 1 and "ERROR 1792 (25006)" in r.stderr
        r = client(cs, *base, "--execute=select * from hosts")
        assert r.rc == 1 and "ERROR 1064" in r.stderr
        r = client(cs, *base, "--execute=select id from processserver")
        assert r.rc == 1
        r = client(cs, *base, "--execute=select nosuch from hosts")
        assert r.rc == 1 and "ERROR 1054" in r.stderr
        assert set(cs_mod.registered(cs)) == {"10.0.0.101"}


def test_credentials_option_file_rules_and_connection_errors(installed):
    with installed.open_host("cs01") as cs:
        sql = f"--execute={DOCUMENTED}"
        option_file(cs, "wrong#pw")
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "--database=svsdb1", sql)
        assert r.rc == 1 and "ERROR 1045 (28000): Access denied for user 'svsystems'@'localhost'" in r.stderr
        # unquoted, the '#' starts a comment: the password read is cut there (MySQL manual 4.2.2.2)
        cs.write_file(OPTIONS, f"[client]\r\nuser=svsystems\r\npassword={c.LAB_DB_PASSWORD}\r\n")
        assert client(cs, f"--defaults-extra-file={OPTIONS}", "--database=svsdb1", sql).rc == 1
        option_file(cs, c.LAB_DB_PASSWORD)
        r = client(cs, "--batch", f"--defaults-extra-file={OPTIONS}", sql)  # must come first (4.2.2.3)
        assert r.rc == 7 and "unknown variable 'defaults-extra-file" in r.stderr
        r = client(cs, r"--defaults-extra-file=C:\nowhere.cnf", sql)
        assert r.rc == 1 and "Could not open required defaults file" in r.stderr
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "--database=other", sql)
        assert r.rc == 1 and "ERROR 1049" in r.stderr
        r = client(cs, "--user=svsystems", f"--password={c.LAB_DB_PASSWORD}", "--database=svsdb1", sql)
        assert r.rc == 0 and "Using a password on the command line interface can be insecure" in r.stderr
        cs.set_service_state("MySQL", "stopped")
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "--database=svsdb1", sql)
        assert r.rc == 1 and "ERROR 2003 (HY000)" in r.stderr


def test_batch_output_escapes_and_raw_does_not(installed):
    with installed.open_host("cs01") as cs:
        cs_mod.registered(cs)["10.0.0.101"]["hostname"] = "PS\t01\\x"
        option_file(cs, c.LAB_DB_PASSWORD)
        sql = "--execute=select name, ipaddress from hosts where name != 'InMageProfiler'"
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "-B", "-N", "-D", "svsdb1", sql)
        assert "PS\\t01\\\\x\t10.0.0.101" in r.stdout.splitlines()
        r = client(cs, f"--defaults-extra-file={OPTIONS}", "-B", "-N", "-r", "-D", "svsdb1", sql)
        assert "PS\t01\\x\t10.0.0.101" in r.stdout.splitlines()


def test_parse_select_accepts_only_the_documented_shape():
    items, excluded = mysql.parse_select(DOCUMENTED)
    assert [h for h, _ in items] == ["hostid", "name", "ipaddress", "operatingsystem", "heartbeat"] and excluded
    items, excluded = mysql.parse_select("SELECT from_unixtime(lastHostUpdateTime) FROM hosts")
    assert [h for h, _ in items] == ["from_unixtime(lastHostUpdateTime)"] and not excluded
    for bad in ("select name from hosts where name = 'x'", "select name from hosts; drop table hosts", "select"):
        with pytest.raises(mysql.MysqlError):
            mysql.parse_select(bad)


def test_an_installed_configuration_server_has_the_credentials_file_passwords(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("cs01") as cs:
        cs.asr.pop("mysql")
        products.install_cs_extras(cs, "9.55.7123.1", location="D:\\", mysql_passwords=("Root#12345", "User#12345"))
        assert read_conf(cs, AMETHYST)["DB_PASSWD"] == "User#12345"
        assert products.mysql_accounts(cs) == {"root": "Root#12345", "svsystems": "User#12345"}


# ---- Unregister-ASRComponent.pl, 2017 revision [5] ------------------------------------------------------
def test_the_2017_script_purges_at_once_whatever_standard_input_says(installed):
    line = "perl Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS"
    with installed.open_host("cs01") as cs:
        cs.asr["unregister_script"] = "2017"
        r = programs.run(cs, line, user="Administrator", become=True, cwd=BIN, stdin="")  # no answer at all
        assert r.rc == 0 and "Enter the S.No" not in r.stdout and "(10.0.0.101)" in r.stdout
        assert "10.0.0.101" not in cs_mod.registered(cs)
        assert cs.asr["unregistered_process_servers"][-1]["unregistered_by"] == "Unregister-ASRComponent.pl"
        assert run(cs, line, cwd=BIN).rc == 1  # nothing left to purge


def test_a_seed_chooses_the_script_revision(tmp_path):
    estate = Estate(tmp_path)
    spec = {
        "hosts": [
            {
                "name": "cs01",
                "role": "configuration_server",
                "ip": "10.0.0.11",
                "asr": {"version": "9.55.7123.1", "unregister_script": 2017},
            }
        ]
    }
    path = tmp_path / "seed.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    seed.apply(estate, str(path))
    assert cs_mod.script_revision(estate.read_host("cs01")) == "2017"
    spec["hosts"][0]["asr"]["unregister_script"] = "2020"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(seed.SeedError, match="unregister_script"):
        seed.apply(estate, str(path))
