# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Facts about a Unified Setup package file on the controller: SHA-256 and the PE file version.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The install and upgrade modules compare the installer's version with what is installed and with the
configuration server's version [3.1, 4] before anything changes. For a package on the controller the version
is read here, from the ``VS_FIXEDFILEINFO`` block of the executable's version resource (what
``System.Diagnostics.FileVersionInfo.FileVersion`` shows on Windows), so a PS > CS refusal needs no remote call.
Only the ``.rsrc`` section is read: the package is a ~1.5 GB self-extractor whose payload follows the image.
A file without a readable version resource gives ``None`` (the host then reports the version after staging).
"""

from __future__ import annotations

import hashlib
import struct

_CHUNK = 1024 * 1024
_FIXED_FILE_INFO_SIGNATURE = struct.pack("<I", 0xFEEF04BD)
_MAX_RSRC_BYTES = 64 * 1024 * 1024
SHA256_HEX_LENGTH = 64


def sha256_of(path: str) -> str:
    """Lower-case hex SHA-256 of a local file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def pe_file_version(path: str) -> str | None:
    """``major.minor.build.revision`` from a PE file's version resource, or None when there is none."""
    try:
        with open(path, "rb") as handle:
            return _read_version(handle)
    except (OSError, struct.error, ValueError):
        return None


def _read_version(handle) -> str | None:  # type: ignore[no-untyped-def]
    dos = handle.read(64)
    if len(dos) < 64 or dos[:2] != b"MZ":
        return None
    (pe_offset,) = struct.unpack_from("<I", dos, 0x3C)
    handle.seek(pe_offset)
    header = handle.read(24)
    if len(header) < 24 or header[:4] != b"PE\0\0":
        return None
    sections, _timestamp, _symbols, _symbol_count, optional_size, _flags = struct.unpack_from("<HIIIHH", header, 6)
    handle.seek(pe_offset + 24 + optional_size)
    table = handle.read(40 * sections)
    for index in range(sections):
        entry = table[index * 40 : (index + 1) * 40]
        if len(entry) < 40 or entry[:8].rstrip(b"\0") != b".rsrc":
            continue
        raw_size, raw_pointer = struct.unpack_from("<II", entry, 16)
        handle.seek(raw_pointer)
        data = handle.read(min(raw_size, _MAX_RSRC_BYTES))
        return version_from_resource(data)
    return None


def version_from_resource(data: bytes) -> str | None:
    """The file version in the first ``VS_FIXEDFILEINFO`` (signature 0xFEEF04BD) found in ``data``."""
    at = data.find(_FIXED_FILE_INFO_SIGNATURE)
    if at < 0 or len(data) < at + 16:
        return None
    _signature, _struct_version, version_ms, version_ls = struct.unpack_from("<IIII", data, at)
    return f"{version_ms >> 16}.{version_ms & 0xFFFF}.{version_ls >> 16}.{version_ls & 0xFFFF}"
