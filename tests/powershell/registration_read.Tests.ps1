# registration_read as sent (fragments spliced), run as win_powershell runs it: on a configuration server it starts the
# MySQL client once, with the account on its command line and the password only in the client's environment
# (MYSQL_PWD), and writes nothing, in check mode too; what is missing is reported without starting anything
# (plugins/plugin_utils/domain/registrations.py says what to do). The registry is faked; the client is a real /bin/sh
# program that records what it was given.
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    $script:Password = 'Pw#1 with space\and"quote'
    $script:Client = @'
#!/bin/sh
here="$(dirname "$0")"
printf '%s\n' "$@" > "$here/args.txt"
printf '%s' "$MYSQL_PWD" > "$here/env.txt"
printf 'hostid\tname\r\n'
exit 0
'@

    function Set-Amethyst {
        param ([hashtable]$Keys)
        $text = ($Keys.GetEnumerator() | ForEach-Object { "$($_.Key) = `"$($_.Value)`"`r`n" }) -join ''
        [System.IO.File]::WriteAllText((Join-Path $script:Etc 'amethyst.conf'), $text)
    }

    function Get-Started {
        # What the fake client was given: its arguments and MYSQL_PWD, or $null when it never started.
        $argsFile = Join-Path $script:ClientDir 'args.txt'
        if (-not (Test-Path -LiteralPath $argsFile)) { return $null }
        return [pscustomobject]@{
            Arguments = @(Get-Content -LiteralPath $argsFile)
            Password = [System.IO.File]::ReadAllText((Join-Path $script:ClientDir 'env.txt'))
        }
    }

    function Get-Written {
        # Every file under the test drive except the fake client's own records.
        return @(Get-ChildItem -LiteralPath $TestDrive -Recurse -File | Where-Object { $_.DirectoryName -ne $script:ClientDir } |
                ForEach-Object { $_.FullName } | Sort-Object)
    }
}

Describe 'registration_read' {
    BeforeEach {
        $script:SavedProgramData = $env:ProgramData
        $env:ProgramData = Join-Path $TestDrive 'ProgramData'
        $script:Etc = Join-Path $env:ProgramData 'ASR/home/svsystems/etc'
        $null = New-Item -ItemType Directory -Path $script:Etc -Force
        $script:MySqlPath = Join-Path $TestDrive 'MySQL'
        $script:ClientDir = Join-Path $script:MySqlPath 'bin'
        $null = New-Item -ItemType Directory -Path $script:ClientDir -Force
        Remove-Item -Path (Join-Path $script:ClientDir '*') -Force
        $client = Join-Path $script:ClientDir 'mysql.exe'
        [System.IO.File]::WriteAllText($client, $script:Client)
        & chmod +x $client
        Use-FakeRegistry -Keys @{ $CspsKey = @{ CX_TYPE = 3 } }
    }
    AfterEach {
        $env:ProgramData = $script:SavedProgramData
    }

    It 'uses the configuration server''s own account, the password in the client''s environment only (check mode: <CheckMode>)' -ForEach @(
        @{ CheckMode = $false }
        @{ CheckMode = $true }
    ) {
        Set-Amethyst -Keys @{ DB_USER = 'svsystems'; DB_PASSWD = $script:Password; MYSQL_PATH = $script:MySqlPath }
        $before = Get-Written
        $run = Invoke-AsrScript -Name 'registration_read' -CheckMode:$CheckMode
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        Get-Written | Should -Be $before
        $run.Result.credentials | Should -Be 'amethyst.conf'
        $run.Result.mysql_client_source | Should -Be 'amethyst.conf MYSQL_PATH'
        $started = Get-Started
        $started.Arguments[0..2] | Should -Be @('--batch', '--user=svsystems', '--database=svsdb1')
        $started.Arguments[3] | Should -BeExactly ('--execute=' + $run.Result.statements)
        $run.Result.statements | Should -BeLike 'SET SESSION TRANSACTION READ ONLY; START TRANSACTION READ ONLY; SELECT *; COMMIT'
        $started.Password | Should -BeExactly $script:Password
        ($started.Arguments -join "`n") | Should -Not -Match ([regex]::Escape($script:Password))
        $run.Raw | Should -Not -Match ([regex]::Escape('Pw#1'))
        $run.Result.rc | Should -Be 0
        $run.Result.stdout | Should -BeLike "hostid`tname*"
    }

    It 'takes the task''s account as a SecureString' {
        Set-Amethyst -Keys @{ DB_USER = 'svsystems'; DB_PASSWD = 'not-this-one'; MYSQL_PATH = $script:MySqlPath }
        $secure = ConvertTo-SecureString -String $script:Password -AsPlainText -Force
        $run = Invoke-AsrScript -Name 'registration_read' -Parameters @{ DatabaseUser = 'asr_ro'; DatabasePassword = $secure }
        $run.Result.credentials | Should -Be 'task'
        $started = Get-Started
        $started.Arguments | Should -Contain '--user=asr_ro'
        $started.Password | Should -BeExactly $script:Password
        $run.Raw | Should -Not -Match 'not-this-one'
    }

    It 'finds the client under the MySQL registry key when amethyst.conf has no MYSQL_PATH' {
        Set-Amethyst -Keys @{ DB_USER = 'svsystems'; DB_PASSWD = 'x' }
        Use-FakeRegistry -Keys @{
            $CspsKey = @{ CX_TYPE = 3 }
            'HKLM:\SOFTWARE\Wow6432Node\MySQL AB\MySQL Server 5.7' = @{ Location = $script:MySqlPath + '/' }
        }
        $run = Invoke-AsrScript -Name 'registration_read'
        $run.Result.mysql_client_source | Should -Be 'registry MySQL AB\MySQL Server 5.7 Location'
        Get-Started | Should -Not -BeNullOrEmpty
    }

    It 'reports <Why> and starts nothing' -ForEach @(
        @{ Why = 'a process server'; CxType = 2; Keys = @{ DB_USER = 'svsystems'; DB_PASSWD = 'x' }; Field = 'is_configuration_server'; Expected = $false }
        @{ Why = 'no DB_PASSWD'; CxType = 3; Keys = @{ DB_USER = 'svsystems' }; Field = 'credentials_missing'; Expected = 'DB_PASSWD' }
        @{ Why = 'no DB_USER'; CxType = 3; Keys = @{ DB_PASSWD = 'x' }; Field = 'credentials_missing'; Expected = 'DB_USER' }
        @{ Why = 'no client'; CxType = 3; Keys = @{ DB_USER = 'svsystems'; DB_PASSWD = 'x'; MYSQL_PATH = '/nowhere' }; Field = 'mysql_client'; Expected = $null }
    ) {
        if (-not $Keys.ContainsKey('MYSQL_PATH')) { $Keys['MYSQL_PATH'] = $script:MySqlPath }
        Set-Amethyst -Keys $Keys
        Use-FakeRegistry -Keys @{ $CspsKey = @{ CX_TYPE = $CxType } }
        $run = Invoke-AsrScript -Name 'registration_read'
        $run.Error | Should -BeNullOrEmpty
        $run.Changed | Should -BeFalse
        $run.Result.$Field | Should -Be $Expected
        $run.Result.rc | Should -BeNullOrEmpty
        Get-Started | Should -BeNullOrEmpty
    }
}
