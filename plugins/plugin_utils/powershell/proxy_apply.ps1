# asr.process_server script: proxy_apply v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Change the proxy of the Microsoft Azure Recovery Services agent (MARS, service obengine) on a scale-out process
# server, as documented [8] (seed doc "Modification des paramètres de proxy", vmware-azure-manage-process-server.md):
#   Set-OBMachineSetting -ProxyServer ... -ProxyPort ... [-ProxyUserName ... -ProxyPassword <SecureString>]
#   (or -NoProxy [6.6]); net stop obengine; net start obengine;
#   then in %ProgramData%\ASR\Agent: cdpcli.exe --registermt; net stop obengine; net start obengine.
# Optionally writes the [ProxySettings] file Unified Setup reads [8] (rendered on the controller, never with a
# password) with access for SYSTEM and Administrators only.
# The controller decided what to do from the probe (plugins/plugin_utils/domain/proxy_plan.py); this script does it in
# one remote call and reports every step. The password arrives only as a SecureString (win_powershell
# sensitive_parameters) and is passed to Set-OBMachineSetting as one; it is never on a command line or written.
# A failed step stops the script and is reported (ok = false) with its exit code and output, and so does a terminating
# error (with the steps done before it); the next run probes again, so it repairs whatever is left.
# The lab runs this text under pwsh (lab/scripts.py).
[CmdletBinding()]
param (
    [bool]$SetMarsProxy = $false,
    [bool]$NoProxy = $false,
    [string]$ProxyServer = '',
    [int]$ProxyPort = 0,
    [string]$ProxyUserName = '',
    [System.Security.SecureString]$ProxyPassword = $null,
    [bool]$RegisterMt = $false,
    [string]$SettingsFilePath = '',
    [string]$SettingsFileContent = ''
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

# asr.process_server include: protected_files

# asr.process_server include: service_steps

$result = [ordered]@{ ok = $true; failed_step = $null; steps = [System.Collections.Generic.List[object]]@(); readback = $null }

function Import-MarsModule {
    # [6.6] SRC SetMarsProxy: <InstallPath>\bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1, InstallPath from the registry.
    $setup = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup' -ErrorAction SilentlyContinue
    $installPath = if ($null -ne $setup) { $setup.GetValue('InstallPath', $null) } else { $null }
    if (-not $installPath) {
        throw 'The Microsoft Azure Recovery Services Agent is not installed (no InstallPath under HKLM:\SOFTWARE\Microsoft\Windows Azure Backup\Setup).'
    }
    Import-Module -Name (Join-Path -Path $installPath -ChildPath 'bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1')
}

function Set-MarsProxy {
    try {
        Import-MarsModule
        if ($NoProxy) {
            Set-OBMachineSetting -NoProxy -Confirm:$false | Out-Null
        }
        elseif ($ProxyUserName) {
            $credential = @{ ProxyUserName = $ProxyUserName; ProxyPassword = $ProxyPassword }
            Set-OBMachineSetting -ProxyServer $ProxyServer -ProxyPort $ProxyPort @credential -Confirm:$false | Out-Null
        }
        else {
            Set-OBMachineSetting -ProxyServer $ProxyServer -ProxyPort $ProxyPort -Confirm:$false | Out-Null
        }
        return (Add-Step -Name 'set_ob_machine_setting' -Outcome ([ordered]@{ rc = 0; stdout = ''; stderr = '' }))
    }
    catch {
        return (Add-Step -Name 'set_ob_machine_setting' -Outcome ([ordered]@{ rc = 1; stdout = ''; stderr = $_.Exception.Message }))
    }
}

function Write-SettingsFile {
    # [8] the [ProxySettings] file; ACL: SYSTEM and Administrators only, inheritance removed, set before the content.
    try {
        $folder = Split-Path -Path $SettingsFilePath -Parent
        if ($folder -and -not (Test-Path -LiteralPath $folder -PathType Container)) {
            New-Item -Path $folder -ItemType Directory -Force | Out-Null
        }
        if (-not (Test-Path -LiteralPath $SettingsFilePath -PathType Leaf)) {
            Set-FileText -Path $SettingsFilePath -Text ''
        }
        Set-Acl -LiteralPath $SettingsFilePath -AclObject (New-AdminOnlyAcl)
        Set-FileText -Path $SettingsFilePath -Text $SettingsFileContent
        return (Add-Step -Name 'write_settings_file' -Outcome ([ordered]@{ rc = 0; stdout = ''; stderr = '' }))
    }
    catch {
        return (Add-Step -Name 'write_settings_file' -Outcome ([ordered]@{ rc = 1; stdout = ''; stderr = $_.Exception.Message }))
    }
}

function Read-MarsProxy {
    try {
        Import-MarsModule
        $setting = Get-OBMachineSetting
        $server = if ($setting.PSObject.Properties['ProxyServer']) { [string]$setting.ProxyServer } else { '' }
        $port = if ($setting.PSObject.Properties['ProxyPort']) { $setting.ProxyPort } else { $null }
        $user = if ($setting.PSObject.Properties['ProxyUserName']) { [string]$setting.ProxyUserName } else { '' }
        return [ordered]@{
            enabled = [bool]$server
            address = if ($server) { $server } else { $null }
            port = if ($server -and $port) { [int]$port } else { $null }
            username = if ($user) { $user } else { $null }
        }
    }
    catch {
        return [ordered]@{ error = $_.Exception.Message }
    }
}

$stage = 'set_ob_machine_setting'
try {
    $done = $true
    if ($SetMarsProxy) {
        $Ansible.Changed = $true
        $done = Set-MarsProxy
        if ($done) {
            $stage = 'restart_obengine'
            $done = Restart-Obengine -Suffix ''
        }
        if ($done -and $RegisterMt) {
            # [3.3]/[8] from %ProgramData%\ASR\Agent (the junction to <InstallLocation>\agent).
            $stage = 'registermt'
            $agentDir = Join-Path -Path $env:ProgramData -ChildPath 'ASR\Agent'
            $cdpcli = Join-Path -Path $agentDir -ChildPath 'cdpcli.exe'
            $register = Invoke-NativeCommand -FilePath $cdpcli -ArgumentList @('--registermt') -WorkingDirectory $agentDir -TimeoutSeconds 600
            $done = Add-Step -Name 'registermt' -Outcome $register
            if ($done) {
                $stage = 'restart_obengine_after_registermt'
                $done = Restart-Obengine -Suffix '_after_registermt'
            }
        }
    }
    if ($done -and $SettingsFilePath) {
        $Ansible.Changed = $true
        $stage = 'write_settings_file'
        $done = Write-SettingsFile
    }
}
catch {
    # a terminating error (a program that cannot start, a cmdlet that throws): the steps done so far, and this one
    Add-Step -Name $stage -Outcome ([ordered]@{ rc = $null; stdout = ''; stderr = $_.Exception.Message; error = $true }) | Out-Null
}
$result.readback = Read-MarsProxy

$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 6 -Compress
