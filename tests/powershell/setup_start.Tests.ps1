# setup_start: the package into place and checked, extracted, the protected run folder and its secret files, and the
# detached runner started through Win32_Process.Create under the host-wide start lock. The controller
# (plugins/plugin_utils/operations/setup.py) reads busy{run_dir, pid, started, by}, or run_dir, pid, started, setup,
# setup_version, secret_files and package{path, exists, size_bytes, file_version, product_version, sha256}.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name setup_start
    function Test-StartLockFree {
        # whether another thread can take the start lock now (a lock this thread still held would refuse it)
        $job = Start-ThreadJob -ScriptBlock {
            $lock = New-Object -TypeName System.Threading.Mutex -ArgumentList @($false, 'Global\asr.process_server.setup_start')
            try {
                $got = $lock.WaitOne(0)
            }
            catch [System.Threading.AbandonedMutexException] {
                $got = $true
            }
            if ($got) { $lock.ReleaseMutex() }
            $lock.Dispose()
            $got
        }
        return [bool](Receive-Job -Job $job -Wait -AutoRemoveJob)
    }
    $script:Passphrase = ConvertTo-SecureString -String 'cs-p4ssphrase' -AsPlainText -Force
}

Describe 'setup_start' {
    BeforeEach {
        $env:SystemRoot = Join-Path $TestDrive 'Windows'
        $script:Staging = Join-Path $TestDrive "staging-$([guid]::NewGuid())"
        $script:Source = Join-Path $env:SystemRoot "Temp/upload-$([guid]::NewGuid()).exe"
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $Source)
        Set-Content -LiteralPath $Source -Value 'MZ package' -NoNewline
        $script:Sha = (Get-FileHash -LiteralPath $Source -Algorithm SHA256).Hash.ToLowerInvariant()
        $script:Package = Join-Path $Staging "$Sha/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
        $script:ExtractDir = Join-Path $Staging 'extract'
        $script:RunDir = Join-Path $Staging 'run-1'
        $script:Start = @{
            PackagePath = $Package; SourcePath = $Source; ExpectedSha256 = $Sha.ToUpperInvariant(); ExpectedVersion = '9.55.7123.1'
            ExtractDir = $ExtractDir; RunDir = $RunDir; SetupArguments = '/ServerMode PS /InstallLocation "E:\ASR\\"'
            InstallLocation = (Join-Path $TestDrive 'E/ASR'); PassphraseFile = (Join-Path $RunDir 'passphrase.txt'); Passphrase = $Passphrase
        }
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 9, 55, 7123, 1 -Text '9.55.7123.1' }
        Mock Start-Process -ParameterFilter { $FilePath -like '*MicrosoftAzureSiteRecoveryUnifiedSetup.exe' } -MockWith {
            $folder = ([string]$ArgumentList[1]).Substring(3)
            Set-Content -LiteralPath (Join-Path $folder 'UnifiedSetup.exe') -Value 'MZ setup'
            [pscustomobject]@{ ExitCode = 0 }
        }
        Mock New-AdminOnlyAcl { 'SYSTEM and Administrators only' }
        Mock Set-Acl { }
        Mock Test-NamedMutex { $false }
        Use-FakeRunnerStart -ProcessId 4004
    }

    It 'moves the checked package into place, extracts it, writes the secret file and starts the runner' {
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        Test-Path -LiteralPath $Source | Should -BeFalse
        $run.Result.run_dir | Should -Be $RunDir
        $run.Result.pid | Should -Be 4004
        $run.Result.setup | Should -Be (Join-Path $ExtractDir 'UnifiedSetup.exe')
        $run.Result.setup_version | Should -Be '9.55.7123.1'
        $run.Result.secret_files | Should -Be @($Start.PassphraseFile)
        $run.Result.package.path | Should -Be $Package
        $run.Result.package.exists | Should -BeTrue
        $run.Result.package.size_bytes | Should -Be 10
        $run.Result.package.file_version | Should -Be '9.55.7123.1'
        $run.Result.package.sha256 | Should -Be $Sha
        [System.IO.File]::ReadAllText($Start.PassphraseFile) | Should -BeExactly 'cs-p4ssphrase'
        $run.Raw | Should -Not -Match 'cs-p4ssphrase'
        Should -Invoke Set-Acl -Times 1 -Exactly -ParameterFilter { $LiteralPath -eq $RunDir -and $AclObject -eq 'SYSTEM and Administrators only' }
        Test-Path -LiteralPath $Start.InstallLocation -PathType Container | Should -BeTrue
        $spec = Get-Content -LiteralPath (Join-Path $RunDir 'spec.json') -Raw | ConvertFrom-Json
        $spec.setup | Should -Be (Join-Path $ExtractDir 'UnifiedSetup.exe')
        $spec.arguments | Should -BeExactly $Start.SetupArguments
        $spec.working_directory | Should -Be $ExtractDir
        $spec.secret_files | Should -Be @($Start.PassphraseFile)
        $started = Get-Content -LiteralPath (Join-Path $RunDir 'started.json') -Raw | ConvertFrom-Json
        $started.pid | Should -Be 4004
        $started.process_started | Should -BeExactly '2024-01-02T03:04:05.678Z'
        $started.started | Should -Be $run.Result.started
    }

    It 'records no start time when the runner''s process shows none' {
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith { [pscustomobject]@{ ProcessName = 'powershell'; StartTime = $null } }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error | Should -BeNullOrEmpty
        (Get-Content -LiteralPath (Join-Path $RunDir 'started.json') -Raw | ConvertFrom-Json).process_started | Should -BeNullOrEmpty
    }

    It 'starts the runner as -EncodedCommand (an AllSigned policy cannot block it), never as a -File script' {
        $null = Invoke-AsrScript -Name setup_start -Parameters $Start
        $line = [string]$global:AsrTestCreated.CommandLine
        $global:AsrTestCreated.CurrentDirectory | Should -Be $ExtractDir
        $line | Should -Match '^"[^"]*System32[\\/]WindowsPowerShell[\\/]v1\.0[\\/]powershell\.exe" -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$'
        $line | Should -Not -Match '-File|-ExecutionPolicy'
        $command = [System.Text.Encoding]::Unicode.GetString([System.Convert]::FromBase64String(($line -split ' ')[-1]))
        $command | Should -Match ([regex]::Escape("} -RunDir '$RunDir'"))
        $command | Should -Match '# asr.process_server detached Unified Setup runner'
        Test-Path -LiteralPath (Join-Path $RunDir 'runner.ps1') | Should -BeFalse
    }

    It 'writes its times with ":" whatever the host''s culture' {
        $culture = [System.Threading.Thread]::CurrentThread.CurrentCulture
        try {
            [System.Threading.Thread]::CurrentThread.CurrentCulture = 'fi-FI'
            $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        }
        finally {
            [System.Threading.Thread]::CurrentThread.CurrentCulture = $culture
        }
        $run.Result.started | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
    }

    It 'refuses, changing nothing, while another run of this collection is alive: busy' {
        $other = Join-Path $Staging 'run-0'
        $null = New-Item -ItemType Directory -Force -Path $other
        Set-Content -LiteralPath (Join-Path $other 'started.json') -Value '{"pid":4004,"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        $run.Result.busy.run_dir | Should -Be $other
        $run.Result.busy.pid | Should -Be 4004
        $run.Result.busy.started | Should -Be '2024-01-02T03:04:05Z'
        $run.Result.busy.by | Should -Be 'asr.process_server'
        Test-Path -LiteralPath $Source | Should -BeTrue -Because 'nothing was moved'
        Should -Invoke Invoke-CimMethod -Times 0 -Exactly
        Test-StartLockFree | Should -BeTrue
    }

    It 'does not take a dead run whose process id another process got later for a live one' {
        $other = Join-Path $Staging 'run-0'
        $null = New-Item -ItemType Directory -Force -Path $other
        Set-Content -LiteralPath (Join-Path $other 'started.json') -Value '{"pid":4004,"started":"2023-12-01T00:00:00Z","process_started":"2023-12-01T00:00:00.500Z"}'
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Result.busy | Should -BeNullOrEmpty
        $run.Result.pid | Should -Be 4004
    }

    It 'refuses while Unified Setup itself runs (its mutex): busy' {
        Mock Test-NamedMutex -ParameterFilter { $Name -eq 'Global\Microsoft Azure Site Recovery Setup' } -MockWith { $true }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Result.busy.by | Should -Be 'mutex Microsoft Azure Site Recovery Setup'
        Should -Invoke Start-Process -Times 0 -Exactly
    }

    It 'deletes a transferred package whose SHA-256 is not the expected one, and runs nothing' {
        $bad = Join-Parameter $Start @{ ExpectedSha256 = ('0' * 64) }
        $run = Invoke-AsrScript -Name setup_start -Parameters $bad
        $run.Error.Exception.Message | Should -Match 'has SHA-256 .* expected 0{64} \(transfer corrupted\?\); it was deleted and not run'
        Test-Path -LiteralPath $Source | Should -BeFalse
        Test-Path -LiteralPath $Package | Should -BeFalse
        Test-StartLockFree | Should -BeTrue -Because 'a failed start releases the start lock'
    }

    It 'refuses a package that is not there' {
        $run = Invoke-AsrScript -Name setup_start -Parameters (Join-Parameter $Start @{ SourcePath = '' })
        $run.Error.Exception.Message | Should -BeExactly "The Unified Setup package $Package does not exist on the host."
        Test-StartLockFree | Should -BeTrue -Because 'a failed start releases the start lock (else the next one waits 2 minutes and fails)'
    }

    It 'refuses a package whose fixed version parts are not ExpectedVersion, whatever its FileVersion text says' {
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 9, 56, 7300, 2 -Text '9.55.7123.1' }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error.Exception.Message | Should -Match 'is version 9\.56\.7300\.2, not 9\.55\.7123\.1 as the task says; it was not run'
        Should -Invoke Start-Process -Times 0 -Exactly
    }

    It 'takes missing parts of ExpectedVersion as 0, as the controller does (9.55 is 9.55.0.0)' {
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 9, 55, 0, 0 -Text '9.55.0.0' }
        $run = Invoke-AsrScript -Name setup_start -Parameters (Join-Parameter $Start @{ ExpectedVersion = '9.55' })
        $run.Error | Should -BeNullOrEmpty
        $run.Result.package.file_version | Should -Be '9.55.0.0'
    }

    It 'does not refuse a package without a version resource' {
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 0, 0, 0, 0 -Text '' }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error | Should -BeNullOrEmpty
        $run.Result.package.file_version | Should -BeNullOrEmpty
    }

    It 'fails when extraction fails, before any secret is written' {
        Mock Start-Process -ParameterFilter { $FilePath -like '*MicrosoftAzureSiteRecoveryUnifiedSetup.exe' } -MockWith { [pscustomobject]@{ ExitCode = 5 } }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error.Exception.Message | Should -Match 'failed with exit code 5'
        Test-Path -LiteralPath $Start.PassphraseFile | Should -BeFalse
    }

    It 'says why the runner could not start, and removes the secret files' {
        Mock Invoke-CimMethod -ParameterFilter { $ClassName -eq 'Win32_Process' } -MockWith { [pscustomobject]@{ ReturnValue = 2; ProcessId = $null } }
        $run = Invoke-AsrScript -Name setup_start -Parameters $Start
        $run.Error.Exception.Message | Should -Match 'return value 2, access denied: .*attack surface reduction rule'
        Test-Path -LiteralPath $Start.PassphraseFile | Should -BeFalse
        Test-StartLockFree | Should -BeTrue
    }
}
