# asr.process_server fragment: run_state
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into setup_start, setup_poll and setup_cleanup: the times a run records, and whether the
# detached runner a run folder names still runs.
function ConvertTo-IsoUtc {
    # A point in time as UTC ISO-8601 text, the same whatever the host's culture (its time separator may not be ':').
    param ([datetime]$Value, [switch]$Milliseconds)
    $format = if ($Milliseconds) { 'yyyy-MM-ddTHH:mm:ss.fffZ' } else { 'yyyy-MM-ddTHH:mm:ssZ' }
    return $Value.ToUniversalTime().ToString($format, [System.Globalization.CultureInfo]::InvariantCulture)
}

function Test-RunnerAlive {
    # Whether the runner that started.json records still runs: a process with its id, named powershell, started when
    # the runner was (process_started, to the second): Windows reuses process ids, and a process started later with
    # the runner's id is another one. Without either start time (an older setup_start's record) it is judged by name.
    param ($Started)
    $process = Get-Process -Id ([int]$Started.pid) -ErrorAction SilentlyContinue
    if ($null -eq $process -or $process.ProcessName -ne 'powershell') {
        return $false
    }
    if (-not $Started.process_started -or $null -eq $process.StartTime) {
        return $true   # (a process this account may not open shows no start time)
    }
    $invariant = [System.Globalization.CultureInfo]::InvariantCulture
    $styles = [System.Globalization.DateTimeStyles]::AssumeUniversal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal
    $recorded = [datetime]::ParseExact([string]$Started.process_started, 'yyyy-MM-ddTHH:mm:ss.fffZ', $invariant, $styles)
    return ([math]::Abs(($process.StartTime.ToUniversalTime() - $recorded).TotalSeconds) -lt 1)
}
