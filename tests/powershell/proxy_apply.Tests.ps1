# proxy_apply: the MARS agent's proxy [8]/[6.6] (Set-OBMachineSetting, obengine restart, cdpcli --registermt,
# restart), and the [ProxySettings] file. The controller (plugin_utils/operations/proxy.py) reads ok, failed_step,
# steps[].name/rc/stdout/stderr and readback{enabled, address, port, username | error}.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name proxy_apply
    $script:Password = ConvertTo-SecureString -String 'Pr0xy-S3cret' -AsPlainText -Force
}

Describe 'proxy_apply' {
    BeforeEach {
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        $script:MarsPath = Join-Path $TestDrive 'MARS'
        Use-FakeRegistry -Keys @{ 'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup' = @{ InstallPath = $MarsPath } }
        Mock Import-Module -ParameterFilter { $Name -like '*MSOnlineBackup.psd1' } -MockWith { }
        Mock Set-OBMachineSetting -MockWith { }
        Mock Get-OBMachineSetting -MockWith { [pscustomobject]@{ ProxyServer = 'http://proxy.corp'; ProxyPort = 3128; ProxyUserName = 'CORP\svc' } }
        Mock Get-Service -ParameterFilter { $Name -eq 'obengine' } -MockWith { [pscustomobject]@{ Name = 'obengine'; Status = 'Running' } }
        Mock Invoke-NativeCommand -MockWith { [ordered]@{ command = "$FilePath $ArgumentList"; rc = 0; stdout = ''; stderr = '' } }
        Mock New-AdminOnlyAcl -MockWith { 'SYSTEM and Administrators only' }
        $script:AclContent = $null
        Mock Set-Acl -MockWith { $script:AclContent = Get-Content -LiteralPath $LiteralPath -Raw }
        $script:Proxy = @{ SetMarsProxy = $true; ProxyServer = 'http://proxy.corp'; ProxyPort = 3128; ProxyUserName = 'CORP\svc'; ProxyPassword = $Password }
    }

    It 'sets the proxy with its credentials, restarts obengine and reads the setting back' {
        $run = Invoke-AsrScript -Name proxy_apply -Parameters $Proxy
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeTrue
        $run.Result.ok | Should -BeTrue
        $run.Result.steps.name | Should -Be @('set_ob_machine_setting', 'stop_obengine', 'start_obengine')
        Should -Invoke Set-OBMachineSetting -Times 1 -Exactly -ParameterFilter {
            $ProxyServer -eq 'http://proxy.corp' -and $ProxyPort -eq 3128 -and $ProxyUserName -eq 'CORP\svc' -and
            $ProxyPassword -is [securestring] -and [System.Net.NetworkCredential]::new('', $ProxyPassword).Password -eq 'Pr0xy-S3cret'
        }
        Should -Invoke Import-Module -Times 2 -Exactly -ParameterFilter { $Name -eq (Join-Path $MarsPath 'bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1') }
        $run.Result.readback.enabled | Should -BeTrue
        $run.Result.readback.address | Should -Be 'http://proxy.corp'
        $run.Result.readback.port | Should -Be 3128
        $run.Result.readback.username | Should -Be 'CORP\svc'
        $run.Raw | Should -Not -Match 'Pr0xy-S3cret' -Because 'the password is never in a result'
    }

    It 'sets no credentials when there is no user name' {
        $run = Invoke-AsrScript -Name proxy_apply -Parameters @{ SetMarsProxy = $true; ProxyServer = 'http://proxy.corp'; ProxyPort = 8080 }
        $run.Result.ok | Should -BeTrue
        Should -Invoke Set-OBMachineSetting -Times 1 -Exactly -ParameterFilter { $ProxyPort -eq 8080 -and -not $ProxyUserName -and -not $ProxyPassword }
    }

    It 'removes the proxy with -NoProxy' {
        Mock Get-OBMachineSetting -MockWith { [pscustomobject]@{ ProxyServer = ''; ProxyPort = 0; ProxyUserName = '' } }
        $run = Invoke-AsrScript -Name proxy_apply -Parameters @{ SetMarsProxy = $true; NoProxy = $true }
        Should -Invoke Set-OBMachineSetting -Times 1 -Exactly -ParameterFilter { $NoProxy }
        $run.Result.readback.enabled | Should -BeFalse
        $run.Result.readback.address | Should -BeNullOrEmpty
        $run.Result.readback.port | Should -BeNullOrEmpty
    }

    It 're-registers the master target and restarts obengine again when asked' {
        $run = Invoke-AsrScript -Name proxy_apply -Parameters ($Proxy + @{ RegisterMt = $true })
        $run.Result.steps.name | Should -Be @('set_ob_machine_setting', 'stop_obengine', 'start_obengine', 'registermt', 'stop_obengine_after_registermt', 'start_obengine_after_registermt')
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter {
            $FilePath -eq (Join-Path $env:ProgramData 'ASR\Agent\cdpcli.exe') -and "$ArgumentList" -eq '--registermt' -and $TimeoutSeconds -eq 600
        }
    }

    It 'reports a refused setting as the failed step and goes no further' {
        Mock Set-OBMachineSetting -MockWith { throw 'The proxy port is not valid' }
        $run = Invoke-AsrScript -Name proxy_apply -Parameters ($Proxy + @{ RegisterMt = $true })
        $run.Result.ok | Should -BeFalse
        $run.Result.failed_step | Should -Be 'set_ob_machine_setting'
        $run.Result.steps.Count | Should -Be 1
        $run.Result.steps[0].rc | Should -Be 1
        $run.Result.steps[0].stderr | Should -Be 'The proxy port is not valid'
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly
    }

    It 'says the MARS agent is not installed, in the step and in the read-back' {
        Use-FakeRegistry -Keys @{}
        $run = Invoke-AsrScript -Name proxy_apply -Parameters $Proxy
        $run.Result.failed_step | Should -Be 'set_ob_machine_setting'
        $run.Result.steps[0].stderr | Should -Match 'Recovery Services Agent is not installed'
        $run.Result.readback.error | Should -Match 'not installed'
    }

    It 'keeps the steps done when re-registration cannot start, and names that step' {
        Mock Invoke-NativeCommand -ParameterFilter { $FilePath -like '*cdpcli.exe' } -MockWith { throw 'The system cannot find the file specified' }
        $run = Invoke-AsrScript -Name proxy_apply -Parameters ($Proxy + @{ RegisterMt = $true })
        $run.Error | Should -BeNullOrEmpty
        $run.Result.failed_step | Should -Be 'registermt'
        $run.Result.steps.name | Should -Be @('set_ob_machine_setting', 'stop_obengine', 'start_obengine', 'registermt')
        $run.Result.steps[3].error | Should -BeTrue
        $run.Result.readback.address | Should -Be 'http://proxy.corp' -Because 'the read-back still runs'
    }

    It 'writes the settings file with its access rules set before its content' {
        $file = Join-Path $TestDrive 'conf/ProxySettings.ini'
        $content = "[ProxySettings]`r`nProxyAuthentication = ""false""`r`n"
        $run = Invoke-AsrScript -Name proxy_apply -Parameters @{ SettingsFilePath = $file; SettingsFileContent = $content }
        $run.Changed | Should -BeTrue
        $run.Result.steps.name | Should -Be @('write_settings_file')
        $run.Result.ok | Should -BeTrue
        [System.IO.File]::ReadAllText($file) | Should -BeExactly $content
        $AclContent | Should -BeNullOrEmpty -Because 'the file is empty when its ACL is set'
        Should -Invoke Set-Acl -Times 1 -Exactly -ParameterFilter { $LiteralPath -eq $file -and $AclObject -eq 'SYSTEM and Administrators only' }
        Should -Invoke Set-OBMachineSetting -Times 0 -Exactly
    }

    It 'reports a settings file it cannot write as the failed step' {
        Mock Set-Acl -MockWith { throw 'Attempted to perform an unauthorized operation.' }
        $run = Invoke-AsrScript -Name proxy_apply -Parameters @{ SettingsFilePath = (Join-Path $TestDrive 'x.ini'); SettingsFileContent = 'x' }
        $run.Result.failed_step | Should -Be 'write_settings_file'
        $run.Result.steps[0].stderr | Should -Match 'unauthorized'
    }

    It 'changes nothing when there is nothing to do, and still reads the proxy back' {
        $run = Invoke-AsrScript -Name proxy_apply -Parameters @{}
        $run.Changed | Should -BeFalse
        $run.Result.ok | Should -BeTrue
        @($run.Result.steps).Count | Should -Be 0
        $run.Result.readback.address | Should -Be 'http://proxy.corp'
    }
}
