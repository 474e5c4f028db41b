"""scripts/check_powershell.py: each hazard it exists for is caught in a small bad sample, and its good twin is not.

All samples go through ONE pwsh process (the analyzer reads them all in one request). There is no skip: without
pwsh the fixture fails, saying how to provide one.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import textwrap

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("check_powershell", ROOT / "scripts" / "check_powershell.py")
check = importlib.util.module_from_spec(_spec)
sys.modules["check_powershell"] = check  # dataclasses look their module up
_spec.loader.exec_module(check)

SENT = check.SENT_RULES
LINT = ("pslint",)


def sample(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# name -> (rules, text, expected: list of (rule, line, message fragment)); an empty list means "no finding at all"
SAMPLES: dict[str, tuple[tuple[str, ...], str, list[tuple[str, int, str]]]] = {
    # ---- parse
    "parse_error": (("parse",), "if ($true {\n", [("parse", 1, "")]),
    # ---- syntax and operators Windows PowerShell 5.1 lacks
    "ternary": (SENT, "$a = $true ? 1 : 2\n", [("ps51", 1, "ternary")]),
    "pipeline_chain": (SENT, "Get-Item -LiteralPath a && Get-Item -LiteralPath b\n", [("ps51", 1, "pipeline chains")]),
    "null_coalescing": (SENT, "$b = $null\n$a = $b ?? 'x'\n", [("ps51", 2, "??")]),
    "null_coalescing_assignment": (SENT, "$a = $null\n$a ??= 1\n", [("ps51", 2, "??=")]),
    "null_conditional_member": (SENT, "$a = 'x'\n${a}?.Length\n", [("ps51", 2, "?.")]),
    "null_conditional_index": (SENT, "$a = @(1)\n${a}?[0]\n", [("ps51", 2, "?[]")]),
    "clean_block": (SENT, "function Test-It {\n    process { 1 }\n    clean { 2 }\n}\n", [("ps51", 1, "clean {}")]),
    "background_operator": (SENT, "Get-Date &\n", [("ps51", 1, "background operator")]),
    "replace_with_scriptblock": (SENT, "'ab' -replace 'a', { 'x' }\n", [("ps51", 1, "script block substitution")]),
    "new_automatic_variable": (SENT, "if ($IsWindows) { 1 }\n", [("ps51", 1, "$IsWindows")]),
    "foreach_parallel": (SENT, "1, 2 | ForEach-Object -Parallel { $_ }\n", [("ps51", 1, "-Parallel")]),
    "convertfrom_json_ashashtable": (SENT, "'{}' | ConvertFrom-Json -AsHashtable\n", [("ps51", 1, "-AsHashtable")]),
    "convertfrom_json_abbreviated": (SENT, "'{}' | ConvertFrom-Json -AsHash\n", [("ps51", 1, "-AsHashtable")]),
    "convertfrom_json_depth": (SENT, "'{}' | ConvertFrom-Json -Depth 5\n", [("ps51", 1, "-Depth is PowerShell 6.2")]),
    "get_content_asbytestream": (SENT, "Get-Content -LiteralPath a -AsByteStream\n", [("ps51", 1, "-AsByteStream")]),
    "convertto_json_enumsasstrings": (
        SENT,
        "ConvertTo-Json -InputObject 1 -EnumsAsStrings\n",
        [("ps51", 1, "-EnumsAsStrings")],
    ),
    "join_path_additional": (
        SENT,
        "Join-Path -Path a -ChildPath b -AdditionalChildPath c\n",
        [("ps51", 1, "AdditionalChildPath")],
    ),
    "start_process_environment_splatted": (
        SENT,
        "$start = @{ FilePath = 'a.exe'; Environment = @{ A = '1' } }\nStart-Process @start\n",
        [("ps51", 2, "-Environment is PowerShell 7.3")],
    ),
    "encoding_utf8nobom": (
        SENT,
        "Set-Content -LiteralPath a -Value b -Encoding utf8NoBOM\n",
        [("ps51", 1, "utf8NoBOM")],
    ),
    "new_command": (SENT, "Test-Json -Json '{}'\n", [("ps51", 1, "Test-Json does not exist")]),
    "number_suffix": (SENT, "$a = 1u\n$a\n", [("ps51", 1, "number literal 1u")]),
    "binary_literal": (SENT, "$a = 0b101\n$a\n", [("ps51", 1, "number literal 0b101")]),
    "escape_e": (SENT, '"`e[0m"\n', [("ps51", 1, "escape `e")]),
    "requires_version_7": (SENT, "#requires -Version 7.0\n1\n", [("ps51", 1, "#requires -Version 7.0")]),
    "accelerator_semver": (
        SENT,
        "[semver]'1.0.0'\n",
        [("net45", 1, "[semver] is a type accelerator of PowerShell 6/7")],
    ),
    # ---- .NET Framework 4.5 types, members and overloads
    "process_kill_tree": (
        SENT,
        "$process = [System.Diagnostics.Process]::GetCurrentProcess()\n$process.Kill($true)\n",
        [("net45", 2, "System.Diagnostics.Process.Kill with 1 arguments")],
    ),
    "process_kill_tree_from_cmdlet": (
        SENT,
        "$process = Start-Process -FilePath a.exe -PassThru\n$process.Kill($true)\n",
        [("net45", 2, "Kill with 1 arguments")],
    ),
    "path_join": (
        SENT,
        "[IO.Path]::Join('a', 'b')\n",
        [("net45", 1, "[System.IO.Path]::Join is not in .NET Framework 4.5")],
    ),
    "environment_processid": (SENT, "[Environment]::ProcessId\n", [("net45", 1, "[System.Environment]::ProcessId")]),
    "split_on_string": (SENT, "'a--b'.Split('--')\n", [("net45", 1, "splits on each character under 5.1")]),
    "namespace_45_lacks": (
        SENT,
        "[System.Text.Json.JsonSerializer]::Serialize(1)\n",
        [("net45", 1, "not in .NET Framework 4.5")],
    ),
    "static_method_net5": (SENT, "[System.Convert]::ToHexString([byte[]]@(1))\n", [("net45", 1, "ToHexString")]),
    "string_overload": (
        SENT,
        "function Test-It {\n    param ([string]$Text)\n"
        "    $Text.Contains('a', [System.StringComparison]::Ordinal)\n}\n",
        [("net45", 3, "System.String.Contains with 2 arguments")],
    ),
    "foreach_element_type": (
        SENT,
        "param ([string[]]$Names)\nforeach ($n in $Names) {\n"
        "    $n.Replace('a', 'b', [System.StringComparison]::Ordinal)\n}\n",
        [("net45", 3, "System.String.Replace with 3 arguments")],
    ),
    "catch_error_record": (
        SENT,
        "try {\n    1\n}\ncatch {\n    $_.Exception.Messages\n}\n",
        [("net45", 5, "System.Exception.Messages is not in .NET Framework 4.5")],
    ),
    "new_object_arity": (
        SENT,
        "New-Object -TypeName System.Threading.Mutex -ArgumentList 1, 2, 3, 4, 5, 6\n",
        [("net45", 1, "constructors taking")],
    ),
    "task_result_chain": (
        SENT,
        "$reader = New-Object -TypeName System.IO.StreamReader -ArgumentList 'a'\n$task = $reader.ReadToEndAsync()\n"
        "$task.Result.ReplaceLineEndings()\n",
        [("net45", 3, "System.String.ReplaceLineEndings")],
    ),
    # ---- check mode
    "checkmode_unguarded_change": (
        SENT,
        "[CmdletBinding(SupportsShouldProcess)]\nparam ()\nRemove-Item -LiteralPath a\n",
        [("checkmode", 3, "Remove-Item in a script that declares SupportsShouldProcess")],
    ),
    "checkmode_program_without_reason": (
        SENT,
        "[CmdletBinding(SupportsShouldProcess)]\nparam ()\nStart-Process -FilePath a.exe\n",
        [("checkmode", 3, "# read-only: <why>")],
    ),
    "checkmode_change_through_function": (
        SENT,
        sample("""
            [CmdletBinding(SupportsShouldProcess)]
            param ()
            function Clear-Thing {
                [System.IO.File]::WriteAllText('a', 'b')
            }
            Clear-Thing
        """),
        [("checkmode", 6, "function Clear-Thing changes the host")],
    ),
    "checkmode_process_start_through_function": (
        SENT,
        sample("""
            [CmdletBinding(SupportsShouldProcess)]
            param ()
            function Invoke-Thing {
                [System.Diagnostics.Process]::Start('a.exe')
            }
            Invoke-Thing
        """),
        [("checkmode", 6, "starts a program")],
    ),
    "checkmode_change_in_a_function_nothing_calls": (
        SENT,
        "[CmdletBinding(SupportsShouldProcess)]\nparam ()\nfunction Remove-It {\n    Remove-Item -LiteralPath a\n}\n",
        [("checkmode", 4, "Remove-Item in a script")],
    ),
    "checkmode_not_declared": (SENT, "[CmdletBinding()]\nparam ()\nRemove-Item -LiteralPath a\n", []),
    # ---- pslint (PSScriptAnalyzer rules ansible-test applies)
    "alias": (LINT, "gci -LiteralPath a\n", [("PSAvoidUsingCmdletAliases", 1, "'gci' is an alias of Get-ChildItem")]),
    "alias_windows_only": (LINT, "ls\n", [("PSAvoidUsingCmdletAliases", 1, "'ls' is an alias")]),
    "alias_foreach": (
        LINT,
        "1 | % { $_ }\n",
        [("PSAvoidUsingCmdletAliases", 1, "'%'")],
    ),
    "implicit_get": (LINT, "ChildItem\n", [("PSAvoidUsingCmdletAliases", 1, "Get-ChildItem implicitly")]),
    "positional": (
        LINT,
        "Get-ChildItem a b c\n",
        [("PSAvoidUsingPositionalParameters", 1, "Get-ChildItem"), ("PSCustomUseLiteralPath", 1, "Get-ChildItem")],
    ),
    "unused_variable": (LINT, "$unused = 1\n", [("PSUseDeclaredVarsMoreThanAssignments", 1, "$unused")]),
    "unused_in_function": (
        LINT,
        "function Get-It {\n    $unused = 1\n    return 2\n}\n",
        [("PSUseDeclaredVarsMoreThanAssignments", 2, "$unused")],
    ),
    "write_host": (LINT, "Write-Host -Object a\n", [("PSAvoidUsingWriteHost", 1, "")]),
    "global_variable": (LINT, "$global:thing = 1\n", [("PSAvoidGlobalVars", 1, "")]),
    "empty_catch": (LINT, "try {\n    1\n}\ncatch {\n}\n", [("PSAvoidUsingEmptyCatchBlock", 4, "")]),
    "null_on_right": (
        LINT,
        "$a = 1\nif ($a -eq $null) {\n    1\n}\n",
        [("PSPossibleIncorrectComparisonWithNull", 2, "")],
    ),
    "wmi_cmdlet": (LINT, "Get-WmiObject -Class Win32_Service\n", [("PSAvoidUsingWMICmdlet", 1, "")]),
    "unapproved_verb": (LINT, "function Do-Thing {\n    1\n}\n", [("PSUseApprovedVerbs", 1, "'Do'")]),
    "plural_noun": (LINT, "function Get-Things {\n    1\n}\n", [("PSUseSingularNouns", 1, "")]),
    "automatic_variable": (LINT, "$input = 1\n$input\n", [("PSAvoidAssignmentToAutomaticVariable", 1, "$input")]),
    "assignment_in_if": (
        LINT,
        "$b = 2\nif ($a = $b) {\n    $a\n}\n",
        [("PSPossibleIncorrectUsageOfAssignmentOperator", 2, "")],
    ),
    "redirection_in_if": (
        LINT,
        "$a = 1\nif ($a > 2) {\n    1\n}\n",
        [("PSPossibleIncorrectUsageOfRedirectionOperator", 2, "")],
    ),
    "switch_default_true": (
        LINT,
        "function Get-It {\n    param ([switch]$Force = $true)\n    $Force\n}\n",
        [("PSAvoidDefaultValueSwitchParameter", 2, "")],
    ),
    "mandatory_default": (
        LINT,
        "param (\n    [Parameter(Mandatory = $true)][string]$Name = 'a'\n)\n$Name\n",
        [("PSAvoidDefaultValueForMandatoryParameter", 2, "")],
    ),
    "reserved_parameter": (
        LINT,
        "function Get-It {\n    [CmdletBinding()]\n    param ([string]$ErrorAction)\n    $ErrorAction\n}\n",
        [("PSReservedParams", 3, "")],
    ),
    "hashtable_new_object": (
        LINT,
        "$h = New-Object -TypeName Hashtable\n$h\n",
        [("PSUseLiteralInitializerForHashtable", 1, "")],
    ),
    "should_process_never_called": (
        LINT,
        "function Set-It {\n    [CmdletBinding(SupportsShouldProcess)]\n    param ()\n    1\n}\n",
        [("PSShouldProcess", 1, "never calls ShouldProcess")],
    ),
    "long_line": (LINT, "$a = '" + "x" * 160 + "'\n$a\n", [("PSAvoidLongLines", 1, "")]),
    "trailing_whitespace": (LINT, "$a = 1 \n$a\n", [("PSAvoidTrailingWhitespace", 1, "")]),
    "tab_indentation": (LINT, "if ($true) {\n\t1\n}\n", [("PSUseConsistentIndentation", 2, "tab")]),
    "misleading_backtick": (
        LINT,
        "Get-Date ` \n",
        [("PSMisleadingBacktick", 1, ""), ("PSAvoidTrailingWhitespace", 1, "")],
    ),
    "semicolon_terminator": (LINT, "$a = 1;\n$a\n", [("PSAvoidSemicolonsAsLineTerminators", 1, "")]),
    "open_brace_own_line": (LINT, "if ($true)\n{\n    1\n}\n", [("PSPlaceOpenBrace", 2, "own line")]),
    "close_brace_cuddled_else": (
        LINT,
        "if ($true) {\n    1\n} else {\n    2\n}\n",
        [("PSPlaceCloseBrace", 3, "'else'")],
    ),
    "indentation": (LINT, "if ($true) {\n  1\n}\n", [("PSUseConsistentIndentation", 2, "expected 4")]),
    "whitespace_operator": (LINT, "$a=1\n$a\n", [("PSUseConsistentWhitespace", 1, "operator '='")]),
    "whitespace_keyword_paren": (
        LINT,
        "if($true) {\n    1\n}\n",
        [("PSUseConsistentWhitespace", 1, "'if' and the parenthesis")],
    ),
    "whitespace_separator": (LINT, "$a = @(1,2)\n$a\n", [("PSUseConsistentWhitespace", 1, "after ','")]),
    "whitespace_pipe": (LINT, "Get-Date|Out-String\n", [("PSUseConsistentWhitespace", 1, "pipe")]),
    "whitespace_inner_brace": (LINT, "$h = @{a = 1 }\n$h\n", [("PSUseConsistentWhitespace", 1, "after an open brace")]),
    "literal_path_named": (LINT, "Get-Content -Path a\n", [("PSCustomUseLiteralPath", 1, "Get-Content")]),
    "literal_path_positional": (LINT, "Test-Path a\n", [("PSCustomUseLiteralPath", 1, "Test-Path")]),
    "suppression_honoured": (
        LINT,
        sample("""
            function Show-It {
                [Diagnostics.CodeAnalysis.SuppressMessageAttribute('PSAvoidUsingWriteHost', '')]
                param ()
                Write-Host -Object a
            }
        """),
        [],
    ),
    # ---- project rules
    "here_string_script_without_header": (
        SENT,
        "$text = @'\nparam ([string]$A)\n$b = 1\n'@\n$text\n",
        [("project", 1, "must start with a line '# asr.process_server")],
    ),
    "secret_as_plain_string": (
        SENT,
        "param ([string]$ProxyPassword)\n$ProxyPassword\n",
        [("project", 1, "-ProxyPassword carries a secret")],
    ),
    "fips_sha256_create": (
        SENT,
        "$h = [System.Security.Cryptography.SHA256]::Create()\n$h\n",
        [("project", 1, "throws on a host whose FIPS policy is on")],
    ),
    "fips_managed_class": (
        SENT,
        "$h = New-Object -TypeName System.Security.Cryptography.SHA256Managed\n$h\n",
        [("project", 1, "is not FIPS-validated")],
    ),
    "fips_md5": (
        SENT,
        "$h = [System.Security.Cryptography.MD5CryptoServiceProvider]::new()\n$h\n",
        [("project", 1, "not FIPS")],
    ),
    "date_in_the_host_culture": (
        SENT,
        "(Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')\n",
        [("project", 1, "InvariantCulture")],
    ),
    "parameter_assigned_under_another_spelling": (
        SENT,
        "param ([hashtable]$ProbeParameters = @{})\n$probeParameters = @{}\n$probeParameters\n",
        [("project", 2, "is the parameter $ProbeParameters")],
    ),
    # ---- a script held in a here-string: analysed on its own, reported at the holder's lines
    "embedded_runner": (
        SENT,
        "$RunnerText = @'\n# asr.process_server runner\n$a = $null\n$b = $a ?? 1\n$b\n'@\n$RunnerText\n",
        [("ps51", 4, "??")],
    ),
    # ---- good twins: 5.1-safe code the check must leave alone
    "good_5_1_code": (
        SENT,
        sample("""
            [CmdletBinding(SupportsShouldProcess)]
            param ([string[]]$Names = @())
            $ErrorActionPreference = 'Stop'
            $first = @($Names | Select-Object -Skip 1)
            $parts = 'a-b'.Split('-')
            $joined = [System.IO.Path]::Combine('a', 'b')
            $stream = [System.IO.File]::Open('a', [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, 'Read')
            $stream.Dispose()
            $sha = New-Object -TypeName System.Security.Cryptography.SHA256CryptoServiceProvider
            $text = (Get-Date).ToUniversalTime().ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)
            # read-only: lists what is there
            Start-Process -FilePath a.exe
            if ($PSCmdlet.ShouldProcess('a', 'remove')) {
                Remove-Item -LiteralPath a
            }
            $list = [System.Collections.Generic.List[string]]@()
            $list.Add('a')
            $first, $parts, $joined, $sha, $text, $list.ToArray().Length
        """),
        [],
    ),
    "good_pslint_code": (
        LINT,
        sample("""
            function Get-Thing {
                param ([string]$Path)
                $lines = Get-Content -LiteralPath $Path | Where-Object { $_ -ne '' }
                foreach ($line in $lines) {
                    if ($line -match 'x') {
                        return $line
                    }
                    elseif ($null -eq $line) {
                        continue
                    }
                    else {
                        $item = @{ a = 1; b = @(1, 2) }
                        $item
                    }
                }
                try {
                    Get-Item -LiteralPath $Path |
                        Select-Object -First 1
                }
                catch {
                    throw
                }
            }
        """),
        [],
    ),
}


@pytest.fixture(scope="module")
def pwsh() -> str:
    path, _how = check.find_pwsh(ROOT)  # raises PwshNotFound (a failure, not a skip) when there is none
    return path


@pytest.fixture(scope="module")
def findings(pwsh):
    units = [
        check.Unit(name, text, rules, tuple((name, n) for n in range(1, text.count("\n") + 2)))
        for name, (rules, text, _expected) in SAMPLES.items()
    ]
    by_sample: dict[str, list] = {name: [] for name in SAMPLES}
    for finding in check.analyze(units, pwsh):
        by_sample[finding.path].append(finding)
    return by_sample


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_check_finds_exactly_the_hazard_of_each_sample(findings, name):
    _rules, _text, expected = SAMPLES[name]
    got = findings[name]
    for rule, line, fragment in expected:
        assert any(f.rule == rule and f.line == line and fragment in f.message for f in got), (
            rule,
            line,
            fragment,
            got,
        )
    unexpected = [f for f in got if not any(f.rule == rule and f.line == line for rule, line, _ in expected)]
    assert not unexpected, unexpected


def test_a_fragment_finding_is_reported_at_the_fragment_file_once():
    scripts = [p for p in (ROOT / check.SCRIPT_DIR).glob("*.ps1")]
    texts = {p.stem: check.splice(ROOT, p) for p in scripts}
    for name, (text, origins, _included) in texts.items():
        assert text == loader.load_script(name).text  # the check reads what the host receives
        assert len(origins) == len(text.splitlines())
    text, origins, included = texts["proxy_apply"]
    assert "native_command" in included
    line = text.splitlines().index("function ConvertTo-ArgumentText {") + 1
    frag = ROOT / check.SCRIPT_DIR / "fragments" / "native_command.ps1"
    assert origins[line - 1] == (
        frag.relative_to(ROOT).as_posix(),
        frag.read_text().splitlines().index("function ConvertTo-ArgumentText {") + 1,
    )


def test_an_unused_fragment_and_a_bad_header_are_findings(tmp_path):
    fragments = tmp_path / check.SCRIPT_DIR / "fragments"
    fragments.mkdir(parents=True)
    (fragments / "lonely.ps1").write_text("# asr.process_server fragment: lonely\n$a = 1\n")
    (tmp_path / check.SCRIPT_DIR / "demo.ps1").write_text("# asr.process_server script: other v1\nparam ()\n")
    units, findings = check.collect_units(tmp_path, check.find_files(tmp_path))
    messages = sorted(str(f) for f in findings)
    assert any("lonely.ps1:1:1: [header] no script includes this fragment" in m for m in messages), messages
    assert any("demo.ps1:1:1: [header] identity header names 'other'" in m for m in messages), messages
    assert {u.name for u in units} == {
        "plugins/plugin_utils/powershell/demo.ps1",
        "plugins/plugin_utils/powershell/demo.ps1 (as sent)",
        "plugins/plugin_utils/powershell/fragments/lonely.ps1",
    }


def test_without_pwsh_the_check_fails_and_says_how_to_get_one(tmp_path, monkeypatch, capsys):
    """lab/pwsh.py finds pwsh (tests/lab/test_pwsh.py covers its order); when it finds none, the check fails."""
    monkeypatch.setenv("ASR_PWSH", str(tmp_path / "no-such-pwsh"))
    (tmp_path / "a.ps1").write_text("1\n")
    with pytest.raises(check.PwshNotFound, match="ASR_PWSH"):
        check.find_pwsh(tmp_path)
    assert check.main(["check_powershell.py", str(tmp_path)]) == 2
    assert "FAILED: lab: ASR_PWSH is set to" in capsys.readouterr().out


def test_the_repository_passes_its_own_check(pwsh, capsys):
    """What test.sh runs: every shipped script as sent, the runner, the pslint view of plugins/, the rest parsed."""
    assert check.main(["check_powershell.py", str(ROOT)]) == 0, capsys.readouterr().out
    assert os.path.isfile(check.API_DATA)
