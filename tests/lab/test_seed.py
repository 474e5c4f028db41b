"""Seeds: every shipped seed loads and builds the states it promises; the format's survey form imports."""

from __future__ import annotations

import pytest

from lab import seed
from lab.asr import cs as cs_mod
from lab.asr import products
from lab.state import Estate, new_host

CURRENT = "9.55.7123.1"


def _estate(tmp_path, cs=1, ps=3):
    estate = Estate(tmp_path)
    from lab.estate import default_layout

    for name, role, ip in default_layout(cs, ps):
        estate.save_new_host(new_host(name, ip, role, password="Keep-Me-1!"))
    return estate


def test_available():
    assert {"fresh", "installed-old", "drifted-proxy", "disconnected", "mixed"} <= set(seed.available())


@pytest.mark.parametrize("name", ["fresh", "installed-old", "drifted-proxy", "disconnected", "mixed"])
def test_every_seed_applies(tmp_path, name):
    estate = _estate(tmp_path)
    written = seed.apply(estate, name)
    assert "cs01" in written
    cs = estate.read_host("cs01")
    assert products.is_configuration_server(cs)
    assert products.installed_version(cs, "csps") == CURRENT
    assert products.cs_passphrase(cs)
    assert estate.read_host("ps01").data["credentials"]["password"] == "Keep-Me-1!"


def test_fresh(tmp_path):
    estate = _estate(tmp_path, ps=4)
    seed.apply(estate, "fresh")
    for name in ("ps01", "ps04"):
        host = estate.read_host(name)
        assert products.installed_versions(host) == {}
        assert host.facts["vmware_tools"] is True
    assert estate.read_host("cs01").asr["registered_process_servers"] == {}


def test_installed_old(tmp_path):
    estate = _estate(tmp_path)
    seed.apply(estate, "installed-old")
    ps = estate.read_host("ps02")
    assert products.installed_versions(ps) == dict.fromkeys(products.COMPONENTS, "9.52.6801.1")
    assert ps.service("tmansvc")["state"] == "running"
    records = estate.read_host("cs01").asr["registered_process_servers"]
    assert set(records) == {"10.0.0.101", "10.0.0.102", "10.0.0.103"}
    assert records["10.0.0.102"]["version"] == "9.52.6801.1"


def test_drifted_proxy(tmp_path):
    estate = _estate(tmp_path)
    seed.apply(estate, "drifted-proxy")
    ps = estate.read_host("ps01")
    assert ps.reg_get(r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9", "Proxy_Type") == "Custom"
    assert ps.asr["mars_proxy"]["ProxyServer"] == "http://old-proxy.corp.example"


def test_disconnected(tmp_path):
    estate = _estate(tmp_path)
    seed.apply(estate, "disconnected")
    assert estate.read_host("ps01").data["reachable"] is False
    with estate.open_host("cs01") as cs:
        view = cs_mod.refresh_heartbeats(cs)
    assert view["10.0.0.101"]["heartbeat_stale"] is True
    assert view["10.0.0.102"]["heartbeat_stale"] is False


def test_mixed_adds_hosts_and_scales(tmp_path):
    estate = _estate(tmp_path, ps=3)
    written = seed.apply(estate, "mixed")
    assert written == ["cs01", "ps01", "ps02", "ps03", "ps04", "ps05"]
    ps03 = estate.read_host("ps03")
    assert products.installed_version(ps03, "csps") == "9.53.6904.1"
    assert ps03.is_file(r"C:\ProgramData\ASR\agent\cdpcli.exe")
    assert ps03.read_text(r"E:\Microsoft Azure Site Recovery\home\svsystems\etc\amethyst.conf")
    assert products.installed_versions(estate.read_host("ps01")) == {}


def test_counts_create_layout_hosts(tmp_path):
    estate = Estate(tmp_path)
    written = seed.apply(estate, "fresh", cs=1, ps=2)
    assert written == ["cs01", "ps01", "ps02"]


def test_survey_form_and_errors(tmp_path):
    survey = tmp_path / "survey.yml"
    survey.write_text(
        """
hosts:
  - name: cs01
    role: configuration_server
    ip: 10.0.0.11
    asr: {version: 9.55.7123.1}
  - name: psx
    role: process_server
    ip: 10.1.2.3
    hostname: ASRPS-07
    disks:
      C: {size_gb: 100, free_gb: 50, filesystem: NTFS, fixed: true}
      F: {size_gb: 800, free_gb: 700, filesystem: NTFS, fixed: true}
    asr:
      cs_ip: 10.0.0.11
      install_location: 'F:\\'
      products:
        - {DisplayName: Microsoft Azure Site Recovery Configuration/Process Server, DisplayVersion: 9.54.7012.1}
        - DisplayName: Microsoft Azure Site Recovery Configuration/Process Server Dependencies
          DisplayVersion: 9.54.7012.1
        - {DisplayName: Microsoft Azure Recovery Services Agent, DisplayVersion: 9.54.7012.1}
        - {DisplayName: Something Else, DisplayVersion: 1.0}
""",
        encoding="utf-8",
    )
    estate = Estate(tmp_path / "e")
    seed.apply(estate, survey)
    psx = estate.read_host("psx")
    assert psx.data["hostname"] == "ASRPS-07"
    assert set(products.installed_versions(psx)) == {"csps", "dependencies", "mars"}
    assert "10.1.2.3" in estate.read_host("cs01").asr["registered_process_servers"]
    with pytest.raises(seed.SeedError, match="unknown seed"):
        seed.apply(estate, "nope")
    bad = tmp_path / "bad.yml"
    bad.write_text("hosts:\n  - name: p\n    ip: 1.1.1.1\n    asr: {version: 9.55.7123.1}\n", encoding="utf-8")
    with pytest.raises(seed.SeedError, match="configuration server"):
        seed.apply(Estate(tmp_path / "f"), bad)
