"""lab.dispatch: routing, journal redaction, file operations, raw PowerShell; and end-to-end runs of real
``ansible`` / ``ansible-playbook`` against a started estate (``@pytest.mark.lab``)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import subprocess
import sys

import pytest

from lab import dispatch, rawps
from lab.requests import FileRequest, ModuleRequest, RawRequest
from lab.state import Estate, new_host
from tests.lab_support import run_ansible

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def estate(tmp_path):
    estate = Estate(tmp_path / "estate")
    estate.save_new_host(new_host("ps01", "10.0.0.101"))
    return estate


def module(name, args, **kw):
    return ModuleRequest(
        **{"module": name, "args": args, "internal": {"_ansible_module_name": name.rsplit(".", 1)[-1]}, **kw}
    )


def encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode()


# ---- routing and journal --------------------------------------------------------------------------------------
def test_module_reply_carries_identity_and_redacted_journal_args(estate):
    args = {"name": "svc", "path": "C:\\s.exe", "username": "u", "password": "Secr3t!", "description": "Secr3t!"}
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_service", args))
    assert reply.rc == 0 and reply.identity == "ansible.windows.win_service"
    assert reply.journal_args["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    assert reply.journal_args["description"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    result = json.loads(reply.stdout)
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
    # Ansible.Basic scrubs only msg and invocation; other result fields keep what the module put there
    assert result["description"] == "Secr3t!"
    assert estate.read_host("ps01").service("svc") is not None  # the change was saved


def test_sensitive_parameters_are_redacted_in_the_journal(estate):
    args = {"script": "x", "sensitive_parameters": [{"name": "Passphrase", "value": "p@ss"}], "parameters": {}}
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_powershell", args))
    assert reply.journal_args["sensitive_parameters"][0]["value"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_unknown_module_fails_loudly_naming_it(estate):
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_updates", {}))
    result = json.loads(reply.stdout)
    assert reply.rc == 1 and result["failed"] and "'ansible.windows.win_updates' is not emulated" in result["msg"]


def test_failed_module_does_not_lose_state_consistency(estate, monkeypatch):
    from lab import winmodules

    def broken(ctx):
        ctx.host.write_file("C:\\half.txt", "x")
        raise RuntimeError("bug")

    monkeypatch.setitem(winmodules.MODULES, "win_ping", broken)
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_ping", {}))
    assert reply.rc == 1 and "lab: internal error while emulating ansible.windows.win_ping" in reply.stdout
    assert not estate.read_host("ps01").exists("C:\\half.txt")  # a lab defect leaves the host state unsaved


def test_builtin_names_resolve_to_the_windows_modules(estate):
    reply = dispatch.handle(estate, "ps01", module("ansible.builtin.setup", {}))
    assert reply.rc == 0 and json.loads(reply.stdout)["ansible_facts"]["ansible_os_family"] == "Windows"


# ---- win_powershell + lab.scripts ---------------------------------------------------------------------------
PROBE_SCRIPT = (
    "# asr.process_server script: lab_test_probe v1\n[CmdletBinding()]\nparam ($Who, [securestring]$Token)\n"
    "$Ansible.Changed = $false\n'hello'\n"
    "$Ansible.Result = @{ host = $env:COMPUTERNAME; who = $Who;"
    " secret_len = [System.Net.NetworkCredential]::new('', $Token).Password.Length }\n"
)


def test_win_powershell_runs_a_collection_script(estate):
    args = {
        "script": PROBE_SCRIPT,
        "parameters": {"Who": "me"},
        "sensitive_parameters": [{"name": "Token", "value": "abcd"}],
    }
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_powershell", args))
    result = json.loads(reply.stdout)
    assert reply.rc == 0 and reply.identity == "lab_test_probe v1"
    assert result["result"] == {"host": "PS01", "who": "me", "secret_len": 4}
    assert result["output"] == ["hello"] and result["changed"] is False and result["failed"] is False
    assert reply.journal_args["sensitive_parameters"][0]["value"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_win_powershell_check_mode_without_should_process_is_skipped(estate):
    reply = dispatch.handle(
        estate, "ps01", module("ansible.windows.win_powershell", {"script": PROBE_SCRIPT}, check_mode=True)
    )
    result = json.loads(reply.stdout)
    assert result["changed"] is True and result["msg"] == "skipped, running in check mode"


def test_win_powershell_path_with_remote_src_reads_the_host_file(estate):
    with estate.open_host("ps01") as host:
        host.write_file("C:\\scripts\\probe.ps1", PROBE_SCRIPT)
    reply = dispatch.handle(
        estate, "ps01", module("ansible.windows.win_powershell", {"path": "C:\\scripts\\probe.ps1", "remote_src": True})
    )
    assert reply.rc == 0 and json.loads(reply.stdout)["result"]["host"] == "PS01"


def test_win_powershell_a_failing_script_is_a_failed_result_not_a_module_failure(estate):
    script = "# asr.process_server script: lab_test_fail v1\n$ErrorActionPreference = 'Stop'\nthrow 'nope'\n"
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_powershell", {"script": script}))
    result = json.loads(reply.stdout)
    assert reply.rc == 0 and result["failed"] is True and result["error"][0]["exception"]["message"] == "nope"


def test_win_powershell_unknown_scripts_fail_loudly(estate):
    reply = dispatch.handle(estate, "ps01", module("ansible.windows.win_powershell", {"script": "\n  Get-Date\n"}))
    assert reply.rc == 1 and "First line: Get-Date" in json.loads(reply.stdout)["msg"]


# ---- file operations --------------------------------------------------------------------------------------------
def test_mkdtemp_put_fetch_expand_user(estate):
    reply = dispatch.handle(estate, "ps01", FileRequest("mkdtemp", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"}))
    tmp = reply.stdout.strip()
    assert tmp == "C:\\Users\\Administrator\\AppData\\Local\\Temp\\ansible-tmp-1" and reply.identity == "mkdtemp"
    assert dispatch.handle(estate, "ps01", FileRequest("mkdtemp", {"Directory": "%TEMP%", "Name": "ansible-tmp-1"})).rc
    reply = dispatch.handle(estate, "ps01", FileRequest("put_file", {"Path": tmp + "\\source"}, b"data"))
    assert json.loads(reply.stdout) == {"sha1": "a17c9aaa61e80a1bf71d0d850af4e5baa9800bbd"}
    reply = dispatch.handle(estate, "ps01", FileRequest("put_file", {"Path": "C:\\nodir\\x"}, b"data"))
    assert reply.rc == 1 and "Could not find a part of the path 'C:\\nodir\\x'" in reply.stderr
    params = {"Path": tmp + "\\source", "BufferSize": 3, "Offset": 1}
    assert base64.b64decode(dispatch.handle(estate, "ps01", FileRequest("fetch_file", params)).stdout) == b"ata"
    params = {"Path": tmp, "BufferSize": 3, "Offset": 0}
    assert dispatch.handle(estate, "ps01", FileRequest("fetch_file", params)).stdout.strip() == "[DIR]"
    reply = dispatch.handle(estate, "ps01", FileRequest("fetch_file", {**params, "Path": "C:\\no"}))
    assert reply.rc == 1 and reply.stderr.strip() == "C:\\no does not exist"
    assert dispatch.handle(estate, "ps01", FileRequest("expand_user", {"Path": "~\\x"})).stdout.strip() == (
        "C:\\Users\\Administrator\\x"
    )


# ---- raw PowerShell -----------------------------------------------------------------------------------------------
def test_temp_dir_cleanup_accepts_the_trailing_dot_ansible_sends(estate):
    with estate.open_host("ps01") as host:
        host.write_file("C:\\Temp\\ansible-tmp-9\\source", "x")
    reply = dispatch.handle(estate, "ps01", RawRequest("Remove-Item 'C:\\Temp\\ansible-tmp-9\\.' -Force -Recurse;"))
    assert reply.rc == 0 and not estate.read_host("ps01").exists("C:\\Temp\\ansible-tmp-9")
    reply = dispatch.handle(estate, "ps01", RawRequest("Remove-Item 'C:\\Temp\\ansible-tmp-9' -Force -Recurse;"))
    assert reply.rc == 1 and "Cannot find path 'C:\\Temp\\ansible-tmp-9' because it does not exist." in reply.stderr


def test_temp_dir_cleanup_accepts_the_unquoted_form_ansible_core_2_21_sends(estate):
    with estate.open_host("ps01") as host:
        host.write_file("C:\\Temp\\ansible-tmp-7\\source", "x")
    reply = dispatch.handle(estate, "ps01", RawRequest("Remove-Item C:\\Temp\\ansible-tmp-7\\. -Force -Recurse"))
    assert reply.rc == 0 and not estate.read_host("ps01").exists("C:\\Temp\\ansible-tmp-7")


def _reboot_wrapped(command: str) -> RawRequest:
    # _execute_command of the collection's plugin_utils/operations/reboot.py (ansible.windows' _reboot.py, copied)
    script = (
        command + "; If (-not $?) { If (Get-Variable LASTEXITCODE -ErrorAction SilentlyContinue) "
        "{ exit $LASTEXITCODE } Else { exit 1 } }"
    )
    return RawRequest(
        f"PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand {encoded(script)}"
    )


def test_win_reboot_probes(estate):
    from ansible_collections.asr.process_server.plugins.plugin_utils.operations import reboot as _reboot

    boot = dispatch.handle(estate, "ps01", _reboot_wrapped(_reboot._DEFAULT_BOOT_TIME_COMMAND))
    assert boot.rc == 0 and boot.stdout.strip().isdigit()
    with estate.open_host("ps01") as host:
        host.faults["pending_reboot"] = True
    shutdown = (
        "$ErrorActionPreference = 'Continue'\n\nif ($True) {\n    Remove-Item -LiteralPath "
        f"'{_reboot._LOGON_UI_KEY}' -Force -ErrorAction SilentlyContinue\n}}\n\n$stdout = $null\n"
        "$stderr = . { C:\\Windows\\System32\\shutdown.exe /r /t 2 /c 'Reboot initiated by Ansible' | "
        "Set-Variable stdout } 2>&1 | ForEach-Object ToString\n\nConvertTo-Json -Compress -InputObject @{\n"
        '    stdout = (@($stdout) -join "`n")\n    stderr = (@($stderr) -join "`n")\n    rc = $LASTEXITCODE\n}\n'
    )
    reply = dispatch.handle(estate, "ps01", _reboot_wrapped(shutdown))
    assert reply.rc == 0 and json.loads(reply.stdout) == {"stdout": "", "stderr": "", "rc": 0}
    assert reply.identity == "raw: win_reboot shutdown command"
    after = dispatch.handle(estate, "ps01", _reboot_wrapped(_reboot._DEFAULT_BOOT_TIME_COMMAND))
    assert int(after.stdout) > int(boot.stdout)
    assert estate.read_host("ps01").pending_reboot_reasons() == []
    test = f"Get-Item -LiteralPath '{_reboot._LOGON_UI_KEY}' -ErrorAction Stop; 'success-123'"
    assert "success-123" in dispatch.handle(estate, "ps01", _reboot_wrapped(test)).stdout


def test_unrecognised_raw_script_fails_loudly_with_its_first_line(estate):
    reply = dispatch.handle(estate, "ps01", RawRequest("\n$x = Get-ChildItem C:\\\nWrite-Output $x"))
    assert reply.rc == 1 and "First line: $x = Get-ChildItem C:\\" in reply.stderr
    assert rawps.identity("$x = 1") == "raw: $x = 1"


# ---- end to end: real ansible / ansible-playbook against a started estate -------------------------------------
@pytest.fixture(scope="module")
def lab_estate(tmp_path_factory):
    path = tmp_path_factory.mktemp("lab") / "estate"
    subprocess.run(
        [sys.executable, "-m", "lab", "up", "--cs", "0", "--ps", "1", "--dir", str(path)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield path
    finally:
        subprocess.run([sys.executable, "-m", "lab", "down", "--dir", str(path)], cwd=REPO, capture_output=True)


def ansible(lab_estate, *args, tool="ansible", cwd=REPO):
    env = dict(
        os.environ,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="False",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
    )
    return run_ansible(tool, lab_estate / "inventory.yml", *args, env=env, cwd=cwd)


@pytest.mark.lab
def test_e2e_win_ping_and_setup(lab_estate):
    out = ansible(lab_estate, "ps01", "-m", "ansible.windows.win_ping")
    assert out.returncode == 0 and '"ping": "pong"' in out.stdout, out.stdout + out.stderr
    out = ansible(lab_estate, "ps01", "-m", "ansible.builtin.setup")
    assert out.returncode == 0, out.stdout + out.stderr
    assert '"ansible_os_family": "Windows"' in out.stdout and '"ansible_processor_vcpus": 8' in out.stdout
    assert "WARNING" not in out.stderr


@pytest.mark.lab
def test_e2e_option_typo_fails_exactly_as_on_windows(lab_estate):
    out = ansible(lab_estate, "ps01", "-m", "ansible.windows.win_stat", "-a", "path=C:\\Windows get_checksumm=false")
    assert out.returncode != 0
    assert (
        "Unsupported parameters for (ansible.windows.win_stat) module: get_checksumm. Supported parameters include: "
        in out.stdout
    ), out.stdout


PLAYBOOK = r"""
- hosts: ps01
  gather_facts: false
  tasks:
    - ansible.windows.win_copy: {src: files/a.txt, dest: 'C:\Temp\a.txt'}
      register: copy1
    - ansible.windows.win_copy: {src: files/a.txt, dest: 'C:\Temp\a.txt'}
      register: copy2
    - ansible.windows.win_copy: {src: files/tree, dest: 'C:\Temp\dst'}
      register: copy_dir
    - ansible.windows.win_stat: {path: 'C:\Temp\dst\tree\sub\2.txt'}
      register: stat
    - ansible.windows.win_service: {name: labsvc, path: 'C:\Windows\labsvc.exe', state: started}
      register: svc
    - ansible.windows.win_service: {name: labsvc, state: started}
      register: svc2
    - ansible.windows.win_command: hostname
      async: 60
      poll: 0
      register: job
    - ansible.builtin.async_status: {jid: "{{ job.ansible_job_id }}"}
      register: status
      until: status.finished
      retries: 10
      delay: 1
    - ansible.windows.win_powershell:
        script: |
          # asr.process_server script: lab_e2e v1
          param($x)
          $Ansible.Result = "ran on $env:COMPUTERNAME with $x"
        parameters: {x: 7}
      register: pwsh
    - ansible.builtin.copy:
        dest: "{{ playbook_dir }}/out.json"
        content: "{{ {'copy1': copy1.changed, 'copy2': copy2.changed, 'copy_dir': copy_dir.changed,
                      'checksum': stat.stat.checksum, 'svc': svc.state, 'svc2': svc2.changed,
                      'job': status.stdout, 'finished': status.finished, 'pwsh': pwsh.result} | to_json }}"
      delegate_to: localhost
"""


@pytest.mark.lab
def test_e2e_playbook_copy_stat_service_async_powershell(lab_estate, tmp_path):
    (tmp_path / "files" / "tree" / "sub").mkdir(parents=True)
    (tmp_path / "files" / "a.txt").write_text("hello\n")
    (tmp_path / "files" / "tree" / "1.txt").write_text("one\n")
    (tmp_path / "files" / "tree" / "sub" / "2.txt").write_text("two\n")
    (tmp_path / "site.yml").write_text(PLAYBOOK)
    out = ansible(lab_estate, "site.yml", tool="ansible-playbook", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Error deleting remote temporary files" not in out.stdout + out.stderr
    result = json.loads((tmp_path / "out.json").read_text())
    assert result["copy1"] is True and result["copy2"] is False and result["copy_dir"] is True
    assert result["checksum"] == hashlib.sha1(b"two\n").hexdigest()
    assert result["svc"] == "running" and result["svc2"] is False
    assert result["job"].strip() == "PS01" and result["finished"] is True
    assert result["pwsh"] == "ran on PS01 with 7"
