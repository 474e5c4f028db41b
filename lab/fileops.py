"""The file-transfer and temp-dir scripts ansible-core runs through the exec wrapper (winrm-wire.md, "File
transfer and temp dirs"): ``powershell_mkdtemp.ps1``, ``powershell_expand_user.ps1``, ``winrm_put_file.ps1``,
``winrm_fetch_file.ps1``. Each answers with what the real script prints."""

from __future__ import annotations

import base64
import hashlib
import json

from lab.argspec import expand_environment
from lab.requests import FileRequest, Reply
from lab.state import Host
from lab.winmodules._common import environment, join_path, parent_dir, user_profile


def _ps_error(command: str, message: str, category: str, error_id: str) -> Reply:
    """A terminating PowerShell error as the console host prints it on stderr."""
    text = (
        f"{command} : {message}\r\n"
        f"    + CategoryInfo          : {category}\r\n"
        f"    + FullyQualifiedErrorId : {error_id}\r\n"
    )
    return Reply(stdout="", stderr=text, rc=1)


def handle(host: Host, request: FileRequest, user: str) -> Reply:
    action = request.action
    params = request.params
    if action == "mkdtemp":
        return mkdtemp(host, str(params["Directory"]), str(params["Name"]), user)
    if action == "expand_user":
        return expand_user(host, str(params["Path"]), user)
    if action == "put_file":
        return put_file(host, str(params["Path"]), request.data)
    if action == "fetch_file":
        return fetch_file(host, str(params["Path"]), int(params["BufferSize"]), int(params["Offset"]))
    return Reply(stdout="", stderr=f"lab: unknown file action {action!r}\r\n", rc=1)


def mkdtemp(host: Host, directory: str, name: str, user: str) -> Reply:
    # powershell_mkdtemp.ps1: $path = [Environment]::ExpandEnvironmentVariables($Directory)
    #                         $tmp = New-Item -Path $path -Name $Name -ItemType Directory; $tmp.FullName
    path = join_path(expand_environment(directory, environment(host, user)), name)
    if host.exists(path):
        return _ps_error(
            "New-Item",
            f"An item with the specified name {path} already exists.",
            f"ResourceExists: ({path}:String) [New-Item], IOException",
            "DirectoryExist,Microsoft.PowerShell.Commands.NewItemCommand",
        )
    host.mkdir(path)  # New-Item -ItemType Directory creates missing parents
    return Reply(stdout=path + "\r\n")


def expand_user(host: Host, path: str, user: str) -> Reply:
    # powershell_expand_user.ps1: '~' -> the profile; '~\rest' -> Join-Path profile rest; else as given
    profile = user_profile(host, user)
    if path == "~":
        out = profile
    elif path.startswith("~\\"):
        out = join_path(profile, path[2:])
    else:
        out = path
    return Reply(stdout=out + "\r\n")


def put_file(host: Host, path: str, data: bytes) -> Reply:
    # winrm_put_file.ps1: [File]::Create($Path) fails when the parent directory is missing
    parent = parent_dir(path)
    if parent and not host.is_dir(parent):
        return _ps_error(
            'Exception calling "Create" with "1" argument(s)',
            f"\"Could not find a part of the path '{path}'.\"",
            "NotSpecified: (:) [], MethodInvocationException",
            "DirectoryNotFoundException",
        )
    if host.is_dir(path):
        return _ps_error(
            'Exception calling "Create" with "1" argument(s)',
            f"\"Access to the path '{path}' is denied.\"",
            "NotSpecified: (:) [], MethodInvocationException",
            "UnauthorizedAccessException",
        )
    host.write_file(path, data)
    digest = hashlib.sha1(data).hexdigest()
    return Reply(stdout=json.dumps({"sha1": digest}, separators=(",", ":")) + "\r\n")


def fetch_file(host: Host, path: str, buffer_size: int, offset: int) -> Reply:
    # winrm_fetch_file.ps1: base64 of up to BufferSize bytes from Offset; "[DIR]"; or "<path> does not exist"
    if host.is_file(path):
        chunk = host.read_bytes(path)[offset : offset + buffer_size]
        return Reply(stdout=(base64.b64encode(chunk).decode("ascii") + "\r\n") if chunk else "")
    if host.is_dir(path):
        return Reply(stdout="[DIR]\r\n")
    return Reply(stdout="", stderr=f"{path} does not exist\r\n", rc=1)
