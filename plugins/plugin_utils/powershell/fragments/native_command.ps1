# asr.process_server fragment: native_command
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script (plugins/plugin_utils/_action_base.py) in place of the line
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

function Invoke-NativeCommand {
    # Run a program without a shell; its exit code, stdout and stderr (read concurrently: no pipe deadlock).
    # -InputText is written to its standard input, which is then closed (an unanswered prompt reads end of input).
    # -Environment adds variables to the CHILD's environment only (never this session's, never a command line).
    param ([string]$FilePath, [string[]]$ArgumentList = @(), [string]$WorkingDirectory = '', [string]$InputText = '',
        [hashtable]$Environment = @{})
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
    $process.WaitForExit()
    return [ordered]@{
        command = (@($FilePath) + @($ArgumentList)) -join ' '
        rc = $process.ExitCode
        stdout = $stdout.Result
        stderr = $stderr.Result
    }
}
