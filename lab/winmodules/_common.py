"""What every emulated ``ansible.windows`` module needs: the request context, the user's environment,
checksums and the timestamp formats the real modules print."""

from __future__ import annotations

import datetime
import hashlib
import importlib
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from lab.argspec import ModuleFailure, Validated
from lab.requests import ModuleRequest
from lab.state import Host

__all__ = ["Context", "ModuleFailure", "checksum", "environment", "user_profile"]


def programs_module() -> ModuleType:
    """``lab.programs`` (looked up at call time so unit tests can substitute a double)."""
    return importlib.import_module("lab.programs")


def scripts_module() -> ModuleType:
    return importlib.import_module("lab.scripts")


def plain_user(user: str) -> str:
    """``DOMAIN\\user`` and ``user@domain`` name the account ``user``."""
    return user.rsplit("\\", 1)[-1].split("@", 1)[0]


def user_profile(host: Host, user: str) -> str:
    name = plain_user(user)
    drive = host.system_drive
    if name.upper() in ("SYSTEM", "LOCALSYSTEM", "NT AUTHORITY\\SYSTEM"):
        return f"{drive}\\Windows\\system32\\config\\systemprofile"
    return f"{drive}\\Users\\{name}"


def environment(host: Host, user: str) -> dict[str, str]:
    """The process environment of a module run by ``user`` (names as Windows spells them)."""
    drive = host.system_drive
    profile = user_profile(host, user)
    return {
        "ALLUSERSPROFILE": f"{drive}\\ProgramData",
        "APPDATA": f"{profile}\\AppData\\Roaming",
        "COMPUTERNAME": host.data.get("hostname", host.name.upper()),
        "ComSpec": f"{drive}\\Windows\\system32\\cmd.exe",
        "HOMEDRIVE": drive,
        "HOMEPATH": profile[len(drive) :],
        "LOCALAPPDATA": f"{profile}\\AppData\\Local",
        "ProgramData": f"{drive}\\ProgramData",
        "ProgramFiles": f"{drive}\\Program Files",
        "ProgramFiles(x86)": f"{drive}\\Program Files (x86)",
        "PUBLIC": f"{drive}\\Users\\Public",
        "SystemDrive": drive,
        "SystemRoot": f"{drive}\\Windows",
        "TEMP": f"{profile}\\AppData\\Local\\Temp",
        "TMP": f"{profile}\\AppData\\Local\\Temp",
        "USERNAME": plain_user(user),
        "USERPROFILE": profile,
        "windir": f"{drive}\\Windows",
    }


def checksum(data: bytes, algorithm: str = "sha1") -> str:
    """Legacy.psm1 Get-FileChecksum: lower-case hex."""
    return hashlib.new(algorithm, data).hexdigest()


def ps_datetime(epoch: float) -> str:
    """``[DateTime]::UtcNow.ToString("yyyy-MM-dd HH:mm:ss.ffffff")`` as win_command/win_shell print it."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def ps_delta(seconds: float) -> str:
    """``TimeSpan.ToString("h\\:mm\\:ss\\.ffffff")``."""
    micro = round(seconds * 1_000_000)
    hours, rem = divmod(micro, 3_600_000_000)
    minutes, rem = divmod(rem, 60_000_000)
    secs, micro = divmod(rem, 1_000_000)
    return f"{hours}:{minutes:02d}:{secs:02d}.{micro:06d}"


def join_path(parent: str, child: str) -> str:
    """``Join-Path``: one backslash between the parts."""
    return parent.rstrip("\\/") + "\\" + child.lstrip("\\/")


def parent_dir(path: str) -> str:
    """``[System.IO.Path]::GetDirectoryName`` / ``Split-Path``: ``C:\\a\\b`` -> ``C:\\a``, ``C:\\a`` -> ``C:\\``."""
    trimmed = path.replace("/", "\\")
    head = trimmed.rsplit("\\", 1)[0] if "\\" in trimmed else ""
    if len(head) == 2 and head[1] == ":":
        head += "\\"
    return head


def leaf(path: str) -> str:
    return path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1]


@dataclass
class Context:
    """One module invocation on one host."""

    host: Host
    request: ModuleRequest
    validated: Validated
    user: str  # the connection user, or the become user
    become: bool
    env: dict[str, str]
    duration_s: float = 0.0  # what the programs the module ran took (async jobs finish after it)
    diff: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return self.validated.params

    @property
    def check_mode(self) -> bool:
        return self.validated.check_mode

    @property
    def module_name(self) -> str:
        return self.validated.module_name

    def result(self, **values: Any) -> dict[str, Any]:
        """Ansible.Basic ``$module.Result`` starts as ``@{changed = $false}``."""
        return {"changed": False, **values}

    def run_program(self, command_line: str, cwd: str | None = None, stdin: str | None = None) -> Any:
        result = programs_module().run(
            self.host, command_line, user=self.user, become=self.become, cwd=cwd, stdin=stdin
        )
        self.duration_s += float(getattr(result, "duration_s", 0.0) or 0.0)
        return result

    def fail(self, msg: str, **result: Any) -> ModuleFailure:
        return ModuleFailure(msg, **result)
