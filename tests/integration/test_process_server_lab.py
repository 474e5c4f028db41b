"""asr.process_server.process_server end to end: real ansible-playbook over WinRM against the lab.

mixed (1 CS + 5 PS: fresh, current, old, drifted proxy, dead): one play with state=present + proxy converges every
reachable PS (install, proxy-only, proxy on an old build that present does not upgrade); a second run is
changed=false on every host with exactly ONE remote call each in the journal. fresh: check mode predicts the
steps of the real run and changes nothing. installed-old: state=latest upgrades. state=absent with
workload_moved decommissions; without it, refuses.
"""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from lab_ops import ROOT, clear, identities, keep_results, served

from lab.asr.installer import package_bytes
from tests import playbook_runner
from tests.lab_support import CURRENT, ansible_env, playbook_command
from tests.lab_support import install_args as base_args

pytestmark = pytest.mark.lab

PASSWORD = "Zq9-Recognisable-Proxy-Pw-77"
PROXY = {"address": "http://proxy.corp.example", "port": 3128, "username": "CORP\\svc-asr", "password": PASSWORD}
BECOME = {"become": True, "become_method": "runas", "become_user": "SYSTEM"}


@pytest.fixture
def installer(tmp_path):
    path = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    path.write_bytes(package_bytes(CURRENT))
    return path


def play(estate, hosts: list[str], args: dict, out: pathlib.Path, *extra: str) -> tuple[dict, str]:
    """One play of one process_server task on ``hosts``; each host's registered result and the output."""
    out.mkdir(parents=True, exist_ok=True)
    for host in hosts:
        (out / f"{host}.json").unlink(missing_ok=True)
    task = {
        "name": "Converge",
        "asr.process_server.process_server": args,
        "register": "r",
        "ignore_errors": True,
        "ignore_unreachable": True,
    }
    book = [{"name": "lab", "hosts": ":".join(hosts), "gather_facts": False, "tasks": [{**task, **BECOME}]}]
    playbook = out / "process_server.yml"
    playbook.write_text(yaml.safe_dump(book, sort_keys=False), encoding="utf-8")
    cmd, env = playbook_command(estate, *extra, str(playbook)), ansible_env(**keep_results(out, "Converge"))
    proc = playbook_runner.run(cmd, cwd=ROOT, env=env, timeout=600)
    results = {}
    for host in hosts:
        path = out / f"{host}.json"
        results[host] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return results, proc.stdout + proc.stderr


def changed_ops(result: dict) -> list[str]:
    return [name for name, entry in result["operations"].items() if entry["changed"]]


def planned(result: dict) -> dict:
    """Each operation's step names (``steps`` is one list in the shared shape, each step marked ``operation``)."""
    return {name: [s["name"] for s in result["steps"] if s["operation"] == name] for name in result["operations"]}


def host_files(estate, hosts):
    return {h: estate.host_path(h).read_text(encoding="utf-8") for h in hosts}


def test_mixed_estate_converges_then_one_call_per_host(tmp_path, installer):
    # ps05 has no heartbeat on the CS and tmansvc stopped; the seed also has it dead (reachable: false, its WinRM
    # answers nothing), so bring it back on the network: this test wants a live host in that state
    pss = ["ps01", "ps02", "ps03", "ps04", "ps05"]
    args = {**base_args(installer), "proxy": PROXY}
    with served(tmp_path, "mixed", ps=5) as estate:
        with estate.open_host("ps05") as host:
            host.data["reachable"] = True
        clear(estate)
        first, output = play(estate, pss, args, tmp_path / "o1", "-v")
        for host in pss:
            assert first[host] and not first[host].get("failed"), (host, first[host] and first[host].get("msg"))
            assert first[host]["changed"], host
        # fresh: setup installs (with the proxy, which setup also gives the MARS agent [1.3]) in 5 calls: the probe,
        # the package (put_file), start, poll, and the cleanup call that also reads the host again (no final probe)
        assert changed_ops(first["ps01"]) == ["install"] and first["ps01"]["version_after"] == CURRENT
        assert identities(estate, "ps01") == [
            "probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1"
        ]  # fmt: skip
        assert first["ps01"]["remote_calls"] == 5
        # current, old (present does not upgrade) and drifted: the proxy procedure only
        for host in ("ps02", "ps03", "ps04", "ps05"):
            assert changed_ops(first[host]) == ["proxy"], host
            assert identities(estate, host) == ["probe v1", "proxy_apply v1"], host
        assert first["ps03"]["version_after"] == "9.53.6904.1"
        for host in pss:
            effective = estate.read_host(host).asr.get("mars_proxy_effective")
            assert effective["ProxyServer"] == PROXY["address"] and effective["ProxyPort"] == 3128, host
        registered = estate.read_host("cs01").asr["registered_process_servers"]
        assert {"10.0.0.101", "10.0.0.102", "10.0.0.103", "10.0.0.104", "10.0.0.105"} <= set(registered)
        assert any("tmansvc is stopped" in w for w in first["ps05"].get("warnings", []))
        assert PASSWORD not in output and PASSWORD not in json.dumps(first)
        for host in pss:
            assert PASSWORD not in estate.journal_path(host).read_text(encoding="utf-8"), host

        clear(estate)
        second, _ = play(estate, pss, args, tmp_path / "o2")
        for host in pss:
            assert second[host]["changed"] is False and second[host]["remote_calls"] == 1, host
            assert identities(estate, host) == ["probe v1"], host  # exactly ONE remote call in the journal


def test_check_mode_on_a_fresh_estate_predicts_the_steps_and_changes_nothing(tmp_path, installer):
    pss = ["ps01", "ps02"]
    args = {**base_args(installer), "proxy": PROXY}
    with served(tmp_path, "fresh", ps=2) as estate:
        before = host_files(estate, [*pss, "cs01"])
        clear(estate)
        predicted, _ = play(estate, pss, args, tmp_path / "check", "--check", "--diff")
        assert host_files(estate, [*pss, "cs01"]) == before  # host state files unchanged
        for host in pss:
            assert predicted[host]["changed"] and identities(estate, host) == ["probe v1"], host
            assert predicted[host]["diff"]["before"]["components"]["configuration_process_server"] is None
            assert predicted[host]["diff"]["after"]["components"]["configuration_process_server"] == CURRENT

        done, _ = play(estate, pss, args, tmp_path / "real", "--diff")
        for host in pss:
            assert not done[host].get("failed"), done[host].get("msg")
            assert planned(done[host]) == planned(predicted[host]), host  # check mode predicted exactly
            assert changed_ops(done[host]) == changed_ops(predicted[host]) == ["install"]
            assert done[host]["diff"]["after"] == predicted[host]["diff"]["after"], host


def test_latest_upgrades_an_installed_old_estate(tmp_path, installer):
    args = base_args(installer)
    with served(tmp_path, "installed-old", ps=1) as estate:
        present, _ = play(estate, ["ps01"], args, tmp_path / "present")
        assert present["ps01"]["changed"] is False and present["ps01"]["version_after"] == "9.52.6801.1"

        predicted, _ = play(estate, ["ps01"], {**args, "state": "latest"}, tmp_path / "check", "--check")
        assert changed_ops(predicted["ps01"]) == ["upgrade"]

        clear(estate)
        latest, _ = play(estate, ["ps01"], {**args, "state": "latest"}, tmp_path / "latest")
        result = latest["ps01"]
        assert not result.get("failed"), result.get("msg")
        assert result["changed"] and changed_ops(result) == ["upgrade"]
        assert planned(result)["upgrade"][-2:] == planned(predicted["ps01"])["upgrade"][-2:]
        assert result["version_before"] == "9.52.6801.1" and result["version_after"] == CURRENT
        # one /Upgrade hop: probe, put_file, start, poll, cleanup (which reads the host after setup)
        assert identities(estate, "ps01") == [
            "probe v1", "put_file", "setup_start v1", "setup_poll v1", "setup_cleanup v1"
        ]  # fmt: skip
        assert result["remote_calls"] == 5

        clear(estate)
        again, _ = play(estate, ["ps01"], {**args, "state": "latest"}, tmp_path / "again")
        assert again["ps01"]["changed"] is False and identities(estate, "ps01") == ["probe v1"]


def test_absent_needs_workload_moved_then_decommissions(tmp_path):
    with served(tmp_path, "installed-old", ps=1) as estate:
        clear(estate)
        refused, _ = play(estate, ["ps01"], {"state": "absent"}, tmp_path / "refused")
        assert refused["ps01"]["failed"] and "workload_moved" in refused["ps01"]["msg"]
        assert identities(estate, "ps01") == ["probe v1"]

        clear(estate)
        gone, _ = play(estate, ["ps01"], {"state": "absent", "workload_moved": True}, tmp_path / "gone", "--diff")
        result = gone["ps01"]
        assert not result.get("failed"), result.get("msg")
        assert changed_ops(result) == ["uninstall"] and len(result["operations"]["uninstall"]["removed"]) == 4
        assert identities(estate, "ps01") == ["probe v1"] + ["uninstall_step v1"] * 4
        assert set(result["diff"]["after"]["components"].values()) == {None}
        assert "10.0.0.101" not in estate.read_host("cs01").asr["registered_process_servers"]

        clear(estate)
        again, _ = play(estate, ["ps01"], {"state": "absent", "workload_moved": True}, tmp_path / "again")
        assert again["ps01"]["changed"] is False and identities(estate, "ps01") == ["probe v1"]
