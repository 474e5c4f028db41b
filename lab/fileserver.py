"""The lab's file server: real HTTP(S) on 127.0.0.1 for ``installer_url`` (docs/lab.md, "The file server").

It serves the files under ``<estate>/www/`` (``GET`` and ``HEAD``, ``Range: bytes=N-`` and ``bytes=N-M`` with
``206 Partial Content``/``Content-Range``, ``416`` past the end; RFC 9110 sections 14.2 and 15.3.7). Every emulated
host reaches it on its OWN port (``files_port`` in estate.json, ``asr_lab_files_url`` in the inventory): the port
stands for the host's network link, so a download is priced on that host's link like its WinRM traffic
(lab/link.py: a round trip per request, the TCP and TLS handshakes, the body at ``bandwidth_mbit`` or
``http_bandwidth_mbit``, towards the host) and a fault set on the host applies to its downloads only. The scheme
is plain HTTP unless the estate was made with ``files_https`` (then HTTPS with the estate's certificate:
lab.estate.files_scheme says why).

A token like a storage SAS: when ``<estate>/www/.token`` exists, a request must carry ``sig=<that text>`` in its
query or gets ``403``. The wire log records the path only, never the query.

The lab's Unified Setup package on a host that declares a bigger one (``package_virtual_bytes``): the real bytes go
out, then the declared size's share of the bytes served is added (lab/link.py ``add_virtual``): a range of the small
file stands for the same fraction of the declared one.

Faults (host ``faults``, ``python -m lab fault <host> <knob> <value>``):

* ``http_cut_at`` -- cut the next download of a file (one-shot) after that many body bytes (an integer), or after
  that fraction of the file (a number between 0 and 1): the client sees the connection close before the body ends;
* ``http_status`` -- answer every request with this status (``404``, ``500``, ``503``...) until cleared;
* ``http_wrong_content`` -- ``true``: serve the file with its last byte changed (a server or cache with a wrong
  copy: the checksum does not match);
* ``http_bandwidth_mbit`` -- the server's rate towards this host, below the link's (a slow server).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lab import link
from lab.state import Estate

log = logging.getLogger("lab.fileserver")

CHUNK = 65536  # bytes written (and priced) at a time, so a transfer streams and a cut can fall anywhere
PACKAGE_MAGIC = b"ASR-LAB-UNIFIED-SETUP\n"  # lab/asr/products.marker of the package (lab/asr/installer.py)
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
RESPONSE_HEADER_BYTES = 200


def www_dir(estate: Estate) -> Any:
    return estate.path / "www"


def publish(estate: Estate, name: str, data: bytes) -> str:
    """Put a file on the file server; returns its URL path (``/<name>``)."""
    target = www_dir(estate) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return "/" + name.lstrip("/")


def set_token(estate: Estate, token: str | None) -> None:
    """Require ``sig=<token>`` in every request's query (None: no token)."""
    path = www_dir(estate) / ".token"
    if token is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token, encoding="utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lab-files/1"
    sys_version = ""
    timeout = 120

    server: FileServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.host_name, format % args)

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    # ---- one request -------------------------------------------------------------------------------------------
    def _serve(self, body: bool) -> None:
        wire = self.server.link
        parts = urllib.parse.urlsplit(self.path)
        what = f"{self.command} {parts.path}"
        request_bytes = len(self.raw_requestline) + len(str(self.headers))
        faults = self.server.faults()
        status = _forced_status(faults)
        data = None
        if status is None:
            status, data = self._lookup(parts)
        if status != 200 or data is None:
            self._answer_status(wire, what, request_bytes, status)
            return
        if faults.get("http_wrong_content"):
            data = data[:-1] + bytes([data[-1] ^ 0xFF]) if data else b"?"
        start, end, status = _range(self.headers.get("Range"), len(data))
        if status == 416:
            self._answer_status(wire, what, request_bytes, 416, {"Content-Range": f"bytes */{len(data)}"})
            return
        headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
                   "Content-Length": str(end - start)}  # fmt: skip
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
        # one round trip for the request and the response headers (lab/link.py)
        wire.exchange("http", what, RESPONSE_HEADER_BYTES, request_bytes, range=self.headers.get("Range"),
                      status=status, token=self.server.token_state(parts.query))  # fmt: skip
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if not body:
            return
        cut = self.server.take_cut(faults, len(data))
        declared = data.startswith(PACKAGE_MAGIC)
        sent = self._stream(wire, data[start:end], cut, faults, len(data) if declared else 0)
        if cut is not None and sent < end - start:
            self._cut()

    def _lookup(self, parts: urllib.parse.SplitResult) -> tuple[int, bytes | None]:
        if self.server.token_state(parts.query) == "refused":
            return 403, None
        root = www_dir(self.server.estate).resolve()
        target = (root / urllib.parse.unquote(parts.path).lstrip("/")).resolve()
        if root not in target.parents or not target.is_file() or target.name == ".token":
            return 404, None
        return 200, target.read_bytes()

    def _stream(self, wire: link.Link, body: bytes, cut: int | None, faults: dict[str, Any], package_size: int) -> int:
        """Write the body in chunks at the link's (or the slow server's) rate; stop at ``cut`` bytes.

        ``package_size``: the lab package's size when the body is (part of) it. On a host that declares a bigger
        package, each byte stands for its share of the declared size: with ``virtual_time: sleep`` the writes are
        paced by that (in pieces of at most 5 seconds, so the host's reads never stall long), else it is recorded."""
        params = wire.params()
        rate = float(faults.get("http_bandwidth_mbit") or 0)
        slow = link.LinkParams(bandwidth_mbit=rate) if rate else None
        limit = len(body) if cut is None else min(cut, len(body))
        extra_per_byte = link.declared_extra(params, package_size) / package_size if package_size else 0.0
        virtual_s_per_byte = params.seconds_for(extra_per_byte) if slow is None else slow.seconds_for(extra_per_byte)
        paced = params.virtual_time == link.SLEEP and virtual_s_per_byte > 0
        piece_size = max(1, min(CHUNK, int(5.0 / virtual_s_per_byte))) if paced else CHUNK
        sent = 0
        while sent < limit:
            piece = body[sent : min(limit, sent + piece_size)]
            delay = wire.transfer_delay("in", len(piece), params)
            if slow is not None:
                delay = max(delay, slow.seconds_for(len(piece)))
            if paced:
                delay += virtual_s_per_byte * len(piece)
            if delay > 0:
                threading.Event().wait(delay)
            try:
                self.wfile.write(piece)
            except OSError:
                break
            sent += len(piece)
        with contextlib.suppress(OSError):
            self.wfile.flush()
        link.record(
            self.server.estate, self.server.host_name, channel="http", what="body", bytes_in=sent, bytes_out=0,
            round_trips=0, delay_s=params.seconds_for(sent), cut=cut is not None and sent < len(body),
        )  # fmt: skip
        if extra_per_byte and sent:
            extra = link.priced(params if slow is None else slow, int(extra_per_byte * sent), 0, 0)
            wire.add_virtual("http", "body (declared package size)", extra, waited=paced)
        return sent

    def _answer_status(
        self, wire: link.Link, what: str, request_bytes: int, status: int, headers: dict[str, str] | None = None
    ) -> None:
        text = f"{status} {self.responses.get(status, ('',))[0]}\n".encode()
        wire.exchange("http", what, len(text) + RESPONSE_HEADER_BYTES, request_bytes, status=status)
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(text)

    def _cut(self) -> None:
        """Close the connection mid-body (RST): the client's read ends early."""
        link.reset_connection(self)


def _forced_status(faults: dict[str, Any]) -> int | None:
    value = faults.get("http_status")
    try:
        return int(value) if value not in (None, "", False) else None
    except (TypeError, ValueError):
        return None


def _range(header: str | None, size: int) -> tuple[int, int, int]:
    """(start, end exclusive, status) of a single ``bytes=`` range; the whole file (200) without one."""
    if not header:
        return 0, size, 200
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return 0, size, 200  # RFC 9110 14.2: an unreadable Range is ignored
    first, last = match.group(1), match.group(2)
    if not first:  # suffix: the last N bytes
        count = min(int(last), size)
        return size - count, size, 206
    start = int(first)
    if start >= size:
        return 0, 0, 416
    end = min(size, int(last) + 1) if last else size
    return start, end, 206


class FileServer(ThreadingHTTPServer):
    """The file server as one emulated host reaches it (its own port, its own link)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, estate: Estate, host_name: str, port: int, wire: link.Link, ssl_context: Any) -> None:
        self.estate = estate
        self.host_name = host_name
        self.link = wire
        self.ssl_context = ssl_context
        self._cut_lock = threading.Lock()
        self._cut_pending: Any = None
        super().__init__(("127.0.0.1", port), _Handler)

    def faults(self) -> dict[str, Any]:
        faults = link.host_faults(self.estate, self.host_name)
        with self._cut_lock:
            if self._cut_pending is not None and faults.get("http_cut_at") == self._cut_pending:
                faults.pop("http_cut_at")  # consumed; its removal from the host state is on its way
        return faults

    def token_state(self, query: str) -> str:
        """``none`` (no token required), ``ok`` or ``refused``."""
        path = www_dir(self.estate) / ".token"
        if not path.is_file():
            return "none"
        wanted = path.read_text(encoding="utf-8").strip()
        given = urllib.parse.parse_qs(query).get("sig", [""])[0]
        return "ok" if given == wanted else "refused"

    def take_cut(self, faults: dict[str, Any], size: int) -> int | None:
        """The one-shot ``http_cut_at`` as a byte count. Consumed at once here, and removed from the host's state by a
        thread of its own: a collection script running under the host's lock may be waiting for this download."""
        value = faults.get("http_cut_at")
        if value in (None, "", False):
            return None
        with self._cut_lock:
            if self._cut_pending is not None:
                return None
            self._cut_pending = value
        threading.Thread(target=self._consume_cut, args=(value,), daemon=True).start()
        number = float(value)
        return int(size * number) if 0 < number < 1 else int(number)

    def _consume_cut(self, value: Any) -> None:
        with self.estate.open_host(self.host_name) as host:
            if host.faults.get("http_cut_at") == value:
                host.faults.pop("http_cut_at")
        with self._cut_lock:
            self._cut_pending = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        self.link.serve_connection(self, request, client_address, "http")

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection error from %s", self.host_name, client_address, exc_info=True)


def servers(estate: Estate, meta: dict[str, Any], links: dict[str, link.Link], ssl_context: Any) -> list[FileServer]:
    """One file server per host that has a ``files_port`` (estates made before the file server have none); HTTPS with
    the estate's certificate only when the estate says ``files_https`` (lab.estate.files_scheme)."""
    from lab.estate import files_scheme

    if files_scheme(meta) != "https":
        ssl_context = None
    made = []
    for name, info in sorted(meta["hosts"].items()):
        if info.get("files_port"):
            made.append(FileServer(estate, name, int(info["files_port"]), links[name], ssl_context))
    return made


def url(meta: dict[str, Any], host_name: str, path: str, token: str | None = None) -> str:
    """The URL ``host_name`` downloads ``path`` from (with ``sig=<token>`` when given)."""
    from lab.estate import files_scheme

    scheme = files_scheme(meta)
    query = "?" + urllib.parse.urlencode({"sig": token}) if token else ""
    return f"{scheme}://127.0.0.1:{meta['hosts'][host_name]['files_port']}/{path.lstrip('/')}{query}"
