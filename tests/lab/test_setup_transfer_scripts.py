"""The setup call path, as the lab runs the collection's real scripts: the probe's transfer-folder check,
``setup_start`` moving a transferred package into place (SHA-256 and version checked), ``setup_cleanup`` running the
probe in the same call."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from asr_helpers import CURRENT as VERSION
from asr_helpers import PACKAGE, RUN_DIR, SHA, STAGED, collection_script, error_text, run_script

from lab.asr import products
from lab.state import new_host

ROOT = pathlib.Path(__file__).resolve().parents[2]
POWERSHELL = ROOT / "plugins" / "plugin_utils" / "powershell"
UPLOAD = rf"C:\Windows\Temp\asr-{SHA[:16]}-MicrosoftAzureSiteRecoveryUnifiedSetup.exe"


def call(host, name, parameters, sensitive=None):
    return run_script(host, name, parameters, sensitive)


def start_parameters(**extra):
    return {
        "PackagePath": STAGED,
        "SourcePath": UPLOAD,
        "ExpectedSha256": SHA,
        "ExpectedVersion": VERSION,
        "ExtractDir": STAGED.rsplit("\\", 1)[0] + "\\extracted",
        "RunDir": RUN_DIR,
        "SetupArguments": '/AcceptThirdpartyEULA /ServerMode "PS"',
        **extra,
    }


def script_parameters(name):
    """The parameter names of a shipped script's param() block, in the script as it is sent (probe's block is a
    fragment, fragments/survey_parameters.ps1, spliced in by the loader)."""
    text = collection_script(name)
    block = text.split("param (", 1)[1].split("\n)\n", 1)[0]
    return set(re.findall(r"\$([A-Za-z0-9_]+)\s*(?:=|,|\n)", block))


def test_the_shipped_scripts_declare_what_the_lab_reads():
    assert {"InstallerUploadName", "InstallerPath", "InstallerSha256"} <= script_parameters("probe")
    assert {"PackagePath", "SourcePath", "ExpectedSha256", "ExpectedVersion"} <= script_parameters("setup_start")
    assert {"RunDir", "ExtractDir", "SecretFiles", "ProbeScript", "ProbeParameters"} <= script_parameters(
        "setup_cleanup"
    )
    assert not (POWERSHELL / "setup_stage.ps1").exists()  # merged into setup_start


def test_probe_reports_the_transfer_folder_and_a_package_already_there():
    host = new_host("ps01", "10.0.0.101")
    params = {"InstallerPath": STAGED, "InstallerUploadName": UPLOAD.rsplit("\\", 1)[1]}
    checks = json.loads(call(host, "probe", params)["result"])["checks"]
    assert checks["installer"]["exists"] is False
    assert checks["installer_upload"]["exists"] is False
    assert checks["installer_upload"]["folder"] == r"C:\Windows\Temp" and checks["installer_upload"]["folder_exists"]
    host.write_file(UPLOAD, PACKAGE)  # put_file wrote it, then the run stopped
    upload = json.loads(call(host, "probe", params)["result"])["checks"]["installer_upload"]
    assert upload["path"] == UPLOAD and upload["sha256"] == SHA and upload["file_version"] == VERSION
    assert "installer_upload" not in json.loads(call(host, "probe", {})["result"])["checks"]


def test_setup_start_moves_the_transferred_package_into_its_staging_folder():
    host = new_host("ps01", "10.0.0.101")
    host.write_file(UPLOAD, PACKAGE)
    fields = call(host, "setup_start", start_parameters())
    assert not fields["failed"], error_text(fields)
    result = json.loads(fields["result"])
    assert not host.exists(UPLOAD) and host.read_bytes(STAGED) == PACKAGE
    assert result["package"] == {"path": STAGED, "exists": True, "size_bytes": len(PACKAGE), "file_version": VERSION,
                                 "product_version": VERSION, "sha256": SHA}  # fmt: skip
    assert host.is_file(STAGED.rsplit("\\", 1)[0] + "\\extracted\\UnifiedSetup.exe")


def test_setup_start_uses_a_package_already_staged():
    host = new_host("ps01", "10.0.0.101")
    host.write_file(STAGED, PACKAGE)
    fields = call(host, "setup_start", start_parameters())
    assert not fields["failed"], error_text(fields)
    assert json.loads(fields["result"])["package"]["sha256"] == SHA


def test_setup_start_deletes_a_transferred_package_that_arrived_different():
    host = new_host("ps01", "10.0.0.101")
    host.write_file(UPLOAD, PACKAGE + b"corrupt")
    fields = call(host, "setup_start", start_parameters())
    assert fields["failed"] and "it was deleted and not run" in error_text(fields)
    assert not host.exists(UPLOAD) and not host.exists(STAGED) and not host.exists(RUN_DIR)


@pytest.mark.parametrize("where", ["transferred", "staged"])
def test_setup_start_refuses_a_package_of_another_version(where):
    host = new_host("ps01", "10.0.0.101")
    host.write_file(UPLOAD if where == "transferred" else STAGED, PACKAGE)
    fields = call(host, "setup_start", start_parameters(ExpectedVersion="9.54.7000.1"))
    assert fields["failed"] and f"is version {VERSION}, not 9.54.7000.1" in error_text(fields)
    assert not host.exists(RUN_DIR) and not installer_ran(host)


def test_setup_start_refuses_a_staged_package_with_another_checksum_and_keeps_it():
    host = new_host("ps01", "10.0.0.101")
    host.write_file(STAGED, products.marker("UNIFIED-SETUP", "9.54.7000.1"))
    fields = call(host, "setup_start", start_parameters(SourcePath=""))
    assert fields["failed"] and "it was not run" in error_text(fields) and host.is_file(STAGED)


def installer_ran(host):
    return bool(host.asr.get("setup_runs"))


def test_setup_cleanup_runs_the_probe_in_the_same_call():
    host = new_host("ps01", "10.0.0.101")
    host.write_file(RUN_DIR + "\\passphrase.txt", "secret")
    probe_text = collection_script("probe")
    fields = call(
        host,
        "setup_cleanup",
        {
            "RunDir": RUN_DIR,
            "ExtractDir": "",
            "SecretFiles": [RUN_DIR + "\\passphrase.txt"],
            "ProbeScript": probe_text,
            "ProbeParameters": {"InstallerPath": STAGED},
        },
    )
    assert not fields["failed"], error_text(fields)
    result = json.loads(fields["result"])
    assert result["removed"] == [RUN_DIR + "\\passphrase.txt", RUN_DIR] and result["post_state_error"] is None
    assert result["post_state"]["probe"] == "probe v1" and result["post_state"]["checks"]["installer"]["path"] == STAGED
    without = json.loads(call(host, "setup_cleanup", {"RunDir": RUN_DIR})["result"])
    assert "post_state" not in without
