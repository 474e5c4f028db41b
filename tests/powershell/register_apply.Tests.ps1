# register_apply: cdpcli.exe --registermt, then net stop / net start obengine [3.3], each step reported; the controller
# (plugins/plugin_utils/operations/registration.py) reads ok, failed_step and steps[].name/rc/stdout/stderr.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name register_apply
}

Describe 'register_apply' {
    BeforeEach {
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        $agent = Join-Path $env:ProgramData 'ASR/Agent'
        $null = New-Item -ItemType Directory -Force -Path $agent
        $script:Cdpcli = Join-Path $agent 'cdpcli.exe'
        Set-Content -LiteralPath $Cdpcli -Value 'MZ'
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { [pscustomobject]@{ Name = 'obengine'; Status = 'Running' } }
        Mock Invoke-NativeCommand -MockWith { [ordered]@{ command = "$FilePath $ArgumentList"; rc = 0; stdout = "$FilePath done"; stderr = '' } }
    }

    It 're-registers, then restarts obengine, in that order, and reports every step' {
        $run = Invoke-AsrScript -Name register_apply
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        $run.Result.ok | Should -BeTrue
        $run.Result.failed_step | Should -BeNullOrEmpty
        $run.Result.steps.name | Should -Be @('registermt', 'stop_obengine', 'start_obengine')
        $run.Result.steps[0].rc | Should -Be 0
        $run.Result.steps[0].stdout | Should -Be "$Cdpcli done"
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter { $FilePath -eq $Cdpcli -and "$ArgumentList" -eq '--registermt' -and $WorkingDirectory -eq (Split-Path $Cdpcli) }
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter { $FilePath -eq 'net.exe' -and "$ArgumentList" -eq 'stop obengine' }
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter { $FilePath -eq 'net.exe' -and "$ArgumentList" -eq 'start obengine' }
    }

    It 'does not stop obengine when it is already stopped' {
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { [pscustomobject]@{ Name = 'obengine'; Status = 'Stopped' } }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.steps.name | Should -Be @('registermt', 'start_obengine')
    }

    It 'stops at a failed registration: ok false, the failed step with its exit code and output, obengine untouched' {
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq $Cdpcli } -MockWith { [ordered]@{ command = 'cdpcli'; rc = 1; stdout = 'out'; stderr = 'registration failed' } }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.ok | Should -BeFalse
        $run.Result.failed_step | Should -Be 'registermt'
        $run.Result.steps.Count | Should -Be 1
        $run.Result.steps[0].rc | Should -Be 1
        $run.Result.steps[0].stderr | Should -Be 'registration failed'
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly -ParameterFilter { $FilePath -eq 'net.exe' }
    }

    It 'does not start obengine when stopping it failed' {
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq 'net.exe' -and $ArgumentList[0] -eq 'stop' } -MockWith { [ordered]@{ command = 'net stop'; rc = 2; stdout = ''; stderr = 'System error 5' } }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.failed_step | Should -Be 'stop_obengine'
        $run.Result.steps.name | Should -Be @('registermt', 'stop_obengine')
    }

    It 'changes nothing and says so when cdpcli.exe is missing' {
        Remove-Item -LiteralPath $Cdpcli
        $run = Invoke-AsrScript -Name register_apply
        $run.Changed | Should -BeFalse
        $run.Result.ok | Should -BeFalse
        $run.Result.failed_step | Should -Be 'registermt'
        $run.Result.steps[0].rc | Should -Be 2
        $run.Result.steps[0].stderr | Should -Be "$Cdpcli does not exist."
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly
    }

    It 'counts net start exit 2 as success when obengine then runs (it restarted on its own)' {
        $script:Calls = 0
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { [pscustomobject]@{ Name = 'obengine'; Status = 'Running' } }
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq 'net.exe' -and $ArgumentList[0] -eq 'start' } -MockWith {
            [ordered]@{ command = 'net start obengine'; rc = 2; stdout = ''; stderr = 'The requested service has already been started.' }
        }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.ok | Should -BeTrue
        $run.Result.steps[2].name | Should -Be 'start_obengine'
        $run.Result.steps[2].rc | Should -Be 2
        $run.Result.steps[2].already_running | Should -BeTrue
    }

    It 'fails on net start exit 2 when obengine still does not run' {
        $script:Status = 'Running'
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { [pscustomobject]@{ Name = 'obengine'; Status = $script:Status } }
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq 'net.exe' -and $ArgumentList[0] -eq 'stop' } -MockWith {
            $script:Status = 'Stopped'
            [ordered]@{ command = 'net stop obengine'; rc = 0; stdout = ''; stderr = '' }
        }
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq 'net.exe' -and $ArgumentList[0] -eq 'start' } -MockWith {
            [ordered]@{ command = 'net start obengine'; rc = 2; stdout = ''; stderr = 'System error 2' }
        }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.ok | Should -BeFalse
        $run.Result.failed_step | Should -Be 'start_obengine'
    }

    It 'reports restart_obengine 1060 when the obengine service does not exist' {
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { $null }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.failed_step | Should -Be 'restart_obengine'
        $run.Result.steps[1].rc | Should -Be 1060
    }

    It 'keeps the steps done when a later one throws, and names the one that did' {
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq 'net.exe' -and $ArgumentList[0] -eq 'start' } -MockWith { throw 'The system cannot find the file specified' }
        $run = Invoke-AsrScript -Name register_apply
        $run.Error | Should -BeNullOrEmpty -Because 'the controller gets a result, not an exception'
        $run.Result.ok | Should -BeFalse
        $run.Result.failed_step | Should -Be 'restart_obengine'
        $run.Result.steps.name | Should -Be @('registermt', 'stop_obengine', 'restart_obengine')
        $run.Result.steps[2].rc | Should -BeNullOrEmpty
        $run.Result.steps[2].error | Should -BeTrue
        $run.Result.steps[2].stderr | Should -Match 'cannot find the file'
    }

    It 'reports a registration that timed out' {
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -eq $Cdpcli } -MockWith {
            [ordered]@{ command = 'cdpcli'; rc = $null; stdout = ''; stderr = 'stopped after 600 s'; timed_out = $true }
        }
        $run = Invoke-AsrScript -Name register_apply
        $run.Result.failed_step | Should -Be 'registermt'
        $run.Result.steps[0].timed_out | Should -BeTrue
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter { $FilePath -eq $Cdpcli -and $TimeoutSeconds -eq 600 }
    }
}
