"""win_copy (the module side of the real win_copy action plugin), win_file and win_stat."""

from __future__ import annotations

import base64
import datetime
import io
import zipfile
from typing import Any

from lab.argspec import ModuleFailure, legacy_param
from lab.state import Host
from lab.winmodules._common import Context, checksum, join_path, leaf, parent_dir


def _tree(host: Host, path: str) -> list[dict[str, Any]]:
    """Every entry under a directory (not the directory itself)."""
    key = host.resolve(path)
    return [entry for k, entry in host.data["files"].items() if k.startswith(key + "\\")]


def _copy_tree_entry(host: Host, source: str, dest: str) -> None:
    if host.is_dir(source):
        host.mkdir(dest)
        for child in host.list_dir(source):
            _copy_tree_entry(host, child, join_path(dest, leaf(child)))
    else:
        host.write_file(dest, host.read_bytes(source))


def _backup_file(ctx: Context, path: str) -> str | None:
    # Ansible.ModuleUtils.Backup Backup-File: "$path.$pid." + yyyyMMdd-HHmmss + ".bak"
    if not ctx.host.is_file(path):
        return None
    stamp = datetime.datetime.fromtimestamp(ctx.host.now()).strftime("%Y%m%d-%H%M%S")
    backup = f"{path}.{4242}.{stamp}.bak"  # lab decision: a fixed pid (4242) stands for the module's $pid
    if not ctx.check_mode:
        ctx.host.write_file(backup, ctx.host.read_bytes(path))
    return backup


# ---- win_copy ---------------------------------------------------------------------------------------------
def win_copy(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    env = ctx.env
    check_mode = ctx.check_mode
    result: dict[str, Any] = {"changed": False}
    if ctx.validated.diff:
        result["diff"] = {}
    copy_mode = legacy_param(
        params, "_copy_mode", type="str", default="single", validateset=["explode", "query", "remote", "single"]
    )
    src = legacy_param(params, "src", type="path", failifempty=copy_mode in ("explode", "process", "single"), env=env)
    dest = legacy_param(params, "dest", type="path", failifempty=True, env=env)
    backup = legacy_param(params, "backup", type="bool", default=False)
    original_basename = legacy_param(params, "_original_basename", type="str")
    force = legacy_param(params, "force", type="bool", default=True)
    files = legacy_param(params, "files", type="list")
    directories = legacy_param(params, "directories", type="list")
    host = ctx.host

    def fail_if_file(path: str, msg: str) -> None:
        # win_copy.ps1 refuses a copy when a file stands where a folder must be (the message names which)
        if host.is_file(path):
            raise ModuleFailure(msg, **result)

    def make_dest_parent(remote_dest: str) -> None:
        # win_copy.ps1 copying one file: the folder it goes into must not be a file, and is made unless dest named it
        parent = parent_dir(remote_dest)
        fail_if_file(parent, f"object at destination parent dir '{parent}' is currently a file")
        if not host.is_dir(parent):
            if dest == remote_dest:
                raise ModuleFailure(f"Destination directory '{parent}' does not exist", **result)
            host.mkdir(parent)

    def copy_file(source: str, target: str) -> tuple[str, str | None]:
        diff = ""
        source_checksum = checksum(host.read_bytes(source)) if force else None
        do_copy = False
        if host.is_dir(target):
            raise ModuleFailure(f"cannot copy file from '{source}' to '{target}': dest is already a folder", **result)
        if host.is_file(target):
            if force and checksum(host.read_bytes(target)) != source_checksum:
                do_copy = True
        else:
            do_copy = True
        if do_copy:
            file_dir = parent_dir(target)
            fail_if_file(
                file_dir, f"cannot copy file from '{source}' to '{target}': object at dest parent dir is not a folder"
            )
            if not host.exists(file_dir):
                if not check_mode:
                    host.mkdir(file_dir)
                diff += f"+{file_dir}\\\n"
            if backup:
                result["backup_file"] = _backup_file(ctx, target)
            if host.is_file(target):
                diff += f"-{target}\n"
            if not check_mode:
                host.write_file(target, host.read_bytes(source))
            diff += f"+{target}\n"
            result["changed"] = True
        return diff, source_checksum

    def copy_folder(source: str, target: str) -> str:
        diff = ""
        if not host.is_dir(target):
            fail_if_file(
                parent_dir(target),
                f"cannot copy file from '{source}' to '{target}': object at dest parent dir is not a folder",
            )
            fail_if_file(target, f"cannot copy folder from '{source}' to '{target}': dest is already a file")
            if not check_mode:
                host.mkdir(target)
            diff += f"+{target}\\\n"
            result["changed"] = True
        for child in host.list_dir(source):
            child_dest = join_path(target, leaf(child))
            if host.is_dir(child):
                diff += copy_folder(child, child_dest)
            else:
                diff += copy_file(child, child_dest)[0]
        return diff

    if copy_mode == "query":
        changed_files: list[Any] = []
        changed_dirs: list[Any] = []
        for file in files or []:
            filename = file["dest"]
            filepath = join_path(dest, filename)
            if host.is_dir(filepath):
                filename = join_path(filename, leaf(str(file["src"]).replace("/", "\\")))
                filepath = join_path(dest, filename)
            if host.is_file(filepath):
                if force and checksum(host.read_bytes(filepath)) != file.get("checksum"):
                    changed_files.append(file)
            elif host.is_dir(filepath):
                raise ModuleFailure(
                    f"cannot copy file to dest '{filepath}': object at path is already a directory", **result
                )
            else:
                changed_files.append(file)
        for directory in directories or []:
            dirpath = join_path(dest, directory["dest"])
            fail_if_file(
                parent_dir(dirpath),
                f"cannot copy folder to dest '{dirpath}': object at parent directory path is already a file",
            )
            fail_if_file(dirpath, f"cannot copy folder to dest '{dirpath}': object at path is already a file")
            if not host.is_dir(dirpath):
                changed_dirs.append(directory)
        result.update(files=changed_files, directories=changed_dirs, symlinks=[])
    elif copy_mode == "explode":
        if not host.is_file(src):
            raise ModuleFailure(f"Cannot expand src zip file: '{src}' as it does not exist", **result)
        # win_copy.ps1 Expand-Zip: entry names are base64 of the UTF-8 relative path; a trailing / marks a dir
        with zipfile.ZipFile(io.BytesIO(host.read_bytes(src))) as archive:
            for entry in archive.infolist():
                name = entry.filename
                is_dir = len(name) % 4 == 1
                if is_dir:
                    name = name[:-1]
                relative = base64.b64decode(name).decode("utf-8").replace("/", "\\")
                target = join_path(dest, relative)
                if is_dir:
                    if not check_mode:
                        host.mkdir(target)
                    continue
                if not host.exists(parent_dir(target)) and not check_mode:
                    host.mkdir(parent_dir(target))
                if not check_mode:
                    host.write_file(target, archive.read(entry))
        result["changed"] = True
    elif copy_mode == "remote":
        result["src"] = src
        result["dest"] = dest
        if not host.exists(src):
            raise ModuleFailure(f"Cannot copy src file: '{src}' as it does not exist", **result)
        remote_dest = dest
        diff = ""
        if host.is_dir(src):
            result["operation"] = "folder_copy"
            if src.endswith(("/", "\\")):
                for child in host.list_dir(src):
                    child_dest = join_path(dest, leaf(child))
                    diff += copy_folder(child, child_dest) if host.is_dir(child) else copy_file(child, child_dest)[0]
            else:
                remote_dest = join_path(dest, leaf(src))
                result["dest"] = remote_dest
                diff = copy_folder(src, remote_dest)
        else:
            result["operation"] = "file_copy"
            result["original_basename"] = leaf(src)
            if dest.endswith(("/", "\\")) or host.is_dir(dest):
                remote_dest = join_path(dest, leaf(src))
            result["dest"] = remote_dest
            make_dest_parent(remote_dest)
            diff, result["checksum"] = copy_file(src, remote_dest)
        if not check_mode or host.is_file(remote_dest):
            result["size"] = _size(host, remote_dest)
        else:
            result["size"] = None
        if ctx.validated.diff:
            result["diff"]["prepared"] = diff
    else:  # single
        if not host.is_file(src):
            raise ModuleFailure(f"Cannot copy src file: '{src}' as it does not exist", **result)
        remote_dest = dest
        if dest.endswith(("/", "\\")) or host.is_dir(dest):
            remote_dest = join_path(dest, original_basename or "")
        make_dest_parent(remote_dest)
        if backup:
            result["backup_file"] = _backup_file(ctx, remote_dest)
        host.write_file(remote_dest, host.read_bytes(src))
        result["changed"] = True
    return result


def _size(host: Host, path: str) -> int:
    # win_copy.ps1 Get-FileSize: a file's length, or the sum of the files under a directory (links skipped)
    if host.is_file(path):
        return len(host.read_bytes(path))
    return sum(len(base64.b64decode(e["content_b64"])) for e in _tree(host, path) if e["type"] == "file")


# ---- win_file ---------------------------------------------------------------------------------------------
def win_file(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    host = ctx.host
    check_mode = ctx.check_mode
    path = legacy_param(params, "path", type="path", failifempty=True, aliases=["dest", "name"], env=ctx.env)
    state = legacy_param(params, "state", type="str", validateset=["absent", "directory", "file", "touch"])
    original_basename = legacy_param(params, "_original_basename", type="str")
    if host.is_dir(path) and original_basename is not None:
        path = join_path(path, original_basename)
    result: dict[str, Any] = {"changed": False}
    if state == "touch":
        if host.exists(path):
            if not check_mode:
                host._entry(path)["mtime"] = host.now()
        elif not check_mode:
            host.write_file(path, b"")
        result["changed"] = True
    if host.exists(path):
        if state == "absent":
            if not check_mode:
                host.remove(path)
            result["changed"] = True
        else:
            if state == "directory" and not host.is_dir(path):
                raise ModuleFailure(f"path {path} is not a directory", **result)
            if state == "file" and host.is_dir(path):
                raise ModuleFailure(f"path {path} is not a file", **result)
    else:
        if state is None:
            state = "file" if leaf(path) else "directory"
        if state == "directory":
            if host.is_file(parent_dir(path)):
                raise ModuleFailure(f"path {path} is not a directory", **result)
            if not check_mode:
                host.mkdir(path)
            result["changed"] = True
        elif state == "file":
            raise ModuleFailure(f"path {path} will not be created", **result)
    return result


# ---- win_stat ---------------------------------------------------------------------------------------------
def win_stat(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    host = ctx.host
    path = params["path"]
    result = ctx.result(stat={"exists": False})
    entry = host.stat(path)
    if entry is None:
        return result
    mtime = float(entry.get("mtime", host.now()))
    full = entry["path"]
    is_junction = entry["type"] == "junction"
    is_dir = entry["type"] in ("directory", "junction")
    attributes = "Directory" if is_dir else "Archive"
    if is_junction:
        attributes = "Directory, ReparsePoint"
    stat: dict[str, Any] = {
        "exists": True,
        "attributes": attributes,
        "isarchive": not is_dir,
        "isdir": is_dir,
        "ishidden": False,
        "isjunction": is_junction,
        "islnk": False,
        "isreadonly": False,
        "isreg": False,
        "isshared": False,
        "nlink": 1,
        "hlnk_targets": [],
        "creationtime": float(entry.get("ctime", mtime)),
        "lastaccesstime": mtime,
        "lastwritetime": mtime,
        "path": full,
        "filename": leaf(full) if len(full) > 3 else full,
        "owner": "BUILTIN\\Administrators",
    }
    if is_dir:
        if params["get_size"]:
            stat["size"] = _size(host, path)
        if is_junction:
            stat["lnk_target"] = entry["target"]
            stat["lnk_source"] = entry["target"]
    else:
        name = leaf(full)
        stat["extension"] = "." + name.rsplit(".", 1)[1] if "." in name else ""
        stat["isreg"] = True
        if params["get_checksum"]:
            stat["checksum"] = checksum(host.read_bytes(path), params["checksum_algorithm"])
        if params["get_size"]:
            stat["size"] = int(entry["size"])
    result["stat"] = stat
    return result
