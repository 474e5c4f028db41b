# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# One long-lived pwsh that pytest talks to (tests/unit/pwsh_session.py): a JSON request per line on stdin, a JSON
# answer per line on stdout, so a test can put thousands of generated cases through the collection's real PowerShell
# without starting pwsh for each. Requests:
#   {"op": "script_text", "name": "probe"}              -> the script as sent (tests/powershell/AsrScripts.ps1)
#   {"op": "runner_text"}                               -> setup_start's detached runner
#   {"op": "argument_text", "argv": ["a b", ...]}       -> {"quoted": [ConvertTo-ArgumentText of each],
#                                                           "arguments": what Invoke-NativeCommand sets as Arguments}
#   {"op": "run_script", "text": "..."}                 -> the script's output, one line per object; it runs in a
#                                                          runspace of its own (none of this session's functions),
#                                                          as `pwsh -File` would run it, without starting pwsh again
# Answers are {"ok": true, "value": ...} or {"ok": false, "error": "..."}.
$ErrorActionPreference = 'Stop'
$TestDrive = [System.IO.Path]::GetTempPath()
. (Join-Path -Path $PSScriptRoot -ChildPath '../AsrScripts.ps1')
# the native_command fragment as sent: its functions, defined here
. ([scriptblock]::Create((Get-AsrFragmentBody -Name 'native_command')))

$utf8 = [System.Text.UTF8Encoding]::new($false)
$stdin = [System.IO.StreamReader]::new([Console]::OpenStandardInput(), $utf8)
$stdout = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), $utf8)
$stdout.AutoFlush = $true
while ($null -ne ($line = $stdin.ReadLine())) {
    try {
        $request = ConvertFrom-Json -InputObject $line -AsHashtable
        $value = switch ($request.op) {
            'script_text' { Get-AsrScriptText -Name $request.name }
            'runner_text' { Get-AsrRunnerText }
            'argument_text' {
                $argv = [string[]]@($request.argv)
                @{
                    quoted = @(foreach ($a in $argv) { ConvertTo-ArgumentText -Value $a })
                    # the same expression Invoke-NativeCommand assigns to ProcessStartInfo.Arguments
                    arguments = (@($argv | ForEach-Object { ConvertTo-ArgumentText -Value $_ }) -join ' ')
                }
            }
            'run_script' {
                $ps = [PowerShell]::Create([System.Management.Automation.RunspaceMode]::NewRunspace)
                try {
                    $output = $ps.AddScript([string]$request.text).Invoke()
                    if ($ps.HadErrors) {
                        throw (@($ps.Streams.Error | ForEach-Object { $_.ToString() }) -join '; ')
                    }
                    @($output | ForEach-Object { [string]$_ }) -join "`n"
                }
                finally {
                    $ps.Dispose()
                }
            }
            default { throw "unknown op $($request.op)" }
        }
        $answer = @{ ok = $true; value = $value }
    }
    catch {
        $answer = @{ ok = $false; error = $_.Exception.Message }
    }
    $stdout.WriteLine((ConvertTo-Json -InputObject $answer -Compress -Depth 5))
}
