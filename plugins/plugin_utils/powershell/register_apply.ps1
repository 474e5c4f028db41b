# asr.process_server script: register_apply v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Re-register the master target of a process server with its configuration server [3.3] (seed doc
# "Réinscription d'un serveur de traitement"): in %ProgramData%\ASR\Agent run
#   cdpcli.exe --registermt
#   net stop obengine
#   net start obengine
# in one remote call. The controller decided to do it from the probe (plugins/plugin_utils/registration_plan.py).
# A failed step stops the script and is reported (ok = false) with its exit code and output. Takes no secret.
# Lab mirror: lab/collection_scripts/register_apply.py.
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $true

# asr.process_server include: native_command

$steps = [System.Collections.Generic.List[object]]@()
$result = [ordered]@{ ok = $true; failed_step = $null; steps = $steps }

function Add-Step {
    param ([string]$Name, $Outcome)
    $Outcome.name = $Name
    $steps.Add($Outcome)
    if ($Outcome.rc -ne 0) {
        $result.ok = $false
        $result.failed_step = $Name
    }
    return ($Outcome.rc -eq 0)
}

$agentDir = Join-Path -Path $env:ProgramData -ChildPath 'ASR\Agent'
$cdpcli = Join-Path -Path $agentDir -ChildPath 'cdpcli.exe'
if (-not (Test-Path -LiteralPath $cdpcli -PathType Leaf)) {
    $Ansible.Changed = $false
    Add-Step -Name 'registermt' -Outcome ([ordered]@{ rc = 2; stdout = ''; stderr = "$cdpcli does not exist." }) | Out-Null
}
else {
    $register = Invoke-NativeCommand -FilePath $cdpcli -ArgumentList @('--registermt') -WorkingDirectory $agentDir
    if (Add-Step -Name 'registermt' -Outcome $register) {
        $service = Get-Service -Name 'obengine' -ErrorAction SilentlyContinue
        $stopped = $true
        if ($null -ne $service -and $service.Status -ne 'Stopped') {
            $stopped = Add-Step -Name 'stop_obengine' -Outcome (Invoke-NativeCommand -FilePath 'net.exe' -ArgumentList @('stop', 'obengine'))
        }
        if ($stopped) {
            Add-Step -Name 'start_obengine' -Outcome (Invoke-NativeCommand -FilePath 'net.exe' -ArgumentList @('start', 'obengine')) | Out-Null
        }
    }
}

$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 6 -Compress
