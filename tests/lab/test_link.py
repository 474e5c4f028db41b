"""The link model (lab/link.py): bytes and round trips priced per host, and the declared package size of a put_file."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from lab import estate as estate_mod
from lab import link, wsman
from lab.asr.installer import package_bytes

BIN = pathlib.Path(sys.executable).parent
ROOT = pathlib.Path(__file__).resolve().parents[2]
VERSION = "9.55.7123.1"


# ---- the arithmetic -----------------------------------------------------------------------------------------------
def test_put_file_wire_bytes_follow_ansible_core_chunks_and_double_base64():
    # ansible-core winrm.py: 250,000-byte chunks, base64 + CRLF, base64 again in the SOAP Stream
    assert link.put_file_wire_bytes(250_000) == (1, 444_452)
    assert link.put_file_wire_bytes(250_001) == (2, 444_452 + 8)
    chunks, payload = link.put_file_wire_bytes(1_500_000_000)
    assert chunks == 6000
    assert payload == 6000 * 444_452  # 1.78 bytes on the wire per byte of the file


def test_link_params_from_the_host_faults():
    params = link.LinkParams.from_faults(
        {"latency_ms": 50, "bandwidth_mbit": 100, "package_virtual_bytes": 1_500_000_000, "virtual_time": "account"}
    )
    assert params.rtt_s == 0.05
    assert params.seconds_for(12_500_000) == pytest.approx(1.0)  # 100 Mbit/s = 12.5 MB/s
    assert params.virtual_time == link.ACCOUNT
    assert link.LinkParams.from_faults({}).seconds_for(10**9) == 0.0  # no bandwidth: unlimited
    assert link.LinkParams.from_faults({"virtual_time": "bogus"}).virtual_time == link.SLEEP


def test_put_file_virtual_adds_the_declared_sizes_extra_sends():
    params = link.LinkParams(latency_ms=50, bandwidth_mbit=100, package_virtual_bytes=1_000_000)
    real = package_bytes(VERSION)
    sends = link.SendStats(requests=2, request_bytes=3_000, response_bytes=1_000, payload_bytes=400)
    extra = link.put_file_virtual(params, len(real), sends)
    assert extra is not None
    assert extra.requests == 3  # 4 chunks for 1 MB, 1 really sent
    per_send_overhead = (3_000 - 400) / 2
    payload = link.put_file_wire_bytes(1_000_000)[1] - link.put_file_wire_bytes(len(real))[1]
    assert extra.bytes_in == payload + int(3 * per_send_overhead)
    assert extra.seconds == pytest.approx(3 * 0.05 + extra.bytes_in * 8 / 100e6 + extra.bytes_out * 8 / 100e6)
    assert link.put_file_virtual(link.LinkParams(), len(real), sends) is None  # nothing declared


def test_transfers_in_one_direction_queue_behind_each_other(tmp_path):
    estate = estate_mod.create(tmp_path / "estate", cs=0, ps=1)
    with estate.open_host("ps01") as host:
        host.faults["bandwidth_mbit"] = 8  # 1 MB/s
    wire = link.Link(estate, "ps01")
    first = wire.transfer_delay("in", 100_000)
    second = wire.transfer_delay("in", 100_000)
    other_way = wire.transfer_delay("out", 100_000)
    assert first == pytest.approx(0.1, abs=0.01)
    assert second == pytest.approx(0.2, abs=0.01)  # behind the first
    assert other_way == pytest.approx(0.1, abs=0.01)  # full duplex


def test_link_params_follow_a_change_of_the_host_state(tmp_path):
    estate = estate_mod.create(tmp_path / "estate", cs=0, ps=1)
    wire = link.Link(estate, "ps01")
    assert wire.params().latency_ms == 0
    time.sleep(0.01)
    with estate.open_host("ps01") as host:
        host.faults["latency_ms"] = 25
    assert wire.params().latency_ms == 25


# ---- over real WinRM: a put_file of the package, really big and declared big -----------------------------------------
def _copy(estate, src: pathlib.Path, dest: str) -> None:
    env = {**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        [str(BIN / "ansible"), "-i", str(estate_mod.inventory_path(estate)), "ps01", "-m", "ansible.windows.win_copy",
         "-a", json.dumps({"src": str(src), "dest": dest})],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _sends(estate) -> list[dict]:
    return [e for e in link.read(estate, "ps01") if e["channel"] == "wsman" and e["what"] in ("Send", "put_file")]


@pytest.mark.lab
def test_a_declared_package_size_costs_what_the_real_size_costs(tmp_path):
    """A 600 kB package really sent and the small package declared at 600 kB: the same Send requests and (within the
    envelopes' few bytes) the same bytes on the wire, in the wire log."""
    size = 600_000
    estate = estate_mod.create(tmp_path / "estate", cs=0, ps=1)
    server = wsman.serve(estate)
    try:
        big = tmp_path / "big.exe"
        big.write_bytes(package_bytes(VERSION, size))
        small = tmp_path / "small.exe"
        small.write_bytes(package_bytes(VERSION))

        _copy(estate, big, r"C:\Windows\Temp\big.exe")
        real_sends = _sends(estate)
        link.clear(estate)

        with estate.open_host("ps01") as host:
            host.faults.update(package_virtual_bytes=size, virtual_time="account")
        _copy(estate, small, r"C:\Windows\Temp\small.exe")
        small_sends = _sends(estate)
        virtual = [e for e in link.read(estate, "ps01") if e["what"] == "put_file (declared package size)"]
    finally:
        server.shutdown()
    real_put = [e for e in real_sends if e["what"] == "put_file"]
    assert len(real_put) == 1 and real_put[0]["package"] and real_put[0]["declared_bytes"] == 0
    # one Send for the bootstrap (winrm_put_file.ps1 and its parameters), then one per chunk
    assert real_put[0]["sends"] == 1 + link.put_file_wire_bytes(size)[0] == 4
    small_put = [e for e in small_sends if e["what"] == "put_file"]
    assert len(small_put) == 1 and small_put[0]["sends"] == 2 and small_put[0]["declared_bytes"] == size
    assert len(virtual) == 1
    entry = virtual[0]
    assert entry["virtual_requests"] == 2  # 3 chunks, 1 really sent
    modelled_in = entry["virtual_in"] + small_put[0]["send_bytes"]
    assert abs(modelled_in - real_put[0]["send_bytes"]) < 0.01 * modelled_in
    assert entry["virtual_mode"] == "account" and entry["delay_s"] == 0  # recorded, not waited
