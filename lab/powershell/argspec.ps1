# The argument declarations of the installed ansible.windows modules, read with PowerShell's own parser (lab/argspec.py).
#
# Ansible.Basic validates a module's arguments against the $spec hashtable its .ps1 declares; the lab validates the
# same way, so it needs that literal as data. PowerShell's parser (System.Management.Automation.Language) is the
# reference for what the text means (issue 15, item 3): this script parses each file with it and turns the constant
# parts of the literal into JSON. What is not a constant (a variable, a type literal, "$x.Keys + 'auto'") becomes
# {"__opaque__": "<source text>"}: the lab reads that option's value from the module's DOCUMENTATION instead.
# Nothing is evaluated: no module code runs.
#
#   pwsh -NoProfile -NonInteractive -File argspec.ps1 -ModulesDir <ansible.windows>/plugins/modules `
#        -WebRequestPsm1 <ansible.windows>/plugins/module_utils/WebRequest.psm1
#
# Output (stdout, one JSON document):
#   {"modules": {"<short name>": {"spec": <the first top-level "$spec = @{...}" or null>,
#                                 "parse_args_check_mode": <Parse-Args -supports_check_mode $true|$false, or null>}},
#    "web_request_spec": <the hashtable Get-AnsibleWindowsWebRequestSpec emits, or null>,
#    "errors": {"<file>": "<first parse error>"}}
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)][string]$ModulesDir,
    [string]$WebRequestPsm1
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

Add-Type -AssemblyName System.Management.Automation
$Lang = 'System.Management.Automation.Language'

function New-Opaque([System.Management.Automation.Language.Ast]$Ast) {
    $o = [ordered]@{}
    $o['__opaque__'] = $Ast.Extent.Text
    $o
}

# The value of one statement (a hashtable entry's value, one line of @( ... )).
function ConvertFrom-Statement([System.Management.Automation.Language.StatementAst]$Statement) {
    $expression = Get-StatementExpression $Statement
    if ($null -ne $expression) { return , (ConvertFrom-Expression $expression) }
    return , (New-Opaque $Statement)
}

# The expression a statement consists of ("@{...}" as an assignment's right side or one line of a block), or $null.
function Get-StatementExpression([System.Management.Automation.Language.StatementAst]$Statement) {
    if ($Statement -is [System.Management.Automation.Language.PipelineAst] -and $Statement.PipelineElements.Count -eq 1) {
        $Statement = $Statement.PipelineElements[0]
    }
    if ($Statement -is [System.Management.Automation.Language.CommandExpressionAst]) { return $Statement.Expression }
    return $null
}

# A constant expression as plain data; lists come back wrapped (", $list") so the pipeline does not unroll them.
function ConvertFrom-Expression([System.Management.Automation.Language.ExpressionAst]$Expr) {
    switch ($Expr.GetType().Name) {
        'HashtableAst' {
            $table = [ordered]@{}
            foreach ($pair in $Expr.KeyValuePairs) {
                $key = $pair.Item1
                if ($key -isnot [System.Management.Automation.Language.StringConstantExpressionAst]) {
                    return , (New-Opaque $Expr)
                }
                $table[$key.Value] = ConvertFrom-Statement $pair.Item2
            }
            return , $table
        }
        'ArrayExpressionAst' {
            # @( ... ): each statement's output, an array's elements enumerated into the result (PowerShell semantics)
            $items = [System.Collections.Generic.List[object]]::new()
            foreach ($statement in $Expr.SubExpression.Statements) {
                $value = ConvertFrom-Statement $statement
                if ($value -is [System.Collections.Generic.List[object]]) { $items.AddRange($value) } else { $items.Add($value) }
            }
            return , $items
        }
        'ArrayLiteralAst' {
            $items = [System.Collections.Generic.List[object]]::new()
            foreach ($element in $Expr.Elements) { $items.Add((ConvertFrom-Expression $element)) }
            return , $items
        }
        'UnaryExpressionAst' {
            if ($Expr.TokenKind -eq [System.Management.Automation.Language.TokenKind]::Comma) {
                # the unary comma: a one-element array
                $items = [System.Collections.Generic.List[object]]::new()
                $items.Add((ConvertFrom-Expression $Expr.Child))
                return , $items
            }
            if ($Expr.TokenKind -eq [System.Management.Automation.Language.TokenKind]::Minus -and
                $Expr.Child -is [System.Management.Automation.Language.ConstantExpressionAst] -and
                $Expr.Child.Value -is [ValueType]) {
                return , (-$Expr.Child.Value)
            }
            return , (New-Opaque $Expr)
        }
        'ParenExpressionAst' { return , (ConvertFrom-Statement $Expr.Pipeline) }
        'StringConstantExpressionAst' { return , $Expr.Value }
        'ExpandableStringExpressionAst' {
            # a double-quoted string without $variables or $( ) is a constant (its escapes already applied)
            if ($Expr.NestedExpressions.Count -eq 0) { return , $Expr.Value }
            return , (New-Opaque $Expr)
        }
        'ConstantExpressionAst' { return , $Expr.Value }
        'VariableExpressionAst' {
            switch ($Expr.VariablePath.UserPath.ToLowerInvariant()) {
                'true' { return , $true }
                'false' { return , $false }
                'null' { return , $null }
            }
            return , (New-Opaque $Expr)
        }
        default { return , (New-Opaque $Expr) }
    }
}

function Test-InFunction([System.Management.Automation.Language.Ast]$Ast) {
    for ($p = $Ast.Parent; $null -ne $p; $p = $p.Parent) {
        if ($p -is [System.Management.Automation.Language.FunctionDefinitionAst]) { return $true }
    }
    return $false
}

function Get-SpecLiteral([System.Management.Automation.Language.Ast]$Script) {
    # the module's own "$spec = @{ ... }" (not one inside a helper function)
    $found = $Script.FindAll({
            param($a)
            $a -is [System.Management.Automation.Language.AssignmentStatementAst] -and
            $a.Left -is [System.Management.Automation.Language.VariableExpressionAst] -and
            $a.Left.VariablePath.UserPath -eq 'spec' -and
            (Get-StatementExpression $a.Right) -is [System.Management.Automation.Language.HashtableAst]
        }, $true) | Where-Object { -not (Test-InFunction $_) } | Sort-Object { $_.Extent.StartOffset } | Select-Object -First 1
    if ($null -eq $found) { return $null }
    return , (ConvertFrom-Expression (Get-StatementExpression $found.Right))
}

function Get-ParseArgsCheckMode([System.Management.Automation.Language.Ast]$Script) {
    # Legacy.psm1: Parse-Args $args -supports_check_mode $true|$false
    $commands = $Script.FindAll({
            param($a)
            $a -is [System.Management.Automation.Language.CommandAst] -and $a.GetCommandName() -eq 'Parse-Args'
        }, $true)
    foreach ($command in $commands) {
        $elements = $command.CommandElements
        for ($i = 1; $i -lt $elements.Count; $i++) {
            $element = $elements[$i]
            if ($element -isnot [System.Management.Automation.Language.CommandParameterAst] -or
                $element.ParameterName -ne 'supports_check_mode') { continue }
            $argument = $element.Argument  # -supports_check_mode:$true
            if ($null -eq $argument -and $i + 1 -lt $elements.Count) { $argument = $elements[$i + 1] }
            if ($argument -is [System.Management.Automation.Language.VariableExpressionAst]) {
                switch ($argument.VariablePath.UserPath.ToLowerInvariant()) {
                    'true' { return $true }
                    'false' { return $false }
                }
            }
        }
    }
    return $null
}

function Get-WebRequestSpec([System.Management.Automation.Language.Ast]$Script) {
    # WebRequest.psm1: the hashtable Get-AnsibleWindowsWebRequestSpec writes to its output
    $function = $Script.Find({
            param($a)
            $a -is [System.Management.Automation.Language.FunctionDefinitionAst] -and $a.Name -eq 'Get-AnsibleWindowsWebRequestSpec'
        }, $true)
    if ($null -eq $function) { return $null }
    foreach ($statement in $function.Body.EndBlock.Statements) {
        $expression = Get-StatementExpression $statement
        if ($expression -is [System.Management.Automation.Language.HashtableAst]) { return , (ConvertFrom-Expression $expression) }
    }
    return $null
}

function Read-Script([string]$Path, $Errors) {
    $tokens = $null
    $parseErrors = $null
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($Path, [ref]$tokens, [ref]$parseErrors)
    if ($parseErrors.Count -gt 0) {
        $Errors[[System.IO.Path]::GetFileName($Path)] = "$($parseErrors[0].Extent.StartLineNumber): $($parseErrors[0].Message)"
    }
    $ast
}

$errors = [ordered]@{}
$modules = [ordered]@{}
foreach ($file in Get-ChildItem -LiteralPath $ModulesDir -Filter '*.ps1' | Sort-Object Name) {
    $ast = Read-Script $file.FullName $errors
    $entry = [ordered]@{}
    $entry['spec'] = Get-SpecLiteral $ast
    $entry['parse_args_check_mode'] = Get-ParseArgsCheckMode $ast
    $modules[$file.BaseName] = $entry
}
$webRequest = $null
if ($WebRequestPsm1) { $webRequest = Get-WebRequestSpec (Read-Script $WebRequestPsm1 $errors) }

$out = [ordered]@{}
$out['modules'] = $modules
$out['web_request_spec'] = $webRequest
$out['errors'] = $errors
[Console]::Out.Write(($out | ConvertTo-Json -Depth 100 -Compress))
