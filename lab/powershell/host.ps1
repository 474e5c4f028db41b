# The lab's PowerShell worker (lab/pshost.py starts one per lab process and keeps it; a few when hosts run at once).
#
# It runs the collection's scripts AS SENT, the way ansible.windows.win_powershell runs them on a Windows host
# (its plugins/modules/win_powershell.ps1, read from the installed ansible.windows): a runspace of its own (the
# module opens a fresh one per call; a worker keeps one and removes what each call left in it, see Reset-WorkRunspace),
# `$Ansible` (CheckMode, Verbosity, Result, Diff, Changed, Failed, Tmpdir), `$ErrorActionPreference` from
# error_action, the parameters plus the sensitive parameters as SecureString / PSCredential, `-WhatIf` and
# `-Confirm:$false` when the script declares SupportsShouldProcess (checked on the parsed script, as the module
# does), a check-mode run of any other script skipped, and the result fields shaped as the module shapes them
# (Convert-OutputObject, Format-Exception, the error/warning/verbose/debug/information streams).
#
# What Windows would answer (registry, files, services, CIM, processes, programs, the MARS cmdlets) comes from the
# shim module (LabShim.psm1) imported into every runspace; the shim asks the lab (Python, the single source of the
# emulated host's state) over this process's channel: one JSON line out, one JSON line back.
#
# Protocol (JSON lines on two inherited pipes; pwsh's own stdout/stderr are not used):
#   lab -> worker  {"op": "run", ...}                  one script call (see Invoke-LabScript)
#   worker -> lab  {"op": "call", "method", "args"}    the shim asks; the lab answers {"ok": true, "value"} or
#                                                      {"ok": false, "error": {"type", "message"}}
#   worker -> lab  {"op": "done", "result": {...}}     the call's win_powershell fields
#   worker -> lab  {"op": "ready", "version"}          once, at start
# This is lab code for PowerShell 7.5+ (the collection's scripts are Windows PowerShell 5.1 code).
param (
    [Parameter(Mandatory = $true)][int]$InFd,
    [Parameter(Mandatory = $true)][int]$OutFd,
    [Parameter(Mandatory = $true)][string]$ShimPath,
    # the worker's empty current folder and its log, removed by the worker when the lab closes its channel (even when
    # the lab process itself ended without closing the worker)
    [string]$Sandbox = '',
    [string]$LogPath = ''
)

$ErrorActionPreference = 'Stop'
$utf8 = [System.Text.UTF8Encoding]::new($false)
$reader = [System.IO.StreamReader]::new([System.IO.FileStream]::new("/proc/self/fd/$InFd", 'Open', 'Read'), $utf8)
$writer = [System.IO.StreamWriter]::new([System.IO.FileStream]::new("/proc/self/fd/$OutFd", 'Open', 'Write'), $utf8)
$writer.AutoFlush = $true
$writer.NewLine = "`n"
$channel = [pscustomobject]@{ Reader = $reader; Writer = $writer; Suspended = $false }

$iss = [System.Management.Automation.Runspaces.InitialSessionState]::CreateDefault2()
$iss.ImportPSModule($ShimPath)
$iss.Variables.Add([System.Management.Automation.Runspaces.SessionStateVariableEntry]::new('AsrLabChannel', $channel, 'the lab worker channel (LabShim.psm1)'))
$PSStyle.OutputRendering = 'PlainText'

$scriptCache = @{}  # sha256 of a script's text -> @{ text; should_process }
$InvokeCachedScript = @'
param ($AsrLabScriptHash, $AsrLabScriptText, $AsrLabParameters)
$AsrLabScript = $global:AsrLabScripts[$AsrLabScriptHash]
if ($null -eq $AsrLabScript) {
    $AsrLabScript = [scriptblock]::Create($AsrLabScriptText)
    $global:AsrLabScripts[$AsrLabScriptHash] = $AsrLabScript
}
& $AsrLabScript @AsrLabParameters
'@
$script:work = $null  # the worker's runspace: @{ runspace; baseline; uses }
$RecycleAfter = 500  # calls before the runspace is replaced by a fresh one (bounds what a long run accumulates)

function Send-Message([hashtable]$Message) {
    $writer.WriteLine((ConvertTo-Json -InputObject $Message -Depth 64 -Compress))
}

function Get-ScriptFact([string]$Hash, [string]$Text) {
    # win_powershell: SupportsShouldProcess from the parsed param block, or its regex when the text does not parse.
    if ($scriptCache.ContainsKey($Hash)) {
        return $scriptCache[$Hash]
    }
    $errors = @()
    $ast = [System.Management.Automation.Language.Parser]::ParseInput($Text, [ref]$null, [ref]$errors)
    $supports = $false
    if (-not $errors -and $ast.ParamBlock.Attributes) {
        $supports = [bool]($ast.ParamBlock.Attributes |
                Where-Object { $_.TypeName.Name -eq 'CmdletBinding' } |
                Select-Object -First 1 |
                ForEach-Object -Process {
                    $_.NamedArguments | Where-Object {
                        $_.ArgumentName -eq 'SupportsShouldProcess' -and ($_.ExpressionOmitted -or $_.Argument.ToString() -eq '$true')
                    }
                })
    }
    elseif ($errors) {
        $supports = $Text -match '\[CmdletBinding\((?:[\w=\$]+,\s*)?SupportsShouldProcess(?:=\$true)?(?:,\s*[\w=\$]+)?\)\]'
    }
    $fact = @{ text = $Text; should_process = $supports; parse_errors = @($errors | ForEach-Object { $_.Message }) }
    $scriptCache[$Hash] = $fact
    return $fact
}

# ---- win_powershell.ps1: Convert-OutputObject and Format-Exception, as the module has them --------------------
function Convert-OutputObject {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true, ValueFromPipeline = $true)][AllowNull()][object]$InputObject,
        [Parameter(Mandatory = $true)][int]$Depth
    )
    begin {
        $childDepth = $Depth - 1
        $isType = {
            param ([Object]$InputObject, [Type]$Type)
            if ($InputObject -is $Type) { return $true }
            $psTypes = @($InputObject.PSTypeNames | ForEach-Object -Process { $_ -replace '^Deserialized.' })
            $Type.FullName -in $psTypes
        }
    }
    process {
        if ($null -eq $InputObject) {
            $null
        }
        elseif ((& $isType -InputObject $InputObject -Type ([Enum])) -and $Depth -ge 0) {
            @{ Type = ($InputObject.PSTypeNames[0] -replace '^Deserialized.'); String = $InputObject.ToString(); Value = [int]$InputObject }
        }
        elseif ($InputObject -is [DateTime]) {
            $InputObject.ToString('o')
        }
        elseif (& $isType -InputObject $InputObject -Type ([DateTimeOffset])) {
            $InputObject.ToString('o')
        }
        elseif (& $isType -InputObject $InputObject -Type ([Type])) {
            if ($Depth -lt 0) { $InputObject.FullName }
            else { @{ Name = $InputObject.Name; FullName = $InputObject.FullName; AssemblyQualifiedName = $InputObject.AssemblyQualifiedName; BaseType = $null } }
        }
        elseif ($InputObject -is [string]) {
            $InputObject.PSObject.BaseObject
        }
        elseif (& $isType -InputObject $InputObject -Type ([switch])) {
            $InputObject.IsPresent
        }
        elseif ('GetType' -in ($InputObject.PSObject | ForEach-Object Methods | ForEach-Object Name) -and $InputObject.GetType().IsValueType) {
            $InputObject.PSObject.BaseObject
        }
        elseif ($Depth -lt 0) {
            [string]$InputObject
        }
        elseif ($InputObject -is [Collections.IList]) {
            , @(foreach ($obj in $InputObject) { Convert-OutputObject -InputObject $obj -Depth $childDepth })
        }
        elseif ($InputObject -is [Collections.IDictionary]) {
            $newObj = @{}
            foreach ($prop in $InputObject.PSObject.Properties) {
                if ($prop.MemberType -notin @('AliasProperty', 'ScriptProperty', 'NoteProperty')) { continue }
                $newObj[$prop.Name] = Convert-OutputObject -InputObject $prop.Value -Depth $childDepth
            }
            foreach ($kvp in $InputObject.GetEnumerator()) {
                $newObj[$kvp.Key] = Convert-OutputObject -InputObject $kvp.Value -Depth $childDepth
            }
            $newObj
        }
        else {
            $newObj = @{}
            foreach ($prop in $InputObject.PSObject.Properties) {
                $newObj[$prop.Name] = Convert-OutputObject -InputObject $prop.Value -Depth $childDepth
            }
            $newObj
        }
    }
}

function Format-Exception($Exception) {
    if (-not $Exception) { return $null }
    @{
        message = $Exception.Message
        type = $Exception.GetType().FullName
        help_link = $Exception.HelpLink
        source = $Exception.Source
        hresult = $Exception.HResult
        inner_exception = Format-Exception $Exception.InnerException
    }
}

function Format-ErrorRecord($Record, [int]$Depth) {
    $err = @{
        output = ($Record | Out-String)
        error_details = $null
        exception = Format-Exception $Record.Exception
        target_object = Convert-OutputObject -InputObject $Record.TargetObject -Depth $Depth
        category_info = @{
            category = [string]$Record.CategoryInfo.Category
            category_id = [int]$Record.CategoryInfo.Category
            activity = $Record.CategoryInfo.Activity
            reason = $Record.CategoryInfo.Reason
            target_name = $Record.CategoryInfo.TargetName
            target_type = $Record.CategoryInfo.TargetType
        }
        fully_qualified_error_id = $Record.FullyQualifiedErrorId
        script_stack_trace = $Record.ScriptStackTrace
        pipeline_iteration_info = @($Record.PipelineIterationInfo)
    }
    if ($Record.ErrorDetails) {
        $err.error_details = @{ message = $Record.ErrorDetails.Message; recommended_action = $Record.ErrorDetails.RecommendedAction }
    }
    $err
}

# ---- one call ------------------------------------------------------------------------------------------------
function Set-CallEnvironment([hashtable]$Environment, [string[]]$Previous) {
    # The emulated host's process environment for this call (names as Windows spells them).
    foreach ($name in $Previous) {
        if (-not $Environment.ContainsKey($name)) {
            [Environment]::SetEnvironmentVariable($name, $null)
        }
    }
    foreach ($name in $Environment.Keys) {
        [Environment]::SetEnvironmentVariable($name, [string]$Environment[$name])
    }
}

function Get-SensitiveValue([hashtable]$Entry) {
    # win_powershell: username -> PSCredential, value -> SecureString, neither -> an empty SecureString.
    if ($Entry.username) {
        $password = if ($Entry.password) { ConvertTo-SecureString -String $Entry.password -AsPlainText -Force } else { [securestring]::new() }
        return [System.Management.Automation.PSCredential]::new($Entry.username, $password)
    }
    if ($Entry.value) {
        return ConvertTo-SecureString -String $Entry.value -AsPlainText -Force
    }
    return [securestring]::new()
}

function Invoke-InRunspace($Runspace, [string]$Script, [object[]]$Arguments = @(), [switch]$LocalScope) {
    $ps = [PowerShell]::Create()
    $ps.Runspace = $Runspace
    [void]$ps.AddScript($Script, [bool]$LocalScope)
    foreach ($argument in $Arguments) { [void]$ps.AddArgument($argument) }
    try {
        $output = $ps.Invoke()
        if ($ps.HadErrors) {
            throw "lab worker: the runspace housekeeping failed: $(@($ps.Streams.Error | ForEach-Object { $_.ToString() }) -join '; ')"
        }
        return $output
    }
    finally {
        $ps.Dispose()
    }
}

function Get-WorkRunspace {
    # The worker's runspace (the shim imported): opened once, replaced after $RecycleAfter calls or when broken.
    # Opening one and importing the shim costs ~40 ms and the first run of every function in it is interpreted,
    # so a fresh runspace per call would double the cost of a probe.
    $work = $script:work
    if ($null -ne $work -and $work.uses -lt $RecycleAfter -and $work.runspace.RunspaceStateInfo.State -eq 'Opened') {
        $work.uses++
        return $work
    }
    if ($null -ne $work) {
        $work.runspace.Dispose()
    }
    $runspace = [System.Management.Automation.Runspaces.RunspaceFactory]::CreateRunspace($iss)
    $runspace.Open()
    $null = Invoke-InRunspace $runspace '$global:AsrLabScripts = @{}'  # the scripts compiled in this runspace
    $names = @(Invoke-InRunspace $runspace @'
@{
    variables = @(Get-Variable -Scope Global | ForEach-Object { $_.Name })
    preferences = @(Get-Variable -Scope Global -Name '*Preference' | ForEach-Object { @{ name = $_.Name; value = $_.Value } })
    functions = @(Microsoft.PowerShell.Management\Get-ChildItem -Path Function: | ForEach-Object { $_.Name })
    aliases = @(Microsoft.PowerShell.Management\Get-ChildItem -Path Alias: | ForEach-Object { $_.Name })
    modules = @(Microsoft.PowerShell.Core\Get-Module | ForEach-Object { $_.Name })
}
'@)[0]
    # sets (PowerShell's names ignore case), so that Reset-WorkRunspace finds what a call added without a loop over
    # every name in PowerShell
    $baseline = @{ preferences = $names.preferences }
    foreach ($kind in 'variables', 'functions', 'aliases', 'modules') {
        $baseline[$kind] = [System.Collections.Generic.HashSet[string]]::new([string[]]$names[$kind], [System.StringComparer]::OrdinalIgnoreCase)
    }
    $script:work = @{ runspace = $runspace; baseline = $baseline; uses = 1 }
    return $script:work
}

function Reset-WorkRunspace($Work) {
    # Remove what the call left in the runspace's global state -- variables, functions, aliases, modules, $Error,
    # preference changes -- and the shim's own state, as if the next call had a fresh runspace like win_powershell's.
    # The housekeeping runs in a scope of its own, so its own variables never reach the global scope the next script
    # sees, and finds what a call added with set differences: a PowerShell loop testing each of the ~250 names cost
    # ~16 ms of CPU per call (docs/dev/test-time.md).
    if ($Work.runspace.RunspaceStateInfo.State -ne 'Opened') {
        return
    }
    $null = Invoke-InRunspace $Work.runspace -LocalScope @'
param ($Baseline)
# (no function here: Function: lists this scope's functions too)
$ignoreCase = [System.StringComparer]::OrdinalIgnoreCase
$added = [System.Collections.Generic.HashSet[string]]::new([string[]]@((Get-Variable -Scope Global).Name), $ignoreCase)
$added.ExceptWith($Baseline.variables)
foreach ($name in @($added)) {
    if ($name) { Remove-Variable -Name $name -Scope Global -Force -ErrorAction SilentlyContinue }
}
foreach ($preference in $Baseline.preferences) {
    Set-Variable -Name $preference.name -Value $preference.value -Scope Global -Force -ErrorAction SilentlyContinue
}
$added = [System.Collections.Generic.HashSet[string]]::new([string[]]@((Microsoft.PowerShell.Management\Get-ChildItem -Path Function:).Name), $ignoreCase)
$added.ExceptWith($Baseline.functions)
foreach ($name in @($added)) {
    if ($name) { Microsoft.PowerShell.Management\Remove-Item -LiteralPath ('Function:\' + $name) -Force }
}
$added = [System.Collections.Generic.HashSet[string]]::new([string[]]@((Microsoft.PowerShell.Management\Get-ChildItem -Path Alias:).Name), $ignoreCase)
$added.ExceptWith($Baseline.aliases)
foreach ($name in @($added)) {
    if ($name) { Microsoft.PowerShell.Management\Remove-Item -LiteralPath ('Alias:\' + $name) -Force }
}
foreach ($module in @(Microsoft.PowerShell.Core\Get-Module)) {
    if (-not $Baseline.modules.Contains($module.Name)) { Microsoft.PowerShell.Core\Remove-Module -ModuleInfo $module -Force }
}
$global:PSDefaultParameterValues.Clear()
$global:PSDefaultParameterValues['ConvertFrom-Json:DateKind'] = 'String'
$global:Error.Clear()
& (Microsoft.PowerShell.Core\Get-Module -Name LabShim) { Reset-LabShim }
'@ @(, $Work.baseline)
}

function Invoke-LabScript([hashtable]$Request) {
    $depth = [int]$Request.depth
    $fact = Get-ScriptFact -Hash $Request.hash -Text $Request.text
    if ($null -eq $fact.text) {
        throw "lab worker: script $($Request.hash) was never sent to this worker"
    }
    $plain = [bool]$Request.plain  # a detached powershell.exe -File/-EncodedCommand (lab/detached.py), not win_powershell
    if (-not $plain -and $Request.check_mode -and -not $fact.should_process) {
        return @{ changed = $true; msg = 'skipped, running in check mode'; skipped_check_mode = $true }
    }
    $channel.Suspended = $false
    $clock = [System.Diagnostics.Stopwatch]::StartNew()
    $work = Get-WorkRunspace
    $runspace = $work.runspace
    $openMs = $clock.Elapsed.TotalMilliseconds
    try {
        if (-not $plain) {
            $runspace.SessionStateProxy.SetVariable('Ansible', [pscustomobject]@{
                    PSTypeName = 'Ansible.Windows.WinPowerShell.Module'
                    CheckMode = [bool]$Request.check_mode
                    Verbosity = [int]$Request.verbosity
                    Result = @{}
                    Diff = @{}
                    Changed = $true
                    Failed = $false
                    Tmpdir = $Request.tmpdir
                })
        }
        $eap = @{ stop = 'Stop'; continue = 'Continue'; silently_continue = 'SilentlyContinue' }[[string]$Request.error_action]
        $runspace.SessionStateProxy.SetVariable('ErrorActionPreference', [System.Management.Automation.ActionPreference]$eap)
        $runspace.SessionStateProxy.SetVariable('AsrLabCall', $Request.call)

        $ps = [PowerShell]::Create()
        $ps.Runspace = $runspace
        $parameters = @{}
        foreach ($key in @($Request.parameters.Keys)) {
            $parameters[$key] = $Request.parameters[$key]
        }
        foreach ($entry in @($Request.sensitive | Where-Object { $null -ne $_ })) {
            $parameters[$entry.name] = Get-SensitiveValue -Entry $entry
        }
        if ($fact.should_process -and -not $plain) {
            $parameters.Confirm = $false
            $parameters.WhatIf = [bool]$Request.check_mode
        }
        # The script block is compiled once per runspace (by the hash of its text) and run in a scope of its own, so
        # nothing it defines outlives the call; win_powershell's AddScript(text).AddParameters(...) binds the same way.
        [void]$ps.AddScript($InvokeCachedScript, $true).AddArgument($Request.hash).AddArgument($fact.text).AddArgument($parameters)
        $failed = $false
        $startMs = $clock.Elapsed.TotalMilliseconds
        $psOutput = [System.Collections.Generic.List[object]]::new()
        try {
            $ps.Invoke(@(), $psOutput)
        }
        catch [System.Management.Automation.RuntimeException] {
            $failed = $true
            $ps.Streams.Error.Add($_.Exception.ErrorRecord)
        }
        $scriptMs = $clock.Elapsed.TotalMilliseconds - $startMs
        $ansible = [pscustomobject]@{ Result = $null; Changed = $false; Failed = $false; Diff = $null }
        if (-not $plain) {
            # win_powershell reads $Ansible with a new pipeline (GetVariable would truncate deep values)
            $resultPipeline = [PowerShell]::Create()
            $resultPipeline.Runspace = $runspace
            $ansible = $resultPipeline.AddScript('$Ansible').Invoke()[0]
        }

        $result = @{
            host_out = -join @($ps.Streams.Information | Where-Object { $_.Tags -contains 'PSHOST' } | ForEach-Object {
                    $text = [string]$_.MessageData
                    if ($_.MessageData.PSObject.Properties['NoNewLine'] -and $_.MessageData.NoNewLine) { $text } else { $text + "`r`n" }
                })
            host_err = ''
            result = Convert-OutputObject -InputObject $ansible.Result -Depth $depth
            changed = $ansible.Changed
            failed = ($failed -or $ansible.Failed)
            output = Convert-OutputObject -InputObject $psOutput -Depth $depth
            error = @($ps.Streams.Error | ForEach-Object { Format-ErrorRecord -Record $_ -Depth $depth })
            debug = @($ps.Streams.Debug | Select-Object -ExpandProperty Message)
            verbose = @($ps.Streams.Verbose | Select-Object -ExpandProperty Message)
            warning = @($ps.Streams.Warning | Select-Object -ExpandProperty Message)
            information = @($ps.Streams.Information | ForEach-Object {
                    @{
                        message_data = Convert-OutputObject -InputObject $_.MessageData -Depth $depth
                        source = $_.Source
                        time_generated = $_.TimeGenerated.ToUniversalTime().ToString('o')
                        tags = @($_.Tags)
                    }
                })
            suspended = [bool]$channel.Suspended
            timings = @{ open_ms = $openMs; script_ms = $scriptMs; total_ms = $clock.Elapsed.TotalMilliseconds }
        }
        if ($ansible.Diff -is [System.Collections.IDictionary]) {
            $diff = @{}
            foreach ($kvp in $ansible.Diff.GetEnumerator()) {
                $diff[$kvp.Key] = Convert-OutputObject -InputObject $kvp.Value -Depth $depth
            }
            $result.diff = $diff
        }
        return $result
    }
    finally {
        $channel.Suspended = $false
        Reset-WorkRunspace -Work $work
    }
}

Send-Message @{ op = 'ready'; version = $PSVersionTable.PSVersion.ToString() }
$previousEnvironment = @()
while ($null -ne ($line = $reader.ReadLine())) {
    $request = ConvertFrom-Json -InputObject $line -AsHashtable -Depth 64 -DateKind String
    if ($request.op -eq 'exit') {
        break
    }
    try {
        if ($request.text) {
            $null = Get-ScriptFact -Hash $request.hash -Text $request.text
        }
        Set-CallEnvironment -Environment $request.env -Previous $previousEnvironment
        $previousEnvironment = @($request.env.Keys)
        $result = Invoke-LabScript -Request $request
        Send-Message @{ op = 'done'; result = $result }
    }
    catch {
        Send-Message @{ op = 'done'; worker_error = ($_ | Out-String) }
    }
}
if ($Sandbox -and (Test-Path -LiteralPath $Sandbox)) {
    Set-Location -LiteralPath '/'
    [System.Environment]::CurrentDirectory = '/'
    Remove-Item -LiteralPath $Sandbox -Recurse -Force -ErrorAction SilentlyContinue
}
if ($LogPath) {
    Remove-Item -LiteralPath $LogPath -Force -ErrorAction SilentlyContinue
}
