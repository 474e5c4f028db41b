"""passphrase_file is checked by the probe and refused before any change (issue 10, item 4), against the lab.

A passphrase file that does not exist, is empty or holds more than one line used to be found only by Unified Setup:
check mode predicted success, the real run transferred the package, started setup, setup exited 2 and the task
reported a change. Now the one read-only probe checks the file on the host and the task refuses before any change,
in check mode too, naming the option and the path (tests/integration/test_install_lab.py covers the passphrase
given as a value). A usable file under a user profile (the seed's example, the Administrator's Desktop) installs
with a warning that says why and suggests ``passphrase`` from Vault. The passphrase never appears in any result.
"""

from __future__ import annotations

import json

import pytest
from lab_ops import clear, identities, processes, run_task, served
from test_install_lab import BECOME, CS_IP, seed_file

from lab.asr.installer import package_bytes

pytestmark = pytest.mark.lab

PASSPHRASE = "Recognisable-Passphrase-7Q"  # cs01's passphrase in test_install_lab's seed
DESKTOP = r"C:\Users\Administrator\Desktop\Passphrase.txt"  # the seed's example command line
CURRENT = "9.55.7123.1"


@pytest.fixture
def installer(tmp_path):
    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(package_bytes(CURRENT))
    return str(path)


def args(installer: str, module: str) -> dict:
    values = {
        "configuration_server_ip": CS_IP,
        "passphrase_file": DESKTOP,
        "installer": installer,
        "installer_version": CURRENT,
        "install_location": "D:\\",
        "env_type": "VMware",
        "poll_interval": 1,
    }
    return values if module == "install" else {**values, "state": "present"}


def put_file(estate, text: str | None) -> None:
    with estate.open_host("ps01") as host:
        host.mkdir(DESKTOP.rsplit("\\", 1)[0])
        if text is not None:
            host.write_file(DESKTOP, text.encode("utf-8"))


@pytest.mark.parametrize("module", ["install", "process_server"])
@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "does not exist"), ("", "is empty"), (f"{PASSPHRASE}\r\nsecond line\r\n", "2 non-empty lines")],
    ids=["missing", "empty", "two-lines"],
)
def test_an_unusable_passphrase_file_is_refused_before_any_change(tmp_path, installer, module, content, needle):
    with served(tmp_path, seed_file(tmp_path), ps=1) as estate:
        put_file(estate, content)
        for check in (True, False):
            clear(estate)
            extra = ["--check"] if check else []
            result, proc = run_task(estate, "ps01", module, args(installer, module), tmp_path / str(check), *extra,
                                    task_extra=BECOME)  # fmt: skip
            assert result.get("failed") is True and result.get("refused") is True, result
            assert result.get("changed") is False, result
            assert "passphrase_file" in result["msg"] and DESKTOP in result["msg"] and needle in result["msg"]
            # the read-only probe only: no package transfer, no setup started
            assert identities(estate, "ps01") == ["probe v1"], (check, identities(estate, "ps01"))
            assert processes(estate, "ps01") == []
            assert PASSPHRASE not in json.dumps(result) and PASSPHRASE not in proc.stdout + proc.stderr
        assert (
            estate.read_host("ps01").reg_get(
                r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9", "Build_Version"
            )
            is None
        )


def test_a_passphrase_file_on_the_desktop_installs_with_a_warning(tmp_path, installer):
    with served(tmp_path, seed_file(tmp_path), ps=1) as estate:
        put_file(estate, f"{PASSPHRASE}\r\n")  # genpassphrase.exe -v > file [3.2]
        clear(estate)
        result, proc = run_task(estate, "ps01", "install", args(installer, "install"), tmp_path, task_extra=BECOME)
        assert not result.get("failed"), result.get("msg")
        assert result["changed"] is True and result["version_after"] == CURRENT
        text = " ".join(" ".join(result.get("warnings") or []).split())
        assert DESKTOP in text and "per-user" in text and "SYSTEM" in text and "Ansible Vault" in text, text
        assert PASSPHRASE not in json.dumps(result) and PASSPHRASE not in proc.stdout + proc.stderr
