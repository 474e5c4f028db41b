"""Transport security: the examples and defaults use WinRM over HTTPS with certificate validation, and real
ansible refuses a wrong password (401 -> unreachable, authentication error) and a certificate signed by another
CA (SSL verification error) against the lab."""

from __future__ import annotations

import pathlib
import re
import subprocess

import pytest
import registry
import rel_helpers as rh
import yaml

from lab.estate import generate_certificate
from tests.lab_support import run_ansible

SECTION = "transport"
registry.section(
    SECTION,
    "Transport security",
    "Static checks over everything a user copies (example inventory, docs, Molecule scenarios, the lab's "
    "inventory writer) and two refusals proven with real `ansible` against the lab.",
    order=30,
)

SCANNED = ["inventories/example", "docs", "molecule", "lab/estate.py", "README.md", "playbooks", "roles"]
IGNORE_RE = re.compile(r"(cert_validation|validate_certs)\s*[:=]\s*['\"]?(ignore|false|no)\b", re.I)
HTTP_RE = re.compile(r"(ansible_winrm_scheme|winrm_scheme)\s*[:=]\s*['\"]?http\b", re.I)


def files_under(rel: str) -> list[pathlib.Path]:
    path = rh.ROOT / rel
    if path.is_file():
        return [path]
    skip = {"reliability.md"}
    return [
        p
        for p in sorted(path.rglob("*"))
        if p.is_file() and p.suffix in (".yml", ".yaml", ".md", ".py", ".cfg", ".ini", ".j2") and p.name not in skip
    ]


def test_no_example_or_default_disables_certificate_validation():
    with registry.case(
        SECTION, "no cert_validation ignore/false in examples, docs, molecule, lab inventory", group="static"
    ):
        offenders = []
        for rel in SCANNED:
            for path in files_under(rel):
                for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                    if IGNORE_RE.search(line) or HTTP_RE.search(line):
                        offenders.append(f"{path.relative_to(rh.ROOT)}:{n}: {line.strip()}")
        assert not offenders, offenders
    registry.fact(SECTION, "Trees scanned for disabled validation / plain HTTP", ", ".join(SCANNED))


def test_example_inventory_uses_https_with_validation():
    with registry.case(SECTION, "example inventory: https, port 5986, validate, CA trust path", group="static"):
        winrm = yaml.safe_load((rh.ROOT / "inventories/example/group_vars/all/winrm.yml").read_text(encoding="utf-8"))
        assert winrm["ansible_winrm_scheme"] == "https" and winrm["ansible_port"] == 5986
        assert winrm["ansible_winrm_server_cert_validation"] == "validate"
        assert winrm.get("ansible_winrm_ca_trust_path")
        assert winrm["ansible_winrm_transport"] in ("kerberos", "ntlm", "credssp", "certificate")  # not basic


def test_lab_inventory_validates_the_certificate(tmp_path):
    with registry.case(SECTION, "lab inventory: https + validate + CA trust path on every host", group="static"):
        with rh.served(tmp_path / "estate", "fresh", ps=1) as estate:
            inv = yaml.safe_load((estate.path / "inventory.yml").read_text(encoding="utf-8"))
        hosts = {}
        for group in inv["all"]["children"].values():
            hosts.update(group["hosts"])
        for name, hv in hosts.items():
            assert hv["ansible_winrm_scheme"] == "https", name
            assert hv["ansible_winrm_server_cert_validation"] == "validate", name
            assert pathlib.Path(hv["ansible_winrm_ca_trust_path"]).is_file(), name


def ping(inventory: pathlib.Path, host: str, *extra: str) -> subprocess.CompletedProcess:
    args = (host, "-m", "ansible.windows.win_ping", *extra)
    return run_ansible("ansible", inventory, *args, env=rh.ansible_env(), cwd=rh.ROOT, timeout=180)


@pytest.mark.lab
def test_lab_refuses_wrong_password_and_wrong_ca(tmp_path):
    other_ca, _key = generate_certificate(tmp_path / "other-ca")
    with rh.served(tmp_path / "estate", "fresh", ps=1) as estate:
        inventory = estate.path / "inventory.yml"
        good = ping(inventory, "ps01")
        wrong_pw = ping(inventory, "ps01", "-e", "ansible_password=Not-The-Password-1!")
        wrong_ca = ping(inventory, "ps01", "-e", f"ansible_winrm_ca_trust_path={other_ca}")
        journal = rh.journal_entries(estate, "ps01")
    with registry.case(SECTION, "control: right password and CA -> win_ping succeeds", group="lab"):
        assert good.returncode == 0 and "pong" in good.stdout, good.stdout + good.stderr
    with registry.case(SECTION, "wrong password -> unreachable, 401 / credentials rejected", group="lab"):
        out = wrong_pw.stdout + wrong_pw.stderr
        assert wrong_pw.returncode == 4 and "UNREACHABLE" in out, out
        assert re.search(r"401|credentials were rejected|unauthori[sz]ed", out, re.I), out
        assert "Not-The-Password-1!" not in out
    with registry.case(SECTION, "certificate from another CA -> SSL verification error", group="lab"):
        out = wrong_ca.stdout + wrong_ca.stderr
        assert wrong_ca.returncode == 4 and "UNREACHABLE" in out, out
        assert re.search(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLError", out), out
    with registry.case(
        SECTION, "refused connections ran nothing on the host (journal: the control's ping only)", group="lab"
    ):
        assert [e.get("identity") for e in journal] == ["ansible.windows.win_ping"], [
            e.get("identity") for e in journal
        ]
