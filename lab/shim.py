"""What an emulated Windows host answers a collection script running under pwsh (the lab side of the shim).

``lab/powershell/LabShim.psm1`` replaces the Windows-only cmdlets and the scripts' Windows seams inside the pwsh
worker; each of them asks the lab one question over the worker's channel (``lab.pshost``), and a ``Session`` answers
it from the emulated host (``lab.state.Host``, the single source of truth, opened and locked by ``lab.dispatch`` for
the whole call). Programs a script starts go to the lab's existing program emulations (``lab.programs``,
``lab.asr``) with their whole 32-bit exit code; detached processes (Win32_Process.Create) to ``lab.detached``.

Windows behaviour kept here (not product behaviour, which stays in ``lab.asr``):

* the registry as Windows shows it: besides the keys the lab stores, the Service Control Manager's view of each
  service under ``HKLM\\SYSTEM\\CurrentControlSet\\Services\\<name>`` (``Start``, ``DelayedAutostart``,
  ``DisplayName``, ``ImagePath``, ``ObjectName``), and a pending reboot as the three markers Windows keeps
  (``PendingFileRenameOperations``, ``Component Based Servicing\\RebootPending``, ``WindowsUpdate\\Auto
  Update\\RebootRequired``);
* the CIM classes the scripts read (Win32_OperatingSystem, Win32_ComputerSystem, Win32_Processor, Win32_LogicalDisk,
  Win32_Service) from the host's facts, and Win32_Process from its process table (``lab.detached``);
* file-system errors with the .NET messages ("Could not find file", "Could not find a part of the path");
* inherited access rules: a file without rules of its own has those of the nearest folder above it that has some
  (a new file under ``C:\\ProgramData`` otherwise: SYSTEM, Administrators, Users -- LAB default);
* the caller's token: a WinRM call without ``become`` is a network logon (group NETWORK, S-1-5-2;
  ansible-windows-practice.md section 4 pain 1);
* TCP connections: which emulated host owns an address and whether it listens (a configuration server on 443 [1.3]);
* the Windows facts ``lab.windows`` keeps (PowerShell's version table, culture, execution policies, FIPS, .NET,
  Defender) as Windows shows them: registry values, Get-ExecutionPolicy, Get-MpPreference.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

from lab import detached, programs, share, windows
from lab.state import Host, _display_path, _norm_key, _norm_path

GIB = 1024**3
SERVICES_KEY = r"HKLM\SYSTEM\CurrentControlSet\Services"
SESSION_MANAGER = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
CBS_REBOOT = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_REBOOT = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
# LAB: what a pending file rename looks like when the lab's state says a reboot is pending (pairs source, target)
PENDING_RENAME = ["\\??\\C:\\Windows\\Temp\\asr-lab-pending-rename.tmp", ""]
HIVE_NAMES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
}
# LAB default: who may access a file that has no rules of its own and no folder above it with rules
INHERITED_DEFAULT = [("S-1-5-18", "FullControl"), ("S-1-5-32-544", "FullControl"), ("S-1-5-32-545", "ReadAndExecute")]
START_VALUES = {"auto": 2, "delayed": 2, "manual": 3, "disabled": 4}  # SCM Start values
SETUP_MUTEX = "Microsoft Azure Site Recovery Setup"  # [1.3] Unified Setup's single-instance mutex


class ShimError(Exception):
    """What Windows would raise; ``kind`` picks the .NET exception in LabShim.psm1 (New-LabException)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass
class Session:
    """One script call on one opened host: who runs it and what it started."""

    host: Host
    user: str
    become: bool
    process_pid: int | None = None  # set when the script is a detached process's (lab.detached)
    replay: dict[str, Any] | None = None  # the process a detached process waited for, when it runs again
    created: list[int] = field(default_factory=list)  # detached processes this call created
    waiting_on: str | None = None  # the process id a detached process stopped waiting for (lab.detached)
    calls: int = 0

    # ---- the facts the shim reads once per call -----------------------------------------------------------
    def call_facts(self) -> dict[str, Any]:
        drives = sorted({letter.upper() for letter in self.host.data["disks"]} | {"HKLM", "HKCU", "ENV", "CERT"})
        return {"clock_offset_s": self.host.now() - time.time(), "drives": drives}

    # ---- dispatch ------------------------------------------------------------------------------------------
    def handle(self, method: str, args: dict[str, Any]) -> Any:
        handler = _METHODS.get(method)
        if handler is None:
            raise ShimError("NotSupported", f"lab: the shim asked for '{method}', which the lab does not answer")
        self.calls += 1
        return handler(self, **(args or {}))

    # ---- registry ------------------------------------------------------------------------------------------
    def reg_key(self, path: str) -> dict[str, Any] | None:
        key = _registry_key(path)
        return registry_view(self.host, key)

    def reg_children(self, path: str) -> list[dict[str, Any]] | None:
        key = _registry_key(path)
        parent = registry_view(self.host, key)
        if parent is None:
            return None
        return [view for sub in parent["subkeys"] if (view := registry_view(self.host, key + "\\" + sub)) is not None]

    # ---- files ---------------------------------------------------------------------------------------------
    def fs_item(self, path: str) -> dict[str, Any] | None:
        _check_absolute(path)
        return _item(self.host, path)

    def fs_children(self, path: str) -> list[dict[str, Any]] | None:
        _check_absolute(path)
        if not self.host.is_dir(path):
            return None
        base = _display_path(self.host.stat(path)["path"])  # type: ignore[index]
        items = []
        for child in self.host.list_dir(path):
            leaf = child.rsplit("\\", 1)[-1]
            item = _item(self.host, base.rstrip("\\") + "\\" + leaf)
            if item is not None:
                items.append(item)
        return items

    def fs_read(self, path: str) -> str:
        _check_absolute(path)
        host = self.host
        if host.is_dir(path):
            raise ShimError("AccessDenied", f"Access to the path '{path}' is denied.")
        if not host.is_file(path):
            if not host.is_dir(_parent(path)):
                raise ShimError("DirectoryNotFound", f"Could not find a part of the path '{path}'.")
            raise ShimError("FileNotFound", f"Could not find file '{path}'.")
        return base64.b64encode(host.read_bytes(path)).decode("ascii")

    # ---- shares (lab/share.py): a UNC path, read as this call's account, priced on the host's link --------------
    def share_size(self, path: str) -> int:
        """The size of the file to copy: a UNC path through lab/share.py, a local path from the host's files."""
        if not _is_unc(path):
            return len(base64.b64decode(self.fs_read(path)))
        return _shared(lambda estate: share.size(estate, self.host.name, path, become=self.become), self.host, path)

    def share_read(self, path: str, offset: int = 0) -> str:
        """The file's bytes from ``offset`` on (base64)."""
        if not _is_unc(path):
            return base64.b64encode(base64.b64decode(self.fs_read(path))[int(offset) :]).decode("ascii")
        data = _shared(
            lambda estate: share.read(estate, self.host.name, path, int(offset), become=self.become), self.host, path
        )
        return base64.b64encode(data).decode("ascii")

    def fs_write(self, path: str, data: str, parents: bool = False) -> None:
        _check_absolute(path)
        host = self.host
        if host.is_dir(path):
            raise ShimError("AccessDenied", f"Access to the path '{path}' is denied.")
        if not parents and not host.is_dir(_parent(path)):
            raise ShimError("DirectoryNotFound", f"Could not find a part of the path '{path}'.")
        entry = host._entry(path)
        acl = entry.get("acl") if entry else None
        host.write_file(path, base64.b64decode(data))
        if acl is not None:  # a file written again keeps its access rules
            host._entry(path)["acl"] = acl  # type: ignore[index]

    def fs_mkdir(self, path: str) -> None:
        _check_absolute(path)
        if self.host.is_file(path):
            raise ShimError("IOError", f"An item with the specified name {path} already exists.")
        if self.host.disk_of(path) is None:
            raise ShimError("DirectoryNotFound", f"Could not find a part of the path '{path}'.")
        self.host.mkdir(path)

    def fs_remove(self, path: str, recurse: bool = False) -> None:
        _check_absolute(path)
        host = self.host
        if host.is_dir(path) and host.list_dir(path) and not recurse:
            raise ShimError("IOError", f"The directory is not empty. : '{path}'")
        host.remove(path, recurse=True)

    def fs_move(self, path: str, destination: str, force: bool = False) -> dict[str, Any]:
        _check_absolute(path)
        _check_absolute(destination)
        host = self.host
        if host.is_dir(destination):
            destination = destination.rstrip("\\") + "\\" + path.rstrip("\\").rsplit("\\", 1)[-1]
        if host.exists(destination):
            if not force:
                raise ShimError("IOError", "Cannot create a file when that file already exists.")
            host.remove(destination)
        if not host.is_dir(_parent(destination)):
            raise ShimError("DirectoryNotFound", f"Could not find a part of the path '{destination}'.")
        if host.is_dir(path):
            raise ShimError("NotSupported", "lab: Move-Item of a folder is not emulated")
        entry = dict(host._entry(path) or {})
        host.write_file(destination, host.read_bytes(path))
        if "acl" in entry:
            host._entry(destination)["acl"] = entry["acl"]  # type: ignore[index]
        host.remove(path)
        return _item(host, destination)  # type: ignore[return-value]

    def fs_get_acl(self, path: str) -> dict[str, Any]:
        _check_absolute(path)
        if not self.host.exists(path):
            raise ShimError("PathNotFound", f"Cannot find path '{path}' because it does not exist.")
        return access_rules(self.host, path)

    def fs_set_acl(self, path: str, protected: bool, rules: list[dict[str, Any]]) -> None:
        _check_absolute(path)
        entry = self.host._entry(path)
        if entry is None:
            raise ShimError("PathNotFound", f"Cannot find path '{path}' because it does not exist.")
        entry["acl"] = {
            "protected": bool(protected),
            "sids": [str(rule["sid"]) for rule in rules],
            "rules": [dict(rule) for rule in rules],
        }

    def file_version(self, path: str) -> dict[str, Any]:
        """FileVersionInfo: LAB -- a lab program file's version resource is the ``version=`` line of its marker."""
        from lab.asr import products

        _check_absolute(path)
        if not self.host.is_file(path):
            raise ShimError("FileNotFound", path)
        version = products.marker_version(self.host.read_bytes(path))
        parts = [int(p) for p in version.split(".")[:4]] + [0, 0, 0, 0] if version else [0, 0, 0, 0]
        return {
            "FileVersion": version,
            "ProductVersion": version,
            "FileMajorPart": parts[0],
            "FileMinorPart": parts[1],
            "FileBuildPart": parts[2],
            "FilePrivatePart": parts[3],
            "ProductMajorPart": parts[0],
            "ProductMinorPart": parts[1],
            "ProductBuildPart": parts[2],
            "ProductPrivatePart": parts[3],
        }

    # ---- the caller, the network, named mutexes --------------------------------------------------------------
    def token(self) -> dict[str, Any]:
        """LAB: every lab connection user is a local administrator (elevated); SYSTEM when become says so."""
        is_system = self.become and self.user.upper() in ("SYSTEM", "NT AUTHORITY\\SYSTEM")
        hostname = str(self.host.data.get("hostname", self.host.name.upper()))
        name = "NT AUTHORITY\\SYSTEM" if is_system else f"{hostname}\\{self.user.rsplit(chr(92), 1)[-1]}"
        groups = ["S-1-1-0", "S-1-5-32-544", "S-1-5-32-545", "S-1-5-11"]
        groups.append("S-1-5-2" if not self.become else "S-1-5-4")  # NETWORK for a WinRM logon, else INTERACTIVE
        return {"name": name, "is_system": is_system, "elevated": True, "group_sids": groups}

    def tcp_connect(self, address: str, port: int) -> dict[str, Any]:
        """LAB: emulated configuration servers listen on 443 only [1.3]; an address no emulated host owns times out,
        one an emulated host owns without that listener refuses (the .NET message, as Windows words it)."""
        from lab.asr import constants as c
        from lab.asr import cs as cs_mod

        refused = {
            "state": "refused",
            "message": "No connection could be made because the target machine actively refused it",
        }
        host = self.host
        if int(port) != c.CS_PORT:
            owner = host.estate.host_by_ip_nolock(address) if host.estate is not None else None
            return refused if owner or address == host.ip else {"state": "timeout", "message": ""}
        with cs_mod.reach_cs(host, address) as (cs, why):
            if cs is not None:
                return {"state": "connected", "message": ""}
            return refused if why.startswith("No configuration server") else {"state": "timeout", "message": ""}

    def mutex_exists(self, name: str) -> bool:
        """[1.3] Unified Setup's single-instance mutex exists while a setup runs (either namespace: lab decision,
        the reference does not say which one setup uses)."""
        from lab.asr import installer

        if name.rsplit("\\", 1)[-1].lower() != SETUP_MUTEX.lower():
            return False
        installer.settle(self.host)
        return installer._mutex_held(self.host)

    # ---- services, CIM ---------------------------------------------------------------------------------------
    def svc_get(self, name: str) -> dict[str, Any] | None:
        svc = self.host.service(name)
        if svc is None:
            return None
        return {
            "Name": svc["name"],
            "DisplayName": svc["display_name"],
            "Status": {"running": "Running", "stopped": "Stopped", "paused": "Paused"}.get(svc["state"], "Stopped"),
            # .NET Framework's ServiceStartMode has no delayed start: a delayed service is Automatic
            "StartType": {"auto": "Automatic", "delayed": "Automatic", "manual": "Manual"}.get(
                svc["start_mode"], "Disabled"
            ),
        }

    def cim_instances(self, **args: Any) -> list[dict[str, Any]]:
        name = str(args.get("class", ""))
        builder = _CIM.get(name.lower())
        if builder is None:
            raise ShimError("NotSupported", f"lab: Get-CimInstance {name} is not emulated")
        return builder(self.host)

    # ---- processes and programs -----------------------------------------------------------------------------
    def proc_get(self, pid: int) -> dict[str, Any] | None:
        return detached.running(self.host, int(pid))

    def proc_stop(self, pid: int) -> bool:
        return detached.stop(self.host, int(pid))

    def process_create(self, command_line: str, cwd: str = "") -> dict[str, Any]:
        return detached.create(self, command_line, cwd or None)

    def process_start(
        self, file: str, arguments: str, cwd: str = "", stdout: str = "", stderr: str = "", wait: bool = False
    ) -> dict[str, Any]:
        return detached.start(self, file, arguments, cwd or None, stdout or None, stderr or None, wait)

    def process_wait(self, pid: int, timeout_ms: int = -1) -> dict[str, Any]:
        return detached.wait_for(self, int(pid), int(timeout_ms))

    def program_run(
        self, file: str, arguments: str, cwd: str = "", stdin: str = "", env: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Process.Start of a ProcessStartInfo (UseShellExecute false): CreateProcess gets ``"<file>" <arguments>``;
        ``env`` is what the script added to the child's environment (never logged, as Windows does not log it)."""
        command_line = native_command_line(file, arguments)
        result = programs.run(
            self.host,
            command_line,
            user=self.user,
            become=self.become,
            cwd=cwd or None,
            stdin=stdin or None,
            env={str(k): str(v) for k, v in (env or {}).items()},
        )
        return {
            "rc": int(result.rc),
            "stdout": result.stdout,
            "stderr": result.stderr,
            "duration_s": float(result.duration_s or 0.0),
            "pid": detached.next_pid(self.host),
        }

    # ---- Windows facts (lab.windows) --------------------------------------------------------------------------
    def version_table(self) -> dict[str, Any]:
        return windows.version_table(self.host)

    def culture(self) -> dict[str, Any]:
        return windows.culture(self.host)

    def defender(self) -> dict[str, Any] | None:
        return windows.defender(self.host)

    def execution_policy(self) -> dict[str, Any]:
        return windows.execution_policies(self.host)

    def cmdlet_run(self, name: str, parameters: dict[str, Any]) -> dict[str, Any]:
        answer = programs.run_cmdlet(self.host, name, dict(parameters or {}), user=self.user, become=self.become)
        return {"output": list(answer.output), "errors": list(answer.errors)}


def native_command_line(file: str, arguments: str) -> str:
    """.NET Framework's Process.BuildCommandLine: the file name in quotes (unless it is quoted), then the arguments."""
    name = file.strip()
    quoted = name if (name.startswith('"') and name.endswith('"') and len(name) > 1) else f'"{name}"'
    return f"{quoted} {arguments}" if arguments else quoted


def _is_unc(path: str) -> bool:
    text = str(path or "").replace("/", "\\")
    return text.startswith("\\\\") and not text.startswith(("\\\\?\\", "\\\\.\\"))


def _shared(read: Any, host: Host, path: str) -> Any:
    """A share read (lab/share.py), its refusal as the .NET exception Windows raises for it."""
    if host.estate is None:
        raise ShimError("NotSupported", "lab: a share is read only on a host of an estate")
    try:
        return read(host.estate)
    except share.ShareError as exc:
        if exc.kind == "denied":  # UnauthorizedAccessException, as File.OpenRead reports it
            raise ShimError("AccessDenied", f"Access to the path '{path}' is denied.") from exc
        if exc.kind == "missing":
            raise ShimError("FileNotFound", exc.message) from exc
        raise ShimError("IOError", exc.message) from exc


_METHODS: dict[str, Any] = {
    "reg.key": Session.reg_key,
    "reg.children": Session.reg_children,
    "fs.item": Session.fs_item,
    "fs.children": Session.fs_children,
    "fs.read": Session.fs_read,
    "fs.write": Session.fs_write,
    "fs.mkdir": Session.fs_mkdir,
    "fs.remove": Session.fs_remove,
    "fs.move": Session.fs_move,
    "fs.get_acl": Session.fs_get_acl,
    "fs.set_acl": Session.fs_set_acl,
    "file.version": Session.file_version,
    "share.size": Session.share_size,
    "share.read": Session.share_read,
    "token": Session.token,
    "tcp.connect": Session.tcp_connect,
    "mutex.exists": Session.mutex_exists,
    "svc.get": Session.svc_get,
    "cim.instances": Session.cim_instances,
    "proc.get": Session.proc_get,
    "proc.stop": Session.proc_stop,
    "process.create": Session.process_create,
    "process.start": Session.process_start,
    "process.wait": Session.process_wait,
    "program.run": Session.program_run,
    "cmdlet.run": Session.cmdlet_run,
    "windows.version_table": Session.version_table,
    "windows.culture": Session.culture,
    "windows.defender": Session.defender,
    "windows.execution_policy": Session.execution_policy,
}


# ---- paths ------------------------------------------------------------------------------------------------------
def _check_absolute(path: str) -> None:
    text = str(path or "").replace("/", "\\")
    if not (len(text) >= 3 and text[1] == ":" and text[2] == "\\" and text[0].isalpha()):
        raise ShimError("NotSupported", f"lab: only absolute Windows paths (C:\\...) are emulated, not '{path}'")


def _parent(path: str) -> str:
    norm = str(path).replace("/", "\\").rstrip("\\")
    head = norm.rsplit("\\", 1)[0]
    return head + "\\" if len(head) == 2 else head


def _item(host: Host, path: str) -> dict[str, Any] | None:
    stat = host.stat(path)
    if stat is None:
        return None
    shown = _display_path(str(stat.get("path") or path))
    if len(shown) == 2 and shown[1] == ":":
        shown += "\\"
    return {
        "type": stat["type"],
        "path": shown,
        "size": int(stat.get("size") or 0),
        "mtime": float(stat.get("mtime") or host.now()),
        "target": stat.get("target"),
    }


# ---- registry as Windows shows it -------------------------------------------------------------------------------
def _registry_key(path: str) -> str:
    """``HKLM:\\x``, ``Registry::HKEY_LOCAL_MACHINE\\x`` and the provider-qualified form -> ``HKLM\\x``."""
    text = str(path).replace("/", "\\")
    for prefix in ("Microsoft.PowerShell.Core\\Registry::", "Registry::"):
        if text.lower().startswith(prefix.lower()):
            text = text[len(prefix) :]
    return _norm_key(text).rstrip("\\")


def _long_name(key: str) -> str:
    hive, _, rest = key.partition("\\")
    return HIVE_NAMES.get(hive.upper(), hive.upper()) + ("\\" + rest if rest else "")


def registry_view(host: Host, key: str) -> dict[str, Any] | None:
    """The key as Windows shows it (stored keys plus the SCM's and the pending-reboot views), or None."""
    norm = _norm_key(key)
    stored = host.data["registry"].get(norm)
    values: dict[str, dict[str, Any]] = {}
    exists = stored is not None
    shown = stored["path"] if stored else _display_key_case(norm)
    virtual = _virtual_values(host, norm)
    if virtual is not None:
        exists = True
        values.update({v["name"].lower(): v for v in virtual})
    if stored:
        values.update({k: dict(v) for k, v in stored["values"].items()})
    subkeys = {name.lower(): name for name in host.reg_subkeys(norm)}
    for name in _virtual_subkeys(host, norm):
        subkeys.setdefault(name.lower(), name)
    if not exists and not subkeys:
        return None
    return {
        "name": _long_name(shown),
        "leaf": shown.rsplit("\\", 1)[-1],
        "values": [
            {"name": v["name"], "type": v.get("type", "String"), "data": v.get("data")} for v in values.values()
        ],
        "subkeys": sorted(subkeys.values(), key=str.lower),
    }


def _display_key_case(norm: str) -> str:
    for path in (SERVICES_KEY, SESSION_MANAGER, CBS_REBOOT, WU_REBOOT):
        if _norm_key(path) == norm:
            return path
    if norm.startswith(_norm_key(SERVICES_KEY) + "\\"):
        return SERVICES_KEY + norm[len(SERVICES_KEY) :]
    return norm


def _pending_markers(host: Host) -> set[str]:
    """LAB: the state's reboot reasons map onto the three markers; any other reason is a pending file rename."""
    markers = set()
    for reason in host.pending_reboot_reasons():
        markers.add(reason if reason in ("CBS RebootPending", "WU RebootRequired") else "PendingFileRenameOperations")
    return markers


def _virtual_values(host: Host, norm: str) -> list[dict[str, Any]] | None:
    facts = windows.registry_values(host, norm)
    if facts is not None:
        return facts
    services = _norm_key(SERVICES_KEY)
    if norm.startswith(services + "\\") and norm.count("\\") == services.count("\\") + 1:
        svc = host.service(norm.rsplit("\\", 1)[-1])
        if svc is None:
            return None
        values = [
            {"name": "DisplayName", "type": "String", "data": svc["display_name"]},
            {"name": "ImagePath", "type": "ExpandString", "data": svc.get("path", "")},
            {"name": "ObjectName", "type": "String", "data": svc.get("username", "LocalSystem")},
            {"name": "Start", "type": "DWord", "data": START_VALUES.get(svc["start_mode"], 3)},
            {"name": "Type", "type": "DWord", "data": 16},
        ]
        if svc["start_mode"] == "delayed":
            values.append({"name": "DelayedAutostart", "type": "DWord", "data": 1})
        return values
    markers = _pending_markers(host)
    if norm == _norm_key(SESSION_MANAGER):
        if "PendingFileRenameOperations" in markers:
            return [{"name": "PendingFileRenameOperations", "type": "MultiString", "data": list(PENDING_RENAME)}]
        return []
    if norm == _norm_key(CBS_REBOOT) and "CBS RebootPending" in markers:
        return []
    if norm == _norm_key(WU_REBOOT) and "WU RebootRequired" in markers:
        return []
    if norm in (services, _norm_key(SESSION_MANAGER).rsplit("\\", 1)[0]):
        return []
    return None


def _virtual_subkeys(host: Host, norm: str) -> list[str]:
    if norm == _norm_key(SERVICES_KEY):
        return [svc["name"] for svc in host.data["services"].values()]
    return []


# ---- access rules -----------------------------------------------------------------------------------------------
def access_rules(host: Host, path: str) -> dict[str, Any]:
    """The file's own rules (those Set-Acl gave it) plus, unless it is protected, those it inherits from the nearest
    folder above it that has rules for what it contains (ObjectInherit for a file, ContainerInherit for a folder)."""
    entry = host._entry(path) or {}
    container = entry.get("type") != "file"
    own = entry.get("acl") or {}
    rules = [{**_rule(rule), "inherited": False} for rule in _own_rules(own)]
    protected = bool(own.get("protected"))
    if not protected:
        rules += _inherited(host, path, container)
    return {"protected": protected, "container": container, "rules": rules}


def _own_rules(acl: dict[str, Any]) -> list[dict[str, Any]]:
    if acl.get("rules") is not None:
        return list(acl["rules"])
    return [{"sid": sid} for sid in acl.get("sids", [])]  # an older state: SIDs with full control


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "sid": str(rule.get("sid")),
        "rights": str(rule.get("rights") or "FullControl"),
        "inheritance": str(rule.get("inheritance") or "None"),
        "propagation": str(rule.get("propagation") or "None"),
        "type": str(rule.get("type") or "Allow"),
    }


def _inherited(host: Host, path: str, container: bool) -> list[dict[str, Any]]:
    flag = "ContainerInherit" if container else "ObjectInherit"
    current = _parent(path)
    while True:
        entry = host._entry(current) or {}
        acl = entry.get("acl")
        if acl:
            rules = [
                {**_rule(rule), "inheritance": "None", "inherited": True}
                for rule in _own_rules(acl)
                if flag in str(rule.get("inheritance") or "")
            ]
            if rules or acl.get("protected"):
                return rules
        parent = _parent(current)
        if parent == current or len(current) <= 3:
            break
        current = parent
    return [
        {"sid": sid, "rights": rights, "inheritance": "None", "propagation": "None", "type": "Allow", "inherited": True}
        for sid, rights in INHERITED_DEFAULT
    ]


# ---- CIM classes -------------------------------------------------------------------------------------------------
def _os(host: Host) -> list[dict[str, Any]]:
    return [
        {
            "Caption": host.data["os"]["name"],
            "Version": ".".join(str(host.data["os"]["version"]).split(".")[:3]),  # Win32_OperatingSystem.Version
            "CSName": host.data.get("hostname", host.name.upper()),
            "SystemDrive": host.system_drive,
            "OSArchitecture": "64-bit",
            **windows.os_instance(host),
        }
    ]


def _computer(host: Host) -> list[dict[str, Any]]:
    cpu = host.data["cpu"]
    return [
        {
            "Name": host.data.get("hostname", host.name.upper()),
            "NumberOfLogicalProcessors": int(cpu["logical_processors"]),
            "NumberOfProcessors": int(cpu.get("sockets", 1)),
            "TotalPhysicalMemory": int(host.data["memory_mb"]) * 1024 * 1024,
        }
    ]


def _processors(host: Host) -> list[dict[str, Any]]:
    cpu = host.data["cpu"]
    sockets = int(cpu.get("sockets", 1))
    cores = int(cpu.get("cores_per_socket", cpu["logical_processors"]))
    logical = max(1, int(cpu["logical_processors"]) // max(1, sockets))
    return [
        {"DeviceID": f"CPU{i}", "NumberOfCores": cores, "NumberOfLogicalProcessors": logical} for i in range(sockets)
    ]


def _disks(host: Host) -> list[dict[str, Any]]:
    return [
        {
            "DeviceID": f"{letter.upper()}:",
            "DriveType": 3 if disk.get("fixed", True) else 2,  # 3 local disk, 2 removable
            "Size": int(disk["size_gb"] * GIB),
            "FreeSpace": int(disk["free_gb"] * GIB),
            "FileSystem": disk.get("filesystem", "NTFS"),
        }
        for letter, disk in sorted(host.data["disks"].items())
    ]


def _services(host: Host) -> list[dict[str, Any]]:
    return [
        {
            "Name": svc["name"],
            "DisplayName": svc["display_name"],
            "State": {"running": "Running", "stopped": "Stopped", "paused": "Paused"}.get(svc["state"], "Stopped"),
            # Win32_Service.StartMode: a delayed automatic service is "Auto" (DelayedAutostart is in the registry)
            "StartMode": {"auto": "Auto", "delayed": "Auto", "manual": "Manual"}.get(svc["start_mode"], "Disabled"),
            "PathName": svc.get("path", ""),
            "StartName": svc.get("username", "LocalSystem"),
        }
        for svc in sorted(host.data["services"].values(), key=lambda s: s["name"].lower())
    ]


_CIM = {
    "win32_operatingsystem": _os,
    "win32_computersystem": _computer,
    "win32_processor": _processors,
    "win32_logicaldisk": _disks,
    "win32_service": _services,
    "win32_process": detached.win32_processes,
}


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


__all__ = ["Session", "ShimError", "_norm_path", "access_rules", "native_command_line", "registry_view"]
