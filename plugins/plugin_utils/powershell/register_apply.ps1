# asr.process_server script: register_apply v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Re-register the master target of a process server with its configuration server [3.3] (seed doc
# "Réinscription d'un serveur de traitement"): in %ProgramData%\ASR\Agent run
#   cdpcli.exe --registermt
#   net stop obengine
#   net start obengine
# in one remote call. The controller decided to do it from the probe (plugins/plugin_utils/domain/registration_plan.py).
# A failed step stops the script and is reported (ok = false) with its exit code and output, and so is a terminating
# error (with the steps done before it). Takes no secret.
# The lab runs this text under pwsh (lab/scripts.py).
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $true

# asr.process_server include: native_command

# asr.process_server include: service_steps

$result = [ordered]@{ ok = $true; failed_step = $null; steps = [System.Collections.Generic.List[object]]@() }
$agentDir = Join-Path -Path $env:ProgramData -ChildPath 'ASR\Agent'
$cdpcli = Join-Path -Path $agentDir -ChildPath 'cdpcli.exe'
$stage = 'registermt'
try {
    if (-not (Test-Path -LiteralPath $cdpcli -PathType Leaf)) {
        $Ansible.Changed = $false
        Add-Step -Name 'registermt' -Outcome ([ordered]@{ rc = 2; stdout = ''; stderr = "$cdpcli does not exist." }) | Out-Null
    }
    else {
        $register = Invoke-NativeCommand -FilePath $cdpcli -ArgumentList @('--registermt') -WorkingDirectory $agentDir -TimeoutSeconds 600
        if (Add-Step -Name 'registermt' -Outcome $register) {
            $stage = 'restart_obengine'
            Restart-Obengine -Suffix '' | Out-Null
        }
    }
}
catch {
    # a terminating error (a program that cannot start, a cmdlet that throws): the steps done so far, and this one
    Add-Step -Name $stage -Outcome ([ordered]@{ rc = $null; stdout = ''; stderr = $_.Exception.Message; error = $true }) | Out-Null
}

$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 6 -Compress
