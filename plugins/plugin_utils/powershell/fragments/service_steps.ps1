# asr.process_server fragment: service_steps
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into proxy_apply and register_apply: the steps they report in $result (ok, failed_step,
# steps), and the restart of the MARS agent's service obengine that both end with ([8], [3.3]).
function Add-Step {
    # Record one step (rc, stdout, stderr) under its name in $result.steps; a step that failed ends the run.
    param ([string]$Name, $Outcome)
    $Outcome.name = $Name
    $result.steps.Add($Outcome)
    $ok = ($Outcome.rc -eq 0) -or [bool]$Outcome.already_running
    if (-not $ok) {
        $result.ok = $false
        $result.failed_step = $Name
    }
    return $ok
}

function Restart-Obengine {
    # [8] net stop obengine / net start obengine. net stop only when it runs (net stop fails on a stopped service).
    # net start on a service that runs again (it restarts on its own after a failure) exits 2, "The requested service
    # has already been started" (NET HELPMSG 2182): when the service then runs, that is success (already_running).
    param ([string]$Suffix)
    $service = Get-Service -Name 'obengine' -ErrorAction SilentlyContinue
    if ($null -eq $service) {
        return (Add-Step -Name "restart_obengine$Suffix" -Outcome ([ordered]@{ rc = 1060; stdout = ''; stderr = 'The obengine service does not exist.' }))
    }
    if ([string]$service.Status -ne 'Stopped') {
        $stop = Invoke-NativeCommand -FilePath 'net.exe' -ArgumentList @('stop', 'obengine') -TimeoutSeconds 600
        if (-not (Add-Step -Name "stop_obengine$Suffix" -Outcome $stop)) {
            return $false
        }
    }
    $start = Invoke-NativeCommand -FilePath 'net.exe' -ArgumentList @('start', 'obengine') -TimeoutSeconds 600
    if ($start.rc -eq 2 -and [string](Get-Service -Name 'obengine' -ErrorAction SilentlyContinue).Status -eq 'Running') {
        $start.already_running = $true
    }
    return (Add-Step -Name "start_obengine$Suffix" -Outcome $start)
}
