# asr.process_server fragment: native_command
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script (plugins/plugin_utils/powershell/loader.py) in place of the line
# "# asr.process_server include: native_command" of a collection script: one copy of how the collection runs a
# Windows program, for every script that runs one (Unified Setup's helpers, cdpcli.exe, net.exe, MsiExec.exe,
# the configuration server's Perl).
function ConvertTo-ArgumentText {
    # One argument quoted for CommandLineToArgvW / the MSVC runtime (backslashes doubled before a quote).
    param ([string]$Value)
    if ($Value -and $Value -notmatch '[\s"]') {
        return $Value
    }
    $escaped = [regex]::Replace($Value, '(\\*)"', { param($m) $m.Groups[1].Value + $m.Groups[1].Value + '\"' })
    # \z, not $: '$' also matches before a final line end, and backslashes there are literal (not before the quote)
    $escaped = [regex]::Replace($escaped, '(\\+)\z', { param($m) $m.Groups[1].Value + $m.Groups[1].Value })
    return '"' + $escaped + '"'
}

function Start-NativeProcess {
    # Windows seam (the lab's shim and the Pester tests replace it): start the program a ProcessStartInfo describes.
    param ([System.Diagnostics.ProcessStartInfo]$StartInfo)
    return [System.Diagnostics.Process]::Start($StartInfo)
}

function Stop-ProcessTree {
    # Windows seam (the lab's shim and the Pester tests replace it): stop a process and every process it started,
    # the deepest first (.NET Framework 4.5's Process.Kill() stops one process; a child left alive keeps the output
    # pipes open). Only processes this call started are stopped.
    param ([int]$ProcessId)
    $children = @{}
    foreach ($process in @(Get-CimInstance -ClassName Win32_Process)) {
        $parent = [int]$process.ParentProcessId
        if (-not $children.ContainsKey($parent)) {
            $children[$parent] = [System.Collections.Generic.List[int]]@()
        }
        $children[$parent].Add([int]$process.ProcessId)
    }
    $order = [System.Collections.Generic.List[int]]@()
    $pending = [System.Collections.Generic.Stack[int]]::new()
    $pending.Push($ProcessId)
    while ($pending.Count -gt 0) {
        $id = $pending.Pop()
        if ($order.Contains($id)) {
            continue
        }
        $order.Insert(0, $id)
        if ($children.ContainsKey($id)) {
            foreach ($child in $children[$id]) {
                $pending.Push($child)
            }
        }
    }
    foreach ($id in $order) {
        # read-only: stops only the program this call started and what it started, when it outlived its time
        Stop-Process -Id $id -Force -ErrorAction SilentlyContinue
    }
}

function Invoke-NativeCommand {
    # Run a program without a shell; its exit code, stdout and stderr (read concurrently: no pipe deadlock).
    # -InputText is written to its standard input, which is then closed (an unanswered prompt reads end of input).
    # -Environment adds variables to the CHILD's environment only (never this session's, never a command line).
    # A program still running after -TimeoutSeconds is stopped with every process it started: rc is then $null,
    # timed_out $true and stderr says so.
    param ([string]$FilePath, [string[]]$ArgumentList = @(), [string]$WorkingDirectory = '', [string]$InputText = '',
        [hashtable]$Environment = @{}, [int]$TimeoutSeconds = 1800)
    $psi = New-Object -TypeName System.Diagnostics.ProcessStartInfo
    $psi.FileName = $FilePath
    $psi.Arguments = (@($ArgumentList | ForEach-Object { ConvertTo-ArgumentText -Value $_ }) -join ' ')
    if ($WorkingDirectory) {
        $psi.WorkingDirectory = $WorkingDirectory
    }
    foreach ($name in @($Environment.Keys)) {
        $psi.EnvironmentVariables[$name] = [string]$Environment[$name]
    }
    $psi.UseShellExecute = $false
    $psi.CreateNoWindow = $true
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $process = Start-NativeProcess -StartInfo $psi
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if ($InputText) {
        $process.StandardInput.Write($InputText)
    }
    $process.StandardInput.Close()
    $timedOut = -not $process.WaitForExit($TimeoutSeconds * 1000)
    if ($timedOut) {
        Stop-ProcessTree -ProcessId $process.Id
        $process.WaitForExit()
    }
    $errorText = $stderr.Result
    if ($timedOut) {
        $errorText += "asr.process_server: $FilePath was still running after $TimeoutSeconds s; it was stopped with every process it started."
    }
    return [ordered]@{
        command = (@($FilePath) + @($ArgumentList)) -join ' '
        rc = if ($timedOut) { $null } else { $process.ExitCode }
        stdout = $stdout.Result
        stderr = $errorText
        timed_out = $timedOut
    }
}
