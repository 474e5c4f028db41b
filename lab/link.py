"""What a byte and a round trip cost on an emulated host's network link (docs/lab.md, "The link model").

Every emulated host has one full-duplex link. Everything that reaches the host or leaves it crosses it: the
controller's WS-Management requests and their responses (lab/wsman.py), a download from the lab's file server
(lab/fileserver.py) and a copy from a lab share (lab/share.py). Per host, from its state's ``faults`` (read fresh
when the host's state file changes):

* ``latency_ms`` -- the round-trip time. Each request/response exchange costs one round trip: a WS-Management POST
  (winrm-wire.md: pywinrm sends one POST per Create, Command, Send, Receive, Signal, Delete and waits for its
  answer), an HTTP request of the file server, an SMB open of a share. A new TCP connection costs one more (the
  SYN/SYN-ACK before the first byte), a TLS handshake one more for TLS 1.3 and two for TLS 1.2 (RFC 8446 / 5246:
  1-RTT and 2-RTT full handshakes).
* ``bandwidth_mbit`` -- the link rate in each direction (0 or absent: unlimited). Bytes in one direction queue
  behind each other (one transfer at a time at the full rate, first come first served), so two transfers into the
  same host take as long as one of their summed size.
* ``package_virtual_bytes`` -- the size the lab's Unified Setup package stands for on this host. The lab's package
  is a small text file (lab/asr/installer.py); a benchmark declares, say, 1.5 GB here. When the package crosses the
  link the real bytes move and are priced as above, and the model adds what the declared size would have cost on
  top (:class:`Virtual`): more bytes at the link rate, and for a WinRM ``put_file`` more requests, one round trip
  each (lab/wsman.py).
* ``virtual_time`` -- ``sleep`` (default): that added time is really waited, so wall times are what the modelled
  network gives; ``account``: it is only recorded in the wire log (``virtual_s``) for a benchmark to add up
  (bench/timeline.py), so a 200-host rollout of a 1.5 GB package does not take hours of real time.

The wire log (``<estate>/wire/<host>.jsonl``, :func:`record`) has one line per priced exchange: channel
(``wsman``, ``http``, ``smb``), what it was, bytes in (towards the host) and out, round trips charged, the delay
slept and the virtual additions. ``python -m lab status`` and the benchmark read it; ``lab reset`` and
``journal.clear`` empty it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from lab.state import Estate

log = logging.getLogger("lab.link")


def reset_connection(handler: Any) -> None:
    """Close a request handler's connection with RST instead of FIN (SO_LINGER 0): the client's read fails."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        handler.connection.close()


SLEEP = "sleep"
ACCOUNT = "account"
VIRTUAL_TIME_MODES = (SLEEP, ACCOUNT)
TCP_HANDSHAKE_RTT = 1  # SYN, SYN-ACK: the client sends its first byte after one round trip
TLS_HANDSHAKE_RTT = {"TLSv1.3": 1, "TLSv1.2": 2}  # RFC 8446 section 2 (1-RTT), RFC 5246 section 7.3 (2-RTT)
_LOG_LOCK = threading.Lock()
_LINKS: dict[tuple[str, str], Link] = {}
_LINKS_LOCK = threading.Lock()


@dataclass(frozen=True)
class LinkParams:
    """One host's link as its state declares it (the ``faults`` knobs above)."""

    latency_ms: float = 0.0
    bandwidth_mbit: float = 0.0
    package_virtual_bytes: int = 0
    virtual_time: str = SLEEP

    @classmethod
    def from_faults(cls, faults: dict[str, Any]) -> LinkParams:
        mode = str(faults.get("virtual_time") or SLEEP).lower()
        return cls(
            latency_ms=max(0.0, float(faults.get("latency_ms") or 0)),
            bandwidth_mbit=max(0.0, float(faults.get("bandwidth_mbit") or 0)),
            package_virtual_bytes=max(0, int(faults.get("package_virtual_bytes") or 0)),
            virtual_time=mode if mode in VIRTUAL_TIME_MODES else SLEEP,
        )

    @property
    def rtt_s(self) -> float:
        return self.latency_ms / 1000.0

    def seconds_for(self, nbytes: float) -> float:
        """Time ``nbytes`` take at the link rate (0 when the link is unlimited)."""
        if self.bandwidth_mbit <= 0 or nbytes <= 0:
            return 0.0
        return nbytes * 8.0 / (self.bandwidth_mbit * 1_000_000.0)


@dataclass
class Virtual:
    """What the declared package size adds to a transfer the lab really made with its small package file."""

    bytes_in: int = 0  # more bytes towards the host
    bytes_out: int = 0  # more bytes from the host
    requests: int = 0  # more request/response exchanges (round trips)
    seconds: float = 0.0  # the time those take on the link

    def to_dict(self) -> dict[str, Any]:
        return {
            "virtual_in": self.bytes_in,
            "virtual_out": self.bytes_out,
            "virtual_requests": self.requests,
            "virtual_s": round(self.seconds, 4),
        }


def priced(params: LinkParams, bytes_in: int, bytes_out: int, requests: int) -> Virtual:
    """The cost of ``requests`` exchanges moving these bytes on ``params``'s link (no queueing)."""
    seconds = requests * params.rtt_s + params.seconds_for(bytes_in) + params.seconds_for(bytes_out)
    return Virtual(bytes_in=bytes_in, bytes_out=bytes_out, requests=requests, seconds=seconds)


class Link:
    """One host's link: its parameters (re-read when the host's state file changes) and its two queues."""

    def __init__(self, estate: Estate, host_name: str) -> None:
        self.estate = estate
        self.host_name = host_name
        self._lock = threading.Lock()
        self._busy_until = {"in": 0.0, "out": 0.0}
        self._params = LinkParams()
        self._params_mtime: float | None = None

    # ---- parameters ----------------------------------------------------------------------------------------
    def params(self) -> LinkParams:
        """The host's link knobs; the state file is read again only when it changed (a stat per request)."""
        path = self.estate.host_path(self.host_name)
        try:
            mtime = os.stat(path).st_mtime_ns
        except OSError:
            return self._params
        if mtime != self._params_mtime:
            try:  # unlocked: host files are replaced atomically, and a caller may hold this host's lock
                faults = json.loads(path.read_text(encoding="utf-8")).get("faults") or {}
            except (OSError, ValueError):
                return self._params
            self._params = LinkParams.from_faults(faults)
            self._params_mtime = mtime
        return self._params

    # ---- pricing ---------------------------------------------------------------------------------------------
    def transfer_delay(self, direction: str, nbytes: int, params: LinkParams | None = None) -> float:
        """Reserve the link for ``nbytes`` in ``direction`` (in = towards the host): seconds until through."""
        params = params or self.params()
        duration = params.seconds_for(nbytes)
        if duration <= 0:
            return 0.0
        with self._lock:
            now = time.monotonic()
            start = max(now, self._busy_until[direction])
            self._busy_until[direction] = start + duration
            return start + duration - now

    def exchange(
        self,
        channel: str,
        what: str,
        bytes_in: int,
        bytes_out: int,
        *,
        round_trips: int = 1,
        wait: bool = True,
        **fields: Any,
    ) -> float:
        """Price one request/response exchange: round trips plus both directions' bytes; sleep it unless ``wait``
        is false (the caller sleeps, e.g. in pieces); log it. Returns the delay."""
        params = self.params()
        delay = round_trips * params.rtt_s
        delay += self.transfer_delay("in", bytes_in, params)
        delay += self.transfer_delay("out", bytes_out, params)
        if wait and delay > 0:
            time.sleep(delay)
        record(
            self.estate, self.host_name, channel=channel, what=what, bytes_in=bytes_in, bytes_out=bytes_out,
            round_trips=round_trips, delay_s=delay, **fields,
        )  # fmt: skip
        return delay

    def connection(self, channel: str, tls_version: str | None) -> float:
        """A new TCP connection (and TLS handshake): its round trips, slept and logged."""
        trips = TCP_HANDSHAKE_RTT + (TLS_HANDSHAKE_RTT.get(tls_version or "", 2) if tls_version else 0)
        return self.exchange(channel, "connect" + (f" ({tls_version})" if tls_version else ""), 0, 0, round_trips=trips)

    def serve_connection(self, server: Any, request: Any, client_address: Any, channel: str) -> None:
        """A lab server's ``finish_request``: the TLS handshake (``server.ssl_context``, when set) in the
        connection's own thread, so a slow client cannot stall accept(); the connection's round trips (TCP, TLS)
        before the first request is read; then the server's request handler on the connection."""
        conn, tls_version = request, None
        if server.ssl_context is not None:
            try:
                request.settimeout(30)
                conn = server.ssl_context.wrap_socket(request, server_side=True)
                conn.settimeout(None)
                tls_version = conn.version()
            except (ssl.SSLError, OSError) as exc:
                log.debug("%s: TLS handshake failed (%s): %s", self.host_name, channel, exc)
                request.close()
                return
        self.connection(channel, tls_version)
        try:
            server.RequestHandlerClass(conn, client_address, server)
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def add_virtual(self, channel: str, what: str, virtual: Virtual, *, waited: bool = False) -> Virtual:
        """The declared package size's extra cost: waited (``virtual_time: sleep``) or only recorded (``account``).

        ``waited``: the caller already waited it, paced with the real bytes (a download, so the host's reads take
        that long)."""
        params = self.params()
        if params.virtual_time == SLEEP and virtual.seconds > 0 and not waited:
            time.sleep(virtual.seconds)
        record(
            self.estate, self.host_name, channel=channel, what=what, bytes_in=0, bytes_out=0, round_trips=0,
            delay_s=virtual.seconds if params.virtual_time == SLEEP else 0.0, virtual_mode=params.virtual_time,
            **virtual.to_dict(),
        )  # fmt: skip
        return virtual


def for_host(estate: Estate, host_name: str) -> Link:
    """THE link of a host in this process: WinRM, the file server and the shares share its queues."""
    key = (str(estate.path), host_name)
    with _LINKS_LOCK:
        found = _LINKS.get(key)
        if found is None:
            found = _LINKS[key] = Link(estate, host_name)
        return found


def host_faults(estate: Estate, host_name: str) -> dict[str, Any]:
    """The host's ``faults`` read without its lock (host files are replaced atomically; a caller may hold it)."""
    try:
        data = json.loads(estate.host_path(host_name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(data.get("faults") or {})


# ---- the declared package size ---------------------------------------------------------------------------------
def declared_extra(params: LinkParams, real_size: int) -> int:
    """How many bytes more than the real package file the declared size is (0 when none is declared)."""
    return max(0, params.package_virtual_bytes - real_size)


PUT_FILE_CHUNK = 250_000  # ansible-core plugins/connection/winrm.py _put_file_stdin_iterator(buffer_size=250000)


def b64_len(nbytes: int) -> int:
    return 4 * math.ceil(nbytes / 3) if nbytes > 0 else 0


def put_file_wire_bytes(size: int) -> tuple[int, int]:
    """(Send requests, base64 payload bytes on the wire) for a file of ``size`` bytes sent by put_file.

    ansible-core's winrm connection (``_put_file_stdin_iterator``) reads the file in 250,000-byte chunks and sends
    each as base64 plus CRLF; ``_winrm_send_input`` base64-encodes that stdin again into the SOAP ``Stream`` of one
    Send request (winrm-wire.md, "File transfer": base64 lines of data after the bootstrap). One Send per chunk.
    """
    if size <= 0:
        return 1, 0
    chunks = math.ceil(size / PUT_FILE_CHUNK)
    full, last = divmod(size, PUT_FILE_CHUNK)
    payload = full * b64_len(b64_len(PUT_FILE_CHUNK) + 2)
    if last:
        payload += b64_len(b64_len(last) + 2)
    return chunks, payload


@dataclass
class SendStats:
    """What the Send requests of one command really carried (lab/wsman.py counts them)."""

    requests: int = 0
    request_bytes: int = 0
    response_bytes: int = 0
    payload_bytes: int = 0  # the base64 text inside the Stream elements
    extras: dict[str, Any] = field(default_factory=dict)


def put_file_virtual(params: LinkParams, real_size: int, sends: SendStats) -> Virtual | None:
    """The extra cost of a put_file of the lab's package when the host declares a bigger package.

    The real transfer's Send requests give the envelope overhead per request and the response size; the declared
    size's transfer needs :func:`put_file_wire_bytes` of it. None when no larger size is declared.
    """
    if declared_extra(params, real_size) <= 0 or sends.requests <= 0:
        return None
    real_chunks, real_payload = put_file_wire_bytes(real_size)
    chunks, payload = put_file_wire_bytes(params.package_virtual_bytes)
    overhead = max(0, sends.request_bytes - sends.payload_bytes) / sends.requests  # envelope + headers per Send
    response = sends.response_bytes / sends.requests
    extra_requests = max(0, chunks - real_chunks)
    extra_in = max(0, payload - real_payload) + int(extra_requests * overhead)
    extra_out = int(extra_requests * response)
    return priced(params, extra_in, extra_out, extra_requests)


# ---- the wire log -----------------------------------------------------------------------------------------------
def wire_path(estate: Estate, host_name: str) -> Any:
    return estate.path / "wire" / f"{host_name}.jsonl"


def record(estate: Estate, host_name: str, **fields: Any) -> None:
    entry = {"time": round(time.time(), 4), **fields}
    for key in ("delay_s",):
        if key in entry:
            entry[key] = round(float(entry[key]), 4)
    path = wire_path(estate, host_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, sort_keys=True) + "\n"
    with _LOG_LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


def read(estate: Estate, host_name: str) -> list[dict[str, Any]]:
    path = wire_path(estate, host_name)
    if not path.is_file():
        return []
    with _LOG_LOCK:
        text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def clear(estate: Estate, host_name: str | None = None) -> None:
    names = [host_name] if host_name else estate.host_names()
    with _LOG_LOCK:
        for name in names:
            wire_path(estate, name).unlink(missing_ok=True)


def summary(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals per channel: exchanges, round trips, bytes each way, with the declared package size's additions."""
    out: dict[str, dict[str, Any]] = {}
    for e in entries:
        ch = out.setdefault(
            e.get("channel", "?"),
            {"requests": 0, "connections": 0, "bytes_in": 0, "bytes_out": 0, "virtual_requests": 0, "virtual_in": 0,
             "virtual_out": 0, "virtual_s": 0.0, "delay_s": 0.0},
        )  # fmt: skip
        what = str(e.get("what", ""))
        if what.startswith("connect"):
            ch["connections"] += 1
        elif e.get("round_trips", 0):
            ch["requests"] += 1
        ch["bytes_in"] += int(e.get("bytes_in") or 0)
        ch["bytes_out"] += int(e.get("bytes_out") or 0)
        ch["virtual_requests"] += int(e.get("virtual_requests") or 0)
        ch["virtual_in"] += int(e.get("virtual_in") or 0)
        ch["virtual_out"] += int(e.get("virtual_out") or 0)
        ch["virtual_s"] = round(ch["virtual_s"] + float(e.get("virtual_s") or 0), 4)
        ch["delay_s"] = round(ch["delay_s"] + float(e.get("delay_s") or 0), 4)
    return out
