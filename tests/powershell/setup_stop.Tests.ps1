# setup_stop: on a hard timeout with stop_setup_on_timeout, the runner's whole process tree -- never a process that only
# has a reused process id. The controller (plugins/plugin_utils/operations/setup.py stop_runner) reads state,
# runner_pid, stopped and not_stopped.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name setup_stop
    $script:RunnerStart = [datetime]::Parse('2024-01-02T03:04:05.678Z').ToUniversalTime()

    function New-Win32Process {
        param ([int]$Id, [int]$Parent, [string]$Name, [datetime]$Created)
        [pscustomobject]@{ ProcessId = [uint32]$Id; ParentProcessId = [uint32]$Parent; Name = $Name; CreationDate = $Created.ToLocalTime() }
    }
}

Describe 'setup_stop' {
    BeforeEach {
        $script:RunDir = Join-Path $TestDrive "run-$([guid]::NewGuid())"
        $null = New-Item -ItemType Directory -Force -Path $RunDir
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        # the runner (4004, started by the WMI provider host), Unified Setup (4008) and what setup started (4012)
        $script:Processes = @(
            New-Win32Process -Id 600 -Parent 4 -Name 'WmiPrvSE.exe' -Created $RunnerStart.AddHours(-1)
            New-Win32Process -Id 4004 -Parent 600 -Name 'powershell.exe' -Created $RunnerStart
            New-Win32Process -Id 4008 -Parent 4004 -Name 'UnifiedSetup.exe' -Created $RunnerStart.AddSeconds(2)
            New-Win32Process -Id 4012 -Parent 4008 -Name 'msiexec.exe' -Created $RunnerStart.AddSeconds(30)
            New-Win32Process -Id 5000 -Parent 100 -Name 'notepad.exe' -Created $RunnerStart.AddSeconds(5)
        )
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Process' } -MockWith { $script:Processes }
        Mock Get-Process -MockWith {
            $wanted = [int]@($Id)[0]
            $entry = $script:Processes | Where-Object { [int]$_.ProcessId -eq $wanted } | Select-Object -First 1
            if ($entry) {
                [pscustomobject]@{ Id = [int]$entry.ProcessId; ProcessName = [IO.Path]::GetFileNameWithoutExtension($entry.Name); StartTime = $entry.CreationDate }
            }
        }
        $script:Killed = [System.Collections.Generic.List[int]]@()
        Mock Stop-Process -MockWith { $script:Killed.Add([int]@($Id)[0]) }
    }

    It 'stops the runner and every process it started, children first, and says which' {
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        $Killed | Should -Be @(4012, 4008, 4004)
        $run.Result.state | Should -Be 'stopped'
        $run.Result.runner_pid | Should -Be 4004
        $run.Result.stopped.pid | Should -Be @(4012, 4008, 4004)
        $run.Result.stopped.name | Should -Be @('msiexec.exe', 'UnifiedSetup.exe', 'powershell.exe')
        @($run.Result.not_stopped).Count | Should -Be 0
    }

    It 'stops nothing when the runner''s process id now belongs to a later process (a reused id)' {
        $script:Processes[1] = New-Win32Process -Id 4004 -Parent 600 -Name 'powershell.exe' -Created $RunnerStart.AddDays(1)
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }
        $run.Result.state | Should -Be 'ended'
        $run.Changed | Should -BeFalse
        $Killed.Count | Should -Be 0
    }

    It 'stops nothing when the runner''s start time was not recorded or cannot be read (alive by name only)' {
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":null}'
        (Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }).Result.state | Should -Be 'unverified'
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        Mock Get-Process -MockWith { [pscustomobject]@{ Id = 4004; ProcessName = 'powershell'; StartTime = $null } }
        (Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }).Result.state | Should -Be 'unverified'
        $Killed.Count | Should -Be 0
    }

    It 'leaves out a process whose parent id is a tree member''s but that is older than it (its parent died, the id was reused)' {
        $script:Processes += New-Win32Process -Id 4100 -Parent 4008 -Name 'orphan.exe' -Created $RunnerStart.AddMinutes(-5)
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }
        $Killed | Should -Not -Contain 4100
        $run.Result.stopped.pid | Should -Be @(4012, 4008, 4004)
    }

    It 'leaves a member whose id names another process by the time it is stopped, and says why' {
        Mock Get-Process -ParameterFilter { $Id -eq 4012 } -MockWith { [pscustomobject]@{ Id = 4012; ProcessName = 'other'; StartTime = $RunnerStart.AddHours(2) } }
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }
        $Killed | Should -Be @(4008, 4004)
        $run.Result.not_stopped[0].pid | Should -Be 4012
        $run.Result.not_stopped[0].why | Should -Be 'its process id now names another process'
    }

    It 'stops nothing when the runner has written its status (the run ended)' {
        Set-Content -LiteralPath (Join-Path $RunDir 'status.json') -Value '{"rc":0}'
        (Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }).Result.state | Should -Be 'ended'
        $Killed.Count | Should -Be 0
    }

    It 'stops nothing when no run was started in the folder' {
        Remove-Item -LiteralPath (Join-Path $RunDir 'started.json')
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir }
        $run.Result.state | Should -Be 'not_started'
        $run.Changed | Should -BeFalse
    }

    It 'changes nothing in check mode and says what it would stop' {
        $run = Invoke-AsrScript -Name setup_stop -Parameters @{ RunDir = $RunDir } -CheckMode
        $run.Error | Should -BeNullOrEmpty
        $run.Result.state | Should -Be 'would_stop'
        $run.Changed | Should -BeFalse
        $Killed.Count | Should -Be 0
    }
}
