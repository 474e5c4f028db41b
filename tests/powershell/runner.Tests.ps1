# The detached runner setup_start starts (its here-string, as sent): it runs Unified Setup, deletes the secret files
# as soon as setup ends, and writes status.json {state, rc, error, finished}, which setup_poll reads. Here it runs
# for real under pwsh, with a shell script standing in for UnifiedSetup.exe.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    $script:Runner = Get-AsrRunnerText
    $script:Pwsh = Join-Path $PSHOME 'pwsh'   # this PowerShell's own executable
    function New-RunFolder {
        param ([string]$Script)
        $dir = Join-Path $TestDrive "run-$([guid]::NewGuid())"
        $null = New-Item -ItemType Directory -Force -Path $dir
        $setup = Join-Path $dir 'UnifiedSetup.sh'
        Set-Content -LiteralPath $setup -Value "#!/bin/sh`n$Script`n"
        & chmod +x $setup
        $secret = Join-Path $dir 'passphrase.txt'
        Set-Content -LiteralPath $secret -Value 'p4ss'
        $spec = [ordered]@{
            setup = $setup; arguments = '/ServerMode PS /Silent'; working_directory = $dir
            stdout = (Join-Path $dir 'stdout.txt'); stderr = (Join-Path $dir 'stderr.txt'); secret_files = @($secret)
        }
        Set-Content -LiteralPath (Join-Path $dir 'spec.json') -Value (ConvertTo-Json -InputObject $spec -Compress)
        return [pscustomobject]@{ Dir = $dir; Secret = $secret }
    }
}

Describe 'the detached runner' {
    It 'runs setup with its arguments, records its exit code and output, and deletes the secret files' {
        $run = New-RunFolder -Script 'echo "args: $*"; echo oops 1>&2; exit 3'
        & ([scriptblock]::Create($Runner)) -RunDir $run.Dir
        $status = Get-Content -LiteralPath (Join-Path $run.Dir 'status.json') -Raw | ConvertFrom-Json
        $status.state | Should -Be 'exited'
        $status.rc | Should -Be 3
        $status.error | Should -BeNullOrEmpty
        $status.finished | Should -Match '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$'
        Get-Content -LiteralPath (Join-Path $run.Dir 'stdout.txt') | Should -Be 'args: /ServerMode PS /Silent'
        Get-Content -LiteralPath (Join-Path $run.Dir 'stderr.txt') | Should -Be 'oops'
        Test-Path -LiteralPath $run.Secret | Should -BeFalse
        Test-Path -LiteralPath (Join-Path $run.Dir 'status.json.tmp') | Should -BeFalse
    }

    It 'records why setup could not start, and still deletes the secret files' {
        $run = New-RunFolder -Script 'exit 0'
        Remove-Item -LiteralPath (Join-Path $run.Dir 'UnifiedSetup.sh')
        & ([scriptblock]::Create($Runner)) -RunDir $run.Dir
        $status = Get-Content -LiteralPath (Join-Path $run.Dir 'status.json') -Raw | ConvertFrom-Json
        $status.rc | Should -BeNullOrEmpty
        $status.error | Should -Not -BeNullOrEmpty
        Test-Path -LiteralPath $run.Secret | Should -BeFalse
    }

    It 'waits for setup itself, not with Start-Process -Wait (5.1 would wait for every process setup starts)' {
        $run = New-RunFolder -Script 'exit 0'
        $global:AsrTestWaited = $false
        Mock Start-Process {
            $fake = [pscustomobject]@{ Handle = 1; ExitCode = 1641 }
            $fake | Add-Member -MemberType ScriptMethod -Name WaitForExit -Value { $global:AsrTestWaited = $true }
            $fake
        }
        & ([scriptblock]::Create($Runner)) -RunDir $run.Dir
        # (in a ParameterFilter the mocked command's parameters are variables; $PSBoundParameters is the filter's own)
        Should -Invoke Start-Process -Times 1 -Exactly -ParameterFilter { -not $Wait -and $PassThru }
        $global:AsrTestWaited | Should -BeTrue
        (Get-Content -LiteralPath (Join-Path $run.Dir 'status.json') -Raw | ConvertFrom-Json).rc | Should -Be 1641
    }

    It 'writes the time it finished with ":" whatever the culture' {
        $run = New-RunFolder -Script 'exit 0'
        $culture = [System.Threading.Thread]::CurrentThread.CurrentCulture
        try {
            [System.Threading.Thread]::CurrentThread.CurrentCulture = 'fi-FI'
            & ([scriptblock]::Create($Runner)) -RunDir $run.Dir
        }
        finally {
            [System.Threading.Thread]::CurrentThread.CurrentCulture = $culture
        }
        (Get-Content -LiteralPath (Join-Path $run.Dir 'status.json') -Raw | ConvertFrom-Json).finished | Should -Match 'T\d\d:\d\d:\d\dZ$'
    }

    It 'runs from the -EncodedCommand setup_start builds, in a new PowerShell process, with its run folder' {
        $run = New-RunFolder -Script 'echo started; exit 42'   # (Linux keeps 8 bits of an exit status: no 3010 here)
        # the command line setup_start gives Win32_Process.Create, built by its own function
        Register-AsrScriptFunction -Name setup_start
        $RunnerText = $Runner
        $RunDir = $run.Dir
        $env:SystemRoot = Join-Path $TestDrive 'Windows'
        $line = Get-RunnerCommandLine
        $encoded = ($line -split ' ')[-1]
        $output = & $Pwsh -NoProfile -NonInteractive -EncodedCommand $encoded 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
        $status = Get-Content -LiteralPath (Join-Path $run.Dir 'status.json') -Raw | ConvertFrom-Json
        $status.rc | Should -Be 42
        Get-Content -LiteralPath (Join-Path $run.Dir 'stdout.txt') | Should -Be 'started'
        Test-Path -LiteralPath $run.Secret | Should -BeFalse
    }
}
