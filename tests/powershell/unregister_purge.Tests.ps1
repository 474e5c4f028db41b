# unregister_purge: on a configuration server, the documented purge script for one IP address [5], its prompt
# answered with "1". The controller (plugins/plugin_utils/operations/unregister.py) reads is_configuration_server,
# script_present, bin_dir, command, rc, stdout and stderr, then reads the database again to verify.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name unregister_purge
}

Describe 'unregister_purge' {
    BeforeEach {
        $env:ProgramData = Join-Path $TestDrive "ProgramData-$([guid]::NewGuid())"
        $script:Bin = Join-Path $env:ProgramData 'ASR/home/svsystems/bin'
        $null = New-Item -ItemType Directory -Force -Path $Bin
        Set-Content -LiteralPath (Join-Path $Bin 'Unregister-ASRComponent.pl') -Value '#!perl'
        Use-FakeRegistry -Keys @{ $CspsKey = @{ CX_TYPE = 3 } }
        Mock Invoke-NativeCommand { [ordered]@{ command = "perl.exe $ArgumentList"; rc = 0; stdout = 'Successfully unregistered PS01 (10.0.0.101)'; stderr = ''; timed_out = $false } }
    }

    It 'runs the purge script for the address from its folder, answers its prompt with 1, and reports its output' {
        $run = Invoke-AsrScript -Name unregister_purge -Parameters @{ IpAddress = '10.0.0.101' }
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        $run.Result.is_configuration_server | Should -BeTrue
        $run.Result.script_present | Should -BeTrue
        $run.Result.rc | Should -Be 0
        $run.Result.stdout | Should -Be 'Successfully unregistered PS01 (10.0.0.101)'
        $run.Result.command | Should -Be 'perl.exe Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS'
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter {
            $FilePath -eq 'perl.exe' -and ($ArgumentList -join ' ') -eq 'Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS' -and
            $WorkingDirectory -like '*svsystems*bin' -and $InputText -eq "1`r`n" -and $TimeoutSeconds -eq 300
        }
    }

    It 'changes nothing on a host that is not a configuration server (CX_TYPE <CxType>)' -ForEach @(@{ CxType = 2 }, @{ CxType = $null }) {
        Use-FakeRegistry -Keys $(if ($null -ne $CxType) { @{ $CspsKey = @{ CX_TYPE = $CxType } } } else { @{} })
        $run = Invoke-AsrScript -Name unregister_purge -Parameters @{ IpAddress = '10.0.0.101' }
        $run.Changed | Should -BeFalse
        $run.Result.is_configuration_server | Should -BeFalse
        $run.Result.rc | Should -BeNullOrEmpty
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly
    }

    It 'changes nothing when the purge script is not there' {
        Remove-Item -LiteralPath (Join-Path $Bin 'Unregister-ASRComponent.pl')
        $run = Invoke-AsrScript -Name unregister_purge -Parameters @{ IpAddress = '10.0.0.101' }
        $run.Changed | Should -BeFalse
        $run.Result.script_present | Should -BeFalse
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly
    }

    It 'reports a purge that timed out with no exit code' {
        Mock Invoke-NativeCommand { [ordered]@{ command = 'perl.exe'; rc = $null; stdout = ''; stderr = 'stopped after 300 s'; timed_out = $true } }
        $run = Invoke-AsrScript -Name unregister_purge -Parameters @{ IpAddress = '10.0.0.101' }
        $run.Result.rc | Should -BeNullOrEmpty
        $run.Result.stderr | Should -Match 'stopped after 300 s'
    }
}
