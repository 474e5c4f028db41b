"""asr.process_server.install / upgrade end to end: real ansible-playbook over WinRM against the lab.

The configuration server's passphrase is a recognisable value so that every place it could leak to is searched:
ansible-playbook's -vvvv output, the journal of remote calls, the host's process log and every file and registry
value left on the host.
"""

from __future__ import annotations

import base64
import json

import pytest
import yaml

from lab.asr.installer import package_bytes
from tests.integration import lab_ops

pytestmark = pytest.mark.lab

PASSPHRASE = "Recognisable-Passphrase-7Q"
PROXY_PASSWORD = "Proxy-Secret-9Z"
CS_IP = "10.0.0.11"
BECOME = {"become": True, "become_method": "runas", "become_user": "SYSTEM"}


def seed_file(tmp_path, ps_asr=None, ps_extra=None):
    ps_template = {"facts": {"vmware_tools": True}, "asr": ps_asr or {}}
    ps_template.update(ps_extra or {})
    spec = {
        "description": "fresh, with a recognisable CS passphrase",
        "hosts": [
            {
                "name": "cs01",
                "role": "configuration_server",
                "ip": CS_IP,
                "asr": {"version": "9.55.7123.1", "install_location": "D:\\", "passphrase": PASSPHRASE},
            },
        ],
        "templates": {"process_server": ps_template},
    }
    path = tmp_path / "seed.yml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return str(path)


@pytest.fixture
def packages(tmp_path):
    made = {}
    for version in ("9.55.7123.1", "9.51.6712.1", "9.56.7200.1"):
        path = tmp_path / f"UnifiedSetup-{version}.exe"
        path.write_bytes(package_bytes(version))
        made[version] = str(path)
    return made


def install_args(packages, **extra):
    args = {"configuration_server_ip": CS_IP, "passphrase": PASSPHRASE, "installer": packages["9.55.7123.1"],
            "install_location": "D:\\", "env_type": "VMware", "poll_interval": 1}  # fmt: skip
    args.update(extra)
    return args


def install(estate, out, args, *extra, become=True, host="ps01"):
    return lab_ops.run_task(estate, host, "install", args, out, *extra, task_extra=BECOME if become else None)


def host_text(estate, name):
    """Every file's content and the whole state of a host, as searchable text."""
    data = estate.read_host(name).data
    parts = [json.dumps(data)]
    for entry in data["files"].values():
        if entry.get("content_b64"):
            parts.append(base64.b64decode(entry["content_b64"]).decode("utf-8", errors="replace"))
    return "\n".join(parts)


def set_fault(estate, host, knob, value):
    with estate.open_host(host) as h:
        h.faults[knob] = value


@pytest.fixture
def fresh_estate(tmp_path):
    with lab_ops.served(tmp_path, seed_file(tmp_path), ps=2) as estate:
        lab_ops.clear(estate)
        yield estate


def test_install_converges_then_one_call_and_no_secret_anywhere(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    proxy = {"address": "http://proxy.corp", "port": 3128, "username": "svc", "password": PROXY_PASSWORD}
    args = install_args(packages, proxy=proxy, installer_version="9.55.7123.1")
    result, proc = install(estate, tmp_path / "1", args, "-vvvv")
    assert result.get("failed") is not True, result
    assert result["changed"] is True and result["exit_code"] == 0
    assert [s["name"] for s in result["steps"]] == ["stage installer", "run Unified Setup (install)",
                                                    "clean up staged secrets and extracted files"]  # fmt: skip
    assert result["version_before"] is None and result["version_after"] == "9.55.7123.1"
    journal = lab_ops.calls(estate, "ps01")
    # the probe, the package straight into the probed temp folder, start (move, verify, extract, start), one poll,
    # cleanup: no mkdtemp, no copy module, no temp-folder cleanup
    assert [e["identity"] for e in journal] == [
        "probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1"
    ]  # fmt: skip
    assert len(journal) == result["remote_calls"] == 5
    staged = [p for p in (e["path"] for e in estate.read_host("ps01").data["files"].values()) if p.lower().endswith(
        "microsoftazuresiterecoveryunifiedsetup.exe")]  # fmt: skip
    assert len(staged) == 1 and "\\ASRSetupStaging\\" in staged[0], staged  # moved out of C:\Windows\Temp
    for secret in (PASSPHRASE, PROXY_PASSWORD):
        assert secret not in proc.stdout + proc.stderr
        assert secret not in json.dumps(journal)
        assert secret not in "\n".join(lab_ops.processes(estate, "ps01"))
        assert secret not in host_text(estate, "ps01")
    files = [e["path"] for e in estate.read_host("ps01").data["files"].values()]
    assert not [p for p in files if "\\run-" in p or p.lower().endswith(("passphrase.txt", "proxysettings.ini"))]
    registration = estate.read_host("ps01").asr
    assert registration  # installed
    lab_ops.clear(estate)
    again, _ = install(estate, tmp_path / "2", args)
    assert again["changed"] is False and again["steps"] == [] and again["remote_calls"] == 1
    assert [e["identity"] for e in lab_ops.calls(estate, "ps01")] == ["probe v1"]


def test_check_mode_predicts_and_changes_nothing(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    before = estate.read_host("ps01").data
    predicted, _ = install(estate, tmp_path / "c", install_args(packages), "--check", "--diff")
    assert predicted["changed"] is True and predicted.get("failed") is not True, predicted
    assert [e["identity"] for e in lab_ops.calls(estate, "ps01")] == ["probe v1"]
    assert estate.read_host("ps01").data["files"] == before["files"]
    assert estate.read_host("ps01").data["registry"] == before["registry"]
    lab_ops.clear(estate)
    real, _ = install(estate, tmp_path / "r", install_args(packages))
    assert real["steps"] == predicted["steps"]
    # no installer_version and no PE version on the controller: one more read learns it after the transfer
    assert [e["identity"] for e in lab_ops.calls(estate, "ps01")] == [
        "probe v1", "put_file", "probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"
    ]  # fmt: skip


@pytest.mark.parametrize("code", [1, 2, 4, 102, 113])
def test_installer_failures_are_explained_and_cleaned_up(fresh_estate, tmp_path, packages, code):
    estate = fresh_estate
    set_fault(estate, "ps01", "installer_exit_code", code)
    result, _ = install(estate, tmp_path / "f", install_args(packages))
    assert result["failed"] is True and result["rc"] == code, result
    assert f"exit code {code}" in result["msg"] and result["remediation"] in result["msg"]
    assert result["log_tail"] and result["steps"][-1]["name"] == "clean up staged secrets and extracted files"
    assert PASSPHRASE not in host_text(estate, "ps01")
    assert lab_ops.identities(estate, "ps01")[-1] == "setup_cleanup v1"


def test_exit_3010_reports_reboot_required_or_reboots(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    set_fault(estate, "ps01", "installer_exit_code", 3010)
    result, _ = install(estate, tmp_path / "a", install_args(packages))
    assert result.get("failed") is not True and result["reboot_required"] is True, result
    set_fault(estate, "ps02", "installer_exit_code", 3010)
    rebooted, _ = install(estate, tmp_path / "b", install_args(packages, reboot=True), host="ps02")
    assert rebooted.get("failed") is not True, rebooted
    assert rebooted["reboot_required"] is False and rebooted["steps"][-1]["name"] == "reboot (setup exit code 3010)"
    assert estate.read_host("ps02").pending_reboot_reasons() == []


def test_long_setup_is_polled_and_survives_a_dropped_poll(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    set_fault(estate, "ps01", "installer_seconds", 6)
    set_fault(estate, "ps01", "drop_connection_at", "setup_poll v1")
    result, _ = install(estate, tmp_path / "p", install_args(packages))
    assert result.get("failed") is not True, result
    # The first poll was dropped and retried; how many polls saw setup running depends on the machine's load.
    assert result["poll_retries"] >= 1 and result["polls"] >= 1
    assert any(e.get("dropped") for e in lab_ops.calls(estate, "ps01"))
    assert lab_ops.identities(estate, "ps01").count("setup_start v1") == 1


@pytest.mark.parametrize(
    "knob,value,words",
    [
        ("cs_unreachable", True, ["10.0.0.11", "443"]),
        ("pending_reboot", True, ["reboot is pending", "reboot: true"]),
    ],
)
def test_preflight_refusals_cost_one_call(fresh_estate, tmp_path, packages, knob, value, words):
    estate = fresh_estate
    set_fault(estate, "ps01", knob, value)
    result, _ = install(estate, tmp_path / "x", install_args(packages))
    assert result["failed"] is True and all(w in result["msg"] for w in words), result["msg"]
    assert lab_ops.identities(estate, "ps01") == ["probe v1"] and result["changed"] is False


def test_a_host_below_dotnet_4_6_2_is_shown_by_info_and_refused_before_setup(fresh_estate, tmp_path, packages):
    """[1.3] Unified Setup needs .NET Framework 4.6.2 (else it waits on a message box nobody sees): the probe's real
    text reads the release from the registry, info shows it, install refuses after its one read-only call."""
    estate = fresh_estate
    with estate.open_host("ps01") as host:
        host.data.setdefault("windows", {}).update(dotnet_release=394254, dotnet_version="4.6.01055")  # 4.6.1
    info, _ = lab_ops.run_task(estate, "ps01", "info", {}, tmp_path / "i", task_extra=BECOME)
    assert info["asr"]["dotnet_framework"] == {"release": 394254, "version": "4.6.1", "meets_setup_minimum": False}
    lab_ops.clear(estate)
    result, _ = install(estate, tmp_path / "x", install_args(packages))
    assert result["failed"] is True and result["refused"] is True and result["changed"] is False, result
    assert ".NET Framework 4.6.1 (release 394254)" in result["msg"] and "4.6.2 or later" in result["msg"]
    assert lab_ops.identities(estate, "ps01") == ["probe v1"]  # no setup_start: nothing was changed


def test_pending_reboot_with_reboot_true_reboots_first(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    set_fault(estate, "ps01", "pending_reboot", True)
    result, _ = install(estate, tmp_path / "x", install_args(packages, reboot=True))
    assert result.get("failed") is not True, result
    assert result["steps"][0]["name"] == "reboot (a reboot was pending before setup)"


def test_disk_too_small_fails_in_setup_with_the_log_tail(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    set_fault(estate, "ps01", "disk_too_small", True)
    result, _ = install(estate, tmp_path / "d", install_args(packages))
    assert result["failed"] is True and result["rc"] == 2
    assert any("600 GB" in line for line in result["log_tail"]), result["log_tail"]


def test_network_logon_without_become_is_refused_clearly(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    set_fault(estate, "ps01", "network_logon_restricted", True)
    result, _ = install(estate, tmp_path / "n", install_args(packages), become=False)
    assert result["failed"] is True and "network logon" in result["msg"] and "become_user: SYSTEM" in result["msg"]
    assert lab_ops.identities(estate, "ps01") == ["probe v1"]


def test_installer_newer_than_the_configuration_server_is_refused(fresh_estate, tmp_path, packages):
    estate = fresh_estate
    args = install_args(packages, installer=packages["9.56.7200.1"], installer_version="9.56.7200.1",
                        configuration_server_version="9.55.7123.1")  # fmt: skip
    result, _ = install(estate, tmp_path / "v", args)
    assert result["failed"] is True and "configuration_server_version" in result["msg"]
    assert lab_ops.calls(estate, "ps01") == []  # refused before any remote call


# ---- upgrade --------------------------------------------------------------------------------------------
def upgrade(estate, out, args, host="ps01"):
    return lab_ops.run_task(estate, host, "upgrade", {"poll_interval": 1, **args}, out, task_extra=BECOME)


def test_upgrade_from_installed_old_then_unchanged(tmp_path, packages):
    with lab_ops.served(tmp_path, "installed-old", ps=1) as estate:
        lab_ops.clear(estate)
        args = {"installer": packages["9.55.7123.1"], "installer_version": "9.55.7123.1"}
        result, _ = upgrade(estate, tmp_path / "u", args)
        assert result.get("failed") is not True, result
        assert result["version_before"] == "9.52.6801.1" and result["version_after"] == "9.55.7123.1"
        assert lab_ops.identities(estate, "ps01") == [
            "probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1"
        ]  # fmt: skip
        assert result["remote_calls"] == 5
        assert any("/Upgrade" in p for p in lab_ops.processes(estate, "ps01"))
        lab_ops.clear(estate)
        again, _ = upgrade(estate, tmp_path / "u2", args)
        assert again["changed"] is False and again["remote_calls"] == 1
        assert lab_ops.identities(estate, "ps01") == ["probe v1"]


def test_upgrade_beyond_n4_is_refused_then_done_in_hops(tmp_path, packages):
    seed = seed_file(tmp_path, ps_asr={"version": "9.50.6601.1", "cs": "cs01"})
    with lab_ops.served(tmp_path, seed, ps=1) as estate:
        lab_ops.clear(estate)
        refused, _ = upgrade(estate, tmp_path / "n", {"installer": packages["9.55.7123.1"],
                                                      "installer_version": "9.55.7123.1"})  # fmt: skip
        assert refused["failed"] is True and "N-4" in refused["msg"] and "installers" in refused["msg"]
        assert lab_ops.identities(estate, "ps01") == ["probe v1"]
        hops = {"installer": packages["9.55.7123.1"], "installer_version": "9.55.7123.1",
                "installers": [{"path": packages["9.51.6712.1"], "version": "9.51.6712.1"}]}  # fmt: skip
        lab_ops.clear(estate)
        done, _ = upgrade(estate, tmp_path / "h", hops)
        assert done.get("failed") is not True, done
        hop = ["put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]  # each hop's package coexists
        assert lab_ops.identities(estate, "ps01") == ["probe v1", *hop, *hop] and done["remote_calls"] == 9
        assert done["hops"] == ["9.51.6712.1", "9.55.7123.1"] and done["version_after"] == "9.55.7123.1"
