"""Contract test: payloads built by the INSTALLED ansible-core decode into the Requests the lab expects.

The payloads are produced by ansible-core's own code (``module_common.modify_module``, the ``winrm``
connection plugin's ``exec_command``/``put_file``/``fetch_file`` and its shell plugin), captured just before
pywinrm would send them. A change of format in a new ansible-core fails here, loudly, instead of surfacing as
a mysterious emulator error (winrm-wire.md, "Module execution (ansible-core >= 2.19)").
"""

from __future__ import annotations

import base64
import hashlib
import inspect
import json
import pathlib

import pytest
from ansible.executor import module_common
from ansible.module_utils.common.text.converters import to_text
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.loader import become_loader, connection_loader
from ansible.template import Templar

from lab import payload
from lab.requests import FileRequest, ModuleRequest, RawRequest

pytestmark = pytest.mark.lab

WIN_PING = "ansible_collections.ansible.windows.plugins.modules.win_ping"


def _module_path(fqmn: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(fqmn.rsplit(".", 1)[0])
    assert spec is not None and spec.submodule_search_locations
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / (fqmn.rsplit(".", 1)[1] + ".ps1")
    assert path.is_file(), path
    return str(path)


class Captured:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    @property
    def last(self) -> tuple[str, bytes]:
        return self.calls[-1]


@pytest.fixture
def winrm():
    """The real winrm connection plugin with pywinrm cut off: ``_winrm_exec`` records what would be sent and
    answers as the lab would (put_file must echo the sha1 the controller then checks)."""
    conn = connection_loader.get("winrm", PlayContext(), None)
    conn.set_options(
        var_options={"ansible_host": "127.0.0.1", "ansible_user": "Administrator", "ansible_password": "pw"}
    )
    conn._shell.set_options()
    captured = Captured()

    def fake_exec(command, args=(), from_exec=False, stdin_iterator=None):
        stdin = b"".join(chunk for chunk, _last in stdin_iterator) if stdin_iterator else b""
        line = payload.command_line(to_text(command), [to_text(a) for a in args])
        captured.calls.append((line, stdin))
        request = payload.decode(line, stdin)
        if isinstance(request, FileRequest) and request.action == "put_file":
            return 0, json.dumps({"sha1": hashlib.sha1(request.data).hexdigest()}).encode(), b""
        if isinstance(request, FileRequest) and request.action == "fetch_file":
            return 0, base64.b64encode(b"fetched bytes"), b""
        return 0, b"{}", b""

    conn._winrm_exec = fake_exec
    conn._connected = True  # no pywinrm Protocol: _connect would build one
    conn._winrm_host = "127.0.0.1"  # normally set by _build_winrm_kwargs
    conn._captured = captured
    return conn


def _module_args(**extra):
    # The _ansible_* keys ActionBase._update_module_args adds (ansible-core 2.19 and 2.21).
    return {
        "data": "pong-contract",
        "_ansible_check_mode": extra.pop("check", False),
        "_ansible_diff": extra.pop("diff", False),
        "_ansible_no_log": extra.pop("no_log", False),
        "_ansible_debug": False,
        "_ansible_verbosity": 0,
        "_ansible_module_name": extra.pop("module_name", "ansible.windows.win_ping"),
        "_ansible_remote_tmp": "~/.ansible/tmp",
        "_ansible_keep_remote_files": False,
        **extra,
    }


def _send_module(conn, module_args, *, become=None, async_timeout=0) -> tuple[str, bytes]:
    """Build the module as ActionBase._execute_module does and push it through the winrm plugin."""
    kwargs = {
        "module_name": "ansible.windows.win_ping",
        "module_path": _module_path(WIN_PING),
        "module_args": module_args,
        "templar": Templar(loader=DataLoader()),
        "task_vars": {},
        "async_timeout": async_timeout,
        "become_plugin": become,
        "environment": {"ANSIBLE_ASYNC_DIR": "~/.ansible_async"} if async_timeout else {},
    }
    if "shell_plugin" in inspect.signature(module_common.modify_module).parameters:  # 2.21
        kwargs["shell_plugin"] = conn._shell
    built = module_common.modify_module(**kwargs)
    get_command_args = getattr(built, "get_command_args", None)  # 2.21
    cmd_args = get_command_args(None) if get_command_args else None
    if cmd_args:
        args, in_data = cmd_args
        cmd = conn._shell.join(args)
    else:  # 2.19: ActionBase pipelining bypass
        cmd = conn._shell.build_module_command("", built.shebang, "", arg_path=None).strip()
        in_data = built.b_module_data
    conn.exec_command(cmd, in_data=in_data)
    return conn._captured.last


def test_module_name_args_and_flags(winrm):
    line, stdin = _send_module(winrm, _module_args(check=True, diff=True))
    assert "-EncodedCommand" in line
    assert payload.SEPARATOR in stdin
    request = payload.decode(line, stdin)
    assert isinstance(request, ModuleRequest)
    assert request.module == "ansible.windows.win_ping"
    assert request.args == {"data": "pong-contract"}
    assert request.internal["_ansible_module_name"] == "ansible.windows.win_ping"
    assert all(k.startswith("_ansible_") for k in request.internal)
    assert request.check_mode is True
    assert request.diff is True
    assert request.no_log is False
    assert request.become_user is None
    assert request.async_jid is None and request.async_timeout is None


def test_short_module_name_is_qualified_by_the_script(winrm):
    line, stdin = _send_module(winrm, _module_args(module_name="win_ping", no_log=True))
    request = payload.decode(line, stdin)
    assert request.module == "ansible.windows.win_ping"
    assert request.no_log is True
    assert request.check_mode is False and request.diff is False


def test_become_wrapper(winrm):
    become = become_loader.get("runas")
    become.set_options(direct={"become_user": "svc-asr", "become_pass": "s3cret"})
    line, stdin = _send_module(winrm, _module_args(), become=become)
    request = payload.decode(line, stdin)
    assert isinstance(request, ModuleRequest)
    assert request.become_user == "svc-asr"
    assert "s3cret" not in repr(request)  # the become password stays in the manifest's secure_params


def test_async_wrapper(winrm):
    line, stdin = _send_module(winrm, _module_args(), async_timeout=45)
    request = payload.decode(line, stdin)
    assert request.module == "ansible.windows.win_ping"
    assert request.async_jid and request.async_jid.startswith("j")
    assert request.async_timeout == 45


def test_mkdtemp_and_expand_user(winrm):
    cmd = winrm._shell._mkdtemp2("ansible-tmp-123", tmpdir="C:\\Temp")
    winrm.exec_command(cmd.command, in_data=cmd.input_data)
    request = payload.decode(*winrm._captured.last)
    assert request == FileRequest(action="mkdtemp", params={"Directory": "C:\\Temp", "Name": "ansible-tmp-123"})

    cmd = winrm._shell._expand_user2("~\\.ansible\\tmp")
    winrm.exec_command(cmd.command, in_data=cmd.input_data)
    request = payload.decode(*winrm._captured.last)
    assert request == FileRequest(action="expand_user", params={"Path": "~\\.ansible\\tmp"})


def test_put_file_data_round_trips(winrm, tmp_path):
    source = tmp_path / "blob.bin"
    source.write_bytes(bytes(range(256)) * 2000)  # > one 250000-byte chunk: several base64 lines
    winrm.put_file(str(source), "C:\\Temp\\blob.bin")  # the plugin itself checks the sha1 we echo
    request = payload.decode(*winrm._captured.last)
    assert request.action == "put_file"
    assert request.params == {"Path": "C:\\Temp\\blob.bin"}
    assert request.data == source.read_bytes()


def test_put_empty_file(winrm, tmp_path):
    source = tmp_path / "empty.txt"
    source.write_bytes(b"")
    winrm.put_file(str(source), "C:\\Temp\\empty.txt")
    assert payload.decode(*winrm._captured.last).data == b""


def test_fetch_file(winrm, tmp_path):
    winrm.fetch_file("C:\\Temp\\x.log", str(tmp_path / "x.log"))
    request = payload.decode(*winrm._captured.last)
    assert request.action == "fetch_file"
    assert request.params["Path"] == "C:\\Temp\\x.log"
    assert request.params["Offset"] == 0 and request.params["BufferSize"] > 0
    assert (tmp_path / "x.log").read_bytes() == b"fetched bytes"


def test_raw_script(winrm):
    winrm.exec_command("Get-Service WinRM | Select-Object -ExpandProperty Status")
    request = payload.decode(*winrm._captured.last)
    assert request == RawRequest(script="Get-Service WinRM | Select-Object -ExpandProperty Status")


def test_temp_dir_cleanup_is_raw_without_shell_wrapping(winrm):
    winrm.exec_command(winrm._shell.remove("C:\\Users\\x\\ansible-tmp-1", recurse=True))
    request = payload.decode(*winrm._captured.last)
    assert isinstance(request, RawRequest)
    assert "Remove-Item" in request.script and "ansible-tmp-1" in request.script and "-Recurse" in request.script
    assert "Set-StrictMode" not in request.script and "LASTEXITCODE" not in request.script


def test_plain_command_line_and_unknown_manifest():
    assert payload.decode("ipconfig /all") == RawRequest(script="ipconfig /all")
    bogus = json.dumps({"name": "exec_wrapper", "script": "", "params": {}}).encode()
    manifest = json.dumps({"scripts": {}, "actions": [{"name": "mystery.ps1", "params": {}}]}).encode()
    encoded = base64.b64encode("$input".encode("utf-16-le")).decode()
    with pytest.raises(payload.PayloadError, match=r"mystery\.ps1"):
        payload.decode(f"powershell -EncodedCommand {encoded}", bogus + payload.SEPARATOR + manifest)


def test_identities_find_collection_script_headers():
    req = ModuleRequest(
        "ansible.windows.win_powershell", {"script": "# asr.process_server script: probe_ps v3\n$x = 1"}
    )
    assert payload.identities(req) == ["probe_ps v3", "probe_ps", "ansible.windows.win_powershell", "win_powershell"]
    assert payload.identities(RawRequest(script="Get-Date")) == ["raw"]
    assert payload.op_of(req) == "module"
