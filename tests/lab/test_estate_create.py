"""Creating an estate again in the same directory starts from a clean slate (no stale process log)."""

from __future__ import annotations

from lab import estate as estate_mod


def test_create_twice_clears_the_process_log(tmp_path):
    estate = estate_mod.create(tmp_path / "e", cs=1, ps=1)
    name = estate.host_names()[0]
    with estate.open_host(name) as host:
        host.record_process("net start obengine", user="Administrator")
    assert estate.processes_path(name).read_text(encoding="utf-8").strip()

    estate = estate_mod.create(tmp_path / "e", cs=1, ps=1)
    assert not estate.processes_path(name).exists()


def test_large_estates_get_distinct_ports_and_valid_addresses(tmp_path):
    import ipaddress

    layout = estate_mod.default_layout(1, 200)
    ips = [ip for _, _, ip in layout]
    assert len(set(ips)) == len(ips)
    assert all(ipaddress.IPv4Address(ip) for ip in ips)
    assert dict((n, ip) for n, _, ip in layout)["ps155"] == "10.0.0.255"

    taken: set[int] = set()
    ports = [estate_mod.free_port(taken) for _ in range(300)]
    assert len(set(ports)) == 300 and taken == set(ports)
    # never where the kernel picks outgoing connections' source ports, which could take one before the server binds
    low, high = estate_mod._ephemeral_ports()
    assert not [port for port in ports if low <= port <= high or port < estate_mod.PORT_FLOOR]


def test_cli_writes_an_installer_package_the_hosts_recognise(tmp_path):
    from lab import cli
    from lab.asr import installer

    out = tmp_path / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    assert cli.main(["installer", "--version", "9.55.7123.1", "--out", str(out)]) == 0
    assert out.read_bytes() == installer.package_bytes("9.55.7123.1")
