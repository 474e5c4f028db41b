# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# scripts/audit_script_fixes.py's runner: for each plan entry (a copy of the scripts with one fix's old text put back,
# a Pester test file and a part of an It's name), run that one test in this pwsh and append a JSON line to -Out:
# matched, passed, failed, blocks_failed and the first failure's message. The old text must make the test fail.
param (
    [Parameter(Mandatory = $true)][string]$Plan,
    [Parameter(Mandatory = $true)][string]$Out
)
$ErrorActionPreference = 'Stop'
Import-Module -Name Pester -MinimumVersion 5.5.0
foreach ($entry in (Get-Content -LiteralPath $Plan -Raw | ConvertFrom-Json)) {
    $config = New-PesterConfiguration
    $config.Run.Path = @(Join-Path -Path $entry.root -ChildPath "tests/powershell/$($entry.file)")
    $config.Run.PassThru = $true
    $config.Filter.FullName = @("*$($entry.name)*")
    $config.Output.Verbosity = 'None'
    $run = Invoke-Pester -Configuration $config
    $first = $run.Failed | Select-Object -First 1
    $line = [ordered]@{
        id = $entry.id
        matched = $run.PassedCount + $run.FailedCount   # 0: the name matches no test, which audits nothing
        passed = $run.PassedCount
        failed = $run.FailedCount
        blocks_failed = $run.FailedBlocksCount
        first_failure = if ($first) { $first.ExpandedPath + ' :: ' + ([string]$first.ErrorRecord[0]).Split("`n")[0] } else { $null }
    }
    Add-Content -LiteralPath $Out -Value (ConvertTo-Json -Compress -InputObject $line)
}
