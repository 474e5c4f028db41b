"""Decode what ansible-core sends over WinRM into a ``lab.requests`` Request.

Everything here follows ``winrm-wire.md`` ("Module execution", "File transfer and temp dirs") and the
ansible-core sources it was read from (``executor/powershell/module_manifest.py``,
``plugins/shell/powershell.py`` on 2.19, ``_internal/_powershell/_script.py`` on 2.21,
``plugins/connection/winrm.py`` on both). The decoder is tolerant of both command-line shapes:

* 2.19: the winrm plugin sends ``PowerShell`` as the command and ``-NoProfile ... -EncodedCommand <b64>``
  as arguments (``_encode_script(as_list=True)``);
* 2.21: the shell is ``cmd`` and the whole line ``powershell -NoProfile ... -EncodedCommand <b64>`` is sent
  as one command string; an optional ``-EncodedArguments <b64 CLIXML>`` may follow.

pywinrm joins command and arguments with a space (``Protocol.run_command``), so both arrive here as one
command line. The stdin is the bootstrap JSON, ``\\n\\0\\0\\0\\0\\n``, the exec manifest and, for put_file
only, a second separator followed by base64 data lines.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from lab.requests import FileRequest, ModuleRequest, RawRequest

# winrm-wire.md: "then the separator bytes \n\0\0\0\0\n"
SEPARATOR = b"\n\0\0\0\0\n"

# winrm-wire.md: file transfer and temp dirs: single-action manifests naming these scripts.
FILE_ACTIONS = {
    "powershell_mkdtemp.ps1": "mkdtemp",
    "powershell_expand_user.ps1": "expand_user",
    "winrm_put_file.ps1": "put_file",
    "psrp_put_file.ps1": "put_file",
    "winrm_fetch_file.ps1": "fetch_file",
    "psrp_fetch_file.ps1": "fetch_file",
}

# DESIGN.md / ARCHITECTURE.md decision 5: the collection's scripts carry a stable identity header.
SCRIPT_IDENTITY_RE = re.compile(r"#\s*asr\.process_server script:\s*(?P<name>[\w.-]+)\s+v(?P<version>\d+)")

# 2.19 plugins/shell/powershell.py _encode_script(strict_mode=True, preserve_rc=True) wraps scripts
# (e.g. the temp-dir cleanup ``Remove-Item '<path>' -Force -Recurse;``) in these two lines.
_STRICT_MODE_LINE = "Set-StrictMode -Version Latest"
_PRESERVE_RC_LINE = (
    "If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
    "{ exit $LASTEXITCODE } Else { exit 1 } }"
)

_ENCODED_COMMAND_RE = re.compile(r"""(?i)(?:^|\s)-(?:EncodedCommand|enc|ec)\s+["']?([A-Za-z0-9+/=]+)["']?""")
_ENCODED_ARGS_RE = re.compile(r"""(?i)(?:^|\s)-(?:EncodedArguments|ea)\s+["']?([A-Za-z0-9+/=]+)["']?""")
_COLLECTION_SCRIPT_RE = re.compile(
    r"^ansible_collections\.(?P<ns>\w+)\.(?P<coll>\w+)\.plugins\.modules\.(?P<name>\w+)$"
)
_CORE_SCRIPT_RE = re.compile(r"^ansible\.modules\.(?P<name>\w+)$")
_SCRIPT_EXTENSIONS = (".ps1", ".psm1", ".exe", ".py")


class PayloadError(ValueError):
    """The command does not match any format this decoder knows: the lab must fail loudly."""


def command_line(command: str, arguments: list[str] | tuple[str, ...] = ()) -> str:
    """The command line as the host sees it (pywinrm ``run_command`` joins command and args with a space)."""
    return " ".join([command, *arguments]).strip()


def decode_command_line(line: str) -> tuple[str | None, list[str]]:
    """The PowerShell script behind ``-EncodedCommand`` (UTF-16-LE base64) and its ``-EncodedArguments``.

    Returns ``(None, [])`` when the line is not an encoded PowerShell invocation.
    """
    match = _ENCODED_COMMAND_RE.search(line)
    if not match:
        return None, []
    try:
        script = base64.b64decode(match.group(1), validate=True).decode("utf-16-le")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise PayloadError(f"-EncodedCommand is not UTF-16-LE base64: {exc}") from exc
    args: list[str] = []
    arg_match = _ENCODED_ARGS_RE.search(line)
    if arg_match:
        # 2.21 _script._get_encoded_arguments: an ArrayList of strings serialised as CLIXML.
        clixml = base64.b64decode(arg_match.group(1)).decode("utf-16-le")
        args = [_clixml_unescape(s) for s in re.findall(r"<S>(.*?)</S>", clixml, flags=re.S)]
    return script, args


def _clixml_unescape(text: str) -> str:
    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def strip_shell_wrapping(script: str) -> str:
    """Remove the lines ansible-core's shell plugin adds around a raw script (2.19 ``_encode_script``)."""
    lines = [line for line in script.replace("\r\n", "\n").split("\n")]
    if lines and lines[0].strip() == _STRICT_MODE_LINE:
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines.pop()
    if lines and lines[-1].strip() == _PRESERVE_RC_LINE:
        lines.pop()
    return "\n".join(lines)


def decode(line: str, stdin: bytes = b"") -> ModuleRequest | FileRequest | RawRequest:
    """Decode one WinRM command (its command line and everything sent on stdin) into a Request."""
    script, _args = decode_command_line(line)
    if script is None:
        # Not an encoded PowerShell invocation: a plain command line (e.g. pywinrm ``run_cmd``), or
        # ``PowerShell ... -Command -`` reading its script from stdin (2.19 ``_encode_script('-')``).
        if re.search(r"(?i)\s-Command\s+-(\s|$)", line) and stdin:
            return RawRequest(script=stdin.decode("utf-8", errors="replace"))
        return RawRequest(script=line)
    if SEPARATOR in stdin and _looks_like_bootstrap(stdin):
        return decode_bootstrap_input(stdin)
    return RawRequest(script=strip_shell_wrapping(script))


def _looks_like_bootstrap(stdin: bytes) -> bool:
    head = stdin.split(SEPARATOR, 1)[0].lstrip()
    return head.startswith(b"{") and b'"exec_wrapper"' in head


def decode_bootstrap_input(stdin: bytes) -> ModuleRequest | FileRequest:
    """Bootstrap JSON, separator, exec manifest (and put_file data after a second separator)."""
    bootstrap_raw, rest = stdin.split(SEPARATOR, 1)
    try:
        bootstrap = json.loads(bootstrap_raw)
    except ValueError as exc:
        raise PayloadError(f"bootstrap input is not JSON: {exc}") from exc
    if bootstrap.get("name") != "exec_wrapper":
        raise PayloadError(f"bootstrap names {bootstrap.get('name')!r}, expected 'exec_wrapper'")
    manifest_raw, _, data = rest.partition(SEPARATOR)
    try:
        manifest = json.loads(manifest_raw)
    except ValueError as exc:
        raise PayloadError(f"exec manifest is not JSON: {exc}") from exc
    return decode_manifest(manifest, data=data, bootstrap=bootstrap)


def decode_manifest(
    manifest: dict[str, Any], data: bytes = b"", bootstrap: dict[str, Any] | None = None
) -> ModuleRequest | FileRequest:
    """Turn an exec manifest (``{"scripts", "actions", "signed_hashlist"}``) into a Request."""
    actions = manifest.get("actions")
    if not isinstance(actions, list) or not actions:
        raise PayloadError("exec manifest has no actions")
    last = actions[-1]
    name = last.get("name", "")
    params = last.get("params") or {}

    if name in FILE_ACTIONS:
        action = FILE_ACTIONS[name]
        payload = _decode_put_file_data(data) if action == "put_file" else b""
        return FileRequest(action=action, params=dict(params), data=payload)

    if name != "module_wrapper.ps1":
        # winrm-wire.md: "anything unrecognised must fail loudly"
        raise PayloadError(f"exec manifest's last action is {name!r}, not module_wrapper.ps1 or a file script")

    complex_args: dict[str, Any] = {}
    for variable in params.get("Variables") or []:
        if variable.get("Name") == "complex_args":
            complex_args = variable.get("Value") or {}
    args = {k: v for k, v in complex_args.items() if not k.startswith("_ansible_")}
    internal = {k: v for k, v in complex_args.items() if k.startswith("_ansible_")}

    become_user = None
    async_jid = None
    async_timeout = None
    for wrapper in actions[:-1]:
        wrapper_params = wrapper.get("params") or {}
        if wrapper.get("name") == "become_wrapper.ps1":
            # runas._build_powershell_wrapper_action: params BecomeUser (+ logon flags); the password is in
            # secure_params and is deliberately not carried into the request.
            become_user = str(wrapper_params.get("BecomeUser") or "SYSTEM")
        elif wrapper.get("name") == "async_wrapper.ps1":
            async_jid = str(wrapper_params.get("AsyncJid"))
        elif wrapper.get("name") == "async_watchdog.ps1":
            async_timeout = int(wrapper_params.get("Timeout") or 0)
    if async_jid is not None and async_timeout is None:
        async_timeout = 0

    return ModuleRequest(
        module=module_fqcn(str(params.get("Script", "")), internal.get("_ansible_module_name")),
        args=args,
        internal=internal,
        check_mode=bool(internal.get("_ansible_check_mode", False)),
        diff=bool(internal.get("_ansible_diff", False)),
        no_log=bool(internal.get("_ansible_no_log", False)),
        become_user=become_user,
        async_jid=async_jid,
        async_timeout=async_timeout,
    )


def module_fqcn(script: str, module_name: str | None = None) -> str:
    """The module's FQCN from module_wrapper's ``params.Script`` and ``_ansible_module_name``.

    winrm-wire.md: ``params.Script`` names the module as ``ansible_collections.<ns>.<coll>.plugins.modules.
    <name>.ps1``; ``_ansible_module_name`` is a second, version-independent source. The Script wins; a
    short ``_ansible_module_name`` (``win_ping``) is qualified only by what the Script says.
    """
    base = script
    for ext in _SCRIPT_EXTENSIONS:
        if base.lower().endswith(ext):
            base = base[: -len(ext)]
            break
    match = _COLLECTION_SCRIPT_RE.match(base)
    if match:
        return f"{match['ns']}.{match['coll']}.{match['name']}"
    match = _CORE_SCRIPT_RE.match(base)
    if match:
        return f"ansible.builtin.{match['name']}"
    if module_name:
        return module_name
    if base:
        return base
    raise PayloadError("module_wrapper.ps1 action names no Script and no _ansible_module_name was sent")


def _decode_put_file_data(data: bytes) -> bytes:
    """winrm.py ``_put_file_stdin_iterator``: each chunk is base64-encoded separately and ends with CRLF."""
    out = bytearray()
    for line in data.splitlines():
        line = line.strip()
        if line:
            try:
                out += base64.b64decode(line, validate=True)
            except binascii.Error as exc:
                raise PayloadError(f"put_file data line is not base64: {exc}") from exc
    return bytes(out)


def script_identity(text: str) -> str | None:
    """``<name> v<N>`` from a collection script's identity header, if the text carries one."""
    match = SCRIPT_IDENTITY_RE.search(text)
    return f"{match['name']} v{match['version']}" if match else None


def identities(request: ModuleRequest | FileRequest | RawRequest) -> list[str]:
    """Names a request can be recognised by before it is dispatched (for the ``drop_connection_at`` fault).

    A collection script's identity (``name vN`` and ``name``) found in a raw script or in any string module
    argument (e.g. win_powershell's ``script``) comes first, then the module's FQCN (and short name), the file
    action, or ``raw``.
    """
    texts: list[str] = []
    names: list[str] = []
    if isinstance(request, ModuleRequest):
        names += [request.module, request.module.rsplit(".", 1)[-1]]
        texts += [v for v in request.args.values() if isinstance(v, str)]
    elif isinstance(request, FileRequest):
        names.append(request.action)
    else:
        names.append("raw")
        texts.append(request.script)
    scripts: list[str] = []
    for text in texts:
        ident = script_identity(text)
        if ident:
            scripts += [ident, ident.rsplit(" ", 1)[0]]
    return scripts + names  # the most specific first: a collection script names the call best


def op_of(request: ModuleRequest | FileRequest | RawRequest) -> str:
    """The journal's ``op`` column: module, file or raw."""
    if isinstance(request, ModuleRequest):
        return "module"
    if isinstance(request, FileRequest):
        return "file"
    return "raw"
