"""lab.scripts: a collection script runs as its real text under pwsh, bound and shaped as win_powershell does."""

from __future__ import annotations

import json

import pytest
from asr_helpers import run_script

from lab import pshost, scripts
from lab.state import new_host

HEADER = "# asr.process_server script: lab_test v1\n"


def host():
    return new_host("ps01", "10.0.0.101")


def test_identify_first_line_and_within_first_lines():
    assert scripts.identify("# asr.process_server script: probe v1\nparam()\n") == ("probe", 1)
    text = "\ufeff\n#Requires -Version 5.1\n\n# asr.process_server script: start_setup v12\nparam($x)\n"
    assert scripts.identify(text) == ("start_setup", 12)
    assert scripts.identify("param()\n# something else\n") is None
    late = "\n".join(["$x = 1"] * 20 + ["# asr.process_server script: late v1"])
    assert scripts.identify(late) is None


def test_a_script_without_the_identity_header_is_refused():
    with pytest.raises(scripts.UnknownScriptError, match="First line: Get-Date"):
        scripts.run(host(), "\n  Get-Date\n", {}, [], check_mode=False, user="a", become=False)


def test_result_changed_output_and_streams_as_win_powershell_shapes_them():
    text = HEADER + (
        "[CmdletBinding()]\nparam ([int]$Value, [string[]]$Names)\n"
        "Write-Host 'to the host'\nWrite-Warning 'careful'\nWrite-Verbose 'not shown'\n"
        "$Value * 2\n$Names.Count\n$Ansible.Changed = $false\n"
        "$Ansible.Result = [ordered]@{ kind = $Ansible.GetType().Name; check = $Ansible.CheckMode;"
        " deep = @{ a = @{ b = @{ c = 1 } } } }\n"
    )
    fields = run_script(host(), text, {"Value": 21, "Names": ["a", "b", "c"]})
    assert fields["failed"] is False and fields["changed"] is False
    assert fields["output"] == [42, 3]
    assert fields["host_out"] == "to the host\r\n"
    assert fields["warning"] == ["careful"] and fields["verbose"] == []
    assert fields["information"][0]["message_data"]["Message"] == "to the host"  # a HostInformationMessage
    # win_powershell's depth 2: deeper values become their string form
    deep = {"a": {"b": "System.Collections.Hashtable"}}
    assert fields["result"] == {"kind": "PSCustomObject", "check": False, "deep": deep}


def test_a_script_that_throws_fails_with_its_error_record_and_no_msg():
    text = HEADER + "$ErrorActionPreference = 'Stop'\n$Ansible.Result = 'partial'\nthrow 'it broke'\n"
    fields = run_script(host(), text)
    assert fields["failed"] is True and "msg" not in fields
    assert fields["result"] == "partial" and fields["changed"] is True
    record = fields["error"][0]
    assert record["exception"]["message"] == "it broke"
    assert record["category_info"]["category"] == "OperationStopped"
    assert "it broke" in record["output"]


def test_sensitive_parameters_arrive_as_securestring_and_pscredential():
    text = HEADER + (
        "param ([securestring]$Token, [pscredential]$Account, [securestring]$Empty)\n"
        "$plain = [System.Net.NetworkCredential]::new('', $Token).Password\n"
        "$Ansible.Result = @{ token = $plain.Length; user = $Account.UserName;"
        " pass = $Account.GetNetworkCredential().Password.Length; empty = $Empty.Length }\n"
    )
    entries = [
        {"name": "Token", "value": "abcd"},
        {"name": "Account", "username": "LAB\\svc", "password": "pw123"},
        {"name": "Empty"},
    ]
    fields = scripts.run(host(), text, {}, entries, check_mode=False, user="Administrator", become=False)
    assert fields["result"] == {"token": 4, "user": "LAB\\svc", "pass": 5, "empty": 0}


def test_check_mode_skips_a_script_without_should_process_and_runs_one_with_whatif():
    plain = HEADER + "[CmdletBinding()]\nparam ()\n$Ansible.Result = 'ran'\n"
    assert run_script(host(), plain, check_mode=True) == {"changed": True, "msg": scripts.CHECK_MODE_SKIP}
    careful = HEADER + (
        "[CmdletBinding(SupportsShouldProcess)]\nparam ()\n"
        "$Ansible.Result = @{ whatif = [bool]$WhatIfPreference; check = $Ansible.CheckMode;"
        " would = $PSCmdlet.ShouldProcess('C:\\x', 'change') }\n"
    )
    assert run_script(host(), careful, check_mode=True)["result"] == {"whatif": True, "check": True, "would": False}
    assert run_script(host(), careful)["result"] == {"whatif": False, "check": False, "would": True}


def test_iso_dates_in_json_stay_text_as_on_windows_powershell_51():
    text = HEADER + '$Ansible.Result = (\'{"at":"2024-01-02T03:04:05Z"}\' | ConvertFrom-Json).at.GetType().Name\n'
    assert run_script(host(), text)["result"] == "String"


def test_every_call_gets_a_fresh_runspace():
    run_script(host(), HEADER + "$global:leftover = 'x'\nfunction Get-Leftover { 1 }\n")
    text = (
        HEADER
        + "$Ansible.Result = @{ var = $null -eq $global:leftover;"
        + " fn = $null -eq (Get-Command Get-Leftover -ErrorAction SilentlyContinue) }\n"
    )
    assert run_script(host(), text)["result"] == {"var": True, "fn": True}


def test_the_shim_answers_from_the_emulated_host_and_seams_are_replaced():
    h = host()
    h.write_file(r"C:\ProgramData\demo\a.txt", "hello")
    text = HEADER + (
        "function Open-SharedFile { throw 'the real seam ran' }\n"
        "$stream = Open-SharedFile -Path 'C:\\ProgramData\\demo\\a.txt'\n"
        "$text = (New-Object System.IO.StreamReader $stream).ReadToEnd()\n"
        "$Ansible.Result = @{ text = $text;"
        " there = Test-Path -LiteralPath 'C:\\ProgramData\\demo\\a.txt' -PathType Leaf;"
        " joined = Join-Path $env:ProgramData 'ASR';"
        " os = (Get-CimInstance -ClassName Win32_OperatingSystem).Caption }\n"
        "Set-Content -LiteralPath 'C:\\ProgramData\\demo\\b.txt' -Value 'x' -Encoding UTF8\n"
    )
    fields = run_script(h, text)
    assert fields["result"] == {
        "text": "hello",
        "there": True,
        "joined": r"C:\ProgramData\ASR",
        "os": "Microsoft Windows Server 2016 Datacenter",
    }
    assert h.read_bytes(r"C:\ProgramData\demo\b.txt") == b"\xef\xbb\xbfx\r\n"  # 5.1's UTF8 carries a BOM


def test_a_native_program_exit_code_arrives_whole():
    """A Linux process status keeps 8 bits (1605 would arrive as 69, 3010 as 194): the seam carries the code whole."""
    from lab.asr import products

    h = host()
    products.install_mars(h, "9.55.7123.1")
    code = products.UNINSTALL_KEYS["mars"]
    argv = ["MsiExec.exe", "/qn", "/x", code, "/L+*V", r"C:\ProgramData\ASRSetupLogs\mars.log"]
    h.faults["msiexec_exit_code"] = 3010
    result = json.loads(run_script(h, "uninstall_step", {"Argv": argv, "LogPath": argv[-1]})["result"])
    assert result["rc"] == 3010 and result["log_tail"][-1].endswith("error status: 3010.")
    result = json.loads(
        run_script(
            h, "uninstall_step", {"Argv": ["MsiExec.exe", "/qn", "/x", "{00000000-0000-0000-0000-000000000000}"]}
        )["result"]
    )
    assert result["rc"] == 1605


def test_a_write_to_the_real_file_system_fails_the_call_loudly():
    text = HEADER + "[System.IO.File]::WriteAllText('C:\\Temp\\leak.txt', 'x')\n"
    with pytest.raises(pshost.PwshError, match="wrote to the real file system"):
        run_script(host(), text)


def test_the_lab_runs_the_text_it_is_given_not_a_copy():
    """Proof that no twin answers: a changed script text changes the result."""
    from asr_helpers import collection_script

    text = collection_script("probe").replace("$survey.probe = 'probe v1'", "$survey.probe = 'edited in the test'")
    fields = run_script(host(), text)
    assert json.loads(fields["result"])["probe"] == "edited in the test"


def test_no_pwsh_fails_loudly_saying_what_to_install(monkeypatch):
    from lab import pwsh

    monkeypatch.setattr(pshost, "POOL", pshost.Pool(1))
    monkeypatch.setenv("ASR_PWSH", "/nonexistent/pwsh")
    with pytest.raises(pwsh.PwshNotFound, match=r"install PowerShell 7\.5 or later"):
        run_script(host(), HEADER + "1\n")
