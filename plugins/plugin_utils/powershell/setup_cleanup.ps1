# asr.process_server script: setup_cleanup v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Remove what setup_start left for a Unified Setup run: first the secret files (passphrase [1.3], proxy
# settings [8]) -- always, even when setup is still running (ARCHITECTURE.md decision 6) -- then the run
# folder and the extracted setup files. While setup still runs (a hard timeout) its run folder and its
# extracted files are kept (setup executes from them); the result says so. Runs from the controller's
# `finally`, after a failure too. Idempotent. Windows PowerShell 5.1.
#
# Then, when the controller sends it, the collection's own probe script (probe.ps1, ProbeScript, with its
# parameters ProbeParameters) runs in this same call, after the files are gone: its result is returned as
# `post_state`, the host as setup left it, so the controller needs no separate final probe. A probe that fails
# does not fail the cleanup (`post_state_error`; the controller then probes on its own).
[CmdletBinding()]
param (
    [string]$RunDir = '',
    [string]$ExtractDir = '',
    [string[]]$SecretFiles = @(),
    [string]$ProbeScript = '',
    [System.Collections.IDictionary]$ProbeParameters = @{}
)

$ErrorActionPreference = 'Stop'

# asr.process_server include: run_state

$removed = [System.Collections.Generic.List[string]]@()
$problems = [System.Collections.Generic.List[string]]@()

function Remove-Path {
    param ([string]$Path)
    if (-not $Path -or -not (Test-Path -LiteralPath $Path)) {
        return
    }
    try {
        Remove-Item -LiteralPath $Path -Recurse -Force
        $removed.Add($Path)
    }
    catch {
        $problems.Add("${Path}: $($_.Exception.Message)")
    }
}

foreach ($file in $SecretFiles) {
    Remove-Path -Path $file
}
$stillRunning = $false
$processId = $null
if ($RunDir -and (Test-Path -LiteralPath $RunDir)) {
    $startedPath = Join-Path -Path $RunDir -ChildPath 'started.json'
    $statusPath = Join-Path -Path $RunDir -ChildPath 'status.json'
    if ((Test-Path -LiteralPath $startedPath -PathType Leaf) -and -not (Test-Path -LiteralPath $statusPath -PathType Leaf)) {
        $started = Get-Content -LiteralPath $startedPath -Raw | ConvertFrom-Json
        $processId = [int]$started.pid
        $stillRunning = Test-RunnerAlive -Started $started
    }
}
if (-not $stillRunning) {
    Remove-Path -Path $RunDir
    Remove-Path -Path $ExtractDir
}

# ---- the host after setup: probe.ps1 (read-only) in this same call ----------------------------------------
$postState = $null
$postStateError = $null
if ($ProbeScript) {
    try {
        # (not $probeParameters: PowerShell names are case-insensitive, that would be $ProbeParameters itself)
        $bound = @{}
        foreach ($key in $ProbeParameters.Keys) {
            $bound[[string]$key] = $ProbeParameters[$key]
        }
        $probe = [scriptblock]::Create($ProbeScript)
        $null = & $probe @bound  # sets $Ansible.Result to its JSON text, like on its own
        $postState = [string]$Ansible.Result
    }
    catch {
        $postStateError = $_.Exception.Message
    }
}

$Ansible.Changed = ($removed.Count -gt 0)
$json = ConvertTo-Json -Compress -InputObject ([ordered]@{
        removed = $removed.ToArray()
        problems = $problems.ToArray()
        still_running = $stillRunning
        pid = $processId
        post_state_error = $postStateError
    })
if ($postState) {
    # the probe's JSON text as it is (no second serialisation, no depth limit)
    $json = $json.Substring(0, $json.Length - 1) + ',"post_state":' + $postState + '}'
}
$Ansible.Result = $json
