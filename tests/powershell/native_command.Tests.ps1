# The native_command fragment: how every script runs a Windows program (ConvertTo-ArgumentText, Invoke-NativeCommand).
# Under pwsh on Linux the programs are real ones (/bin/sh); .NET splits ProcessStartInfo.Arguments by the same rules as
# CommandLineToArgvW, so a real child process proves the quoting end to end (tests/unit/test_native_command_quoting.py
# puts generated arguments through it as well).
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    . ([scriptblock]::Create((Get-AsrFragmentBody -Name 'native_command')))
    $script:Sh = (Get-Command -Name sh -CommandType Application | Select-Object -First 1).Source
}

Describe 'ConvertTo-ArgumentText' {
    It 'leaves <Value> as <Expected>' -ForEach @(
        @{ Value = 'plain'; Expected = 'plain' }
        @{ Value = 'C:\Program\'; Expected = 'C:\Program\' }
        @{ Value = ''; Expected = '""' }
        @{ Value = 'a b'; Expected = '"a b"' }
        @{ Value = "tab`there"; Expected = "`"tab`there`"" }
        @{ Value = 'say "hi"'; Expected = '"say \"hi\""' }
        @{ Value = 'E:\Program Files (x86)\ASR\'; Expected = '"E:\Program Files (x86)\ASR\\"' }
        @{ Value = 'a\\"b'; Expected = '"a\\\\\"b"' }
        @{ Value = 'x"'; Expected = '"x\""' }
    ) {
        ConvertTo-ArgumentText -Value $Value | Should -BeExactly $Expected
    }
}

Describe 'Invoke-NativeCommand' {
    It 'returns the exit code, standard output and standard error of the program' {
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'echo out; echo err 1>&2; exit 7')
        $run.rc | Should -Be 7
        $run.stdout | Should -BeExactly "out`n"
        $run.stderr | Should -BeExactly "err`n"
        $run.command | Should -BeExactly "$Sh -c echo out; echo err 1>&2; exit 7"
    }

    It 'writes -InputText to standard input and then closes it (an unanswered prompt reads end of input)' {
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'read first; echo "got $first"; if read second; then echo more; else echo eof; fi') -InputText "12`r`n"
        $run.rc | Should -Be 0
        $run.stdout | Should -BeExactly "got 12`r`neof`n"
    }

    It 'runs the program in -WorkingDirectory' {
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'pwd') -WorkingDirectory $TestDrive
        $run.stdout.Trim() | Should -BeExactly ([System.IO.Path]::GetFullPath($TestDrive).TrimEnd('/'))
    }

    It 'hands each argument to the program unchanged: <Name>' -ForEach @(
        @{ Name = 'spaces and an empty one'; Argv = @('a b', '', 'c') }
        @{ Name = 'quotes and backslashes'; Argv = @('say "hi"', 'C:\dir\', 'x\\"y', '\\server\share\') }
        @{ Name = 'line ends and tabs'; Argv = @("two`nlines", "cr`rhere", "tab`tbed", "trailing\`n") }
    ) {
        $printer = 'for a in "$@"; do printf "%s\000" "$a"; done'
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList (@('-c', $printer, 'sh') + $Argv)
        $run.rc | Should -Be 0
        $received = $run.stdout.Split([char]0)
        @($received | Select-Object -First ($received.Count - 1)) | Should -BeExactly $Argv
    }

    It 'puts -Environment in the child''s environment only, never on its command line nor in this session' {
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'printf "%s" "$ASR_TEST_SECRET"') -Environment @{ ASR_TEST_SECRET = 'p#w d' }
        $run.stdout | Should -BeExactly 'p#w d'
        $run.command | Should -Not -Match 'p#w'
        $env:ASR_TEST_SECRET | Should -BeNullOrEmpty
    }

    It 'fails as a terminating error when the program does not exist' {
        { Invoke-NativeCommand -FilePath (Join-Path $TestDrive 'no-such.exe') } | Should -Throw
    }

    It 'stops a program still running after -TimeoutSeconds, with what it started, and says so' {
        # on Linux the process tree is found from /proc (Get-Process .Parent); on Windows Stop-ProcessTree reads
        # Win32_Process (tested below)
        Mock Stop-ProcessTree {
            $tree = [System.Collections.Generic.List[int]]@($ProcessId)
            for ($i = 0; $i -lt $tree.Count; $i++) {
                foreach ($child in @(Get-Process | Where-Object { $_.Parent -and $_.Parent.Id -eq $tree[$i] })) { $tree.Add($child.Id) }
            }
            foreach ($id in $tree) { Stop-Process -Id $id -Force -ErrorAction SilentlyContinue }
        }
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        # the grandchild holds the output pipe: without stopping the tree, reading stdout would wait for it
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'echo started; sleep 60 & sleep 60') -TimeoutSeconds 1
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
        $run.timed_out | Should -BeTrue
        $run.rc | Should -BeNullOrEmpty
        $run.stdout | Should -BeExactly "started`n"
        $run.stderr | Should -Match 'was still running after 1 s; it was stopped with every process it started'
        Should -Invoke Stop-ProcessTree -Times 1 -Exactly
    }

    It 'reports timed_out false for a program that ends in time' {
        $run = Invoke-NativeCommand -FilePath $Sh -ArgumentList @('-c', 'exit 0') -TimeoutSeconds 30
        $run.timed_out | Should -BeFalse
        $run.rc | Should -Be 0
    }
}

Describe 'Stop-ProcessTree' {
    It 'stops the process and every descendant, the deepest first, and nothing else' {
        Mock Get-CimInstance -ParameterFilter { $ClassName -eq 'Win32_Process' } -MockWith {
            @(
                [pscustomobject]@{ ProcessId = 10; ParentProcessId = 1 }
                [pscustomobject]@{ ProcessId = 20; ParentProcessId = 10 }
                [pscustomobject]@{ ProcessId = 30; ParentProcessId = 20 }
                [pscustomobject]@{ ProcessId = 21; ParentProcessId = 10 }
                [pscustomobject]@{ ProcessId = 99; ParentProcessId = 1 }
            )
        }
        $global:AsrTestStopped = [System.Collections.Generic.List[int]]@()
        Mock Stop-Process { $global:AsrTestStopped.Add([int]@($Id)[0]) }
        Stop-ProcessTree -ProcessId 10
        $order = @($global:AsrTestStopped)
        ($order | Sort-Object) | Should -Be @(10, 20, 21, 30) -Because 'process 99 is not in the tree'
        $order.IndexOf(30) | Should -BeLessThan $order.IndexOf(20) -Because 'a parent goes after its children'
        $order.IndexOf(20) | Should -BeLessThan $order.IndexOf(10)
        $order.IndexOf(21) | Should -BeLessThan $order.IndexOf(10)
        Remove-Variable -Name AsrTestStopped -Scope Global
    }
}
