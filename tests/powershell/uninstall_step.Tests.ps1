# uninstall_step: one uninstaller run [6.1], then what Add/Remove Programs still lists and the tail of its log. The
# controller (plugins/plugin_utils/operations/uninstall.py) reads rc, stdout, stderr, timed_out, error, seconds,
# remaining_entries, log_path, log_tail.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    Register-AsrScriptFunction -Name uninstall_step
}

Describe 'uninstall_step' {
    BeforeEach {
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        Use-FakeRegistry -Keys @{
            "$UninstallKey\{A}" = @{ DisplayName = 'Microsoft Azure Site Recovery Master Target Server' }
            "$UninstallKey\{B}" = @{ DisplayName = 'Some other product' }
            "$NativeUninstallKey\{C}" = @{ DisplayName = 'Microsoft Azure Recovery Services Agent' }
            "$NativeUninstallKey\{D}" = @{ }
        }
        Mock Invoke-NativeCommand -MockWith { [ordered]@{ command = 'x'; rc = 1605; stdout = 'o'; stderr = 'e'; timed_out = $false } }
        $script:Log = Join-Path $TestDrive 'msi.log'
        $script:Argv = @('MsiExec.exe', '/qn', '/x', '{A}', '/L+*V', $Log)
        $script:Names = @('master target', 'Recovery Services')
    }

    It 'runs the argv without a shell and reports rc, output, what is still installed and the log tail' {
        # Windows Installer writes its log in UTF-16 with a byte order mark
        [System.IO.File]::WriteAllText($Log, (@(1..50 | ForEach-Object { "line $_" }) -join "`r`n") + "`r`n", [System.Text.Encoding]::Unicode)
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = $Argv; LogPath = $Log; LogTailLines = 3; ProductNames = $Names }
        $run.Error | Should -BeNullOrEmpty
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter {
            $FilePath -eq 'MsiExec.exe' -and ($ArgumentList -join '|') -eq "/qn|/x|{A}|/L+*V|$Log" -and $TimeoutSeconds -eq 3600
        }
        $run.Changed | Should -BeTrue
        $run.Result.rc | Should -Be 1605
        $run.Result.stdout | Should -Be 'o'
        $run.Result.stderr | Should -Be 'e'
        $run.Result.timed_out | Should -BeFalse
        $run.Result.error | Should -BeFalse
        $run.Result.seconds | Should -BeOfType [double]
        @($run.Result.remaining_entries | Sort-Object) | Should -Be @('Microsoft Azure Recovery Services Agent', 'Microsoft Azure Site Recovery Master Target Server')
        $run.Result.log_path | Should -Be $Log
        $run.Result.log_tail | Should -Be @('line 48', 'line 49', 'line 50')
        Test-Path -LiteralPath (Join-Path $env:ProgramData 'ASRSetupLogs') -PathType Container | Should -BeTrue
    }

    It 'reports nothing still installed as an empty list' {
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = $Argv; LogPath = $Log; ProductNames = @('Not Installed') }
        $run.Raw | Should -Match '"remaining_entries":\[\]'
        @($run.Result.remaining_entries).Count | Should -Be 0
    }

    It 'reports an empty tail when there is no log' {
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = $Argv; LogPath = (Join-Path $TestDrive 'none.log') }
        @($run.Result.log_tail).Count | Should -Be 0
        $run.Result.log_error | Should -BeNullOrEmpty
    }

    It 'reports an uninstaller that could not start, with what is still installed' {
        Mock Invoke-NativeCommand -MockWith { throw 'The system cannot find the file specified' }
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = @('C:\gone\unins000.exe', '/VERYSILENT'); ProductNames = $Names }
        $run.Error | Should -BeNullOrEmpty
        $run.Result.rc | Should -BeNullOrEmpty
        $run.Result.error | Should -BeTrue
        $run.Result.stderr | Should -Match 'cannot find the file'
        @($run.Result.remaining_entries).Count | Should -Be 2
    }

    It 'reports an uninstaller stopped after its time limit' {
        Mock Invoke-NativeCommand -MockWith { [ordered]@{ command = 'x'; rc = $null; stdout = ''; stderr = 'stopped'; timed_out = $true } }
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = $Argv; TimeoutSeconds = 5 }
        $run.Result.timed_out | Should -BeTrue
        $run.Result.rc | Should -BeNullOrEmpty
        Should -Invoke Invoke-NativeCommand -Times 1 -Exactly -ParameterFilter { $TimeoutSeconds -eq 5 }
    }

    It 'keeps the rest of the result when the log cannot be read' {
        Set-Content -LiteralPath $Log -Value 'x'
        Mock Open-SharedFile -MockWith { throw 'The process cannot access the file because it is being used by another process.' }
        $run = Invoke-AsrScript -Name uninstall_step -Parameters @{ Argv = $Argv; LogPath = $Log; ProductNames = $Names }
        $run.Error | Should -BeNullOrEmpty
        $run.Result.rc | Should -Be 1605
        @($run.Result.log_tail).Count | Should -Be 0
        $run.Result.log_error | Should -Match 'being used by another process'
        @($run.Result.remaining_entries).Count | Should -Be 2
    }
}
