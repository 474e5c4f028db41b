"""The collection's ``probe v1`` script as the lab runs it (its real text under pwsh), and the survey import
(lab/survey_import.py)."""

from __future__ import annotations

import json
import pathlib

import pytest
from asr_helpers import collection_script, error_text, run_script

from lab import scripts, survey_import
from lab.asr import build, products
from lab.state import new_host

ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = "9.55.7123.1"
LOCATION = r"D:\Program Files (x86)\Microsoft Azure Site Recovery"
PRODUCT_NAMES = [
    "Microsoft Azure Site Recovery Configuration/Process Server",
    "Microsoft Azure Site Recovery Configuration/Process Server Dependencies",
    "Microsoft Azure Site Recovery Mobility Service/Master Target Server",
    "Microsoft Azure Recovery Services Agent",
    "Microsoft Azure Site Recovery Provider",
]
SERVICE_NAMES = ["ProcessServer", "ProcessServerMonitor", "cxprocessserver", "InMage PushInstall", "LogUpload"]
SERVICE_NAMES += ["InMage Scout Application Service", "obengine", "svagents", "tmansvc", "W3SVC", "MySQL", "dra"]
PARAMS = {"ProductNames": PRODUCT_NAMES, "ServiceNames": SERVICE_NAMES, "IncludeLogTail": True, "LogTailLines": 5}


def installed_ps():
    host = new_host("ps01", "10.0.0.21")
    host.facts["vmware_tools"] = True  # installed with /EnvType VMware
    proxy = {"address": "http://proxy.lab", "port": 3128, "username": "LAB\\svc", "password": "s3cret-proxy"}
    build.process_server(host, VERSION, cs_ip="10.0.0.11", location=LOCATION, proxy=proxy)
    host.write_file(
        r"C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log",
        "a\r\nInstallation of Azure Site Recovery Unified Setup has succeeded.\r\n",
    )
    host.data["pending_reboot"] = ["PendingFileRenameOperations"]
    host.set_service_state("cxprocessserver", "stopped")
    return host


def run_probe(host, **extra):
    fields = run_script(host, "probe", {**PARAMS, **extra}, become=False)
    assert not fields["failed"], error_text(fields)
    assert fields["changed"] is False
    assert isinstance(fields["result"], str)  # one JSON text, as probe.ps1 sets $Ansible.Result
    return json.loads(fields["result"])


def test_the_shipped_script_is_recognised_by_its_header():
    assert scripts.identify(collection_script("probe")) == ("probe", 1)


def test_check_mode_runs_the_probe_too():
    fields = run_script(installed_ps(), "probe", PARAMS, check_mode=True, become=False)
    assert not fields["failed"] and json.loads(fields["result"])["probe"] == "probe v1"


def test_probe_reads_what_setup_wrote():
    result = run_probe(installed_ps())
    assert result["probe"] == "probe v1"
    assert result["computer_name"] == "PS01"
    assert result["os"] == {
        "caption": "Microsoft Windows Server 2016 Datacenter",
        "version": "10.0.14393",
        "system_drive": "C:",
    }
    assert result["cpu"] == {"logical_processors": 8, "sockets": 2, "cores": 8}
    names = {e["display_name"] for e in result["uninstall_entries"]}
    assert "Microsoft Azure Site Recovery Configuration/Process Server" in names
    assert "Microsoft Azure Recovery Services Agent" in names
    csps = result["installed_products"]["csps"]
    assert csps["cx_type"] == "2" and csps["build_version"] == VERSION and csps["proxy_type"] == "Custom"
    assert result["asr_junction"]["target"] == LOCATION
    assert result["amethyst_conf"]["ps_cs_ip"] == "10.0.0.11" and result["amethyst_conf"]["ps_cs_port"] == "443"
    assert result["cxps_conf"]["ssl_port"] == "9443"
    services = {s["name"]: s for s in result["services"]}
    assert services["cxprocessserver"]["state"] == "stopped"
    assert services["obengine"]["start_mode"] == "manual"
    assert services["dra"]["present"] is False
    assert result["mars"]["proxy"] == {
        "source": "Get-OBMachineSetting",
        "enabled": True,
        "address": "http://proxy.lab",
        "port": 3128,
        "username": "LAB\\svc",
    }
    assert "s3cret-proxy" not in json.dumps(result)
    assert result["pending_reboot"] == {"pending": True, "reasons": ["PendingFileRenameOperations"]}
    assert result["setup_log"]["result"] == "succeeded"
    assert result["setup_log"]["tail"][-1].endswith("has succeeded.")
    assert result["checks"] == {"configuration_server": None, "installer": None}


def test_fresh_host_and_optional_checks():
    host = new_host("ps02", "10.0.0.22")
    host.write_file(r"D:\Media\setup.exe", products.marker("UNIFIEDSETUP", VERSION))
    result = run_probe(host, ConfigurationServerIp="10.9.9.9", InstallerPath=r"D:\Media\setup.exe")
    assert result["uninstall_entries"] == [] and result["installed_products"] == {"csps": None, "dependencies": None}
    assert result["mars"]["proxy"] == {"source": "unknown"}
    assert result["setup_log"]["result"] == "absent"
    assert result["checks"]["configuration_server"]["reachable"] is False
    assert "timed out" in result["checks"]["configuration_server"]["error"]
    installer = result["checks"]["installer"]
    assert installer["exists"] is True and installer["file_version"] == VERSION and len(installer["sha256"]) == 64


def test_the_passphrase_file_check_counts_lines_and_never_returns_the_text():
    # probe.ps1 Get-PassphraseFileFact against the emulated host (against real files:
    # tests/unit/plugins/action/test_probe_passphrase_file.py)
    host = new_host("ps02", "10.0.0.22")
    desktop = r"C:\Users\Administrator\Desktop\Passphrase.txt"
    host.mkdir(r"C:\Users\Administrator\Desktop")
    host.write_file(desktop, "\ufeffLab-Secret-0042\r\n\r\n".encode())
    got = run_probe(host, PassphraseFilePath=desktop)["checks"]["passphrase_file"]
    assert got == {
        "path": desktop,
        "exists": True,
        "readable": True,
        "error": None,
        "lines": 2,
        "non_empty_lines": 1,
        "profiles_directory": "C:\\Users",
        "under_user_profile": True,
    }
    missing = run_probe(host, PassphraseFilePath=r"D:\pp.txt")["checks"]["passphrase_file"]
    assert missing["exists"] is False and missing["lines"] is None and missing["under_user_profile"] is False
    assert "Lab-Secret-0042" not in json.dumps(got)


def test_cs_unreachable_fault():
    host = installed_ps()
    host.faults["cs_unreachable"] = True
    result = run_probe(host, ConfigurationServerIp="10.0.0.11")
    assert result["checks"]["configuration_server"]["reachable"] is False


@pytest.mark.parametrize("builder", [installed_ps, lambda: new_host("ps03", "10.0.0.23")])
def test_a_survey_imported_as_a_seed_reproduces_the_probe(builder):
    first = run_probe(builder())
    host_part = {k: v for k, v in first.items() if k != "checks"}
    host_part["setup_log"] = {**host_part["setup_log"], "tail": None}
    survey = {"format": survey_import.SURVEY_FORMAT, "probe": "probe v1", "host": host_part}
    again = run_probe(survey_import.seed_from_survey(survey, "copy", "10.0.0.99"), IncludeLogTail=False)
    assert {k: v for k, v in again.items() if k != "checks"} == host_part


def test_import_refuses_other_documents():
    with pytest.raises(survey_import.SurveyError):
        survey_import.seed_from_survey({"format": "something else"}, "x", "10.0.0.1")


def test_a_seed_file_may_list_a_host_by_its_info_survey(tmp_path):
    from lab import estate as estate_mod

    first = run_probe(installed_ps())
    host_part = {k: v for k, v in first.items() if k != "checks"}
    host_part["setup_log"] = {**host_part["setup_log"], "tail": None}
    survey = {"format": survey_import.SURVEY_FORMAT, "probe": "probe v1", "host": host_part}
    seed_file = tmp_path / "from-survey.json"
    seed_file.write_text(json.dumps({"hosts": [{"name": "ps01", "survey": survey}]}), encoding="utf-8")
    estate = estate_mod.create(tmp_path / "estate", cs=1, ps=1, seed=str(seed_file))
    again = run_probe(estate.read_host("ps01"), IncludeLogTail=False)
    assert {k: v for k, v in again.items() if k != "checks"} == host_part
    assert estate.read_host("ps01").data["credentials"]["password"]  # the estate's login kept


def test_an_imported_survey_keeps_the_dotnet_framework_release():
    first = run_probe(installed_ps())
    host_part = {k: v for k, v in first.items() if k != "checks"}
    host_part["setup_log"] = {**host_part["setup_log"], "tail": None}
    host_part["dotnet_framework"] = {"release": 394802}  # 4.6.2, where Windows keeps it (NDP\v4\Full Release)
    survey = {"format": survey_import.SURVEY_FORMAT, "probe": "probe v1", "host": host_part}
    again = run_probe(survey_import.seed_from_survey(survey, "copy", "10.0.0.99"), IncludeLogTail=False)
    assert again["dotnet_framework"] == {"release": 394802}
