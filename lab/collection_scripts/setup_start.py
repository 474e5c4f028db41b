"""The lab's answer to ``setup_start v1`` (``plugins/plugin_utils/powershell/setup_start.ps1``).

Each block below mirrors the script's block of the same heading, against the emulated host:

* the package: a package the controller transferred with put_file into the host's temporary folder
  (``SourcePath``) is checked (SHA-256; a different one is deleted and the script fails) and moved to
  ``PackagePath`` (its parent created); the package at ``PackagePath`` is checked (SHA-256, and its file version
  against ``ExpectedVersion`` -- LAB: the marker's ``version=`` line stands for FileVersionInfo.FileVersion),
  then ``<package> /q /x:<ExtractDir>`` runs as a program ([1.1]; the lab's extractor writes UnifiedSetup.exe and
  the component installers). The result carries the package's facts as the probe reports an installer;
* the run folder: created with SYSTEM + Administrators only (LAB: recorded as the entry's ``acl``, the form the
  probe handler reads), the passphrase [1.3] and proxy settings [8] written there from the SecureString
  parameters, the install location created, ``spec.json`` and ``runner.ps1`` written;
* start detached: the real script starts the runner with Win32_Process.Create and the runner starts
  UnifiedSetup.exe; here ``lab.asr.installer.start_setup`` starts UnifiedSetup.exe detached with the caller's
  identity (``ctx.user``/``ctx.become``: a WMI-created process runs under the caller's token, so a call without
  become is still a network logon -- the ``network_logon_restricted`` fault applies). ``started.json`` holds the
  runner's process id (LAB: the lab's run id, kept in ``host.data["collection_setup_runs"]``).

The runner's own work (secret files deleted when setup exits, ``status.json``) is done by the poll handler when
it first sees the run ended (lab/collection_scripts/setup_poll.py).

* one setup at a time: before anything else, a run of the collection still alive in the same staging folder (its
  ``started.json`` present, no ``status.json``, the runner alive -- here: the lab run still ``running``) or a
  running Unified Setup (its single-instance mutex [1.3]) makes the script change nothing and return ``busy``.
  The script's own start lock (a named mutex) is the host lock every lab handler already runs under.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from lab import scripts
from lab.asr import installer

PROTECTED_ACL = {"sids": ["S-1-5-18", "S-1-5-32-544"], "protected": True}
RUNNER_TEXT = "# asr.process_server detached Unified Setup runner (written by setup_start v1)\r\n"


def runs(host: Any) -> dict[str, Any]:
    """run folder (lower-case) -> {"lab_run_id", "pid", "secret_files", "finalised"}."""
    return host.data.setdefault("collection_setup_runs", {})


def _protect(host: Any, path: str) -> None:
    entry = host._entry(path)
    if entry is not None:
        entry["acl"] = dict(PROTECTED_ACL)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _live_run(host: Any, staging_dir: str) -> dict[str, Any] | None:
    """A collection run still in progress under ``staging_dir`` (Get-LiveRun in the script)."""
    prefix = staging_dir.rstrip("\\").lower() + "\\run-"
    for key, record in runs(host).items():
        run_dir = key
        if not run_dir.startswith(prefix) or "\\" in run_dir[len(prefix) :]:
            continue
        if not host.is_file(run_dir + "\\started.json") or host.is_file(run_dir + "\\status.json"):
            continue
        if installer.poll_setup(host, record["lab_run_id"])["state"] == "running":  # the runner is alive
            started = json.loads(host.read_text(run_dir + "\\started.json"))
            return {
                "run_dir": run_dir,
                "pid": int(started["pid"]),
                "started": started["started"],
                "by": "asr.process_server",
            }
    return None


def _version_tuple(text: str) -> tuple[int, ...]:
    """[version] of the leading ``major.minor[.build[.revision]]`` (what the script compares)."""
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+){1,3})", text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def _setup_mutex_held(host: Any) -> bool:
    """[1.3] Unified Setup's single-instance mutex: a setup run on the host is still running."""
    installer.settle(host)
    return any(run.get("state") == "running" for run in host.asr.get("setup_runs", {}).values())


@scripts.register("setup_start", 1)
def setup_start(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    # ---- one setup at a time
    busy = _live_run(host, str(ctx.param("RunDir")).rsplit("\\", 1)[0])
    if busy is None and _setup_mutex_held(host):
        busy = {"run_dir": None, "pid": None, "started": None, "by": "mutex Microsoft Azure Site Recovery Setup"}
    if busy is not None:
        ctx.changed = False
        return json.dumps({"busy": busy}, separators=(",", ":"))
    package = str(ctx.param("PackagePath"))
    source = str(ctx.param("SourcePath") or "")
    expected = str(ctx.param("ExpectedSha256") or "")
    expected_version = str(ctx.param("ExpectedVersion") or "")
    extract_dir = str(ctx.param("ExtractDir"))
    run_dir = str(ctx.param("RunDir"))
    arguments = str(ctx.param("SetupArguments"))
    location = str(ctx.param("InstallLocation") or "")
    # ---- the package: into place, checksum, version, then [1.1] extraction
    if source and host.is_file(source):
        data = host.read_bytes(source)
        sha256 = hashlib.sha256(data).hexdigest()
        if expected and sha256 != expected.lower():
            host.remove(source)
            raise scripts.ScriptFailure(
                f"The transferred Unified Setup package {source} has SHA-256 {sha256}, expected {expected} (transfer "
                "corrupted?); it was deleted and not run. Run the task again to transfer it again."
            )
        host.mkdir(package.rsplit("\\", 1)[0])  # [System.IO.Directory]::CreateDirectory($parent)
        if host.is_file(package):
            host.remove(package)
        host.write_file(package, data)  # Move-Item
        host.remove(source)
    if not host.is_file(package):
        raise scripts.ScriptFailure(f"The Unified Setup package {package} does not exist on the host.")
    data = host.read_bytes(package)
    sha256 = hashlib.sha256(data).hexdigest()
    if expected and sha256 != expected.lower():
        raise scripts.ScriptFailure(
            f"The Unified Setup package {package} has SHA-256 {sha256}, expected {expected}; it was not run."
        )
    file_version = installer.products.marker_version(data)
    if expected_version and file_version and _version_tuple(file_version) != _version_tuple(expected_version):
        raise scripts.ScriptFailure(
            f"The Unified Setup package {package} is version {file_version}, not {expected_version} as the task "
            "says; it was not run. Correct the version given for it (installer_version, installers[].version) or "
            "the file."
        )
    if host.exists(extract_dir):
        host.remove(extract_dir)
    host.mkdir(extract_dir)
    extracted = ctx.run_program(f'"{package}" /q /x:{extract_dir}')
    if extracted.rc != 0:
        raise scripts.ScriptFailure(f"Extracting {package} into {extract_dir} failed with exit code {extracted.rc}.")
    setup_exe = extract_dir.rstrip("\\") + "\\UnifiedSetup.exe"
    if not host.is_file(setup_exe):
        raise scripts.ScriptFailure(f"{package} extracted no UnifiedSetup.exe into {extract_dir}.")
    # ---- the run folder and the secret files
    if host.exists(run_dir):
        host.remove(run_dir)
    host.mkdir(run_dir)
    _protect(host, run_dir)
    secret_files = []
    for path_param, value_param in (("PassphraseFile", "Passphrase"), ("ProxySettingsFile", "ProxySettings")):
        path = str(ctx.param(path_param) or "")
        if path:
            host.write_file(path, str(ctx.secret(value_param) or ""))  # UTF-8 without BOM
            _protect(host, path)  # inherits the run folder's protected ACL
            secret_files.append(path)
    if location and not host.is_dir(location):
        host.mkdir(location)
    spec = {
        "setup": setup_exe,
        "arguments": arguments,
        "working_directory": extract_dir,
        "stdout": run_dir + "\\stdout.txt",
        "stderr": run_dir + "\\stderr.txt",
        "secret_files": secret_files,
    }
    host.write_file(run_dir + "\\spec.json", json.dumps(spec, separators=(",", ":")))
    host.write_file(run_dir + "\\runner.ps1", RUNNER_TEXT)
    # ---- start detached
    record = installer.start_setup(host, f'"{setup_exe}" {arguments}', ctx.user, ctx.become, cwd=extract_dir)
    pid = 4000 + len(runs(host)) * 4  # LAB: a process id for the runner
    runs(host)[run_dir.lower()] = {
        "lab_run_id": record["run_id"],
        "pid": pid,
        "secret_files": secret_files,
        "finalised": False,
    }
    started = _iso(host.now())
    host.write_file(run_dir + "\\started.json", json.dumps({"pid": pid, "started": started}, separators=(",", ":")))
    ctx.changed = True
    return json.dumps(
        {
            "run_dir": run_dir,
            "pid": pid,
            "started": started,
            "setup": setup_exe,
            "setup_version": installer.products.marker_version(host.read_bytes(setup_exe)),
            "secret_files": secret_files,
            "package": {
                "path": package,
                "exists": True,
                "size_bytes": len(data),
                "file_version": file_version,
                "product_version": file_version,
                "sha256": sha256,
            },
        },
        separators=(",", ":"),
    )
