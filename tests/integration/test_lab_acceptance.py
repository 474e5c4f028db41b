"""Lab acceptance: ``python -m lab up``, real ``ansible`` / ``ansible-playbook`` over real WinRM (HTTPS, Basic,
the lab's certificate validated), ``python -m lab down`` leaving no process or port behind.

The Ansible commands are those of the virtualenv running pytest, so ``.venv-2.21/bin/python -m pytest`` drives
the lab with ansible-core 2.21 and ``.venv/bin/python -m pytest`` with 2.19.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from lab import journal as lab_journal
from lab.state import Estate

pytestmark = [pytest.mark.lab, pytest.mark.slow]

REPO = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = pathlib.Path(__file__).with_name("lab_acceptance.yml")
VENV_BIN = pathlib.Path(sys.executable).parent
HOSTS = ("cs01", "ps01", "ps02")
SEED = "installed-old"  # process servers with the ASR services installed (lab/seeds/README.md)
ANSIBLE_ENV = {
    "ANSIBLE_NOCOLOR": "1",
    "ANSIBLE_FORCE_COLOR": "0",
    "ANSIBLE_HOST_KEY_CHECKING": "False",
    "ANSIBLE_RETRY_FILES_ENABLED": "False",
}


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def tool(name: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run an Ansible command line of this interpreter's virtualenv from the repository root."""
    return subprocess.run(
        [str(VENV_BIN / name), *args],
        cwd=REPO,
        env={**os.environ, **ANSIBLE_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status(estate_dir: pathlib.Path) -> dict:
    return json.loads(lab("status", "--dir", str(estate_dir), "--json").stdout)


def journal(estate_dir: pathlib.Path, host: str) -> list[dict]:
    return list(lab_journal.read(Estate(estate_dir), host))


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """One estate for the module: 1 CS + 2 PS from the installed-old seed, served by `python -m lab up`."""
    estate_dir = tmp_path_factory.mktemp("acceptance") / "estate"
    out = lab("up", "--cs", "1", "--ps", "2", "--seed", SEED, "--dir", str(estate_dir)).stdout
    assert "inventory.yml" in out
    try:
        yield estate_dir
    finally:  # never leave a server behind, even when a test failed
        lab("down", "--dir", str(estate_dir), check=False)


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    src = tmp_path_factory.mktemp("src")
    (src / "hello.txt").write_text("hello from the controller\n")
    (src / "bundle" / "conf").mkdir(parents=True)
    (src / "bundle" / "top.txt").write_text("top\n")
    (src / "bundle" / "conf" / "deep.txt").write_text("deep\n")
    (src / "probe.ps1").write_text(loader.load_script("probe").text)  # as the collection sends it
    return src


def test_this_venv_runs_its_own_ansible():
    from ansible.release import __version__

    assert __version__ in tool("ansible-playbook", "--version").stdout.splitlines()[0]


def test_inventory_validates_the_lab_certificate(estate):
    groups = yaml.safe_load((estate / "inventory.yml").read_text())["all"]["children"]
    assert set(groups["configuration_servers"]["hosts"]) == {"cs01"}
    assert set(groups["process_servers"]["hosts"]) == {"ps01", "ps02"}
    for group in groups.values():
        for hostvars in group["hosts"].values():
            assert hostvars["ansible_winrm_scheme"] == "https"
            assert hostvars["ansible_winrm_transport"] == "basic"
            assert hostvars["ansible_winrm_server_cert_validation"] == "validate"
            assert pathlib.Path(hostvars["ansible_winrm_ca_trust_path"]).is_file()


def test_ad_hoc_win_ping(estate):
    result = tool("ansible", "-i", str(estate / "inventory.yml"), "all", "-m", "ansible.windows.win_ping")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 3, result.stdout
    assert len(re.findall(r'ping"?: "?pong', result.stdout)) == 3, result.stdout


def test_acceptance_playbook(estate, sources):
    before = {name: len(journal(estate, name)) for name in HOSTS}
    result = tool(
        "ansible-playbook",
        "-i",
        str(estate / "inventory.yml"),
        str(PLAYBOOK),
        "-e",
        f"acceptance_src={sources}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    recap = dict(re.findall(r"^(\w+)\s+:\s+(ok=.*)$", result.stdout, re.M))
    assert set(recap) == set(HOSTS), result.stdout
    for name, line in recap.items():
        assert "failed=0" in line and "unreachable=0" in line and "rescued=2" in line, (name, line)

    for name in HOSTS:
        calls = journal(estate, name)[before[name] :]
        identities = [c["identity"] for c in calls]
        # the collection's script ran as itself; a script that throws is a failed result (rc 0, as win_powershell)
        assert any(c["identity"] == "probe v1" and c["rc"] == 0 for c in calls), identities
        assert any(c["identity"] == "lab_acceptance_throws v1" and c["rc"] == 0 for c in calls), identities
        assert "put_file" in identities and "ansible.windows.async_status" in identities, identities
    for name in ("ps01", "ps02"):
        services = [c for c in journal(estate, name)[before[name] :] if c["identity"] == "ansible.windows.win_service"]
        assert [c["args"]["state"] for c in services] == ["stopped", "started", "started"]

    # `python -m lab status` counts every remote call per host from the same journal
    counts = {name: host["calls"] for name, host in status(estate)["hosts"].items()}
    assert counts == {name: len(journal(estate, name)) for name in HOSTS}


def test_option_typo_fails_as_on_windows(estate, tmp_path):
    playbook = tmp_path / "typo.yml"
    playbook.write_text(
        "- name: Typo\n"
        "  hosts: ps01\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Stop a service, misspelling state\n"
        "      ansible.windows.win_service:\n"
        "        name: tmansvc\n"
        "        stat: stopped\n"
    )
    before = len(journal(estate, "ps01"))
    result = tool("ansible-playbook", "-i", str(estate / "inventory.yml"), str(playbook))
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Unsupported parameters for (ansible.windows.win_service) module: stat" in output, output
    assert "Supported parameters include:" in output, output
    # Windows validates on the host: the module call went out and was refused there, changing nothing
    calls = journal(estate, "ps01")[before:]
    assert [c["identity"] for c in calls] == ["ansible.windows.win_service"] and calls[0]["rc"] == 1, calls
    assert Estate(estate).read_host("ps01").service("tmansvc")["state"] == "running"


def test_down_leaves_no_process_or_port(estate):
    before = status(estate)
    pid = before["server"]["pid"]
    ports = [host["port"] for host in before["hosts"].values()]
    assert before["server"]["alive"] and all(port_open(p) for p in ports)

    assert "server stopped" in lab("down", "--dir", str(estate)).stdout
    deadline = time.monotonic() + 10  # the detached server is reaped by init asynchronously
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
    assert not any(port_open(p) for p in ports)
    assert status(estate)["server"] == {"pid": None, "alive": False}
