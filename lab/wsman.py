"""WS-Management server for the emulated hosts: one listening port per host, all in one process (threads).

winrm-wire.md, "WS-Management, as pywinrm uses it": one ``/wsman`` endpoint, SOAP 1.2, operations Create
(shell), Command, Send (stdin), Receive (stdout/stderr + exit code), Signal (terminate), Delete (shell);
pywinrm needs the ShellId in a ``Selector Name="ShellId"``, a ``CommandId``, base64 ``Stream``s,
``CommandState .../Done`` with an ``ExitCode`` and ``RelatesTo`` echoing the request's ``MessageID``.
Basic auth over HTTPS (self-signed certificate, lab/estate.py) or HTTP; no message encryption.

A command becomes a *remote call* when its output is first received (all stdin is in by then: the winrm
plugin sends every chunk before it receives). The call is decoded (lab.payload), subjected to the host's
faults (``drop_connection_at``), answered by the handler (``lab.dispatch.handle`` unless another is injected)
and journaled (lab.journal).

Every HTTP request is priced on the host's link (lab/link.py): one round trip (``latency_ms``) per request and
the request's and response's bytes at the link rate (``bandwidth_mbit``); a new connection pays its TCP and TLS
handshakes. A ``put_file`` of the lab's Unified Setup package on a host that declares a bigger package
(``package_virtual_bytes``) adds what the declared size's Send requests would have cost.
"""

from __future__ import annotations

import base64
import logging
import signal
import ssl
import threading
import time
import traceback
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from xml.sax.saxutils import escape

from lab import estate as estate_meta
from lab import journal, link, payload
from lab.requests import FileRequest, Reply
from lab.state import Estate

log = logging.getLogger("lab.wsman")

Handler = Callable[[Estate, str, Any], Reply]

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDR = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
STATE_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
STATE_RUNNING = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"

# pywinrm protocol.send_message: WSManFault Code 2150858793 on Receive -> WinRMOperationTimeoutError (retried).
FAULT_OPERATION_TIMEOUT = 2150858793
# "The request for the Windows Remote Shell with ShellId ... failed because the shell was not found".
FAULT_SHELL_NOT_FOUND = 2150858843
RECEIVE_WAIT_S = 5.0
# What the lab's response headers add to a response body (status line, Server, Date, Content-Type, Content-Length);
# request headers are counted as received.
RESPONSE_HEADER_BYTES = 160
# The first bytes of the lab's Unified Setup package (lab/asr/products.marker of lab/asr/installer.PACKAGE_KIND).
PACKAGE_MAGIC = b"ASR-LAB-UNIFIED-SETUP\n"


class _DropConnection(Exception):
    """Fault ``drop_connection_at``: close the TCP connection without writing a reply."""


@dataclass
class _Command:
    command_id: str
    line: str
    console_mode_stdin: bool
    stdin: bytearray = field(default_factory=bytearray)
    stdin_done: bool = False
    reply: Reply | None = None
    delivered: bool = False
    cond: threading.Condition = field(default_factory=threading.Condition)
    run_lock: threading.Lock = field(default_factory=threading.Lock)
    worker: threading.Thread | None = None
    finished: threading.Event = field(default_factory=threading.Event)
    dropped: bool = False  # the drop_connection_at fault fired for this command
    sends: link.SendStats = field(default_factory=link.SendStats)  # what its Send requests carried (put_file)


@dataclass
class _Shell:
    shell_id: str
    commands: dict[str, _Command] = field(default_factory=dict)


class HostEndpoint:
    """Everything one emulated host's WinRM service knows: credentials, shells, the estate, the handler."""

    def __init__(self, estate: Estate, host_name: str, username: str, password: str, handler: Handler) -> None:
        self.estate = estate
        self.host_name = host_name
        self.username = username
        self.password = password
        self.handler = handler
        self.shells: dict[str, _Shell] = {}
        self.lock = threading.Lock()
        self.link = link.for_host(estate, host_name)

    # ---- auth --------------------------------------------------------------------------------------------
    def authorised(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        # Windows account names are case-insensitive; a ".\" or "HOST\" prefix names the local account.
        user = user.rsplit("\\", 1)[-1]
        return user.lower() == self.username.lower() and password == self.password

    def powered_off(self) -> bool:
        """Seed field ``reachable: false``: a process server that is gone (powered off, off the network), the case
        the reference's purge is for [5] -- it answers nothing, so every connection is reset before a shell exists
        and Ansible reports the host unreachable. Read fresh from disk at each shell creation (every module call
        opens its own shell), so a test may bring the host back by editing its state."""
        return self.estate.read_host(self.host_name).data.get("reachable", True) is False

    # ---- operations --------------------------------------------------------------------------------------
    def handle_soap(self, body: bytes, wire_in: int = 0) -> tuple[int, str, str]:
        """Answer one WS-Management request: (HTTP status, response text, operation name for the wire log).

        ``wire_in``: the request's size on the wire (headers included), counted for a Send's command (put_file)."""
        root = ET.fromstring(body)
        header = _child(root, "Header")
        action = _text(header, "Action")
        message_id = _text(header, "MessageID") or ""
        op = action.rsplit("/", 1)[-1]
        shell_id = None
        for node in root.iter():
            if _local(node.tag) == "Selector" and node.get("Name") == "ShellId":
                shell_id = (node.text or "").strip()
        body_node = _child(root, "Body")
        if op == "Create":
            if self.powered_off():
                raise _DropConnection()
            return 200, self._create(message_id), op
        shell = self.shells.get(shell_id or "")
        if shell is None:
            return 500, _fault(
                message_id, "s:Sender", "w:InvalidSelectors", FAULT_SHELL_NOT_FOUND,
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell "
                "was not found on the server.",
            ), op  # fmt: skip
        if op == "Delete":
            with self.lock:
                self.shells.pop(shell.shell_id, None)
            return 200, _envelope(message_id, f"{NS_TRANSFER}/DeleteResponse", ""), op
        if op == "Command":
            return 200, self._command(message_id, shell, root, body_node), op
        if op == "Send":
            return 200, self._send(message_id, shell, body_node, wire_in), op
        if op == "Receive":
            status, text = self._receive(message_id, shell, header, body_node)
            return status, text, op
        if op == "Signal":
            node = _find(body_node, "Signal")
            command_id = node.get("CommandId") if node is not None else None
            with self.lock:
                shell.commands.pop(command_id or "", None)
            return 200, _envelope(message_id, f"{NS_SHELL}/SignalResponse", "<rsp:SignalResponse/>"), op
        fault = _fault(message_id, "s:Sender", "a:ActionNotSupported", 2150858757, f"unsupported {action}")
        return 500, fault, op

    def _create(self, message_id: str) -> str:
        shell_id = str(uuid.uuid4()).upper()
        with self.lock:
            self.shells[shell_id] = _Shell(shell_id)
        body = (
            f"<x:ResourceCreated><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
            f"</a:Address><a:ReferenceParameters><w:ResourceURI>{RESOURCE_CMD}</w:ResourceURI>"
            f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
            f"</a:ReferenceParameters></x:ResourceCreated>"
            f"<rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId><rsp:ResourceUri>{RESOURCE_CMD}</rsp:ResourceUri>"
            f"<rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams>"
            f"</rsp:Shell>"
        )
        return _envelope(message_id, f"{NS_TRANSFER}/CreateResponse", body)

    def _command(self, message_id: str, shell: _Shell, root: ET.Element, body: ET.Element | None) -> str:
        options = {n.get("Name"): (n.text or "").strip().upper() for n in root.iter() if _local(n.tag) == "Option"}
        command = _text(body, "Command")
        arguments = [(n.text or "") for n in (body.iter() if body is not None else []) if _local(n.tag) == "Arguments"]
        command_id = str(uuid.uuid4()).upper()
        cmd = _Command(
            command_id=command_id,
            line=payload.command_line(command, arguments),
            console_mode_stdin=options.get("WINRS_CONSOLEMODE_STDIN", "TRUE") == "TRUE",
        )
        with self.lock:
            shell.commands[command_id] = cmd
        inner = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"
        return _envelope(message_id, f"{NS_SHELL}/CommandResponse", inner)

    def _send(self, message_id: str, shell: _Shell, body: ET.Element | None, wire_in: int = 0) -> str:
        response = _envelope(message_id, f"{NS_SHELL}/SendResponse", "<rsp:SendResponse/>")
        for stream in (n for n in (body.iter() if body is not None else []) if _local(n.tag) == "Stream"):
            cmd = shell.commands.get(stream.get("CommandId") or "")
            if cmd is None:
                continue
            with cmd.cond:
                if stream.text:
                    text = stream.text.strip()
                    cmd.stdin += base64.b64decode(text)
                    cmd.sends.payload_bytes += len(text)
                cmd.sends.requests += 1
                cmd.sends.request_bytes += wire_in
                cmd.sends.response_bytes += len(response.encode("utf-8")) + RESPONSE_HEADER_BYTES
                if (stream.get("End") or "").lower() == "true":
                    cmd.stdin_done = True
                    cmd.cond.notify_all()
        return response

    def _receive(
        self, message_id: str, shell: _Shell, header: ET.Element | None, body: ET.Element | None
    ) -> tuple[int, str]:
        desired = _find(body, "DesiredStream")
        command_id = desired.get("CommandId") if desired is not None else None
        cmd = shell.commands.get(command_id or "")
        if cmd is None:
            return 500, _fault(message_id, "s:Sender", "w:InvalidParameter", 2150858843, "unknown CommandId")
        wait = min(RECEIVE_WAIT_S, _duration_s(_text(header, "OperationTimeout")) or RECEIVE_WAIT_S)
        deadline = time.monotonic() + wait
        with cmd.cond:
            ready = cmd.cond.wait_for(lambda: cmd.stdin_done or cmd.console_mode_stdin, timeout=wait)
        if ready:
            with cmd.run_lock:
                if cmd.worker is None:
                    # The command runs on its own, as a process does on Windows: a Receive waits for it at most
                    # until its OperationTimeout, so a long command never holds one HTTP request past the
                    # client's read timeout (winrm-wire.md; ansible's winrm plugin re-sends the Receive).
                    cmd.worker = threading.Thread(target=self._run, args=(cmd,), daemon=True)
                    cmd.worker.start()
            ready = cmd.finished.wait(timeout=max(0.0, deadline - time.monotonic()))
        if not ready:
            # Real WinRM answers a Receive that outlives OperationTimeout with this fault; pywinrm retries.
            return 500, _fault(message_id, "s:Receiver", "w:TimedOut", FAULT_OPERATION_TIMEOUT, "operation timeout")
        with cmd.run_lock:
            if cmd.dropped:
                cmd.dropped = False  # once: the client's retry after the dropped connection finds the shell gone
                raise _DropConnection()
            assert cmd.reply is not None
            streams = ""
            if not cmd.delivered:
                cmd.delivered = True
                for name, text in (("stdout", cmd.reply.stdout), ("stderr", cmd.reply.stderr)):
                    data = base64.b64encode((text or "").encode("utf-8")).decode("ascii")
                    if data:
                        streams += f'<rsp:Stream Name="{name}" CommandId="{cmd.command_id}">{data}</rsp:Stream>'
                    streams += f'<rsp:Stream Name="{name}" CommandId="{cmd.command_id}" End="true"></rsp:Stream>'
        inner = (
            f"<rsp:ReceiveResponse>{streams}"
            f'<rsp:CommandState CommandId="{cmd.command_id}" State="{STATE_DONE}">'
            f"<rsp:ExitCode>{int(cmd.reply.rc)}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
        )
        return 200, _envelope(message_id, f"{NS_SHELL}/ReceiveResponse", inner)

    def _run(self, cmd: _Command) -> None:
        """Worker of one command: its reply, or the note that the drop fault fired (the Receive drops then)."""
        try:
            cmd.reply = self.remote_call(cmd.line, bytes(cmd.stdin), cmd.sends)
        except _DropConnection:
            cmd.dropped = True
            cmd.reply = Reply(rc=1, stdout="", stderr="")
        finally:
            cmd.finished.set()

    # ---- one remote call ---------------------------------------------------------------------------------
    def remote_call(self, line: str, stdin: bytes, sends: link.SendStats | None = None) -> Reply:
        started = time.monotonic()
        try:
            request = payload.decode(line, stdin)
        except payload.PayloadError as exc:
            # winrm-wire.md: "anything unrecognised must fail loudly"
            log.error("%s: cannot decode command %r: %s", self.host_name, line[:200], exc)
            reply = Reply(stdout="", stderr=f"lab: cannot decode this WinRM command: {exc}", rc=1, identity="?")
            journal.record(
                self.estate, self.host_name, op="undecodable", identity="?", args={"error": str(exc)},
                duration_s=time.monotonic() - started, rc=1,
            )  # fmt: skip
            return reply

        drop = self._faults_for(request)
        self._declared_package(request, sends)
        if drop:
            journal.record(
                self.estate, self.host_name, op=payload.op_of(request), identity=payload.identities(request)[0],
                args=None, duration_s=time.monotonic() - started, rc=None, dropped=True,
            )  # fmt: skip
            # A restarted WinRM service forgets every shell: the client's cleanup then gets "shell not found".
            with self.lock:
                self.shells.clear()
            raise _DropConnection()

        try:
            reply = self.handler(self.estate, self.host_name, request)
        except Exception as exc:  # the emulator itself broke: say so loudly, as a host-side error would be
            log.exception("%s: handler failed", self.host_name)
            reply = Reply(
                stdout="",
                stderr=f"lab: internal error while emulating this call: {exc!r}\n{traceback.format_exc()}",
                rc=1,
                identity=payload.identities(request)[0],
            )
        journal.record(
            self.estate, self.host_name, op=payload.op_of(request),
            identity=reply.identity or payload.identities(request)[0], args=reply.journal_args,
            duration_s=time.monotonic() - started, rc=reply.rc,
        )  # fmt: skip
        return reply

    def _declared_package(self, request: Any, sends: link.SendStats | None) -> None:
        """Log a put_file's Send totals (``put_file`` line of the wire log: which file, how many bytes, whether it is
        the lab's package); for the package on a host that declares a bigger one, add the declared size's extra
        Sends (lab/link.py)."""
        if not (isinstance(request, FileRequest) and request.action == "put_file" and sends is not None):
            return
        is_package = request.data.startswith(PACKAGE_MAGIC)
        params = self.link.params()
        link.record(
            self.estate, self.host_name, channel="wsman", what="put_file", bytes_in=0, bytes_out=0, round_trips=0,
            delay_s=0, path=str(request.params.get("Path", "")), file_bytes=len(request.data), package=is_package,
            sends=sends.requests, send_bytes=sends.request_bytes,
            declared_bytes=params.package_virtual_bytes if is_package else None,
        )  # fmt: skip
        extra = link.put_file_virtual(params, len(request.data), sends) if is_package else None
        if extra is not None:
            self.link.add_virtual("wsman", "put_file (declared package size)", extra)

    def _faults_for(self, request: Any) -> bool:
        """Read (and count down) this host's ``drop_connection_at`` fault, under the host lock, fresh from disk."""
        with self.estate.open_host(self.host_name) as host:
            faults = host.faults
            target = faults.get("drop_connection_at")
            drop = False
            if target is not None and target != "":
                if isinstance(target, int) or (isinstance(target, str) and target.strip().isdigit()):
                    remaining = int(target)
                    if remaining <= 1:
                        drop = True
                        faults.pop("drop_connection_at", None)
                    else:
                        faults["drop_connection_at"] = remaining - 1
                elif str(target) in payload.identities(request):
                    drop = True
                    faults.pop("drop_connection_at", None)
        return drop


# ---- HTTP plumbing -------------------------------------------------------------------------------------------
class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = 300  # idle keep-alive connections are closed after this

    server: _HostHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.server.endpoint.host_name, format % args)

    def do_POST(self) -> None:
        endpoint = self.server.endpoint
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.rstrip("/").lower() != "/wsman":
            self._respond(404, b"")
            return
        if not endpoint.authorised(self.headers.get("Authorization")):
            self._respond(401, b"", {"WWW-Authenticate": 'Basic realm="WSMAN"'})
            return
        wire_in = len(self.raw_requestline) + len(str(self.headers)) + length
        try:
            status, text, op = endpoint.handle_soap(body, wire_in)
        except _DropConnection:
            endpoint.link.exchange("wsman", "dropped", wire_in, 0)
            self._drop()
            return
        except ET.ParseError as exc:
            self._respond(400, f"bad SOAP envelope: {exc}".encode())
            return
        data = text.encode("utf-8")
        # lab/link.py: one round trip per request, both directions' bytes at the link rate, before the answer leaves
        endpoint.link.exchange("wsman", op, wire_in, len(data) + RESPONSE_HEADER_BYTES)
        self._respond(status, data, {"Content-Type": "application/soap+xml;charset=UTF-8"})

    def _respond(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _drop(self) -> None:
        # the client sees the connection reset/aborted with no HTTP response
        link.reset_connection(self)


class _HostHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, port: int, endpoint: HostEndpoint, ssl_context: ssl.SSLContext | None) -> None:
        self.endpoint = endpoint
        self.ssl_context = ssl_context
        super().__init__(("127.0.0.1", port), _RequestHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        # lab/link.py: the TLS handshake in this connection's thread, then its round trips, then the request
        self.endpoint.link.serve_connection(self, request, client_address, "wsman")

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("%s: connection error from %s", self.endpoint.host_name, client_address, exc_info=True)


class Lab:
    """The running WinRM service of every host in an estate (one thread + one port per host), and the lab's file
    server as each host reaches it (lab/fileserver.py, one port per host)."""

    def __init__(self, servers: dict[str, _HostHTTPServer], others: list[Any] | None = None) -> None:
        self.servers = servers
        self.others = list(others or [])
        self.threads: list[threading.Thread] = []

    @property
    def ports(self) -> dict[str, int]:
        return {name: srv.server_address[1] for name, srv in self.servers.items()}

    def endpoint(self, host_name: str) -> HostEndpoint:
        return self.servers[host_name].endpoint

    def start(self) -> Lab:
        for name, srv in self.servers.items():
            thread = threading.Thread(target=srv.serve_forever, args=(0.1,), name=f"wsman-{name}", daemon=True)
            thread.start()
            self.threads.append(thread)
        for other in self.others:
            thread = threading.Thread(target=other.serve_forever, args=(0.1,), name=f"files-{other.host_name}")
            thread.daemon = True
            thread.start()
            self.threads.append(thread)
        return self

    def shutdown(self) -> None:
        # Each server's shutdown() waits for its serve_forever loop to notice (up to its 0.1 s poll): stop them
        # all at once, not one after another (a 17-host estate took 1.7 s to stop).
        every = [*self.servers.values(), *self.others]
        stoppers = [threading.Thread(target=srv.shutdown, daemon=True) for srv in every]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for srv in every:
            srv.server_close()
        for thread in self.threads:
            thread.join(timeout=5)

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def _default_handler(estate: Estate, host_name: str, request: Any) -> Reply:
    from lab import dispatch  # owned by another engineer; imported lazily so the server starts without it

    return dispatch.handle(estate, host_name, request)


def serve(estate: Estate, handler: Handler | None = None) -> Lab:
    """Bind every host's port from ``estate.json`` and start serving in background threads.

    ``handler(estate, host_name, request) -> Reply`` defaults to ``lab.dispatch.handle``.
    """
    meta = estate_meta.read_meta(estate)
    ssl_context = None
    if meta["scheme"] == "https" or meta.get("files_https"):
        ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_context.minimum_version = ssl.TLSVersion.TLSv1_2
        ssl_context.load_cert_chain(estate_meta.cert_path(estate, meta), estate_meta.key_path(estate, meta))
    from lab import fileserver

    servers: dict[str, _HostHTTPServer] = {}
    files: list[Any] = []
    try:
        for name, info in sorted(meta["hosts"].items()):
            endpoint = HostEndpoint(estate, name, info["username"], info["password"], handler or _default_handler)
            winrm_tls = ssl_context if meta["scheme"] == "https" else None
            servers[name] = _HostHTTPServer(int(info["port"]), endpoint, winrm_tls)
        links = {name: srv.endpoint.link for name, srv in servers.items()}
        files = fileserver.servers(estate, meta, links, ssl_context)
        from lab import azure

        files += azure.servers(estate, meta, ssl_context)
    except BaseException:
        for srv in [*servers.values(), *files]:
            srv.server_close()
        raise
    return Lab(servers, files).start()


def run_forever(estate: Estate) -> None:
    """The background server process (``python -m lab serve``): serve until SIGTERM/SIGINT."""
    logging.basicConfig(
        filename=estate.path / "server.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    lab = serve(estate)
    log.info("serving %s", ", ".join(f"{n}:{p}" for n, p in lab.ports.items()))
    try:
        stop.wait()
    finally:
        lab.shutdown()
        log.info("stopped")


# ---- SOAP helpers --------------------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(node: ET.Element | None, name: str) -> ET.Element | None:
    if node is None:
        return None
    return next((c for c in node if _local(c.tag) == name), None)


def _find(node: ET.Element | None, name: str) -> ET.Element | None:
    if node is None:
        return None
    return next((c for c in node.iter() if _local(c.tag) == name), None)


def _text(node: ET.Element | None, name: str) -> str:
    found = _find(node, name)
    return (found.text or "").strip() if found is not None else ""


def _duration_s(value: str) -> float | None:
    """``PT20S`` / ``PT20.000S`` -> 20.0 (xs:duration as pywinrm writes OperationTimeout)."""
    if value.startswith("PT") and value.endswith("S"):
        try:
            return float(value[2:-1])
        except ValueError:
            return None
    return None


def _envelope(relates_to: str, action: str, body: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDR}" xmlns:x="{NS_TRANSFER}" xmlns:w="{NS_WSMAN}" '
        f'xmlns:rsp="{NS_SHELL}" xml:lang="en-US">'
        f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


def _fault(relates_to: str, code: str, subcode: str, wsman_code: int, reason: str) -> str:
    body = (
        f"<s:Fault><s:Code><s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode>"
        f'</s:Code><s:Reason><s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="{NS_FAULT}" Code="{wsman_code}" Machine="localhost">'
        f"<f:Message>{escape(reason)}</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope(relates_to, "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", body)
