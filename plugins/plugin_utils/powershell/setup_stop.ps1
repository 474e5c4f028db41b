# asr.process_server script: setup_stop v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Stop a Unified Setup run that outlived setup_timeout, when the task asks for it (stop_setup_on_timeout): the
# detached runner setup_start started and every process it started (Unified Setup, and what setup started), the
# deepest first. Why: Unified Setup that shows a message box -- invisible in session 0, for example when .NET
# Framework 4.6.2 is missing [1.3] -- never exits, and while it runs it holds its single-instance mutex [1.3], so
# every later run is refused. setup_cleanup then removes the run folder and the extracted files as after any run.
#
# Windows reuses process ids, so nothing is stopped on an id alone:
# - the runner is the process started.json names only when its id, its name (powershell) and its start time
#   (process_started, as the runner liveness check Test-RunnerAlive compares it) all match; without a recorded or a
#   readable start time it is not stopped (`unverified`);
# - a process belongs to the tree only when its parent id is a process of the tree AND it was created after that
#   process (Win32_Process CreationDate): a process whose parent ended, and whose parent id now names a later
#   process, is not part of it;
# - right before each one is stopped its start time is read again, and a process that now has another is left alone.
# The result lists what was stopped (`stopped`) and what was left (`not_stopped`, with why). Windows PowerShell 5.1.
[CmdletBinding(SupportsShouldProcess = $true)]
param (
    [Parameter(Mandatory = $true)][string]$RunDir
)

$ErrorActionPreference = 'Stop'

# asr.process_server include: run_state

function Test-SameInstant {
    # Two start times of one process (Get-Process StartTime, Win32_Process CreationDate, the recorded one) to the second.
    param ([datetime]$Left, [datetime]$Right)
    return ([math]::Abs(($Left.ToUniversalTime() - $Right.ToUniversalTime()).TotalSeconds) -lt 1)
}

function Get-ProcessTreeMember {
    # The runner's Win32_Process entry and every process it started, and so on, parents before their children
    # (none when Win32_Process does not list the runner with its start time).
    param ([int]$RootId, [datetime]$RootStarted)
    $all = @(Get-CimInstance -ClassName Win32_Process)
    $root = $null
    foreach ($process in $all) {
        if ([int]$process.ProcessId -eq $RootId -and $null -ne $process.CreationDate -and (Test-SameInstant -Left $process.CreationDate -Right $RootStarted)) {
            $root = $process
        }
    }
    if ($null -eq $root) {
        return
    }
    $tree = [System.Collections.Generic.List[object]]@()
    $tree.Add($root)
    $seen = @{ ([int]$root.ProcessId) = $true }
    for ($i = 0; $i -lt $tree.Count; $i++) {
        $parent = $tree[$i]
        foreach ($process in $all) {
            $id = [int]$process.ProcessId
            if ($seen.ContainsKey($id) -or [int]$process.ParentProcessId -ne [int]$parent.ProcessId -or $null -eq $process.CreationDate) {
                continue
            }
            if ($process.CreationDate.ToUniversalTime() -ge $parent.CreationDate.ToUniversalTime()) {
                $seen[$id] = $true
                $tree.Add($process)
            }
        }
    }
    return $tree.ToArray()
}

function Stop-TreeMember {
    # Stop one process of the tree if it is still the one listed (its start time read again: its id may be reused).
    param ($Member)
    $process = Get-Process -Id ([int]$Member.ProcessId) -ErrorAction SilentlyContinue
    if ($null -eq $process) {
        return 'it had ended'
    }
    if ($null -eq $process.StartTime -or -not (Test-SameInstant -Left $process.StartTime -Right $Member.CreationDate)) {
        return 'its process id now names another process'
    }
    try {
        Stop-Process -Id ([int]$Member.ProcessId) -Force
    }
    catch {
        return $_.Exception.Message
    }
    return $null
}

$result = [ordered]@{
    run_dir = $RunDir
    state = 'not_started'
    runner_pid = $null
    stopped = @()
    not_stopped = @()
}
$startedPath = Join-Path -Path $RunDir -ChildPath 'started.json'
$statusPath = Join-Path -Path $RunDir -ChildPath 'status.json'
if (Test-Path -LiteralPath $startedPath -PathType Leaf) {
    $started = Get-Content -LiteralPath $startedPath -Raw | ConvertFrom-Json
    $result.runner_pid = [int]$started.pid
    $runner = Get-Process -Id ([int]$started.pid) -ErrorAction SilentlyContinue
    if ((Test-Path -LiteralPath $statusPath -PathType Leaf) -or -not (Test-RunnerAlive -Started $started)) {
        $result.state = 'ended'   # the runner wrote its status, or no process with its id and start time runs
    }
    elseif (-not $started.process_started -or $null -eq $runner -or $null -eq $runner.StartTime) {
        $result.state = 'unverified'   # alive by name only: that is not enough to stop anything
    }
    else {
        $invariant = [System.Globalization.CultureInfo]::InvariantCulture
        $styles = [System.Globalization.DateTimeStyles]::AssumeUniversal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal
        $recorded = [datetime]::ParseExact([string]$started.process_started, 'yyyy-MM-ddTHH:mm:ss.fffZ', $invariant, $styles)
        $tree = @(Get-ProcessTreeMember -RootId ([int]$started.pid) -RootStarted $recorded)
        if ($tree.Count -eq 0) {
            $result.state = 'unverified'   # Win32_Process does not list the runner with its start time
        }
        else {
            $names = ($tree | ForEach-Object { '{0} ({1})' -f $_.Name, $_.ProcessId }) -join ', '
            $result.state = 'would_stop'
            if ($PSCmdlet.ShouldProcess("Unified Setup run $RunDir`: $names", 'Stop the process tree')) {
                $stopped = [System.Collections.Generic.List[object]]@()
                $left = [System.Collections.Generic.List[object]]@()
                [array]::Reverse($tree)   # children before their parents
                foreach ($member in $tree) {
                    $entry = [ordered]@{ pid = [int]$member.ProcessId; name = [string]$member.Name; parent_pid = [int]$member.ParentProcessId }
                    $why = Stop-TreeMember -Member $member
                    if ($null -eq $why) {
                        $stopped.Add($entry)
                    }
                    else {
                        $entry.why = $why
                        $left.Add($entry)
                    }
                }
                $result.state = 'stopped'
                $result.stopped = $stopped.ToArray()
                $result.not_stopped = $left.ToArray()
            }
        }
    }
}
$Ansible.Changed = (@($result.stopped).Count -gt 0)
$Ansible.Result = ConvertTo-Json -Compress -Depth 4 -InputObject $result
