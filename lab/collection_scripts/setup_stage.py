"""The lab's answer to ``setup_stage v1`` (``plugins/plugin_utils/powershell/setup_stage.ps1``).

Mirrors the script step by step against the emulated file system: the file the controller transferred into
its temporary folder is moved to the staging path (its parent created), its SHA-256 is checked (a mismatch
deletes it and fails, as ``throw`` does) and the same facts as the probe's ``Get-InstallerFact`` are returned.
LAB: the file version is the marker's ``version=`` line (``lab.asr.products.marker``), as in the probe handler.
"""

from __future__ import annotations

import hashlib
import json

from lab import scripts
from lab.asr import products


@scripts.register("setup_stage", 1)
def setup_stage(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    source = str(ctx.param("SourcePath"))
    dest = str(ctx.param("DestinationPath"))
    expected = str(ctx.param("ExpectedSha256") or "")
    if not host.is_file(source):
        raise scripts.ScriptFailure(f"The transferred installer {source} is missing on the host.")
    data = host.read_bytes(source)
    host.mkdir(dest.rsplit("\\", 1)[0])  # [System.IO.Directory]::CreateDirectory($parent)
    if host.is_file(dest):
        host.remove(dest)
    host.write_file(dest, data)  # Move-Item
    host.remove(source)
    sha256 = hashlib.sha256(data).hexdigest()
    if expected and sha256 != expected.lower():
        host.remove(dest)
        raise scripts.ScriptFailure(
            f"The staged installer's SHA-256 is {sha256}, expected {expected}; "
            "the file was deleted (transfer corrupted?)."
        )
    version = products.marker_version(data)
    ctx.changed = True
    return json.dumps(
        {
            "path": dest,
            "exists": True,
            "size_bytes": len(data),
            "file_version": version,
            "product_version": version,
            "sha256": sha256,
        },
        separators=(",", ":"),
    )
