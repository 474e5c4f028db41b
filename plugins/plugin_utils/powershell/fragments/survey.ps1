# asr.process_server fragment: survey
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe and diagnose (each also includes survey_parameters, shared_text, file_facts and
# uninstall_keys): the read-only survey of an ASR classic configuration/process server, as Get-Survey. Get-Survey
# reads the parameters of the script that includes it (the param block of the survey_parameters fragment); it changes
# nothing and never reads a password. Section numbers [x.y] refer to reference/asr-process-server.md.
# ---- helpers ----------------------------------------------------------------------------------------------
function Get-RegistryValue {
    param ([string]$Path, [string]$Name)
    $key = Get-Item -LiteralPath $Path -ErrorAction SilentlyContinue
    if ($null -eq $key) {
        return $null
    }
    return $key.GetValue($Name, $null)
}

function Split-Line {
    param ([string]$Text)
    $lines = [System.Collections.Generic.List[string]]@($Text -split "\r\n|\n|\r")
    if ($lines.Count -gt 0 -and $lines[$lines.Count - 1] -eq '') {
        $lines.RemoveAt($lines.Count - 1)
    }
    return , $lines.ToArray()
}

function ConvertTo-IsoUtc {
    param ([datetime]$Value)
    return $Value.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ', [System.Globalization.CultureInfo]::InvariantCulture)
}

function Read-ReportedText {
    # The text of a file the survey reports on, or $null: sets $Result.present, and $Result.error when the file exists
    # but cannot be read (locked by another process, or renamed between the test and the read); the survey goes on.
    param ([System.Collections.IDictionary]$Result, [string]$Path)
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $null
    }
    $Result.present = $true
    try {
        return Read-SharedText -Path $Path
    }
    catch {
        $Result.error = $_.Exception.GetBaseException().Message
        return $null
    }
}

function Read-ConfFile {
    # KEY = "value" lines ([6.5] amethyst.conf, cxps.conf); the last occurrence of a key wins. A file that cannot be
    # read is reported with error and no values (Read-ReportedText).
    param ([string]$Path, [string[]]$Keys)
    $result = [ordered]@{ path = $Path; present = $false; error = $null }
    foreach ($k in $Keys) {
        $result[$k.ToLowerInvariant()] = $null
    }
    $text = Read-ReportedText -Result $result -Path $Path
    if ($null -eq $text) {
        return $result
    }
    foreach ($line in (Split-Line -Text $text)) {
        $m = [regex]::Match($line, '^\s*([A-Za-z0-9_]+)\s*=\s*"?(.*?)"?\s*$')
        if (-not $m.Success) {
            continue
        }
        foreach ($k in $Keys) {
            if ($m.Groups[1].Value -ieq $k) {
                $result[$k.ToLowerInvariant()] = $m.Groups[2].Value
            }
        }
    }
    return $result
}

# ---- host facts: OS, CPU, memory, volumes (what sizing needs [7.1]) -----------------------------------------
function Get-HostFact {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem
    $cores = 0
    foreach ($cpu in @(Get-CimInstance -ClassName Win32_Processor)) {
        $cores += [int]$cpu.NumberOfCores
    }
    $volumes = [System.Collections.Generic.List[object]]@()
    foreach ($disk in @(Get-CimInstance -ClassName Win32_LogicalDisk | Where-Object { $_.DriveType -eq 3 })) {
        $volumes.Add([ordered]@{
                drive = [string]$disk.DeviceID
                size_bytes = [int64]$disk.Size
                free_bytes = [int64]$disk.FreeSpace
                filesystem = [string]$disk.FileSystem
            })
    }
    return [ordered]@{
        computer_name = [string]$env:COMPUTERNAME
        os = [ordered]@{
            caption = [string]$os.Caption
            version = [string]$os.Version
            system_drive = [string]$env:SystemDrive
        }
        cpu = [ordered]@{
            logical_processors = [int]$cs.NumberOfLogicalProcessors
            sockets = [int]$cs.NumberOfProcessors
            cores = $cores
        }
        memory_mb = [int64][math]::Floor([int64]$cs.TotalPhysicalMemory / 1048576)
        volumes = $volumes.ToArray()
    }
}

# ---- [6.1] Add/Remove Programs entries (setup matches DisplayName "contains" under Wow6432Node) --------------
function Get-UninstallEntry {
    param ([string[]]$Names)
    $entries = [System.Collections.Generic.List[object]]@()
    foreach ($found in (Find-UninstallKey -Names $Names)) {
        $key = $found.Key
        $entries.Add([ordered]@{
                registry_key = $found.Root.Replace('HKLM:\', 'HKLM\') + '\' + $key.PSChildName
                key_name = [string]$key.PSChildName
                display_name = $found.DisplayName
                display_version = $key.GetValue('DisplayVersion', $null)
                install_location = $key.GetValue('InstallLocation', $null)
                uninstall_string = $key.GetValue('UninstallString', $null)
                quiet_uninstall_string = $key.GetValue('QuietUninstallString', $null)
            })
    }
    return , $entries.ToArray()
}

# ---- [6.4] InMage "Installed Products": 9 = CS/PS (CX_TYPE, Build_Version...), 10 = Dependencies ------------
function Get-InstalledProduct {
    param ([string]$Number, [string[]]$ValueNames)
    $path = 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\' + $Number
    if (-not (Test-Path -LiteralPath $path)) {
        return $null
    }
    $result = [ordered]@{ registry_key = $path.Replace('HKLM:\', 'HKLM\') }
    foreach ($name in $ValueNames) {
        $value = Get-RegistryValue -Path $path -Name $name
        $result[$name.ToLowerInvariant()] = if ($null -eq $value) { $null } else { [string]$value }
    }
    return $result
}

# ---- [3.3] the C:\ProgramData\ASR junction to <InstallLocation>; [6.5] configuration files ------------------
function Get-AsrLayout {
    $junction = Join-Path -Path $env:ProgramData -ChildPath 'ASR'
    $target = $null
    $item = Get-Item -LiteralPath $junction -Force -ErrorAction SilentlyContinue
    if ($null -ne $item -and $item.PSObject.Properties['Target']) {
        $target = @($item.Target)[0]
    }
    $svsystems = Join-Path -Path $junction -ChildPath 'home\svsystems'
    $amethystKeys = @('PS_IP', 'PS_CS_IP', 'PS_CS_PORT', 'PS_CS_SECURED_COMMUNICATION', 'CS_IP', 'CS_PORT', 'CX_TYPE')
    return [ordered]@{
        asr_junction = [ordered]@{ path = $junction; exists = ($null -ne $item); target = $target }
        amethyst_conf = Read-ConfFile -Path (Join-Path $svsystems 'etc\amethyst.conf') -Keys $amethystKeys
        cxps_conf = Read-ConfFile -Path (Join-Path $svsystems 'transport\cxps.conf') -Keys @('ssl_port', 'cs_ip_address', 'cs_ssl_port')
    }
}

# ---- [6.4] proxy used by setup/registration (never a password value) ----------------------------------------
function Get-AsrProxySetting {
    $path = 'HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings'
    $values = [ordered]@{}
    $key = Get-Item -LiteralPath $path -ErrorAction SilentlyContinue
    if ($null -ne $key) {
        foreach ($name in @($key.GetValueNames() | Sort-Object)) {
            if ($name -notmatch 'pass') {
                $values[$name] = [string]$key.GetValue($name, $null)
            }
        }
    }
    return [ordered]@{ registry_key = $path.Replace('HKLM:\', 'HKLM\'); present = ($null -ne $key); values = $values }
}

# ---- [6.3] services: state and start mode ------------------------------------------------------------------
function Get-ServiceState {
    param ([string[]]$Names)
    $all = @(Get-CimInstance -ClassName Win32_Service)
    $states = [System.Collections.Generic.List[object]]@()
    foreach ($name in $Names) {
        $svc = $all | Where-Object { $_.Name -eq $name } | Select-Object -First 1
        if ($null -eq $svc) {
            $states.Add([ordered]@{ name = $name; present = $false; display_name = $null; state = $null; start_mode = $null })
            continue
        }
        $mode = ([string]$svc.StartMode).ToLowerInvariant()
        $delayed = Get-RegistryValue -Path ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $svc.Name) -Name 'DelayedAutostart'
        if ($mode -eq 'auto' -and $delayed -eq 1) {
            $mode = 'delayed'
        }
        $states.Add([ordered]@{
                name = [string]$svc.Name
                present = $true
                display_name = [string]$svc.DisplayName
                state = ([string]$svc.State).ToLowerInvariant().Replace(' ', '_')
                start_mode = $mode
            })
    }
    return , $states.ToArray()
}

# ---- [6.6] MARS agent proxy: read back with Get-OBMachineSetting; where MARS stores it is [UNCONFIRMED] -------
function Find-MarsModule {
    # [6.6] SRC SetMarsProxy: <InstallPath>\bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1 when the agent installed
    # at InstallPath has it, else $null.
    param ([string]$InstallPath)
    if (-not $InstallPath) {
        return $null
    }
    $psd1 = Join-Path -Path $InstallPath -ChildPath 'bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1'
    if (-not (Test-Path -LiteralPath $psd1 -PathType Leaf)) {
        return $null
    }
    return $psd1
}

function Read-MarsMachineSetting {
    # [6.6] Get-OBMachineSetting through the agent's own module (Find-MarsModule's Module), imported first; the
    # Result says module_present before the import, so a module that fails to import is reported as present.
    param ($Result, [string]$Module)
    $Result.module_present = $true
    Import-Module -Name $Module
    Get-OBMachineSetting
}

function Get-MarsState {
    $installPath = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup' -Name 'InstallPath'
    $result = [ordered]@{ install_path = $installPath; module_present = $false; proxy = [ordered]@{ source = 'unknown' }; error = $null }
    $psd1 = Find-MarsModule -InstallPath $installPath
    if (-not $psd1) {
        return $result
    }
    try {
        $setting = Read-MarsMachineSetting -Result $result -Module $psd1
        $server = if ($setting.PSObject.Properties['ProxyServer']) { [string]$setting.ProxyServer } else { '' }
        $port = if ($setting.PSObject.Properties['ProxyPort']) { $setting.ProxyPort } else { $null }
        $user = if ($setting.PSObject.Properties['ProxyUserName']) { [string]$setting.ProxyUserName } else { '' }
        $result.proxy = [ordered]@{
            source = 'Get-OBMachineSetting'
            enabled = [bool]$server
            address = if ($server) { $server } else { $null }
            port = if ($server -and $port) { [int]$port } else { $null }
            username = if ($user) { $user } else { $null }
        }
    }
    catch {
        $result.error = $_.Exception.Message
    }
    return $result
}

# ---- [6.3] common-sense pending reboot markers --------------------------------------------------------------
function Get-PendingReboot {
    $reasons = [System.Collections.Generic.List[string]]@()
    $renames = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations'
    if ($null -ne $renames -and @($renames).Count -gt 0) {
        $reasons.Add('PendingFileRenameOperations')
    }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending') {
        $reasons.Add('CBS RebootPending')
    }
    if (Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired') {
        $reasons.Add('WU RebootRequired')
    }
    return [ordered]@{ pending = ($reasons.Count -gt 0); reasons = $reasons.ToArray() }
}

# ---- [1.5] last Unified Setup result from ASRUnifiedSetup.log ---------------------------------------------
function Get-SetupLog {
    param ([bool]$Tail, [int]$Lines)
    # Setup writes under %ProgramData% ([1.5] SRC Constants.cs spells it %SystemDrive%\ProgramData, the same folder
    # on a default Windows; $env:ProgramData is where it is when that was moved).
    $path = Join-Path -Path $env:ProgramData -ChildPath 'ASRSetupLogs\ASRUnifiedSetup.log'
    $result = [ordered]@{ path = $path; present = $false; modified = $null; result = 'absent'; result_line = $null; tail = $null; error = $null }
    if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
        return $result
    }
    $result.present = $true
    $result.result = 'unknown'
    try {
        # locked by another process, or rotated between the test and the read: reported, and the survey goes on
        $result.modified = ConvertTo-IsoUtc -Value (Get-Item -LiteralPath $path).LastWriteTimeUtc
        $all = Split-Line -Text (Read-SharedText -Path $path)
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
        return $result
    }
    for ($i = $all.Count - 1; $i -ge 0; $i--) {
        $m = [regex]::Match($all[$i], 'Unified Setup has (succeeded|failed)', [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)
        if ($m.Success) {
            $result.result = $m.Groups[1].Value.ToLowerInvariant()
            $result.result_line = $all[$i]
            break
        }
    }
    if ($Tail) {
        $tailLines = [System.Collections.Generic.List[string]]@()
        for ($i = [math]::Max(0, $all.Count - $Lines); $i -lt $all.Count; $i++) {
            $tailLines.Add($all[$i])
        }
        $result.tail = $tailLines.ToArray()
    }
    return $result
}

# ---- [1.3] .NET Framework: Unified Setup needs 4.6.2 or later -----------------------------------------------
function Get-DotNetFramework {
    # The .NET Framework 4.x release number, Microsoft's documented way to tell the version (NDP\v4\Full, Release;
    # 4.6.2 is 394802 or later). Without 4.6.2 Unified Setup shows a message box, invisible in session 0, and never
    # ends [1.3]: the controller refuses before it runs.
    $release = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full' -Name 'Release'
    return [ordered]@{ release = if ($null -ne $release) { [int]$release } else { $null } }
}

# ---- the session: who runs this call and how it logged on (installers need elevation and no network logon) -----
function Get-CallerToken {
    # Windows seam (the lab's shim and the Pester tests replace it): the Windows token this call runs with.
    $id = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal -ArgumentList $id
    return [ordered]@{
        name = [string]$id.Name
        is_system = [bool]$id.IsSystem
        elevated = [bool]$principal.IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)
        group_sids = @(foreach ($group in @($id.Groups)) { [string]$group.Value })
    }
}

function Get-SessionIdentity {
    # ansible-windows-practice.md §4 pain 1: over a WinRM network logon (token group NETWORK, S-1-5-2)
    # installers can fail with Access Denied; become (e.g. SYSTEM) gives a token without that restriction.
    $token = Get-CallerToken
    return [ordered]@{
        name = $token.name
        is_system = $token.is_system
        elevated = $token.elevated
        network_logon = (@($token.group_sids) -contains 'S-1-5-2')
    }
}

# ---- optional checks -------------------------------------------------------------------------------------
function New-TcpClient {
    # Windows seam (the lab's shim and the Pester tests replace it): a TCP client on this host's network.
    return New-Object -TypeName System.Net.Sockets.TcpClient
}

function Test-TcpPort {
    param ([string]$Address, [int]$Port, [int]$TimeoutMs)
    $result = [ordered]@{ address = $Address; port = $Port; reachable = $false; error = $null }
    $client = New-TcpClient
    try {
        $pending = $client.BeginConnect($Address, $Port, $null, $null)
        if (-not $pending.AsyncWaitHandle.WaitOne($TimeoutMs, $false)) {
            $result.error = "timed out after $TimeoutMs ms"
        }
        else {
            $client.EndConnect($pending)
            $result.reachable = $true
        }
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
    }
    finally {
        $client.Close()
    }
    return $result
}

function Get-InstallerFact {
    param ([string]$Path, [bool]$WithChecksum)
    $result = [ordered]@{ path = $Path; exists = $false; size_bytes = $null; file_version = $null; product_version = $null; sha256 = $null; error = $null }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $result
    }
    $result.exists = $true
    try {
        $result.size_bytes = [int64](Get-Item -LiteralPath $Path).Length
        $info = Get-FileVersionInfo -Path $Path
        $result.file_version = Get-FileFixedVersion -Info $info
        $result.product_version = $info.ProductVersion
        if ($WithChecksum) {
            $result.sha256 = Get-FileSha256 -Path $Path
        }
    }
    catch {
        # still being written (a transfer), or locked: reported, and the survey goes on
        $result.error = $_.Exception.GetBaseException().Message
    }
    return $result
}

function Get-ProtectedFileFact {
    # SHA256 of the file (compared on the controller with the content it would write) and its access rules as
    # SIDs, so the controller can tell whether only SYSTEM and Administrators may read it. Never the text.
    param ([string]$Path)
    $result = [ordered]@{ path = $Path; exists = $false; sha256 = $null; access_sids = @(); inheritance_protected = $null; error = $null }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $result
    }
    $result.exists = $true
    try {
        $result.sha256 = Get-FileSha256 -Path $Path
        $acl = Get-Acl -LiteralPath $Path
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
        return $result
    }
    $sids = [System.Collections.Generic.List[string]]@()
    foreach ($rule in @($acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier]))) {
        if (-not $sids.Contains($rule.IdentityReference.Value)) {
            $sids.Add($rule.IdentityReference.Value)
        }
    }
    $result.access_sids = $sids.ToArray()
    $result.inheritance_protected = [bool]$acl.AreAccessRulesProtected
    return $result
}

function Get-PassphraseFileFact {
    # /PassphraseFilePath [1.2, 1.3]: setup reads the configuration server's passphrase from this file (one line:
    # genpassphrase.exe -v [3.2]) as the session that runs setup, the same session as this read. Reports whether
    # it can, how many lines (and non-empty lines) it holds and whether it lies under a user profile; the text
    # itself is read only to count lines and never leaves this function.
    param ([string]$Path)
    $profiles = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList' -Name 'ProfilesDirectory'
    if (-not $profiles) {
        $profiles = [string]$env:SystemDrive + '\Users'  # Windows' default profiles folder
    }
    $profiles = ([string]$profiles).TrimEnd('\')
    $result = [ordered]@{
        path = $Path
        exists = $false
        readable = $false
        error = $null
        lines = $null
        non_empty_lines = $null
        profiles_directory = $profiles
        under_user_profile = $Path.StartsWith($profiles + '\', [System.StringComparison]::OrdinalIgnoreCase)
    }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $result
    }
    $result.exists = $true
    try {
        $lines = Split-Line -Text (Read-SharedText -Path $Path)
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
        return $result
    }
    $result.readable = $true
    $result.lines = $lines.Count
    $result.non_empty_lines = @($lines | Where-Object { $_.Trim() -ne '' }).Count
    return $result
}

# ---- the survey ------------------------------------------------------------------------------------------
function Get-Survey {
    # The survey as the including script's parameters ask for it ($ProductNames, $ServiceNames, $IncludeLogTail, ...:
    # the survey_parameters fragment). 'probe v1' names the survey's format (the lab imports it: lab/survey_import.py).
    $survey = Get-HostFact
    $survey.uninstall_entries = Get-UninstallEntry -Names $ProductNames
    $csPsValues = @('Product_Name', 'InstallDirectory', 'CX_TYPE', 'Build_Version', 'Proxy_Type')
    $survey.installed_products = [ordered]@{
        csps = Get-InstalledProduct -Number '9' -ValueNames $csPsValues
        dependencies = Get-InstalledProduct -Number '10' -ValueNames @('Product_Name', 'InstallDirectory', 'Build_Version')
    }
    $layout = Get-AsrLayout
    foreach ($name in $layout.Keys) {
        $survey[$name] = $layout[$name]
    }
    $survey.asr_proxy = Get-AsrProxySetting
    $survey.services = Get-ServiceState -Names $ServiceNames
    $survey.mars = Get-MarsState
    $survey.pending_reboot = Get-PendingReboot
    $survey.setup_log = Get-SetupLog -Tail $IncludeLogTail -Lines $LogTailLines
    $survey.dotnet_framework = Get-DotNetFramework
    $survey.identity = Get-SessionIdentity
    $survey.checks = [ordered]@{ configuration_server = $null; installer = $null }
    if ($CheckRegisteredConfigurationServer -and $survey.amethyst_conf.ps_cs_ip) {
        $registeredPort = 443
        if ($survey.amethyst_conf.ps_cs_port -match '^[0-9]+$') {
            $registeredPort = [int]$survey.amethyst_conf.ps_cs_port
        }
        $survey.checks.registered_configuration_server = Test-TcpPort -Address $survey.amethyst_conf.ps_cs_ip -Port $registeredPort -TimeoutMs $ConnectTimeoutMs
    }
    if ($ProxySettingsFilePath) {
        $survey.checks.proxy_settings_file = Get-ProtectedFileFact -Path $ProxySettingsFilePath
    }
    if ($PassphraseFilePath) {
        $survey.checks.passphrase_file = Get-PassphraseFileFact -Path $PassphraseFilePath
    }
    if ($ConfigurationServerIp) {
        $survey.checks.configuration_server = Test-TcpPort -Address $ConfigurationServerIp -Port $ConfigurationServerPort -TimeoutMs $ConnectTimeoutMs
    }
    if ($InstallerPath) {
        $survey.checks.installer = Get-InstallerFact -Path $InstallerPath -WithChecksum $InstallerSha256
    }
    if ($InstallerUploadName) {
        $uploadFolder = Join-Path -Path $env:SystemRoot -ChildPath 'Temp'
        $upload = Get-InstallerFact -Path (Join-Path -Path $uploadFolder -ChildPath $InstallerUploadName) -WithChecksum $InstallerSha256
        $upload.folder = $uploadFolder
        $upload.folder_exists = Test-Path -LiteralPath $uploadFolder -PathType Container
        $survey.checks.installer_upload = $upload
    }
    $survey.probe = 'probe v1'
    return $survey
}
