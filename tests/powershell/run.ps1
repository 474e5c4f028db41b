# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run every Pester test of tests/powershell in this one pwsh (scripts/run_pester.py starts it; scripts/test.sh runs
# that). Exit status 0 only when tests ran and all passed: a failed test, a failed block (BeforeAll) or no test at all
# is a failure.
param (
    # test files or folders, separated by ';' (pwsh -File passes one string); default: all of tests/powershell
    [string]$Path = '',
    [string]$ResultPath = ''
)
$ErrorActionPreference = 'Stop'
Import-Module -Name Pester -MinimumVersion 5.5.0
$config = New-PesterConfiguration
$config.Run.Path = if ($Path) { [string[]]($Path -split ';') } else { @($PSScriptRoot) }
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.Output.RenderMode = 'Plaintext'   # a CI log, not a terminal
$config.Should.ErrorAction = 'Stop'
if ($ResultPath) {
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputPath = $ResultPath
}
$run = Invoke-Pester -Configuration $config
if ($run.TotalCount -eq 0) {
    Write-Output 'Pester: no test was discovered (a test run must test something)'
    exit 1
}
if ($run.Result -ne 'Passed') {
    Write-Output ("Pester: {0} failed, {1} blocks failed, {2} containers failed" -f $run.FailedCount, $run.FailedBlocksCount, $run.FailedContainersCount)
    exit 1
}
exit 0
