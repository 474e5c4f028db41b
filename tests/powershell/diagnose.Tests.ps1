# diagnose: the one read-only call that records what no document settles (plugin_utils/domain/diagnostics.py reads
# every key checked here). Windows stands in through mocks: CIM classes, the registry, the execution policy cmdlet,
# Defender, the MARS module, the version table, the package's version resource; files are real files under a fake
# %ProgramData%; on a configuration server the MySQL client is a real /bin/sh program that records what it was given.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name diagnose
    $script:DbPassword = 'Db-Pa55word#7'
    $script:ProxyPassword = 'Proxy-Secret-991'
    $script:Client = @'
#!/bin/sh
here="$(dirname "$0")"
printf '%s\n' "$@" > "$here/args.txt"
printf 'hostid\tname\tipaddress\n1\tPS01\t10.0.0.101\n'
printf 'mysql: [Warning] password %s in use\n' "$MYSQL_PWD" >&2
exit 0
'@

    function Get-Written {
        # Every file under the test drive with its time, except the fake client's record of its arguments.
        return @(Get-ChildItem -LiteralPath $TestDrive -Recurse -File | Where-Object { $_.Name -ne 'args.txt' } |
                ForEach-Object { "$($_.FullName) $($_.LastWriteTimeUtc.Ticks)" } | Sort-Object)
    }
}

Describe 'diagnose' {
    BeforeEach {
        Set-FakeHostFolder
        ${env:ProgramFiles(x86)} = Join-Path $TestDrive 'Program Files (x86)'
        $script:Mars = Join-Path $TestDrive 'MARS'
        $script:Target = Join-Path $TestDrive 'E-ASR'
        $script:Registry = @{
            "$UninstallKey\{CSPS}_is1" = @{
                DisplayName = 'Microsoft Azure Site Recovery Configuration/Process Server'; DisplayVersion = '9.55.7123.1'
                UninstallString = '"E:\ASR\unins000.exe"'; QuietUninstallString = '"E:\ASR\unins000.exe" /SILENT'
                'Inno Setup: App Path' = 'E:\ASR\home\svsystems'; 'Inno Setup: User' = 'Administrator'
            }
            "$UninstallKey\{275197FC-14FD-4560-A5EB-38217F80CBD1}" = @{
                DisplayName = 'Microsoft Azure Site Recovery Mobility Service/Master Target Server'; InstallLocation = (Join-Path $Target 'agent')
                UninstallString = 'MsiExec.exe /X{275197FC-14FD-4560-A5EB-38217F80CBD1}'; WindowsInstaller = 1
            }
            "$UninstallKey\{OTHER}" = @{ DisplayName = 'Notepad++' }
            $CspsKey = @{ Product_Name = 'Caspian CX'; InstallDirectory = 'E:\ASR'; CX_TYPE = 2; Build_Version = '9.55.7123.1'; Proxy_Type = 'Custom' }
            "$InstalledProductsKey\10" = @{ Product_Name = 'Dependencies'; Build_Version = '9.55.7123.1' }
            'HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings' = @{ ProxyIP = 'http://proxy'; ProxyPassword = $ProxyPassword; ProxyPort = '3128' }
            'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup' = @{}
            'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup' = @{ InstallPath = $Mars }
            'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Config' = @{ ProxyServer = 'http://proxy'; ProxyPassword = 'mars-proxy-pw' }
            'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' = @{ Release = 528449; Version = '4.8.03761' }
            'HKLM:\System\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy' = @{ Enabled = 1 }
            'HKLM:\SOFTWARE\Policies\Microsoft\Windows\PowerShell' = @{ EnableScripts = 1; ExecutionPolicy = 'AllSigned' }
            'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion' = @{ UBR = 6351; EditionID = 'ServerDatacenter'; InstallationType = 'Server' }
            'HKLM:\SYSTEM\CurrentControlSet\Services\ProcessServer' = @{ DelayedAutostart = 1 }
        }
        Use-FakeRegistry -Keys $Registry
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_OperatingSystem' } -MockWith {
            [pscustomobject]@{ Caption = 'Microsoft Windows Server 2016 Datacenter'; Version = '10.0.14393'; BuildNumber = '14393'; OSLanguage = [uint32]1033; Locale = '0409'; MUILanguages = @('en-US') }
        }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_ComputerSystem' } -MockWith { [pscustomobject]@{ NumberOfLogicalProcessors = 8; NumberOfProcessors = 2; TotalPhysicalMemory = 17179869184 } }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Processor' } -MockWith { @([pscustomobject]@{ NumberOfCores = 4 }, [pscustomobject]@{ NumberOfCores = 4 }) }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_LogicalDisk' } -MockWith { @([pscustomobject]@{ DeviceID = 'C:'; DriveType = 3; Size = 137438953472; FreeSpace = 68719476736; FileSystem = 'NTFS' }) }
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Service' } -MockWith {
            @([pscustomobject]@{ Name = 'ProcessServer'; DisplayName = 'Process Server'; State = 'Running'; StartMode = 'Auto'; StartName = 'LocalSystem'; PathName = 'E:\ASR\home\svsystems\bin\ProcessServer.exe' },
                [pscustomobject]@{ Name = 'cxprocessserver'; DisplayName = 'cxprocessserver'; State = 'Stopped'; StartMode = 'Manual'; StartName = 'LocalSystem'; PathName = "E:\ASR\home\svsystems\transport\cxps.exe --password $ProxyPassword" },
                [pscustomobject]@{ Name = 'Spooler'; DisplayName = 'Print Spooler'; State = 'Running'; StartMode = 'Auto'; StartName = 'LocalSystem'; PathName = 'C:\Windows\System32\spoolsv.exe' })
        }
        Mock Get-CallerToken { [ordered]@{ name = 'NT AUTHORITY\SYSTEM'; is_system = $true; elevated = $true; group_sids = @('S-1-5-32-544') } }
        Mock Get-ExecutionPolicy -ParameterFilter { $List } -MockWith {
            foreach ($pair in @(@('MachinePolicy', 'AllSigned'), @('UserPolicy', 'Undefined'), @('Process', 'Unrestricted'), @('CurrentUser', 'Undefined'), @('LocalMachine', 'RemoteSigned'))) {
                [pscustomobject]@{ Scope = $pair[0]; ExecutionPolicy = $pair[1] }
            }
        }
        Mock Get-ExecutionPolicy -ParameterFilter { -not $List } -MockWith { 'AllSigned' }
        Mock Get-PowerShellVersionTable { @{ PSVersion = [version]'5.1.14393.6343'; PSEdition = 'Desktop'; CLRVersion = [version]'4.0.30319.42000'; BuildVersion = [version]'10.0.14393.6343' } }
        Mock Get-SessionCulture { [ordered]@{ culture = 'de-DE'; ui_culture = 'en-US' } }
        Mock Get-DefenderPreference {
            [pscustomobject]@{
                AttackSurfaceReductionRules_Ids = @('D1E49AAC-8F56-4280-B9BA-993A6D77406C', '5beb7efe-fd9a-4556-801d-275e5ffc04cc')
                AttackSurfaceReductionRules_Actions = [byte[]]@(1, 2)
                ExclusionPath = @('C:\ProgramData\ASR')
                ExclusionProcess = $null
            }
        }
        Mock Import-Module -ParameterFilter { $Name -like '*MSOnlineBackup.psd1' } -MockWith { }
        Mock Get-OBMachineSetting { [pscustomobject]@{ PSTypeName = 'Microsoft.Internal.CloudBackup.Commands.OBMachineSetting'; ProxyServer = 'http://proxy'; ProxyPort = 3128; ProxyUserName = 'CORP\svc'; ProxyPassword = 'MarsProxyPassword77'; BypassUrls = $null; WorkDay = '' } }
        $psd1 = Join-Path $Mars 'bin/Modules/MSOnlineBackup/MSOnlineBackup.psd1'
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $psd1)
        Set-Content -LiteralPath $psd1 -Value '@{}'
        # the C:\ProgramData\ASR junction [3.3] is a folder here; its "target" is what Get-Item reports for a junction
        $script:Svsystems = Join-Path $env:ProgramData 'ASR/home/svsystems'
        $null = New-Item -ItemType Directory -Force -Path (Join-Path $Svsystems 'etc'), (Join-Path $Svsystems 'transport')
        Set-Content -LiteralPath (Join-Path $Svsystems 'etc/amethyst.conf') -Value @('PS_IP = "10.0.0.101"', 'PS_CS_IP = "10.0.0.11"', 'CX_TYPE = "2"', "DB_PASSWD = `"$DbPassword`"", '# a comment = no key')
        Set-Content -LiteralPath (Join-Path $Svsystems 'transport/cxps.conf') -Value @('[cxps]', 'ssl_port = 9443', 'cs_ip_address = 10.0.0.11')
        $script:Drscout = Join-Path $Target 'agent/Application Data/etc/drscout.conf'
        $null = New-Item -ItemType Directory -Force -Path (Split-Path $Drscout)
        Set-Content -LiteralPath $Drscout -Value @('[vxagent]', 'HostId=abc', 'Password=agent-secret', '[vxtransport]', 'Port=9443')
        Mock Get-Item -ParameterFilter { $LiteralPath -eq (Join-Path $env:ProgramData 'ASR') } -MockWith {
            [pscustomobject]@{ FullName = $LiteralPath; Target = @($script:Target) }
        }
        $logs = Join-Path $env:ProgramData 'ASRSetupLogs'
        $null = New-Item -ItemType Directory -Force -Path $logs
        Set-Content -LiteralPath (Join-Path $logs 'ASRUnifiedSetup.log') -Value 'Unified Setup has succeeded'
        Set-Content -LiteralPath (Join-Path $logs 'CX_InstallLogFile.log') -Value 'x'
        $script:Parameters = @{
            ProductNames = @('Microsoft Azure Site Recovery Configuration/Process Server')
            ServiceNames = @('ProcessServer', 'obengine')
            RelatedNames = @('Site Recovery', 'svsystems')
            InstallerSha256 = $false
        }
    }

    It 'records what no document settles on a process server, changes nothing and starts nothing (check mode: <CheckMode>)' -ForEach @(
        @{ CheckMode = $false }
        @{ CheckMode = $true }
    ) {
        Mock Invoke-NativeCommand { throw 'no program may start on a process server' }
        $before = Get-Written
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters -CheckMode:$CheckMode
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        Get-Written | Should -Be $before
        Should -Invoke Invoke-NativeCommand -Times 0 -Exactly
        $d = $run.Result
        $d.diagnose | Should -Be 'diagnose v1'
        $d.survey.probe | Should -Be 'probe v1' -Because 'the survey is the probe''s, made by the same fragment'
        $d.survey.installed_products.csps.cx_type | Should -Be '2'
        $d.powershell.version | Should -Be '5.1.14393.6343'
        $d.powershell.edition | Should -Be 'Desktop'
        $d.powershell.clr_version | Should -Be '4.0.30319.42000'
        $d.powershell.language_mode | Should -Be 'FullLanguage'
        $d.os.build_number | Should -Be '14393'
        $d.os.update_build_revision | Should -Be 6351
        $d.os.locale | Should -Be '0409'
        $d.os.os_language | Should -Be 1033
        $d.os.culture | Should -Be 'de-DE'
        $d.fips.enabled | Should -Be 1
        $d.fips.registry_key | Should -Be 'HKLM\System\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy'
        $d.execution_policy.effective | Should -Be 'AllSigned'
        $d.execution_policy.scopes.scope | Should -Be @('MachinePolicy', 'UserPolicy', 'Process', 'CurrentUser', 'LocalMachine')
        $d.execution_policy.scopes[0].policy | Should -Be 'AllSigned'
        $d.execution_policy.group_policy[0].execution_policy | Should -Be 'AllSigned'
        $d.execution_policy.group_policy[0].enable_scripts | Should -Be 1
        $d.execution_policy.group_policy[1].present | Should -BeFalse -Because 'no user policy key'
        $d.dotnet_framework.release | Should -Be 528449
        $d.dotnet_framework.version | Should -Be '4.8.03761'
        $d.defender.present | Should -BeTrue
        $d.defender.attack_surface_reduction_rules[0].id | Should -Be 'd1e49aac-8f56-4280-b9ba-993a6d77406c'
        $d.defender.attack_surface_reduction_rules.action | Should -Be @(1, 2)
        $d.defender.exclusion_paths | Should -Be @('C:\ProgramData\ASR')
        @($d.defender.exclusion_processes).Count | Should -Be 0
        $d.package | Should -BeNullOrEmpty -Because 'no package path was given'
    }

    It 'records the shape of Get-OBMachineSetting''s result and the registry values that name a proxy, never a value' {
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters
        $m = $run.Result.mars
        $m.module_present | Should -BeTrue
        $m.machine_setting.count | Should -Be 1
        $m.machine_setting.type_names[0] | Should -Be 'Microsoft.Internal.CloudBackup.Commands.OBMachineSetting'
        $m.machine_setting.properties.name | Should -Be @('ProxyServer', 'ProxyPort', 'ProxyUserName', 'ProxyPassword', 'BypassUrls', 'WorkDay')
        ($m.machine_setting.properties | Where-Object name -EQ 'ProxyPort').value_type | Should -Be 'System.Int32'
        $m.machine_setting.properties.value | Should -Be @('set', 'set', 'set', 'set', 'null', 'empty')
        $m.proxy_values.value_name | Should -Be @('ProxyPassword', 'ProxyServer')
        $m.proxy_values[0].registry_key | Should -Be 'HKLM\SOFTWARE\Microsoft\Windows Azure Backup\Config'
        $m.proxy_values[0].kind | Should -Be 'String'
        $run.Raw | Should -Not -Match 'MarsProxyPassword77|mars-proxy-pw' -Because 'the survey reports the MARS proxy user; the diagnosis no value'
    }

    It 'records the Add/Remove Programs entries as they are, the InMage keys and the ProxySettings value names' {
        $d = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result
        $entries = @($d.uninstall.entries)
        $entries.key_name | Sort-Object | Should -Be @('{275197FC-14FD-4560-A5EB-38217F80CBD1}', '{CSPS}_is1') -Because 'Notepad++ is not related'
        $csps = $entries | Where-Object key_name -EQ '{CSPS}_is1'
        $csps.values.QuietUninstallString | Should -Be '"E:\ASR\unins000.exe" /SILENT'
        $csps.values.'Inno Setup: App Path' | Should -Be 'E:\ASR\home\svsystems'
        $csps.value_names | Should -Contain 'Inno Setup: User'
        $csps.values.PSObject.Properties.Name | Should -Not -Contain 'Inno Setup: User' -Because 'a user name is named, not shown'
        $d.registry.installed_products.key_name | Sort-Object | Should -Be @('10', '9')
        ($d.registry.installed_products | Where-Object key_name -EQ '9').values.Proxy_Type | Should -Be 'Custom'
        $d.registry.proxy_settings_value_names | Should -Be @('ProxyIP', 'ProxyPassword', 'ProxyPort')
    }

    It 'keeps a list of one name a list' {
        $Registry['HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings'] = @{ ProxyIP = 'http://proxy' }
        Use-FakeRegistry -Keys $Registry
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters
        $run.Raw | Should -Match '"proxy_settings_value_names":\["ProxyIP"\]'
    }

    It 'records the expected and the related services, and the expected ones that are missing' {
        $d = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result
        $d.services.services.name | Should -Be @('ProcessServer', 'cxprocessserver') -Because 'cxps runs from svsystems; the spooler is not related'
        $d.services.services[0].delayed_auto_start | Should -BeTrue
        $d.services.services[0].start_mode | Should -Be 'Auto'
        $d.services.services[1].state | Should -Be 'Stopped'
        $d.services.missing | Should -Be @('obengine')
    }

    It 'finds drscout.conf under <InstallLocation>\agent and records the configuration files'' key names only' {
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters
        $d = $run.Result
        $d.drscout_conf.found | Should -Be (Join-Path $Target 'agent\Application Data\etc\drscout.conf')
        $d.drscout_conf.candidates[0].source | Should -Be '<InstallLocation>\agent [6.5]'
        $d.drscout_conf.candidates.exists | Should -Contain $false
        $d.drscout_conf.file.key_names | Should -Be @('vxagent/HostId', 'vxagent/Password', 'vxtransport/Port')
        $d.amethyst_conf.key_names | Should -Be @('PS_IP', 'PS_CS_IP', 'CX_TYPE', 'DB_PASSWD')
        $d.cxps_conf.key_names | Should -Be @('cxps/ssl_port', 'cxps/cs_ip_address')
        $d.setup_logs.files.name | Should -Be @('ASRUnifiedSetup.log', 'CX_InstallLogFile.log')
        $d.setup_logs.files[0].modified | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        $run.Raw | Should -Not -Match 'agent-secret|abc' -Because 'the diagnosis records no value of drscout.conf'
    }

    It 'never returns a secret the host keeps: amethyst.conf''s and the ProxySettings password, wherever they appear' {
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters
        $run.Raw | Should -Not -Match ([regex]::Escape($ProxyPassword))
        $run.Raw | Should -Not -Match ([regex]::Escape($DbPassword))
        ($run.Result.services.services | Where-Object name -EQ 'cxprocessserver').path_name | Should -Be 'E:\ASR\home\svsystems\transport\cxps.exe --password ********'
    }

    It 'records the package''s version text and its four fixed parts, which need not agree' {
        $package = Join-Path $TestDrive 'MicrosoftAzureSiteRecoveryUnifiedSetup.exe'
        Set-Content -LiteralPath $package -Value 'MZ'
        Mock Get-FileVersionInfo {
            [pscustomobject]@{
                FileVersion = '9.55.7123.1 (release build)'; ProductVersion = '9.55'
                FileMajorPart = 9; FileMinorPart = 56; FileBuildPart = 7300; FilePrivatePart = 2
                ProductMajorPart = 9; ProductMinorPart = 55; ProductBuildPart = 0; ProductPrivatePart = 0
            }
        }
        $d = (Invoke-AsrScript -Name diagnose -Parameters ($Parameters + @{ InstallerPath = $package })).Result
        $d.package.exists | Should -BeTrue
        $d.package.file_version | Should -Be '9.55.7123.1 (release build)'
        $d.package.file_version_parts | Should -Be @(9, 56, 7300, 2)
        $d.package.product_version | Should -Be '9.55'
        $d.package.product_version_parts | Should -Be @(9, 55, 0, 0)
        $d.survey.checks.installer.file_version | Should -Be '9.56.7300.2' -Because 'the survey compares the fixed parts'
    }

    It 'records a package that is not there, and one whose version resource cannot be read' {
        $missing = Join-Path $TestDrive 'absent.exe'
        $d = (Invoke-AsrScript -Name diagnose -Parameters ($Parameters + @{ InstallerPath = $missing })).Result
        $d.package.exists | Should -BeFalse
        $package = Join-Path $TestDrive 'busy.exe'
        Set-Content -LiteralPath $package -Value 'MZ'
        Mock Get-FileVersionInfo { throw [System.IO.IOException]::new('The process cannot access the file') }
        $d = (Invoke-AsrScript -Name diagnose -Parameters ($Parameters + @{ InstallerPath = $package })).Result
        $d.package.exists | Should -BeTrue
        $d.package.error | Should -Match 'cannot access the file'
    }

    It 'reports a host without Defender, and Defender that answers with an error' {
        Mock Get-DefenderPreference { $null }
        $d = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result
        $d.defender.present | Should -BeFalse
        @($d.defender.attack_surface_reduction_rules).Count | Should -Be 0
        Mock Get-DefenderPreference { throw [System.Runtime.InteropServices.COMException]::new('0x800106ba') }
        $d = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result
        $d.defender.present | Should -BeTrue
        $d.defender.error | Should -Match '800106ba'
    }

    It 'reports a part that fails with its error and reads the others' {
        Mock Get-ExecutionPolicy -ParameterFilter { $List } -MockWith { throw [System.InvalidOperationException]::new('policy store unavailable') }
        $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters
        $run.Error | Should -BeNullOrEmpty
        $run.Result.execution_policy.error | Should -Be 'policy store unavailable'
        $run.Result.fips.enabled | Should -Be 1
        $run.Result.survey.probe | Should -Be 'probe v1'
    }

    It 'reports a host without MARS or drscout.conf, and a version table without PSEdition (PowerShell 4.0)' {
        Use-FakeRegistry -Keys @{ $CspsKey = @{ CX_TYPE = 2 } }
        Remove-Item -LiteralPath $Drscout -Force
        Mock Get-PowerShellVersionTable { @{ PSVersion = [version]'4.0'; CLRVersion = [version]'4.0.30319.42000' } }
        $d = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result
        $d.mars.install_path | Should -BeNullOrEmpty
        $d.mars.module_present | Should -BeFalse
        @($d.mars.proxy_values).Count | Should -Be 0
        $d.drscout_conf.found | Should -BeNullOrEmpty
        $d.drscout_conf.file | Should -BeNullOrEmpty
        $d.powershell.edition | Should -BeNullOrEmpty
        $d.fips.enabled | Should -BeNullOrEmpty
        $d.registry.proxy_settings_value_names | Should -BeNullOrEmpty
    }

    Context 'on a configuration server' {
        BeforeEach {
            $script:MySqlPath = Join-Path $TestDrive 'MySQL'
            $script:ClientDir = Join-Path $MySqlPath 'bin'
            $null = New-Item -ItemType Directory -Path $ClientDir -Force
            $client = Join-Path $ClientDir 'mysql.exe'
            [System.IO.File]::WriteAllText($client, $script:Client)
            & chmod +x $client
            Remove-Item -LiteralPath (Join-Path $ClientDir 'args.txt') -ErrorAction SilentlyContinue
            $Registry[$CspsKey] = @{ Product_Name = 'Caspian CX'; CX_TYPE = 3; Build_Version = '9.55.7123.1' }
            Use-FakeRegistry -Keys $Registry
            Set-Content -LiteralPath (Join-Path $Svsystems 'etc/amethyst.conf') -Value @(
                'CX_TYPE = "3"', 'DB_NAME = "svsdb1"', 'DB_USER = "svsystems"', "DB_PASSWD = `"$DbPassword`"",
                'DB_ROOT_USER = "root"', 'DB_ROOT_PASSWD = "Root-Pa55word#8"', "MYSQL_PATH = `"$MySqlPath`"")
        }

        It 'reads svsdb1 once with the configuration server''s own account, in a READ ONLY transaction, and returns no password (check mode: <CheckMode>)' -ForEach @(
            @{ CheckMode = $false }
            @{ CheckMode = $true }
        ) {
            $run = Invoke-AsrScript -Name diagnose -Parameters $Parameters -CheckMode:$CheckMode
            $run.Error | Should -BeNullOrEmpty
            $run.Changed | Should -BeFalse
            $db = $run.Result.configuration_server_database
            $db.is_configuration_server | Should -BeTrue
            $db.credentials | Should -Be 'amethyst.conf'
            $db.rc | Should -Be 0
            $db.stdout | Should -BeLike "hostid`tname`tipaddress*"
            $db.statements | Should -BeLike 'SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; SELECT *; COMMIT'
            $db.stderr | Should -Be "mysql: [Warning] password ******** in use`n" -Because 'the client said the password: scrubbed'
            $arguments = @(Get-Content -LiteralPath (Join-Path $ClientDir 'args.txt'))
            $arguments[0..2] | Should -Be @('--batch', '--user=svsystems', '--database=svsdb1')
            $run.Raw | Should -Not -Match ([regex]::Escape($DbPassword))
            $run.Raw | Should -Not -Match 'Root-Pa55word'
            $run.Result.amethyst_conf.key_names | Should -Be @('CX_TYPE', 'DB_NAME', 'DB_USER', 'DB_PASSWD', 'DB_ROOT_USER', 'DB_ROOT_PASSWD', 'MYSQL_PATH')
        }

        It 'reports the missing credentials and starts nothing' {
            Set-Content -LiteralPath (Join-Path $Svsystems 'etc/amethyst.conf') -Value @('CX_TYPE = "3"', "MYSQL_PATH = `"$MySqlPath`"")
            $db = (Invoke-AsrScript -Name diagnose -Parameters $Parameters).Result.configuration_server_database
            $db.credentials_missing | Should -Be @('DB_USER', 'DB_PASSWD')
            $db.rc | Should -BeNullOrEmpty
            Test-Path -LiteralPath (Join-Path $ClientDir 'args.txt') | Should -BeFalse
        }
    }
}

Describe 'Protect-SecretText' {
    It 'replaces a secret inside any string of dictionaries and lists, and a short one only as a whole string' {
        $value = [ordered]@{ a = 'x Long-Secret y'; b = @('Long-Secret', 'abc', 5); c = [ordered]@{ d = 'abc'; e = 'xabcx' } }
        $out = Protect-SecretText -Value $value -Scrubbed @('Long-Secret', 'abc')
        $out.a | Should -Be 'x ******** y'
        $out.b | Should -Be @('********', '********', 5)
        $out.c.d | Should -Be '********'
        $out.c.e | Should -Be 'xabcx' -Because 'a secret of fewer than 6 characters would hit innocent text'
    }
}
