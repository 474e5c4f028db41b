#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each fix of the scripts' review (issue 15 item 4, the "F-list") has a Pester test that fails on the old text.

For every entry of ``FIXES`` this puts the old text back -- only that piece, into a copy of today's scripts and
Pester tests -- and runs the one Pester test named for it (``tests/powershell/tools/audit_fixes.ps1``, one pwsh for
all of them). The test must FAIL there; a test that still passes cannot see the hazard it is named for. The old
texts come from the commits that made the fixes (``git log -S`` finds them: 7938a99, 87304dd, and setup_stop's own).

    python scripts/audit_script_fixes.py            # all entries (about 25 Pester runs: minutes, not seconds)
    python scripts/audit_script_fixes.py fips ...   # only these

Not a step of ``scripts/test.sh`` (the Pester step runs the tests themselves); run it after changing a fix or its
test. Exit status 1 when an old text passes its test (or is no longer found in today's script), 2 without pwsh.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from check_powershell import pwsh_or_say

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "powershell" / "tools" / "audit_fixes.ps1"
P = "plugins/plugin_utils/powershell/"
RUNNER_ALIVE = "return ([math]::Abs(($process.StartTime.ToUniversalTime() - $recorded).TotalSeconds) -lt 1)"
ISO_UTC = "return $Value.ToUniversalTime().ToString($format, [System.Globalization.CultureInfo]::InvariantCulture)"
POLL_LOG = "$logPath = Join-Path -Path $env:{} -ChildPath '{}ASRSetupLogs\\ASRUnifiedSetup.log'"


@dataclass(frozen=True)
class Fix:
    """One fix: in ``path``, today's ``text`` and the ``old`` text it replaced; the Pester test that shows it."""

    name: str
    hazard: str
    path: str
    text: str
    old: str
    test_file: str
    test: str  # a part of the It's name


def rethrown(name: str, script: str, kept: str, catch_comment: str, test: str) -> Fix:
    """A script whose catch block keeps what was done when a step throws; the old text rethrew at its top."""
    return Fix(name, f"a terminating error loses {script}'s {kept}", f"{P}{script}.ps1",
               f"catch {{\n    {catch_comment}", f"catch {{\n    throw\n    {catch_comment}",
               f"{script}.Tests.ps1", test)  # fmt: skip


def also_failing(fix: Fix, *others: tuple[str, str, str]) -> list[Fix]:
    """``fix``, and its old text again for each other Pester test that must fail on it: (name, test file, test)."""
    return [fix, *(dataclasses.replace(fix, name=name, test_file=file, test=test) for name, file, test in others)]


FIXES = [
    Fix("fips", "[SHA256]::Create() throws under the FIPS policy", P + "fragments/file_facts.ps1",
        "$hasher = New-Object -TypeName System.Security.Cryptography.SHA256CryptoServiceProvider",
        "$hasher = [System.Security.Cryptography.SHA256]::Create()",
        "fragments.Tests.ps1", "hashes with the CryptoAPI implementation"),
    Fix("fixed_version", "the FileVersion text compared, not the four fixed parts", P + "setup_start.ps1",
        "$version = Get-FileFixedVersion -Info $info",
        "$version = [regex]::Match([string]$info.FileVersion, '^\\s*([0-9]+(\\.[0-9]+){1,3})').Groups[1].Value",
        "setup_start.Tests.ps1", "refuses a package whose fixed version parts"),
    Fix("wait_tree", "Start-Process -Wait waits for the whole tree under 5.1", P + "setup_start.ps1",
        "-RedirectStandardError $spec.stderr -NoNewWindow -PassThru\n",
        "-RedirectStandardError $spec.stderr -NoNewWindow -PassThru -Wait\n",
        "runner.Tests.ps1", "waits for setup itself"),
    Fix("dotnet_probe", "the .NET Framework release is not probed", P + "fragments/survey.ps1",
        "$survey.dotnet_framework = Get-DotNetFramework", "$survey.dotnet_framework = $null",
        "probe.Tests.ps1", "surveys an installed process server"),
    Fix("timeout_stop", "a hard timeout leaves a hung setup's tree running", P + "setup_stop.ps1",
        "if ($process.CreationDate.ToUniversalTime() -ge $parent.CreationDate.ToUniversalTime()) {",
        "if ($true) {", "setup_stop.Tests.ps1", "older than it"),
    Fix("timeout_stop_unverified", "a runner is stopped on its process id alone", P + "setup_stop.ps1",
        "elseif (-not $started.process_started -or $null -eq $runner -or $null -eq $runner.StartTime) {",
        "elseif ($false) {", "setup_stop.Tests.ps1", "was not recorded or cannot be read"),
    Fix("allsigned", "-ExecutionPolicy Bypass -File is overridden by an AllSigned group policy", P + "setup_start.ps1",
        "return '\"{0}\" -NoProfile -NonInteractive -EncodedCommand {1}' -f $powershell, $encoded",
        "return '\"{0}\" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File \"{1}\" -RunDir \"{2}\"' -f "
        "$powershell, (Join-Path -Path $RunDir -ChildPath 'runner.ps1'), $RunDir",
        "setup_start.Tests.ps1", "starts the runner as -EncodedCommand"),
    Fix("start_cause", "a failed runner start does not say why", P + "setup_start.ps1",
        "(Get-CreateFailureText -ReturnValue $created.ReturnValue) + '. Nothing was installed.')",
        "'see the Win32_Process.Create documentation.')",
        "setup_start.Tests.ps1", "says why the runner could not start"),
    Fix("native_timeout", "Invoke-NativeCommand has no timeout", P + "fragments/native_command.ps1",
        "$timedOut = -not $process.WaitForExit($TimeoutSeconds * 1000)", "$process.WaitForExit(); $timedOut = $false",
        "native_command.Tests.ps1", "stops a program still running after -TimeoutSeconds"),
    rethrown("steps_register", "register_apply", "steps", "# a terminating error",
             "keeps the steps done when a later one throws"),
    rethrown("steps_proxy", "proxy_apply", "steps", "# a terminating error",
             "keeps the steps done when re-registration cannot start"),
    rethrown("steps_uninstall", "uninstall_step", "result", "# the uninstaller could not start",
             "reports an uninstaller that could not start"),
    Fix("net_start_2", "net start on a running service exits 2", P + "fragments/service_steps.ps1",
        "        $start.already_running = $true\n", "        $start.already_running = $false\n",
        "register_apply.Tests.ps1", "counts net start exit 2 as success"),
    *also_failing(
        Fix("culture_run_state", "timestamps in the current culture", P + "fragments/run_state.ps1",
            ISO_UTC, "return $Value.ToUniversalTime().ToString($format)", "fragments.Tests.ps1", "writes times with"),
        ("culture_setup_start", "setup_start.Tests.ps1", "writes its times with"),
    ),
    Fix("culture_runner", "timestamps in the current culture", P + "setup_start.ps1",
        "ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)",
        "ToString('yyyy-MM-ddTHH:mm:ssZ')", "runner.Tests.ps1", "writes the time it finished"),
    Fix("fileshare_delete", "the setup log read without FileShare.Delete", P + "fragments/shared_text.ps1",
        "$share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete",
        "$share = [System.IO.FileShare]::ReadWrite", "fragments.Tests.ps1", "lets the writer delete or rename"),
    *also_failing(
        Fix("reused_pid", "a reused process id fools the runner liveness check", P + "fragments/run_state.ps1",
            RUNNER_ALIVE, "return $true", "fragments.Tests.ps1", "judges the runner alive by its id"),
        ("reused_pid_poll", "setup_poll.Tests.ps1", "reports lost when another powershell"),
        ("reused_pid_start", "setup_start.Tests.ps1", "does not take a dead run"),
        ("reused_pid_cleanup", "setup_cleanup.Tests.ps1", "now belongs to a later process"),
    ),
    Fix("programdata_probe", "the setup log under $env:SystemDrive\\ProgramData", P + "fragments/survey.ps1",
        "$path = Join-Path -Path $env:ProgramData -ChildPath 'ASRSetupLogs\\ASRUnifiedSetup.log'",
        "$path = Join-Path -Path $env:SystemDrive -ChildPath 'ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log'",
        "probe.Tests.ps1", "reads the setup log from"),
    Fix("programdata_poll", "the setup log under $env:SystemDrive\\ProgramData", P + "setup_poll.ps1",
        POLL_LOG.format("ProgramData", ""), POLL_LOG.format("SystemDrive", "ProgramData\\"),
        "setup_poll.Tests.ps1", "reports a run that ended"),
    Fix("start_lock", "setup_start keeps its start lock when it fails", P + "setup_start.ps1",
        "        return\n    }\n    Start-SetupRun\n}\nfinally {\n    $startLock.ReleaseMutex()\n"
        "    $startLock.Dispose()\n}",
        "        $startLock.ReleaseMutex()\n        return\n    }\n    Start-SetupRun\n"
        "    $startLock.ReleaseMutex()\n}\nfinally {\n}",
        "setup_start.Tests.ps1", "deletes a transferred package whose SHA-256"),
    Fix("unreadable_amethyst", "one unreadable file makes the probe throw", P + "fragments/survey.ps1",
        "    catch {\n        $Result.error = $_.Exception.GetBaseException().Message\n        return $null\n    }\n",
        "    catch {\n        throw\n    }\n", "probe.Tests.ps1", "reports an amethyst.conf it cannot read"),
    Fix("unreadable_log", "one unreadable file makes the probe throw", P + "fragments/survey.ps1",
        "(Read-SharedText -Path $path)\n    }\n    catch {\n"
        "        $result.error = $_.Exception.GetBaseException().Message\n",
        "(Read-SharedText -Path $path)\n    }\n    catch {\n        throw\n",
        "probe.Tests.ps1", "reports a setup log that went away"),
]  # fmt: skip


def prepare(fix: Fix, work: pathlib.Path) -> dict[str, str]:
    """A copy of today's scripts and Pester tests with the fix's old text put back; the runner's plan entry."""
    root = work / fix.name
    shutil.copytree(ROOT / P, root / P)
    shutil.copytree(ROOT / "tests" / "powershell", root / "tests" / "powershell")
    path = root / fix.path
    text = path.read_text(encoding="utf-8-sig")
    if fix.text not in text:
        raise LookupError(f"{fix.name}: today's text is no longer in {fix.path} (update FIXES): {fix.text!r}")
    path.write_text(text.replace(fix.text, fix.old, 1), encoding="utf-8")
    return {"id": fix.name, "root": str(root), "file": fix.test_file, "name": fix.test}


def main(argv: list[str]) -> int:
    chosen = [f for f in FIXES if not argv[1:] or f.name in argv[1:]]
    found = pwsh_or_say("audit_script_fixes", ROOT)
    if found is None:
        return 2
    pwsh, how = found
    print(f"audit_script_fixes: pwsh {pwsh} (from {how}); {len(chosen)} old text(s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="asr-audit-") as tmp:
        work = pathlib.Path(tmp)
        try:
            plan = [prepare(f, work) for f in chosen]
        except LookupError as exc:
            print(f"audit_script_fixes: FAILED: {exc}")
            return 1
        (work / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
        out = work / "results.jsonl"
        command = [pwsh, "-NoProfile", "-NonInteractive", "-File", str(RUNNER), "-Plan", str(work / "plan.json")]
        subprocess.run([*command, "-Out", str(out)], check=True, cwd=ROOT)
        results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    survivors = 0
    for fix, result in zip(chosen, results, strict=True):
        caught = result["matched"] > 0 and (result["failed"] > 0 or result["blocks_failed"] > 0)
        survivors += not caught
        verdict = "caught " if caught else "MISSED "
        print(f"{verdict} {fix.name:24} {fix.test_file} '{fix.test}': {fix.hazard}")
        if not result["matched"]:
            print(f"         no test of {fix.test_file} has '{fix.test}' in its name")
        elif result.get("first_failure"):
            print(f"         {str(result['first_failure']).split(' :: ')[-1][:150]}")
    print(f"audit_script_fixes: {len(chosen) - survivors} of {len(chosen)} old texts fail their test")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
