"""Plain PowerShell text the lab recognises (winrm-wire.md: "An emulator cannot run PowerShell ... anything
unrecognised must fail loudly").

Recognised, exactly as ansible-core / ansible.windows send them:

* temp-dir cleanup, ``plugins/shell/powershell.py`` ``remove()``: ``Remove-Item '<path>' -Force [-Recurse];``
* ``ansible.windows`` ``plugin_utils/_reboot.py`` (win_reboot), each wrapped by ``_execute_command`` in
  ``PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand <b64>`` with the
  ``; If (-not $?) { ... exit $LASTEXITCODE ... }`` suffix:
  - ``_DEFAULT_BOOT_TIME_COMMAND``: ``(Get-CimInstance ... Win32_OperatingSystem ...).LastBootUpTime.ToFileTime()``
  - the reboot command: removes the LogonUI ``AutoLogonChecked`` key, runs ``shutdown.exe /r /t N /c msg``
    and prints ``{"stdout", "stderr", "rc"}`` as JSON;
  - ``shutdown.exe /a`` (abort a scheduled shutdown);
  - the default test command: ``Get-Item -LiteralPath '<AutoLogonChecked key>' -ErrorAction Stop; '<marker>'``.
"""

from __future__ import annotations

import base64
import json
import re

from lab.requests import RawRequest, Reply
from lab.state import Host

# _reboot.py _LOGON_UI_KEY
LOGON_UI_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
_FILETIME_EPOCH_OFFSET = 11644473600  # seconds from 1601-01-01 to 1970-01-01

_PRESERVE_RC_SUFFIX_RE = re.compile(
    r";?\s*If \(-not \$\?\) \{ If \(Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue\) "
    r"\{ exit \$LASTEXITCODE \} Else \{ exit 1 \} \}\s*$"
)
_NESTED_RE = re.compile(r"^\s*PowerShell(?:\.exe)?\s+(?:-?\w+\s+)*?-EncodedCommand\s+(\S+)\s*$", re.I)
# Temp-dir cleanup as ansible-core sends it: 2.19 quotes the path ('...' with '' escapes) and ends with ";",
# 2.21 sends the path unquoted (winrm-wire.md; ansible-core's PowerShell shell plugin, remove()).
_REMOVE_RE = re.compile(r"^Remove-Item (?:'(?P<quoted>(?:[^']|'')*)'|(?P<bare>[^'\s;]+)) -Force( -Recurse)?;?$")
_BOOT_TIME_RE = re.compile(
    r"^\(Get-CimInstance -ClassName Win32_OperatingSystem -Property LastBootUpTime\)\.LastBootUpTime\.ToFileTime\(\)$"
)
_REBOOT_RE = re.compile(
    r"if \(\$(?P<clear>True|False)\) \{\s*Remove-Item -LiteralPath '(?P<key>[^']*)' -Force -ErrorAction "
    r"SilentlyContinue\s*\}.*?C:\\Windows\\System32\\shutdown\.exe /r /t (?P<delay>\d+) /c (?P<msg>'(?:[^']|'')*')"
    r" \| Set-Variable stdout",
    re.S | re.I,
)
_TEST_RE = re.compile(r"^Get-Item -LiteralPath '(?P<key>[^']*)' -ErrorAction Stop; '(?P<marker>[^']*)'$")
_ABORT = r"C:\Windows\System32\shutdown.exe /a"


def first_line(script: str) -> str:
    for line in script.splitlines():
        if line.strip():
            return line.strip()
    return ""


def unwrap(script: str) -> str:
    """Strip the nested ``PowerShell -EncodedCommand`` of ``_reboot._execute_command`` and the rc suffix."""
    text = script.strip()
    for _ in range(3):
        match = _NESTED_RE.match(text)
        if not match:
            break
        text = base64.b64decode(match.group(1)).decode("utf-16-le").strip()
    text = _PRESERVE_RC_SUFFIX_RE.sub("", text).strip()
    if text.startswith("Set-StrictMode -Version Latest"):
        text = text.split("\n", 1)[1].strip() if "\n" in text else ""
    return text


def identity(script: str) -> str:
    """What the journal calls a raw script."""
    text = unwrap(script)
    if _REMOVE_RE.match(text):
        return "raw: Remove-Item (temp-dir cleanup)"
    if _BOOT_TIME_RE.match(text):
        return "raw: win_reboot boot-time query"
    if _REBOOT_RE.search(text):
        return "raw: win_reboot shutdown command"
    if _TEST_RE.match(text):
        return "raw: win_reboot test command"
    if text == _ABORT:
        return "raw: win_reboot shutdown abort"
    return "raw: " + first_line(text)[:120]


def _ps_error(command: str, message: str, category: str, error_id: str) -> Reply:
    return Reply(
        stdout="",
        stderr=(
            f"{command} : {message}\r\n    + CategoryInfo          : {category}\r\n"
            f"    + FullyQualifiedErrorId : {error_id}\r\n"
        ),
        rc=1,
    )


def boot_time_filetime(host: Host) -> int:
    """``LastBootUpTime.ToFileTime()``: 100 ns ticks since 1601-01-01 UTC."""
    return int((float(host.data["boot_time"]) + _FILETIME_EPOCH_OFFSET) * 10_000_000)


def handle(host: Host, request: RawRequest, user: str) -> Reply:
    text = unwrap(request.script)
    reply = _handle(host, text, user)
    reply.identity = identity(request.script)
    return reply


def _handle(host: Host, text: str, user: str) -> Reply:
    match = _REMOVE_RE.match(text)
    if match:
        quoted = match.group("quoted")
        path = quoted.replace("''", "'") if quoted is not None else match.group("bare")  # "\\." collapsed by state.py
        if not host.exists(path):
            return _ps_error(
                "Remove-Item",
                f"Cannot find path '{path}' because it does not exist.",
                f"ObjectNotFound: ({path}:String) [Remove-Item], ItemNotFoundException",
                "PathNotFound,Microsoft.PowerShell.Commands.RemoveItemCommand",
            )
        host.remove(path, recurse=bool(match.group(2)))
        return Reply(stdout="")
    if _BOOT_TIME_RE.match(text):
        return Reply(stdout=f"{boot_time_filetime(host)}\r\n")
    match = _REBOOT_RE.search(text)
    if match:
        return _reboot(host, match, user)
    match = _TEST_RE.match(text)
    if match:
        key = match.group("key")
        if not host.reg_key_exists(key):
            return _ps_error(
                "Get-Item",
                f"Cannot find path '{key}' because it does not exist.",
                f"ObjectNotFound: ({key}:String) [Get-Item], ItemNotFoundException",
                "PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand",
            )
        parent, _, name = key.replace("HKLM:\\", "HKEY_LOCAL_MACHINE\\").rpartition("\\")
        listing = (
            f"\r\n\r\n    Hive: {parent}\r\n\r\n\r\nName                           Property\r\n"
            f"----                           --------\r\n{name}\r\n\r\n\r\n"
        )
        return Reply(stdout=listing + match.group("marker") + "\r\n")
    if text == _ABORT:
        host.record_process(_ABORT, user)
        # shutdown.exe /a with nothing scheduled: ERROR_NO_SHUTDOWN_IN_PROGRESS
        return Reply(
            stdout="",
            stderr="Unable to abort the system shutdown because no shutdown was in progress.(1116)\r\n",
            rc=1116,
        )
    return Reply(
        stdout="",
        stderr=(
            "lab: unrecognised PowerShell script; the emulated host cannot run free-form PowerShell "
            f"(winrm-wire.md). First line: {first_line(text)}\r\n"
        ),
        rc=1,
    )


def _reboot(host: Host, match: re.Match[str], user: str) -> Reply:
    message = match.group("msg")
    command = rf"C:\Windows\System32\shutdown.exe /r /t {match.group('delay')} /c {message}"
    host.record_process(command, user)
    if match.group("clear") == "True":
        host.reg_delete_key(match.group("key"))
    # The lab reboots at once: the boot time moves, pending reboots clear, automatic services start, and
    # LogonUI re-creates its volatile AutoLogonChecked key when the logon screen is ready (_reboot.py).
    host.reboot()
    host.reg_create_key(LOGON_UI_KEY)
    return Reply(stdout=json.dumps({"stdout": "", "stderr": "", "rc": 0}, separators=(",", ":")) + "\r\n")
