# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
r"""Where the Unified Setup package comes from, and the checks on it before any remote call.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Three sources reach a host (docs/runbooks/package-distribution.md):

* ``installer`` -- a file on the controller, sent with the connection's put_file (one copy per host through the
  controller's uplink: for small estates);
* ``installer_url`` -- an HTTP or HTTPS URL the host downloads itself (an internal web server, an Azure storage
  URL with a SAS token). The URL is a secret: a token in its query grants access to whoever holds it, so the
  option is ``no_log``, the URL travels to the host only as a SecureString, and everything the collection shows
  (messages, results, the host's status file) names it as :func:`redact_url` writes it;
* ``installer_remote_path`` -- a path the host reads: a local drive path used where it is, or a UNC path
  (``\\server\share\folder\file.exe``) the host copies from, as the account the task runs as.

A downloaded or copied package is staged on the host under ``<staging_dir>\<first 16 hex of its SHA-256>\``, and its
SHA-256 is checked there before use; a URL or share source therefore needs ``installer_checksum``.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass

from . import unified_setup
from .errors import InvalidOption

CONTROLLER = "controller"
URL = "url"
SHARE = "share"
HOST = "host"

URL_SCHEMES = ("http", "https")
URL_ALLOWED = "an http:// or https:// URL of the Unified Setup package, such as https://files.example.com/asr/file.exe"
UNC_ALLOWED = (
    r"a UNC path \\server\share\folder\file.exe (the host copies the package from the share) or an absolute path on "
    r"a drive letter such as D:\ASR\MicrosoftAzureSiteRecoveryUnifiedSetup.exe (used where it is)"
)
CHECKSUM_ALLOWED = "a SHA-256 as 64 hexadecimal digits (optionally 'sha256:...')"
SHA256_HEX_LENGTH = 64
_UNC_FORBIDDEN = re.compile(r'[<>:"|?*\x00-\x1f]')
_SERVER = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.\-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")


@dataclass(frozen=True)
class PackageSource:
    """A validated source the host fetches from: ``kind`` is :data:`URL` or :data:`SHARE`, ``location`` the URL (a
    secret) or the UNC path, ``shown`` what messages and results may say of it."""

    kind: str
    location: str
    shown: str
    option: str

    @property
    def secret(self) -> bool:
        return self.kind == URL


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path`` of a URL: no user information, no query (a SAS token lives there), no fragment."""
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(an unreadable URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urllib.parse.urlunsplit((parts.scheme.lower(), netloc, parts.path, "", ""))


def check_url(option: str, value: object) -> PackageSource:
    """An ``installer_url``: http or https, a host, no credentials in it, no whitespace or control characters."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidOption(option, "(empty)", URL_ALLOWED, "The URL is empty.")
    text = value.strip()
    shown = redact_url(text)
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise InvalidOption(option, shown, URL_ALLOWED, "Encode spaces and control characters (%20).")
    try:
        parts = urllib.parse.urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidOption(option, shown, URL_ALLOWED, f"It cannot be read as a URL ({exc}).") from exc
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        raise InvalidOption(
            option,
            f"{scheme}://..." if scheme else shown,
            URL_ALLOWED,
            f"The host downloads with HTTP or HTTPS only{'; ' + scheme + ' is not one of them' if scheme else ''}. "
            r"For a file share give its UNC path (\\server\share\...) in installer_remote_path.",
        )
    if "@" in parts.netloc:
        raise InvalidOption(
            option,
            shown,
            URL_ALLOWED + " without user name or password in it",
            "A URL with user:password@ sends the credentials in clear text to every proxy and lands them in logs; "
            "use a URL with a token (an Azure storage SAS URL), a web server the hosts may read without credentials, "
            "or a file share.",
        )
    if not parts.hostname:
        raise InvalidOption(option, shown, URL_ALLOWED, "The URL names no server.")
    del port  # read only to reject a malformed one
    if not parts.path or parts.path.endswith("/"):
        raise InvalidOption(option, shown, URL_ALLOWED, "The URL must name the package file, not a folder.")
    return PackageSource(URL, text, shown, option)


def is_unc(value: str) -> bool:
    r"""``\\server\...`` or ``//server/...`` (not a ``\\?\`` or ``\\.\`` device path)."""
    path = value.replace("/", "\\")
    return path.startswith("\\\\") and not path.startswith(("\\\\?\\", "\\\\.\\"))


def check_unc(option: str, value: str) -> PackageSource:
    r"""A UNC path to the package: ``\\server\share\[folders\]file``, no ``.``/``..`` segments, no device paths."""
    path = value.strip().replace("/", "\\")
    if path.startswith(("\\\\?\\", "\\\\.\\")):
        raise InvalidOption(option, value, UNC_ALLOWED, r"Device paths (\\?\, \\.\) are not accepted.")
    parts = path[2:].split("\\")
    if len(parts) < 3 or not all(parts):
        raise InvalidOption(
            option, value, UNC_ALLOWED, r"A UNC path names a server, a share and the file: \\server\share\file.exe."
        )
    server, share, rest = parts[0], parts[1], parts[2:]
    if not _SERVER.match(server):
        raise InvalidOption(option, value, UNC_ALLOWED, f"{server!r} is not a server name or address.")
    if any(segment in (".", "..") for segment in [share, *rest]):
        raise InvalidOption(option, value, UNC_ALLOWED, "Write the path without '.' or '..' segments.")
    if any(_UNC_FORBIDDEN.search(segment) for segment in [share, *rest]):
        raise InvalidOption(
            option, value, UNC_ALLOWED, 'Windows paths cannot contain < > : " | ? * or control characters.'
        )
    normal = "\\\\" + "\\".join([server, share, *rest])
    return PackageSource(SHARE, normal, normal, option)


def check_host_path(option: str, value: str) -> str:
    r"""A package path the host reads: a UNC path (``\\server\share\file.exe``) or an absolute drive path, normalised;
    a relative or drive-relative path is refused (it would mean the WinRM session's current folder)."""
    if is_unc(value):
        return check_unc(option, value).location
    try:
        return unified_setup.check_windows_path(option, value)
    except InvalidOption as exc:
        raise InvalidOption(option, value, UNC_ALLOWED, exc.why) from None


def check_checksum(option: str, value: str | None) -> str | None:
    """``installer_checksum``: 64 hexadecimal digits, optionally ``sha256:``; lower case; None when not given."""
    if value is None:
        return None
    text = value.strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:") :]
    if not text:
        raise InvalidOption(option, "(empty)", CHECKSUM_ALLOWED, "The checksum is empty.")
    hexadecimal = set(text) <= set("0123456789abcdef")
    if len(text) != SHA256_HEX_LENGTH or not hexadecimal:
        why = f"It has {len(text)} characters" + ("" if hexadecimal else " and not only hexadecimal digits") + "."
        raise InvalidOption(option, value, CHECKSUM_ALLOWED, why)
    return text


def require_checksum(source: PackageSource, checksum: str | None, checksum_option: str) -> str:
    """A host-fetched package is verified against its SHA-256 before use and staged by it: the checksum is required."""
    if checksum:
        return checksum
    what = "a download" if source.kind == URL else "a copy from a file share"
    raise InvalidOption(
        checksum_option,
        "(not set)",
        CHECKSUM_ALLOWED,
        f"{source.option} makes the host fetch the package ({what}); the host checks the package's SHA-256 before it "
        "uses it and keeps it under a folder named by it, so the checksum is required (Get-FileHash -Algorithm SHA256 "
        "on the package, or the checksum your download page publishes).",
    )
