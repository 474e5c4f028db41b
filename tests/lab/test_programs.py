"""lab.programs: CommandLineToArgvW tokenising, process log, executable resolution, cmd.exe, cmdlets."""

from __future__ import annotations

import json

import pytest

from lab import programs
from lab.programs import quote_argument, split_command_line
from lab.state import Estate, new_host


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("a.exe b c", ["a.exe", "b", "c"]),
        ('"C:\\Program Files\\x.exe" "a b" c', ["C:\\Program Files\\x.exe", "a b", "c"]),
        # argv[0] has no escape processing at all
        ('"C:\\dir\\"x.exe y', ["C:\\dir\\", "x.exe", "y"]),
        # 2n backslashes + quote -> n backslashes, quote toggles
        ('x "D:\\\\" y', ["x", "D:\\", "y"]),
        # 2n+1 backslashes + quote -> n backslashes + literal quote
        ('x a\\"b', ["x", 'a"b']),
        ('x a\\\\\\"b', ["x", 'a\\"b']),
        # backslashes not before a quote are literal
        ("x C:\\a\\\\b\\", ["x", "C:\\a\\\\b\\"]),
        # "" inside quotes: a literal quote, quoting ends (Wine's rule)
        ('x "a""b c"', ["x", 'a"b', "c"]),
        ('x """x"""', ["x", '"x"']),
        ('x ""', ["x", ""]),
        ("x\t a   b ", ["x", "a", "b"]),
    ],
)
def test_split_command_line(line, expected):
    assert split_command_line(line) == expected


def test_doc_example_install_location_is_garbled():
    # [1.1] DOC example `/InstallLocation "D:\"`: under CommandLineToArgvW the \" is a literal quote, so the
    # rest of the line becomes part of the value.
    argv = split_command_line('UNIFIEDSETUP.EXE /InstallLocation "D:\\" /EnvType "VMWare"')
    assert argv[2] == 'D:" /EnvType VMWare'


@pytest.mark.parametrize("arg", ["plain", "a b", "D:\\", "C:\\Program Files (x86)\\x\\", 'say "hi"', "", 'a\\"b'])
def test_quote_roundtrip(arg):
    assert split_command_line("x.exe " + quote_argument(arg))[1:] == [arg]


def _estate_host(tmp_path, name="ps1", ip="10.0.0.11"):
    estate = Estate(tmp_path)
    estate.save_new_host(new_host(name, ip))
    return estate


def test_process_log_records_exact_command_line(tmp_path):
    estate = _estate_host(tmp_path)
    line = 'net  user bob "S3cret!pass"'
    with estate.open_host("ps1") as host:
        programs.run(host, line, user="Administrator", become=False)
    records = [json.loads(x) for x in estate.processes_path("ps1").read_text().splitlines()]
    assert records[-1]["command_line"] == line
    assert records[-1]["user"] == "Administrator"


def test_missing_executable_is_9009(tmp_path):
    estate = _estate_host(tmp_path)
    with estate.open_host("ps1") as host:
        r = programs.run(host, "nosuch.exe /x", user="a", become=False)
        assert r.rc == 9009
        assert "is not recognized as an internal or external command" in r.stderr
        r = programs.run(host, r"D:\missing\UnifiedSetup.exe /q", user="a", become=False)
        assert r.rc == 9009


def test_existing_unknown_file_is_bad_exe(tmp_path):
    estate = _estate_host(tmp_path)
    with estate.open_host("ps1") as host:
        host.write_file(r"C:\Temp\tool.exe", "not a program")
        r = programs.run(host, r"C:\Temp\tool.exe", user="a", become=False)
        assert r.rc == 193
        assert "not a valid Win32 application" in r.stderr


def test_bare_name_resolves_in_cwd_then_system32(tmp_path):
    host = new_host("h", "10.0.0.1")
    host.write_file(r"C:\Temp\x\hostname.exe", "marker")
    assert programs.resolve_executable(host, "hostname", r"C:\Temp\x") == r"C:\Temp\x\hostname.exe"
    assert programs.resolve_executable(host, "hostname", r"C:\Temp").lower() == r"c:\windows\system32\hostname.exe"
    assert programs.resolve_executable(host, "perl", r"C:\Temp") is None  # no Dependencies => no perl
    assert programs.resolve_executable(host, r"C:\Windows\System32\sc.exe", "C:\\").lower().endswith("sc.exe")


def test_cmd_chain_env_and_redirect():
    host = new_host("h", "10.0.0.1")
    r = programs.run(
        host, r"cmd /c cd /d %ProgramData% && echo hi> C:\Temp\o.txt && type C:\Temp\o.txt", user="a", become=False
    )
    assert r.rc == 0
    assert r.stdout == "hi\r\n"
    r = programs.run(host, "cmd.exe /c nosuch && echo never", user="a", become=False)
    assert r.rc == 9009
    assert "never" not in r.stdout
    assert [p["command_line"] for p in host.data["_processes"]][-1] == "nosuch"


def test_unknown_cmdlet():
    host = new_host("h", "10.0.0.1")
    r = programs.run_cmdlet(host, "Get-Nothing", {}, user="a", become=False)
    assert not r.ok
    assert "is not recognized as the name of a cmdlet" in r.errors[0]
