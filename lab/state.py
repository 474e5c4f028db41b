"""Persisted state of emulated Windows hosts.

One JSON file per host under ``<estate>/hosts/``. Every command re-reads it under a per-host lock and
writes it back when the command changed something (winrm-wire.md: "Re-read persisted host state for each
command, or tests that reset state between runs see stale state").

Windows semantics kept here because every layer needs them:

* file system paths are case-insensitive and ``/`` is a separator too; the ``C:\\ProgramData\\ASR``
  junction that setup creates ([3.3] SRC ucx_server_setup.iss) is followed when resolving a path;
* registry keys and value names are case-insensitive; ``HKLM:\\``, ``HKLM\\`` and
  ``HKEY_LOCAL_MACHINE\\`` name the same hive;
* service names are case-insensitive.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import fcntl
import json
import os
import pathlib
import time
from collections.abc import Iterator
from typing import Any

STATE_VERSION = 1

_HIVES = {
    "hklm": "HKLM",
    "hkey_local_machine": "HKLM",
    "hkcu": "HKCU",
    "hkey_current_user": "HKCU",
    "hkcr": "HKCR",
    "hkey_classes_root": "HKCR",
    "hku": "HKU",
    "hkey_users": "HKU",
}


class Estate:
    """The directory that holds one emulated estate."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = pathlib.Path(path).resolve()

    @property
    def hosts_dir(self) -> pathlib.Path:
        return self.path / "hosts"

    def host_path(self, name: str) -> pathlib.Path:
        return self.hosts_dir / f"{name}.json"

    def journal_path(self, name: str) -> pathlib.Path:
        return self.path / "journal" / f"{name}.jsonl"

    def processes_path(self, name: str) -> pathlib.Path:
        return self.path / "processes" / f"{name}.jsonl"

    def host_names(self) -> list[str]:
        if not self.hosts_dir.is_dir():
            return []
        return sorted(p.stem for p in self.hosts_dir.glob("*.json"))

    def save_new_host(self, host: Host) -> None:
        """Write a freshly built host (used by seeds and ``up``); replaces any previous state."""
        self.hosts_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(host.name):
            _atomic_write_json(self.host_path(host.name), host.data)

    @contextlib.contextmanager
    def open_host(self, name: str) -> Iterator[Host]:
        """Lock one host, read its state fresh from disk, and save it back if the block changed it."""
        with self._lock(name):
            raw = json.loads(self.host_path(name).read_text(encoding="utf-8"))
            before = copy.deepcopy(raw)
            host = Host(raw, estate=self)
            yield host
            if host.data != before:
                _atomic_write_json(self.host_path(name), host.data)

    def read_host(self, name: str) -> Host:
        """A read-only snapshot (no lock held afterwards); changes to it are not saved."""
        with self._lock(name):
            return Host(json.loads(self.host_path(name).read_text(encoding="utf-8")), estate=self)

    def host_by_ip(self, ip: str) -> str | None:
        """Name of the emulated host that owns ``ip`` (how one host reaches another, e.g. PS -> CS)."""
        for name in self.host_names():
            if self.read_host(name).ip == ip:
                return name
        return None

    def host_by_ip_nolock(self, ip: str) -> str | None:
        """Like ``host_by_ip`` but without taking any lock: safe while this process holds another host's lock
        (one host reaching another, e.g. a PS's setup contacting its CS). Host files are replaced atomically,
        so an unlocked read sees a whole state."""
        for path in sorted(self.hosts_dir.glob("*.json")) if self.hosts_dir.is_dir() else []:
            try:
                if json.loads(path.read_text(encoding="utf-8")).get("ip") == ip:
                    return path.stem
            except (OSError, ValueError):
                continue
        return None

    @contextlib.contextmanager
    def _lock(self, name: str) -> Iterator[None]:
        self.hosts_dir.mkdir(parents=True, exist_ok=True)
        with open(self.hosts_dir / f"{name}.lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_write_json(path: pathlib.Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def new_host(
    name: str,
    ip: str,
    role: str = "process_server",
    *,
    username: str = "Administrator",
    password: str = "Lab-Passw0rd!",
    vcpus: int = 8,
    memory_gb: int = 16,
    disks: dict[str, dict[str, Any]] | None = None,
    os_name: str = "Microsoft Windows Server 2016 Datacenter",
    os_version: str = "10.0.14393.0",
) -> Host:
    """A freshly built Windows Server with nothing of ASR on it.

    Defaults follow the documented PS requirements ([2.1]: 8 cores, 16 GB, an OS disk plus a cache disk,
    Windows Server 2016).
    """
    if disks is None:
        disks = {
            "C": {"size_gb": 127, "free_gb": 90, "filesystem": "NTFS", "fixed": True},
            "D": {"size_gb": 1024, "free_gb": 1000, "filesystem": "NTFS", "fixed": True},
        }
    data: dict[str, Any] = {
        "state_version": STATE_VERSION,
        "name": name,
        "role": role,
        "ip": ip,
        "hostname": name.upper(),
        "credentials": {"username": username, "password": password},
        "os": {"name": os_name, "version": os_version, "system_drive": "C:"},
        "cpu": {"logical_processors": vcpus, "sockets": 2, "cores_per_socket": max(1, vcpus // 2)},
        "memory_mb": memory_gb * 1024,
        "boot_time": time.time() - 86400,
        "pending_reboot": [],
        "disks": disks,
        "files": {},
        "registry": {},
        "services": {},
        "faults": {},
        "asr": {},
    }
    host = Host(data)
    for letter in disks:
        host.mkdir(f"{letter}:\\")
    for folder in (r"C:\Windows", r"C:\Windows\Temp", r"C:\ProgramData", r"C:\Users\Administrator", r"C:\Temp"):
        host.mkdir(folder)
    return host


class Host:
    """One emulated Windows host; a thin, case-insensitive view over its persisted dict."""

    def __init__(self, data: dict[str, Any], estate: Estate | None = None) -> None:
        self.data = data
        self.estate = estate

    # ---- identity and facts -------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def ip(self) -> str:
        return self.data["ip"]

    @property
    def role(self) -> str:
        return self.data["role"]

    @property
    def faults(self) -> dict[str, Any]:
        return self.data.setdefault("faults", {})

    @property
    def asr(self) -> dict[str, Any]:
        """Lab bookkeeping for the ASR emulation (e.g. a configuration server's registered PSs)."""
        return self.data.setdefault("asr", {})

    @property
    def facts(self) -> dict[str, Any]:
        """Hardware/software facts the emulated programs consult (e.g. ``vmware_tools``); absent = default."""
        return self.data.setdefault("facts", {})

    @property
    def system_drive(self) -> str:
        return self.data["os"].get("system_drive", "C:")

    def now(self) -> float:
        """The host's clock, including an injected skew (fault ``clock_skew_seconds``)."""
        return time.time() + float(self.faults.get("clock_skew_seconds", 0))

    # ---- file system --------------------------------------------------------------------------------
    def resolve(self, path: str) -> str:
        """Canonical key of ``path``: lower-case, backslashes, no trailing slash, junctions followed."""
        key = _norm_path(path)
        for _ in range(8):  # junction chains are short; a loop guards against a cycle
            for junction_key, entry in self.data["files"].items():
                if entry["type"] != "junction":
                    continue
                if key == junction_key or key.startswith(junction_key + "\\"):
                    key = _norm_path(entry["target"]) + key[len(junction_key) :]
                    break
            else:
                return key
        return key

    def _entry(self, path: str) -> dict[str, Any] | None:
        key = _norm_path(path)
        entry = self.data["files"].get(key)
        if entry is not None and entry["type"] == "junction":
            return entry
        return self.data["files"].get(self.resolve(path))

    def exists(self, path: str) -> bool:
        return self._entry(path) is not None

    def is_dir(self, path: str) -> bool:
        entry = self._entry(path)
        return entry is not None and entry["type"] in ("directory", "junction")

    def is_file(self, path: str) -> bool:
        entry = self._entry(path)
        return entry is not None and entry["type"] == "file"

    def stat(self, path: str) -> dict[str, Any] | None:
        """The stored entry (type, original path, size, times), or None."""
        entry = self._entry(path)
        if entry is None:
            return None
        result = {k: v for k, v in entry.items() if k != "content_b64"}
        if entry["type"] == "file":
            result["size"] = len(base64.b64decode(entry["content_b64"]))
        return result

    def mkdir(self, path: str) -> None:
        """Create a directory and its parents (like ``New-Item -Force`` / ``mkdir``)."""
        parts = self.resolve(path).split("\\")
        shown = _display_path(path).split("\\")
        if len(shown) != len(parts):  # a junction was followed: show the resolved path
            shown = parts
        for depth in range(1, len(parts) + 1):
            sub_key = "\\".join(parts[:depth])
            if sub_key in self.data["files"]:
                continue
            display = "\\".join(shown[:depth])
            if depth == 1:
                display = display.rstrip("\\").upper() + "\\"
            self.data["files"][sub_key] = {"type": "directory", "path": display, "mtime": self.now()}

    def write_file(self, path: str, content: bytes | str) -> None:
        if isinstance(content, str):
            content = content.encode("utf-8")
        key = self.resolve(path)
        parent = key.rsplit("\\", 1)[0]
        self.mkdir(parent if "\\" in key else key)
        self.data["files"][key] = {
            "type": "file",
            "path": _display_path(path),
            "content_b64": base64.b64encode(content).decode("ascii"),
            "mtime": self.now(),
        }

    def append_text(self, path: str, text: str) -> None:
        previous = self.read_text(path) if self.is_file(path) else ""
        self.write_file(path, previous + text)

    def read_bytes(self, path: str) -> bytes:
        entry = self._entry(path)
        if entry is None or entry["type"] != "file":
            raise FileNotFoundError(path)
        return base64.b64decode(entry["content_b64"])

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8", errors="replace")

    def make_junction(self, path: str, target: str) -> None:
        self.data["files"][_norm_path(path)] = {
            "type": "junction",
            "path": _display_path(path),
            "target": _display_path(target),
            "mtime": self.now(),
        }

    def remove(self, path: str, recurse: bool = True) -> None:
        """Delete a file or a directory tree (a junction itself is removed, not its target)."""
        key = _norm_path(path)
        if key in self.data["files"] and self.data["files"][key]["type"] == "junction":
            del self.data["files"][key]
            return
        key = self.resolve(path)
        doomed = [k for k in self.data["files"] if k == key or (recurse and k.startswith(key + "\\"))]
        for k in doomed:
            del self.data["files"][k]

    def list_dir(self, path: str) -> list[str]:
        """Original-case full paths of the direct children of a directory."""
        key = self.resolve(path).rstrip("\\")
        depth = key.count("\\") + 1
        return sorted(
            entry["path"]
            for k, entry in self.data["files"].items()
            if k.startswith(key + "\\") and k.count("\\") == depth
        )

    # ---- disks ----------------------------------------------------------------------------------------
    def disk_of(self, path: str) -> dict[str, Any] | None:
        """The disk (size_gb, free_gb, filesystem, fixed) that holds ``path``, junctions followed."""
        key = self.resolve(path)
        letter = key[:1].upper()
        disk = self.data["disks"].get(letter)
        return None if disk is None else {"letter": letter, **disk}

    def consume_disk(self, letter: str, gigabytes: float) -> None:
        disk = self.data["disks"][letter.upper()]
        disk["free_gb"] = max(0, round(disk["free_gb"] - gigabytes, 3))

    # ---- registry -------------------------------------------------------------------------------------
    def reg_key_exists(self, key: str) -> bool:
        return _norm_key(key) in self.data["registry"]

    def reg_create_key(self, key: str) -> None:
        norm = _norm_key(key)
        parts = norm.split("\\")
        shown = _display_key(key).split("\\")
        for depth in range(1, len(parts) + 1):
            sub = "\\".join(parts[:depth])
            if sub not in self.data["registry"]:
                self.data["registry"][sub] = {"path": "\\".join(shown[:depth]), "values": {}}

    def reg_set(self, key: str, name: str, data: Any, kind: str = "String") -> None:
        """Set a value; ``kind`` is the PowerShell RegistryValueKind name (String, DWord, MultiString...)."""
        self.reg_create_key(key)
        self.data["registry"][_norm_key(key)]["values"][name.lower()] = {"name": name, "type": kind, "data": data}

    def reg_get(self, key: str, name: str, default: Any = None) -> Any:
        entry = self.data["registry"].get(_norm_key(key))
        if entry is None:
            return default
        value = entry["values"].get(name.lower())
        return default if value is None else value["data"]

    def reg_value(self, key: str, name: str) -> dict[str, Any] | None:
        """The stored value with its type (``{"name", "type", "data"}``), or None."""
        entry = self.data["registry"].get(_norm_key(key))
        return None if entry is None else entry["values"].get(name.lower())

    def reg_values(self, key: str) -> dict[str, Any]:
        """Original-case value names mapped to their data."""
        entry = self.data["registry"].get(_norm_key(key))
        if entry is None:
            return {}
        return {v["name"]: v["data"] for v in entry["values"].values()}

    def reg_subkeys(self, key: str) -> list[str]:
        norm = _norm_key(key)
        depth = norm.count("\\") + 1
        return sorted(
            entry["path"].rsplit("\\", 1)[-1]
            for k, entry in self.data["registry"].items()
            if k.startswith(norm + "\\") and k.count("\\") == depth
        )

    def reg_delete_value(self, key: str, name: str) -> None:
        entry = self.data["registry"].get(_norm_key(key))
        if entry is not None:
            entry["values"].pop(name.lower(), None)

    def reg_delete_key(self, key: str) -> None:
        norm = _norm_key(key)
        for k in [k for k in self.data["registry"] if k == norm or k.startswith(norm + "\\")]:
            del self.data["registry"][k]

    # ---- services -------------------------------------------------------------------------------------
    def service(self, name: str) -> dict[str, Any] | None:
        return self.data["services"].get(name.lower())

    def add_service(
        self,
        name: str,
        display_name: str,
        path: str,
        start_mode: str = "auto",
        state: str = "running",
        username: str = "LocalSystem",
    ) -> None:
        """``start_mode``: auto | delayed | manual | disabled; ``state``: running | stopped."""
        self.data["services"][name.lower()] = {
            "name": name,
            "display_name": display_name,
            "path": path,
            "start_mode": start_mode,
            "state": state,
            "username": username,
        }

    def remove_service(self, name: str) -> None:
        self.data["services"].pop(name.lower(), None)

    def set_service_state(self, name: str, state: str) -> bool:
        """Start or stop a service; False when it cannot start (fault ``service_fails_to_start``)."""
        service = self.service(name)
        if service is None:
            raise KeyError(name)
        before = service["state"]
        if state == "running" and self.service_start_blocked(name):
            service["state"] = "stopped"
            self._note_downtime(service["name"], before, "stopped")
            return False
        service["state"] = state
        self._note_downtime(service["name"], before, state)
        return True

    def _note_downtime(self, name: str, before: str, after: str) -> None:
        """LAB bookkeeping, not Windows behaviour: every service outage as ``{service, down_at, up_at}`` (host clock;
        ``up_at`` None while still down) in ``data["downtime"]``, so tests can measure how many hosts were out of
        service at once (tests/reliability/test_rolling.py). Only transitions made through set_service_state."""
        windows = self.data.setdefault("downtime", [])
        if before == "running" and after != "running":
            windows.append({"service": name, "down_at": self.now(), "up_at": None})
        elif before != "running" and after == "running":
            for window in reversed(windows):
                if window["service"] == name and window["up_at"] is None:
                    window["up_at"] = self.now()
                    break

    def service_start_blocked(self, name: str) -> bool:
        blocked = self.faults.get("service_fails_to_start") or []
        if isinstance(blocked, str):
            blocked = [blocked]
        return name.lower() in {b.lower() for b in blocked}

    # ---- reboot ---------------------------------------------------------------------------------------
    def pending_reboot_reasons(self) -> list[str]:
        reasons = list(self.data.get("pending_reboot", []))
        if self.faults.get("pending_reboot"):
            reasons.append("PendingFileRenameOperations")
        return reasons

    def reboot(self) -> None:
        """A reboot clears pending-reboot reasons, ends every process, restarts automatic services and moves the boot
        time."""
        self.data["pending_reboot"] = []
        self.faults.pop("pending_reboot", None)
        self.data["boot_time"] = self.now()
        self.data.pop("processes", None)  # no process survives a reboot (lab.detached keeps the table)
        for service in self.data["services"].values():
            if service["start_mode"] in ("auto", "delayed"):
                service["state"] = "stopped" if self.service_start_blocked(service["name"]) else "running"
            else:
                service["state"] = "stopped"

    # ---- process log ----------------------------------------------------------------------------------
    def record_process(self, command_line: str, user: str) -> None:
        """Record a process the host ran with its command line exactly as given, as Windows would log it
        (event 4688 with command-line auditing): a secret on a command line must show up here."""
        if self.estate is None:
            self.data.setdefault("_processes", []).append({"command_line": command_line, "user": user})
            return
        path = self.estate.processes_path(self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        record = {"time": self.now(), "user": user, "command_line": command_line}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


# ---- path and key normalisation -----------------------------------------------------------------------
def _display_path(path: str) -> str:
    shown = path.replace("/", "\\")
    if len(shown) >= 2 and shown[1] == ":":
        shown = shown[0].upper() + shown[1:]
    if len(shown) > 3:
        shown = shown.rstrip("\\")
    return shown


def _norm_path(path: str) -> str:
    """``C:/Foo/./Bar/..`` -> ``c:\\foo``; a bare drive ``D:`` or ``D:\\`` -> ``d:``.

    ``.`` and ``..`` segments are collapsed as Windows does when it opens a path (ansible-core removes its
    temp directories as ``'<tmp>\\.'``), and the ``\\\\?\\`` long-path prefix is dropped.
    """
    key = path.replace("/", "\\").strip().lower()
    if key.startswith("\\\\?\\"):
        key = key[4:]
    parts: list[str] = []
    for piece in key.split("\\"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if len(parts) > 1:  # never climb above the drive root
                parts.pop()
            continue
        parts.append(piece)
    return "\\".join(parts)


def _display_key(key: str) -> str:
    key = key.replace("/", "\\").strip().rstrip("\\")
    head, _, rest = key.partition("\\")
    hive = _HIVES.get(head.rstrip(":").lower(), head.rstrip(":").upper())
    return f"{hive}\\{rest}" if rest else hive


def _norm_key(key: str) -> str:
    return _display_key(key).lower()
