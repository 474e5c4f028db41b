# setup_poll: the detached run's state and what the host looks like after it. The controller
# (plugins/plugin_utils/operations/setup.py, setup_outcome.py) reads run{state, rc, error, pid, started, finished,
# stdout_tail}, csps, dependencies, amethyst_conf, cxps_conf, services, pending_reboot, setup_log{path, tail}, poll.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name setup_poll
}

Describe 'setup_poll' {
    BeforeEach {
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        $env:SystemDrive = Join-Path $TestDrive 'SystemDrive'   # setup's log lives under ProgramData, wherever that is
        $script:RunDir = Join-Path $TestDrive "staging/run-$([guid]::NewGuid())"
        $null = New-Item -ItemType Directory -Force -Path $RunDir
        Use-FakeRegistry -Keys @{
            $CspsKey = @{ Build_Version = '9.55.7123.1'; CX_TYPE = 2 }
            "$InstalledProductsKey\10" = @{ Build_Version = '9.55.7123.1' }
            'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' = @{ PendingFileRenameOperations = @('\??\C:\x', '') }
        }
        Mock Get-Service { [pscustomobject]@{ Name = "$Name"; Status = 'Running' } }
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith {
            [pscustomobject]@{ ProcessName = 'powershell'; StartTime = [datetime]::Parse('2024-01-02T03:04:05.678Z').ToLocalTime() }
        }
        $svsystems = Join-Path $env:ProgramData 'ASR/home/svsystems'
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $svsystems 'etc'), (Join-Path $svsystems 'transport')
        Set-Content -LiteralPath (Join-Path $svsystems 'etc/amethyst.conf') -Value @('PS_CS_IP = "10.0.0.11"', 'PS_CS_PORT = "443"', 'PS_IP = "10.0.0.101"')
        Set-Content -LiteralPath (Join-Path $svsystems 'transport/cxps.conf') -Value 'ssl_port = 9443'
        $logs = Join-Path $env:ProgramData 'ASRSetupLogs'
        $null = New-Item -ItemType Directory -Force -Path $logs
        Set-Content -LiteralPath (Join-Path $logs 'ASRUnifiedSetup.log') -Value @('start', 'Unified Setup has succeeded')
        $script:Poll = @{ RunDir = $RunDir; ServiceNames = @('obengine', 'ProcessServer'); LogTailLines = 5 }
    }

    It 'reports a run that ended, with its exit code, output and the tail of setup''s log' {
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        Set-Content -LiteralPath (Join-Path $RunDir 'status.json') -Value '{"state":"exited","rc":3010,"error":null,"finished":"2024-01-02T04:00:00Z"}'
        Set-Content -LiteralPath (Join-Path $RunDir 'stdout.txt') -Value @('one', '', 'two')
        $run = Invoke-AsrScript -Name setup_poll -Parameters $Poll
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        $run.Result.run.state | Should -Be 'exited'
        $run.Result.run.rc | Should -Be 3010
        $run.Result.run.pid | Should -Be 4004
        $run.Result.run.started | Should -BeExactly '2024-01-02T03:04:05Z'
        $run.Result.run.finished | Should -BeExactly '2024-01-02T04:00:00Z'
        $run.Result.run.stdout_tail | Should -Be @('one', 'two')
        $run.Result.csps.build_version | Should -Be '9.55.7123.1'
        $run.Result.csps.cx_type | Should -Be '2'
        $run.Result.dependencies.build_version | Should -Be '9.55.7123.1'
        $run.Result.amethyst_conf.ps_cs_ip | Should -Be '10.0.0.11'
        $run.Result.amethyst_conf.ps_cs_port | Should -Be '443'
        $run.Result.amethyst_conf.ps_ip | Should -Be '10.0.0.101'
        $run.Result.cxps_conf.ssl_port | Should -Be '9443'
        $run.Result.services.name | Should -Be @('obengine', 'ProcessServer')
        $run.Result.services[0].state | Should -Be 'running'
        $run.Result.pending_reboot | Should -BeTrue
        $run.Result.setup_log.path | Should -Be (Join-Path $env:ProgramData 'ASRSetupLogs\ASRUnifiedSetup.log')
        $run.Result.setup_log.tail | Should -Be @('start', 'Unified Setup has succeeded')
        $run.Result.poll | Should -Be 'setup_poll v1'
    }

    It 'reports a run whose runner still runs, without the log tail' {
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        $run = Invoke-AsrScript -Name setup_poll -Parameters $Poll
        $run.Result.run.state | Should -Be 'running'
        $run.Result.setup_log.tail | Should -BeNullOrEmpty
    }

    It 'reports lost when another powershell got the runner''s process id later (Windows reuses ids)' {
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-01T00:00:00Z","process_started":"2024-01-01T00:00:00.125Z"}'
        $run = Invoke-AsrScript -Name setup_poll -Parameters $Poll
        $run.Result.run.state | Should -Be 'lost'
        $run.Result.setup_log.tail | Should -Not -BeNullOrEmpty -Because 'a run that ended shows the log'
    }

    It 'reports lost when no process has the runner''s id' {
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":5555,"started":"2024-01-01T00:00:00Z","process_started":"2024-01-01T00:00:00.125Z"}'
        Mock Get-Process -ParameterFilter { $Id -eq 5555 } -MockWith { }
        (Invoke-AsrScript -Name setup_poll -Parameters $Poll).Result.run.state | Should -Be 'lost'
    }

    It 'reports missing when the run folder has no started.json, and none without a run folder' {
        (Invoke-AsrScript -Name setup_poll -Parameters $Poll).Result.run.state | Should -Be 'missing'
        (Invoke-AsrScript -Name setup_poll -Parameters @{ ServiceNames = @('obengine') }).Result.run.state | Should -Be 'none'
    }

    It 'reports a service that does not exist as absent' {
        Mock Get-Service -ParameterFilter { $Name -eq 'ProcessServer' } -MockWith { }
        $run = Invoke-AsrScript -Name setup_poll -Parameters $Poll
        $run.Result.services[1].present | Should -BeFalse
        $run.Result.services[1].state | Should -BeNullOrEmpty
    }

    It 'changes nothing in check mode and reports the same' {
        Set-Content -LiteralPath (Join-Path $RunDir 'status.json') -Value '{"state":"exited","rc":0,"error":null,"finished":"x"}'
        $before = @(Get-ChildItem -LiteralPath $TestDrive -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" })
        $run = Invoke-AsrScript -Name setup_poll -Parameters $Poll -CheckMode
        $run.Result.run.state | Should -Be 'exited'
        @(Get-ChildItem -LiteralPath $TestDrive -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" }) | Should -Be $before
    }
}
