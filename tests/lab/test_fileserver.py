"""The lab's file server (lab/fileserver.py): real HTTP(S), Range requests, a token, per-host faults and pricing."""

from __future__ import annotations

import hashlib
import http.client
import time

import pytest
import requests

from lab import estate as estate_mod
from lab import fileserver, link, wsman
from lab.asr.installer import package_bytes
from tests.lab_support import wait_until

pytestmark = pytest.mark.lab

VERSION = "9.55.7123.1"


@pytest.fixture
def files(tmp_path):
    estate = estate_mod.create(tmp_path / "estate", cs=0, ps=2, files_https=True)
    lab = wsman.serve(estate, handler=lambda *_: None)
    try:
        yield estate, estate_mod.read_meta(estate)
    finally:
        lab.shutdown()


def get(estate, meta, host, path, token=None, **kwargs):
    url = fileserver.url(meta, host, path, token)
    return requests.get(url, verify=str(estate_mod.cert_path(estate)), timeout=30, **kwargs)


def test_the_file_server_speaks_http_unless_the_estate_says_https(tmp_path):
    estate = estate_mod.create(tmp_path / "plain", cs=0, ps=1)
    assert estate_mod.files_scheme(estate_mod.read_meta(estate)) == "http"
    inventory = estate_mod.inventory(estate)["all"]["children"]["process_servers"]["hosts"]
    assert inventory["ps01"]["asr_lab_files_url"].startswith("http://127.0.0.1:")


def test_every_host_has_its_own_port_and_the_inventory_names_it(files):
    estate, meta = files
    ports = {meta["hosts"][h]["files_port"] for h in ("ps01", "ps02")}
    assert len(ports) == 2 and not ports & {meta["hosts"][h]["port"] for h in ("ps01", "ps02")}
    inventory = estate_mod.inventory(estate)["all"]["children"]["process_servers"]["hosts"]
    assert inventory["ps01"]["asr_lab_files_url"] == f"https://127.0.0.1:{meta['hosts']['ps01']['files_port']}"


def test_get_head_and_ranges(files):
    estate, meta = files
    data = bytes(range(256)) * 40
    fileserver.publish(estate, "pkg/file.bin", data)
    whole = get(estate, meta, "ps01", "pkg/file.bin")
    assert whole.status_code == 200 and whole.content == data and whole.headers["Accept-Ranges"] == "bytes"
    part = get(estate, meta, "ps01", "pkg/file.bin", headers={"Range": "bytes=1000-"})
    assert part.status_code == 206 and part.content == data[1000:]
    assert part.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    middle = get(estate, meta, "ps01", "pkg/file.bin", headers={"Range": "bytes=10-19"})
    assert middle.status_code == 206 and middle.content == data[10:20]
    past = get(estate, meta, "ps01", "pkg/file.bin", headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
    head = requests.head(fileserver.url(meta, "ps01", "pkg/file.bin"), verify=str(estate_mod.cert_path(estate)))
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(data)) and not head.content
    assert get(estate, meta, "ps01", "pkg/none.bin").status_code == 404
    assert get(estate, meta, "ps01", "../estate.json").status_code == 404
    assert get(estate, meta, "ps01", ".token").status_code == 404


def test_a_token_is_required_when_set_and_never_logged(files):
    estate, meta = files
    fileserver.publish(estate, "p.exe", b"x" * 10)
    fileserver.set_token(estate, "sv=2024&sig=Secret-Token-1")
    assert get(estate, meta, "ps01", "p.exe").status_code == 403
    assert get(estate, meta, "ps01", "p.exe", token="wrong").status_code == 403
    assert get(estate, meta, "ps01", "p.exe", token="sv=2024&sig=Secret-Token-1").content == b"x" * 10
    wire = (estate.path / "wire" / "ps01.jsonl").read_text()
    assert "Secret-Token-1" not in wire and "GET /p.exe" in wire


def test_faults_apply_to_the_host_that_has_them(files):
    estate, meta = files
    data = package_bytes(VERSION, 300_000)
    fileserver.publish(estate, "p.exe", data)
    with estate.open_host("ps01") as host:
        host.faults.update(http_cut_at=0.5, http_wrong_content=True)
    with estate.open_host("ps02") as host:
        host.faults["http_status"] = 404
    assert get(estate, meta, "ps02", "p.exe").status_code == 404
    conn = http.client.HTTPSConnection(
        "127.0.0.1", meta["hosts"]["ps01"]["files_port"], context=_context(estate), timeout=30
    )
    conn.request("GET", "/p.exe")
    response = conn.getresponse()
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        response.read()
    assert fault_consumed(estate, "ps01", "http_cut_at")  # one-shot
    again = get(estate, meta, "ps01", "p.exe")
    assert len(again.content) == len(data) and hashlib.sha256(again.content).digest() != hashlib.sha256(data).digest()
    body = body_entries(estate, "ps01", 2)
    assert body[0]["cut"] and body[0]["bytes_in"] < len(data) and not body[1]["cut"]


def fault_consumed(estate, host: str, knob: str) -> bool:
    """Whether the one-shot ``knob`` left the host's state within 10 s: the file server takes it at once and removes it
    from the state in a thread of its own (lab/fileserver.py take_cut), which can end after the client saw the cut."""

    def gone() -> bool:
        with estate.open_host(host) as state:
            return knob not in state.faults

    return wait_until(gone, 10)


def body_entries(estate, host: str, count: int) -> list[dict]:
    """The wire log's body entries, once ``count`` are there: the server writes one after it sent the body, which can
    be after the client has read it (a loaded machine once made this test read the log one entry early)."""

    def body() -> list[dict]:
        return [e for e in link.read(estate, host) if e["channel"] == "http" and e["what"] == "body"]

    def enough() -> list[dict]:
        found = body()
        return found if len(found) >= count else []

    return wait_until(enough, 10) or body()  # too few: what there is, for the assertion's message


def test_a_declared_package_size_is_added_for_the_share_of_the_file_served(files):
    estate, meta = files
    data = package_bytes(VERSION, 100_000)
    fileserver.publish(estate, "p.exe", data)
    with estate.open_host("ps01") as host:
        host.faults.update(package_virtual_bytes=1_000_000_000, virtual_time="account", bandwidth_mbit=100)
    assert get(estate, meta, "ps01", "p.exe", headers={"Range": "bytes=50000-"}).status_code == 206
    virtual = [e for e in link.read(estate, "ps01") if e.get("virtual_s")]
    assert len(virtual) == 1
    assert virtual[0]["virtual_in"] == int((1_000_000_000 - 100_000) * 50_000 / 100_000)
    assert virtual[0]["virtual_s"] == pytest.approx(virtual[0]["virtual_in"] * 8 / 100e6, rel=1e-3)
    assert virtual[0]["delay_s"] == 0  # accounted, not waited
    assert not [e for e in link.read(estate, "ps02") if e.get("virtual_s")]


def _context(estate):
    import ssl

    return ssl.create_default_context(cafile=str(estate_mod.cert_path(estate)))


def test_with_virtual_time_sleep_the_host_really_waits_for_the_declared_size(files):
    # paced with the real bytes (so the host's own read takes that long), recorded as waited
    estate, meta = files
    data = package_bytes(VERSION, 2_000)
    fileserver.publish(estate, "p.exe", data)
    with estate.open_host("ps01") as host:
        host.faults.update(package_virtual_bytes=2_000_000, bandwidth_mbit=16, virtual_time="sleep")  # 1 s more
    started = time.monotonic()
    assert get(estate, meta, "ps01", "p.exe").content == data
    assert time.monotonic() - started >= 0.9
    # the server records the body after its last write, which the client may have read already
    (virtual,) = wait_until(lambda: [e for e in link.read(estate, "ps01") if e.get("virtual_s")], 5)
    assert virtual["virtual_mode"] == "sleep" and virtual["delay_s"] == pytest.approx(virtual["virtual_s"])
    assert virtual["virtual_s"] == pytest.approx((2_000_000 - 2_000) * 8 / 16e6, rel=0.01)
