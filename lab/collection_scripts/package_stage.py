"""The lab's answer to ``package_stage v1`` (``plugins/plugin_utils/powershell/package_stage.ps1``).

Each block mirrors the script's block of the same heading, against the emulated host:

* already staged: the package at ``PackagePath`` with ``ExpectedSha256`` is ``staged``; a different file there is
  removed (not in check mode);
* a controller transfer: ``$env:SystemRoot\\Temp\\<SourcePath>`` is checked (SHA-256) and moved to ``PackagePath``, or
  deleted when it arrived different;
* a transfer by the host (``url``, ``share``): the protected ``transfer`` folder next to the package, ``spec.json``
  (LAB: the URL is kept in memory only, see below), ``runner.ps1`` and ``started.json`` with a process id; the
  runner's command line goes to the process log as Win32_Process.Create would have it (no URL on it).

The detached runner is a thread of the lab's server process that does what the runner text does: a REAL download
from the URL (the lab's file server, lab/fileserver.py, over HTTP(S) with ``Range: bytes=N-`` to resume) or a read
of the lab share (lab/share.py, as the caller's identity: with become the computer account, without it the double
hop), appending to the partial package, retrying ``MaxAttempts`` times (waiting ``min(30, 2 x attempt)`` seconds),
then the SHA-256 check. LAB: while it runs it keeps the partial package and its status in memory (the real runner
writes ``package.partial`` and ``status.json``); this script's emulation writes them into the host's state when it
reads the status -- the real script reads ``status.json`` -- so the runner never waits for the host's lock, which the
call that waits for it (``WaitSeconds``) holds. A runner is alive while its thread runs; after a restart of the lab
server it is not, and the next call starts a new one, which resumes from the persisted partial file.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from lab import scripts
from lab import share as lab_share
from lab.asr import products
from lab.state import Estate, Host

PROTECTED_ACL = {"sids": ["S-1-5-18", "S-1-5-32-544"], "protected": True}
RUNNER_HEADER = "# asr.process_server package transfer runner (written by package_stage v1)\r\n"
POWERSHELL = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"
FIRST_PID = 6100  # LAB: runner process ids (multiples of 4, as Windows' are)
PERMANENT_HTTP = frozenset(range(400, 500)) - {408, 416, 429}


@dataclass
class _Runner:
    """One detached transfer: its spec, the thread, what it has so far."""

    spec: dict[str, Any]
    partial: bytearray
    status: dict[str, Any]
    thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


_RUNNERS: dict[tuple[str, str, str], _Runner] = {}
_RUNNERS_LOCK = threading.Lock()


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _key(host: Host, transfer_dir: str) -> tuple[str, str, str]:
    estate = host.estate
    return (str(estate.path) if estate is not None else "", host.name, transfer_dir.lower())


def _facts(host: Host, path: str) -> dict[str, Any]:
    """Get-PackageFact: exists, size, SHA-256, version resource (LAB: the marker's version line)."""
    fact: dict[str, Any] = {"path": path, "exists": False, "size_bytes": None, "sha256": None, "file_version": None,
                            "product_version": None}  # fmt: skip
    if not host.is_file(path):
        return fact
    data = host.read_bytes(path)
    version = products.marker_version(data)
    fact.update(exists=True, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(), file_version=version,
                product_version=version)  # fmt: skip
    return fact


def _read_json(host: Host, path: str) -> dict[str, Any] | None:
    return json.loads(host.read_text(path)) if host.is_file(path) else None


def _alive(host: Host, transfer_dir: str) -> _Runner | None:
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(_key(host, transfer_dir))
    if runner is not None and runner.thread is not None and runner.thread.is_alive():
        return runner
    return None


# ---- the runner (a thread standing for the detached runner process) -------------------------------------------------
def _run(estate: Estate, host_name: str, runner: _Runner) -> None:
    spec, status = runner.spec, runner.status
    try:
        while True:
            status["attempts"] += 1
            try:
                if spec["kind"] == "url":
                    _download(estate, spec, runner)
                else:
                    _copy(estate, host_name, spec, runner)
                break
            except _Permanent as exc:
                raise RuntimeError(str(exc)) from exc
            except (OSError, http.client.HTTPException, _Transient) as exc:
                if status["attempts"] >= int(spec["max_attempts"]):
                    raise RuntimeError(_scrub(str(exc) or type(exc).__name__, spec)) from exc
                with runner.lock:
                    status["error"] = _scrub(str(exc) or type(exc).__name__, spec)
                time.sleep(min(30, 2 * status["attempts"]))
        digest = hashlib.sha256(bytes(runner.partial)).hexdigest()
        with runner.lock:
            status.update(sha256=digest, bytes_done=len(runner.partial))
            if digest != spec["sha256"]:
                runner.partial.clear()
                raise RuntimeError(
                    f"the package from {spec['shown']} has SHA-256 {digest}, not the expected {spec['sha256']}; it was "
                    "deleted and not staged"
                )
            status.update(state="staged", error=None)
    except Exception as exc:  # the runner's catch: the failure in its status
        with runner.lock:
            status.update(state="failed", error=_scrub(str(exc), spec))
    finally:
        with runner.lock:
            status["finished"] = _iso(time.time())


class _Permanent(Exception):
    """An HTTP answer a retry does not change, or access denied to a share."""


class _Transient(Exception):
    """A short read, a server error: retried with a resume."""


def _scrub(text: str, spec: dict[str, Any]) -> str:
    secret = spec.get("url") or ""
    return text.replace(secret, spec["shown"]) if secret else text


def _download(estate: Estate, spec: dict[str, Any], runner: _Runner) -> None:
    """Receive-FromUrl: from the partial file's length on (Range); a 200 to a Range starts over; 416 = complete."""
    parts = urllib.parse.urlsplit(spec["url"])
    offset = len(runner.partial)
    if parts.scheme == "https":
        context = ssl.create_default_context(cafile=str(estate.path / "tls" / "cert.pem"))
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port or 443, context=context, timeout=120
        )
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=120)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target, headers={"Range": f"bytes={offset}-"} if offset else {})
        response = conn.getresponse()
        if offset and response.status == 416:
            response.read()
            return
        if response.status >= 400:
            response.read()
            error = f"The remote server returned an error: ({response.status}) {response.reason}."
            raise (_Permanent if response.status in PERMANENT_HTTP else _Transient)(error)
        with runner.lock:
            if offset and response.status != 206:
                runner.partial.clear()
                offset = 0
            length = response.getheader("Content-Length")
            runner.status.update(resumed_from=offset, bytes_done=offset,
                                 bytes_total=offset + int(length) if length is not None else None)  # fmt: skip
        while True:
            try:
                chunk = response.read(65536)
            except http.client.IncompleteRead as exc:
                _append(runner, exc.partial)
                raise _Transient("the connection closed before the whole package arrived") from exc
            if not chunk:
                break
            _append(runner, chunk)
        total = runner.status.get("bytes_total")
        if total is not None and len(runner.partial) < int(total):
            raise _Transient("the connection closed before the whole package arrived")
    finally:
        conn.close()


def _append(runner: _Runner, data: bytes) -> None:
    with runner.lock:
        runner.partial += data
        runner.status["bytes_done"] = len(runner.partial)


def _copy(estate: Estate, host_name: str, spec: dict[str, Any], runner: _Runner) -> None:
    """Receive-FromShare: the share's file from the partial file's length on, as the caller's identity."""
    try:
        total = lab_share.size(estate, host_name, spec["path"], become=spec["become"])
        if len(runner.partial) > total:
            runner.partial.clear()
        offset = len(runner.partial)
        with runner.lock:
            runner.status.update(bytes_total=total, resumed_from=offset, bytes_done=offset)
        data = lab_share.read(estate, host_name, spec["path"], offset, become=spec["become"])
    except lab_share.ShareError as exc:
        if exc.kind == "denied":
            raise _Permanent(exc.message) from exc
        raise _Transient(exc.message) from exc
    _append(runner, data)


# ---- the script ------------------------------------------------------------------------------------------------------
def _persist(host: Host, transfer_dir: str, runner: _Runner, package_path: str) -> dict[str, Any]:
    """What the runner wrote, into the host's state (status.json; package.partial, or the package once staged)."""
    with runner.lock:
        status = dict(runner.status)
        status["updated"] = _iso(time.time())
        partial = bytes(runner.partial)
    if status["state"] == "staged":
        host.mkdir(package_path.rsplit("\\", 1)[0])
        host.write_file(package_path, partial)  # Move-Item package.partial -> PackagePath
        if host.is_file(transfer_dir + "\\package.partial"):
            host.remove(transfer_dir + "\\package.partial")
    elif partial or host.is_file(transfer_dir + "\\package.partial"):
        host.write_file(transfer_dir + "\\package.partial", partial)
    if status["state"] != "running" and host.is_file(transfer_dir + "\\spec.json"):
        host.remove(transfer_dir + "\\spec.json")  # the runner's finally
    host.write_file(transfer_dir + "\\status.json", json.dumps(status, separators=(",", ":")))
    return status


def _start(ctx: scripts.ScriptContext, transfer_dir: str, package_path: str, expected: str) -> _Runner:
    """Start-Transfer: the protected folder, spec.json, runner.ps1, Win32_Process.Create, started.json."""
    host = ctx.host
    host.mkdir(transfer_dir)
    host._entry(transfer_dir)["acl"] = dict(PROTECTED_ACL)  # type: ignore[index]
    for name in ("status.json", "started.json"):
        if host.is_file(f"{transfer_dir}\\{name}"):
            host.remove(f"{transfer_dir}\\{name}")
    kind = str(ctx.param("SourceKind"))
    spec = {
        "kind": kind,
        "url": str(ctx.secret("Url") or "") if kind == "url" else "",
        "path": str(ctx.param("SourcePath") or ""),
        "shown": str(ctx.param("SourceShown") or ""),
        "package": package_path,
        "sha256": expected,
        "max_attempts": int(ctx.param("MaxAttempts", 5)),
        "become": ctx.become,  # LAB: the runner runs under the caller's token (a WMI-created process does)
    }
    # LAB: spec.json holds the URL on Windows (a protected folder); the lab keeps the URL in the runner's memory only
    host.write_file(transfer_dir + "\\spec.json", json.dumps({**spec, "url": "(in the runner's memory)"}))
    host.write_file(transfer_dir + "\\runner.ps1", RUNNER_HEADER)
    # Get-RunnerCommandLine: a short -EncodedCommand that runs runner.ps1's text as a script block (no URL on it)
    runner_file = (transfer_dir + "\\runner.ps1").replace("'", "''")
    command = (
        f"& ([scriptblock]::Create([System.IO.File]::ReadAllText('{runner_file}'))) "
        f"-TransferDir '{transfer_dir.replace(chr(39), chr(39) * 2)}'"
    )
    encoded = base64.b64encode(command.encode("utf-16-le")).decode("ascii")
    command_line = f'"{POWERSHELL}" -NoProfile -NonInteractive -EncodedCommand {encoded}'
    host.record_process(command_line, ctx.user)
    pid = int(host.data.get("next_transfer_pid", FIRST_PID))
    host.data["next_transfer_pid"] = pid + 4
    host.write_file(transfer_dir + "\\started.json", json.dumps({"pid": pid, "started": _iso(host.now())}))
    partial = (
        host.read_bytes(transfer_dir + "\\package.partial") if host.is_file(transfer_dir + "\\package.partial") else b""
    )
    status = {"state": "running", "kind": kind, "source": spec["shown"], "attempts": 0, "resumed_from": None,
              "bytes_done": len(partial), "bytes_total": None, "sha256": None, "error": None,
              "started": _iso(time.time()), "finished": None, "updated": None}  # fmt: skip
    runner = _Runner(spec=spec, partial=bytearray(partial), status=status)
    if host.estate is None:
        raise scripts.ScriptFailure("lab: package_stage needs an estate (a host served by the lab)")
    runner.thread = threading.Thread(target=_run, args=(host.estate, host.name, runner), daemon=True)
    with _RUNNERS_LOCK:
        _RUNNERS[_key(host, transfer_dir)] = runner
    runner.thread.start()
    return runner


def _forget(host: Host, transfer_dir: str) -> None:
    with _RUNNERS_LOCK:
        _RUNNERS.pop(_key(host, transfer_dir), None)


def _collect(host: Host, transfer_dir: str, package_path: str) -> None:
    """A runner that ended since the last call: what it wrote, into the host's state."""
    with _RUNNERS_LOCK:
        ended = _RUNNERS.get(_key(host, transfer_dir))
    if ended is not None and ended.status["state"] != "running":
        _persist(host, transfer_dir, ended, package_path)
        _forget(host, transfer_dir)


def _set_aside(host: Host, transfer_dir: str) -> None:
    """Move-Item status.json last-failure.json: a failure is reported once."""
    host.write_file(transfer_dir + "\\last-failure.json", host.read_bytes(transfer_dir + "\\status.json"))
    host.remove(transfer_dir + "\\status.json")


@scripts.register("package_stage", 1)
def package_stage(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    package_path = str(ctx.param("PackagePath"))
    expected = str(ctx.param("ExpectedSha256")).lower()
    kind = str(ctx.param("SourceKind") or "")
    transfer_dir = package_path.rsplit("\\", 1)[0] + "\\transfer"
    result: dict[str, Any] = {"state": "missing", "package": None, "transfer": None, "upload_path": None, "note": None}
    ctx.changed = False
    # ---- already staged?
    package = _facts(host, package_path)
    if package["exists"] and package["sha256"] != expected:
        result["note"] = f"{package_path} had SHA-256 {package['sha256']}, not {expected}"
        if not ctx.check_mode:
            host.remove(package_path)
            ctx.changed = True
        package = _facts(host, package_path)
    # ---- a controller transfer (put_file) into the Windows temporary folder
    if not package["exists"] and kind == "upload":
        upload = f"{host.system_drive}\\Windows\\Temp\\{ctx.param('SourcePath')}"
        result["upload_path"] = upload
        if host.is_file(upload):
            data = host.read_bytes(upload)
            sha256 = hashlib.sha256(data).hexdigest()
            if sha256 != expected:
                result["note"] = (
                    f"the transferred package {upload} had SHA-256 {sha256}, not {expected} (transfer corrupted?)"
                )
            if not ctx.check_mode:
                if sha256 == expected:
                    host.mkdir(package_path.rsplit("\\", 1)[0])
                    host.write_file(package_path, data)
                host.remove(upload)
                ctx.changed = True
            package = _facts(host, package_path)
    # ---- a transfer by the host (url, share)
    if not package["exists"] and kind in ("url", "share"):
        runner = _alive(host, transfer_dir)
        if runner is None:
            _collect(host, transfer_dir, package_path)  # what an ended runner left (status.json, the package)
            package = _facts(host, package_path)
    if not package["exists"] and kind in ("url", "share"):
        status_path = transfer_dir + "\\status.json"
        status = _read_json(host, status_path)
        if runner is None and status is not None and status.get("state") == "failed":
            # Reported once; the next call starts again (a wrong package was deleted, a partial one resumes).
            result.update(state="failed", transfer=status)
            if not ctx.check_mode:
                _set_aside(host, transfer_dir)
        elif runner is not None:
            result.update(state="running", transfer=_persist(host, transfer_dir, runner, package_path))
        elif not ctx.check_mode:
            runner = _start(ctx, transfer_dir, package_path, expected)
            ctx.changed = True
            if runner.thread is not None:
                runner.thread.join(timeout=max(0, int(ctx.param("WaitSeconds", 0))))
            status = _persist(host, transfer_dir, runner, package_path)
            if status["state"] != "running":
                _forget(host, transfer_dir)
            result.update(state="failed" if status["state"] == "failed" else "running", transfer=status)
            if status["state"] == "failed":
                _set_aside(host, transfer_dir)
            package = _facts(host, package_path)
        else:
            result["state"] = "would transfer"
    if package["exists"]:
        result["state"] = "staged"
        if result["transfer"] is None:
            result["transfer"] = _read_json(host, transfer_dir + "\\status.json")
    result["package"] = package
    result["changed"] = bool(ctx.changed)
    return json.dumps(result, separators=(",", ":"))
