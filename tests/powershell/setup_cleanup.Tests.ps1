# setup_cleanup: the secret files always, the run and extracted folders once setup has ended, then (when sent) the
# probe in the same call. The controller (plugins/plugin_utils/operations/setup.py cleanup) reads removed, problems,
# still_running, pid, post_state and post_state_error.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name setup_cleanup
}

Describe 'setup_cleanup' {
    BeforeEach {
        $script:RunDir = Join-Path $TestDrive "staging/run-$([guid]::NewGuid())"
        $script:ExtractDir = Join-Path $TestDrive "staging/extract-$([guid]::NewGuid())"
        $null = New-Item -ItemType Directory -Force -Path $RunDir, $ExtractDir
        $script:Secret = Join-Path $RunDir 'passphrase.txt'
        Set-Content -LiteralPath $Secret -Value 'p4ss'
        Set-Content -LiteralPath (Join-Path $ExtractDir 'UnifiedSetup.exe') -Value 'MZ'
        Set-Content -LiteralPath (Join-Path $RunDir 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith { }
        $script:Cleanup = @{ RunDir = $RunDir; ExtractDir = $ExtractDir; SecretFiles = @($Secret) }
    }

    It 'removes the secret files, the run folder and the extracted setup once setup has ended' {
        Set-Content -LiteralPath (Join-Path $RunDir 'status.json') -Value '{"rc":0}'
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters $Cleanup
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        $run.Result.removed | Should -Be @($Secret, $RunDir, $ExtractDir)
        @($run.Result.problems).Count | Should -Be 0
        $run.Result.still_running | Should -BeFalse
        Test-Path -LiteralPath $RunDir | Should -BeFalse
        Test-Path -LiteralPath $ExtractDir | Should -BeFalse
    }

    It 'removes the secret files but keeps what setup runs from while its runner still runs' {
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith {
            [pscustomobject]@{ ProcessName = 'powershell'; StartTime = [datetime]::Parse('2024-01-02T03:04:05.678Z').ToLocalTime() }
        }
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters $Cleanup
        $run.Result.removed | Should -Be @($Secret)
        $run.Result.still_running | Should -BeTrue
        $run.Result.pid | Should -Be 4004
        Test-Path -LiteralPath $Secret | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $ExtractDir 'UnifiedSetup.exe') | Should -BeTrue
    }

    It 'removes everything when the runner''s process id now belongs to a later process (it died)' {
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith {
            [pscustomobject]@{ ProcessName = 'powershell'; StartTime = [datetime]::Parse('2024-01-03T00:00:00Z').ToLocalTime() }
        }
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters $Cleanup
        $run.Result.still_running | Should -BeFalse
        Test-Path -LiteralPath $ExtractDir | Should -BeFalse
    }

    It 'reports what it could not remove and goes on' {
        Mock Remove-Item -ParameterFilter { $LiteralPath -eq $ExtractDir } -MockWith { throw 'The process cannot access the file' }
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters $Cleanup
        $run.Error | Should -BeNullOrEmpty
        $run.Result.problems | Should -Be @("${ExtractDir}: The process cannot access the file")
        $run.Result.removed | Should -Be @($Secret, $RunDir)
    }

    It 'changes nothing when there is nothing left (idempotent)' {
        Remove-Item -LiteralPath $RunDir, $ExtractDir -Recurse -Force
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters $Cleanup
        $run.Changed | Should -BeFalse
        @($run.Result.removed).Count | Should -Be 0
    }

    It 'runs the probe it is sent afterwards, with its parameters, and returns its JSON as post_state' {
        $probe = 'param ([string[]]$ServiceNames, [int]$LogTailLines) $Ansible.Result = ConvertTo-Json -Compress -InputObject ([ordered]@{ services = $ServiceNames; lines = $LogTailLines; secret_gone = -not (Test-Path -LiteralPath ''' + $Secret + ''') })'
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters ($Cleanup + @{ ProbeScript = $probe; ProbeParameters = @{ ServiceNames = @('obengine', 'cxprocessserver'); LogTailLines = 7 } })
        $run.Result.post_state_error | Should -BeNullOrEmpty
        $run.Result.post_state.services | Should -Be @('obengine', 'cxprocessserver')
        $run.Result.post_state.lines | Should -Be 7
        $run.Result.post_state.secret_gone | Should -BeTrue -Because 'the probe runs after the files are gone'
    }

    It 'reports a probe that fails as post_state_error, and still cleans up' {
        $run = Invoke-AsrScript -Name setup_cleanup -Parameters ($Cleanup + @{ ProbeScript = 'throw "no registry"' })
        $run.Result.post_state_error | Should -Be 'no registry'
        $run.Result.post_state | Should -BeNullOrEmpty
        Test-Path -LiteralPath $Secret | Should -BeFalse
    }
}
