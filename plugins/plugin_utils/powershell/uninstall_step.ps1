# asr.process_server script: uninstall_step v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run ONE step of a process server's decommissioning [6.1]: the uninstall command line the controller planned
# (plugins/plugin_utils/domain/uninstall_plan.py: MsiExec.exe /qn /x {code} /L+*V <log>, or an Inno unins000.exe with
# /VERYSILENT /SUPPRESSMSGBOXES /NORESTART), as argv, without a shell. Then it re-reads the Add/Remove Programs
# entries [6.1] so the controller can tell whether the product is really gone, and returns the tail of the step's
# log (C:\ProgramData\ASRSetupLogs [1.5]). One remote call per product: a failed or interrupted step leaves the
# products after it untouched, and the next run plans again from what is still installed. Takes no secret.
# The lab runs this text under pwsh (lab/scripts.py).
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string[]]$Argv,
    [string]$LogPath = '',
    [int]$LogTailLines = 40,
    # Add/Remove Programs DisplayNames to report afterwards (matched by "contains", case-insensitive) [6.1].
    [string[]]$ProductNames = @(),
    # An uninstaller still running after this is stopped with what it started (rc $null, timed_out $true).
    [int]$TimeoutSeconds = 3600
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $true

# asr.process_server include: native_command

# asr.process_server include: shared_text

# asr.process_server include: uninstall_keys

function Get-LogTail {
    param ([string]$Path, [int]$Lines)
    if (-not $Path -or -not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return , @()
    }
    $all = @((Read-SharedText -Path $Path) -split "\r\n|\n|\r" | Where-Object { $_ -ne '' })
    return , @($all | Select-Object -Last $Lines)
}

$started = Get-Date
$run = [ordered]@{ rc = $null; stdout = ''; stderr = ''; timed_out = $false; error = $false }
try {
    $logDir = Join-Path -Path $env:ProgramData -ChildPath 'ASRSetupLogs'
    if (-not (Test-Path -LiteralPath $logDir -PathType Container)) {
        New-Item -Path $logDir -ItemType Directory -Force | Out-Null
    }
    $run = Invoke-NativeCommand -FilePath $Argv[0] -ArgumentList @($Argv | Select-Object -Skip 1) -TimeoutSeconds $TimeoutSeconds
}
catch {
    # the uninstaller could not start (or a cmdlet threw): what is still installed and the log are reported anyway
    $run.stderr = $_.Exception.Message
    $run.error = $true
}
$result = [ordered]@{
    rc = $run.rc
    stdout = $run.stdout
    stderr = $run.stderr
    timed_out = [bool]$run.timed_out
    error = [bool]$run.error
    seconds = [math]::Round(((Get-Date) - $started).TotalSeconds, 1)
    remaining_entries = @((Find-UninstallKey -Names $ProductNames) | ForEach-Object { $_.DisplayName })
    log_path = $LogPath
    log_tail = @()
    log_error = $null
}
try {
    $result.log_tail = Get-LogTail -Path $LogPath -Lines $LogTailLines
}
catch {
    # a log locked by another process, or removed between the test and the read: the rest still counts
    $result.log_error = $_.Exception.Message
}
$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 6 -Compress
