# probe: the one read-only survey every module starts from. The controller (plugins/plugin_utils/domain/survey.py,
# install_plan.py, ...) reads every key checked here. Windows stands in through mocks: CIM classes, the registry,
# services, the MARS module, the caller's token; files are real files under a fake %ProgramData%.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name probe
}

Describe 'probe' {
    BeforeEach {
        Set-FakeHostFolder
        $script:Mars = Join-Path $TestDrive 'MARS'
        Use-FakeRegistry -Keys @{
            "$UninstallKey\{CSPS}" = @{ DisplayName = 'Microsoft Azure Site Recovery Configuration/Process Server'; DisplayVersion = '9.55.7123.1'; UninstallString = 'C:\unins000.exe' }
            "$UninstallKey\{OTHER}" = @{ DisplayName = 'Notepad++' }
            $CspsKey = @{ Product_Name = 'Configuration/Process Server'; InstallDirectory = 'E:\ASR'; CX_TYPE = 2; Build_Version = '9.55.7123.1'; Proxy_Type = 'Bypass' }
            "$InstalledProductsKey\10" = @{ Product_Name = 'Dependencies'; Build_Version = '9.55.7123.1' }
            'HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings' = @{ ProxyAddress = 'http://proxy'; ProxyPassword = 'never'; ProxyPort = '3128' }
            'HKLM:\SYSTEM\CurrentControlSet\Services\ProcessServer' = @{ DelayedAutostart = 1 }
            'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup' = @{ InstallPath = $Mars }
            'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' = @{ Release = 528449 }
            'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending' = @{}
        }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_OperatingSystem' } -MockWith { [pscustomobject]@{ Caption = 'Microsoft Windows Server 2016 Datacenter'; Version = '10.0.14393' } }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_ComputerSystem' } -MockWith { [pscustomobject]@{ NumberOfLogicalProcessors = 8; NumberOfProcessors = 2; TotalPhysicalMemory = 17179869184 } }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Processor' } -MockWith { @([pscustomobject]@{ NumberOfCores = 2 }, [pscustomobject]@{ NumberOfCores = 2 }) }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_LogicalDisk' } -MockWith {
            @([pscustomobject]@{ DeviceID = 'C:'; DriveType = 3; Size = 137438953472; FreeSpace = 68719476736; FileSystem = 'NTFS' },
                [pscustomobject]@{ DeviceID = 'Z:'; DriveType = 4; Size = 1; FreeSpace = 1; FileSystem = 'NFS' })
        }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Service' } -MockWith {
            @([pscustomobject]@{ Name = 'ProcessServer'; DisplayName = 'Process Server'; State = 'Running'; StartMode = 'Auto' },
                [pscustomobject]@{ Name = 'obengine'; DisplayName = 'Microsoft Azure Recovery Services Agent'; State = 'Stop Pending'; StartMode = 'Manual' })
        }
        Mock Get-CallerToken { [ordered]@{ name = 'NT AUTHORITY\SYSTEM'; is_system = $true; elevated = $true; group_sids = @('S-1-5-32-544') } }
        Mock Import-Module -ParameterFilter { $Name -like '*MSOnlineBackup.psd1' } -MockWith { }
        Mock Get-OBMachineSetting { [pscustomobject]@{ ProxyServer = 'http://proxy'; ProxyPort = 3128; ProxyUserName = 'CORP\svc' } }
        $psd1 = Join-Path $Mars 'bin/Modules/MSOnlineBackup/MSOnlineBackup.psd1'
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $psd1)
        Set-Content -LiteralPath $psd1 -Value '@{}'
        $script:Svsystems = Join-Path $env:ProgramData 'ASR/home/svsystems'
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $Svsystems 'etc'), (Join-Path $Svsystems 'transport')
        $script:Amethyst = Join-Path $Svsystems 'etc/amethyst.conf'
        Set-Content -LiteralPath $Amethyst -Value @('PS_IP = "10.0.0.101"', 'PS_CS_IP = "10.0.0.9"', 'PS_CS_IP = "10.0.0.11"', 'PS_CS_PORT = "443"', 'CX_TYPE = "2"')
        Set-Content -LiteralPath (Join-Path $Svsystems 'transport/cxps.conf') -Value @('ssl_port = 9443', 'cs_ip_address = 10.0.0.11')
        $logs = Join-Path $env:ProgramData 'ASRSetupLogs'
        $null = New-Item -ItemType Directory -Force -Path $logs
        $script:SetupLog = Join-Path $logs 'ASRUnifiedSetup.log'
        Set-Content -LiteralPath $SetupLog -Value @('begin', 'Unified Setup has failed', 'retry', 'Unified Setup has succeeded', 'end')
        $script:Survey = @{ ProductNames = @('Site Recovery'); ServiceNames = @('ProcessServer', 'obengine', 'cxprocessserver'); IncludeLogTail = $true; LogTailLines = 2 }
    }

    It 'surveys an installed process server and changes nothing' {
        $run = Invoke-AsrScript -Name probe -Parameters $Survey
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        $s = $run.Result
        $s.probe | Should -Be 'probe v1'
        $s.computer_name | Should -Be 'PS01'
        $s.os.version | Should -Be '10.0.14393'
        $s.cpu.logical_processors | Should -Be 8
        $s.cpu.cores | Should -Be 4
        $s.memory_mb | Should -Be 16384
        $s.volumes.drive | Should -Be @('C:') -Because 'only fixed disks (DriveType 3)'
        $s.volumes[0].free_bytes | Should -Be 68719476736
        $s.uninstall_entries.display_name | Should -Be @('Microsoft Azure Site Recovery Configuration/Process Server')
        $s.uninstall_entries[0].registry_key | Should -Be 'HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall\{CSPS}'
        $s.installed_products.csps.build_version | Should -Be '9.55.7123.1'
        $s.installed_products.csps.cx_type | Should -Be '2'
        $s.installed_products.dependencies.build_version | Should -Be '9.55.7123.1'
        $s.amethyst_conf.present | Should -BeTrue
        $s.amethyst_conf.ps_cs_ip | Should -Be '10.0.0.11' -Because 'the last occurrence wins'
        $s.amethyst_conf.error | Should -BeNullOrEmpty
        $s.cxps_conf.ssl_port | Should -Be '9443'
        $s.asr_proxy.present | Should -BeTrue
        $s.asr_proxy.values.ProxyAddress | Should -Be 'http://proxy'
        $s.asr_proxy.values.PSObject.Properties.Name | Should -Not -Contain 'ProxyPassword'
        $run.Raw | Should -Not -Match 'never' -Because 'no password value is ever read'
        $s.services[0].start_mode | Should -Be 'delayed'
        $s.services[1].state | Should -Be 'stop_pending'
        $s.services[2].present | Should -BeFalse
        $s.mars.module_present | Should -BeTrue
        $s.mars.proxy.source | Should -Be 'Get-OBMachineSetting'
        $s.mars.proxy.port | Should -Be 3128
        $s.pending_reboot.pending | Should -BeTrue
        $s.pending_reboot.reasons | Should -Be @('CBS RebootPending')
        $s.setup_log.path | Should -Be $SetupLog
        $s.setup_log.result | Should -Be 'succeeded' -Because 'the last result line wins'
        $s.setup_log.result_line | Should -Be 'Unified Setup has succeeded'
        $s.setup_log.tail | Should -Be @('Unified Setup has succeeded', 'end')
        $s.setup_log.modified | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $s.identity.is_system | Should -BeTrue
        $s.identity.network_logon | Should -BeFalse
        $s.dotnet_framework.release | Should -Be 528449
    }

    It 'reads the setup log from %ProgramData%, not from %SystemDrive%\ProgramData' {
        $s = (Invoke-AsrScript -Name probe -Parameters $Survey).Result
        $s.setup_log.present | Should -BeTrue
        $s.setup_log.path | Should -BeLike "$env:ProgramData*"
    }

    It 'reports an amethyst.conf it cannot read as unreadable, and surveys the rest' {
        Mock Open-SharedFile -ParameterFilter { $Path -like '*amethyst.conf' } -MockWith { throw [System.IO.IOException]::new('The process cannot access the file because it is being used by another process.') }
        $run = Invoke-AsrScript -Name probe -Parameters $Survey
        $run.Error | Should -BeNullOrEmpty
        $run.Result.amethyst_conf.present | Should -BeTrue
        $run.Result.amethyst_conf.error | Should -Match 'being used by another process'
        $run.Result.amethyst_conf.ps_cs_ip | Should -BeNullOrEmpty
        $run.Result.setup_log.result | Should -Be 'succeeded'
    }

    It 'reports a setup log that went away between the test and the read as unreadable, and surveys the rest' {
        Mock Open-SharedFile -ParameterFilter { $Path -like '*ASRUnifiedSetup.log' } -MockWith { throw [System.IO.FileNotFoundException]::new('Could not find file') }
        $run = Invoke-AsrScript -Name probe -Parameters $Survey
        $run.Error | Should -BeNullOrEmpty
        $run.Result.setup_log.error | Should -Match 'Could not find file'
        $run.Result.setup_log.result | Should -Be 'unknown'
        $run.Result.amethyst_conf.ps_cs_ip | Should -Be '10.0.0.11'
    }

    It 'reports a MARS module that does not import as present, with the error, and surveys the rest' {
        Mock Import-Module -ParameterFilter { $Name -like '*MSOnlineBackup.psd1' } -MockWith { throw [System.IO.FileLoadException]::new('Could not load MSOnlineBackup') }
        $run = Invoke-AsrScript -Name probe -Parameters $Survey
        $run.Error | Should -BeNullOrEmpty
        $run.Result.mars.module_present | Should -BeTrue
        $run.Result.mars.error | Should -Be 'Could not load MSOnlineBackup'
        $run.Result.mars.proxy.source | Should -Be 'unknown'
        Should -Invoke Get-OBMachineSetting -Times 0 -Exactly
        $run.Result.setup_log.result | Should -Be 'succeeded'
    }

    It 'reports a fresh host: nothing installed, no log, no MARS, no .NET release' {
        Use-FakeRegistry -Keys @{}
        Remove-Item -LiteralPath (Join-Path $env:ProgramData 'ASR'), (Join-Path $env:ProgramData 'ASRSetupLogs') -Recurse -Force
        $s = (Invoke-AsrScript -Name probe -Parameters $Survey).Result
        @($s.uninstall_entries).Count | Should -Be 0
        $s.installed_products.csps | Should -BeNullOrEmpty
        $s.amethyst_conf.present | Should -BeFalse
        $s.setup_log.result | Should -Be 'absent'
        $s.mars.install_path | Should -BeNullOrEmpty
        $s.pending_reboot.pending | Should -BeFalse
        $s.dotnet_framework.release | Should -BeNullOrEmpty
    }

    It 'reports a WinRM network logon' {
        Mock Get-CallerToken { [ordered]@{ name = 'CORP\admin'; is_system = $false; elevated = $true; group_sids = @('S-1-5-2', 'S-1-5-32-544') } }
        $s = (Invoke-AsrScript -Name probe -Parameters $Survey).Result
        $s.identity.network_logon | Should -BeTrue
        $s.identity.name | Should -Be 'CORP\admin'
    }

    It 'reports the installer''s fixed version parts, its size and SHA-256' {
        $installer = Join-Path $TestDrive 'setup.exe'
        Set-Content -LiteralPath $installer -Value 'abc' -NoNewline
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 9, 55, 7123, 1 -Text '9.55.7123.1 (release build)' }
        $s = (Invoke-AsrScript -Name probe -Parameters ($Survey + @{ InstallerPath = $installer })).Result
        $s.checks.installer.exists | Should -BeTrue
        $s.checks.installer.size_bytes | Should -Be 3
        $s.checks.installer.file_version | Should -Be '9.55.7123.1'
        $s.checks.installer.sha256 | Should -Be 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    }

    It 'reports an installer it cannot read (still being transferred) with error, and surveys the rest' {
        $installer = Join-Path $TestDrive 'setup-busy.exe'
        Set-Content -LiteralPath $installer -Value 'abc'
        Mock Get-FileVersionInfo { New-VersionInfo -Parts 0, 0, 0, 0 -Text '' }
        Mock Open-FileRead { throw [System.IO.IOException]::new('The process cannot access the file') }
        $run = Invoke-AsrScript -Name probe -Parameters ($Survey + @{ InstallerPath = $installer })
        $run.Error | Should -BeNullOrEmpty
        $run.Result.checks.installer.exists | Should -BeTrue
        $run.Result.checks.installer.error | Should -Match 'cannot access the file'
    }

    It 'reports the proxy settings file''s SHA-256 and access rules as SIDs, never its text' {
        $file = Join-Path $TestDrive 'ProxySettings.ini'
        Set-Content -LiteralPath $file -Value 'secret-ish' -NoNewline
        Mock Get-Acl {
            $acl = [pscustomobject]@{ AreAccessRulesProtected = $true }
            $acl | Add-Member -MemberType ScriptMethod -Name GetAccessRules -Value {
                param ($Explicit, $Inherited, $Type)
                @([pscustomobject]@{ IdentityReference = [pscustomobject]@{ Value = 'S-1-5-18' } }, [pscustomobject]@{ IdentityReference = [pscustomobject]@{ Value = 'S-1-5-32-544' } },
                    [pscustomobject]@{ IdentityReference = [pscustomobject]@{ Value = 'S-1-5-18' } })
            }
            $acl
        }
        $run = Invoke-AsrScript -Name probe -Parameters ($Survey + @{ ProxySettingsFilePath = $file })
        $fact = $run.Result.checks.proxy_settings_file
        $fact.exists | Should -BeTrue
        $fact.access_sids | Should -Be @('S-1-5-18', 'S-1-5-32-544')
        $fact.inheritance_protected | Should -BeTrue
        $fact.sha256 | Should -Be ((Get-FileHash -LiteralPath $file -Algorithm SHA256).Hash.ToLowerInvariant())
        $run.Raw | Should -Not -Match 'secret-ish'
    }

    It 'checks TCP reachability: a listening port, and a closed one with its error' {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try {
            $port = $listener.LocalEndpoint.Port
            $s = (Invoke-AsrScript -Name probe -Parameters ($Survey + @{ ConfigurationServerIp = '127.0.0.1'; ConfigurationServerPort = $port })).Result
            $s.checks.configuration_server.reachable | Should -BeTrue
        }
        finally {
            $listener.Stop()
        }
        $s = (Invoke-AsrScript -Name probe -Parameters ($Survey + @{ ConfigurationServerIp = '127.0.0.1'; ConfigurationServerPort = $port; ConnectTimeoutMs = 2000 })).Result
        $s.checks.configuration_server.reachable | Should -BeFalse
        $s.checks.configuration_server.error | Should -Not -BeNullOrEmpty
    }

    It 'runs in check mode (-WhatIf) and writes nothing' {
        $before = @(Get-ChildItem -LiteralPath $env:ProgramData -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" })
        $run = Invoke-AsrScript -Name probe -Parameters $Survey -CheckMode
        $run.Error | Should -BeNullOrEmpty
        $run.Result.probe | Should -Be 'probe v1'
        @(Get-ChildItem -LiteralPath $env:ProgramData -Recurse | ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" }) | Should -Be $before
    }
}
