# asr.process_server script: unregister_purge v2
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# On a CONFIGURATION SERVER: purge ONE disconnected process server [5]: in %ProgramData%\ASR\home\svsystems\bin,
#   perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS
# This script CHANGES the configuration server and is only ever started by asr.process_server.unregister in a
# real run, after the controller read the registrations from the configuration server's database
# (registration_read) and decided the purge (plugin_utils/domain/unregister_plan.py); nothing read-only starts it
# (ARCHITECTURE.md decision 9).
# The revisions of the documentation disagree [5]: the 2017 one (the seed's) says the command purges at once, no
# prompt; the 2018/2019 ones describe a listing of the process servers with that IP address (S.No, IP/Name,
# Heartbeat) and a prompt for the S.No to unregister. Standard input therefore carries "1": the first row of a
# listing that only shows rows of this IP address, and unread by a script that purges at once. The controller
# reads the database again afterwards to verify, and runs this once per registered row (duplicates [5]).
# Takes no secret.
# The lab runs this text under pwsh (lab/scripts.py).
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$IpAddress
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

$binDir = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems\bin'
$scriptName = 'Unregister-ASRComponent.pl'
$cxType = $null
$key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9' -ErrorAction SilentlyContinue
if ($null -ne $key) {
    $cxType = $key.GetValue('CX_TYPE', $null)
}
$result = [ordered]@{
    is_configuration_server = ($null -ne $cxType -and @(1, 3) -contains [int]$cxType)
    bin_dir = $binDir
    script_present = (Test-Path -LiteralPath (Join-Path -Path $binDir -ChildPath $scriptName) -PathType Leaf)
    command = $null
    rc = $null
    stdout = $null
    stderr = $null
}
if ($result.is_configuration_server -and $result.script_present) {
    $Ansible.Changed = $true
    # perl is on the PATH of a configuration server (Dependencies, [6.2]).
    $arguments = @($scriptName, '-IPAddress', $IpAddress, '-Component', 'PS')
    $purge = Invoke-NativeCommand -FilePath 'perl.exe' -ArgumentList $arguments -WorkingDirectory $binDir -InputText "1`r`n" -TimeoutSeconds 300
    $result.command = $purge.command
    $result.rc = $purge.rc
    $result.stdout = $purge.stdout
    $result.stderr = $purge.stderr
}
$Ansible.Result = ConvertTo-Json -InputObject $result -Compress
