# package_stage: the Unified Setup package at its staging path, checked there, and the host's own transfer started
# detached. The controller (plugin_utils/operations/stage.py) reads state (staged, running, missing, failed, would
# transfer), package{path, exists, size_bytes, sha256, file_version, product_version}, transfer (the runner's status),
# upload_path, note and changed. The runner itself runs for real in tests/lab/test_package_stage_pwsh.py.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name package_stage
    $script:Secret = 'sv=2024&sig=Pester-Token-42'
    $script:Url = ConvertTo-SecureString -String "https://files.corp.example/asr/setup.exe?$Secret" -AsPlainText -Force
    function Set-TransferState {
        # What a transfer runner leaves in $Transfer: its process (started.json) and its status (status.json).
        param ([int]$RunnerId, [string]$Status)
        $null = New-Item -ItemType Directory -Force -Path $Transfer
        $started = '{"pid":' + $RunnerId + ',"started":"2024-01-02T03:04:05Z","process_started":"2024-01-02T03:04:05.678Z"}'
        Set-Content -LiteralPath (Join-Path $Transfer 'started.json') -Value $started
        Set-Content -LiteralPath (Join-Path $Transfer 'status.json') -Value $Status
    }
}

Describe 'package_stage' {
    BeforeEach {
        $env:SystemRoot = Join-Path $TestDrive 'Windows'
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $env:SystemRoot 'Temp')
        $script:Content = 'MZ the package ' + [guid]::NewGuid()
        $script:Sha = [System.BitConverter]::ToString([System.Security.Cryptography.SHA256]::Create().ComputeHash(
                [System.Text.Encoding]::UTF8.GetBytes($Content))).Replace('-', '').ToLowerInvariant()
        $script:Staging = Join-Path $TestDrive "staging-$([guid]::NewGuid())"
        $script:Package = Join-Path $Staging "$($Sha.Substring(0, 16))/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
        $script:Transfer = Join-Path $Staging "$($Sha.Substring(0, 16))/transfer"
        $script:Stage = @{
            PackagePath = $Package; ExpectedSha256 = $Sha.ToUpperInvariant(); SourceKind = 'url'; Url = $Url
            SourceShown = 'https://files.corp.example/asr/setup.exe'; WaitSeconds = 0; MaxAttempts = 5
        }
        # a package the controller transferred (put_file) into the Windows temporary folder
        $script:Put = @{ PackagePath = $Package; ExpectedSha256 = $Sha; SourceKind = 'upload'; SourcePath = 'asr-upload.exe' }
        Mock Get-FileVersionInfo { [pscustomobject]@{ FileVersion = '9.55.7123.1'; ProductVersion = '9.55.7123.1' } }
        Mock New-AdminOnlyAcl { 'SYSTEM and Administrators only' }
        Mock Set-Acl { }
        Use-FakeRunnerStart -ProcessId 6100
    }

    It 'reports a package already staged with the expected SHA-256 and changes nothing' {
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $Package)
        Set-Content -LiteralPath $Package -Value $Content -NoNewline
        $run = Invoke-AsrScript -Name package_stage -Parameters $Stage
        $run.Error | Should -BeNullOrEmpty
        $run.Result.state | Should -Be 'staged'
        $run.Result.changed | Should -BeFalse
        $run.Result.package.sha256 | Should -Be $Sha
        $run.Result.package.file_version | Should -Be '9.55.7123.1'
        Should -Invoke Invoke-CimMethod -Times 0 -Exactly
    }

    It 'starts the host''s download detached: the URL only in the protected spec, never on the command line' {
        $run = Invoke-AsrScript -Name package_stage -Parameters $Stage
        $run.Error | Should -BeNullOrEmpty
        $run.Result.state | Should -Be 'running'
        $run.Result.changed | Should -BeTrue
        Should -Invoke Set-Acl -Times 1 -Exactly -ParameterFilter { $LiteralPath -eq $Transfer -and $AclObject -eq 'SYSTEM and Administrators only' }
        $spec = Get-Content -LiteralPath (Join-Path $Transfer 'spec.json') -Raw | ConvertFrom-Json
        $spec.kind | Should -Be 'url'
        $spec.url | Should -BeExactly "https://files.corp.example/asr/setup.exe?$Secret"
        $spec.shown | Should -Be 'https://files.corp.example/asr/setup.exe'
        $spec.sha256 | Should -BeExactly $Sha
        $spec.package | Should -Be $Package
        $line = [string]$global:AsrTestCreated.CommandLine
        $line | Should -Match '^"[^"]*System32[\\/]WindowsPowerShell[\\/]v1\.0[\\/]powershell\.exe" -NoProfile -NonInteractive -EncodedCommand [A-Za-z0-9+/=]+$'
        $command = [System.Text.Encoding]::Unicode.GetString([System.Convert]::FromBase64String(($line -split ' ')[-1]))
        $command | Should -Match '^# asr\.process_server package transfer runner start' -Because 'the lab runs only collection text'
        $command | Should -Match ([regex]::Escape("Get-Content -LiteralPath '$(Join-Path $Transfer 'runner.ps1')' -Raw))) -TransferDir '$Transfer'"))
        $line + $command | Should -Not -Match 'Pester-Token-42'
        (Get-Content -LiteralPath (Join-Path $Transfer 'runner.ps1') -Raw) | Should -Match '# asr.process_server package transfer runner'
        $started = Get-Content -LiteralPath (Join-Path $Transfer 'started.json') -Raw | ConvertFrom-Json
        $started.pid | Should -Be 6100
        $started.process_started | Should -BeExactly '2024-01-02T03:04:05.678Z'
        $run.Raw | Should -Not -Match 'Pester-Token-42'
    }

    It 'copies from a share: the UNC path in the spec, no URL' {
        $share = Join-Parameter $Stage @{ SourceKind = 'share'; Url = $null; SourcePath = '\\files\media\setup.exe'; SourceShown = '\\files\media\setup.exe' }
        $share.Remove('Url')
        $run = Invoke-AsrScript -Name package_stage -Parameters $share
        $run.Result.state | Should -Be 'running'
        $spec = Get-Content -LiteralPath (Join-Path $Transfer 'spec.json') -Raw | ConvertFrom-Json
        $spec.kind | Should -Be 'share'
        $spec.path | Should -BeExactly '\\files\media\setup.exe'
        $spec.url | Should -BeExactly ''
    }

    It 'does not start a second transfer while the first runner lives' {
        Set-TransferState -RunnerId 6100 -Status '{"state":"running","bytes_done":10,"bytes_total":100,"source":"https://files.corp.example/asr/setup.exe"}'
        $run = Invoke-AsrScript -Name package_stage -Parameters $Stage
        $run.Result.state | Should -Be 'running'
        $run.Result.transfer.bytes_done | Should -Be 10
        $run.Result.changed | Should -BeFalse
        Should -Invoke Invoke-CimMethod -Times 0 -Exactly
    }

    It 'reports a failed transfer once and sets it aside, so the next call starts again' {
        Set-TransferState -RunnerId 7000 -Status '{"state":"failed","attempts":5,"error":"The remote server returned an error: (404) Not Found."}'
        $run = Invoke-AsrScript -Name package_stage -Parameters $Stage
        $run.Result.state | Should -Be 'failed'
        $run.Result.transfer.error | Should -Match '404'
        Test-Path -LiteralPath (Join-Path $Transfer 'status.json') | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $Transfer 'last-failure.json') | Should -BeTrue
        Should -Invoke Invoke-CimMethod -Times 0 -Exactly
        $again = Invoke-AsrScript -Name package_stage -Parameters $Stage
        $again.Result.state | Should -Be 'running'
        Should -Invoke Invoke-CimMethod -Times 1 -Exactly
    }

    It 'moves a controller transfer into place' {
        $upload = Join-Path $env:SystemRoot 'Temp/asr-upload.exe'
        Set-Content -LiteralPath $upload -Value $Content -NoNewline
        $run = Invoke-AsrScript -Name package_stage -Parameters $Put
        $run.Result.state | Should -Be 'staged'
        $run.Result.changed | Should -BeTrue
        $run.Result.upload_path | Should -Be $upload
        Test-Path -LiteralPath $upload | Should -BeFalse
        [System.IO.File]::ReadAllText($Package) | Should -BeExactly $Content
    }

    It 'deletes a file of another SHA-256 <Where>' -ForEach @(
        @{ Where = 'at the staging path, then transfers'; Upload = $false; State = 'running'; Note = 'not [0-9a-f]{64}' }
        @{ Where = 'that the controller transferred'; Upload = $true; State = 'missing'; Note = 'transfer corrupted' }
    ) {
        $path = if ($Upload) { Join-Path $env:SystemRoot 'Temp/asr-upload.exe' } else { $Package }
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $path)
        Set-Content -LiteralPath $path -Value 'a different file' -NoNewline
        $run = Invoke-AsrScript -Name package_stage -Parameters $(if ($Upload) { $Put } else { $Stage })
        $run.Result.state | Should -Be $State
        $run.Result.note | Should -Match $Note
        Test-Path -LiteralPath $path | Should -BeFalse
    }

    It 'changes nothing in check mode and says what it would do' {
        $run = Invoke-AsrScript -Name package_stage -Parameters $Stage -CheckMode
        $run.Error | Should -BeNullOrEmpty
        $run.Result.state | Should -Be 'would transfer'
        $run.Result.changed | Should -BeFalse
        Test-Path -LiteralPath $Transfer | Should -BeFalse
        Should -Invoke Invoke-CimMethod -Times 0 -Exactly
    }
}
