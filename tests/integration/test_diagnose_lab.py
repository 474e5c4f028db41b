"""playbooks/diagnose.yml end to end: real ansible-playbook, the winrm connection, pywinrm, the lab running the
collection's real diagnose.ps1 under pwsh.

One read-only call per host writes <asr_diagnostics_dir>/<host>.json (no secret in it), in check mode too; a relative
package path is refused before any remote call; the file imported into another host with ``python -m lab import``
makes that host's diagnosis the same as the first one's.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
import subprocess
import sys

import pytest
from lab_ops import clear, identities, playbook, processes, recap, served

from lab import survey_import
from lab.asr import constants as c
from lab.asr import installer

pytestmark = pytest.mark.lab

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = r"D:\Media\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
PROXY_PASSWORD = "Diag-Proxy-Pa55#9"
WMI_RULE = "d1e49aac-8f56-4280-b9ba-993a6d77406c"


def make_host_interesting(estate, name):
    """A process server as a hardened real one might be: FIPS on, an AllSigned group policy, Defender's WMI rule,
    .NET 4.8, a German culture, a proxy password in the registry, a staged package."""
    with estate.open_host(name) as host:
        host.data["windows"] = {
            "fips_enabled": 1,
            "dotnet_release": 528449,
            "dotnet_version": "4.8.03761",
            "culture": "de-DE",
            "defender": {"attack_surface_reduction_rules": [{"id": WMI_RULE, "action": 1}], "exclusion_paths": []},
        }
        policies = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell"
        host.reg_set(policies, "EnableScripts", 1, "DWord")
        host.reg_set(policies, "ExecutionPolicy", "AllSigned")
        proxy = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"
        host.reg_set(proxy, "ProxyIP", "http://proxy.lab")
        host.reg_set(proxy, "ProxyPassword", PROXY_PASSWORD)
        host.write_file(PACKAGE, installer.package_bytes("9.55.7123.1"))


def state_of(estate, name):
    """The host's state less what the lab records as time passes and reads happen, not the host's (the heartbeats
    its CS records from live process servers, the MySQL reads it answered): test_playbooks_lab.py's state_of."""
    data = copy.deepcopy(estate.read_host(name).data)
    for record in data.get("asr", {}).get("registered_process_servers", {}).values():
        record.pop("last_heartbeat", None)
    data.get("asr", {}).get("mysql", {}).pop("sessions", None)
    return data


def diagnose(estate, out, *extra, variables=None):
    code, output = playbook(estate, "diagnose.yml", {"asr_diagnostics_dir": str(out / "diag"), **(variables or {})},
                            out, *extra)  # fmt: skip
    return code, output


def read(out, host):
    return json.loads((out / "diag" / f"{host}.json").read_text(encoding="utf-8"))


def test_one_read_only_call_per_host_writes_a_file_without_secrets(tmp_path):
    with served(tmp_path, "installed-old", ps=2) as estate:
        make_host_interesting(estate, "ps01")
        before = {name: state_of(estate, name) for name in ("cs01", "ps01")}
        clear(estate)

        code, output = diagnose(
            estate, tmp_path, "--limit", "cs01,ps01", variables={"asr_installer_remote_path": PACKAGE}
        )

        assert code == 0, output[-4000:]
        shown = " ".join(output.split())  # the YAML callback folds long lines
        for name in ("cs01", "ps01"):
            assert identities(estate, name) == ["diagnose v1"], identities(estate, name)  # one call, read-only
            assert state_of(estate, name) == before[name]  # nothing changed on the host
            assert f"diagnostics of {name}: {tmp_path / 'diag' / name}.json" in shown
        assert not [p for p in processes(estate, "cs01") if "perl" in p.lower()]  # never the purge script
        assert recap(output)["ps01"]["failed"] == 0

        ps = read(tmp_path, "ps01")
        assert ps["format"] == "asr.process_server.diagnostics/v1" and ps["diagnose"] == "diagnose v1"
        assert ps["survey"]["format"] == "asr.process_server.survey/v1"
        parts = ps["diagnostics"]
        assert parts["fips"]["enabled"] == 1
        assert parts["execution_policy"]["scopes"][0] == {"scope": "MachinePolicy", "policy": "AllSigned"}
        assert parts["dotnet_framework"]["release"] == 528449
        assert parts["package"]["file_version"] == "9.55.7123.1"
        assert parts["package"]["file_version_parts"] == [9, 55, 7123, 1]
        codes = {f["code"]: f["severity"] for f in ps["findings"]}
        assert codes["fips_enabled"] == "warning" and codes["asr_rule_wmi_process_creation"] == "block"
        assert codes["execution_policy_group_policy"] == "warning" and codes["locale"] == "warning"
        assert "block: Defender''s attack surface reduction rule" in shown  # the findings are printed

        cs = read(tmp_path, "cs01")
        database = cs["diagnostics"]["configuration_server_database"]
        assert database["answered"] is True, database
        assert database["columns"][:3] == ["hostid", "name", "ipaddress"]
        assert {row["ip"] for row in database["process_servers"]} >= {estate.read_host("ps01").ip}
        assert "DB_PASSWD" in cs["diagnostics"]["amethyst_conf"]["key_names"]

        files = (tmp_path / "diag" / "cs01.json").read_text() + (tmp_path / "diag" / "ps01.json").read_text()
        for secret in (c.LAB_DB_PASSWORD, PROXY_PASSWORD, estate.read_host("ps01").data["credentials"]["password"]):
            assert secret not in files
        assert oct((tmp_path / "diag" / "ps01.json").stat().st_mode & 0o777) == "0o600"


def test_check_mode_writes_the_file_too_and_changes_nothing(tmp_path):
    with served(tmp_path, "installed-old", ps=1) as estate:
        before = copy.deepcopy(estate.read_host("ps01").data)
        code, output = diagnose(estate, tmp_path, "--check", "--limit", "ps01")
        assert code == 0, output[-4000:]
        assert read(tmp_path, "ps01")["diagnose"] == "diagnose v1"
        assert estate.read_host("ps01").data == before


def test_a_relative_package_path_is_refused_before_any_remote_call(tmp_path):
    with served(tmp_path, "installed-old", ps=1) as estate:
        clear(estate)
        code, output = diagnose(estate, tmp_path, variables={"asr_installer_remote_path": r"Media\setup.exe"})
        assert code != 0
        assert "asr_installer_remote_path" in output and "absolute" in output
        assert all(identities(estate, name) == [] for name in estate.host_names())
        assert not (tmp_path / "diag").exists()


def test_the_file_imported_into_another_host_gives_the_same_diagnosis(tmp_path):
    with served(tmp_path, "installed-old", ps=2) as estate:
        make_host_interesting(estate, "ps01")
        code, output = diagnose(estate, tmp_path / "first", "--limit", "ps01")
        assert code == 0, output[-4000:]
        first = read(tmp_path / "first", "ps01")

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = ["-m", "lab", "import", "--dir", str(estate.path), "ps02", str(tmp_path / "first/diag/ps01.json")]
        imported = subprocess.run(
            [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert imported.returncode == 0, imported.stdout + imported.stderr
        assert "ps02 now has the state diagnosed on PS01" in imported.stdout

        code, output = diagnose(estate, tmp_path / "again", "--limit", "ps02")
        assert code == 0, output[-4000:]
        again = read(tmp_path / "again", "ps02")

        assert again["survey"] == first["survey"]
        assert again["findings"] == first["findings"]
        for name, part in first["diagnostics"].items():
            assert again["diagnostics"][name] == part, name


def test_a_configuration_server_imported_keeps_all_but_its_database(tmp_path):
    """The lab's database (client, accounts, rows) is the lab's own: an imported configuration server's read reports
    what the lab has (lab/survey_import.py limits); everything else is as diagnosed."""
    with served(tmp_path, "installed-old", ps=1) as estate:
        code, output = diagnose(estate, tmp_path / "first", "--limit", "cs01")
        assert code == 0, output[-4000:]
        first = read(tmp_path / "first", "cs01")
        assert first["diagnostics"]["configuration_server_database"]["answered"] is True

        survey_import.import_survey(estate, "ps01", first)
        code, output = diagnose(estate, tmp_path / "again", "--limit", "ps01")
        assert code == 0, output[-4000:]
        again = read(tmp_path / "again", "ps01")

        assert again["survey"] == first["survey"]
        for name, part in first["diagnostics"].items():
            if name != "configuration_server_database":
                assert again["diagnostics"][name] == part, name
        assert again["diagnostics"]["configuration_server_database"]["configuration_server"] is True
