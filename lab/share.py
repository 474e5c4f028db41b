r"""Lab file shares: the UNC paths (``\\server\share\...``) an emulated host copies the Unified Setup package from.

A share's files are real files under ``<estate>/shares/<server>/<share>/`` (server and share names compared without
case, as Windows does); :func:`publish` puts one there. Whether a host may read a share, and what the read costs:

* the host cannot reach the file server at all (fault ``share_unreachable: true``, or a list of server names): the
  read fails as Windows reports a missing network path, "The network path was not found." (Win32 error 53);
* the double hop: a call over WinRM without ``become`` runs in a network logon that has no credentials to hand on to
  a second server (ansible-windows-practice.md section 4, pain 1; the lab's ``network_logon_restricted`` fault, as
  for installers): "Access is denied." (error 5);
* with ``become`` (SYSTEM) the host reaches the share as its computer account (``DOMAIN\HOST$``); a share whose
  ``<share>.access.json`` says ``{"computer_accounts": false}`` refuses it: "Access is denied." LAB-CHOSEN: shares
  grant computer accounts unless they say otherwise (the reference documents no default);
* the bytes cross the host's link (lab/link.py): opening the file costs 4 round trips (LAB-CHOSEN: SMB2 NEGOTIATE,
  SESSION_SETUP, TREE_CONNECT and CREATE after the TCP handshake), the data goes at the link rate, and a declared
  package size adds its share of the bytes read, as for a download.
"""

from __future__ import annotations

import json
import pathlib
import threading
from dataclasses import dataclass
from typing import Any

from lab import link
from lab.state import Estate

OPEN_ROUND_TRIPS = 4
CHUNK = 1 << 20
PACKAGE_MAGIC = b"ASR-LAB-UNIFIED-SETUP\n"
NETWORK_PATH_NOT_FOUND = "The network path was not found."
ACCESS_DENIED = "Access is denied."
FILE_NOT_FOUND = "Could not find file '{path}'."


class ShareError(OSError):
    """What Windows says when a share cannot be read: ``kind`` is ``unreachable``, ``denied`` or ``missing``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class UncPath:
    server: str
    share: str
    rest: tuple[str, ...]

    @classmethod
    def parse(cls, path: str) -> UncPath:
        parts = (
            [p for p in path.replace("/", "\\")[2:].split("\\") if p]
            if path.replace("/", "\\").startswith("\\\\")
            else []
        )
        if len(parts) < 3:
            raise ShareError("missing", FILE_NOT_FOUND.format(path=path))
        return cls(parts[0].lower(), parts[1].lower(), tuple(parts[2:]))


def shares_dir(estate: Estate) -> pathlib.Path:
    return estate.path / "shares"


def publish(estate: Estate, unc: str, data: bytes, *, computer_accounts: bool = True) -> str:
    r"""Put a file at ``\\server\share\...``; returns the UNC path as given."""
    where = UncPath.parse(unc)
    target = shares_dir(estate).joinpath(where.server, where.share, *where.rest)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    access = shares_dir(estate) / where.server / f"{where.share}.access.json"
    access.write_text(json.dumps({"computer_accounts": computer_accounts}), encoding="utf-8")
    return unc


def _file(estate: Estate, where: UncPath, unc: str) -> pathlib.Path:
    root = shares_dir(estate) / where.server / where.share
    if not root.is_dir():
        raise ShareError("unreachable", NETWORK_PATH_NOT_FOUND)
    target = root.joinpath(*where.rest)
    if not target.is_file():
        raise ShareError("missing", FILE_NOT_FOUND.format(path=unc))
    return target


def check_access(estate: Estate, host_name: str, unc: str, *, become: bool) -> pathlib.Path:
    """The file behind ``unc`` if this host, in a call with or without become, may read it; else :class:`ShareError`."""
    where = UncPath.parse(unc)
    faults = link.host_faults(estate, host_name)
    unreachable = faults.get("share_unreachable")
    if unreachable is True or (isinstance(unreachable, list) and where.server in [str(s).lower() for s in unreachable]):
        raise ShareError("unreachable", NETWORK_PATH_NOT_FOUND)
    if not become and faults.get("network_logon_restricted"):
        raise ShareError("denied", ACCESS_DENIED)  # the double hop: no credentials to hand on
    access_file = shares_dir(estate) / where.server / f"{where.share}.access.json"
    access: dict[str, Any] = json.loads(access_file.read_text(encoding="utf-8")) if access_file.is_file() else {}
    if become and access.get("computer_accounts", True) is False:
        raise ShareError("denied", ACCESS_DENIED)
    return _file(estate, where, unc)


def size(estate: Estate, host_name: str, unc: str, *, become: bool) -> int:
    return check_access(estate, host_name, unc, become=become).stat().st_size


def read(
    estate: Estate, host_name: str, unc: str, offset: int, *, become: bool, stop: threading.Event | None = None
) -> bytes:
    """The file's bytes from ``offset`` on, priced on the host's link (an open, then the data at the link rate)."""
    path = check_access(estate, host_name, unc, become=become)
    wire = link.for_host(estate, host_name)
    wire.exchange("smb", f"open {unc}", 0, 0, round_trips=OPEN_ROUND_TRIPS)
    data = path.read_bytes()
    body = data[offset:]
    params = wire.params()
    for start in range(0, len(body), CHUNK):
        if stop is not None and stop.is_set():
            body = body[:start]
            break
        delay = wire.transfer_delay("in", min(CHUNK, len(body) - start), params)
        if delay > 0:
            threading.Event().wait(delay)
    link.record(
        estate, host_name, channel="smb", what="read", bytes_in=len(body), bytes_out=0, round_trips=0,
        delay_s=params.seconds_for(len(body)), offset=offset,
    )  # fmt: skip
    if data.startswith(PACKAGE_MAGIC) and body:
        extra = link.declared_extra(params, len(data))
        if extra > 0:
            wire.add_virtual(
                "smb",
                f"read {unc} (declared package size)",
                link.priced(params, int(extra * len(body) / len(data)), 0, 0),
            )
    return body
