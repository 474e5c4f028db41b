# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The analyzer behind scripts/check_powershell.py: PowerShell's own parser (its AST and tokens) reads every unit
# the Python side hands it and reports what Windows PowerShell 5.1 on .NET Framework 4.5 (the hosts) cannot run,
# what ansible-test's pslint would report, and the project's own rules. It runs under pwsh 7 (the test host), ONE
# process for the whole repository. It is test tooling and uses pwsh 7 itself (ConvertFrom-Json -AsHashtable, the
# 7.x AST classes): it lives under tests/, where the PowerShell that only ever runs on pwsh 7 lives.
#
#   pwsh -NoProfile -NonInteractive -File tests/powershell/tools/powershell_check.ps1 -RequestPath req.json -ApiPath net45.json.gz
#
# The request is {"units": [{"name", "text", "rules": [...]}]}; the answer on stdout is one JSON array of findings
# {unit, line, column, rule, message} (lines and columns of the unit's own text). Rule groups a unit can ask for:
#   parse      parse errors under pwsh 7.6's parser (a superset of 5.1's grammar: 5.1-only failures are caught by
#              the ps51 group instead)
#   ps51       syntax, operators, escapes, variables, commands, cmdlet parameters and type accelerators 5.1 lacks
#   net45      .NET types, members and overloads .NET Framework 4.5 lacks (scripts/data/net45.json.gz)
#   checkmode  a script declaring SupportsShouldProcess changes nothing unguarded; a program started only to read
#              says so with '# read-only: <why>'
#   pslint     the PSScriptAnalyzer 1.21 rules ansible-test's pslint enables (see $PslintRules for which)
#   project    the project's own conventions (scripts held in here-strings carry a header, ...)
# A single-quoted here-string whose first line starts with '# asr.process_server' holds a script (setup_start's
# detached runner): with the 'embedded' rule it is analysed as a unit of its own (rules parse, ps51, net45, pslint,
# project), its findings reported at the lines of the unit that holds it.
using namespace System.Management.Automation.Language
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$RequestPath,
    [Parameter(Mandatory = $true)][string]$ApiPath
)

$ErrorActionPreference = 'Stop'
$AllFindings = [System.Collections.Generic.List[object]]::new()

# ============================================================================================== shared helpers
function Add-Finding {
    param ($Ctx, [int]$Line, [int]$Column, [string]$Rule, [string]$Message)
    foreach ($s in $Ctx.Suppressed) {
        if ($s.Rule -eq $Rule -and $Line -ge $s.Start -and $Line -le $s.End) {
            return
        }
    }
    $script:AllFindings.Add([ordered]@{ unit = $Ctx.Unit; line = $Line + $Ctx.LineOffset; column = $Column; rule = $Rule; message = $Message })
}

function Add-AstFinding {
    param ($Ctx, $Node, [string]$Rule, [string]$Message)
    Add-Finding -Ctx $Ctx -Line $Node.Extent.StartLineNumber -Column $Node.Extent.StartColumnNumber -Rule $Rule -Message $Message
}

function Get-BareVariableName {
    # 'global:IsWindows' -> 'IsWindows'; 'env:Path' stays (drive-qualified)
    param ([System.Management.Automation.VariablePath]$Path)
    return ($Path.UserPath -replace '^(global|script|local|private|using):', '')
}

function Get-ParameterAstName {
    param ([CommandParameterAst]$Parameter)
    return $Parameter.ParameterName
}

# ============================================================================================== Windows PowerShell 5.1
# Commands pwsh 6/7 added (Microsoft Learn, "What's New in PowerShell" 6.0 - 7.5, and each cmdlet's page, whose
# version selector lacks 5.1). Clear-RecycleBin is kept from ../shared/hooks/ps51-check.ps1 (the safety net this
# check must be at least as strict as), although Windows PowerShell 5.0 introduced it.
$NewCommands = @(
    'Test-Json', 'Get-Error', 'ConvertFrom-Markdown', 'Show-Markdown', 'Get-MarkdownOption', 'Set-MarkdownOption',
    'Join-String', 'Remove-Alias', 'Get-Uptime', 'Remove-Service', 'Clear-RecycleBin', 'Get-ExperimentalFeature',
    'Enable-ExperimentalFeature', 'Disable-ExperimentalFeature', 'ConvertTo-CliXml', 'ConvertFrom-CliXml',
    'Get-SecureRandom', 'Get-PSSubsystem', 'Start-ThreadJob'
)
# Cmdlet parameters pwsh 6/7 added: cmdlet -> parameter -> the version and where that is documented
# (https://learn.microsoft.com/powershell/module/<module>/<cmdlet>?view=powershell-7.5, "This parameter was added
# in PowerShell X"; for 6.0 the "Differences between Windows PowerShell 5.1 and PowerShell 7.x" article).
$NewParameters = @{
    'ConvertFrom-Json' = @{ AsHashtable = '6.0'; Depth = '6.2'; NoEnumerate = '7.0'; DateKind = '7.5' }
    'ConvertTo-Json' = @{ AsArray = '6.2'; EnumsAsStrings = '6.2'; EscapeHandling = '6.2' }
    'Get-Content' = @{ AsByteStream = '6.0' }
    'Set-Content' = @{ AsByteStream = '6.0' }
    'Add-Content' = @{ AsByteStream = '6.0' }
    'Join-Path' = @{ AdditionalChildPath = '6.0'; Extension = '7.5' }
    'Split-Path' = @{ LeafBase = '6.0'; Extension = '6.0' }
    'ForEach-Object' = @{ Parallel = '7.0'; ThrottleLimit = '7.0'; TimeoutSeconds = '7.0'; AsJob = '7.0'; UseNewRunspace = '7.1' }
    'Sort-Object' = @{ Top = '6.1'; Bottom = '6.1'; Stable = '6.1' }
    'Get-ChildItem' = @{ FollowSymlink = '6.0' }
    'Get-Date' = @{ AsUTC = '7.1'; UnixTimeSeconds = '7.1' }
    'Select-String' = @{ Raw = '7.0'; NoEmphasis = '7.0'; Culture = '7.0' }
    'Select-Object' = @{ SkipIndex = '6.0'; CaseInsensitive = '7.4' }
    'Where-Object' = @{ Not = '6.1' }
    'Measure-Object' = @{ AllStats = '6.0'; StandardDeviation = '6.0' }
    'Out-String' = @{ NoNewline = '7.0' }
    'Tee-Object' = @{ Encoding = '7.2' }
    'Start-Sleep' = @{ Duration = '7.3' }
    'Start-Process' = @{ Environment = '7.3' }
    'Wait-Process' = @{ Any = '7.4'; PassThru = '7.4' }
    'Test-Connection' = @{ TargetName = '6.0'; TcpPort = '6.0'; Ping = '6.0'; Traceroute = '6.0'; MtuSize = '6.0'; Repeat = '6.0' }
    'Import-Module' = @{ UseWindowsPowerShell = '7.0'; SkipEditionCheck = '6.0' }
    'Invoke-Command' = @{ HostName = '6.0'; SSHTransport = '6.0'; SSHConnection = '6.0'; UserName = '6.0'; KeyFilePath = '6.0' }
    'New-PSSession' = @{ HostName = '6.0'; SSHTransport = '6.0'; SSHConnection = '6.0'; UserName = '6.0'; KeyFilePath = '6.0' }
    'Export-Csv' = @{ UseQuotes = '7.0'; QuoteFields = '7.0'; IncludeTypeInformation = '6.0' }
    'ConvertTo-Csv' = @{ UseQuotes = '7.0'; QuoteFields = '7.0'; IncludeTypeInformation = '6.0' }
    'ConvertFrom-SecureString' = @{ AsPlainText = '7.0' }
    'Resolve-Path' = @{ RelativeBasePath = '7.4' }
    'Get-Random' = @{ Shuffle = '7.4' }
    'Format-Hex' = @{ Count = '6.0'; Offset = '6.0' }
    'Invoke-WebRequest' = @{
        SkipCertificateCheck = '6.0'; SslProtocol = '6.0'; Authentication = '6.0'; Token = '6.0'; NoProxy = '6.0'
        ResponseHeadersVariable = '6.0'; SkipHttpErrorCheck = '7.0'; StatusCodeVariable = '7.0'; Resume = '6.1'; Form = '6.1'
        MaximumRetryCount = '6.1'; RetryIntervalSec = '6.1'; SkipHeaderValidation = '6.0'; AllowUnencryptedAuthentication = '6.0'
        PreserveAuthorizationOnRedirect = '6.0'; HttpVersion = '7.3'; ConnectionTimeoutSeconds = '7.4'; OperationTimeoutSeconds = '7.4'
    }
    'Invoke-RestMethod' = @{
        SkipCertificateCheck = '6.0'; SslProtocol = '6.0'; Authentication = '6.0'; Token = '6.0'; NoProxy = '6.0'
        ResponseHeadersVariable = '6.0'; SkipHttpErrorCheck = '7.0'; StatusCodeVariable = '6.0'; Resume = '6.1'; Form = '6.1'
        MaximumRetryCount = '6.1'; RetryIntervalSec = '6.1'; SkipHeaderValidation = '6.0'; AllowUnencryptedAuthentication = '6.0'
        PreserveAuthorizationOnRedirect = '6.0'; HttpVersion = '7.3'; FollowRelLink = '6.0'; MaximumFollowRelLink = '6.0'
    }
}
# -Encoding in 5.1 takes FileSystemCmdletProviderEncoding (Unknown ... Oem); pwsh 6+ takes System.Text.Encoding names
# (utf8NoBOM, utf8BOM, ansi, ...) and code page numbers.
$EncodingCmdlets = @('Add-Content', 'Get-Content', 'Set-Content', 'Out-File', 'Export-Csv', 'Import-Csv', 'Export-Clixml',
    'Select-String', 'Send-MailMessage', 'Export-PSSession', 'Format-Hex')
$Encodings51 = @('Unknown', 'String', 'Unicode', 'Byte', 'BigEndianUnicode', 'UTF8', 'UTF7', 'UTF32', 'Ascii', 'Default', 'Oem', 'BigEndianUTF32')
# Automatic variables pwsh 6/7 added: in 5.1 they are simply $null (so `if ($IsWindows)` is false there).
$NewVariables = @('IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR', 'PSStyle', 'PSNativeCommandArgumentPassing',
    'PSNativeCommandUseErrorActionPreference', 'EnabledExperimentalFeatures')
$CommonParameters = @('Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable', 'WarningVariable',
    'InformationVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable', 'WhatIf', 'Confirm')
# Windows PowerShell 5.1's type accelerators ([psobject].Assembly TypeAccelerators::Get on 5.1; about_Type_Accelerators).
# Names pwsh 7 added (semver, short, ushort, uint, ulong, ordered as a type, ValidateNotNullOrWhiteSpace, ...) are
# absent; a name we are not sure 5.1 has is left out too (the full type name always works).
$Accelerators51 = @{
    Alias = 'System.Management.Automation.AliasAttribute'; AllowEmptyCollection = 'System.Management.Automation.AllowEmptyCollectionAttribute'
    AllowEmptyString = 'System.Management.Automation.AllowEmptyStringAttribute'; AllowNull = 'System.Management.Automation.AllowNullAttribute'
    ArgumentCompleter = 'System.Management.Automation.ArgumentCompleterAttribute'; array = 'System.Array'; bool = 'System.Boolean'
    byte = 'System.Byte'; char = 'System.Char'; CmdletBinding = 'System.Management.Automation.CmdletBindingAttribute'
    datetime = 'System.DateTime'; decimal = 'System.Decimal'; double = 'System.Double'; float = 'System.Single'; single = 'System.Single'
    guid = 'System.Guid'; hashtable = 'System.Collections.Hashtable'; int = 'System.Int32'; int32 = 'System.Int32'; int16 = 'System.Int16'
    long = 'System.Int64'; int64 = 'System.Int64'; IPEndpoint = 'System.Net.IPEndPoint'
    NullString = 'System.Management.Automation.Language.NullString'; OutputType = 'System.Management.Automation.OutputTypeAttribute'
    ObjectSecurity = 'System.Security.AccessControl.ObjectSecurity'; Parameter = 'System.Management.Automation.ParameterAttribute'
    PhysicalAddress = 'System.Net.NetworkInformation.PhysicalAddress'; pscredential = 'System.Management.Automation.PSCredential'
    PSDefaultValue = 'System.Management.Automation.PSDefaultValueAttribute'; pslistmodifier = 'System.Management.Automation.PSListModifier'
    psobject = 'System.Management.Automation.PSObject'; pscustomobject = 'System.Management.Automation.PSObject'
    psprimitivedictionary = 'System.Management.Automation.PSPrimitiveDictionary'; ref = 'System.Management.Automation.PSReference'
    PSTypeNameAttribute = 'System.Management.Automation.PSTypeNameAttribute'; regex = 'System.Text.RegularExpressions.Regex'
    sbyte = 'System.SByte'; string = 'System.String'; SupportsWildcards = 'System.Management.Automation.SupportsWildcardsAttribute'
    switch = 'System.Management.Automation.SwitchParameter'; cultureinfo = 'System.Globalization.CultureInfo'
    bigint = 'System.Numerics.BigInteger'; securestring = 'System.Security.SecureString'; timespan = 'System.TimeSpan'
    uint16 = 'System.UInt16'; uint32 = 'System.UInt32'; uint64 = 'System.UInt64'; uri = 'System.Uri'
    ValidateCount = 'System.Management.Automation.ValidateCountAttribute'; ValidateDrive = 'System.Management.Automation.ValidateDriveAttribute'
    ValidateLength = 'System.Management.Automation.ValidateLengthAttribute'; ValidateNotNull = 'System.Management.Automation.ValidateNotNullAttribute'
    ValidateNotNullOrEmpty = 'System.Management.Automation.ValidateNotNullOrEmptyAttribute'
    ValidatePattern = 'System.Management.Automation.ValidatePatternAttribute'; ValidateRange = 'System.Management.Automation.ValidateRangeAttribute'
    ValidateScript = 'System.Management.Automation.ValidateScriptAttribute'; ValidateSet = 'System.Management.Automation.ValidateSetAttribute'
    ValidateTrustedData = 'System.Management.Automation.ValidateTrustedDataAttribute'
    ValidateUserDrive = 'System.Management.Automation.ValidateUserDriveAttribute'; version = 'System.Version'; void = 'System.Void'
    ipaddress = 'System.Net.IPAddress'; WildcardPattern = 'System.Management.Automation.WildcardPattern'
    X509Certificate = 'System.Security.Cryptography.X509Certificates.X509Certificate'; xml = 'System.Xml.XmlDocument'
    mailaddress = 'System.Net.Mail.MailAddress'; scriptblock = 'System.Management.Automation.ScriptBlock'
    psvariable = 'System.Management.Automation.PSVariable'; type = 'System.Type'; psmoduleinfo = 'System.Management.Automation.PSModuleInfo'
    powershell = 'System.Management.Automation.PowerShell'; runspacefactory = 'System.Management.Automation.Runspaces.RunspaceFactory'
    runspace = 'System.Management.Automation.Runspaces.Runspace'; initialsessionstate = 'System.Management.Automation.Runspaces.InitialSessionState'
    psscriptmethod = 'System.Management.Automation.PSScriptMethod'; psscriptproperty = 'System.Management.Automation.PSScriptProperty'
    psnoteproperty = 'System.Management.Automation.PSNoteProperty'; psaliasproperty = 'System.Management.Automation.PSAliasProperty'
    psvariableproperty = 'System.Management.Automation.PSVariableProperty'
    ciminstance = 'Microsoft.Management.Infrastructure.CimInstance'; cimclass = 'Microsoft.Management.Infrastructure.CimClass'
    cimtype = 'Microsoft.Management.Infrastructure.CimType'; cimconverter = 'Microsoft.Management.Infrastructure.CimConverter'
    CimSession = 'Microsoft.Management.Infrastructure.CimSession'; adsi = 'System.DirectoryServices.DirectoryEntry'
    adsisearcher = 'System.DirectoryServices.DirectorySearcher'; wmiclass = 'System.Management.ManagementClass'
    wmi = 'System.Management.ManagementObject'; wmisearcher = 'System.Management.ManagementObjectSearcher'
    DscResource = 'System.Management.Automation.DscResourceAttribute'; DscProperty = 'System.Management.Automation.DscPropertyAttribute'
    DscLocalConfigurationManager = 'System.Management.Automation.DscLocalConfigurationManagerAttribute'
    # not a type in 5.1, but the parser's own cast for a hashtable literal (PowerShell 3.0+)
    ordered = 'System.Collections.Specialized.OrderedDictionary'
}
$Accelerators7 = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get

function Test-Ps51Syntax {
    param ($Ctx, [Ast]$Ast)
    foreach ($n in $Ast.FindAll({ $true }, $true)) {
        $why = $null
        if ($n -is [TernaryExpressionAst]) { $why = 'the ternary operator ? : is PowerShell 7.0+' }
        elseif ($n -is [PipelineChainAst]) { $why = 'pipeline chains && and || are PowerShell 7.0+' }
        elseif ($n -is [BinaryExpressionAst] -and $n.Operator -eq 'QuestionQuestion') { $why = 'the null-coalescing operator ?? is PowerShell 7.0+' }
        elseif ($n -is [AssignmentStatementAst] -and $n.Operator -eq 'QuestionQuestionEquals') { $why = 'the operator ??= is PowerShell 7.0+' }
        elseif ($n -is [MemberExpressionAst] -and $n.NullConditional) { $why = 'the null-conditional member access ?. is PowerShell 7.0+' }
        elseif ($n -is [IndexExpressionAst] -and $n.NullConditional) { $why = 'the null-conditional index ?[] is PowerShell 7.0+' }
        elseif ($n -is [ScriptBlockAst] -and $null -ne $n.CleanBlock) { $why = 'a clean {} block is PowerShell 7.3+' }
        elseif ($n -is [PipelineAst] -and $n.Background) { $why = 'the background operator & at the end of a pipeline is PowerShell 6.0+' }
        elseif ($n -is [BinaryExpressionAst] -and $n.Operator -in 'Ireplace', 'Creplace' -and $n.Right -is [ArrayLiteralAst] -and
            @($n.Right.Elements).Count -eq 2 -and $n.Right.Elements[1] -is [ScriptBlockExpressionAst]) {
            $why = '-replace with a script block substitution is PowerShell 6.1+ (5.1 inserts the block''s text)'
        }
        elseif ($n -is [VariableExpressionAst] -and (Get-BareVariableName $n.VariablePath) -in $NewVariables) {
            $why = "`$$(Get-BareVariableName $n.VariablePath) is an automatic variable of PowerShell 6+; in 5.1 it is `$null"
        }
        elseif ($n -is [CommandAst]) {
            Test-Ps51Command -Ctx $Ctx -Command $n -Ast $Ast
        }
        if ($why) {
            Add-AstFinding -Ctx $Ctx -Node $n -Rule 'ps51' -Message $why
        }
    }
    $req = $Ast.ScriptRequirements
    if ($null -ne $req) {
        if ($null -ne $req.RequiredPSVersion -and $req.RequiredPSVersion -gt [version]'5.1') {
            Add-Finding -Ctx $Ctx -Line 1 -Column 1 -Rule 'ps51' -Message "#requires -Version $($req.RequiredPSVersion): the hosts run 5.1"
        }
        if (@($req.RequiredPSEditions) -contains 'Core') {
            Add-Finding -Ctx $Ctx -Line 1 -Column 1 -Rule 'ps51' -Message '#requires -PSEdition Core: the hosts run Windows PowerShell (Desktop)'
        }
    }
}

function Get-SplatKey {
    # The keys of a hashtable literal assigned to $Name in the same script (what a splat @Name passes).
    param ([Ast]$Ast, [string]$Name)
    $keys = [System.Collections.Generic.List[string]]::new()
    foreach ($a in $Ast.FindAll({ param($x) $x -is [AssignmentStatementAst] -and $x.Left -is [VariableExpressionAst] }, $true)) {
        if ((Get-BareVariableName $a.Left.VariablePath) -ne $Name) { continue }
        foreach ($h in $a.Right.FindAll({ param($x) $x -is [HashtableAst] }, $true)) {
            foreach ($pair in $h.KeyValuePairs) {
                if ($pair.Item1 -is [StringConstantExpressionAst]) { $keys.Add($pair.Item1.Value) }
            }
        }
    }
    return , $keys.ToArray()
}

function Get-UsedParameter {
    # Parameters a command call names: -Name tokens and the keys of splatted hashtable variables.
    param ([CommandAst]$Command, [Ast]$Ast)
    $used = [System.Collections.Generic.List[object]]::new()
    foreach ($e in $Command.CommandElements) {
        if ($e -is [CommandParameterAst]) {
            $used.Add(@{ Name = $e.ParameterName; Node = $e; Argument = $e.Argument })
        }
        elseif ($e -is [VariableExpressionAst] -and $e.Splatted) {
            foreach ($k in (Get-SplatKey -Ast $Ast -Name (Get-BareVariableName $e.VariablePath))) {
                $used.Add(@{ Name = $k; Node = $e; Argument = $null })
            }
        }
    }
    return , $used.ToArray()
}

function Test-ParameterPrefix {
    # Whether -$Given binds to -$Parameter: the name, or a prefix of it that no other parameter of the cmdlet
    # ($Others: the names and aliases 5.1 knows, when known) starts with (-AsH is -AsHashtable; -Skip is -Skip).
    param ([string]$Given, [string]$Parameter, [string[]]$Others = @())
    if ($Given -eq $Parameter) { return $true }
    if ($Given.Length -lt 2 -or -not $Parameter.StartsWith($Given, [System.StringComparison]::OrdinalIgnoreCase)) { return $false }
    foreach ($c in @($CommonParameters) + @($Others)) {
        if ($c -ne $Parameter -and $c.StartsWith($Given, [System.StringComparison]::OrdinalIgnoreCase)) { return $false }
    }
    return $true
}

function Get-Parameter51 {
    # The parameter names and aliases of a cmdlet as 5.1 has them: this pwsh's, without those pwsh added.
    param ([string]$Command)
    $info = Get-Command -Name $Command -CommandType Cmdlet -ErrorAction SilentlyContinue | Select-Object -First 1
    if (-not $info -or $null -eq $info.Parameters) { return @() }
    $new = if ($NewParameters.ContainsKey($Command)) { @($NewParameters[$Command].Keys) } else { @() }
    return @($info.Parameters.Values | Where-Object { $_.Name -notin $new } | ForEach-Object { $_.Name; $_.Aliases })
}

function Test-Ps51Command {
    param ($Ctx, [CommandAst]$Command, [Ast]$Ast)
    $name = $Command.GetCommandName()
    if (-not $name) { return }
    if ($name -in $NewCommands) {
        Add-AstFinding -Ctx $Ctx -Node $Command -Rule 'ps51' -Message "$name does not exist in Windows PowerShell 5.1"
        return
    }
    $used = Get-UsedParameter -Command $Command -Ast $Ast
    if ($NewParameters.ContainsKey($name)) {
        $others = Get-Parameter51 $name
        foreach ($u in $used) {
            foreach ($p in $NewParameters[$name].Keys) {
                if (Test-ParameterPrefix -Given $u.Name -Parameter $p -Others $others) {
                    Add-AstFinding -Ctx $Ctx -Node $u.Node -Rule 'ps51' -Message "$name -$p is PowerShell $($NewParameters[$name][$p])+; Windows PowerShell 5.1 lacks it"
                }
            }
        }
    }
    if ($name -in $EncodingCmdlets) {
        for ($i = 0; $i -lt $Command.CommandElements.Count; $i++) {
            $e = $Command.CommandElements[$i]
            if ($e -isnot [CommandParameterAst] -or -not (Test-ParameterPrefix -Given $e.ParameterName -Parameter 'Encoding')) { continue }
            $value = if ($null -ne $e.Argument) { $e.Argument } elseif ($i + 1 -lt $Command.CommandElements.Count) { $Command.CommandElements[$i + 1] } else { $null }
            if ($value -is [ConstantExpressionAst] -and [string]$value.Value -notin $Encodings51) {
                Add-AstFinding -Ctx $Ctx -Node $value -Rule 'ps51' -Message "$name -Encoding $($value.Value): Windows PowerShell 5.1 knows only $($Encodings51 -join ', ')"
            }
        }
    }
}

function Test-Ps51Token {
    param ($Ctx, [Token[]]$Tokens)
    foreach ($t in $Tokens) {
        if ($t.Kind -eq 'Number' -and $t.Text -notmatch '^(0x[0-9a-f]+|([0-9]+\.?[0-9]*|\.[0-9]+)(e[+-]?[0-9]+)?)(l|d)?(kb|mb|gb|tb|pb)?$') {
            Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'ps51' `
                -Message "the number literal $($t.Text) uses a suffix or base PowerShell 6.2+/7.0 added (5.1: decimal or 0x, l/d, kb..pb)"
        }
        if ($t.Kind -in 'StringExpandable', 'HereStringExpandable') {
            $text = $t.Text
            for ($i = 0; $i -lt $text.Length - 1; $i++) {
                if ($text[$i] -ne '`') { continue }
                $next = $text[$i + 1]
                if ($next -ceq 'e' -or ($next -ceq 'u' -and $i + 2 -lt $text.Length -and $text[$i + 2] -eq '{')) {
                    Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'ps51' `
                        -Message "the escape ``$next in a string is PowerShell 6.0+ (5.1 keeps it as the letter)"
                }
                $i++
            }
        }
        if ($t -is [StringExpandableToken] -and $t.NestedTokens) {
            Test-Ps51Token -Ctx $Ctx -Tokens $t.NestedTokens
        }
    }
}

# ============================================================================================== .NET Framework 4.5
$Api = $null
$ApiIndex = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::OrdinalIgnoreCase)
$ApiNamespaces = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)

function Import-Api {
    param ([string]$Path)
    $gz = [System.IO.Compression.GZipStream]::new([System.IO.File]::OpenRead($Path), [System.IO.Compression.CompressionMode]::Decompress)
    try {
        $script:Api = [System.IO.StreamReader]::new($gz).ReadToEnd() | ConvertFrom-Json -AsHashtable
    }
    finally {
        $gz.Dispose()
    }
    foreach ($k in $Api.Keys) {
        $ApiIndex[$k] = $k
        $dot = $k.LastIndexOf('.')
        if ($dot -gt 0) { [void]$ApiNamespaces.Add($k.Substring(0, $dot)) }
    }
}

# Members Windows PowerShell 5.1 adds to .NET types ($PSHOME\types.ps1xml of 5.1; provider note properties), which
# the API list cannot know. pwsh 7 adds more (Process.CommandLine, ServiceController.StartupType, ...): not here.
$ExtendedMembers = @{
    'System.Diagnostics.Process' = @('Name', 'Handles', 'VM', 'WS', 'PM', 'NPM', 'Path', 'Company', 'CPU', 'FileVersion', 'ProductVersion',
        'Description', 'Product', 'SI', '__NounName')
    'System.IO.FileSystemInfo' = @('Mode', 'BaseName', 'Target', 'LinkType', 'VersionInfo', 'PSPath', 'PSParentPath', 'PSChildName',
        'PSDrive', 'PSProvider', 'PSIsContainer')
    'System.DateTime' = @('DateTime')
    'System.ServiceProcess.ServiceController' = @('Name', 'RequiredServices')
    'System.Security.AccessControl.ObjectSecurity' = @('Path', 'Owner', 'Group', 'Access', 'Sddl', 'AccessToString', 'AuditToString', 'Audit')
    'Microsoft.Win32.RegistryKey' = @('Property', 'PSPath', 'PSParentPath', 'PSChildName', 'PSDrive', 'PSProvider', 'PSIsContainer')
    'System.Array' = @('Count')
}
# Members PowerShell gives every object (intrinsic members, PowerShell 3.0+).
$IntrinsicMembers = @('PSObject', 'PSTypeNames', 'PSBase', 'PSAdapted', 'PSExtended', 'Count', 'Length', 'ForEach', 'Where')
# Generic members whose type the list leaves open (it keeps concrete types only): member -> index of the type argument
$GenericMemberTypes = @{
    'System.Collections.Generic.List`1' = @{ Item = 0; ToArray = '0[]' }
    'System.Collections.Generic.Dictionary`2' = @{ Item = 1 }
    'System.Collections.Generic.KeyValuePair`2' = @{ Key = 0; Value = 1 }
    'System.Threading.Tasks.Task`1' = @{ Result = 0 }
    'System.Nullable`1' = @{ Value = 0 }
    'System.Collections.ObjectModel.Collection`1' = @{ Item = 0 }
}
# What a cmdlet returns, when one .NET type (5.1's documentation of each cmdlet, "Outputs").
$CmdletOutputTypes = @{
    'Get-Date' = 'System.DateTime'; 'Get-Process' = 'System.Diagnostics.Process'; 'Get-Service' = 'System.ServiceProcess.ServiceController'
    'Join-Path' = 'System.String'; 'Split-Path' = 'System.String'; 'Test-Path' = 'System.Boolean'; 'ConvertTo-Json' = 'System.String'
    'Out-String' = 'System.String'; 'Get-Acl' = 'System.Security.AccessControl.CommonObjectSecurity'; 'Get-Location' = 'System.Management.Automation.PathInfo'
    'New-TimeSpan' = 'System.TimeSpan'; 'New-Guid' = 'System.Guid'; 'ConvertTo-SecureString' = 'System.Security.SecureString'
}

function Split-TypeRef {
    # 'A`2<B,C<D>>[]' -> @{ Base = 'A`2'; Args = @('B', 'C<D>'); Array = $true; Element = 'A`2<B,C<D>>' }
    param ([string]$Type)
    $result = @{ Base = $Type; Args = @(); Array = $false; Element = $null }
    if ($Type.EndsWith('[]')) {
        $result.Array = $true
        $result.Element = $Type.Substring(0, $Type.Length - 2)
        $result.Base = 'System.Array'
        return $result
    }
    $lt = $Type.IndexOf('<')
    if ($lt -lt 0) { return $result }
    $result.Base = $Type.Substring(0, $lt)
    $inner = $Type.Substring($lt + 1, $Type.Length - $lt - 2)
    $depth = 0; $start = 0; $parts = [System.Collections.Generic.List[string]]::new()
    for ($i = 0; $i -lt $inner.Length; $i++) {
        if ($inner[$i] -eq '<') { $depth++ }
        elseif ($inner[$i] -eq '>') { $depth-- }
        elseif ($inner[$i] -eq ',' -and $depth -eq 0) { $parts.Add($inner.Substring($start, $i - $start)); $start = $i + 1 }
    }
    $parts.Add($inner.Substring($start))
    $result.Args = $parts.ToArray()
    return $result
}

function ConvertFrom-ClrTypeName {
    # 'System.Threading.Tasks.Task`1[[System.Int32, mscorlib, ...]]' (the list's spelling) -> 'System.Threading.Tasks.Task`1<System.Int32>'
    param ([string]$Name)
    if (-not $Name) { return $null }
    $array = ''
    while ($Name.EndsWith('[]')) { $array += '[]'; $Name = $Name.Substring(0, $Name.Length - 2) }
    $open = $Name.IndexOf('[[')
    if ($open -lt 0) { return $Name + $array }
    $base = $Name.Substring(0, $open)
    $inner = $Name.Substring($open + 1, $Name.Length - $open - 2)   # [A, asm],[B, asm]
    $args2 = [System.Collections.Generic.List[string]]::new()
    $depth = 0; $start = -1
    for ($i = 0; $i -lt $inner.Length; $i++) {
        if ($inner[$i] -eq '[') { if ($depth -eq 0) { $start = $i + 1 }; $depth++ }
        elseif ($inner[$i] -eq ']') {
            $depth--
            if ($depth -eq 0) {
                $qualified = $inner.Substring($start, $i - $start)
                $d = 0; $cut = $qualified.Length
                for ($j = 0; $j -lt $qualified.Length; $j++) {
                    if ($qualified[$j] -eq '[') { $d++ } elseif ($qualified[$j] -eq ']') { $d-- } elseif ($qualified[$j] -eq ',' -and $d -eq 0) { $cut = $j; break }
                }
                $args2.Add((ConvertFrom-ClrTypeName $qualified.Substring(0, $cut).Trim()))
            }
        }
    }
    return "$base<$($args2 -join ',')>$array"
}

function Resolve-ApiTypeName {
    # A written type name -> @{ Type = canonical name or $null; Judged = whether the 4.5 list decides; Note }.
    param ([ITypeName]$TypeName, [Ast]$Root, [int]$Arity = 0)
    if ($TypeName -is [ArrayTypeName]) {
        $element = Resolve-ApiTypeName -TypeName $TypeName.ElementType -Root $Root
        if ($element.Type) { $element.Type = $element.Type + '[]' }
        return $element
    }
    if ($TypeName -is [GenericTypeName]) {
        $outer = Resolve-ApiTypeName -TypeName $TypeName.TypeName -Root $Root -Arity $TypeName.GenericArguments.Count
        if (-not $outer.Type) { return $outer }
        $argTypes = foreach ($g in $TypeName.GenericArguments) { $r = Resolve-ApiTypeName -TypeName $g -Root $Root; if ($r.Type) { $r.Type } else { 'System.Object' } }
        $outer.Type = "$($outer.Type)<$(@($argTypes) -join ',')>"
        return $outer
    }
    return Resolve-ApiTypeText -Name $TypeName.FullName -Root $Root -Arity $Arity
}

$ClassCache = [System.Collections.Generic.Dictionary[object, object]]::new()

function Resolve-ApiTypeText {
    param ([string]$Name, [Ast]$Root, [int]$Arity = 0)
    $Name = $Name.Trim()
    if ($Root -and -not $ClassCache.ContainsKey($Root)) {
        $ClassCache[$Root] = @($Root.FindAll({ param($x) $x -is [TypeDefinitionAst] }, $true) | ForEach-Object { $_.Name })
    }
    if ($Root -and $ClassCache[$Root] -contains $Name) {
        return @{ Type = $null; Judged = $false; Note = 'a class of the script' }
    }
    if ($Arity -eq 0 -and $Accelerators51.ContainsKey($Name)) {
        $full = $Accelerators51[$Name]
        return @{ Type = $full; Judged = $ApiIndex.ContainsKey($full); Note = '' }
    }
    $wanted = if ($Arity -gt 0 -and $Name -notmatch '`\d+$') { "$Name``$Arity" } else { $Name }
    foreach ($candidate in @($wanted, "System.$wanted")) {
        if ($ApiIndex.ContainsKey($candidate)) { return @{ Type = $ApiIndex[$candidate]; Judged = $true; Note = '' } }
    }
    if ($Arity -eq 0 -and $Accelerators7.ContainsKey($Name)) {
        return @{ Type = ''; Judged = $true; Note = "[$Name] is a type accelerator of PowerShell 6/7 only; Windows PowerShell 5.1 does not know it" }
    }
    $namespace = if ($wanted.Contains('.')) { $wanted.Substring(0, $wanted.LastIndexOf('.')) } else { '' }
    foreach ($ns in @($namespace, "System.$namespace")) {
        if ($ns -and ($ApiNamespaces.Contains($ns) -or $ns -match '^(System|Microsoft\.Win32)(\.|$)')) {
            return @{ Type = ''; Judged = $true; Note = "[$Name] is not in .NET Framework 4.5" }
        }
    }
    return @{ Type = $null; Judged = $false; Note = 'not a namespace of the .NET Framework 4.5 list' }
}

$RuntimeTypeCache = @{}

function Get-RuntimeType {
    # The same type in this pwsh's runtime (for its interfaces: the 4.5 list records those of interfaces only).
    param ([string]$Base)
    if (-not $RuntimeTypeCache.ContainsKey($Base)) { $RuntimeTypeCache[$Base] = Find-RuntimeType $Base }
    return $RuntimeTypeCache[$Base]
}

function Find-RuntimeType {
    param ([string]$Base)
    try {
        $found = [type]::GetType($Base)
        if (-not $found) { $found = [psobject].Assembly.GetType($Base) }
        if (-not $found) { $found = $Base -as [type] }
        return $found
    }
    catch {
        return $null
    }
}

$ImplementsCache = @{}

function Test-TypeImplements {
    param ([string]$Type, [string]$Interface)
    $key = "$Type|$Interface"
    if (-not $ImplementsCache.ContainsKey($key)) {
        $rt = Get-RuntimeType (Split-TypeRef $Type).Base
        $ImplementsCache[$key] = $null -ne $rt -and [bool]($rt.GetInterfaces() | Where-Object {
                $_.FullName -eq $Interface -or ($_.IsGenericType -and $_.GetGenericTypeDefinition().FullName -eq $Interface) })
    }
    return $ImplementsCache[$key]
}

function Test-AdaptedType {
    # PowerShell answers any property name on these (dictionary keys, XML nodes, PSObject notes, WMI/CIM adapters).
    param ([string]$Type)
    $base = (Split-TypeRef $Type).Base
    if ($base -match '^(System\.Management\.Automation\.PSObject|System\.Management\.Automation\.PSCustomObject|System\.Xml\.|System\.Management\.Management|System\.Data\.DataRow|System\.__ComObject)') {
        return $true
    }
    return (Test-TypeImplements -Type $Type -Interface 'System.Collections.IDictionary') -or
        (Test-TypeImplements -Type $Type -Interface 'System.Collections.Generic.IDictionary`2')
}

function Get-ElementType {
    # The element type of a typed collection (System.Object, which any value is, counts as unknown).
    param ([string]$Type)
    $ref = Split-TypeRef $Type
    if ($ref.Array) { return $(if ($ref.Element -ne 'System.Object') { $ref.Element } else { $null }) }
    if ($ref.Base -in 'System.Collections.Generic.List`1', 'System.Collections.ObjectModel.Collection`1', 'System.Collections.Generic.HashSet`1',
        'System.Collections.Generic.IEnumerable`1', 'System.Collections.Generic.IList`1', 'System.Collections.Generic.Queue`1', 'System.Collections.Generic.Stack`1') {
        return $ref.Args[0]
    }
    return $null
}

$MemberCache = @{}
$MemberIndex = @{}

function Get-MemberIndex {
    # Case-insensitive lookup of one type's members: key -> the list's own spelling, per section (sm, im, sp, ip, t).
    param ([string]$Type)
    if (-not $MemberIndex.ContainsKey($Type)) {
        $index = @{}
        foreach ($section in 'sm', 'im', 't') {
            $map = [System.Collections.Generic.Dictionary[string, string]]::new([System.StringComparer]::OrdinalIgnoreCase)
            if ($Api[$Type][$section]) { foreach ($k in $Api[$Type][$section].Keys) { $map[$k] = $k } }
            $index[$section] = $map
        }
        foreach ($section in 'sp', 'ip') {
            $set = [System.Collections.Generic.HashSet[string]]::new([System.StringComparer]::OrdinalIgnoreCase)
            foreach ($k in @($Api[$Type][$section])) { if ($k) { [void]$set.Add($k) } }
            $index[$section] = $set
        }
        $MemberIndex[$Type] = $index
    }
    return $MemberIndex[$Type]
}

function Find-ApiMember {
    # @{ Kind = 'method'|'property'; Arities; Type } of a member (walking base types, then interfaces), or $null.
    param ([string]$Type, [string]$Member, [bool]$Static)
    $cacheKey = "$Type|$Member|$Static"
    if (-not $MemberCache.ContainsKey($cacheKey)) { $MemberCache[$cacheKey] = Find-ApiMemberUncached -Type $Type -Member $Member -Static $Static }
    return $MemberCache[$cacheKey]
}

function Find-ApiMemberUncached {
    param ([string]$Type, [string]$Member, [bool]$Static)
    $ref = Split-TypeRef $Type
    $chain = [System.Collections.Generic.List[string]]::new()
    for ($t = $ref.Base; $t -and $Api.ContainsKey($t); $t = (ConvertFrom-ClrTypeName $Api[$t]['b']) -replace '<.*$', '') {
        $chain.Add($t)
    }
    if (-not $Static) {
        $rt = Get-RuntimeType $ref.Base
        if ($rt) {
            foreach ($i in $rt.GetInterfaces()) {
                $n = if ($i.IsGenericType) { $i.GetGenericTypeDefinition().FullName } else { $i.FullName }
                if ($n -and $Api.ContainsKey($n)) { $chain.Add($n) }
            }
        }
        if ($rt -and $rt.IsInterface) { $chain.Add('System.Object') }
    }
    $methodsKey = if ($Static) { 'sm' } else { 'im' }
    $propsKey = if ($Static) { 'sp' } else { 'ip' }
    $typeKey = if ($Static) { "::$Member" } else { $Member }
    foreach ($t in $chain) {
        $entry = $Api[$t]
        $index = Get-MemberIndex $t
        $declared = $null
        if ($index[$methodsKey].ContainsKey($Member)) { $declared = $index[$methodsKey][$Member] }
        $kind = if ($declared) { 'method' } elseif ($index[$propsKey].Contains($Member)) { 'property' } else { $null }
        if (-not $kind) { continue }
        $memberType = $null
        if ($index['t'].ContainsKey($typeKey)) { $memberType = ConvertFrom-ClrTypeName $entry['t'][$index['t'][$typeKey]] }
        if (-not $memberType -and $GenericMemberTypes.ContainsKey($t) -and $GenericMemberTypes[$t].ContainsKey($Member) -and $ref.Args.Count) {
            $spec = [string]$GenericMemberTypes[$t][$Member]
            $index = [int]($spec -replace '\[\]$', '')
            if ($index -lt $ref.Args.Count) { $memberType = $ref.Args[$index] + $(if ($spec.EndsWith('[]')) { '[]' } else { '' }) }
        }
        $arities = if ($kind -eq 'method') { @($entry[$methodsKey][$declared]) } else { @() }
        return @{ Kind = $kind; Arities = $arities; Type = $memberType; DeclaredBy = $t }
    }
    return $null
}

function Test-Arity {
    param ([int[]]$Arities, [int]$Count)
    if ($Count -in $Arities) { return $true }
    if ($Arities -contains -1) { return $true }   # a params array: any count from its fixed part on
    return $false
}

# ---- types of expressions (what the AST can know without running the script) -------------------------------
$VariableTypeCache = @{}

function Get-EnclosingAst {
    # The nearest ancestor of Node that is a Type (a [ScriptBlockAst]: its scope; a [FunctionDefinitionAst]), or $null.
    param ([Ast]$Node, [type]$Type)
    for ($p = $Node.Parent; $null -ne $p; $p = $p.Parent) {
        if ($p -is $Type) { return $p }
    }
    return $null
}

function Get-ScopeVariableType {
    # variable -> type for the assignments, parameters and foreach variables of one script block ('' = not one type)
    param ([ScriptBlockAst]$Scope, [Ast]$Root)
    if ($VariableTypeCache.ContainsKey($Scope)) { return $VariableTypeCache[$Scope] }
    $map = @{}
    $fixed = @{}
    $VariableTypeCache[$Scope] = $map   # a recursive lookup sees the partial map, not an endless loop
    $note = {
        param ([string]$Name, $Type, [bool]$Constraint)
        if ($fixed.ContainsKey($Name)) { return }
        if ($Constraint) { $map[$Name] = [string]$Type; $fixed[$Name] = $true; return }
        if ($null -eq $Type) { $Type = '' }
        if ($map.ContainsKey($Name) -and $map[$Name] -ne $Type) { $map[$Name] = '' } else { $map[$Name] = [string]$Type }
    }
    if ($Scope.ParamBlock) {
        foreach ($p in $Scope.ParamBlock.Parameters) { & $note (Get-BareVariableName $p.Name.VariablePath) (Get-ParameterType $p $Root) $true }
    }
    if ($Scope.Parent -is [FunctionDefinitionAst] -and $Scope.Parent.Parameters) {
        foreach ($p in $Scope.Parent.Parameters) { & $note (Get-BareVariableName $p.Name.VariablePath) (Get-ParameterType $p $Root) $true }
    }
    $mine = $Scope.FindAll({ param($x) ($x -is [AssignmentStatementAst] -or $x -is [ForEachStatementAst]) }, $true) |
        Where-Object { (Get-EnclosingAst $_ ([ScriptBlockAst])) -eq $Scope }
    foreach ($a in @($mine)) {
        if ($a -is [ForEachStatementAst]) {
            $collection = Get-StatementType -Statement $a.Condition -Root $Root
            & $note (Get-BareVariableName $a.Variable.VariablePath) $(if ($collection) { Get-ElementType $collection } else { $null }) $false
            continue
        }
        $left = $a.Left
        if ($left -is [ConvertExpressionAst] -and $left.Child -is [VariableExpressionAst]) {
            $r = Resolve-ApiTypeName -TypeName $left.Type.TypeName -Root $Root
            & $note (Get-BareVariableName $left.Child.VariablePath) $r.Type $true
            continue
        }
        if ($left -isnot [VariableExpressionAst] -or $a.Operator -ne 'Equals') { continue }
        $right = $a.Right
        if ($right -is [CommandExpressionAst] -and $right.Expression -is [VariableExpressionAst] -and $right.Expression.VariablePath.UserPath -eq 'null') { continue }
        & $note (Get-BareVariableName $left.VariablePath) (Get-StatementType -Statement $right -Root $Root) $false
    }
    return $map
}

function Get-ParameterType {
    param ([ParameterAst]$Parameter, [Ast]$Root)
    foreach ($attr in $Parameter.Attributes) {
        if ($attr -is [TypeConstraintAst]) { return (Resolve-ApiTypeName -TypeName $attr.TypeName -Root $Root).Type }
    }
    return $null
}

function Get-StatementType {
    param ([Ast]$Statement, [Ast]$Root)
    if ($Statement -is [PipelineAst]) {
        if ($Statement.PipelineElements.Count -ne 1) { return $null }
        $Statement = $Statement.PipelineElements[0]
    }
    if ($Statement -is [CommandExpressionAst]) { return Get-ExprType -Expr $Statement.Expression -Root $Root }
    if ($Statement -is [CommandAst]) { return Get-CommandOutputType -Command $Statement -Root $Root }
    return $null
}

function Get-CommandOutputType {
    param ([CommandAst]$Command, [Ast]$Root)
    $name = $Command.GetCommandName()
    if (-not $name) { return $null }
    if ($name -eq 'New-Object') {
        $typeArg = Get-NewObjectTypeName $Command
        if ($typeArg) { return (Resolve-ApiTypeText -Name $typeArg -Root $Root).Type }
        return $null
    }
    if ($name -eq 'Start-Process') {
        if ($Command.CommandElements | Where-Object { $_ -is [CommandParameterAst] -and $_.ParameterName -eq 'PassThru' }) { return 'System.Diagnostics.Process' }
        return $null
    }
    if ($name -eq 'Get-Content') {
        if ($Command.CommandElements | Where-Object { $_ -is [CommandParameterAst] -and $_.ParameterName -eq 'Raw' }) { return 'System.String' }
        return $null
    }
    if ($CmdletOutputTypes.ContainsKey($name)) { return $CmdletOutputTypes[$name] }
    return $null
}

function Get-NewObjectTypeName {
    param ([CommandAst]$Command)
    $elements = @($Command.CommandElements | Select-Object -Skip 1)
    for ($i = 0; $i -lt $elements.Count; $i++) {
        $e = $elements[$i]
        if ($e -is [CommandParameterAst]) {
            if (Test-ParameterPrefix -Given $e.ParameterName -Parameter 'TypeName') {
                $v = if ($e.Argument) { $e.Argument } elseif ($i + 1 -lt $elements.Count) { $elements[$i + 1] } else { $null }
                if ($v -is [StringConstantExpressionAst]) { return $v.Value }
                return $null
            }
            if ($null -eq $e.Argument -and $e.ParameterName -notin 'Strict') { $i++ }
            continue
        }
        if ($e -is [StringConstantExpressionAst]) { return $e.Value }   # the first positional argument is -TypeName
        return $null
    }
    return $null
}

function Get-VariableType {
    param ([VariableExpressionAst]$Variable, [Ast]$Root)
    $name = Get-BareVariableName $Variable.VariablePath
    if ($Variable.VariablePath.DriveName -eq 'env') { return 'System.String' }
    switch ($name) {
        'PSCmdlet' { return 'System.Management.Automation.PSCmdlet' }
        'true' { return 'System.Boolean' }
        'false' { return 'System.Boolean' }
        'MyInvocation' { return 'System.Management.Automation.InvocationInfo' }
        'ExecutionContext' { return 'System.Management.Automation.EngineIntrinsics' }
        'Host' { return 'System.Management.Automation.Host.PSHost' }
        'Error' { return 'System.Collections.ArrayList' }
    }
    if ($name -in '_', 'PSItem') {
        for ($p = $Variable.Parent; $null -ne $p; $p = $p.Parent) {
            if ($p -is [CatchClauseAst]) { return 'System.Management.Automation.ErrorRecord' }
            if ($p -is [ScriptBlockAst]) { return $null }
        }
        return $null
    }
    for ($scope = Get-EnclosingAst $Variable ([ScriptBlockAst]); $null -ne $scope; $scope = Get-EnclosingAst $scope ([ScriptBlockAst])) {
        $map = Get-ScopeVariableType -Scope $scope -Root $Root
        if ($map.ContainsKey($name)) { return $(if ($map[$name]) { $map[$name] } else { $null }) }
    }
    return $null
}

$ExprTypeCache = [System.Collections.Generic.Dictionary[object, object]]::new()

function Get-ExprType {
    # The .NET type of an expression when the AST alone can tell (canonical name), else $null.
    param ([Ast]$Expr, [Ast]$Root)
    if (-not $ExprTypeCache.ContainsKey($Expr)) { $ExprTypeCache[$Expr] = Get-ExprTypeUncached -Expr $Expr -Root $Root }
    return $ExprTypeCache[$Expr]
}

function Get-ExprTypeUncached {
    param ([Ast]$Expr, [Ast]$Root)
    switch ($Expr) {
        { $_ -is [StringConstantExpressionAst] -or $_ -is [ExpandableStringExpressionAst] } { return 'System.String' }
        { $_ -is [ConstantExpressionAst] } { return $(if ($null -ne $_.Value) { $_.Value.GetType().FullName } else { $null }) }
        { $_ -is [ConvertExpressionAst] } { return (Resolve-ApiTypeName -TypeName $_.Type.TypeName -Root $Root).Type }
        { $_ -is [ArrayExpressionAst] -or $_ -is [ArrayLiteralAst] } { return 'System.Object[]' }
        { $_ -is [HashtableAst] } { return 'System.Collections.Hashtable' }
        { $_ -is [ParenExpressionAst] } { return Get-StatementType -Statement $_.Pipeline -Root $Root }
        { $_ -is [VariableExpressionAst] } { return Get-VariableType -Variable $_ -Root $Root }
        { $_ -is [UnaryExpressionAst] -and $_.TokenKind -in 'Not', 'Exclaim' } { return 'System.Boolean' }
        { $_ -is [BinaryExpressionAst] } {
            if ($_.Operator -in 'Join', 'Format', 'Ireplace', 'Creplace') { return 'System.String' }
            if ($_.Operator -in 'Isplit', 'Csplit') { return 'System.String[]' }
            return $null
        }
        { $_ -is [IndexExpressionAst] } {
            $target = Get-ExprType -Expr $_.Target -Root $Root
            if (-not $target) { return $null }
            $element = Get-ElementType $target
            if ($element) { return $element }
            $item = Find-ApiMember -Type $target -Member 'Item' -Static $false
            return $(if ($item) { $item.Type } else { $null })
        }
        { $_ -is [MemberExpressionAst] } {
            if ($_.Member -isnot [StringConstantExpressionAst]) { return $null }
            if ($_.Static -and $_.Expression -is [TypeExpressionAst]) {
                $owner = (Resolve-ApiTypeName -TypeName $_.Expression.TypeName -Root $Root).Type
                if (-not $owner) { return $null }
                if ($_.Member.Value -eq 'new') { return $owner }
                $m = Find-ApiMember -Type $owner -Member $_.Member.Value -Static $true
                return $(if ($m) { $m.Type } else { $null })
            }
            $owner = Get-ExprType -Expr $_.Expression -Root $Root
            if (-not $owner -or (Test-AdaptedType $owner)) { return $null }
            $m = Find-ApiMember -Type $owner -Member $_.Member.Value -Static $false
            return $(if ($m) { $m.Type } else { $null })
        }
    }
    return $null
}

function Get-ArgumentCount {
    # How many arguments New-Object -ArgumentList passes, when the text says (a literal list), else $null.
    param ([Ast]$Value)
    if ($Value -is [ArrayLiteralAst]) { return $Value.Elements.Count }
    if ($Value -is [ArrayExpressionAst]) {
        $statements = @($Value.SubExpression.Statements)
        if ($statements.Count -eq 1 -and $statements[0] -is [PipelineAst] -and $statements[0].PipelineElements.Count -eq 1 -and
            $statements[0].PipelineElements[0] -is [CommandExpressionAst]) {
            $inner = $statements[0].PipelineElements[0].Expression
            if ($inner -is [ArrayLiteralAst]) { return $inner.Elements.Count }
            return 1
        }
        return $null
    }
    if ($Value -is [ConstantExpressionAst] -or $Value -is [ExpandableStringExpressionAst]) { return 1 }
    return $null
}

function Test-Net45 {
    param ($Ctx, [Ast]$Ast)
    $script:VariableTypeCache = @{}
    foreach ($n in $Ast.FindAll({ $true }, $true)) {
        if ($n -is [TypeExpressionAst] -or $n -is [TypeConstraintAst]) {
            $r = Resolve-ApiTypeName -TypeName $n.TypeName -Root $Ast
            if ($r.Judged -and $r.Type -eq '') { Add-AstFinding -Ctx $Ctx -Node $n -Rule 'net45' -Message $r.Note }
        }
        elseif ($n -is [AttributeAst]) {
            $name = $n.TypeName.FullName
            if (-not $Accelerators51.ContainsKey($name) -and -not $ApiIndex.ContainsKey($name) -and -not $ApiIndex.ContainsKey("$($name)Attribute") -and
                -not $ApiIndex.ContainsKey("System.$($name)Attribute") -and ($Accelerators7.ContainsKey($name) -or $Accelerators7.ContainsKey("$($name)Attribute"))) {
                Add-AstFinding -Ctx $Ctx -Node $n -Rule 'net45' -Message "the attribute [$name()] is PowerShell 6/7 only"
            }
        }
        elseif ($n -is [CommandAst] -and $n.GetCommandName() -eq 'New-Object') {
            Test-NewObject -Ctx $Ctx -Command $n -Root $Ast
        }
        elseif ($n -is [MemberExpressionAst] -and $n.Member -is [StringConstantExpressionAst]) {
            Test-MemberUse -Ctx $Ctx -Node $n -Root $Ast
        }
    }
    # String.Split('ab'): 5.1 (.NET Framework: Split(params char[])) splits on EACH character, pwsh 7 on the whole string.
    foreach ($m in $Ast.FindAll({ param($x) $x -is [InvokeMemberExpressionAst] -and -not $x.Static -and $x.Member.Extent.Text -eq 'Split' }, $true)) {
        $first = @($m.Arguments)[0]
        $value = if ($first -is [StringConstantExpressionAst]) { $first.Value } elseif ($first -is [ExpandableStringExpressionAst] -and -not $first.NestedExpressions.Count) { $first.Value } else { $null }
        $receiver = Get-ExprType -Expr $m.Expression -Root $Ast
        if ($null -ne $value -and $value.Length -gt 1 -and (-not $receiver -or $receiver -eq 'System.String')) {
            Add-AstFinding -Ctx $Ctx -Node $m -Rule 'net45' -Message ".Split('$value') splits on each character under 5.1 (Split(params char[])) but on the whole string under pwsh 7: use -split or a [string[]] separator"
        }
    }
}

function Test-NewObject {
    param ($Ctx, [CommandAst]$Command, [Ast]$Root)
    $typeName = Get-NewObjectTypeName $Command
    if (-not $typeName) { return }
    if ($Command.CommandElements | Where-Object { $_ -is [CommandParameterAst] -and $_.ParameterName -in 'ComObject', 'Com' }) { return }
    $r = Resolve-ApiTypeText -Name $typeName -Root $Root
    if ($r.Judged -and $r.Type -eq '') {
        Add-AstFinding -Ctx $Ctx -Node $Command -Rule 'net45' -Message "New-Object $($typeName): $($r.Note)"
        return
    }
    if (-not $r.Type) { return }
    $elements = @($Command.CommandElements)
    for ($i = 1; $i -lt $elements.Count; $i++) {
        $e = $elements[$i]
        if ($e -isnot [CommandParameterAst] -or -not (Test-ParameterPrefix -Given $e.ParameterName -Parameter 'ArgumentList')) { continue }
        $value = if ($e.Argument) { $e.Argument } elseif ($i + 1 -lt $elements.Count) { $elements[$i + 1] } else { $null }
        $count = Get-ArgumentCount $value
        $ctors = @($Api[$r.Type]['c'])
        if ($null -ne $count -and $ctors.Count -and -not (Test-Arity -Arities $ctors -Count $count)) {
            Add-AstFinding -Ctx $Ctx -Node $Command -Rule 'net45' -Message "New-Object $typeName with $count arguments: .NET Framework 4.5 has constructors taking $($ctors -join ', ')"
        }
    }
}

function Test-MemberUse {
    param ($Ctx, [MemberExpressionAst]$Node, [Ast]$Root)
    $member = $Node.Member.Value
    $invoke = $Node -is [InvokeMemberExpressionAst]
    $argc = if (-not $invoke) { $null } elseif ($Node.Arguments) { $Node.Arguments.Count } else { 0 }
    if ($Node.Static) {
        if ($Node.Expression -isnot [TypeExpressionAst]) { return }
        $r = Resolve-ApiTypeName -TypeName $Node.Expression.TypeName -Root $Root
        if (-not $r.Type -or -not $r.Judged) { return }
        $owner = (Split-TypeRef $r.Type).Base
        if ($member -eq 'new') {
            $ctors = @($Api[$owner]['c'])
            if ($invoke -and -not (Test-Arity -Arities $ctors -Count $argc)) {
                Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "[$owner]::new with $argc arguments: .NET Framework 4.5 has constructors taking $(if ($ctors.Count) { $ctors -join ', ' } else { 'none' })"
            }
            return
        }
        $found = Find-ApiMember -Type $r.Type -Member $member -Static $true
        if (-not $found) {
            Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "[$owner]::$member is not in .NET Framework 4.5"
        }
        elseif ($invoke -and $found.Kind -eq 'method' -and -not (Test-Arity -Arities $found.Arities -Count $argc)) {
            Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "[$owner]::$member with $argc arguments: .NET Framework 4.5 has overloads taking $($found.Arities -join ', ')"
        }
        return
    }
    $type = Get-ExprType -Expr $Node.Expression -Root $Root
    if (-not $type -or $type -eq 'System.Object' -or -not $Api.ContainsKey((Split-TypeRef $type).Base)) { return }
    if ($member -in $IntrinsicMembers) { return }
    $found = Find-ApiMember -Type $type -Member $member -Static $false
    if (-not $found) {
        if (-not $invoke -and (Test-AdaptedType $type)) { return }
        foreach ($t in $ExtendedMembers.Keys) {
            if ($ExtendedMembers[$t] -contains $member -and (Test-TypeIs -Type $type -Base $t)) { return }
        }
        $element = Get-ElementType $type
        if ($element) {
            # member enumeration: $array.Name is each element's Name (PowerShell 3.0+)
            if ($Api.ContainsKey((Split-TypeRef $element).Base) -and -not (Find-ApiMember -Type $element -Member $member -Static $false) -and
                -not (Test-AdaptedType $element)) {
                Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "$type.$member is not in .NET Framework 4.5 (neither on the collection nor on its elements)"
            }
            return
        }
        if ($type -ne 'System.String' -and (Test-TypeImplements -Type $type -Interface 'System.Collections.IEnumerable')) { return }   # member enumeration may apply
        Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "$type.$member$(if ($invoke) { '()' }) is not in .NET Framework 4.5"
        return
    }
    if ($invoke -and $found.Kind -eq 'method' -and -not (Test-Arity -Arities $found.Arities -Count $argc)) {
        Add-AstFinding -Ctx $Ctx -Node $Node -Rule 'net45' -Message "$type.$member with $argc arguments: .NET Framework 4.5 has overloads taking $($found.Arities -join ', ')"
    }
}

function Test-TypeIs {
    param ([string]$Type, [string]$Base)
    for ($t = (Split-TypeRef $Type).Base; $t -and $Api.ContainsKey($t); $t = (ConvertFrom-ClrTypeName $Api[$t]['b']) -replace '<.*$', '') {
        if ($t -eq $Base) { return $true }
    }
    return $false
}

# ============================================================================================== check mode
# win_powershell runs a script that declares SupportsShouldProcess in check mode (with -WhatIf): it must change
# nothing, or guard each change with $PSCmdlet.ShouldProcess. A program started only to read says so on its line
# or the line above: '# read-only: <why>'. A change inside a function counts where the function is called.
$ChangingCommands = @('Set-Content', 'Add-Content', 'Clear-Content', 'Out-File', 'Set-Item', 'Set-ItemProperty', 'New-Item', 'New-ItemProperty',
    'Remove-Item', 'Remove-ItemProperty', 'Move-Item', 'Copy-Item', 'Rename-Item', 'Clear-Item', 'Clear-ItemProperty', 'Set-Acl',
    'Stop-Service', 'Start-Service', 'Restart-Service', 'Suspend-Service', 'Resume-Service', 'Set-Service', 'New-Service',
    'Stop-Process', 'Invoke-CimMethod', 'Set-CimInstance', 'New-CimInstance', 'Remove-CimInstance', 'Invoke-WmiMethod', 'Set-WmiInstance',
    'Remove-WmiObject', 'Set-OBMachineSetting', 'Restart-Computer', 'Stop-Computer', 'Register-ScheduledTask', 'Unregister-ScheduledTask',
    'Start-ScheduledTask', 'Set-ExecutionPolicy', 'Expand-Archive', 'Compress-Archive', 'Export-Csv', 'Export-Clixml', 'Invoke-Expression')
$ProgramCommands = @('Start-Process', 'Invoke-NativeCommand', 'Start-Job')
$ChangingStatics = @{
    'System.IO.File' = @('WriteAllText', 'WriteAllBytes', 'WriteAllLines', 'AppendAllText', 'AppendAllLines', 'AppendText', 'Create', 'CreateText',
        'Delete', 'Move', 'Copy', 'Replace', 'SetAttributes', 'SetCreationTime', 'SetCreationTimeUtc', 'SetLastWriteTime', 'SetLastWriteTimeUtc',
        'SetLastAccessTime', 'SetLastAccessTimeUtc', 'SetAccessControl', 'Encrypt', 'Decrypt', 'OpenWrite')
    'System.IO.Directory' = @('CreateDirectory', 'Delete', 'Move', 'SetAccessControl', 'SetCreationTime', 'SetLastWriteTime', 'SetLastAccessTime')
    'Microsoft.Win32.Registry' = @('SetValue')
    'System.Environment' = @('SetEnvironmentVariable')
}
$ChangingMethods = @('Kill', 'SetValue', 'CreateSubKey', 'DeleteValue', 'DeleteSubKey', 'DeleteSubKeyTree', 'Delete', 'MoveTo', 'CreateSubdirectory',
    'SetAccessControl', 'Encrypt', 'Decrypt', 'WriteAllText')

function Get-ChangeKind {
    # 'program' (starts a program), 'change' (changes the host) or $null, for one AST node.
    param ([Ast]$Node, [Ast]$Root)
    if ($Node -is [CommandAst]) {
        $name = $Node.GetCommandName()
        if ($name -in $ProgramCommands) { return 'program' }
        if ($name -in $ChangingCommands) { return 'change' }
        if ($Node.InvocationOperator -eq 'Ampersand' -and $Node.CommandElements[0] -is [StringConstantExpressionAst]) { return 'program' }
        if ($name -and $name -match '\.(exe|com|bat|cmd)$') { return 'program' }
        return $null
    }
    if ($Node -is [InvokeMemberExpressionAst] -and $Node.Member -is [StringConstantExpressionAst]) {
        $member = $Node.Member.Value
        if ($Node.Static -and $Node.Expression -is [TypeExpressionAst]) {
            $type = (Resolve-ApiTypeName -TypeName $Node.Expression.TypeName -Root $Root).Type
            if ($type -eq 'System.Diagnostics.Process' -and $member -eq 'Start') { return 'program' }
            if ($type -eq 'System.IO.File' -and $member -eq 'Open') {
                $text = $Node.Extent.Text
                if ($text -match 'FileMode\]::Open\b' -and $text -match 'FileAccess\]::Read\b') { return $null }
                return 'change'
            }
            if ($type -and $ChangingStatics.ContainsKey($type) -and $member -in $ChangingStatics[$type]) { return 'change' }
            return $null
        }
        if (-not $Node.Static -and $member -in $ChangingMethods) { return 'change' }
        if (-not $Node.Static -and $member -eq 'Start' -and (Get-ExprType -Expr $Node.Expression -Root $Root) -eq 'System.Diagnostics.Process') { return 'program' }
    }
    return $null
}

function Test-ShouldProcessGuard {
    # Inside the body of an if clause whose condition calls ShouldProcess.
    param ([Ast]$Node)
    for ($p = $Node; $null -ne $p.Parent; $p = $p.Parent) {
        if ($p.Parent -is [IfStatementAst]) {
            foreach ($clause in $p.Parent.Clauses) {
                if ($clause.Item2 -eq $p -and $clause.Item1.Find({ param($x) $x -is [InvokeMemberExpressionAst] -and $x.Member.Extent.Text -eq 'ShouldProcess' }, $true)) {
                    return $true
                }
            }
        }
    }
    return $false
}

function Test-CheckMode {
    param ($Ctx, [ScriptBlockAst]$Ast, [Token[]]$Tokens)
    $binding = @($Ast.ParamBlock.Attributes) | Where-Object { $_ -is [AttributeAst] -and $_.TypeName.Name -eq 'CmdletBinding' }
    $declares = $binding | ForEach-Object { $_.NamedArguments } | Where-Object { $_.ArgumentName -eq 'SupportsShouldProcess' -and $_.Argument.Extent.Text -ne '$false' }
    if (-not $declares) { return }
    $readOnly = @{}
    foreach ($t in $Tokens) {
        if ($t.Kind -eq 'Comment' -and $t.Text -match '#\s*read-only:\s*\S') {
            $readOnly[$t.Extent.StartLineNumber] = $true
            $readOnly[$t.Extent.StartLineNumber + 1] = $true
        }
    }
    # the functions that change something (directly or through another such function), to the fixpoint
    $functions = @{}
    foreach ($f in $Ast.FindAll({ param($x) $x -is [FunctionDefinitionAst] }, $true)) { $functions[$f.Name] = @{ Ast = $f; Kind = $null } }
    $nodes = @($Ast.FindAll({ param($x) $x -is [CommandAst] -or $x -is [InvokeMemberExpressionAst] }, $true))
    $changed = $true
    while ($changed) {
        $changed = $false
        foreach ($n in $nodes) {
            $owner = Get-EnclosingAst $n ([FunctionDefinitionAst])
            if ($null -eq $owner -or -not $functions.ContainsKey($owner.Name)) { continue }
            $kind = Get-ChangeKind -Node $n -Root $Ast
            if (-not $kind -and $n -is [CommandAst] -and $functions.ContainsKey([string]$n.GetCommandName())) { $kind = $functions[$n.GetCommandName()].Kind }
            $entry = $functions[$owner.Name]
            if ($kind -and $entry.Kind -ne 'change' -and $entry.Kind -ne $kind) { $entry.Kind = $kind; $changed = $true }
        }
    }
    # a function nothing calls is judged where it stands (its changes would run unguarded if anything called it)
    $called = @{}
    foreach ($n in $nodes) { if ($n -is [CommandAst] -and $n.GetCommandName()) { $called[$n.GetCommandName()] = $true } }
    foreach ($n in $nodes) {
        $owner = Get-EnclosingAst $n ([FunctionDefinitionAst])
        if ($null -ne $owner -and $called.ContainsKey($owner.Name)) { continue }
        $kind = Get-ChangeKind -Node $n -Root $Ast
        $via = ''
        if (-not $kind -and $n -is [CommandAst] -and $functions.ContainsKey([string]$n.GetCommandName())) {
            $kind = $functions[$n.GetCommandName()].Kind
            $via = " (function $($n.GetCommandName()) $(if ($kind -eq 'program') { 'starts a program' } else { 'changes the host' }))"
        }
        if (-not $kind -or (Test-ShouldProcessGuard $n)) { continue }
        if ($kind -eq 'program' -and $readOnly.ContainsKey($n.Extent.StartLineNumber)) { continue }
        $what = if ($n -is [CommandAst]) { $n.GetCommandName() } else { $n.Extent.Text.Split('(')[0] }
        $fix = if ($kind -eq 'program') { 'guard it with $PSCmdlet.ShouldProcess, or say why it only reads: ''# read-only: <why>''' } else { 'guard it with $PSCmdlet.ShouldProcess' }
        Add-AstFinding -Ctx $Ctx -Node $n -Rule 'checkmode' -Message "$what$via in a script that declares SupportsShouldProcess (win_powershell runs it in check mode): $fix"
    }
}

# ============================================================================================== pslint
# ansible-test's pslint runs PSScriptAnalyzer 1.21.0 with all default rules, the custom PSCustomUseLiteralPath and
# the settings of test/lib/ansible_test/_util/controller/sanity/pslint/settings.psd1 (formatting rules switched on,
# PSUseShouldProcessForStateChangingFunctions, PSAvoidUsingPlainTextForPassword, ConvertToSecureStringWithPlainText,
# UsernameAndPasswordParams, UseBOMForUnicodeEncodedFile, UseOutputTypeCorrectly and ReviewUnusedParameter
# excluded). PSScriptAnalyzer cannot be installed here; these are the rules re-implemented on the AST and tokens
# (docs/dev/powershell-checks.md lists the ones that are not, and why). [SuppressMessageAttribute('<rule>', '')] on
# a param block is honoured, as PSScriptAnalyzer does.
$PslintRules = @(
    'PSAvoidLongLines', 'PSAvoidTrailingWhitespace', 'PSMisleadingBacktick', 'PSAvoidSemicolonsAsLineTerminators', 'PSPlaceOpenBrace',
    'PSPlaceCloseBrace', 'PSUseConsistentIndentation', 'PSUseConsistentWhitespace', 'PSAvoidUsingCmdletAliases',
    'PSAvoidUsingPositionalParameters', 'PSUseDeclaredVarsMoreThanAssignments', 'PSAvoidUsingWriteHost', 'PSAvoidGlobalVars',
    'PSAvoidUsingInvokeExpression', 'PSAvoidUsingEmptyCatchBlock', 'PSPossibleIncorrectComparisonWithNull', 'PSAvoidUsingWMICmdlet',
    'PSUseApprovedVerbs', 'PSUseSingularNouns', 'PSAvoidAssignmentToAutomaticVariable', 'PSPossibleIncorrectUsageOfAssignmentOperator',
    'PSPossibleIncorrectUsageOfRedirectionOperator', 'PSAvoidDefaultValueSwitchParameter', 'PSAvoidDefaultValueForMandatoryParameter',
    'PSReservedParams', 'PSReservedCmdletChar', 'PSUseLiteralInitializerForHashtable', 'PSUseSupportsShouldProcess', 'PSShouldProcess',
    'PSAvoidShouldContinueWithoutForce', 'PSAvoidGlobalFunctions', 'PSAvoidNullOrEmptyHelpMessageAttribute', 'PSAvoidMultipleTypeAttributes',
    'PSUsePSCredentialType', 'PSUseProcessBlockForPipelineCommand', 'PSAvoidUsingAllowUnencryptedAuthentication',
    'PSAvoidUsingBrokenHashAlgorithms', 'PSAvoidUsingComputerNameHardcoded', 'PSAvoidOverwritingBuiltInCmdlets', 'PSCustomUseLiteralPath'
)
# Aliases of Windows PowerShell 5.1 that pwsh on Linux does not define (about_Aliases, "aliases removed on Linux and
# macOS"; curl, wget, sc and the WMI/snap-in aliases exist in 5.1 only); the rest come from this pwsh's Get-Alias.
$WindowsAliases = @{
    ac = 'Add-Content'; cat = 'Get-Content'; clear = 'Clear-Host'; compare = 'Compare-Object'; cp = 'Copy-Item'; cpp = 'Copy-ItemProperty'
    diff = 'Compare-Object'; kill = 'Stop-Process'; lp = 'Out-Printer'; ls = 'Get-ChildItem'; man = 'help'; mount = 'New-PSDrive'
    mv = 'Move-Item'; ps = 'Get-Process'; rm = 'Remove-Item'; rmdir = 'Remove-Item'; sleep = 'Start-Sleep'; sort = 'Sort-Object'
    start = 'Start-Process'; tee = 'Tee-Object'; write = 'Write-Output'; curl = 'Invoke-WebRequest'; wget = 'Invoke-WebRequest'
    sc = 'Set-Content'; gwmi = 'Get-WmiObject'; iwmi = 'Invoke-WmiMethod'; rwmi = 'Remove-WmiObject'; swmi = 'Set-WmiInstance'
    asnp = 'Add-PSSnapin'; gsnp = 'Get-PSSnapin'; rsnp = 'Remove-PSSnapin'; ogv = 'Out-GridView'; shcm = 'Show-Command'; ise = 'powershell_ise.exe'
}
$Aliases = @{}
foreach ($a in (Get-Alias)) { $Aliases[$a.Name] = [string]$a.Definition }
foreach ($k in $WindowsAliases.Keys) { $Aliases[$k] = $WindowsAliases[$k] }
$Cmdlets = @{}
foreach ($c in (Get-Command -CommandType Cmdlet)) { $Cmdlets[$c.Name] = $c }
$CmdletInfoCache = @{}

function Get-CmdletInfo {
    # A cmdlet with its parameter metadata (the listing above leaves Parameters empty until its module loads).
    param ([string]$Name)
    if (-not $Name -or -not $Cmdlets.ContainsKey($Name)) { return $null }
    if (-not $CmdletInfoCache.ContainsKey($Name)) {
        $CmdletInfoCache[$Name] = Get-Command -Name $Name -CommandType Cmdlet -ErrorAction SilentlyContinue | Select-Object -First 1
    }
    return $CmdletInfoCache[$Name]
}
# Verbs 5.1 approves (Get-Verb; pwsh 6 added Build and Deploy).
$ApprovedVerbs = @((Get-Verb).Verb | Where-Object { $_ -notin 'Build', 'Deploy' })
# Variables a script must not assign (PSScriptAnalyzer AvoidAssignmentToAutomaticVariable: read-only and discouraged).
$AutomaticVariables = @('_', 'PSItem', 'args', 'input', 'Matches', 'MyInvocation', 'NestedPromptLevel', 'profile', 'PSBoundParameters', 'PSCmdlet',
    'PSCommandPath', 'PSDebugContext', 'PSScriptRoot', 'PSSenderInfo', 'pwd', 'sender', 'StackTrace', 'this', 'Event', 'EventArgs',
    'EventSubscriber', 'ForEach', 'AllNodes', 'ConsoleFileName', 'Error', 'ExecutionContext', 'HOME', 'Host', 'PID', 'PSCulture', 'PSEdition',
    'PSHOME', 'PSUICulture', 'PSVersionTable', 'ShellId', 'true', 'false', 'IsWindows', 'IsLinux', 'IsMacOS', 'IsCoreCLR')
# Variables PowerShell itself reads (preferences, automatic): assigning them is a use (PSUseDeclaredVarsMoreThanAssignments).
$SpecialVariables = $AutomaticVariables + @('ErrorActionPreference', 'WarningPreference', 'VerbosePreference', 'DebugPreference',
    'InformationPreference', 'ProgressPreference', 'ConfirmPreference', 'WhatIfPreference', 'OFS', 'OutputEncoding', 'PSDefaultParameterValues',
    'FormatEnumerationLimit', 'MaximumHistoryCount', 'PSModuleAutoLoadingPreference', 'PSSessionOption', 'PSEmailServer', 'LASTEXITCODE')

function Get-Suppression {
    param ([Ast]$Ast)
    $list = [System.Collections.Generic.List[object]]::new()
    foreach ($attr in $Ast.FindAll({ param($x) $x -is [AttributeAst] -and $x.TypeName.Name -match 'SuppressMessage(Attribute)?$' }, $true)) {
        $rule = @($attr.PositionalArguments)[0]
        if ($rule -isnot [StringConstantExpressionAst]) { continue }
        $owner = $attr.Parent
        while ($owner -and $owner -isnot [ScriptBlockAst]) { $owner = $owner.Parent }
        $target = if ($owner.Parent -is [FunctionDefinitionAst]) { $owner.Parent } else { $owner }
        $list.Add(@{ Rule = ($rule.Value -replace '^PS', 'PS'); Start = $target.Extent.StartLineNumber; End = $target.Extent.EndLineNumber })
    }
    return , $list.ToArray()
}

function Test-PslintLine {
    param ($Ctx, [string]$Text)
    $lines = $Text -split '\r?\n'
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line.Length -gt 160) { Add-Finding -Ctx $Ctx -Line ($i + 1) -Column 161 -Rule 'PSAvoidLongLines' -Message "line longer than 160 characters ($($line.Length))" }
        if ($line -match '[ \t]+$') { Add-Finding -Ctx $Ctx -Line ($i + 1) -Column ($line.TrimEnd().Length + 1) -Rule 'PSAvoidTrailingWhitespace' -Message 'trailing whitespace' }
        if ($line -match '`[ \t]+$') { Add-Finding -Ctx $Ctx -Line ($i + 1) -Column ($line.LastIndexOf('`') + 1) -Rule 'PSMisleadingBacktick' -Message 'a backtick followed by whitespace does not continue the line' }
        if ($line -match '^[ ]*\t') { Add-Finding -Ctx $Ctx -Line ($i + 1) -Column 1 -Rule 'PSUseConsistentIndentation' -Message 'tab in indentation (4 spaces per level)' }
    }
}

function Get-CommandElementBrace {
    # Open and close braces of script blocks passed to commands (`| Where-Object { }`): the brace rules ignore them.
    param ([Ast]$Ast)
    $set = [System.Collections.Generic.HashSet[int]]::new()
    foreach ($sb in $Ast.FindAll({ param($x) $x -is [ScriptBlockExpressionAst] -and $x.Parent -is [CommandAst] }, $true)) {
        [void]$set.Add($sb.Extent.StartOffset)
        [void]$set.Add($sb.Extent.EndOffset - 1)
    }
    return , $set
}

function Get-OneLineBracePair {
    param ([Token[]]$Tokens)
    $set = [System.Collections.Generic.HashSet[int]]::new()
    $stack = [System.Collections.Generic.Stack[Token]]::new()
    foreach ($t in $Tokens) {
        if ($t.Kind -in 'LCurly', 'AtCurly') { $stack.Push($t) }
        elseif ($t.Kind -eq 'RCurly' -and $stack.Count) {
            $open = $stack.Pop()
            if ($open.Extent.StartLineNumber -eq $t.Extent.StartLineNumber) {
                [void]$set.Add($open.Extent.StartOffset)
                [void]$set.Add($t.Extent.StartOffset)
            }
        }
    }
    return , $set
}

function Test-PslintBrace {
    param ($Ctx, [Ast]$Ast, [Token[]]$Tokens)
    $inCommand = Get-CommandElementBrace $Ast
    $oneLine = Get-OneLineBracePair $Tokens
    for ($k = 0; $k -lt $Tokens.Count; $k++) {
        $t = $Tokens[$k]
        if ($t.Kind -ne 'LCurly' -or $inCommand.Contains($t.Extent.StartOffset) -or $oneLine.Contains($t.Extent.StartOffset)) { continue }
        if ($k -ge 2 -and $Tokens[$k - 1].Kind -eq 'NewLine') {
            Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'PSPlaceOpenBrace' -Message 'open brace on its own line (put it at the end of the line before)'
        }
        if ($k + 1 -lt $Tokens.Count -and $Tokens[$k + 1].Kind -ne 'NewLine') {
            Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'PSPlaceOpenBrace' -Message 'no new line after the open brace'
        }
    }
    $stack = [System.Collections.Generic.Stack[Token]]::new()
    for ($k = 0; $k -lt $Tokens.Count; $k++) {
        $t = $Tokens[$k]
        if ($t.Kind -in 'LCurly', 'AtCurly') { $stack.Push($t); continue }
        if ($t.Kind -ne 'RCurly' -or -not $stack.Count) { continue }
        $open = $stack.Pop()
        if ($open.Kind -eq 'AtCurly' -and $open.Extent.StartLineNumber -eq $t.Extent.StartLineNumber) { continue }
        if ($inCommand.Contains($t.Extent.StartOffset) -or $oneLine.Contains($t.Extent.StartOffset)) { continue }
        if ($Tokens[$k - 1].Kind -ne 'NewLine') {
            Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'PSPlaceCloseBrace' -Message 'close brace not on its own line'
        }
        if ($k + 1 -lt $Tokens.Count -and $Tokens[$k + 1].Kind -in 'Else', 'ElseIf', 'Catch', 'Finally') {
            Add-Finding -Ctx $Ctx -Line $t.Extent.StartLineNumber -Column $t.Extent.StartColumnNumber -Rule 'PSPlaceCloseBrace' -Message "no new line between the close brace and '$($Tokens[$k + 1].Text)'"
        }
    }
}

function Test-PslintIndentation {
    # PSUseConsistentIndentation (4 spaces, IncreaseIndentationForFirstPipeline): the token walk of PSScriptAnalyzer.
    param ($Ctx, [Ast]$Ast, [Token[]]$Tokens)
    $pipelines = @($Ast.FindAll({ param($x) $x -is [PipelineAst] -and $x.PipelineElements.Count -gt 1 }, $true))
    $pipelineEnds = @{}
    $firstElementEnds = [System.Collections.Generic.HashSet[string]]::new()
    foreach ($p in $pipelines) {
        $key = "$($p.Extent.EndLineNumber):$($p.Extent.EndColumnNumber)"
        $pipelineEnds[$key] = $p
        [void]$firstElementEnds.Add("$($p.PipelineElements[0].Extent.EndLineNumber):$($p.PipelineElements[0].Extent.EndColumnNumber)")
    }
    $level = 0
    $onNewLine = $true
    $check = {
        param ([Token]$Token, [int]$Expected)
        if ($script:indentOnNewLine) {
            $script:indentOnNewLine = $false
            if ($Token.Extent.StartColumnNumber - 1 -ne 4 * $Expected) {
                Add-Finding -Ctx $Ctx -Line $Token.Extent.StartLineNumber -Column 1 -Rule 'PSUseConsistentIndentation' `
                    -Message "indentation of $($Token.Extent.StartColumnNumber - 1) spaces, expected $(4 * $Expected)"
            }
        }
    }
    $script:indentOnNewLine = $onNewLine
    for ($i = 0; $i -lt $Tokens.Count; $i++) {
        $t = $Tokens[$i]
        if ($t.Kind -eq 'EndOfInput') { break }
        switch ($t.Kind) {
            { $_ -in 'AtCurly', 'AtParen', 'LParen', 'LCurly', 'DollarParen' } { & $check $t $level; $level++; break }
            'Pipe' {
                if ($i + 1 -lt $Tokens.Count -and $Tokens[$i + 1].Kind -in 'NewLine', 'LineContinuation' -and $i -gt 0 -and
                    $firstElementEnds.Contains("$($Tokens[$i - 1].Extent.EndLineNumber):$($Tokens[$i - 1].Extent.EndColumnNumber)")) {
                    & $check $t $level; $level++
                }
                break
            }
            { $_ -in 'RParen', 'RCurly' } { $level = [math]::Max(0, $level - 1); & $check $t $level; break }
            { $_ -in 'NewLine', 'LineContinuation' } { $script:indentOnNewLine = $true; break }
            default {
                if ($script:indentOnNewLine) {
                    $expected = $level
                    if ($i -gt 0 -and $Tokens[$i - 1].Kind -eq 'LineContinuation') { $expected++ }
                    if ($i -gt 2 -and $Tokens[$i - 1].Kind -eq 'NewLine' -and $Tokens[$i - 2].Kind -eq 'Comment') {
                        $j = $i - 2
                        while ($j -gt 0 -and $Tokens[$j].Kind -eq 'Comment') { $j-- }
                        if ($j -ge 0 -and $Tokens[$j].Kind -eq 'LineContinuation') { $expected++ }
                    }
                    & $check $t $expected
                }
            }
        }
        $key = "$($t.Extent.EndLineNumber):$($t.Extent.EndColumnNumber)"
        if ($pipelineEnds.ContainsKey($key)) {
            $p = $pipelineEnds[$key]
            $first = $p.PipelineElements[0].Extent
            $last = $p.PipelineElements[$p.PipelineElements.Count - 1].Extent
            if ($first.EndLineNumber -ne $last.EndLineNumber -and $first.StartLineNumber -ne $last.StartLineNumber) {
                $level = [math]::Max(0, $level - 1)
            }
        }
    }
}

function Test-PslintWhitespace {
    # PSUseConsistentWhitespace with CheckInnerBrace, CheckOpenBrace, CheckOpenParen, CheckOperator, CheckPipe,
    # CheckSeparator on (CheckPipeForRedundantWhitespace and CheckParameter off): exactly one space.
    param ($Ctx, [Token[]]$Tokens)
    $flag = { param ([Token]$T, [string]$What) Add-Finding -Ctx $Ctx -Line $T.Extent.StartLineNumber -Column $T.Extent.StartColumnNumber -Rule 'PSUseConsistentWhitespace' -Message $What }
    $gap = { param ([Token]$A, [Token]$B) if ($A.Extent.EndLineNumber -ne $B.Extent.StartLineNumber) { -1 } else { $B.Extent.StartColumnNumber - $A.Extent.EndColumnNumber } }
    for ($i = 1; $i -lt $Tokens.Count - 1; $i++) {
        $t = $Tokens[$i]; $prev = $Tokens[$i - 1]; $next = $Tokens[$i + 1]
        $before = & $gap $prev $t
        $after = & $gap $t $next
        switch ($t.Kind) {
            'LCurly' {
                if ($before -ge 0 -and $before -ne 1 -and $prev.Kind -notin 'NewLine', 'LineContinuation', 'LCurly', 'LParen', 'AtParen', 'DollarParen' -and
                    -not ($prev.TokenFlags -band [TokenFlags]::MemberName)) { & $flag $t 'one space before an open brace' }
                if ($after -ge 0 -and $after -ne 1 -and $next.Kind -notin 'NewLine', 'RCurly', 'EndOfInput') { & $flag $t 'one space after an open brace' }
            }
            'AtCurly' { if ($after -ge 0 -and $after -ne 1 -and $next.Kind -notin 'NewLine', 'RCurly', 'EndOfInput') { & $flag $t 'one space after an open brace' } }
            'RCurly' { if ($before -ge 0 -and $before -ne 1 -and $prev.Kind -notin 'NewLine', 'LCurly', 'AtCurly') { & $flag $t 'one space before a close brace' } }
            'LParen' {
                if ($before -ge 0 -and $before -ne 1 -and $prev.Kind -in 'If', 'ElseIf', 'Switch', 'For', 'Foreach', 'While') { & $flag $t "one space between '$($prev.Text)' and the parenthesis" }
            }
            'Pipe' {
                if ($before -eq 0) { & $flag $t 'a space before a pipe' }
                if ($after -eq 0 -and $next.Kind -ne 'NewLine') { & $flag $t 'a space after a pipe' }
            }
            { $_ -in 'Comma', 'Semi' } {
                if ($next.Kind -notin 'NewLine', 'EndOfInput' -and $after -ne 1) { & $flag $t "one space after '$($t.Text)'" }
            }
            default {
                $isOperator = ($t.TokenFlags -band ([TokenFlags]::AssignmentOperator -bor [TokenFlags]::BinaryPrecedenceAdd -bor [TokenFlags]::BinaryPrecedenceMultiply)) -or
                    $t.Kind -in 'AndAnd', 'OrOr'
                if (-not $isOperator -or $t.Kind -eq 'DotDot') { break }
                # a unary minus/plus (after an operator, an opening bracket, a comma, a keyword or at a line start)
                if ($t.Kind -in 'Minus', 'Plus', 'Exclaim' -and ($prev.Kind -in 'LParen', 'LBracket', 'AtParen', 'DollarParen', 'Comma', 'NewLine', 'LCurly', 'Pipe' -or
                        ($prev.TokenFlags -band ([TokenFlags]::BinaryOperator -bor [TokenFlags]::AssignmentOperator -bor [TokenFlags]::Keyword)))) { break }
                if ($before -ne 1 -or ($after -ne 1 -and $next.Kind -ne 'NewLine')) { & $flag $t "one space around the operator '$($t.Text)'" }
            }
        }
    }
}

function Test-PslintSemicolon {
    param ($Ctx, [Token[]]$Tokens)
    for ($i = 0; $i -lt $Tokens.Count - 1; $i++) {
        if ($Tokens[$i].Kind -eq 'Semi' -and $Tokens[$i + 1].Kind -in 'NewLine', 'EndOfInput', 'Comment') {
            Add-Finding -Ctx $Ctx -Line $Tokens[$i].Extent.StartLineNumber -Column $Tokens[$i].Extent.StartColumnNumber -Rule 'PSAvoidSemicolonsAsLineTerminators' -Message 'a semicolon ends the line'
        }
    }
}

function Test-PslintCommand {
    param ($Ctx, [Ast]$Ast)
    $declared = @{}
    foreach ($f in $Ast.FindAll({ param($x) $x -is [FunctionDefinitionAst] }, $true)) { $declared[$f.Name] = $f }
    foreach ($c in $Ast.FindAll({ param($x) $x -is [CommandAst] }, $true)) {
        $name = $c.GetCommandName()
        if (-not $name) { continue }
        if ($Aliases.ContainsKey($name) -and -not $declared.ContainsKey($name)) {
            Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingCmdletAliases' -Message "'$name' is an alias of $($Aliases[$name]): write the command's full name"
        }
        elseif ($name -match '^[A-Za-z]+$' -and -not $declared.ContainsKey($name) -and -not $Cmdlets.ContainsKey($name) -and $Cmdlets.ContainsKey("Get-$name")) {
            Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingCmdletAliases' -Message "'$name' runs Get-$name implicitly: write Get-$name"
        }
        if ($name -in 'Write-Host') { Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingWriteHost' -Message 'Write-Host: write to the output, Write-Verbose or Write-Information' }
        if ($name -in 'Invoke-Expression', 'iex') { Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingInvokeExpression' -Message 'Invoke-Expression runs text as code' }
        if ($name -in 'Get-WmiObject', 'Remove-WmiObject', 'Invoke-WmiMethod', 'Register-WmiEvent', 'Set-WmiInstance') {
            Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingWMICmdlet' -Message "$($name): use the CIM cmdlets"
        }
        Test-PositionalParameter -Ctx $Ctx -Command $c -Declared $declared
        foreach ($e in $c.CommandElements) {
            if ($e -isnot [CommandParameterAst]) { continue }
            if ($e.ParameterName -eq 'AllowUnencryptedAuthentication') { Add-AstFinding -Ctx $Ctx -Node $e -Rule 'PSAvoidUsingAllowUnencryptedAuthentication' -Message '-AllowUnencryptedAuthentication sends credentials in clear text' }
            $value = $e.Argument
            if (-not $value) { $index = $c.CommandElements.IndexOf($e); if ($index + 1 -lt $c.CommandElements.Count) { $value = $c.CommandElements[$index + 1] } }
            if ($e.ParameterName -in 'Algorithm', 'HashAlgorithm' -and $value -is [StringConstantExpressionAst] -and $value.Value -in 'MD5', 'SHA1', 'MACTripleDES', 'RIPEMD160') {
                Add-AstFinding -Ctx $Ctx -Node $e -Rule 'PSAvoidUsingBrokenHashAlgorithms' -Message "the hash algorithm $($value.Value) is broken: use SHA256 or stronger"
            }
            if ($e.ParameterName -eq 'ComputerName' -and $value -is [StringConstantExpressionAst] -and $value.Value -notin 'localhost', '.', '127.0.0.1', '::1') {
                Add-AstFinding -Ctx $Ctx -Node $e -Rule 'PSAvoidUsingComputerNameHardcoded' -Message "-ComputerName '$($value.Value)' is hard-coded"
            }
        }
        if ($name -eq 'New-Object' -and (Get-NewObjectTypeName $c) -in 'Hashtable', 'System.Collections.Hashtable') {
            Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSUseLiteralInitializerForHashtable' -Message 'use @{} (a case-insensitive hashtable) instead of New-Object Hashtable'
        }
        Test-LiteralPath -Ctx $Ctx -Command $c
    }
    foreach ($m in $Ast.FindAll({ param($x) $x -is [InvokeMemberExpressionAst] -and $x.Static -and $x.Member.Extent.Text -eq 'new' -and
                $x.Expression -is [TypeExpressionAst] -and $x.Expression.TypeName.FullName -in 'hashtable', 'System.Collections.Hashtable' -and -not $x.Arguments }, $true)) {
        Add-AstFinding -Ctx $Ctx -Node $m -Rule 'PSUseLiteralInitializerForHashtable' -Message 'use @{} (a case-insensitive hashtable) instead of [hashtable]::new()'
    }
}

function Test-PositionalParameter {
    # PSAvoidUsingPositionalParameters: three or more arguments not named, to a cmdlet or a function of the script.
    param ($Ctx, [CommandAst]$Command, [hashtable]$Declared)
    $name = $Command.GetCommandName()
    if ($name -notmatch '^[A-Za-z]+-[A-Za-z0-9]+$' -and -not $Declared.ContainsKey($name)) { return }
    if ($Command.CommandElements | Where-Object { $_ -is [VariableExpressionAst] -and $_.Splatted }) { return }
    $count = 0
    for ($i = 1; $i -lt $Command.CommandElements.Count; $i++) {
        if ($Command.CommandElements[$i] -isnot [CommandParameterAst] -and $Command.CommandElements[$i - 1] -isnot [CommandParameterAst]) { $count++ }
    }
    if ($Command.Parent -is [PipelineAst] -and $Command.Parent.PipelineElements.Count -gt 1 -and $Command.Parent.PipelineElements[0] -ne $Command) { $count++ }
    if ($count -gt 2) {
        Add-AstFinding -Ctx $Ctx -Node $Command -Rule 'PSAvoidUsingPositionalParameters' -Message "$name is called with positional arguments: name them"
    }
}

function Test-LiteralPath {
    # ansible-test's PSCustomUseLiteralPath: a cmdlet that has -LiteralPath is called with -Path (named or the first
    # positional argument) where a -LiteralPath parameter set would accept the same call.
    param ($Ctx, [CommandAst]$Command)
    if ($Command.InvocationOperator -ne 'Unknown') { return }
    $name = [string]$Command.GetCommandName()
    if ($Aliases.ContainsKey($name)) { $name = $Aliases[$name] }
    $info = Get-CmdletInfo $name
    if (-not $info -or $null -eq $info.Parameters -or -not ($info.Parameters.ContainsKey('Path') -and $info.Parameters.ContainsKey('LiteralPath'))) { return }
    $named = [System.Collections.Generic.List[string]]::new()
    $positional = 0
    $elements = @($Command.CommandElements | Select-Object -Skip 1)
    for ($i = 0; $i -lt $elements.Count; $i++) {
        $e = $elements[$i]
        if ($e -is [CommandParameterAst]) {
            $p = $info.Parameters.Values | Where-Object { $_.Name -eq $e.ParameterName -or $_.Aliases -contains $e.ParameterName -or
                ($e.ParameterName.Length -ge 3 -and $_.Name.StartsWith($e.ParameterName, [System.StringComparison]::OrdinalIgnoreCase)) } | Select-Object -First 1
            $named.Add($(if ($p) { $p.Name } else { $e.ParameterName }))
            if ($null -eq $e.Argument -and $p -and -not $p.SwitchParameter) { $i++ }
        }
        elseif ($e -is [VariableExpressionAst] -and $e.Splatted) { return }
        else { $positional++ }
    }
    if ($named -contains 'LiteralPath') { return }
    $usesPath = $named -contains 'Path'
    if (-not $usesPath -and $positional -gt 0) {
        $default = $info.ParameterSets | Where-Object { $_.IsDefault } | Select-Object -First 1
        $first = $default.Parameters | Where-Object { $_.Position -eq 0 } | Select-Object -First 1
        $usesPath = $first -and $first.Name -eq 'Path'
        if ($usesPath) { $named.Add('Path'); $positional-- }
    }
    if (-not $usesPath) { return }
    $wanted = @($named | ForEach-Object { if ($_ -eq 'Path') { 'LiteralPath' } else { $_ } })
    foreach ($set in $info.ParameterSets) {
        $names = @($set.Parameters.Name) + $CommonParameters
        if ($names -notcontains 'LiteralPath') { continue }
        if (@($wanted | Where-Object { $_ -notin $names }).Count -eq 0) {
            Add-AstFinding -Ctx $Ctx -Node $Command -Rule 'PSCustomUseLiteralPath' -Message "$($info.Name): use the explicit -LiteralPath parameter instead of -Path (wildcards [ ] in a path)"
            return
        }
    }
}

function Test-PslintVariable {
    param ($Ctx, [Ast]$Ast)
    foreach ($v in $Ast.FindAll({ param($x) $x -is [VariableExpressionAst] -and $x.VariablePath.IsGlobal }, $true)) {
        if ((Get-BareVariableName $v.VariablePath) -notin $SpecialVariables) {
            Add-AstFinding -Ctx $Ctx -Node $v -Rule 'PSAvoidGlobalVars' -Message "`$$($v.VariablePath.UserPath): avoid global variables"
        }
    }
    foreach ($a in $Ast.FindAll({ param($x) $x -is [AssignmentStatementAst] }, $true)) {
        $left = if ($a.Left -is [ConvertExpressionAst]) { $a.Left.Child } else { $a.Left }
        if ($left -is [VariableExpressionAst] -and (Get-BareVariableName $left.VariablePath) -in $AutomaticVariables) {
            Add-AstFinding -Ctx $Ctx -Node $a -Rule 'PSAvoidAssignmentToAutomaticVariable' -Message "`$$($left.VariablePath.UserPath) is an automatic variable"
        }
    }
    foreach ($p in $Ast.FindAll({ param($x) $x -is [ParameterAst] }, $true)) {
        if ((Get-BareVariableName $p.Name.VariablePath) -in $AutomaticVariables) {
            Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSAvoidAssignmentToAutomaticVariable' -Message "the parameter `$$($p.Name.VariablePath.UserPath) hides an automatic variable"
        }
    }
    # PSUseDeclaredVarsMoreThanAssignments, per script block: assigned there and never read there (nested blocks included)
    foreach ($scope in $Ast.FindAll({ param($x) $x -is [ScriptBlockAst] }, $true)) {
        $assigned = [ordered]@{}
        foreach ($a in $scope.FindAll({ param($x) $x -is [AssignmentStatementAst] }, $true)) {
            if ((Get-EnclosingAst $a ([ScriptBlockAst])) -ne $scope) { continue }
            $left = if ($a.Left -is [ConvertExpressionAst]) { $a.Left.Child } else { $a.Left }
            if ($left -isnot [VariableExpressionAst] -or $left.VariablePath.IsGlobal -or $left.VariablePath.IsScript -or $left.VariablePath.DriveName) { continue }
            $name = Get-BareVariableName $left.VariablePath
            if ($name -in $SpecialVariables) { continue }
            if (-not $assigned.Contains($name)) { $assigned[$name] = @{ First = $a; Targets = [System.Collections.Generic.HashSet[int]]::new() } }
            [void]$assigned[$name].Targets.Add($left.Extent.StartOffset)
        }
        if (-not $assigned.Count) { continue }
        foreach ($v in $scope.FindAll({ param($x) $x -is [VariableExpressionAst] }, $true)) {
            $name = Get-BareVariableName $v.VariablePath
            if ($assigned.Contains($name) -and -not $assigned[$name].Targets.Contains($v.Extent.StartOffset)) { $assigned.Remove($name) }
        }
        foreach ($name in $assigned.Keys) {
            Add-AstFinding -Ctx $Ctx -Node $assigned[$name].First -Rule 'PSUseDeclaredVarsMoreThanAssignments' -Message "`$$name is assigned but never used"
        }
    }
}

function Test-PslintStatement {
    param ($Ctx, [Ast]$Ast)
    foreach ($c in $Ast.FindAll({ param($x) $x -is [CatchClauseAst] }, $true)) {
        if (-not $c.Body.Statements.Count) { Add-AstFinding -Ctx $Ctx -Node $c -Rule 'PSAvoidUsingEmptyCatchBlock' -Message 'an empty catch block hides the error' }
    }
    foreach ($b in $Ast.FindAll({ param($x) $x -is [BinaryExpressionAst] }, $true)) {
        if ($b.Operator -in 'Ieq', 'Ceq', 'Ine', 'Cne', 'Equals' -and $b.Right -is [VariableExpressionAst] -and $b.Right.VariablePath.UserPath -eq 'null') {
            Add-AstFinding -Ctx $Ctx -Node $b -Rule 'PSPossibleIncorrectComparisonWithNull' -Message '$null belongs on the left of the comparison (an array on the left filters instead)'
        }
    }
    foreach ($i in $Ast.FindAll({ param($x) $x -is [IfStatementAst] -or $x -is [WhileStatementAst] -or $x -is [DoWhileStatementAst] -or $x -is [DoUntilStatementAst] }, $true)) {
        $conditions = if ($i -is [IfStatementAst]) { @($i.Clauses | ForEach-Object { $_.Item1 }) } else { @($i.Condition) }
        foreach ($cond in $conditions) {
            if ($cond -is [AssignmentStatementAst] -and $cond.Operator -eq 'Equals') {
                $right = $cond.Right
                $isCommand = $right -is [PipelineAst] -and $right.PipelineElements[0] -is [CommandAst]
                if (-not $isCommand) { Add-AstFinding -Ctx $Ctx -Node $cond -Rule 'PSPossibleIncorrectUsageOfAssignmentOperator' -Message "'=' assigns: compare with -eq" }
            }
            if ($cond.Find({ param($x) $x -is [FileRedirectionAst] }, $true)) {
                Add-AstFinding -Ctx $Ctx -Node $cond -Rule 'PSPossibleIncorrectUsageOfRedirectionOperator' -Message "'>' redirects to a file: compare with -gt"
            }
        }
    }
}

function Test-PslintFunction {
    param ($Ctx, [Ast]$Ast)
    foreach ($f in $Ast.FindAll({ param($x) $x -is [FunctionDefinitionAst] }, $true)) {
        $name = $f.Name
        if ($name -match '^global:') { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSAvoidGlobalFunctions' -Message "function $($name): avoid global functions" }
        $bare = $name -replace '^\w+:', ''
        if ($bare -match '[#,(){}\[\]&/\\$^;:"''<>|?@`*%+=~]') { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSReservedCmdletChar' -Message "function $bare uses a reserved character" }
        if ($bare -match '^(?<verb>[A-Za-z]+)-(?<noun>[A-Za-z0-9]+)$') {
            if ($Matches.verb -notin $ApprovedVerbs) { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSUseApprovedVerbs' -Message "function $($bare): '$($Matches.verb)' is not an approved verb (Get-Verb)" }
            $lastWord = ([regex]::Matches($Matches.noun, '[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])') | Select-Object -Last 1).Value
            if ($lastWord -match '[^siu]s$' -and $lastWord -notin 'Data', 'Windows', 'News', 'Series', 'Species', 'Alias', 'Status') {
                Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSUseSingularNouns' -Message "function $($bare): use a singular noun"
            }
            if ($Cmdlets.ContainsKey($bare)) { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSAvoidOverwritingBuiltInCmdlets' -Message "function $bare hides the cmdlet of that name" }
        }
        $body = $f.Body
        $parameters = @(if ($body.ParamBlock) { $body.ParamBlock.Parameters }) + @($f.Parameters | Where-Object { $_ })
        $binding = @(if ($body.ParamBlock) { $body.ParamBlock.Attributes | Where-Object { $_.TypeName.Name -eq 'CmdletBinding' } })
        $declaresShouldProcess = [bool]($binding | ForEach-Object { $_.NamedArguments } | Where-Object { $_.ArgumentName -eq 'SupportsShouldProcess' -and $_.Argument.Extent.Text -ne '$false' })
        $callsShouldProcess = [bool]$body.Find({ param($x) $x -is [MemberExpressionAst] -and $x.Member.Extent.Text -in 'ShouldProcess', 'ShouldContinue' }, $true)
        if ($declaresShouldProcess -and -not $callsShouldProcess) { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSShouldProcess' -Message "function $bare declares SupportsShouldProcess but never calls ShouldProcess" }
        if (-not $declaresShouldProcess -and $callsShouldProcess) { Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSShouldProcess' -Message "function $bare calls ShouldProcess without declaring SupportsShouldProcess" }
        if ($body.Find({ param($x) $x -is [MemberExpressionAst] -and $x.Member.Extent.Text -eq 'ShouldContinue' }, $true) -and
            -not ($parameters | Where-Object { $_.Name.VariablePath.UserPath -eq 'Force' })) {
            Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSAvoidShouldContinueWithoutForce' -Message "function $bare calls ShouldContinue without a -Force switch"
        }
        if (($parameters | Where-Object { $_.Attributes | Where-Object { $_ -is [AttributeAst] -and $_.NamedArguments | Where-Object { $_.ArgumentName -eq 'ValueFromPipeline' } } }) -and
            -not $body.ProcessBlock) {
            Add-AstFinding -Ctx $Ctx -Node $f -Rule 'PSUseProcessBlockForPipelineCommand' -Message "function $bare takes pipeline input without a process block"
        }
        Test-ParameterRule -Ctx $Ctx -Parameters $parameters -Owner "function $bare"
    }
    if ($Ast -is [ScriptBlockAst] -and $Ast.ParamBlock) {
        Test-ParameterRule -Ctx $Ctx -Parameters @($Ast.ParamBlock.Parameters) -Owner 'the script'
    }
}

function Test-ParameterRule {
    param ($Ctx, [object[]]$Parameters, [string]$Owner)
    foreach ($p in $Parameters) {
        if (-not $p) { continue }
        $name = $p.Name.VariablePath.UserPath
        $types = @($p.Attributes | Where-Object { $_ -is [TypeConstraintAst] })
        $attrs = @($p.Attributes | Where-Object { $_ -is [AttributeAst] -and $_.TypeName.Name -eq 'Parameter' })
        $mandatory = [bool]($attrs | ForEach-Object { $_.NamedArguments } | Where-Object { $_.ArgumentName -eq 'Mandatory' -and $_.Argument.Extent.Text -ne '$false' })
        if ($name -in $CommonParameters) { Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSReservedParams' -Message "$Owner declares the common parameter -$name" }
        if ($name -in 'WhatIf', 'Confirm') { Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSUseSupportsShouldProcess' -Message "$Owner declares -$name itself: use SupportsShouldProcess" }
        if ($types.Count -gt 1) { Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSAvoidMultipleTypeAttributes' -Message "-$name has more than one type" }
        if ($types | Where-Object { $_.TypeName.Name -in 'switch', 'System.Management.Automation.SwitchParameter' }) {
            if ($p.DefaultValue -and $p.DefaultValue.Extent.Text -eq '$true') { Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSAvoidDefaultValueSwitchParameter' -Message "the switch -$name defaults to `$true" }
        }
        if ($mandatory -and $p.DefaultValue) { Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSAvoidDefaultValueForMandatoryParameter' -Message "the mandatory parameter -$name has a default value" }
        if ($name -eq 'Credential' -and -not ($types | Where-Object { $_.TypeName.Name -in 'pscredential', 'System.Management.Automation.PSCredential' })) {
            Add-AstFinding -Ctx $Ctx -Node $p -Rule 'PSUsePSCredentialType' -Message '-Credential should be a [pscredential]'
        }
        foreach ($a in $attrs) {
            foreach ($n in $a.NamedArguments) {
                if ($n.ArgumentName -eq 'HelpMessage' -and ($n.Argument.Extent.Text -in "''", '""', '$null')) {
                    Add-AstFinding -Ctx $Ctx -Node $n -Rule 'PSAvoidNullOrEmptyHelpMessageAttribute' -Message "-$name has an empty HelpMessage"
                }
            }
        }
    }
}

function Test-Pslint {
    param ($Ctx, [Ast]$Ast, [Token[]]$Tokens, [string]$Text)
    Test-PslintLine -Ctx $Ctx -Text $Text
    Test-PslintBrace -Ctx $Ctx -Ast $Ast -Tokens $Tokens
    Test-PslintIndentation -Ctx $Ctx -Ast $Ast -Tokens $Tokens
    Test-PslintWhitespace -Ctx $Ctx -Tokens $Tokens
    Test-PslintSemicolon -Ctx $Ctx -Tokens $Tokens
    Test-PslintCommand -Ctx $Ctx -Ast $Ast
    Test-PslintVariable -Ctx $Ctx -Ast $Ast
    Test-PslintStatement -Ctx $Ctx -Ast $Ast
    Test-PslintFunction -Ctx $Ctx -Ast $Ast
}

# ============================================================================================== project rules
function Test-Project {
    param ($Ctx, [Ast]$Ast)
    # a here-string that holds a script must say so (its first line '# asr.process_server ...'), or no check reads it
    foreach ($h in $Ast.FindAll({ param($x) $x -is [StringConstantExpressionAst] -and $x.StringConstantType -eq 'SingleQuotedHereString' }, $true)) {
        if ($h.Value -match '(?m)^\s*(param\s*\(|function\s+\S|\$\w+\s*=)' -and $h.Value -notmatch '^# asr\.process_server') {
            Add-AstFinding -Ctx $Ctx -Node $h -Rule 'project' -Message "a here-string that holds a script must start with a line '# asr.process_server ...' so the checks analyse it"
        }
    }
    # FIPS: with the "System cryptography: Use FIPS compliant algorithms" policy on, .NET Framework's managed
    # implementations (SHA256Managed, what [SHA256]::Create() returns, RijndaelManaged, ...) throw when created;
    # the CryptoServiceProvider / Cng ones work. MD5 and RIPEMD160 are not FIPS algorithms at all.
    foreach ($n in $Ast.FindAll({ param($x) $x -is [InvokeMemberExpressionAst] -or $x -is [CommandAst] }, $true)) {
        $typeName = $null
        if ($n -is [CommandAst] -and $n.GetCommandName() -eq 'New-Object') {
            $typeName = (Resolve-ApiTypeText -Name ([string](Get-NewObjectTypeName $n)) -Root $Ast).Type
        }
        elseif ($n -is [InvokeMemberExpressionAst] -and $n.Static -and $n.Expression -is [TypeExpressionAst]) {
            $owner = (Resolve-ApiTypeName -TypeName $n.Expression.TypeName -Root $Ast).Type
            if ($n.Member.Extent.Text -eq 'new') { $typeName = $owner }
            elseif ($n.Member.Extent.Text -eq 'Create' -and $owner -match '^System\.Security\.Cryptography\.(SHA1|SHA256|SHA384|SHA512|MD5|RIPEMD160|HashAlgorithm|Rijndael|Aes|SymmetricAlgorithm|KeyedHashAlgorithm|HMAC)$') {
                Add-AstFinding -Ctx $Ctx -Node $n -Rule 'project' -Message "[$owner]::Create() gives a managed implementation on .NET Framework, which throws on a host whose FIPS policy is on: create the CryptoServiceProvider one (e.g. SHA256CryptoServiceProvider)"
                continue
            }
        }
        if ($typeName -and $typeName -match '^System\.Security\.Cryptography\.(\w+Managed|MD5\w*|RIPEMD160\w*)$') {
            Add-AstFinding -Ctx $Ctx -Node $n -Rule 'project' -Message "$typeName is not FIPS-validated: it throws on a host whose FIPS policy is on (use the CryptoServiceProvider implementation of a FIPS algorithm)"
        }
    }
    # a date written with a custom format and the host's culture: ':' and '/' are that culture's separators (some
    # write 12.30.00), so text the controller parses is written with the invariant culture
    foreach ($n in $Ast.FindAll({ param($x) $x -is [InvokeMemberExpressionAst] -and -not $x.Static -and $x.Member.Extent.Text -eq 'ToString' -and @($x.Arguments).Count -eq 1 }, $true)) {
        $format = $n.Arguments[0]
        if ($format -is [StringConstantExpressionAst] -and $format.Value -cmatch '(yy|MM|dd|HH|hh|mm|ss)' -and $format.Value -match '[:/]') {
            Add-AstFinding -Ctx $Ctx -Node $n -Rule 'project' -Message "ToString('$($format.Value)') uses the host's culture for ':' and '/': pass [System.Globalization.CultureInfo]::InvariantCulture"
        }
    }
    # a parameter assigned under another spelling: names ignore case, so $probeParameters = @{} empties -ProbeParameters
    foreach ($scope in $Ast.FindAll({ param($x) $x -is [ScriptBlockAst] -and $x.ParamBlock }, $true)) {
        $parameters = @{}
        foreach ($p in $scope.ParamBlock.Parameters) { $parameters[$p.Name.VariablePath.UserPath] = $true }
        foreach ($a in $scope.FindAll({ param($x) $x -is [AssignmentStatementAst] -and $x.Left -is [VariableExpressionAst] }, $true)) {
            $name = $a.Left.VariablePath.UserPath
            $declared = @($parameters.Keys | Where-Object { $_ -eq $name -and $_ -cne $name })
            if ($declared) {
                Add-AstFinding -Ctx $Ctx -Node $a -Rule 'project' -Message "`$$name is the parameter `$$($declared[0]) (names ignore case): assigning it replaces the parameter's value"
            }
        }
    }
    # secrets arrive as SecureString (ARCHITECTURE.md decision 6): a parameter named for a secret is not a plain string
    foreach ($p in $Ast.FindAll({ param($x) $x -is [ParameterAst] }, $true)) {
        $name = $p.Name.VariablePath.UserPath
        if ($name -notmatch '(password|passphrase|secret|token)' -or $name -match '(File|Files|Path|Paths|Dir|Name|Names|Length|Required)$') { continue }
        $type = @($p.Attributes | Where-Object { $_ -is [TypeConstraintAst] })[0]
        if (-not $type -or $type.TypeName.Name -notmatch '(SecureString|PSCredential)$') {
            Add-AstFinding -Ctx $Ctx -Node $p -Rule 'project' -Message "the parameter -$name carries a secret: declare it [System.Security.SecureString] (win_powershell sensitive_parameters)"
        }
    }
}

# ============================================================================================== driver
function Invoke-Unit {
    param ([string]$Name, [string]$Text, [string[]]$Rules, [int]$LineOffset = 0)
    $tokens = $null; $errors = $null
    $ast = [Parser]::ParseInput($Text, [ref]$tokens, [ref]$errors)
    $ctx = @{ Unit = $Name; LineOffset = $LineOffset; Suppressed = @() }
    if ('parse' -in $Rules) {
        foreach ($e in $errors) { Add-Finding -Ctx $ctx -Line $e.Extent.StartLineNumber -Column $e.Extent.StartColumnNumber -Rule 'parse' -Message $e.Message }
    }
    if ($errors.Count) { return }   # the other rules need a whole tree
    $ctx.Suppressed = Get-Suppression $ast
    if ('ps51' -in $Rules) { Test-Ps51Syntax -Ctx $ctx -Ast $ast; Test-Ps51Token -Ctx $ctx -Tokens $tokens }
    if ('net45' -in $Rules) { Test-Net45 -Ctx $ctx -Ast $ast }
    if ('checkmode' -in $Rules) { Test-CheckMode -Ctx $ctx -Ast $ast -Tokens $tokens }
    if ('pslint' -in $Rules) { Test-Pslint -Ctx $ctx -Ast $ast -Tokens $tokens -Text $Text }
    if ('project' -in $Rules) { Test-Project -Ctx $ctx -Ast $ast }
    if ('embedded' -in $Rules) {
        foreach ($h in $ast.FindAll({ param($x) $x -is [StringConstantExpressionAst] -and $x.StringConstantType -eq 'SingleQuotedHereString' -and $x.Value -match '^# asr\.process_server' }, $true)) {
            # the here-string's text starts on the line after @'
            Invoke-Unit -Name $Name -Text $h.Value -Rules @('parse', 'ps51', 'net45', 'checkmode', 'pslint', 'project') -LineOffset ($LineOffset + $h.Extent.StartLineNumber)
        }
    }
}

try {
    Import-Api -Path $ApiPath
    $request = Get-Content -LiteralPath $RequestPath -Raw -Encoding utf8 | ConvertFrom-Json
    foreach ($unit in $request.units) {
        $current = $unit.name
        Invoke-Unit -Name $unit.name -Text $unit.text -Rules @($unit.rules)
    }
}
catch {
    # a defect of this analyzer, not a finding: say where, so it can be fixed
    [Console]::Error.WriteLine("analyzing $($current): $($_.Exception.Message)`n$($_.ScriptStackTrace)")
    exit 3
}
ConvertTo-Json -InputObject @($AllFindings) -Depth 3 -Compress
