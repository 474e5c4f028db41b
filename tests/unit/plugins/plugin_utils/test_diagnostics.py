"""diagnostics.py: the diagnostics file from diagnose.ps1's result -- the svsdb1 answer, findings, redaction."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import diagnostics, registrations
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import ProbeRequest, to_survey

FIXTURES = pathlib.Path(__file__).parents[1] / "action" / "fixtures"
PROBE = json.loads((FIXTURES / "probe_v1_scale_out_ps.json").read_text(encoding="utf-8"))
HEADER = "\t".join(registrations.COLUMNS)
ROW_PS = "7\tPS01\t10.0.0.101\tWindows\t2026-12-04 10:00:00\t1\t2026-12-04 10:00:00\t30\t45"
ROW_VM = "8\tVM01\t10.0.0.50\tWindows\t2026-12-04 10:00:00\t0\tNULL\t30\tNULL"


def raw_diagnosis(**changes):
    """A diagnose v1 result as diagnose.ps1 returns it (the parts tests/powershell/diagnose.Tests.ps1 checks)."""
    raw = {
        "diagnose": "diagnose v1",
        "survey": copy.deepcopy(PROBE),
        "powershell": {
            "version": "5.1.14393.6343",
            "edition": "Desktop",
            "clr_version": "4.0.30319.42000",
            "build_version": "10.0.14393.6343",
            "language_mode": "FullLanguage",
            "is_64bit_process": True,
        },
        "os": {
            "caption": "Microsoft Windows Server 2016 Datacenter",
            "version": "10.0.14393",
            "build_number": "14393",
            "culture": "en-US",
            "ui_culture": "en-US",
            "locale": "0409",
            "os_language": 1033,
        },
        "fips": {"registry_key": "HKLM\\System\\CurrentControlSet\\Control\\Lsa\\FipsAlgorithmPolicy", "enabled": 0},
        "execution_policy": {
            "effective": "RemoteSigned",
            "scopes": [
                {"scope": "MachinePolicy", "policy": "Undefined"},
                {"scope": "UserPolicy", "policy": "Undefined"},
                {"scope": "Process", "policy": "Unrestricted"},
                {"scope": "CurrentUser", "policy": "Undefined"},
                {"scope": "LocalMachine", "policy": "RemoteSigned"},
            ],
            "group_policy": [],
        },
        "dotnet_framework": {"release": 528449, "version": "4.8.03761"},
        "defender": {
            "present": True,
            "error": None,
            "attack_surface_reduction_rules": [],
            "exclusion_paths": [],
            "exclusion_processes": [],
        },
        "mars": {
            "install_path": None,
            "module_present": False,
            "machine_setting": None,
            "error": None,
            "proxy_values": [],
        },
        "package": None,
        "uninstall": {
            "entries": [
                {
                    "registry_key": "HKLM\\...\\{CSPS}_is1",
                    "key_name": "{CSPS}_is1",
                    "value_names": ["DisplayName"],
                    "values": {"DisplayName": "Microsoft Azure Site Recovery Configuration/Process Server"},
                }
            ]
        },
        "registry": {"installed_products": [], "proxy_settings_value_names": None},
        "services": {"services": [], "missing": []},
        "amethyst_conf": {
            "path": "C:\\ProgramData\\ASR\\home\\svsystems\\etc\\amethyst.conf",
            "present": True,
            "error": None,
            "key_names": ["PS_IP", "DB_PASSWD"],
        },
        "cxps_conf": {"path": "x", "present": False, "error": None, "key_names": []},
        "drscout_conf": {"candidates": [], "found": None, "file": None},
        "setup_logs": {"folder": "C:\\ProgramData\\ASRSetupLogs", "files": []},
        "configuration_server_database": {"is_configuration_server": False, "credentials_missing": []},
    }
    raw.update(changes)
    return raw


def cs_read(**changes):
    read = {
        "is_configuration_server": True,
        "amethyst_conf": "C:\\ProgramData\\ASR\\home\\svsystems\\etc\\amethyst.conf",
        "amethyst_present": True,
        "mysql_client": "E:\\MySQL\\bin\\mysql.exe",
        "mysql_client_source": "amethyst.conf MYSQL_PATH",
        "database": "svsdb1",
        "credentials": "amethyst.conf",
        "credentials_missing": [],
        "rc": 0,
        "stdout": f"{HEADER}\n{ROW_PS}\n{ROW_VM}\n",
        "stderr": "",
    }
    read.update(changes)
    return read


def codes(parts):
    return [f["code"] for f in diagnostics.findings(parts)]


# ---- the document -------------------------------------------------------------------------------------------
def test_document_carries_format_survey_parts_and_products():
    doc = diagnostics.document(raw_diagnosis(), generated="2026-12-04T10:00:00Z")
    assert doc["format"] == "asr.process_server.diagnostics/v1"
    assert doc["diagnose"] == "diagnose v1" and doc["generated"] == "2026-12-04T10:00:00Z"
    assert doc["survey"] == to_survey(PROBE)  # the lab imports it as it imports info's survey
    assert doc["survey_error"] is None
    assert set(diagnostics.PARTS) <= set(doc["diagnostics"])
    assert doc["diagnostics"]["products"] == {"{CSPS}_is1": "configuration_process_server"}
    assert doc["findings"] == []
    json.dumps(doc)


def test_a_survey_that_failed_on_the_host_is_null_with_its_error():
    doc = diagnostics.document(raw_diagnosis(survey={"error": "Access denied"}), generated="t")
    assert doc["survey"] is None and doc["survey_error"] == "Access denied"
    assert diagnostics.survey_part(raw_diagnosis(survey={"error": "x"})) is None


def test_an_answer_from_another_script_is_refused():
    with pytest.raises(PlanningError, match="not 'diagnose v1'"):
        diagnostics.document({"diagnose": "diagnose v2"}, generated="t")


def test_parameters_are_the_surveys_plus_the_related_names():
    params = diagnostics.diagnose_parameters(ProbeRequest(installer_path="D:\\setup.exe"))
    assert params == {
        **ProbeRequest(installer_path="D:\\setup.exe").script_parameters(),
        "RelatedNames": list(diagnostics.RELATED_NAMES),
    }


# ---- the configuration server's database ----------------------------------------------------------------------
def test_the_svsdb1_read_answered_lists_process_servers_only():
    answer = diagnostics.database_answer(cs_read())
    assert answer["configuration_server"] is True and answer["answered"] is True and answer["problem"] is None
    assert answer["columns"] == list(registrations.COLUMNS)
    assert answer["rows"] == 2
    assert [ps["ip"] for ps in answer["process_servers"]] == ["10.0.0.101"]  # the protected VM is only counted
    assert answer["credentials"] == "amethyst.conf"


@pytest.mark.parametrize(
    ("read", "said"),
    [
        (
            cs_read(rc=1, stdout="", stderr="ERROR 1045 (28000): Access denied for user 'svsystems'@'localhost'"),
            "MySQL refused the account",
        ),
        (cs_read(rc=None, stdout=None, credentials_missing=["DB_PASSWD"]), "has no DB_PASSWD"),
        (cs_read(stdout="hostid\tname\n1\tx\n"), "not hostid"),
        (cs_read(mysql_client=None, rc=None, stdout=None), "No MySQL client"),
    ],
)
def test_the_svsdb1_read_that_did_not_answer_says_why(read, said):
    answer = diagnostics.database_answer(read)
    assert answer["answered"] is False
    assert said in answer["problem"]
    assert answer["rows"] is None and answer["process_servers"] == []
    assert "svsdb_read" in codes({"configuration_server_database": answer})


def test_no_database_on_a_process_server_and_a_failed_part():
    assert diagnostics.database_answer({"is_configuration_server": False}) == {
        "configuration_server": False,
        "answered": None,
        "problem": None,
    }
    assert diagnostics.database_answer({"error": "boom"})["problem"] == "boom"


# ---- findings ---------------------------------------------------------------------------------------------
def parts_of(raw):
    return {name: raw.get(name) for name in diagnostics.PARTS}


@pytest.mark.parametrize(
    ("changes", "code", "severity"),
    [
        ({"fips": {"enabled": 1}}, "fips_enabled", "warning"),
        ({"dotnet_framework": {"release": 394254}}, "dotnet_framework", "block"),
        ({"dotnet_framework": {"release": None}}, "dotnet_framework", "warning"),
        ({"os": {"culture": "de-DE"}}, "locale", "warning"),
        ({"powershell": {"version": "4.0", "language_mode": "FullLanguage"}}, "powershell_version", "block"),
        ({"powershell": {"version": "5.1", "language_mode": "ConstrainedLanguage"}}, "language_mode", "block"),
        (
            {"execution_policy": {"scopes": [{"scope": "MachinePolicy", "policy": "AllSigned"}]}},
            "execution_policy_group_policy",
            "warning",
        ),
        (
            {
                "defender": {
                    "attack_surface_reduction_rules": [{"id": diagnostics.WMI_PROCESS_CREATION_RULE, "action": 1}]
                }
            },
            "asr_rule_wmi_process_creation",
            "block",
        ),
        (
            {
                "defender": {
                    "attack_surface_reduction_rules": [
                        {"id": diagnostics.WMI_PROCESS_CREATION_RULE.upper(), "action": 2}
                    ]
                }
            },
            "asr_rule_wmi_process_creation",
            "warning",
        ),
        (
            {"package": {"file_version": "9.55.7123.1", "file_version_parts": [9, 56, 7300, 2]}},
            "package_version_text",
            "info",
        ),
        ({"mars": {"error": "Access denied"}}, "part_failed", "warning"),
        (
            {
                "drscout_conf": {"candidates": [{"exists": False}], "found": None},
                "uninstall": {
                    "entries": [
                        {
                            "values": {
                                "DisplayName": "Microsoft Azure Site Recovery Mobility Service/Master Target Server"
                            }
                        }
                    ]
                },
            },
            "drscout_conf",
            "info",
        ),
        ({"services": {"missing": ["tmansvc"]}}, "services_missing", "info"),
    ],
)
def test_each_finding_and_its_severity(changes, code, severity):
    found = [f for f in diagnostics.findings(parts_of(raw_diagnosis(**changes))) if f["code"] == code]
    assert found, f"no {code} finding"
    assert found[0]["severity"] == severity
    assert found[0]["message"] and found[0]["reference"]


def test_a_healthy_host_has_no_finding_and_matching_versions_are_fine():
    package = {"file_version": "9.55.7123.1", "file_version_parts": [9, 55, 7123, 1]}
    rules = [{"id": diagnostics.WMI_PROCESS_CREATION_RULE, "action": 0}, {"id": "other", "action": 1}]
    parts = parts_of(raw_diagnosis(package=package, defender={"attack_surface_reduction_rules": rules}))
    assert diagnostics.findings(parts) == []


# ---- secrets ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("cxps.exe --password Hunter2x -port 9443", "cxps.exe --password ******** -port 9443"),
        ("tool.exe /ProxyPassword:Hunter2x /x", "tool.exe /ProxyPassword:******** /x"),
        ('DB_PASSWD = "Hunter2x"; DB_USER=svc', "DB_PASSWD = ********; DB_USER=svc"),
        ("token: abc.def", "token: ********"),
        (
            "mysql: [Warning] Using a password on the command line",
            "mysql: [Warning] Using a password on the command line",
        ),
        ("ProxyPassword", "ProxyPassword"),
    ],
)
def test_redact_text_hides_assigned_and_switched_secrets_only(text, shown):
    assert diagnostics.redact_text(text) == shown


# a password as the product's own rule wants one ([8]: a letter, a digit and one of ! @ # $ % _), so that it is no word
# of the document's own keys
SECRET = st.text(alphabet="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=6, max_size=22).map(
    lambda s: s + "#7"
)
NAME = st.sampled_from(["password", "DB_PASSWD", "ProxyPassword", "pwd", "passphrase", "client_secret", "token"])
FORM = st.sampled_from(["{n}={s}", '{n} = "{s}"', "-{n} {s}", "--{n}={s}", "/{n}:{s}", "{n}: {s}"])
FILLER = st.text(alphabet=" abcxyz\t\\/:.=-", max_size=20)


@given(secret=SECRET, name=NAME, form=FORM, before=FILLER, after=FILLER)
@settings(max_examples=300, deadline=None)
def test_no_assigned_secret_survives_redaction(secret, name, form, before, after):
    text = before + " " + form.format(n=name, s=secret) + " " + after
    assert secret not in diagnostics.redact_text(text)


@given(secret=SECRET)
@settings(max_examples=100, deadline=None)
def test_known_secrets_leave_no_trace_anywhere_in_the_document(secret):
    raw = raw_diagnosis()
    raw["services"] = {"services": [{"name": "cxps", "path_name": f"cxps.exe {secret}"}], "missing": []}
    raw["survey"]["computer_name"] = f"PS{secret}"
    doc = diagnostics.document(raw, generated="t", secrets={secret})
    assert secret not in json.dumps(doc)


def test_a_part_that_failed_is_reported_once_and_judged_no_further():
    parts = parts_of(raw_diagnosis(dotnet_framework={"error": "Access denied"}, fips={"error": "Access denied"}))
    assert codes(parts) == ["part_failed", "part_failed"]
