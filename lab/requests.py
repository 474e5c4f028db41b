"""What a decoded WinRM command becomes (lab/DESIGN.md, "The Request a decoded WinRM command becomes").

``lab.payload`` builds these from what ansible-core sends; ``lab.dispatch.handle`` answers them with a
``Reply``; ``lab.wsman`` puts the reply on the wire and in the journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ModuleRequest:  # module_wrapper.ps1 action (+ optional become/async wrappers)
    module: str  # FQCN, e.g. "ansible.windows.win_copy"
    args: dict  # user arguments (no _ansible_* keys)
    # lab.payload sets every field from what was sent; the defaults are a plain task's (for the lab's tests)
    internal: dict = field(default_factory=dict)  # the _ansible_* keys as sent
    check_mode: bool = False
    diff: bool = False
    no_log: bool = False
    become_user: str | None = None  # set when become_wrapper.ps1 is in the manifest
    async_jid: str | None = None  # set when async_wrapper.ps1 is in the manifest
    async_timeout: int | None = None


@dataclass
class FileRequest:  # powershell_mkdtemp / powershell_expand_user / winrm_put_file / winrm_fetch_file
    action: str  # "mkdtemp" | "expand_user" | "put_file" | "fetch_file"
    params: dict
    data: bytes = b""  # put_file payload, already base64-decoded


@dataclass
class RawRequest:  # plain PowerShell text (raw module, temp-dir cleanup, win_reboot probes)
    script: str


@dataclass
class Reply:
    stdout: str
    stderr: str = ""
    rc: int = 0
    identity: str = ""  # for the journal: module FQCN, file action, or script identity
    journal_args: dict | None = None  # arguments as the journal may show them (no_log values redacted)


Request = ModuleRequest | FileRequest | RawRequest
