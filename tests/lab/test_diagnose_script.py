"""The collection's ``diagnose v1`` script as the lab runs it (its real text under pwsh) against emulated hosts, and
the Windows facts the shim gives it (lab/windows.py: version table, culture, execution policies, FIPS, .NET,
Defender)."""

from __future__ import annotations

import copy
import json
import re

import pytest
from asr_helpers import collection_script, error_text, run_script
from test_probe_script import installed_ps

from lab import cli, scripts, survey_import, windows
from lab import estate as lab_estate
from lab.asr import build
from lab.asr import constants as c
from lab.state import new_host

PRODUCT_NAMES = [
    "Microsoft Azure Site Recovery Configuration/Process Server",
    "Microsoft Azure Recovery Services Agent",
]
PARAMS = {
    "ProductNames": PRODUCT_NAMES,
    "ServiceNames": ["ProcessServer", "tmansvc", "obengine", "dra"],
    "RelatedNames": ["Site Recovery", "Recovery Services", "InMage", "MySQL", "svsystems"],
    "InstallerSha256": False,
}
PROXY_PASSWORD = "Lab-Proxy-Pa55#1"


def diagnose(host, check_mode=False, **extra):
    fields = run_script(host, "diagnose", {**PARAMS, **extra}, check_mode=check_mode, become=False)
    assert not fields["failed"], error_text(fields)
    assert fields["changed"] is False
    return json.loads(fields["result"]), fields["result"]


def configuration_server():
    host = new_host("cs01", "10.0.0.11", "configuration_server")
    build.configuration_server(host, "9.55.7123.1")
    return host


def test_the_shipped_script_is_recognised_by_its_header():
    assert scripts.identify(collection_script("diagnose")) == ("diagnose", 1)


def test_a_process_server_as_a_fresh_windows_server_2016_shows_it_and_nothing_changes():
    host = installed_ps()
    before = copy.deepcopy(host.data)
    d, _raw = diagnose(host)
    assert host.data == before  # read-only: no file, key, service or process changed, nothing was started
    assert d["diagnose"] == "diagnose v1" and d["survey"]["probe"] == "probe v1"
    assert d["powershell"] | {"language_mode": "x", "is_64bit_process": True} == {
        "version": "5.1.14393.0",
        "edition": "Desktop",
        "clr_version": "4.0.30319.42000",
        "build_version": "10.0.14393.0",
        "language_mode": "x",
        "is_64bit_process": True,
    }
    assert d["os"]["build_number"] == "14393" and d["os"]["culture"] == "en-US" and d["os"]["locale"] == "0409"
    assert d["fips"]["enabled"] == 0
    assert d["dotnet_framework"] == {"release": 394802, "version": "4.6.01586"}
    assert d["execution_policy"]["effective"] == "Unrestricted"  # the Process scope ansible-core's shell sets
    assert [s["policy"] for s in d["execution_policy"]["scopes"]] == [
        "Undefined",
        "Undefined",
        "Unrestricted",
        "Undefined",
        "RemoteSigned",
    ]
    assert d["defender"]["present"] is True and d["defender"]["attack_surface_reduction_rules"] == []
    assert d["mars"]["module_present"] is True
    assert "ProxyServer" in [p["name"] for p in d["mars"]["machine_setting"]["properties"]]
    assert d["drscout_conf"]["found"]
    assert "HOST_GUID" in d["amethyst_conf"]["key_names"]
    assert d["configuration_server_database"]["is_configuration_server"] is False
    assert not [p for p in host.data.get("_processes", [])]  # no program ran on a process server


def test_check_mode_diagnoses_the_same_way():
    host = installed_ps()
    d, _raw = diagnose(host, check_mode=True)
    assert d["diagnose"] == "diagnose v1" and d["fips"]["enabled"] == 0


def test_the_windows_facts_a_host_keeps_show_through_the_shim():
    host = installed_ps()
    host.data["windows"] = {
        "fips_enabled": 1,
        "dotnet_release": 528449,
        "dotnet_version": "4.8.03761",
        "culture": "de-DE",
        "powershell": {"version": "5.1.17763.1", "edition": "Desktop", "clr_version": "4.0.30319.42000"},
        "defender": {
            "attack_surface_reduction_rules": [{"id": "d1e49aac-8f56-4280-b9ba-993a6d77406c", "action": 1}],
            "exclusion_paths": [r"C:\ProgramData\ASR"],
        },
    }
    host.reg_create_key(r"HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell")
    host.reg_set(r"HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell", "EnableScripts", 1, "DWord")
    host.reg_set(r"HKLM\SOFTWARE\Policies\Microsoft\Windows\PowerShell", "ExecutionPolicy", "AllSigned")
    d, _raw = diagnose(host)
    assert d["fips"]["enabled"] == 1
    assert d["dotnet_framework"] == {"release": 528449, "version": "4.8.03761"}
    assert d["survey"]["dotnet_framework"]["release"] == 528449  # the probe's survey reads the same key
    assert d["os"]["culture"] == "de-DE"
    assert d["powershell"]["version"] == "5.1.17763.1" and d["powershell"]["build_version"] is None
    assert d["execution_policy"]["effective"] == "AllSigned"
    assert d["execution_policy"]["scopes"][0] == {"scope": "MachinePolicy", "policy": "AllSigned"}
    assert d["execution_policy"]["group_policy"][0]["execution_policy"] == "AllSigned"
    assert d["defender"]["attack_surface_reduction_rules"] == [
        {"id": "d1e49aac-8f56-4280-b9ba-993a6d77406c", "action": 1}
    ]
    assert d["defender"]["exclusion_paths"] == [r"C:\ProgramData\ASR"]


def test_a_disabled_script_policy_is_restricted_and_windows_server_2012_r2_has_no_defender():
    host = new_host("ps01", "10.0.0.21", os_name="Microsoft Windows Server 2012 R2 Datacenter", os_version="6.3.9600.0")
    host.reg_create_key(r"HKCU\SOFTWARE\Policies\Microsoft\Windows\PowerShell")
    host.reg_set(r"HKCU\SOFTWARE\Policies\Microsoft\Windows\PowerShell", "EnableScripts", 0, "DWord")
    policies = windows.execution_policies(host)
    assert policies["scopes"][1] == {"scope": "UserPolicy", "policy": "Restricted"}
    assert policies["effective"] == "Restricted"
    d, _raw = diagnose(host)
    assert d["defender"]["present"] is False
    assert d["execution_policy"]["effective"] == "Restricted"
    assert d["os"]["build_number"] == "9600"


def test_on_a_configuration_server_the_svsdb1_read_answers_and_no_secret_leaves():
    host = configuration_server()
    proxy = r"HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings"
    host.reg_create_key(proxy)
    host.reg_set(proxy, "ProxyPassword", PROXY_PASSWORD)
    d, raw = diagnose(host)
    db = d["configuration_server_database"]
    assert db["is_configuration_server"] is True and db["credentials"] == "amethyst.conf"
    assert db["rc"] == 0, db["stderr"]
    assert db["stdout"].splitlines()[0].split("\t")[:3] == ["hostid", "name", "ipaddress"]
    sessions = host.asr["mysql"]["sessions"]
    assert len(sessions) == 1 and "START TRANSACTION READ ONLY" in json.dumps(sessions[0])
    assert not [p for p in host.data.get("_processes", []) if "perl" in p["command_line"].lower()]
    assert {"DB_USER", "DB_PASSWD", "MYSQL_PATH"} <= set(d["amethyst_conf"]["key_names"])
    assert c.LAB_DB_PASSWORD not in raw
    assert PROXY_PASSWORD not in raw
    assert "ProxyPassword" in d["registry"]["proxy_settings_value_names"]


# ---- importing a diagnostics file (lab/survey_import.py) ----------------------------------------------------------
def diagnostics_file(host):
    """What info with diagnose: true returns as ``diagnostics`` for ``host`` (the controller's document, by hand)."""
    d, _raw = diagnose(host)
    survey = {"format": "asr.process_server.survey/v1", "probe": "probe v1", "host": dict(d.pop("survey"))}
    survey["host"].pop("checks"), survey["host"].pop("identity")
    d.pop("diagnose")
    return {"format": survey_import.DIAGNOSTICS_FORMAT, "diagnose": "diagnose v1", "survey": survey, "diagnostics": d}


def test_a_diagnosis_seeds_a_host_that_diagnoses_the_same():
    source = installed_ps()
    source.data["windows"] = {"fips_enabled": 1, "culture": "fr-FR", "local_machine_policy": "AllSigned"}
    document = diagnostics_file(source)
    seeded = survey_import.seed_from_survey(*survey_import.split_document(document)[:1], "ps09", "10.0.0.29",
                                            diagnostics=document["diagnostics"])  # fmt: skip
    again = diagnostics_file(seeded)
    for key, value in document["survey"]["host"].items():
        assert again["survey"]["host"][key] == value, key
    assert again["survey"] == document["survey"]
    for name, part in document["diagnostics"].items():
        assert again["diagnostics"][name] == part, name
    assert seeded.data["windows"]["fips_enabled"] == 1 and seeded.data["windows"]["local_machine_policy"] == "AllSigned"


def test_a_whole_registered_info_result_with_diagnostics_is_accepted():
    document = diagnostics_file(installed_ps())
    survey, diagnosis = survey_import.split_document({"changed": False, "survey": {}, "diagnostics": document})
    assert survey == document["survey"] and diagnosis == document["diagnostics"]
    plain = document["survey"]
    assert survey_import.split_document({"survey": plain}) == (plain, None)


@pytest.mark.parametrize(
    ("document", "says"),
    [
        ({"format": survey_import.DIAGNOSTICS_FORMAT, "diagnose": "diagnose v2"}, "this lab imports 'diagnose v1'"),
        ({"format": survey_import.DIAGNOSTICS_FORMAT, "diagnose": "diagnose v1", "survey_error": "boom"},
         "holds no survey (the host said: boom)"),
        ([], "not a JSON object"),
    ],
)  # fmt: skip
def test_a_document_the_lab_cannot_import_says_why(document, says):
    with pytest.raises(survey_import.SurveyError, match=re.escape(says)):
        survey_import.split_document(document)


def test_python_m_lab_import_replaces_one_host_and_refuses_an_unknown_one(tmp_path, capsys):
    estate = lab_estate.create(tmp_path / "estate", cs=1, ps=1)
    path = tmp_path / "ps.json"
    path.write_text(json.dumps(diagnostics_file(installed_ps())), encoding="utf-8")
    assert cli.main(["import", "--dir", str(estate.path), "ps01", str(path)]) == 0
    assert "ps01 now has the state diagnosed on PS01" in capsys.readouterr().out
    assert estate.read_host("ps01").data["windows"]["dotnet_release"] == 394802
    assert cli.main(["import", "--dir", str(estate.path), "ps07", str(path)]) == 2
    assert "no host 'ps07'" in capsys.readouterr().out
    path.write_text(json.dumps({"format": survey_import.DIAGNOSTICS_FORMAT, "diagnose": "x"}), encoding="utf-8")
    assert cli.main(["import", "--dir", str(estate.path), "ps01", str(path)]) == 2
    assert "this lab imports 'diagnose v1'" in capsys.readouterr().err
