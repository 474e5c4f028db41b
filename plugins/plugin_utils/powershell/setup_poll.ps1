# asr.process_server script: setup_poll v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Read-only poll of a detached Unified Setup run started by setup_start (its run folder), plus what the
# controller needs to verify the result without another call: installed versions [6.4], registration
# (amethyst.conf [6.5]), data port (cxps.conf [6.5]), service states [6.3], pending reboot, and, once setup has
# ended, the tail of ASRUnifiedSetup.log [1.5]. Safe to repeat: the controller retries it after a dropped
# connection (ansible-windows-practice.md §1.2: only the idempotent poll retries). Windows PowerShell 5.1.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string]$RunDir = '',
    [string[]]$ServiceNames = @(),
    [int]$LogTailLines = 40,
    [int]$StdoutTailLines = 20
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: shared_text

# asr.process_server include: run_state

function Get-TailLine {
    param ([string]$Path, [int]$Count)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return , @()
    }
    $lines = @((Read-SharedText -Path $Path) -split "\r\n|\n|\r" | Where-Object { $_ -ne '' })
    if ($lines.Count -le $Count) {
        return , $lines
    }
    return , $lines[($lines.Count - $Count)..($lines.Count - 1)]
}

function Get-RegistryValue {
    param ([string]$Path, [string]$Name)
    $key = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $key) {
        return $null
    }
    $value = $key.GetValue($Name, $null)
    if ($null -eq $value) {
        return $null
    }
    return [string]$value
}

function Read-ConfValue {
    # KEY = "value" lines ([6.5]); the last occurrence wins.
    param ([string]$Path, [string[]]$Keys)
    $result = [ordered]@{}
    foreach ($k in $Keys) {
        $result[$k.ToLowerInvariant()] = $null
    }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $result
    }
    foreach ($line in ((Read-SharedText -Path $Path) -split "\r\n|\n|\r")) {
        $m = [regex]::Match($line, '^\s*([A-Za-z0-9_]+)\s*=\s*"?(.*?)"?\s*$')
        if ($m.Success -and $Keys -icontains $m.Groups[1].Value) {
            $result[$m.Groups[1].Value.ToLowerInvariant()] = $m.Groups[2].Value
        }
    }
    return $result
}

# ---- the run ----------------------------------------------------------------------------------------------
$run = [ordered]@{ state = 'none'; rc = $null; error = $null; pid = $null; started = $null; finished = $null; stdout_tail = @() }
if ($RunDir) {
    $statusPath = Join-Path -Path $RunDir -ChildPath 'status.json'
    $startedPath = Join-Path -Path $RunDir -ChildPath 'started.json'
    if (Test-Path -LiteralPath $startedPath -PathType Leaf) {
        $started = Read-SharedText -Path $startedPath | ConvertFrom-Json
        $run.pid = [int]$started.pid
        $run.started = [string]$started.started
    }
    if (Test-Path -LiteralPath $statusPath -PathType Leaf) {
        $status = Read-SharedText -Path $statusPath | ConvertFrom-Json
        $run.state = 'exited'
        $run.rc = if ($null -ne $status.rc) { [int]$status.rc } else { $null }
        $run.error = $status.error
        $run.finished = $status.finished
    }
    elseif ($null -ne $run.pid) {
        # the runner, started when setup_start recorded it (a process that got its id later means it died: lost)
        $run.state = if (Test-RunnerAlive -Started $started) { 'running' } else { 'lost' }
    }
    else {
        $run.state = 'missing'
    }
    $run.stdout_tail = Get-TailLine -Path (Join-Path -Path $RunDir -ChildPath 'stdout.txt') -Count $StdoutTailLines
}

# ---- the host as setup left it ([6.3], [6.4], [6.5]) -----------------------------------------------------------
$products = 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products'
$svsystems = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems'
$services = [System.Collections.Generic.List[object]]@()
foreach ($name in $ServiceNames) {
    $svc = Get-Service -Name $name -ErrorAction SilentlyContinue
    $services.Add([ordered]@{
            name = $name
            present = ($null -ne $svc)
            state = if ($null -ne $svc) { ([string]$svc.Status).ToLowerInvariant() } else { $null }
        })
}
$pending = $false
$sessionManager = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
$renames = Get-ItemProperty -LiteralPath $sessionManager -Name 'PendingFileRenameOperations' -ErrorAction SilentlyContinue
if ($null -ne $renames -and @($renames.PendingFileRenameOperations).Count -gt 0) {
    $pending = $true
}
if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
    $pending = $true
}
$logPath = Join-Path -Path $env:ProgramData -ChildPath 'ASRSetupLogs\ASRUnifiedSetup.log'
$ended = $run.state -in @('exited', 'lost', 'missing')

$Ansible.Result = ConvertTo-Json -Depth 5 -Compress -InputObject ([ordered]@{
        run = $run
        csps = [ordered]@{
            build_version = Get-RegistryValue -Path "$products\9" -Name 'Build_Version'
            cx_type = Get-RegistryValue -Path "$products\9" -Name 'CX_TYPE'
        }
        dependencies = [ordered]@{ build_version = Get-RegistryValue -Path "$products\10" -Name 'Build_Version' }
        amethyst_conf = Read-ConfValue -Path (Join-Path -Path $svsystems -ChildPath 'etc\amethyst.conf') `
            -Keys @('PS_CS_IP', 'PS_CS_PORT', 'PS_IP')
        cxps_conf = Read-ConfValue -Path (Join-Path -Path $svsystems -ChildPath 'transport\cxps.conf') -Keys @('ssl_port')
        services = $services.ToArray()
        pending_reboot = $pending
        setup_log = [ordered]@{
            path = $logPath
            tail = if ($ended) { Get-TailLine -Path $logPath -Count $LogTailLines } else { @() }
        }
        poll = 'setup_poll v1'
    })
