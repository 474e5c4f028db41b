"""The WS-Management server driven by pywinrm itself (winrm-wire.md, "WS-Management, as pywinrm uses it")."""

from __future__ import annotations

import base64
import json
import time

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError, WSManFaultError

from lab import estate as estate_mod
from lab import journal, link, payload, wsman

pytestmark = pytest.mark.lab


def protocol(estate, host="ps01", *, password=None, ca=None, scheme=None):
    info = estate_mod.hosts(estate)[host]
    meta = estate_mod.read_meta(estate)
    scheme = scheme or meta["scheme"]
    kwargs = {}
    if scheme == "https":
        kwargs = {"server_cert_validation": "validate", "ca_trust_path": str(ca or estate_mod.cert_path(estate))}
    return winrm.Protocol(
        f"{scheme}://127.0.0.1:{info['port']}/wsman",
        transport="basic",
        username=info["username"],
        password=password if password is not None else info["password"],
        operation_timeout_sec=20,
        read_timeout_sec=30,
        **kwargs,
    )


def protocol_with_faults(estate, host="ps01", **faults):
    """A client of ``host`` once ``faults`` are set in its state (lab/wsman.py reads them on each request)."""
    with estate.open_host(host) as state:
        state.faults.update(faults)
    return protocol(estate, host)


def run(proto, shell_id, command, args=(), stdin=None):
    command_id = proto.run_command(shell_id, command, args, console_mode_stdin=stdin is None)
    if stdin is not None:
        proto.send_command_input(shell_id, command_id, stdin, end=True)
    out, err, rc = proto.get_command_output(shell_id, command_id)
    proto.cleanup_command(shell_id, command_id)
    return out, err, rc


def encoded(script):
    return ["-NoProfile", "-NonInteractive", "-EncodedCommand", base64.b64encode(script.encode("utf-16-le")).decode()]


def test_basic_auth_https_with_validation_and_shell_lifecycle(estate, served):
    proto = protocol(estate)
    shell_id = proto.open_shell(codepage=65001)
    out, err, rc = run(proto, shell_id, "ipconfig", ["/all"])
    assert rc == 0 and err == b""
    assert json.loads(out) == {"host": "ps01", "kind": "raw", "script": "ipconfig /all"}
    out, err, rc = run(proto, shell_id, "PowerShell", encoded("Write-Output hi; exit 3"))
    assert rc == 3 and err == b"raw-stderr"
    assert json.loads(out)["script"] == "Write-Output hi; exit 3"
    proto.close_shell(shell_id)
    with pytest.raises(WSManFaultError, match="shell was not found"):
        proto.run_command(shell_id, "ipconfig")


def test_each_host_has_its_own_port_and_credentials(estate, served):
    hosts = estate_mod.hosts(estate)
    assert set(hosts) == {"cs01", "ps01", "ps02"}
    assert len({h["port"] for h in hosts.values()}) == 3
    assert served.ports == {name: h["port"] for name, h in hosts.items()}
    proto = protocol(estate, "cs01")
    shell_id = proto.open_shell()
    assert json.loads(run(proto, shell_id, "hostname")[0])["host"] == "cs01"
    proto.close_shell(shell_id)
    # ps02's password does not open cs01
    wrong = protocol(estate, "cs01", password=hosts["ps02"]["password"])
    with pytest.raises(InvalidCredentialsError):
        wrong.open_shell()


def test_wrong_password_is_401_with_basic_challenge(estate, served):
    with pytest.raises(InvalidCredentialsError):
        protocol(estate, password="not-it").open_shell()
    port = estate_mod.hosts(estate)["ps01"]["port"]
    response = requests.post(
        f"https://127.0.0.1:{port}/wsman", data=b"<x/>", verify=str(estate_mod.cert_path(estate)), timeout=10
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_wrong_ca_fails_validation(estate, served, tmp_path):
    other_cert, _ = estate_mod.generate_certificate(tmp_path / "other-ca")
    with pytest.raises(requests.exceptions.SSLError):
        protocol(estate, ca=other_cert).open_shell()


def test_plain_http_option(http_estate):
    lab = wsman.serve(http_estate, handler=_echo())
    try:
        proto = protocol(http_estate, "ps01")
        shell_id = proto.open_shell()
        assert json.loads(run(proto, shell_id, "whoami")[0])["script"] == "whoami"
        proto.close_shell(shell_id)
    finally:
        lab.shutdown()
    inventory = estate_mod.inventory(http_estate)["all"]["children"]["process_servers"]["hosts"]["ps01"]
    assert inventory["ansible_winrm_scheme"] == "http"
    assert "ansible_winrm_ca_trust_path" not in inventory


def _echo():
    from tests.lab.conftest import echo_handler

    return echo_handler


def test_stdin_bootstrap_payload_reaches_the_handler_and_journal(estate, served):
    bootstrap = json.dumps({"name": "exec_wrapper", "script": "", "params": {}}).encode()
    manifest = {
        "scripts": {},
        "actions": [
            {
                "name": "module_wrapper.ps1",
                "params": {
                    "Script": "ansible_collections.ansible.windows.plugins.modules.win_ping.ps1",
                    "Variables": [{"Name": "complex_args", "Value": {"data": "x", "_ansible_check_mode": True}}],
                },
            }
        ],
        "signed_hashlist": [],
    }
    stdin = bootstrap + payload.SEPARATOR + json.dumps(manifest).encode()
    proto = protocol(estate)
    shell_id = proto.open_shell()
    # several Send chunks, as the winrm plugin streams large payloads
    command_id = proto.run_command(shell_id, "PowerShell", encoded("$input | & $cmd"), console_mode_stdin=False)
    proto.send_command_input(shell_id, command_id, stdin[:40])
    proto.send_command_input(shell_id, command_id, stdin[40:], end=True)
    out, _err, rc = proto.get_command_output(shell_id, command_id)
    proto.close_shell(shell_id)
    assert rc == 0
    assert json.loads(out) == {
        "host": "ps01",
        "kind": "module",
        "module": "ansible.windows.win_ping",
        "args": {"data": "x"},
    }
    (entry,) = journal.read(estate, "ps01")
    assert entry["op"] == "module" and entry["identity"] == "ansible.windows.win_ping"
    assert entry["args"] == {"data": "x"} and entry["rc"] == 0 and entry["duration_s"] >= 0


def test_undecodable_command_fails_loudly(estate, served):
    bogus = json.dumps({"name": "exec_wrapper", "script": "", "params": {}}).encode()
    manifest = json.dumps({"scripts": {}, "actions": [{"name": "mystery.ps1", "params": {}}]}).encode()
    proto = protocol(estate)
    shell_id = proto.open_shell()
    _out, err, rc = run(proto, shell_id, "PowerShell", encoded("$input"), stdin=bogus + payload.SEPARATOR + manifest)
    proto.close_shell(shell_id)
    assert rc == 1 and b"mystery.ps1" in err
    assert journal.read(estate, "ps01")[-1]["op"] == "undecodable"


def test_drop_connection_on_nth_call(estate, served):
    proto = protocol_with_faults(estate, drop_connection_at=2)
    shell_id = proto.open_shell()
    assert run(proto, shell_id, "call-1")[2] == 0
    with estate.open_host("ps01") as host:
        assert host.faults["drop_connection_at"] == 1  # counted down in the state
    command_id = proto.run_command(shell_id, "call-2")
    with pytest.raises(requests.exceptions.ConnectionError):
        proto.get_command_output(shell_id, command_id)
    # Like a restarted WinRM service: the shell is gone, a new one works, the fault was one-shot.
    with pytest.raises(WSManFaultError):
        proto.run_command(shell_id, "call-3")
    proto2 = protocol(estate)
    shell2 = proto2.open_shell()
    assert run(proto2, shell2, "call-3")[2] == 0
    proto2.close_shell(shell2)
    with estate.open_host("ps01") as host:
        assert "drop_connection_at" not in host.faults
    entries = journal.read(estate, "ps01")
    assert [e.get("dropped", False) for e in entries] == [False, True, False]
    assert entries[1]["rc"] is None


def test_drop_connection_on_named_script_identity(estate, served):
    proto = protocol_with_faults(estate, "ps02", drop_connection_at="probe_ps v1")
    shell_id = proto.open_shell()
    assert run(proto, shell_id, "PowerShell", encoded("Get-Date"))[2] == 0
    command_id = proto.run_command(shell_id, "PowerShell", encoded("# asr.process_server script: probe_ps v1\n$x = 1"))
    with pytest.raises(requests.exceptions.ConnectionError):
        proto.get_command_output(shell_id, command_id)
    assert journal.read(estate, "ps02")[-1]["identity"] == "probe_ps v1"


def test_latency_is_one_round_trip_per_request_and_per_handshake(estate, served):
    # lab/link.py: every WS-Management POST costs latency_ms once, however the command is split; a new connection
    # pays its TCP round trip and its TLS handshake (1 round trip for TLS 1.3, 2 for 1.2).
    proto = protocol_with_faults(estate, latency_ms=400)
    started = time.monotonic()
    shell_id = proto.open_shell()
    run(proto, shell_id, "slow")  # Command, Receive, Signal
    proto.close_shell(shell_id)
    elapsed = time.monotonic() - started
    wire = link.read(estate, "ps01")
    requests_ = [e for e in wire if e["channel"] == "wsman" and not e["what"].startswith("connect")]
    assert [e["what"] for e in requests_] == ["Create", "Command", "Receive", "Signal", "Delete"]
    assert all(e["round_trips"] == 1 and e["delay_s"] >= 0.4 for e in requests_)
    connects = [e for e in wire if e["what"].startswith("connect")]
    assert len(connects) == 1 and connects[0]["round_trips"] == 1 + {"connect (TLSv1.3)": 1}.get(connects[0]["what"], 2)
    assert elapsed >= 0.4 * (len(requests_) + connects[0]["round_trips"])
    assert all(e["bytes_in"] > 0 and e["bytes_out"] > 0 for e in requests_)
    assert journal.read(estate, "ps01")[-1]["identity"] == "raw"


def test_a_command_longer_than_the_operation_timeout_is_waited_for_with_receive_retries(estate, slow_served):
    # Real WinRM answers a Receive after at most its OperationTimeout (a w:TimedOut fault while the command still
    # runs) and the client sends the Receive again; the HTTP request never outlives the client's read timeout. A
    # command that takes 3 s against a 1 s operation timeout and a 2 s read timeout must therefore complete.
    info = estate_mod.hosts(estate)["ps01"]
    proto = winrm.Protocol(
        f"https://127.0.0.1:{info['port']}/wsman",
        transport="basic",
        username=info["username"],
        password=info["password"],
        server_cert_validation="validate",
        ca_trust_path=str(estate_mod.cert_path(estate)),
        operation_timeout_sec=1,
        read_timeout_sec=2,
    )
    shell_id = proto.open_shell()
    started = time.monotonic()
    out, _err, rc = run(proto, shell_id, "long-running")
    assert rc == 0 and json.loads(out)["script"] == "long-running"
    assert time.monotonic() - started >= 3
    assert len(journal.read(estate, "ps01")) == 1  # several Receives, one remote call
    proto.close_shell(shell_id)
