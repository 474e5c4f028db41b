"""Module emulations against host state objects (no network): behaviour and return shapes of the real modules."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

import pytest

from lab import argspec, dispatch
from lab.requests import ModuleRequest
from lab.state import new_host
from lab.winmodules import _common


@dataclass
class Proc:
    rc: int
    stdout: str
    stderr: str
    duration_s: float = 0.0


class FakePrograms:
    """Test double for lab.programs: records command lines, answers from a table."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []

    def run(self, host, command_line, *, user, become, cwd=None, stdin=None):
        self.calls.append({"command_line": command_line, "user": user, "become": become, "cwd": cwd, "stdin": stdin})
        for needle, proc in self.answers.items():
            if needle in command_line:
                return proc(host) if callable(proc) else proc
        return Proc(9009, "", f"'{command_line.split()[0]}' is not recognized as an internal or external command,\r\n")

    def quote_argument(self, arg):
        return f'"{arg}"' if " " in arg else arg

    def known_cmdlets(self):
        return []


@pytest.fixture
def host():
    return new_host("ps01", "10.0.0.101")


@pytest.fixture
def programs(monkeypatch):
    fake = FakePrograms()
    monkeypatch.setattr(_common, "programs_module", lambda: fake)
    return fake


def run(host, module, args, *, check=False, become_user=None, async_jid=None, internal=None):
    request = ModuleRequest(
        module=f"ansible.windows.{module}",
        args=args,
        internal={"_ansible_module_name": module, **(internal or {})},
        check_mode=check,
        become_user=become_user,
        async_jid=async_jid,
        async_timeout=100 if async_jid else None,
    )
    reply = dispatch.route(host, request)
    return json.loads(reply.stdout), reply.rc


# ---- win_ping / setup ---------------------------------------------------------------------------------------
def test_win_ping_returns_data_and_invocation(host):
    result, rc = run(host, "win_ping", {"data": "hi"})
    assert rc == 0
    assert result == {"changed": False, "invocation": {"module_args": {"data": "hi"}}, "ping": "hi"}


def test_win_ping_crash_is_an_unhandled_exception(host):
    result, rc = run(host, "win_ping", {"data": "crash"})
    assert rc == 1 and result["failed"] and result["msg"] == "Unhandled exception while executing module: boom"


def test_setup_facts_come_from_host_state(host):
    host.data["boot_time"] = host.now() - 3600
    facts = run(host, "setup", {})[0]["ansible_facts"]
    assert facts["ansible_hostname"] == "PS01"
    assert facts["ansible_os_family"] == "Windows"
    assert facts["ansible_os_name"] == "Microsoft Windows Server 2016 Datacenter"
    assert facts["ansible_distribution_version"] == "10.0.14393.0"
    assert facts["ansible_distribution_major_version"] == "10"
    assert facts["ansible_processor_vcpus"] == 8
    assert facts["ansible_processor_count"] == 2
    assert facts["ansible_processor_cores"] == 4
    assert facts["ansible_memtotal_mb"] == 16384
    assert facts["ansible_ip_addresses"] == ["10.0.0.101"]
    assert facts["ansible_system"] == "Win32NT"
    assert facts["ansible_architecture"] == "64-bit"
    assert 3590 <= facts["ansible_uptime_seconds"] <= 3610
    assert facts["module_setup"] is True and facts["gather_subset"] == ["all"]


# ---- win_command / win_shell ----------------------------------------------------------------------------------
def test_win_command_runs_through_programs_with_the_real_shape(host, programs):
    programs.answers["setup.exe"] = Proc(0, "done\r\n", "")
    result, rc = run(host, "win_command", {"_raw_params": " C:\\setup.exe /q ", "chdir": "C:\\Temp", "stdin": "y"})
    assert rc == 0
    assert programs.calls == [
        {"command_line": "C:\\setup.exe /q", "user": "Administrator", "become": False, "cwd": "C:\\Temp", "stdin": "y"}
    ]
    assert result["cmd"] == "C:\\setup.exe /q" and result["rc"] == 0 and result["changed"] is True
    assert result["stdout"] == "done\r\n" and result["stderr"] == ""
    assert {"start", "end", "delta", "invocation"} <= set(result)
    assert "stdout_lines" not in result  # the controller adds it


def test_win_command_argv_is_escaped_and_become_user_is_passed(host, programs):
    programs.answers["tool.exe"] = Proc(0, "", "")
    run(host, "win_command", {"argv": ["C:\\tool.exe", "a b", "c"]}, become_user="SYSTEM")
    assert programs.calls[0]["command_line"] == 'C:\\tool.exe "a b" c'
    assert programs.calls[0]["user"] == "SYSTEM" and programs.calls[0]["become"] is True


def test_win_command_non_zero_rc_and_missing_executable(host, programs):
    programs.answers["fail.exe"] = Proc(5, "", "bad\r\n")
    result, rc = run(host, "win_command", {"cmd": "fail.exe"})
    assert rc == 1 and result["msg"] == "non-zero return code" and result["rc"] == 5 and result["changed"] is True
    result, rc = run(host, "win_command", {"cmd": "nothere.exe x"})
    assert rc == 1 and result["rc"] == 2
    assert result["msg"].startswith("Failed to run: 'nothere.exe x': CreateProcessW() failed (The system cannot find")


def test_win_command_creates_removes_and_check_mode(host, programs):
    host.write_file("C:\\done.flag", "x")
    result, _ = run(host, "win_command", {"cmd": "x.exe", "creates": "C:\\done.flag"})
    assert result["skipped"] is True and result["msg"] == "skipped, since C:\\done.flag exists"
    result, _ = run(host, "win_command", {"cmd": "x.exe", "removes": "C:\\nothere"})
    assert result["msg"] == "skipped, since C:\\nothere does not exist"
    result, rc = run(host, "win_command", {"cmd": "x.exe"}, check=True)
    assert rc == 0 and result["skipped"] is True and "does not support check mode" in result["msg"]
    assert programs.calls == []


def test_win_shell_runs_a_single_command_and_rejects_free_form_powershell(host, programs):
    programs.answers["Program Files"] = Proc(3010, "", "")
    result, rc = run(host, "win_shell", {"_raw_params": "& 'C:\\Program Files\\x.exe' /q"})
    assert programs.calls[-1]["command_line"] == '"C:\\Program Files\\x.exe" /q'
    assert rc == 1 and result["rc"] == 1  # powershell.exe exits 1 when the last native command failed
    result, rc = run(host, "win_shell", {"_raw_params": "& 'C:\\Program Files\\x.exe' /q; exit $LASTEXITCODE"})
    assert result["rc"] == 3010
    result, rc = run(host, "win_shell", {"_raw_params": "$a = 1\nWrite-Output $a"})
    assert rc == 1 and result["msg"].endswith("first line: $a = 1")
    # Legacy (Parse-Args) modules return no invocation; Ansible.Basic ones do (win_shell is Basic in 3.x).
    assert ("invocation" in result) == (argspec.module_spec("win_shell").style == argspec.BASIC)


def test_win_shell_cmd_executable(host, programs):
    programs.answers["cmd.exe"] = Proc(0, "hi\r\n", "")
    result, rc = run(host, "win_shell", {"_raw_params": "echo hi", "executable": "cmd"})
    assert rc == 0 and programs.calls[-1]["command_line"] == '"cmd.exe" /c echo hi'
    assert result["cmd"] == "echo hi" and result["stdout"] == "hi\r\n"


# ---- win_copy -------------------------------------------------------------------------------------------------
def test_win_copy_query_then_single(host):
    data = b"hello"
    sha1 = hashlib.sha1(data).hexdigest()
    files = [{"src": "/ctl/a.txt", "dest": "a.txt", "checksum": sha1}]
    result, _ = run(host, "win_copy", {"_copy_mode": "query", "dest": "C:\\Temp", "files": files, "directories": []})
    assert result == {"changed": False, "files": files, "directories": [], "symlinks": []}
    host.write_file("C:\\Users\\Administrator\\AppData\\Local\\Temp\\t1\\source", data)
    args = {
        "_copy_mode": "single",
        "src": "%TEMP%\\t1\\source",
        "dest": "C:\\Temp\\",
        "_original_basename": "a.txt",
        "backup": False,
    }
    result, rc = run(host, "win_copy", args)
    assert rc == 0 and result == {"changed": True}
    assert host.read_bytes("C:\\Temp\\a.txt") == data
    result, _ = run(host, "win_copy", {"_copy_mode": "query", "dest": "C:\\Temp", "files": files, "directories": []})
    assert result["files"] == []


def test_win_copy_explode_zip_as_the_action_plugin_builds_it(host):
    def b64(name):
        return base64.b64encode(name.encode()).decode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(b64("tree") + "/", b"")
        archive.writestr(b64("tree/sub/2.txt"), b"two")
    host.write_file("C:\\tmp\\source.zip", buffer.getvalue())
    result, rc = run(host, "win_copy", {"_copy_mode": "explode", "src": "C:\\tmp\\source.zip", "dest": "C:\\Dst\\"})
    assert rc == 0 and result["changed"] is True
    assert host.read_text("C:\\Dst\\tree\\sub\\2.txt") == "two"


def test_win_copy_remote_src_and_failures(host):
    host.write_file("C:\\src\\a.txt", "A")
    result, rc = run(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\src\\a.txt", "dest": "C:\\dst\\"})
    assert rc == 0 and result["changed"] and result["dest"] == "C:\\dst\\a.txt" and result["size"] == 1
    assert result["checksum"] == hashlib.sha1(b"A").hexdigest() and result["operation"] == "file_copy"
    result, _ = run(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\src\\a.txt", "dest": "C:\\dst\\"})
    assert result["changed"] is False
    result, rc = run(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\nope", "dest": "C:\\dst"})
    assert rc == 1 and result["msg"] == "Cannot copy src file: 'C:\\nope' as it does not exist"
    result, rc = run(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\src\\a.txt", "dest": "C:\\x\\y\\a.txt"})
    assert result["msg"] == "Destination directory 'C:\\x\\y' does not exist"


@pytest.mark.parametrize(
    ("file", "args", "msg"),
    [
        (
            "C:\\Temp\\d",
            {"_copy_mode": "query", "dest": "C:\\Temp", "files": [], "directories": [{"dest": "d"}]},
            "cannot copy folder to dest 'C:\\Temp\\d': object at path is already a file",
        ),
        (
            "C:\\Temp\\p",
            {"_copy_mode": "query", "dest": "C:\\Temp", "files": [], "directories": [{"dest": "p\\q"}]},
            "cannot copy folder to dest 'C:\\Temp\\p\\q': object at parent directory path is already a file",
        ),
        (
            "C:\\dst\\src",
            {"_copy_mode": "remote", "src": "C:\\src", "dest": "C:\\dst"},
            "cannot copy folder from 'C:\\src' to 'C:\\dst\\src': dest is already a file",
        ),
        (
            "C:\\f",
            {"_copy_mode": "remote", "src": "C:\\src\\a.txt", "dest": "C:\\f\\a.txt"},
            "object at destination parent dir 'C:\\f' is currently a file",
        ),
        (
            "C:\\f",
            {"_copy_mode": "single", "src": "C:\\src\\a.txt", "dest": "C:\\f\\a.txt"},
            "object at destination parent dir 'C:\\f' is currently a file",
        ),
    ],
    ids=["query-folder-on-a-file", "query-folder-under-a-file", "remote-folder-on-a-file", "remote", "single"],
)
def test_win_copy_refuses_a_file_where_a_folder_must_be(host, file, args, msg):
    # win_copy.ps1's refusals, each with its own message: nothing is copied
    host.write_file("C:\\src\\a.txt", "A")
    host.write_file(file, "in the way")
    result, rc = run(host, "win_copy", args)
    assert rc == 1 and result["msg"] == msg and result["changed"] is False
    assert host.read_text(file) == "in the way"


def test_win_copy_remote_check_mode_changes_nothing(host):
    host.write_file("C:\\src\\a.txt", "A")
    result, _ = run(host, "win_copy", {"_copy_mode": "remote", "src": "C:\\src", "dest": "C:\\dst"}, check=True)
    assert result["changed"] is True and not host.exists("C:\\dst\\src")


# ---- win_file / win_stat ---------------------------------------------------------------------------------------
def test_win_file_states(host):
    assert run(host, "win_file", {"path": "C:\\D\\E", "state": "directory"})[0] == {"changed": True}
    assert host.is_dir("C:\\D\\E")
    assert run(host, "win_file", {"path": "C:\\D\\E", "state": "directory"})[0] == {"changed": False}
    result, rc = run(host, "win_file", {"path": "C:\\D\\f.txt", "state": "file"})
    assert rc == 1 and result["msg"] == "path C:\\D\\f.txt will not be created"
    run(host, "win_file", {"dest": "C:\\D\\f.txt", "state": "touch"})
    assert host.is_file("C:\\D\\f.txt")
    assert run(host, "win_file", {"path": "C:\\D", "state": "absent"}, check=True)[0]["changed"] is True
    assert host.exists("C:\\D")
    run(host, "win_file", {"path": "C:\\D", "state": "absent"})
    assert not host.exists("C:\\D\\E")
    result, rc = run(host, "win_file", {"path": "C:\\D", "state": "dir"})
    assert rc == 1 and "Get-AnsibleParam: Argument state needs to be one of" in result["msg"]


def test_win_stat_file_dir_missing_and_checksum(host):
    host.write_file("C:\\App\\conf.ini", "abc")
    stat = run(host, "win_stat", {"path": "c:/app/CONF.ini"})[0]["stat"]
    assert stat["exists"] and stat["isreg"] and not stat["isdir"] and stat["size"] == 3
    assert stat["checksum"] == hashlib.sha1(b"abc").hexdigest()
    assert stat["path"] == "C:\\App\\conf.ini" and stat["filename"] == "conf.ini" and stat["extension"] == ".ini"
    stat = run(host, "win_stat", {"path": "C:\\App\\conf.ini", "checksum_algorithm": "sha256"})[0]["stat"]
    assert stat["checksum"] == hashlib.sha256(b"abc").hexdigest()
    assert "checksum" not in run(host, "win_stat", {"path": "C:\\App\\conf.ini", "get_checksum": False})[0]["stat"]
    stat = run(host, "win_stat", {"path": "C:\\App"})[0]["stat"]
    assert stat["isdir"] and stat["size"] == 3 and "checksum" not in stat
    assert run(host, "win_stat", {"path": "C:\\nope"})[0]["stat"] == {"exists": False}
    host.make_junction("C:\\ProgramData\\ASR", "D:\\ASR")
    host.mkdir("D:\\ASR")
    stat = run(host, "win_stat", {"path": "C:\\ProgramData\\ASR"})[0]["stat"]
    assert stat["isjunction"] and stat["lnk_target"] == "D:\\ASR"


# ---- win_service / win_service_info -----------------------------------------------------------------------------
def test_win_service_start_stop_check_mode_and_shape(host):
    host.add_service("svagents", "InMage Scout VX Agent - Sentinel/Outpost", "C:\\svagents.exe", state="stopped")
    result, _ = run(host, "win_service", {"name": "svagents", "state": "started"}, check=True)
    assert result["changed"] is True and host.service("svagents")["state"] == "stopped"
    result, rc = run(host, "win_service", {"name": "SVAgents", "state": "started", "start_mode": "delayed"})
    assert rc == 0 and result["changed"] and result["state"] == "running" and result["start_mode"] == "delayed"
    assert {"exists", "name", "display_name", "path", "username", "dependencies", "depended_by"} <= set(result)
    assert result["username"] == "LocalSystem" and result["can_pause_and_continue"] is False
    assert run(host, "win_service", {"name": "svagents", "state": "started"})[0]["changed"] is False
    assert run(host, "win_service", {"name": "svagents", "state": "stopped"})[0]["state"] == "stopped"


def test_win_service_that_cannot_start_fails_like_start_service(host):
    host.add_service("cxprocessserver", "cxprocessserver", "C:\\cx.exe", state="stopped")
    host.faults["service_fails_to_start"] = ["cxprocessserver"]
    result, rc = run(host, "win_service", {"name": "cxprocessserver", "state": "started"})
    assert rc == 1
    assert result["msg"] == (
        "Unhandled exception while executing module: Service 'cxprocessserver (cxprocessserver)' cannot be "
        "started due to the following error: Cannot start service cxprocessserver on computer '.'."
    )


def test_win_service_missing_absent_and_password_redaction(host):
    result, rc = run(host, "win_service", {"name": "nope"})
    assert result == {"changed": False, "exists": False, "invocation": result["invocation"]}
    result, rc = run(host, "win_service", {"name": "nope", "state": "started"})
    assert rc == 1 and result["msg"] == "Service 'nope' is not installed, need to set 'path' to create a new service"
    host.add_service("gone", "Gone", "C:\\g.exe")
    assert run(host, "win_service", {"name": "gone", "state": "absent"})[0]["changed"] is True
    assert host.service("gone") is None
    result, _ = run(host, "win_service", {"name": "new", "path": "C:\\n.exe", "username": "u", "password": "pw!"})
    assert result["invocation"]["module_args"]["password"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_win_service_info(host):
    host.add_service("tmansvc", "Microsoft Azure Recovery Services Agent", "C:\\t.exe")
    host.add_service("other", "Other", "C:\\o.exe", state="stopped")
    result, _ = run(host, "win_service_info", {"name": "tman*"})
    assert result["exists"] is True and [s["name"] for s in result["services"]] == ["tmansvc"]
    assert result["services"][0]["state"] == "running" and result["services"][0]["start_mode"] == "auto"
    assert run(host, "win_service_info", {"name": "none"})[0] == {
        "changed": False,
        "invocation": {"module_args": {"name": "none"}},
        "exists": False,
        "services": [],
    }


# ---- win_reg_stat -----------------------------------------------------------------------------------------------
def test_win_reg_stat(host):
    key = "HKLM:\\SOFTWARE\\InMage Systems\\Installed Products\\9"
    host.reg_set(key, "Version", "9.60.0.0")
    host.reg_set(key, "Build", 7, kind="DWord")
    result = run(host, "win_reg_stat", {"path": key, "name": "version"})[0]
    assert result == {"changed": False, "exists": True, "type": "REG_SZ", "value": "9.60.0.0", "raw_value": "9.60.0.0"}
    result = run(host, "win_reg_stat", {"path": "HKLM:\\SOFTWARE\\InMage Systems\\Installed Products"})[0]
    assert result["exists"] and result["sub_keys"] == ["9"] and result["properties"] == {}
    props = run(host, "win_reg_stat", {"key": key})[0]["properties"]
    assert props["Build"] == {"type": "REG_DWORD", "value": 7, "raw_value": 7}
    assert run(host, "win_reg_stat", {"path": key, "name": "nope"})[0] == {"changed": False, "exists": False}


# ---- win_package ------------------------------------------------------------------------------------------------
UNINSTALL = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{ABC}"


def test_win_package_installs_when_the_product_is_missing_and_reports_reboot(host, programs):
    host.write_file("C:\\pkg\\MARSAgentInstaller.exe", "x")

    def install(h):
        h.reg_create_key(UNINSTALL)
        return Proc(3010, "", "")

    programs.answers["MARSAgentInstaller"] = install
    args = {"path": "C:\\pkg\\MARSAgentInstaller.exe", "product_id": "{ABC}", "arguments": "/q /nu"}
    result, rc = run(host, "win_package", args)
    assert rc == 0 and result["changed"] is True and result["rc"] == 3010 and result["reboot_required"] is True
    assert programs.calls[-1]["command_line"] == "C:\\pkg\\MARSAgentInstaller.exe /q /nu"
    result, rc = run(host, "win_package", args)
    assert result["changed"] is False and result["reboot_required"] is False and len(programs.calls) == 1


def test_win_package_unexpected_rc_and_msi_uninstall(host, programs):
    host.write_file("C:\\pkg\\a.exe", "x")
    programs.answers["a.exe"] = Proc(1603, "out", "err")
    result, rc = run(host, "win_package", {"path": "C:\\pkg\\a.exe", "product_id": "{ABC}"})
    assert rc == 1 and result["rc"] == 1603 and result["stdout"] == "out"
    assert result["msg"] == "unexpected rc from 'C:\\pkg\\a.exe': see rc, stdout, and stderr for more details"
    host.reg_set(UNINSTALL, "UninstallString", "MsiExec.exe /X{ABC}")
    programs.answers["MsiExec"] = Proc(0, "", "")
    result, rc = run(host, "win_package", {"product_id": "{ABC}", "state": "absent", "arguments": "/qn"})
    assert rc == 0 and result["changed"] and programs.calls[-1]["command_line"] == "MsiExec.exe /X{ABC} /qn"


def test_win_package_missing_file(host, programs):
    result, rc = run(host, "win_package", {"path": "C:\\nope.exe", "product_id": "{X}"})
    assert rc == 1 and result["msg"] == "the file at the path 'C:\\nope.exe' cannot be reached"


# ---- async ------------------------------------------------------------------------------------------------------
def test_async_result_appears_after_the_program_duration(host, programs, monkeypatch):
    programs.answers["setup.exe"] = Proc(0, "ok", "", duration_s=60.0)
    started, rc = run(host, "win_command", {"cmd": "setup.exe"}, async_jid="j42")
    assert rc == 0 and started["started"] is True and started["finished"] is False
    assert started["ansible_job_id"].startswith("j42.")
    assert started["results_file"].startswith("C:\\Users\\Administrator\\.ansible_async\\j42.")
    status_args = {"jid": started["ansible_job_id"], "_async_dir": "%USERPROFILE%\\.ansible_async"}
    status, rc = run(host, "async_status", status_args)
    assert rc == 0 and status["finished"] is False and status["started"] is True
    clock = host.now()
    monkeypatch.setattr(type(host), "now", lambda self: clock + 61)
    status, rc = run(host, "async_status", status_args)
    assert status["finished"] is True and status["rc"] == 0 and status["stdout"] == "ok" and status["changed"] is True
    assert status["ansible_job_id"] == started["ansible_job_id"]
    cleanup, _ = run(host, "async_status", {**status_args, "mode": "cleanup"})
    assert cleanup == {"ansible_job_id": started["ansible_job_id"], "erased": started["results_file"], "changed": False}
    result, rc = run(host, "async_status", status_args)
    assert rc == 1 and result["msg"] == "could not find job at 'C:\\Users\\Administrator\\.ansible_async'"


def test_async_job_longer_than_its_timeout_fails_like_the_watchdog(host, programs, monkeypatch):
    programs.answers["setup.exe"] = Proc(0, "ok", "", duration_s=500.0)
    started, _ = run(host, "win_command", {"cmd": "setup.exe"}, async_jid="j7")  # async_timeout 100
    clock = host.now()
    monkeypatch.setattr(type(host), "now", lambda self: clock + 101)
    status, _ = run(
        host, "async_status", {"jid": started["ansible_job_id"], "_async_dir": "%USERPROFILE%\\.ansible_async"}
    )
    assert status["finished"] is True and status["failed"] is True
    assert status["msg"] == "failure during async watchdog: timed out waiting for module completion"
