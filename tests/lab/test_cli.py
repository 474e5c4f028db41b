"""``python -m lab`` as a user runs it: up / status / fault / reset / down leave nothing behind; and, once
``lab.dispatch`` exists, real ``ansible ... -m ansible.windows.win_ping`` against the estate."""

from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys
import time

import pytest
import yaml

from lab import cli, journal
from lab import estate as estate_mod

pytestmark = pytest.mark.lab

REPO = pathlib.Path(__file__).resolve().parents[2]
VENV_BIN = pathlib.Path(sys.executable).parent


def lab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "lab", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture
def lab_dir(tmp_path):
    path = tmp_path / "cli-estate"
    yield path
    if (path / "estate.json").is_file():  # never leave a server behind, even when a test fails
        lab("down", "--dir", str(path), check=False)


def test_up_status_fault_reset_down_leaves_no_process_or_port(lab_dir):
    out = lab("up", "--cs", "1", "--ps", "2", "--dir", str(lab_dir)).stdout
    assert "ansible.windows.win_ping" in out and "inventory.yml" in out
    estate, meta = estate_mod.load(lab_dir)
    pid = meta["server"]["pid"]
    ports = [h["port"] for h in meta["hosts"].values()]
    assert cli.server_alive(pid)
    assert all(cli.port_open(p) for p in ports)

    inventory = yaml.safe_load((lab_dir / "inventory.yml").read_text())["all"]["children"]
    assert set(inventory["configuration_servers"]["hosts"]) == {"cs01"}
    assert set(inventory["process_servers"]["hosts"]) == {"ps01", "ps02"}
    ps01 = inventory["process_servers"]["hosts"]["ps01"]
    assert ps01["ansible_winrm_server_cert_validation"] == "validate"
    assert ps01["ansible_winrm_ca_trust_path"] == str(lab_dir / "tls" / "cert.pem")
    assert ps01["ansible_port"] == meta["hosts"]["ps01"]["port"] and ps01["asr_lab_ip"] == "10.0.0.101"

    status = json.loads(lab("status", "--dir", str(lab_dir), "--json").stdout)
    assert status["server"] == {"pid": pid, "alive": True}
    assert {n: h["listening"] for n, h in status["hosts"].items()} == {"cs01": True, "ps01": True, "ps02": True}
    assert all(h["calls"] == 0 for h in status["hosts"].values())

    lab("fault", "--dir", str(lab_dir), "ps01", "latency_ms", "250")
    lab("fault", "--dir", str(lab_dir), "ps01", "drop_connection_at", "probe_ps v1")
    assert estate.read_host("ps01").faults == {"latency_ms": 250, "drop_connection_at": "probe_ps v1"}
    lab("fault", "--dir", str(lab_dir), "ps01", "latency_ms", "--clear")
    assert estate.read_host("ps01").faults == {"drop_connection_at": "probe_ps v1"}
    assert lab("fault", "--dir", str(lab_dir), "nosuch", "latency_ms", "1", check=False).returncode == 2

    journal.record(estate, "ps01", op="raw", identity="raw", args=None, duration_s=0.0, rc=0)
    assert json.loads(lab("status", "--dir", str(lab_dir), "--json").stdout)["hosts"]["ps01"]["calls"] == 1
    lab("reset", "--dir", str(lab_dir))
    assert estate.read_host("ps01").faults == {}
    assert journal.count(estate, "ps01") == 0
    assert estate_mod.read_meta(estate)["hosts"]["ps01"]["port"] == ps01["ansible_port"]  # ports survive reset
    assert cli.server_alive(pid)

    assert "server stopped" in lab("down", "--dir", str(lab_dir)).stdout
    assert not cli.server_alive(pid)
    deadline = time.monotonic() + 10  # the orphaned server is reaped by init asynchronously
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{pid}")
    assert not any(cli.port_open(p) for p in ports)
    status = json.loads(lab("status", "--dir", str(lab_dir), "--json").stdout)
    assert status["server"] == {"pid": None, "alive": False}
    assert "no server was running" in lab("down", "--dir", str(lab_dir)).stdout


def test_up_twice_replaces_the_running_server(lab_dir):
    lab("up", "--cs", "0", "--ps", "1", "--dir", str(lab_dir))
    first = estate_mod.load(lab_dir)[1]
    lab("up", "--cs", "0", "--ps", "1", "--dir", str(lab_dir), "--http")
    second = estate_mod.load(lab_dir)[1]
    assert not cli.server_alive(first["server"]["pid"])
    assert cli.server_alive(second["server"]["pid"]) and second["scheme"] == "http"
    lab("down", "--dir", str(lab_dir))
    assert not cli.port_open(second["hosts"]["ps01"]["port"])


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("lab.dispatch") is None, reason="lab.dispatch not written yet")
def test_real_ansible_win_ping_end_to_end(lab_dir):
    lab("up", "--cs", "1", "--ps", "2", "--dir", str(lab_dir))
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING="False", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(
        [str(VENV_BIN / "ansible"), "-i", str(lab_dir / "inventory.yml"), "all", "-m", "ansible.windows.win_ping"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == 3, result.stdout
    assert len(re.findall(r'ping"?: "?pong', result.stdout)) == 3, result.stdout  # any stdout callback format
    estate = estate_mod.load(lab_dir)[0]
    for name in ("cs01", "ps01", "ps02"):
        assert any(e["identity"] == "ansible.windows.win_ping" and e["rc"] == 0 for e in journal.read(estate, name))


# ---- python -m lab installer: a user's mistake is one line, never a traceback -------------------------------
@pytest.mark.parametrize(
    ("version", "out", "says"),
    [
        ("9.55.7123.1", "missing/x.exe", "the folder {tmp}/missing does not exist"),
        ("9.55.7123.1", ".", "is a folder"),
        ("abc", "x.exe", "--version: not an ASR build number"),
    ],
)
def test_installer_bad_out_or_version_is_one_line_error(tmp_path, version, out, says):
    result = lab("installer", "--version", version, "--out", str(tmp_path / out), check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("python -m lab installer: error: ")
    assert says.format(tmp=tmp_path) in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no folder created, no partial file


def test_installer_writes_the_package(tmp_path):
    out = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    assert lab("installer", "--version", "9.55.7123.1", "--out", str(out)).stdout.strip() == str(out)
    assert b"9.55.7123.1" in out.read_bytes()


# ---- docs/lab.md: the documented ways to add one's own variables to the lab's inventory work --------------
def _doc_section(title: str) -> str:
    text = (REPO / "docs" / "lab.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def test_lab_md_own_variables_recipes_reach_the_hosts_without_warnings(tmp_path):
    """Each bash block of "The inventory it writes" is run as written in a folder holding the lab's inventory
    at .lab/default/inventory.yml, the doc's named YAML files and a group_vars folder of the user's (the
    ``my_group_vars`` the doc copies); ``ansible-playbook`` is replaced by ``ansible-inventory --list`` with
    the same ``-i`` sources. Ansible must parse every source (no warning) and the variables reach ps01."""
    section = _doc_section("The inventory it writes")
    commands = [b for b in _blocks(section, "bash") if "ansible-playbook" in b]
    assert commands, "docs/lab.md shows no ansible-playbook command with the lab's inventory"
    estate_mod.create(tmp_path / "lab-estate", cs=1, ps=1)
    for number, block in enumerate(commands):
        work = tmp_path / f"recipe{number}"
        (work / ".lab").mkdir(parents=True)
        (work / ".lab" / "default").symlink_to(tmp_path / "lab-estate")
        for yaml_block in _blocks(section, "yaml"):
            name = re.match(r"# (\S+\.ya?ml)\n", yaml_block)
            if name:
                (work / name.group(1)).write_text(yaml_block, encoding="utf-8")
        (work / "my_group_vars").mkdir()
        (work / "my_group_vars" / "process_servers.yml").write_text("asr_env_type: NonVMware\n", encoding="utf-8")
        script = re.sub(r"ansible-playbook (.*?) \S+\.ya?ml[ \t]*$", r"ansible-inventory \1 --list", block, flags=re.M)
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", PATH=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, block + result.stdout + result.stderr
        assert "WARNING" not in result.stderr, block + result.stderr
        hostvars = json.loads(result.stdout)["_meta"]["hostvars"]
        assert hostvars["ps01"].get("asr_env_type") == "NonVMware", block
