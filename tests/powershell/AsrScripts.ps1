# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Dot-sourced by every *.Tests.ps1 (BeforeAll { . $PSScriptRoot/AsrScripts.ps1 }): the collection's scripts AS SENT
# and a way to run one as ansible.windows.win_powershell does, so Pester's mocks (aliases, which beat the functions
# a script defines) stand in for Windows. Runs under pwsh 7 only.
#
#   Get-AsrScriptText -Name probe           the text load_script sends (fragments spliced; tests/unit checks it equals)
#   Get-AsrRunnerText                       the detached runner setup_start writes (its here-string, as a script)
#   Invoke-AsrScript -Name probe -Parameters @{...} [-CheckMode]
#                                           -> Changed, Result (the parsed JSON), Raw, Error (a terminating error), Ansible
#   Register-AsrScriptFunction -Name probe  its functions defined up front, so that tests can mock them
#   Use-FakeRegistry -Keys @{...}           HKLM:\ keys the registry cmdlets answer from (mocked)
#   Set-FakeHostFolder                      %ProgramData%, %SystemDrive%, %SystemRoot% under $TestDrive; PS01
#   New-VersionInfo, Join-Parameter         a file's version info; a parameter set with some keys changed
#   Use-FakeRunnerStart -ProcessId 4004     Win32_Process.Create starts the runner (arguments in $global:AsrTestCreated)

$AsrRoot = (Resolve-Path -LiteralPath (Join-Path -Path $PSScriptRoot -ChildPath '../..')).Path
$AsrScriptDir = Join-Path -Path $AsrRoot -ChildPath 'plugins/plugin_utils/powershell'
# The registry keys the scripts read, for Use-FakeRegistry: the InMage "Installed Products" [6.4] (\9 the CS/PS,
# \10 its dependencies) and Add/Remove Programs' entries, 32-bit view and native [6.1].
$InstalledProductsKey = 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products'
$CspsKey = "$InstalledProductsKey\9"
$UninstallKey = 'HKLM:\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall'
$NativeUninstallKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
# Windows PowerShell 5.1 keeps ISO-8601 text as text; pwsh 7 would turn it into [datetime] (docs/dev/powershell-checks.md)
$global:PSDefaultParameterValues['ConvertFrom-Json:DateKind'] = 'String'

function Get-AsrFragmentBody {
    # A fragment as load_script splices it: without its leading comment block (and blank lines).
    param ([Parameter(Mandatory = $true)][string]$Name)
    $path = Join-Path -Path $AsrScriptDir -ChildPath "fragments/$Name.ps1"
    $lines = [System.Text.RegularExpressions.Regex]::Split([System.IO.File]::ReadAllText($path), '(?<=\n)')
    $start = 0
    while ($start -lt $lines.Count -and ($lines[$start].StartsWith('#') -or -not $lines[$start].Trim())) {
        $start++
    }
    return ($lines[$start..($lines.Count - 1)] -join '')
}

function Get-AsrScriptText {
    # The script as the controller sends it (plugins/plugin_utils/powershell/loader.py load_script / splice_fragments).
    param ([Parameter(Mandatory = $true)][string]$Name)
    $text = [System.IO.File]::ReadAllText((Join-Path -Path $AsrScriptDir -ChildPath "$Name.ps1"))   # a BOM is dropped
    $include = [regex]'(?m)^# asr\.process_server include: (?<name>[a-z0-9_]+)[ \t]*\r?\n'
    return $include.Replace($text, { param($m) Get-AsrFragmentBody -Name $m.Groups['name'].Value })
}

function Get-AsrRunnerText {
    # The detached runner: the single-quoted here-string of setup_start (as sent) that starts '# asr.process_server'.
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput((Get-AsrScriptText -Name 'setup_start'), [ref]$tokens, [ref]$errors)
    $here = $ast.FindAll({
            param ($x)
            $x -is [System.Management.Automation.Language.StringConstantExpressionAst] -and
            $x.StringConstantType -eq 'SingleQuotedHereString' -and $x.Value.StartsWith('# asr.process_server')
        }, $true) | Select-Object -First 1
    if (-not $here) { throw 'setup_start holds no runner here-string' }
    return $here.Value
}

function Register-AsrScriptFunction {
    # Define the functions a script defines, globally, so that Pester can mock them before the script runs (a mock is
    # an alias, and an alias beats the function the script then defines itself).
    param ([Parameter(Mandatory = $true)][string]$Name)
    $tokens = $null
    $errors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseInput((Get-AsrScriptText -Name $Name), [ref]$tokens, [ref]$errors)
    foreach ($function in $ast.FindAll({ param($x) $x -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)) {
        $null = New-Item -Path "Function:\global:$($function.Name)" -Value $function.Body.GetScriptBlock() -Force
    }
}

function New-AnsibleObject {
    # What ansible.windows.win_powershell gives a script as $Ansible (its documented properties).
    param ([switch]$CheckMode, [string]$Tmpdir = $TestDrive)
    return [pscustomobject]@{
        PSTypeName = 'AsrTest.Ansible'
        Changed = $true
        Failed = $false
        Result = $null
        Diff = @{}
        CheckMode = [bool]$CheckMode
        Tmpdir = $Tmpdir
        Verbosity = 0
    }
}

function Invoke-AsrScript {
    # Run a collection script as win_powershell does: the parameters bound by name, $Ansible in scope, -WhatIf in check
    # mode (only a script declaring SupportsShouldProcess runs in check mode; win_powershell skips any other).
    param (
        [string]$Name,
        [hashtable]$Parameters = @{},
        [switch]$CheckMode,
        [string]$Text
    )
    if (-not $Text) { $Text = Get-AsrScriptText -Name $Name }
    $block = [scriptblock]::Create($Text)
    $bound = @{}
    foreach ($key in $Parameters.Keys) { $bound[$key] = $Parameters[$key] }
    if ($CheckMode) {
        if ($Text -notmatch 'SupportsShouldProcess') { throw "$Name does not declare SupportsShouldProcess: win_powershell skips it in check mode" }
        $bound['WhatIf'] = $true
    }
    $Ansible = New-AnsibleObject -CheckMode:$CheckMode
    $failure = $null
    $output = $null
    try {
        $output = & $block @bound
    }
    catch {
        $failure = $_
    }
    $parsed = $null
    if ($Ansible.Result -is [string] -and $Ansible.Result) {
        $parsed = ConvertFrom-Json -InputObject $Ansible.Result
    }
    return [pscustomobject]@{
        Changed = $Ansible.Changed
        Result = $parsed
        Raw = $Ansible.Result
        Error = $failure
        Output = $output
        Ansible = $Ansible
    }
}

# ---- Windows commands pwsh on Linux does not have: declared (with the parameters the scripts use) so Pester can mock
# them; unmocked, each one fails the test that reached it.
$WindowsOnly = @{
    'Get-CimInstance' = 'param ([string]$ClassName, [string]$Filter)'
    'Invoke-CimMethod' = 'param ([string]$ClassName, [string]$MethodName, [System.Collections.IDictionary]$Arguments)'
    'Get-Service' = 'param ([string[]]$Name)'
    'Get-Acl' = 'param ([string]$LiteralPath)'
    'Set-Acl' = 'param ([string]$LiteralPath, $AclObject)'
    'Get-OBMachineSetting' = 'param ()'
    'Set-OBMachineSetting' = 'param ([switch]$NoProxy, [string]$ProxyServer, [int]$ProxyPort, [string]$ProxyUserName, [securestring]$ProxyPassword)'
}
foreach ($name in $WindowsOnly.Keys) {
    if (-not (Get-Command -Name $name -ErrorAction SilentlyContinue)) {
        $body = "[CmdletBinding(SupportsShouldProcess = `$true)] $($WindowsOnly[$name]) throw 'not mocked: $name (a Windows command)'"
        $null = New-Item -Path "Function:\global:$name" -Value ([scriptblock]::Create($body))
    }
}

# ---- a registry the registry cmdlets answer from --------------------------------------------------------------------
function New-FakeRegistryKey {
    # What Get-Item returns for a registry key: GetValue(name, default), GetValueNames(), PSChildName.
    param ([string]$Path, [hashtable]$Values = @{})
    $key = [pscustomobject]@{ PSTypeName = 'AsrTest.RegistryKey'; PSPath = $Path; PSChildName = ($Path -split '\\')[-1]; Values = $Values }
    $key | Add-Member -MemberType ScriptMethod -Name GetValue -Value {
        param ([string]$ValueName, $Default)
        if ($this.Values.ContainsKey($ValueName)) { return $this.Values[$ValueName] }
        return $Default
    }
    $key | Add-Member -MemberType ScriptMethod -Name GetValueNames -Value { return [string[]]@($this.Values.Keys) }
    $key | Add-Member -MemberType ScriptMethod -Name GetValueKind -Value {
        param ([string]$ValueName)
        if (-not $this.Values.ContainsKey($ValueName)) { throw [System.IO.IOException]::new('The system cannot find the file specified.') }
        $data = $this.Values[$ValueName]
        if ($data -is [int]) { return [Microsoft.Win32.RegistryValueKind]::DWord }
        if ($data -is [string[]]) { return [Microsoft.Win32.RegistryValueKind]::MultiString }
        return [Microsoft.Win32.RegistryValueKind]::String
    }
    return $key
}

function Use-FakeRegistry {
    # Mock Get-Item, Test-Path, Get-ChildItem and Get-ItemProperty for HKLM:\ and HKCU:\ paths from $Keys (path -> @{values}).
    # Call in BeforeEach or an It: Pester scopes the mocks to that block.
    param ([hashtable]$Keys = @{})
    $script:FakeRegistry = @{}
    foreach ($path in $Keys.Keys) { $script:FakeRegistry[$path.TrimEnd('\')] = New-FakeRegistryKey -Path $path.TrimEnd('\') -Values $Keys[$path] }
    Mock Get-Item -ParameterFilter { $LiteralPath -match '^HK(LM|CU):' } -MockWith { $script:FakeRegistry[$LiteralPath.TrimEnd('\')] }
    Mock Test-Path -ParameterFilter { $LiteralPath -match '^HK(LM|CU):' } -MockWith {
        $wanted = $LiteralPath.TrimEnd('\')
        return [bool]($script:FakeRegistry.Keys | Where-Object { $_ -eq $wanted -or $_.StartsWith("$wanted\") })
    }
    Mock Get-ChildItem -ParameterFilter { $LiteralPath -match '^HK(LM|CU):' } -MockWith {
        $parent = $LiteralPath.TrimEnd('\')
        foreach ($path in $script:FakeRegistry.Keys) {
            if ($path.StartsWith("$parent\") -and $path.Substring($parent.Length + 1) -notmatch '\\') { $script:FakeRegistry[$path] }
        }
    }
    Mock Get-ItemProperty -ParameterFilter { $LiteralPath -match '^HK(LM|CU):' } -MockWith {
        $key = $script:FakeRegistry[$LiteralPath.TrimEnd('\')]
        $valueName = [string]@($Name)[0]
        if (-not $key -or -not $key.Values.ContainsKey($valueName)) { return $null }
        return [pscustomobject]@{ $valueName = $key.Values[$valueName] }
    }
}

# ---- builders several test files share ------------------------------------------------------------------------------
function New-VersionInfo {
    # What Get-FileVersionInfo returns for a file: its fixed version parts and the version texts.
    param ([int[]]$Parts, [string]$Text = '')
    [pscustomobject]@{ FileMajorPart = $Parts[0]; FileMinorPart = $Parts[1]; FileBuildPart = $Parts[2]; FilePrivatePart = $Parts[3]; FileVersion = $Text; ProductVersion = $Text }
}

function Join-Parameter {
    # A copy of $Base with $Change's keys set over it ($Base stays as it was).
    param ([hashtable]$Base, [hashtable]$Change)
    $merged = $Base.Clone()
    foreach ($key in $Change.Keys) { $merged[$key] = $Change[$key] }
    return $merged
}

function Set-FakeHostFolder {
    # The host's folders under the test drive (%ProgramData% new for each test, %SystemDrive%, %SystemRoot%) and
    # its name PS01. Call in BeforeEach.
    $env:ProgramData = Join-Path $TestDrive "ProgramData-$([guid]::NewGuid())"
    $env:SystemDrive = Join-Path $TestDrive 'C'
    $env:SystemRoot = Join-Path $TestDrive 'Windows'
    $env:COMPUTERNAME = 'PS01'
}

function Use-FakeRunnerStart {
    # Win32_Process.Create starts the detached runner as $ProcessId (its arguments kept in $global:AsrTestCreated),
    # and Get-Process finds it running. Call in BeforeEach or an It: Pester scopes the mocks to that block.
    param ([int]$ProcessId)
    $script:FakeRunnerId = $ProcessId
    $global:AsrTestCreated = $null
    Mock Invoke-CimMethod -ParameterFilter { $ClassName -eq 'Win32_Process' -and $MethodName -eq 'Create' } -MockWith {
        $global:AsrTestCreated = $Arguments
        [pscustomobject]@{ ReturnValue = 0; ProcessId = $script:FakeRunnerId }
    }
    Mock Get-Process -ParameterFilter { $Id -eq $script:FakeRunnerId } -MockWith {
        [pscustomobject]@{ ProcessName = 'powershell'; StartTime = [datetime]::Parse('2024-01-02T03:04:05.678Z').ToLocalTime() }
    }
}
