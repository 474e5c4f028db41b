"""Azure's side of the estate: the sign-in endpoint a service principal gets its token from, and the Resource Manager
endpoints of Site Recovery that read a configuration server's process servers and switch protected machines
between them -- over real HTTPS on 127.0.0.1 (one port, ``meta["azure"]["port"]``), answered from the SAME host
states the WinRM side changes (lab/asr/cs.py registrations and heartbeats, lab/asr/protection.py machines).

What it follows (cited as ``[AZ:<tag>]`` in the code):

* [AZ:token] Microsoft identity platform, "OAuth 2.0 client credentials flow" (learn.microsoft.com/entra/
  identity-platform/v2-oauth2-client-creds-grant-flow): ``POST /{tenant}/oauth2/v2.0/token`` with
  ``grant_type=client_credentials``, ``client_id``, ``scope=<resource>/.default`` and ``client_secret`` or
  ``client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`` + ``client_assertion`` (a JWT
  signed with the application's certificate); the answer ``{token_type: Bearer, expires_in, ext_expires_in,
  access_token}``; an error ``{error, error_description, error_codes, timestamp, trace_id, correlation_id}``
  (``invalid_client`` AADSTS7000215 for a wrong secret, ``unauthorized_client`` AADSTS700016 for an unknown
  application, ``invalid_request`` AADSTS90002 for an unknown tenant, ``invalid_scope`` AADSTS1002012 for a scope
  that is not ``/.default``).
* [AZ:oidc] OpenID Connect discovery, ``GET /{tenant}/v2.0/.well-known/openid-configuration`` (issuer,
  token_endpoint, authorization_endpoint, jwks_uri): what MSAL reads before asking for a token. Instance discovery
  (``/common/discovery/instance``) is not emulated: point the credential at the lab with instance discovery
  disabled, as for any authority Microsoft does not list.
* [AZ:arm-auth] Resource Manager answers 401 with ``AuthenticationFailed`` when the ``Authorization`` header is
  missing, ``InvalidAuthenticationToken`` for a token it cannot read, and ``ExpiredAuthenticationToken`` for an
  expired one; [AZ:arm-404] ``SubscriptionNotFound``, ``ResourceGroupNotFound``, ``ResourceNotFound`` ("The
  Resource 'Microsoft.RecoveryServices/vaults/<name>' under resource group '<rg>' was not found"); errors are
  ``{"error": {"code", "message"}}`` (Azure Resource Manager's common error format).
* [AZ:429] "Understand how Azure Resource Manager throttles requests": over the limit, ``429 Too Many Requests``
  with a ``Retry-After`` header (seconds).
* [AZ:async] "Track asynchronous Azure operations": a ``202 Accepted`` with ``Azure-AsyncOperation`` (and
  ``Retry-After``); the operation resource ``{id, name, status, startTime, endTime, error{code,message}}`` with
  ``status`` ``InProgress`` until ``Succeeded``, ``Failed`` or ``Canceled``.
* [AZ:fabric], [AZ:container], [AZ:item], [AZ:reassociate] the Site Recovery REST reference for API version
  2025-08-01 (``Azure/azure-rest-api-specs:specification/recoveryservicessiterecovery/resource-manager/
  Microsoft.RecoveryServices/SiteRecovery/``: ``Fabric.tsp``, ``models.tsp``, and the examples
  ``stable/2025-08-01/examples/ReplicationFabrics_Get.json`` and ``ReplicationFabrics_ReassociateGateway.json``):
  a fabric's ``properties.customDetails`` of ``instanceType`` ``VMware`` with ``processServers[]`` (``id``,
  ``friendlyName``, ``ipAddress``, ``machineCount`` as a string, ``health`` Normal/Warning/Critical,
  ``lastHeartbeat``, ``psServiceStatus``, ``healthErrors``); protection containers named ``cloud_<internal
  identifier>``; protected items with ``providerSpecificDetails`` ``InMageAzureV2`` (``processServerId``,
  ``processServerName``); ``POST .../reassociateGateway`` with ``FailoverProcessServerRequestProperties``
  (``containerName``, ``sourceProcessServerId``, ``targetProcessServerId``, ``vmsToMigrate``, ``updateType``)
  answered ``202`` with ``Azure-AsyncOperation: .../replicationOperationStatus/<id>`` and ``Retry-After``.
  [AZ:switch] Azure PowerShell's Switch job (``Azure/azure-powershell``, ``StartAzureRmRecoveryServicesAsrSwitch
  ProcessServerJob``): ``vmsToMigrate`` holds protectable item names with ``updateType`` ``ServerLevel``;
  ``SystemLevel`` without machines moves every machine of the source.

Product behaviour behind the vault's view: [7.3] a protected machine uses one process server; [7.4] machines move
only between process servers of one configuration server; [7.5] no heartbeat for 15 minutes is critical (error
806), a process server whose services are not running is a warning.

LAB choices (documented, not Microsoft's): one vault holds every configuration server of the estate (one fabric
each, named by the SHA-256 of the CS's host GUID like the example's 64 hex digits); a list of protected items is
paged by 100 with ``nextLink``; an operation takes ``operation_seconds_per_machine`` (default 0.01) per machine
and applies its moves as it goes (a read in the middle sees some moved); ``Retry-After`` on the 202 and on the
operation is ``lro_retry_after_s`` (default 1; the reference example shows 30); tokens are HS256 JWTs signed with
the estate's key, audience ``https://management.azure.com/``; only API version 2025-08-01 is answered.

Faults (``python -m lab fault azure <knob> <value>``):

* ``arm_throttle`` -- the next N Resource Manager requests get 429 with ``Retry-After: arm_retry_after_s``
  (default 1);
* ``operation_fails`` -- the next reassociateGateway operation fails after moving ``operation_fails_after``
  machines (default 0): a half-done Switch;
* ``token_expires_at_request`` -- the Nth Resource Manager request from now finds the token expired (as when it
  expires in the middle of a long run): 401 ExpiredAuthenticationToken, and only tokens issued after that are
  accepted;
* ``token_lifetime_s`` -- ``expires_in`` of the tokens issued (default 3599);
* ``ps_health`` -- ``{"<process server name or IP>": "Warning"|"Critical"}``: the vault's health of a process
  server, over what its heartbeat and services say;
* ``operation_seconds_per_machine``, ``lro_retry_after_s`` -- the timings above.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import fcntl
import hashlib
import hmac
import json
import logging
import os
import pathlib
import re
import secrets
import ssl
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab import journal
from lab.asr import cs as cs_mod
from lab.asr import products, protection
from lab.state import Estate, Host

log = logging.getLogger("lab.azure")

NAME = "azure"  # its journal: journal/azure.jsonl; its faults: python -m lab fault azure ...
API_VERSION = "2025-08-01"
AUDIENCE = "https://management.azure.com/"
SCOPE = AUDIENCE + ".default"
PAGE_SIZE = 100
HEARTBEAT_CRITICAL_S = cs_mod.HEARTBEAT_STALE_S
PS_SERVICES = ("tmansvc", "ProcessServer", "ProcessServerMonitor", "cxprocessserver", "obengine")
FABRIC_TYPE = "Microsoft.RecoveryServices/vaults/replicationFabrics"
_VAULT_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/microsoft\.recoveryservices/"
    r"vaults/(?P<vault>[^/]+)(?P<rest>/.*)?$",
    re.IGNORECASE,
)


# ---- estate metadata ------------------------------------------------------------------------------------------
def new_meta(port: int) -> dict[str, Any]:
    """The Azure side of a new estate: tenant, subscription, vault and the service principal's secret."""
    return {
        "port": port,
        "tenant": str(uuid.uuid4()),
        "subscription": str(uuid.uuid4()),
        "resource_group": "asr-lab",
        "vault": "asr-lab-vault",
        "client_id": str(uuid.uuid4()),
        "client_secret": "lab~" + secrets.token_urlsafe(24),
        "signing_key": secrets.token_hex(32),
        "client_certificate": "tls/service-principal.pem",
    }


def base_url(meta: dict[str, Any]) -> str:
    return f"https://127.0.0.1:{meta['azure']['port']}"


def module_options(estate: Estate, meta: dict[str, Any]) -> dict[str, Any]:
    """The modules' options that reach this estate's Azure side (asr_azure in the lab's inventory)."""
    azure = meta["azure"]
    return {
        "resource_group": azure["resource_group"],
        "vault": azure["vault"],
        "subscription_id": azure["subscription"],
        "tenant": azure["tenant"],
        "client_id": azure["client_id"],
        "secret": azure["client_secret"],
        "adfs_authority_url": base_url(meta),
        "resource_manager_endpoint": base_url(meta),
        "disable_instance_discovery": True,
        "ca_path": str(estate.path / meta["tls"]["cert"]),
    }


def write_client_certificate(estate: Estate, meta: dict[str, Any]) -> pathlib.Path:
    """The service principal's certificate and key in one PEM file (what azure.azcollection's
    ``x509_certificate_path`` takes); the lab accepts client assertions signed with its key."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from lab.estate import self_signed_builder

    path = estate.path / meta["azure"]["client_certificate"]
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = self_signed_builder(key, "asr lab service principal").sign(key, hashes.SHA256())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(key_pem + cert.public_bytes(serialization.Encoding.PEM))
    os.chmod(path, 0o600)
    return path


# ---- mutable state: faults, operations, token revocation -------------------------------------------------------
def state_path(estate: Estate) -> pathlib.Path:
    return estate.path / "azure" / "state.json"


@contextlib.contextmanager
def open_state(estate: Estate) -> Iterator[dict[str, Any]]:
    """Lock the Azure side's state, read it fresh, save it back (faults are set by ``python -m lab fault``)."""
    path = state_path(estate)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
            state.setdefault("faults", {})
            state.setdefault("operations", {})
            state.setdefault("tokens_invalid_before", 0.0)
            state.setdefault("arm_requests", 0)
            try:
                yield state
            finally:  # a refusal raised inside (a throttled request) still spends its fault
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
                os.replace(tmp, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def reset(estate: Estate) -> None:
    state_path(estate).unlink(missing_ok=True)
    journal.clear(estate, NAME)


# ---- the vault's view of the estate ---------------------------------------------------------------------------
def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def configuration_servers(estate: Estate) -> list[str]:
    """LAB: every configuration server of the estate with its software installed is a fabric of the one vault."""
    names = []
    for name in estate.host_names():
        host = estate.read_host(name)
        if host.role == "configuration_server" and products.is_configuration_server(host):
            names.append(name)
    return names


def fabric_name(cs: Host) -> str:
    return hashlib.sha256(str(cs.asr.get("host_guid", cs.name)).encode()).hexdigest()


def container_name(cs: Host) -> str:
    return "cloud_" + str(cs.asr.get("host_guid", "")).lower()  # [AZ:reassociate] cloud_<internalIdentifier>


class Vault:
    """The vault as Resource Manager shows it, built from the estate's host states at each request."""

    def __init__(self, estate: Estate, meta: dict[str, Any]) -> None:
        self.estate = estate
        self.meta = meta
        azure = meta["azure"]
        self.id = (
            f"/Subscriptions/{azure['subscription']}/resourceGroups/{azure['resource_group']}/providers/"
            f"Microsoft.RecoveryServices/vaults/{azure['vault']}"
        )

    def fabrics(self) -> dict[str, str]:
        """fabric name -> CS host name."""
        return {fabric_name(self.estate.read_host(n)): n for n in configuration_servers(self.estate)}

    def fabric_id(self, name: str) -> str:
        return f"{self.id}/replicationFabrics/{name}"

    def process_servers(self, cs: Host, faults: dict[str, Any]) -> list[dict[str, Any]]:
        """[AZ:fabric] customDetails.processServers: the CS's in-built process server and each registered one."""
        now = cs.now()
        records = cs_mod.refresh_heartbeats(cs)
        servers = [
            {"ip": cs.ip, "id": cs.asr.get("host_guid", ""), "name": cs.data.get("hostname", cs.name.upper()),
             "beat": now, "version": cs_mod.cs_version(cs) or "", "services": _services(cs)}
        ]  # fmt: skip
        for ip, record in sorted(records.items()):
            ps_host = self.estate.host_by_ip_nolock(ip)
            services = _services(self.estate.read_host(ps_host)) if ps_host else "Stopped"
            servers.append(
                {"ip": ip, "id": record.get("host_guid") or "", "name": record.get("hostname", ""),
                 "beat": float(record.get("last_heartbeat", 0)), "version": record.get("version", ""),
                 "services": services}
            )  # fmt: skip
        machines = protection.machines(cs)
        forced = {str(k).lower(): v for k, v in (faults.get("ps_health") or {}).items()}
        out = []
        for server in servers:
            count = sum(1 for m in machines.values() if m["ps_ip"] == server["ip"])
            health, errors = _health(now - server["beat"], server["services"])
            health = forced.get(server["name"].lower(), forced.get(server["ip"], health))
            out.append(
                {
                    "friendlyName": server["name"],
                    "id": str(server["id"]).upper(),
                    "ipAddress": server["ip"],
                    "osType": "Windows",
                    "agentVersion": server["version"],
                    "lastHeartbeat": _iso(server["beat"]),
                    "versionStatus": "Supported",
                    "hostId": str(server["id"]).upper(),
                    "machineCount": str(count),
                    "replicationPairCount": str(count),
                    "psServiceStatus": server["services"],
                    "healthErrors": errors,
                    "health": health,
                    "psStatsRefreshTime": _iso(now),
                }
            )
        return out

    def fabric(self, cs: Host, faults: dict[str, Any]) -> dict[str, Any]:
        name = fabric_name(cs)
        servers = self.process_servers(cs, faults)
        return {
            "id": self.fabric_id(name),
            "name": name,
            "type": FABRIC_TYPE,
            "properties": {
                "friendlyName": cs.data.get("hostname", cs.name.upper()),
                "encryptionDetails": {"kekState": "None"},
                "rolloverEncryptionDetails": {"kekState": "None"},
                "internalIdentifier": str(cs.asr.get("host_guid", "")).lower(),
                "bcdrState": "Valid",
                "customDetails": {
                    "instanceType": "VMware",
                    "processServers": servers,
                    "processServerCount": str(len(servers)),
                    "protectedServers": str(len(protection.machines(cs))),
                    "ipAddress": cs.ip,
                    "hostName": cs.data.get("hostname", cs.name.upper()),
                    "agentVersion": cs_mod.cs_version(cs) or "",
                    "lastHeartbeat": _iso(cs.now()),
                },
                "healthErrorDetails": [],
                "health": "Normal",
            },
        }

    def container(self, cs: Host) -> dict[str, Any]:
        name = container_name(cs)
        return {
            "id": f"{self.fabric_id(fabric_name(cs))}/replicationProtectionContainers/{name}",
            "name": name,
            "type": FABRIC_TYPE + "/replicationProtectionContainers",
            "properties": {
                "friendlyName": cs.data.get("hostname", cs.name.upper()),
                "fabricFriendlyName": cs.data.get("hostname", cs.name.upper()),
                "fabricType": "VMware",
                "protectedItemCount": len(protection.machines(cs)),
                "role": "Primary",
            },
        }

    def protected_items(self, cs: Host, faults: dict[str, Any]) -> list[dict[str, Any]]:
        """[AZ:item] the classic stack's protected items (InMageAzureV2) and the process server of each."""
        container = self.container(cs)
        servers = {s["ipAddress"]: s for s in self.process_servers(cs, faults)}
        items = []
        for name, record in sorted(protection.machines(cs).items()):
            server = servers.get(record["ps_ip"])
            health = "Critical" if server is None or server["health"] == "Critical" else "Normal"
            item_id = record["id"]
            items.append(
                {
                    "id": f"{container['id']}/replicationProtectedItems/{item_id}",
                    "name": item_id,
                    "type": container["type"] + "/replicationProtectedItems",
                    "properties": {
                        "friendlyName": name,
                        "protectedItemType": "ProtectedItem",
                        "protectableItemId": f"{container['id']}/replicationProtectableItems/{item_id}",
                        "primaryFabricFriendlyName": container["properties"]["fabricFriendlyName"],
                        "primaryFabricProvider": "VMware",
                        "protectionState": "Protected",
                        "protectionStateDescription": "Protected",
                        "activeLocation": "Primary",
                        "replicationHealth": health,
                        "providerSpecificDetails": {
                            "instanceType": "InMageAzureV2",
                            "processServerId": str(record.get("ps_id") or "").upper(),
                            "processServerName": server["friendlyName"] if server else "",
                            "ipAddress": record.get("ip", ""),
                            "osType": record.get("os", "Windows"),
                            "vmProtectionState": "Protected",
                        },
                    },
                }
            )
        return items


def _services(host: Host) -> str:
    """[7.5] PS services not running is a warning; LAB: a down host's services are Stopped."""
    if cs_mod.is_down(host):
        return "Stopped"
    states = [host.service(name) for name in PS_SERVICES]
    running = [s for s in states if s is not None]
    return "Running" if running and all(s["state"] == "running" for s in running) else "Stopped"


def _health(age_s: float, services: str) -> tuple[str, list[dict[str, Any]]]:
    if age_s > HEARTBEAT_CRITICAL_S:  # [7.5] Critical: no heartbeat for 15 minutes (error 806)
        return "Critical", [
            {"errorCode": "806", "errorLevel": "Error", "summaryMessage": "No heartbeat from the process server.",
             "errorMessage": f"The process server has not sent a heartbeat for {int(age_s // 60)} minutes."}
        ]  # fmt: skip
    if services != "Running":  # [7.5] Warning: PS services not running
        return "Warning", [
            {"errorCode": "LAB-SERVICES", "errorLevel": "Warning",
             "summaryMessage": "Process server services are not running."}
        ]  # fmt: skip
    return "Normal", []


# ---- tokens ---------------------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(meta: dict[str, Any], lifetime_s: int) -> tuple[str, int]:
    azure = meta["azure"]
    now = time.time()
    claims = {"aud": AUDIENCE, "iss": f"https://sts.windows.net/{azure['tenant']}/", "tid": azure["tenant"],
              "appid": azure["client_id"], "iat": now, "nbf": int(now), "exp": int(now) + lifetime_s,
              "jti": secrets.token_hex(8)}  # fmt: skip
    head = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = _b64(json.dumps(claims).encode())
    sig = hmac.new(azure["signing_key"].encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}", lifetime_s


def read_token(meta: dict[str, Any], token: str) -> dict[str, Any] | None:
    try:
        head, body, sig = token.split(".")
        expected = hmac.new(meta["azure"]["signing_key"].encode(), f"{head}.{body}".encode(), hashlib.sha256)
        if not hmac.compare_digest(_unb64(sig), expected.digest()):
            return None
        return json.loads(_unb64(body))
    except (ValueError, KeyError):
        return None


def _check_assertion(estate: Estate, meta: dict[str, Any], assertion: str, token_url: str) -> str | None:
    """[AZ:token] a client assertion: a JWT signed (RS256/PS256) with the service principal's certificate; returns
    why it is refused, or None."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    path = estate.path / meta["azure"]["client_certificate"]
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        head, body, sig = assertion.split(".")
        header = json.loads(_unb64(head))
        claims = json.loads(_unb64(body))
        pad = padding.PKCS1v15() if header.get("alg") == "RS256" else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        cert.public_key().verify(_unb64(sig), f"{head}.{body}".encode(), pad, hashes.SHA256())  # type: ignore[union-attr]
    except (OSError, ValueError, InvalidSignature):
        return "AADSTS700027: Client assertion failed signature validation."
    if claims.get("iss") != meta["azure"]["client_id"] or claims.get("sub") != meta["azure"]["client_id"]:
        return "AADSTS700021: Client assertion application identifier doesn't match 'client_id' parameter."
    if claims.get("aud") != token_url or float(claims.get("exp", 0)) < time.time():
        return "AADSTS700024: Client assertion is not within its valid time range or has the wrong audience."
    return None


# ---- the HTTP server ------------------------------------------------------------------------------------------
class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-azure/1"
    sys_version = ""
    server: AzureServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug(format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        started = time.monotonic()
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        op, identity, args = "arm", f"{self.command} {parts.path}", {}
        try:
            if "/oauth2/v2.0/token" in parts.path or parts.path.endswith("/openid-configuration"):
                op = "token" if "/token" in parts.path else "discovery"
                status, payload, headers = self.server.identity(parts.path, body)
                args = {"grant_type": urllib.parse.parse_qs(body.decode()).get("grant_type", [""])[0]} if body else {}
            else:
                status, payload, headers, identity, args = self.server.arm(
                    self.command, parts.path, query, body, self.headers.get("Authorization", "")
                )
        except ArmError as exc:
            status, payload, headers = exc.status, {"error": {"code": exc.code, "message": exc.message}}, exc.headers
            args = {"error": exc.code}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
        journal.record(
            self.server.estate, NAME, op=op, identity=identity, args=args,
            duration_s=time.monotonic() - started, rc=status,
        )  # fmt: skip


class AzureServer(ThreadingHTTPServer):
    """The Azure endpoints of one estate (Lab.others: ``serve_forever``, ``shutdown``, ``server_close``)."""

    daemon_threads = True
    allow_reuse_address = True
    host_name = NAME

    def __init__(self, estate: Estate, meta: dict[str, Any], ssl_context: ssl.SSLContext) -> None:
        self.estate = estate
        self.meta = meta
        self.base = base_url(meta)
        super().__init__(("127.0.0.1", int(meta["azure"]["port"])), _Handler)
        self.socket = ssl_context.wrap_socket(self.socket, server_side=True)
        self._ops = threading.Lock()

    # -- sign-in [AZ:token] [AZ:oidc] ----------------------------------------------------------------------------
    def identity(self, path: str, body: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        azure = self.meta["azure"]
        tenant = path.strip("/").split("/", 1)[0]
        if path.endswith("/openid-configuration"):
            if tenant != azure["tenant"]:
                return 400, _aad_error("invalid_tenant", 90002, f"Tenant '{tenant}' not found."), {}
            root = f"{self.base}/{tenant}"
            document = {
                "issuer": f"{root}/v2.0",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "jwks_uri": f"{root}/discovery/v2.0/keys",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "tenant_region_scope": "EU",
                "cloud_instance_name": "lab",
            }
            return 200, document, {}
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
        if tenant != azure["tenant"]:
            return 400, _aad_error("invalid_request", 90002, f"Tenant '{tenant}' not found."), {}
        if form.get("grant_type") != "client_credentials":
            return 400, _aad_error("unsupported_grant_type", 70003, "The app requested an unsupported grant type."), {}
        if form.get("client_id") != azure["client_id"]:
            why = f"Application with identifier '{form.get('client_id')}' was not found in the directory."
            return 400, _aad_error("unauthorized_client", 700016, why), {}
        if form.get("scope") != SCOPE:
            return (
                400,
                _aad_error("invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} is not valid."),
                {},
            )
        assertion = form.get("client_assertion")
        if assertion is not None:
            refused = _check_assertion(self.estate, self.meta, assertion, f"{self.base}/{tenant}/oauth2/v2.0/token")
            if refused:
                return 401, _aad_error("invalid_client", int(refused[6:12]), refused), {}
        elif not hmac.compare_digest(str(form.get("client_secret", "")), azure["client_secret"]):
            why = (
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret "
                f"value, not the client secret ID, for a secret added to app '{azure['client_id']}'."
            )
            return 401, _aad_error("invalid_client", 7000215, why), {}
        with open_state(self.estate) as state:
            lifetime = int(state["faults"].get("token_lifetime_s", 3599))
        token, expires = issue_token(self.meta, lifetime)
        return 200, {"token_type": "Bearer", "expires_in": expires, "ext_expires_in": expires,
                     "access_token": token}, {}  # fmt: skip

    # -- Resource Manager ----------------------------------------------------------------------------------------
    def arm(
        self, method: str, path: str, query: dict[str, str], body: bytes, authorization: str
    ) -> tuple[int, dict[str, Any], dict[str, str], str, dict[str, Any]]:
        with open_state(self.estate) as state:
            self._gate(state, authorization)
            faults = dict(state["faults"])
            self._advance(state)
        if query.get("api-version") != API_VERSION:
            raise ArmError(400, "InvalidApiVersionParameter",
                           f"The api-version '{query.get('api-version')}' is invalid. The supported versions are "
                           f"'{API_VERSION}' (LAB: the one version emulated).")  # fmt: skip
        rest = self._vault_path(path)
        vault = Vault(self.estate, self.meta)
        segments = [s for s in rest.split("/") if s]
        template = "/".join(s if i % 2 == 0 else "{}" for i, s in enumerate(segments))
        identity = f"{method} {template}"
        status, payload, headers, args = self._route(method, segments, query, body, vault, faults, path)
        return status, payload, headers, identity, args

    def _gate(self, state: dict[str, Any], authorization: str) -> None:
        """[AZ:arm-auth] the token, and [AZ:429] throttling, before anything else."""
        faults = state["faults"]
        state["arm_requests"] += 1
        at = faults.get("token_expires_at_request")
        if at is not None:
            at = int(at) - 1
            if at <= 0:
                faults.pop("token_expires_at_request")
                state["tokens_invalid_before"] = time.time()
            else:
                faults["token_expires_at_request"] = at
        if not authorization.lower().startswith("bearer "):
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
        claims = read_token(self.meta, authorization[7:].strip())
        if claims is None or claims.get("aud") != AUDIENCE:
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")
        now = time.time()
        if float(claims["exp"]) < now or float(claims["iat"]) < float(state["tokens_invalid_before"]):
            expiry = datetime.datetime.fromtimestamp(min(float(claims["exp"]), now - 1), datetime.UTC)
            raise ArmError(
                401, "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{expiry:%m/%d/%Y %I:%M:%S %p}' is earlier than current UTC time "
                f"'{datetime.datetime.now(datetime.UTC):%m/%d/%Y %I:%M:%S %p}'.",
                {"WWW-Authenticate": 'Bearer authorization_uri="", error="invalid_token", '
                                     'error_description="The access token has expired."'},
            )  # fmt: skip
        throttle = int(faults.get("arm_throttle", 0) or 0)
        if throttle > 0:
            faults["arm_throttle"] = throttle - 1
            if throttle == 1:
                faults.pop("arm_throttle")
            wait = str(int(faults.get("arm_retry_after_s", 1)))
            raise ArmError(429, "TooManyRequests", "The request is being throttled.", {"Retry-After": wait})

    def _vault_path(self, path: str) -> str:
        match = _VAULT_PATH.match(path)
        azure = self.meta["azure"]
        if not match:
            raise ArmError(404, "InvalidResourceType", f"LAB: no emulated Resource Manager endpoint at {path}.")
        if match["sub"].lower() != azure["subscription"].lower():
            raise ArmError(404, "SubscriptionNotFound", f"The subscription '{match['sub']}' could not be found.")
        if match["rg"].lower() != azure["resource_group"].lower():
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{match['rg']}' could not be found.")
        if match["vault"].lower() != azure["vault"].lower():
            raise ArmError(
                404, "ResourceNotFound",
                f"The Resource 'Microsoft.RecoveryServices/vaults/{match['vault']}' under resource group "
                f"'{match['rg']}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            )  # fmt: skip
        return match["rest"] or "/"

    def _route(  # a route table
        self,
        method: str,
        segments: list[str],
        query: dict[str, str],
        body: bytes,
        vault: Vault,
        faults: dict[str, Any],
        path: str,
    ) -> tuple[int, dict[str, Any], dict[str, str], dict[str, Any]]:
        fabrics = vault.fabrics()
        if segments == ["replicationFabrics"] and method == "GET":
            return (
                200,
                {"value": [self._read_cs(n, lambda cs: vault.fabric(cs, faults)) for n in fabrics.values()]},
                {},
                {},
            )
        if segments[:1] == ["replicationOperationStatus"] and len(segments) == 2 and method == "GET":
            return 200, self._operation(vault, segments[1]), self._retry_after(faults), {"operation": segments[1]}
        if len(segments) < 2 or segments[0] != "replicationFabrics":
            raise ArmError(404, "InvalidResourceType", f"LAB: no emulated endpoint {'/'.join(segments)}.")
        cs_name = next((n for f, n in fabrics.items() if f.lower() == segments[1].lower()), None)
        if cs_name is None:
            raise ArmError(404, "ResourceNotFound", f"LAB: the vault has no fabric '{segments[1]}'.")
        tail = segments[2:]
        if not tail and method == "GET":
            return 200, self._read_cs(cs_name, lambda cs: vault.fabric(cs, faults)), {}, {}
        if tail == ["replicationProtectionContainers"] and method == "GET":
            return 200, {"value": [self._read_cs(cs_name, vault.container)]}, {}, {}
        if len(tail) == 3 and tail[0] == "replicationProtectionContainers" and tail[2] == "replicationProtectedItems":
            items = self._read_cs(cs_name, lambda cs: vault.protected_items(cs, faults))
            if tail[1].lower() != self._read_cs(cs_name, container_name).lower():
                raise ArmError(404, "ResourceNotFound", f"LAB: the fabric has no protection container '{tail[1]}'.")
            return 200, self._page(items, query, path), {}, {"page": query.get("$skiptoken", "0")}
        if tail == ["reassociateGateway"] and method == "POST":
            return self._reassociate(vault, cs_name, segments[1], body, faults)
        raise ArmError(404, "InvalidResourceType", f"LAB: no emulated endpoint {'/'.join(segments)}.")

    def _read_cs(self, name: str, what: Any) -> Any:
        with self.estate.open_host(name) as cs:
            return what(cs)

    def _page(self, items: list[dict[str, Any]], query: dict[str, str], path: str) -> dict[str, Any]:
        """LAB: pages of 100; ``nextLink`` is the absolute URL of the next page (the same path, a $skiptoken)."""
        start = int(query.get("$skiptoken", "0") or 0)
        page: dict[str, Any] = {"value": items[start : start + PAGE_SIZE]}
        if start + PAGE_SIZE < len(items):
            page["nextLink"] = f"{self.base}{path}?" + urllib.parse.urlencode(
                {**query, "$skiptoken": start + PAGE_SIZE}
            )
        return page

    def _retry_after(self, faults: dict[str, Any]) -> dict[str, str]:
        return {"Retry-After": str(int(faults.get("lro_retry_after_s", 1)))}

    # -- reassociateGateway [AZ:reassociate] [AZ:switch] [AZ:async] ----------------------------------------------
    def _reassociate(
        self, vault: Vault, cs_name: str, fabric: str, body: bytes, faults: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str], dict[str, Any]]:
        try:
            props = json.loads(body or b"{}").get("properties") or {}
        except ValueError:
            raise ArmError(
                400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
            ) from None
        with self.estate.open_host(cs_name) as cs:
            plan = _check_request(vault, cs, props, faults)
        op_id = str(uuid.uuid4())
        per_machine = float(faults.get("operation_seconds_per_machine", 0.01))
        with open_state(self.estate) as state:
            fails = state["faults"].pop("operation_fails", None)
            fail_after = int(state["faults"].pop("operation_fails_after", 0)) if fails else None
            state["operations"][op_id] = {
                "cs": cs_name, "fabric": fabric, "target_ip": plan["target_ip"], "target_id": plan["target_id"],
                "machines": plan["machines"], "applied": [], "start": time.time(),
                "duration": per_machine * len(plan["machines"]), "status": "InProgress", "fail_after": fail_after,
                "update_type": props.get("updateType"),
            }  # fmt: skip
        url = f"{self.base}{vault.id}/replicationOperationStatus/{op_id}?api-version={API_VERSION}"
        headers = {"Azure-AsyncOperation": url, **self._retry_after(faults)}
        args = {"operation": op_id, "update_type": props.get("updateType"), "machines": len(plan["machines"])}
        return 202, {}, headers, args

    def _operation(self, vault: Vault, op_id: str) -> dict[str, Any]:
        with open_state(self.estate) as state:
            op = state["operations"].get(op_id)
            if op is None:
                raise ArmError(404, "ResourceNotFound", f"LAB: no operation '{op_id}'.")
            body = {"id": f"{vault.id}/replicationOperationStatus/{op_id}", "name": op_id, "status": op["status"],
                    "startTime": _iso(op["start"])}  # fmt: skip
            if op["status"] != "InProgress":
                body["endTime"] = _iso(op.get("end", op["start"]))
            if op.get("error"):
                body["error"] = op["error"]
            return body

    def _advance(self, state: dict[str, Any]) -> None:
        """Apply the moves of running operations as far as their time says (lock order: Azure state, then CS)."""
        now = time.time()
        for op in state["operations"].values():
            if op["status"] != "InProgress":
                continue
            total = len(op["machines"])
            due = total if op["duration"] <= 0 else min(total, int(total * (now - op["start"]) / op["duration"]))
            if op["fail_after"] is not None:
                due = min(due, op["fail_after"])
            pending = op["machines"][len(op["applied"]) : due]
            if pending:
                with self.estate.open_host(op["cs"]) as cs:
                    for name in pending:
                        if name in protection.machines(cs):
                            protection.move(cs, name, op["target_ip"], op["target_id"])
                op["applied"].extend(pending)
            if (
                op["fail_after"] is not None
                and len(op["applied"]) >= op["fail_after"]
                and (now - op["start"] >= op["duration"] * op["fail_after"] / max(total, 1))
            ):
                op.update(status="Failed", end=now, error={
                    "code": "LabSwitchFailed",
                    "message": f"LAB fault operation_fails: the switch stopped after {len(op['applied'])} of "
                               f"{total} machines. Retry the operation for the machines that did not move.",
                })  # fmt: skip
            elif len(op["applied"]) >= total:
                op.update(status="Succeeded", end=now)


def _check_request(vault: Vault, cs: Host, props: dict[str, Any], faults: dict[str, Any]) -> dict[str, Any]:
    """[AZ:reassociate] the request, checked as the product must: its container, source, target and machines."""
    if props.get("containerName", "").lower() != container_name(cs).lower():
        raise ArmError(
            400, "InvalidContainer", f"LAB: the fabric has no protection container '{props.get('containerName')}'."
        )
    servers = {s["id"].lower(): s for s in vault.process_servers(cs, faults)}
    source = servers.get(str(props.get("sourceProcessServerId", "")).lower())
    target = servers.get(str(props.get("targetProcessServerId", "")).lower())
    if source is None or target is None:
        raise ArmError(400, "ProcessServerNotFound", "LAB: the source or target process server is not one of this "
                       "configuration server's process servers [7.4].")  # fmt: skip
    if source["id"] == target["id"]:
        raise ArmError(400, "SameProcessServer", "LAB: the source and target process servers are the same.")
    if target["health"] == "Critical":  # [7.5] critical => adding new workloads to that PS is disabled
        raise ArmError(400, "TargetProcessServerCritical", f"LAB: process server {target['friendlyName']} is critical "
                       "and takes no new workload [7.5].")  # fmt: skip
    machines = protection.machines(cs)
    on_source = sorted(n for n, m in machines.items() if m["ps_ip"] == source["ipAddress"])
    update_type = str(props.get("updateType", ""))
    if update_type.lower() == "systemlevel":
        chosen = on_source
    elif update_type.lower() == "serverlevel":
        by_item = {m["id"].lower(): n for n, m in machines.items()}
        wanted = [str(v) for v in props.get("vmsToMigrate") or []]
        unknown = [v for v in wanted if v.lower() not in by_item]
        if not wanted or unknown:
            raise ArmError(
                400,
                "InvalidVmsToMigrate",
                f"LAB: vmsToMigrate names no protected item of the source: {unknown or wanted}.",
            )
        chosen = [by_item[v.lower()] for v in wanted]
        elsewhere = [n for n in chosen if machines[n]["ps_ip"] not in (source["ipAddress"], target["ipAddress"])]
        if elsewhere:
            raise ArmError(
                400, "InvalidVmsToMigrate", f"LAB: {', '.join(elsewhere)} do not replicate through the source."
            )
    else:
        raise ArmError(
            400, "InvalidUpdateType", f"LAB: updateType '{update_type}' is not ServerLevel or SystemLevel [AZ:switch]."
        )
    return {"target_ip": target["ipAddress"], "target_id": target["id"], "machines": chosen}


def _aad_error(error: str, code: int, description: str) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    trace = str(uuid.uuid4())
    return {
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Timestamp: {now}",
        "error_codes": [code],
        "timestamp": now,
        "trace_id": trace,
        "correlation_id": str(uuid.uuid4()),
    }


def servers(estate: Estate, meta: dict[str, Any], ssl_context: ssl.SSLContext | None) -> list[AzureServer]:
    """The estate's Azure side (none for an estate made before it, or without TLS material)."""
    if "azure" not in meta:
        return []
    if ssl_context is None:
        from lab import estate as estate_mod

        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        ssl_context.load_cert_chain(estate_mod.cert_path(estate, meta), estate_mod.key_path(estate, meta))
    return [AzureServer(estate, meta, ssl_context)]
