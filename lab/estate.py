"""Estate-level metadata: ``estate.json`` (hosts, ports, credentials, TLS paths, server pid), create/load/reset,
and the Ansible inventory (DESIGN.md, "Estate directory").

``estate.json`` shape::

    {"created": <epoch>, "scheme": "https" | "http", "seed": <name or null>,
     "tls": {"cert": "tls/cert.pem", "key": "tls/key.pem"},
     "server": {"pid": <int or null>, "log": "server.log"},
     "hosts": {"<name>": {"role": "...", "ip": "...", "port": <int>, "files_port": <int>, "username": "...",
                         "password": "..."}}}

``files_port``: the host's own port on the lab's file server (lab/fileserver.py), its network link to it.

Host *state* (files, registry, services, faults...) lives in ``hosts/<name>.json`` and belongs to
``lab.state``; this module only creates hosts with ``lab.state.new_host`` defaults and hands over to
``lab.seed.apply`` when a seed is named and that module exists.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import pathlib
import secrets
import socket
import time
from typing import Any

from lab import journal
from lab.state import Estate, new_host

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_ROOT = REPO_ROOT / ".lab"
META_FILE = "estate.json"

GROUPS = {"configuration_server": "configuration_servers", "process_server": "process_servers"}


def default_dir(name: str = "default") -> pathlib.Path:
    return DEFAULT_ROOT / name


# ---- metadata ----------------------------------------------------------------------------------------------
def meta_path(estate: Estate) -> pathlib.Path:
    return estate.path / META_FILE


def read_meta(estate: Estate) -> dict[str, Any]:
    path = meta_path(estate)
    if not path.is_file():
        raise FileNotFoundError(f"{estate.path} is not a lab estate (no {META_FILE}); run `python -m lab up`")
    return json.loads(path.read_text(encoding="utf-8"))


def write_meta(estate: Estate, meta: dict[str, Any]) -> None:
    path = meta_path(estate)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def load(path: str | os.PathLike[str]) -> tuple[Estate, dict[str, Any]]:
    estate = Estate(path)
    return estate, read_meta(estate)


def ports(meta: dict[str, Any]) -> list[int]:
    """Every port the estate's server listens on: each host's WinRM port and the Azure side's (lab/azure.py)."""
    found = [int(h["port"]) for h in meta["hosts"].values()]
    if meta.get("azure"):
        found.append(int(meta["azure"]["port"]))
    return found


def hosts(estate: Estate) -> dict[str, dict[str, Any]]:
    """Host name -> {role, ip, port, username, password}."""
    return read_meta(estate)["hosts"]


def cert_path(estate: Estate, meta: dict[str, Any] | None = None) -> pathlib.Path:
    meta = meta or read_meta(estate)
    return estate.path / meta["tls"]["cert"]


def key_path(estate: Estate, meta: dict[str, Any] | None = None) -> pathlib.Path:
    meta = meta or read_meta(estate)
    return estate.path / meta["tls"]["key"]


# ---- creation ----------------------------------------------------------------------------------------------
def create(
    path: str | os.PathLike[str],
    *,
    cs: int = 1,
    ps: int = 3,
    seed: str | None = None,
    http: bool = False,
    files_https: bool = False,
) -> Estate:
    """Create (or re-create) an estate directory: TLS material, host states, free ports, inventory.

    ``files_https``: the lab's file server speaks HTTPS with the estate's certificate (default HTTP, files_scheme)."""
    estate = Estate(path)
    estate.path.mkdir(parents=True, exist_ok=True)
    generate_certificate(estate.path / "tls")
    meta: dict[str, Any] = {
        "created": time.time(),
        "scheme": "http" if http else "https",
        "files_https": bool(files_https),
        "seed": seed,
        "layout": {"cs": cs, "ps": ps},
        "tls": {"cert": "tls/cert.pem", "key": "tls/key.pem"},
        "server": {"pid": None, "log": "server.log"},
        "hosts": {},
    }
    from lab import azure

    meta["azure"] = azure.new_meta(free_port())  # the vault's side (lab/azure.py), on its own port
    azure.write_client_certificate(estate, meta)
    azure.reset(estate)
    for stale in estate.host_names():
        estate.host_path(stale).unlink(missing_ok=True)
        estate.processes_path(stale).unlink(missing_ok=True)  # a new estate starts with an empty process log
    write_meta(estate, meta)
    populate_hosts(estate, meta)
    journal.clear(estate)
    write_inventory(estate)
    return estate


_CS_BASE = ipaddress.IPv4Address("10.0.0.10")
_PS_BASE = ipaddress.IPv4Address("10.0.0.100")


def default_layout(cs: int, ps: int) -> list[tuple[str, str, str]]:
    """(name, role, emulated IP) of the default hosts: cs01 = 10.0.0.11.., ps01 = 10.0.0.101.., counting on past
    10.0.0.255 into 10.0.1.x for large estates (so ps156 is 10.0.1.0, a valid address)."""
    layout = [(f"cs{i:02d}", "configuration_server", str(_CS_BASE + i)) for i in range(1, cs + 1)]
    layout += [(f"ps{i:02d}", "process_server", str(_PS_BASE + i)) for i in range(1, ps + 1)]
    return layout


def populate_hosts(estate: Estate, meta: dict[str, Any]) -> None:
    """(Re)create every host's state: ``lab.state.new_host`` defaults, then the seed when one is named.

    Keeps each known host's port and password (a running server keeps serving them); new hosts a seed adds
    get a free port and credentials.
    """
    layout = meta.get("layout", {"cs": 1, "ps": 3})
    known = meta["hosts"]
    for name, role, ip in default_layout(layout["cs"], layout["ps"]):
        password = known.get(name, {}).get("password") or _new_password()
        estate.save_new_host(new_host(name, ip, role, username="Administrator", password=password))
    if meta.get("seed"):
        _apply_seed(estate, meta["seed"])
    # Host states are authoritative for role/ip/credentials (a seed may change them); ports are estate-level.
    updated: dict[str, dict[str, Any]] = {}
    taken = {entry[key] for entry in known.values() for key in ("port", "files_port") if entry.get(key)}
    if meta.get("azure"):
        taken.add(int(meta["azure"]["port"]))
    for name in estate.host_names():
        host = estate.read_host(name)
        creds = host.data.get("credentials", {})
        updated[name] = {
            "role": host.role,
            "ip": host.ip,
            "port": known.get(name, {}).get("port") or free_port(taken),
            # lab/fileserver.py: the file server as this host reaches it (one port per host = one link per host)
            "files_port": known.get(name, {}).get("files_port") or free_port(taken),
            "username": creds.get("username", "Administrator"),
            "password": creds.get("password", ""),
        }
    meta["hosts"] = updated
    write_meta(estate, meta)


def _apply_seed(estate: Estate, seed_name: str) -> None:
    try:
        from lab import seed as seed_module  # owned by another engineer; optional until it lands
    except ImportError as exc:
        raise RuntimeError(f"--seed {seed_name!r} given but lab.seed is not available: {exc}") from exc
    seed_module.apply(estate, seed_name)


def reset(estate: Estate) -> None:
    """Re-create host states from the seed (ports and passwords kept) and clear the journals."""
    meta = read_meta(estate)
    for name in estate.host_names():
        estate.processes_path(name).unlink(missing_ok=True)
    populate_hosts(estate, meta)
    journal.clear(estate)
    if "azure" in meta:
        from lab import azure

        azure.reset(estate)
    write_inventory(estate)


def _new_password() -> str:
    # Windows complexity rules: upper, lower, digit, symbol.
    return f"Lab-{secrets.token_hex(6)}-Pw1!"


PORT_FLOOR = 10000  # below this: well-known and registered services' ports


def free_port(taken: set[int] | None = None) -> int:
    """A port free on 127.0.0.1 now, not in ``taken`` (which it joins), and outside the kernel's ephemeral range.

    The kernel takes the source port of every outgoing connection (each WinRM client's, every test's) and any port
    0 bind from that range, so a port found free there could be in use again before the server bound it: a test
    run with 4 xdist workers failed once on EADDRINUSE. Outside it only another estate can take the port, and it
    picks at random. An estate tracks what it already assigned, as nothing listens on it yet."""
    taken = set() if taken is None else taken
    low, high = _ephemeral_ports()
    spans = [(start, end) for start, end in ((PORT_FLOOR, low - 1), (high + 1, 65535)) if end >= start]
    size = sum(end - start + 1 for start, end in spans)
    chooser = secrets.SystemRandom()
    for _ in range(1000):
        index = chooser.randrange(size)
        for start, end in spans:
            if index <= end - start:
                port = start + index
                break
            index -= end - start + 1
        if port in taken:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free TCP port found on 127.0.0.1")


def _ephemeral_ports() -> tuple[int, int]:
    """The kernel's ephemeral port range (Linux; IANA's 49152-65535 where it cannot be read)."""
    try:
        low, high = (int(part) for part in pathlib.Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    except (OSError, ValueError):
        return 49152, 65535
    return low, high


# ---- TLS ---------------------------------------------------------------------------------------------------
def self_signed_builder(key: Any, common_name: str) -> Any:
    """A certificate of ``key`` issued by itself to ``common_name``, valid from 5 minutes ago for a year; the
    caller adds its extensions and signs it (the WinRM server's CA certificate, the service principal's)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
    )


def generate_certificate(tls_dir: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (ARCHITECTURE.md decision 7).

    It is its own CA (basicConstraints CA:TRUE), so ``ansible_winrm_ca_trust_path`` can point at it and
    pywinrm/requests validate the server for real.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    tls_dir.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = tls_dir / "cert.pem", tls_dir / "key.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        self_signed_builder(key, "asr lab WinRM 127.0.0.1")
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.chmod(key_file, 0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_file, key_file


def files_scheme(meta: dict[str, Any]) -> str:
    """The file server's scheme (lab/fileserver.py): ``http`` unless the estate was made with ``files_https``.

    LAB-CHOSEN: plain HTTP by default. The hosts' downloads run as real .NET code in the lab's pwsh workers, which
    trust the machine's certificate authorities, not each estate's own self-signed one; a host's trust in an
    internal CA is its configuration, which the lab does not emulate."""
    return "https" if meta.get("files_https") else "http"


# ---- inventory ---------------------------------------------------------------------------------------------
def inventory_path(estate: Estate) -> pathlib.Path:
    return estate.path / "inventory.yml"


def inventory(estate: Estate) -> dict[str, Any]:
    """The Ansible inventory for the estate (groups configuration_servers, process_servers)."""
    meta = read_meta(estate)
    https = meta["scheme"] == "https"
    children: dict[str, dict[str, Any]] = {}
    for name, info in sorted(meta["hosts"].items()):
        group = GROUPS.get(info["role"], f"{info['role']}s")
        hostvars: dict[str, Any] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": info["port"],
            "ansible_connection": "winrm",
            "ansible_winrm_transport": "basic",
            "ansible_winrm_scheme": "https" if https else "http",
            "ansible_user": info["username"],
            "ansible_password": info["password"],
            "asr_lab_ip": info["ip"],
        }
        if info.get("files_port"):
            # the lab's file server as this host reaches it (lab/fileserver.py): <url>/<file under DIR/www>
            hostvars["asr_lab_files_url"] = f"{files_scheme(meta)}://127.0.0.1:{info['files_port']}"
        if https:
            # Real validation against the lab's own self-signed CA certificate, not "ignore".
            hostvars["ansible_winrm_server_cert_validation"] = "validate"
            hostvars["ansible_winrm_ca_trust_path"] = str(cert_path(estate, meta))
        children.setdefault(group, {"hosts": {}})["hosts"][name] = hostvars
    for group in GROUPS.values():
        children.setdefault(group, {"hosts": {}})
    inventory: dict[str, Any] = {"all": {"children": children}}
    if "azure" in meta:
        from lab import azure

        # the Azure modules' options for this estate's vault (module_defaults in the playbooks, lab/azure.py)
        inventory["all"]["vars"] = {"asr_azure": azure.module_options(estate, meta)}
    return inventory


def write_inventory(estate: Estate) -> pathlib.Path:
    import yaml

    path = inventory_path(estate)
    header = "# Written by `python -m lab` for the emulated estate in this directory; do not edit.\n"
    path.write_text(header + yaml.safe_dump(inventory(estate), sort_keys=False), encoding="utf-8")
    return path
