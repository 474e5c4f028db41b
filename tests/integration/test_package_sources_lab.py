"""The package from a URL and from a share, end to end: site.yml against the lab, the host fetching the package
itself (the lab's file server over real HTTPS with a token, a lab share), staged before the canary, nothing of the
package through the controller, the token nowhere, and a converged re-run at ONE remote call per host."""

from __future__ import annotations

import hashlib
import json

import pytest
from lab_ops import clear, identities, playbook, processes, recap, run_task, served

from lab import estate as estate_mod
from lab import fileserver, link
from lab import share as lab_share
from lab.asr import constants as c
from lab.asr.installer import package_bytes

pytestmark = pytest.mark.lab

CURRENT = "9.55.7123.1"
PACKAGE = package_bytes(CURRENT, 300_000)  # two put_file chunks' worth: a download of a real size
SHA = hashlib.sha256(PACKAGE).hexdigest()
TOKEN = "sv=2024-05-04&sig=Lab-Sas-Token-77Q"
UNC = r"\\files.lab.example\media\asr\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
SETUP_CALLS = ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]


def fleet_vars(**source) -> dict:
    return {
        "asr_configuration_server_ip": "10.0.0.11",
        "asr_passphrase": "LabPassphrase0001",
        "asr_installer_checksum": SHA,
        "asr_installer_version": CURRENT,
        "asr_install_location": "D:\\",
        "asr_env_type": "NonVMware",
        "asr_poll_interval": 1,
        "asr_stage_delay": 1,
        "asr_ip": "{{ asr_lab_ip }}",
        **source,
    }


def version(estate, host):
    return estate.read_host(host).reg_get(c.REG_INSTALLED_CSPS, "Build_Version")


def wire(estate, host, channel):
    return [e for e in link.read(estate, host) if e.get("channel") == channel]


def test_site_from_a_url_stages_on_every_host_before_the_canary_and_never_shows_the_token(tmp_path):
    with served(tmp_path, "fresh", ps=3) as estate:
        fileserver.publish(estate, "asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe", PACKAGE)
        fileserver.set_token(estate, TOKEN.split("sig=")[1])
        url = "{{ asr_lab_files_url }}/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe?" + TOKEN
        clear(estate)
        rc, output = playbook(estate, "site.yml", fleet_vars(asr_installer_url=url), tmp_path / "first", "-v")
        assert rc == 0, output[-4000:]
        assert "PLAY [Stage the Unified Setup package before the canary" in output
        # staged on every host in the staging play, before the canary's setup ran anywhere
        stage_at = output.index("PLAY [Stage the Unified Setup package")
        assert stage_at < output.index("PLAY [Converge the scale-out process servers")
        for host in ("ps01", "ps02", "ps03"):
            calls = identities(estate, host)
            assert calls[0] == "probe v1" and calls[1] == "package_stage v1", calls
            stage_calls = [i for i in calls[1:] if i == "package_stage v1"]
            assert calls == ["probe v1", *stage_calls, *SETUP_CALLS], calls
            assert "put_file" not in calls and version(estate, host) == CURRENT
            downloads = [e for e in wire(estate, host, "http") if e["what"] == "body"]
            assert sum(e["bytes_in"] for e in downloads) == len(PACKAGE)  # one copy, from the file server
            put = [e for e in wire(estate, host, "wsman") if e["what"] == "put_file"]
            assert put == []  # nothing of the package through the controller
            state_text = json.dumps(estate.read_host(host).data)
            assert "Lab-Sas-Token-77Q" not in state_text  # no file left behind with the token
            assert not any("Lab-Sas-Token-77Q" in line for line in processes(estate, host))
            assert "Lab-Sas-Token-77Q" not in estate.journal_path(host).read_text(encoding="utf-8")
            assert "Lab-Sas-Token-77Q" not in link.wire_path(estate, host).read_text(encoding="utf-8")
        assert "Lab-Sas-Token-77Q" not in output

        clear(estate)
        rc, output = playbook(estate, "site.yml", fleet_vars(asr_installer_url=url), tmp_path / "again")
        assert rc == 0, output[-4000:]
        for host in ("ps01", "ps02", "ps03"):
            assert identities(estate, host) == ["probe v1"], host  # converged: ONE remote call, no staging
            assert wire(estate, host, "http") == []
        assert recap(output)["ps01"]["changed"] == 0


def test_site_from_a_share_copies_on_the_host_as_its_computer_account(tmp_path):
    with served(tmp_path, "fresh", ps=2) as estate:
        lab_share.publish(estate, UNC, PACKAGE)
        clear(estate)
        rc, output = playbook(estate, "site.yml", fleet_vars(asr_installer_remote_path=UNC), tmp_path / "share")
        assert rc == 0, output[-4000:]
        for host in ("ps01", "ps02"):
            calls = identities(estate, host)
            assert calls[1] == "package_stage v1" and calls[-4:] == SETUP_CALLS, calls
            reads = [e for e in wire(estate, host, "smb") if e["what"] == "read"]
            assert sum(e["bytes_in"] for e in reads) == len(PACKAGE)
            assert version(estate, host) == CURRENT


def test_a_share_the_computer_account_may_not_read_fails_staging_saying_what_to_do(tmp_path):
    with served(tmp_path, "fresh", ps=1) as estate:
        lab_share.publish(estate, UNC, PACKAGE, computer_accounts=False)
        args = {"state": "staged", "installer_remote_path": UNC, "installer_checksum": SHA}
        # as the staging play does: start, then look again until staged or failed
        wait = {
            "become": True, "become_method": "runas", "become_user": "SYSTEM",
            "until": "r.staged | default(false) or r.failed | default(false)", "retries": 3, "delay": 1,
        }  # fmt: skip
        result, _proc = run_task(estate, "ps01", "process_server", args, tmp_path / "denied", task_extra=wait)
        assert result["failed"] and "is denied" in result["msg"], result
        assert "computer account" in result["msg"] and "double hop" in result["msg"]
        assert identities(estate, "ps01") == ["package_stage v1", "package_stage v1"]  # the start, then the failure
        assert not estate.read_host("ps01").is_file(rf"C:\ProgramData\ASRSetupStaging\{SHA[:16]}\transfer\status.json")


def test_the_inventory_gives_each_host_its_own_file_server_link(tmp_path):
    with served(tmp_path, "fresh", ps=2) as estate:
        meta = estate_mod.read_meta(estate)
        hosts = estate_mod.inventory(estate)["all"]["children"]["process_servers"]["hosts"]
        assert hosts["ps01"]["asr_lab_files_url"].endswith(str(meta["hosts"]["ps01"]["files_port"]))
        assert hosts["ps01"]["asr_lab_files_url"] != hosts["ps02"]["asr_lab_files_url"]
