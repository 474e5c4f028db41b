"""pytest-testinfra verification through its ansible backend (``--hosts=ansible://all``).

verify.yml runs this with the Molecule inventory. On Windows hosts only ``host.ansible(...)`` (an ad-hoc
``ansible -m <module>`` run) and the inventory variables are usable; README.md explains why ``host.run``,
``host.file``, ``host.service`` and the ``winrm://`` backend are not, and why a module failure has to be
recognised here rather than by testinfra.
"""

from __future__ import annotations

import hashlib
import json
import pathlib

SCENARIO = pathlib.Path(__file__).resolve().parents[1]
ROOT = "C:\\asr-molecule"
SERVICE = "AsrMoleculeBaseline"


def windows_module(host, module: str, expect: str, **args):
    """Run ``ansible.windows.<module>`` for real (testinfra's default is --check) and return its result.

    testinfra raises AnsibleException only when the result carries ``failed``; the ``--tree`` files
    ansible-core >= 2.19 writes no longer do, so a failure is recognised by the missing ``expect`` key.
    """
    result = host.ansible(f"ansible.windows.{module}", json.dumps(args), check=False)
    assert expect in result, f"ansible.windows.{module} {args} failed: {result}"
    return result


def test_inventory_places_host_in_a_lab_group(host):
    variables = host.ansible.get_variables()
    assert variables["ansible_connection"] == "winrm"
    assert {"configuration_servers", "process_servers"} & set(variables["group_names"])


def test_staged_file_matches_the_source(host):
    expected = hashlib.sha1((SCENARIO / "files" / "marker.txt").read_bytes()).hexdigest()
    stat = windows_module(host, "win_stat", "stat", path=f"{ROOT}\\marker.txt", checksum_algorithm="sha1")["stat"]
    assert stat["exists"] and stat["isreg"]
    assert stat["checksum"] == expected


def test_staged_directory_is_complete(host):
    for relative in ("bundle\\settings.ini", "bundle\\conf\\log.conf"):
        assert windows_module(host, "win_stat", "stat", path=f"{ROOT}\\{relative}")["stat"]["exists"], relative


def test_baseline_service_is_manual_and_stopped(host):
    info = windows_module(host, "win_service_info", "services", name=SERVICE)
    assert info["exists"]
    (service,) = info["services"]
    assert (service["start_mode"], service["state"]) == ("manual", "stopped")


def test_a_module_failure_comes_back_without_failed(host):
    """Pins the testinfra/ansible-core >= 2.19 behaviour windows_module() works around."""
    result = host.ansible("ansible.windows.win_stat", json.dumps({"path": ROOT, "no_such_option": 1}), check=False)
    assert result["msg"].startswith("Unsupported parameters for (ansible.windows.win_stat) module: no_such_option")
    assert "stat" not in result
