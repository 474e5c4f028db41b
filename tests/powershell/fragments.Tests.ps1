# The fragments the scripts share: file_facts (SHA-256, the version's fixed parts), shared_text (reading files another
# process holds open), run_state (times, and whether the detached runner still runs), protected_files (SYSTEM and
# Administrators only), secure_text (a SecureString's text). native_command and service_steps have their own files
# (native_command, register_apply).
BeforeAll {
    . $PSScriptRoot/AsrScripts.ps1
    foreach ($fragment in 'file_facts', 'shared_text', 'run_state') {
        . ([scriptblock]::Create((Get-AsrFragmentBody -Name $fragment)))
    }
}

Describe 'file_facts' {
    It 'hashes a file read through the Open-FileRead seam' {
        Mock Open-FileRead { [System.IO.MemoryStream]::new([System.Text.Encoding]::ASCII.GetBytes('abc')) }
        Get-FileSha256 -Path 'C:\any.exe' | Should -BeExactly 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
        Should -Invoke Open-FileRead -Times 1 -Exactly -ParameterFilter { $Path -eq 'C:\any.exe' }
    }

    It 'hashes with the CryptoAPI implementation, which a FIPS policy allows (the managed one throws there)' {
        Mock Open-FileRead { [System.IO.MemoryStream]::new([byte[]]@()) }
        Mock New-Object -ParameterFilter { $TypeName -eq 'System.Security.Cryptography.SHA256CryptoServiceProvider' } -MockWith {
            [System.Security.Cryptography.SHA256CryptoServiceProvider]::new()
        }
        Get-FileSha256 -Path 'x' | Should -BeExactly 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
        Should -Invoke New-Object -Times 1 -Exactly -ParameterFilter { $TypeName -eq 'System.Security.Cryptography.SHA256CryptoServiceProvider' }
    }

    It 'reads the four fixed parts of the version, not the FileVersion text' {
        Get-FileFixedVersion -Info (New-VersionInfo -Parts 9, 55, 7123, 1 -Text '9.55.7123.1 built by: release') | Should -BeExactly '9.55.7123.1'
        Get-FileFixedVersion -Info (New-VersionInfo -Parts 9, 56, 0, 2 -Text '9.55.7123.1') | Should -BeExactly '9.56.0.2'
    }

    It 'reads no version from a file without one' {
        Get-FileFixedVersion -Info (New-VersionInfo -Parts 0, 0, 0, 0 -Text '') | Should -BeNullOrEmpty
        Get-FileFixedVersion -Info $null | Should -BeNullOrEmpty
    }

    It 'compares versions as the controller does, missing parts 0: <Left> vs <Right> is <Same>' -ForEach @(
        @{ Left = '9.55.0.0'; Right = '9.55'; Same = $true }
        @{ Left = '9.55.7123.1'; Right = '9.55.7123.1'; Same = $true }
        @{ Left = '9.55.7123.1'; Right = '9.55.7123'; Same = $false }
        @{ Left = '9.55.1.0'; Right = '9.55.0.1'; Same = $false }
    ) {
        Test-SameVersion -Left $Left -Right $Right | Should -Be $Same
    }
}

Describe 'shared_text' {
    It 'reads text with its byte order mark: <Name>' -ForEach @(
        @{ Name = 'UTF-8'; Encoding = [System.Text.UTF8Encoding]::new($true) }
        @{ Name = 'UTF-16 (Windows Installer logs)'; Encoding = [System.Text.Encoding]::Unicode }
    ) {
        $file = Join-Path $TestDrive 'log.txt'
        [System.IO.File]::WriteAllText($file, "été`r`nline 2", $Encoding)
        Read-SharedText -Path $file | Should -BeExactly "été`r`nline 2"
    }

    It 'reads a file another process holds open for writing' {
        $file = Join-Path $TestDrive 'open.log'
        $writer = [System.IO.File]::Open($file, 'Create', 'Write', 'ReadWrite, Delete')
        try {
            $bytes = [System.Text.Encoding]::ASCII.GetBytes('written so far')
            $writer.Write($bytes, 0, $bytes.Length)
            $writer.Flush()
            Read-SharedText -Path $file | Should -BeExactly 'written so far'
        }
        finally {
            $writer.Dispose()
        }
    }

    It 'lets the writer delete or rename the file while it is read (FileShare Delete, as setup rotates its log)' {
        # .NET on Linux does not enforce share modes: the seam's own share argument is what Windows would enforce
        $tokens = $null; $errors = $null
        $body = [System.Management.Automation.Language.Parser]::ParseInput((Get-AsrFragmentBody -Name 'shared_text'), [ref]$tokens, [ref]$errors)
        $open = $body.Find({ param($x) $x -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -and $x.Member.Value -eq 'Open' }, $true)
        $share = $open.Arguments[3]
        if ($share -is [System.Management.Automation.Language.VariableExpressionAst]) {
            $assignment = $body.Find({ param($x) $x -is [System.Management.Automation.Language.AssignmentStatementAst] -and $x.Left.Extent.Text -eq $share.Extent.Text }, $true)
            $share = $assignment.Right
        }
        $value = [System.IO.FileShare]([scriptblock]::Create($share.Extent.Text).InvokeReturnAsIs())
        $value.HasFlag([System.IO.FileShare]::Delete) | Should -BeTrue
        $value.HasFlag([System.IO.FileShare]::ReadWrite) | Should -BeTrue
    }
}

Describe 'run_state' {
    BeforeEach {
        $script:Culture = [System.Threading.Thread]::CurrentThread.CurrentCulture
    }
    AfterEach {
        [System.Threading.Thread]::CurrentThread.CurrentCulture = $Culture
    }

    It 'writes times with ":" whatever the culture (Finnish separates hours with ".")' {
        [System.Threading.Thread]::CurrentThread.CurrentCulture = 'fi-FI'
        $when = [datetime]::new(2024, 1, 2, 3, 4, 5, 678, [System.DateTimeKind]::Utc)
        ConvertTo-IsoUtc -Value $when | Should -BeExactly '2024-01-02T03:04:05Z'
        ConvertTo-IsoUtc -Value $when -Milliseconds | Should -BeExactly '2024-01-02T03:04:05.678Z'
    }

    It 'judges the runner alive by its id, its name and its start time: <Case>' -ForEach @(
        @{ Case = 'running'; Process = @{ ProcessName = 'powershell'; Start = '2024-01-02T03:04:05.678Z' }; Alive = $true }
        @{ Case = 'gone'; Process = $null; Alive = $false }
        @{ Case = 'id reused by another program'; Process = @{ ProcessName = 'notepad'; Start = '2024-01-02T03:04:05.678Z' }; Alive = $false }
        @{ Case = 'id reused by a later powershell'; Process = @{ ProcessName = 'powershell'; Start = '2024-01-02T05:00:00.000Z' }; Alive = $false }
    ) {
        $script:Fake = $Process
        Mock Get-Process -ParameterFilter { $Id -eq 4004 } -MockWith {
            if ($script:Fake) { [pscustomobject]@{ ProcessName = $script:Fake.ProcessName; StartTime = [datetime]::Parse($script:Fake.Start).ToLocalTime() } }
        }
        Test-RunnerAlive -Started ([pscustomobject]@{ pid = 4004; process_started = '2024-01-02T03:04:05.678Z' }) | Should -Be $Alive
    }

    It 'judges by id and name when the process shows no start time (one this account may not open)' {
        Mock Get-Process -ParameterFilter { $Id -eq 8 } -MockWith { [pscustomobject]@{ ProcessName = 'powershell'; StartTime = $null } }
        Test-RunnerAlive -Started ([pscustomobject]@{ pid = 8; process_started = '2024-01-02T03:04:05.678Z' }) | Should -BeTrue
    }

    It 'judges a record without the start time (an older setup_start) by id and name' {
        Mock Get-Process -ParameterFilter { $Id -eq 7 } -MockWith { [pscustomobject]@{ ProcessName = 'powershell'; StartTime = (Get-Date) } }
        Test-RunnerAlive -Started ([pscustomobject]@{ pid = 7 }) | Should -BeTrue
    }
}

Describe 'protected_files' {
    BeforeAll {
        . ([scriptblock]::Create((Get-AsrFragmentBody -Name 'protected_files')))
    }

    It 'gives SYSTEM and Administrators full control, nobody else, with inheritance removed: <Kind>' -ForEach @(@{ Kind = 'file'; Container = $false }, @{ Kind = 'folder'; Container = $true }) {
        # the security objects are Windows-only; the seams stand in and record what the fragment asks of them
        $global:AsrTestAcl = [pscustomobject]@{ Protected = $null; KeepInherited = $null; Rules = [System.Collections.Generic.List[object]]@(); ForContainer = $null }
        $global:AsrTestAcl | Add-Member -MemberType ScriptMethod -Name SetAccessRuleProtection -Value { param ($protect, $keep) $this.Protected = $protect; $this.KeepInherited = $keep }
        $global:AsrTestAcl | Add-Member -MemberType ScriptMethod -Name AddAccessRule -Value { param ($rule) $this.Rules.Add($rule) }
        Mock New-FileSystemSecurity { $global:AsrTestAcl.ForContainer = [bool]$Container; $global:AsrTestAcl }
        Mock New-SidAccessRule { [pscustomobject]@{ Sid = $Sid; Container = [bool]$Container } }
        $acl = New-AdminOnlyAcl -Container:$Container
        $acl.Protected | Should -BeTrue
        $acl.KeepInherited | Should -BeFalse
        $acl.Rules.Sid | Should -Be @('S-1-5-18', 'S-1-5-32-544')
        $acl.Rules.Container | Should -Be @($Container, $Container)
        $acl.ForContainer | Should -Be $Container
        Should -Invoke New-FileSystemSecurity -Times 1 -Exactly
        Remove-Variable -Name AsrTestAcl -Scope Global
    }

    It 'writes a file''s text as UTF-8 without a byte order mark (Set-FileText)' {
        $file = Join-Path $TestDrive 'settings.ini'
        Set-FileText -Path $file -Text "[ProxySettings]`r`nProxyAuthentication = ""false""`r`n"
        $bytes = [System.IO.File]::ReadAllBytes($file)
        $bytes[0] | Should -Be ([byte][char]'[') -Because 'no byte order mark'
        [System.Text.Encoding]::UTF8.GetString($bytes) | Should -BeExactly "[ProxySettings]`r`nProxyAuthentication = ""false""`r`n"
    }
}

Describe 'secure_text' {
    BeforeAll {
        . ([scriptblock]::Create((Get-AsrFragmentBody -Name 'secure_text')))
    }

    It 'gives back the text a SecureString holds, exactly: <Kind>' -ForEach @(
        @{ Kind = 'a password with quotes and non-ASCII'; Text = 'p"a''ß wörd=1' }
        @{ Kind = 'a URL with a SAS token'; Text = 'https://store.example/pkg/setup.exe?sv=2020&sig=abc%2B' }
        @{ Kind = 'empty'; Text = '' }
    ) {
        $secure = New-Object -TypeName System.Security.SecureString
        foreach ($character in $Text.ToCharArray()) {
            $secure.AppendChar($character)
        }
        ConvertFrom-SecureText -Value $secure | Should -BeExactly $Text
    }
}
