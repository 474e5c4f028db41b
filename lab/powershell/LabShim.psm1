# LabShim: the Windows a collection script sees when the lab runs it under PowerShell 7 (lab/powershell/host.ps1).
#
# Command precedence does the work: a function of this module replaces the cmdlet of the same name (functions beat
# cmdlets), and an alias of this module replaces a function the script defines itself (aliases beat functions): the
# scripts' "Windows seams" (small functions around a Windows-only .NET call, e.g. Open-SharedFile, Get-CallerToken).
# Everything the host answers -- registry, files, services, CIM classes, processes, programs, the MARS cmdlets -- is
# asked of the lab (lab/shim.py) over the worker's channel, so the emulated host's persisted state (lab/state.py)
# stays the one source of truth, under the lab's per-host lock. Only pure PowerShell semantics live here: parameter
# binding, how Windows PowerShell 5.1 joins and splits paths, error records as 5.1 writes them, the objects the
# cmdlets return. What each piece emulates and from which reference is listed in docs/lab.md ("The shim").
#
# This is lab code for PowerShell 7.5+. It never touches the real file system, registry or network.

Set-StrictMode -Off
$global:PSDefaultParameterValues['ConvertFrom-Json:DateKind'] = 'String'  # Windows PowerShell 5.1 keeps ISO text as text
$script:Windows1252 = [System.Text.Encoding]::GetEncoding(1252)  # 5.1's "Default" (ANSI) on an en-US Windows Server
$script:RegistryPrefix = '^(?:Microsoft\.PowerShell\.Core\\)?(?:Registry::)?(HKLM|HKCU|HKCR|HKU|HKEY_LOCAL_MACHINE|HKEY_CURRENT_USER|HKEY_CLASSES_ROOT|HKEY_USERS)(?::)?(\\|$)'
$script:FileSystemPrefix = '^(?:Microsoft\.PowerShell\.Core\\)?FileSystem::'
$script:MarsModuleLoaded = $false

$script:ReadCache = @{}  # answers to read questions within one call (cleared by any other question and per call)
$script:ReadMethods = @{
    'reg.key' = 1; 'reg.children' = 1; 'fs.item' = 1; 'fs.children' = 1; 'fs.read' = 1; 'fs.get_acl' = 1
    'file.version' = 1; 'svc.get' = 1; 'cim.instances' = 1; 'proc.get' = 1; 'token' = 1
    'windows.version_table' = 1; 'windows.culture' = 1; 'windows.defender' = 1; 'windows.execution_policy' = 1
}

function Reset-LabShim {
    # Called by the worker between calls (host.ps1 Reset-WorkRunspace): nothing of a call's shim state survives it.
    $script:MarsModuleLoaded = $false
    $script:ReadCache = @{}
}

# ---- the channel to the lab ----------------------------------------------------------------------------------
function Invoke-LabHost {
    # One question to the lab; its answer's value (arrays stay arrays), or a terminating error of the kind it names.
    param ([Parameter(Mandatory = $true)][string]$Method, [hashtable]$Arguments = @{})
    $channel = $global:AsrLabChannel
    if ($channel.Suspended) {
        # a detached process the lab stopped where it waits for a program still running: nothing more happens
        throw [System.OperationCanceledException]::new('lab: this process waits for a program that is still running')
    }
    $question = ConvertTo-Json -InputObject @{ op = 'call'; method = $Method; args = $Arguments } -Depth 32 -Compress
    if ($script:ReadMethods.ContainsKey($Method)) {
        if ($script:ReadCache.ContainsKey($question)) {
            return , $script:ReadCache[$question]
        }
    }
    else {
        $script:ReadCache = @{}  # the host may change: what was read before may not hold any more
    }
    $channel.Writer.WriteLine($question)
    $line = $channel.Reader.ReadLine()
    if ($null -eq $line) {
        throw [System.InvalidOperationException]::new('lab: the lab closed the worker channel')
    }
    $answer = ConvertFrom-Json -InputObject $line -AsHashtable -Depth 64
    if (-not $answer.ok) {
        throw (New-LabException -Kind $answer.error.type -Message $answer.error.message)
    }
    if ($script:ReadMethods.ContainsKey($Method)) {
        $script:ReadCache[$question] = $answer.value
    }
    return , $answer.value
}

function New-LabException {
    # The .NET exception Windows raises for what the lab reports (lab/shim.py ShimError kinds).
    param ([string]$Kind, [string]$Message)
    switch ($Kind) {
        'PathNotFound' { return [System.Management.Automation.ItemNotFoundException]::new($Message) }
        'FileNotFound' { return [System.IO.FileNotFoundException]::new($Message) }
        'DirectoryNotFound' { return [System.IO.DirectoryNotFoundException]::new($Message) }
        'IOError' { return [System.IO.IOException]::new($Message) }
        'AccessDenied' { return [System.UnauthorizedAccessException]::new($Message) }
        'InvalidOperation' { return [System.InvalidOperationException]::new($Message) }
        'ProcessNotFound' { return [System.ArgumentException]::new($Message) }
        default { return [System.NotSupportedException]::new($Message) }
    }
}

function Get-ErrorCategory {
    param ([System.Exception]$Exception)
    if ($Exception -is [System.Management.Automation.ItemNotFoundException] -or $Exception -is [System.IO.FileNotFoundException] -or
        $Exception -is [System.IO.DirectoryNotFoundException]) {
        return [System.Management.Automation.ErrorCategory]::ObjectNotFound
    }
    if ($Exception -is [System.UnauthorizedAccessException]) {
        return [System.Management.Automation.ErrorCategory]::PermissionDenied
    }
    if ($Exception -is [System.IO.IOException]) {
        return [System.Management.Automation.ErrorCategory]::WriteError
    }
    if ($Exception -is [System.InvalidOperationException]) {
        return [System.Management.Automation.ErrorCategory]::InvalidOperation
    }
    return [System.Management.Automation.ErrorCategory]::NotSpecified
}

function Write-CmdletError {
    # A cmdlet's error as Windows PowerShell writes it: terminating under -ErrorAction Stop or the caller's
    # $ErrorActionPreference = 'Stop', nothing under SilentlyContinue/Ignore, else a non-terminating error.
    param (
        [Parameter(Mandatory = $true)]$Cmdlet,
        [Parameter(Mandatory = $true)][System.Exception]$Exception,
        [Parameter(Mandatory = $true)][string]$ErrorId,
        $Target = $null,
        $Category = $null
    )
    if ($null -eq $Category) {
        $Category = Get-ErrorCategory -Exception $Exception
    }
    $command = $Cmdlet.MyInvocation.MyCommand.Name
    $noun = ($command -replace '-', '') + 'Command'
    $record = [System.Management.Automation.ErrorRecord]::new($Exception, "$ErrorId,Microsoft.PowerShell.Commands.$noun", $Category, $Target)
    $action = if ($Cmdlet.MyInvocation.BoundParameters.ContainsKey('ErrorAction')) {
        [string]$Cmdlet.MyInvocation.BoundParameters['ErrorAction']
    }
    else {
        [string]$Cmdlet.SessionState.PSVariable.GetValue('ErrorActionPreference')
    }
    switch ($action) {
        'Stop' { $Cmdlet.ThrowTerminatingError($record) }
        'SilentlyContinue' { }
        'Ignore' { }
        default { $Cmdlet.WriteError($record) }
    }
}

function Write-LabError {
    # Write-CmdletError for an exception the lab raised through Invoke-LabHost (its .NET type picks the error id).
    param ($Cmdlet, [System.Exception]$Exception, $Target)
    $id = switch ($Exception.GetType().Name) {
        'ItemNotFoundException' { 'PathNotFound' }
        'DirectoryNotFoundException' { 'DirectoryNotFound' }
        'FileNotFoundException' { 'FileNotFound' }
        'UnauthorizedAccessException' { 'UnauthorizedAccess' }
        'NotSupportedException' { 'LabNotEmulated' }
        default { 'System.IO.IOException' }
    }
    Write-CmdletError -Cmdlet $Cmdlet -Exception $Exception -ErrorId $id -Target $Target
}

function Get-CallValue {
    # What the lab told about this call (lab/shim.py call_facts): the host clock, drives, session facts.
    param ([string]$Name)
    return $global:AsrLabCall[$Name]
}

function Get-LabNow {
    # The emulated host's clock (the lab's fault clock_skew_seconds moves it); hosts are in UTC (lab decision).
    return [datetime]::SpecifyKind([datetime]::UtcNow.AddSeconds([double](Get-CallValue 'clock_offset_s')), [System.DateTimeKind]::Local)
}

function ConvertFrom-EpochTime {
    param ([double]$Seconds)
    return [System.DateTimeOffset]::FromUnixTimeMilliseconds([long]($Seconds * 1000)).UtcDateTime
}

# ---- paths as Windows PowerShell 5.1 joins and splits them -----------------------------------------------------
function Test-RegistryPath {
    param ([string]$Path)
    return $Path -match $script:RegistryPrefix
}

function ConvertTo-ProviderlessPath {
    # C:\x for FileSystem::C:\x (what Get-ChildItem objects carry in PSPath), the path itself otherwise.
    param ([string]$Path)
    return ($Path -replace $script:FileSystemPrefix, '')
}

function Assert-LiteralPathUsable {
    # A path with wildcard characters through -Path is expanded by 5.1; the collection never relies on that.
    param ($Cmdlet, [string]$Path)
    if ($Path -match '[\*\?\[]') {
        throw [System.NotSupportedException]::new("lab: $($Cmdlet.MyInvocation.MyCommand.Name) -Path with wildcard characters ('$Path') is not emulated; use -LiteralPath")
    }
}

function Get-Drive {
    # The drive a path starts with (C:, HKLM:), or '' for a path without one.
    param ([string]$Path)
    $m = [regex]::Match((ConvertTo-ProviderlessPath $Path), '^([A-Za-z][A-Za-z0-9]*):')
    if ($m.Success) { return $m.Groups[1].Value }
    return ''
}

function Join-Path {
    # 5.1 Join-Path: one backslash between the parts; the drive must exist (DriveNotFoundException otherwise).
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true, Position = 0)][Alias('PSPath')][string[]]$Path,
        [Parameter(Mandatory = $true, Position = 1)][AllowNull()][AllowEmptyString()][string]$ChildPath
    )
    foreach ($parent in $Path) {
        $colon = $parent.IndexOf(':')
        if ($colon -gt 0 -and $parent.IndexOf('::') -lt 0) {
            $drive = $parent.Substring(0, $colon)
            if ($global:AsrLabCall['drives'] -notcontains $drive) {
                $exception = [System.Management.Automation.DriveNotFoundException]::new("Cannot find drive. A drive with the name '$drive' does not exist.")
                Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'DriveNotFound' -Target $drive -Category ObjectNotFound
                continue
            }
        }
        $left = $parent.Replace('/', '\')
        $right = ([string]$ChildPath).Replace('/', '\')
        if (-not $right) { $left; continue }
        $left.TrimEnd('\') + '\' + $right.TrimStart('\')
    }
}

function Split-Path {
    # 5.1 Split-Path -Parent (the default) and -Leaf of a Windows path.
    [CmdletBinding(DefaultParameterSetName = 'ParentSet')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][string[]]$Path,
        [Parameter(ParameterSetName = 'ParentSet')][switch]$Parent,
        [Parameter(ParameterSetName = 'LeafSet')][switch]$Leaf,
        [Parameter(ParameterSetName = 'QualifierSet')][switch]$Qualifier
    )
    process {
        foreach ($item in $Path) {
            $text = (ConvertTo-ProviderlessPath $item).Replace('/', '\')
            if ($Qualifier) {
                $m = [regex]::Match($text, '^([A-Za-z][A-Za-z0-9]*:)')
                if ($m.Success) { $m.Groups[1].Value }
                continue
            }
            $trimmed = if ($text.Length -gt 3) { $text.TrimEnd('\') } else { $text }
            $cut = $trimmed.LastIndexOf('\')
            if ($Leaf) {
                if ($cut -ge 0) { $trimmed.Substring($cut + 1) } else { $trimmed }
                continue
            }
            if ($cut -lt 0) { ''; continue }
            $head = $trimmed.Substring(0, $cut)
            if ($head -match '^[A-Za-z][A-Za-z0-9]*:$') { $head += '\' }
            if ($trimmed -match '^[A-Za-z][A-Za-z0-9]*:\\?$') { $head = '' }
            $head
        }
    }
}

# ---- the objects the providers return ----------------------------------------------------------------------------
function ConvertTo-RegistryData {
    # A value as Microsoft.Win32.RegistryKey.GetValue returns it (REG_EXPAND_SZ expanded, as GetValue does).
    param ($Value)
    $data = $Value.data
    switch ([string]$Value.type) {
        'DWord' { return [int]$data }
        'QWord' { return [long]$data }
        'MultiString' { return , [string[]]@($data) }
        'Binary' { return , [byte[]][System.Convert]::FromBase64String([string]$data) }
        'ExpandString' { return [Environment]::ExpandEnvironmentVariables([string]$data) }
        default { if ($null -eq $data) { return $null } return [string]$data }
    }
}

$script:RegistryKeyMethods = [ordered]@{
    GetValue = {
        param ([string]$Name, $DefaultValue = $null)
        if ($null -eq $Name) { $Name = '' }
        $value = $this._values[$Name]  # a case-insensitive table, as registry value names are
        if ($null -eq $value) { return $DefaultValue }
        return ConvertTo-RegistryData -Value $value
    }
    GetValueNames = { return , [string[]]$this.Property }
    GetSubKeyNames = { return , [string[]]$this._subkeys }
    GetValueKind = {
        param ([string]$Name)
        $value = $this._values[$Name]
        if ($null -eq $value) { throw [System.IO.IOException]::new('The system cannot find the file specified.') }
        return [Microsoft.Win32.RegistryValueKind][string]$value.type
    }
    Close = {
        return
    }
    Dispose = {
        return
    }
}

function Add-ScriptMethod {
    # Script methods on an object (PSObject.Methods.Add: Add-Member costs ten times more).
    param ($Object, [System.Collections.IDictionary]$Methods)
    foreach ($name in $Methods.Keys) {
        $Object.PSObject.Methods.Add([System.Management.Automation.PSScriptMethod]::new($name, $Methods[$name]))
    }
}

function New-RegistryKeyObject {
    # What the Registry provider's Get-Item returns: a RegistryKey with PSChildName, Name, Property, SubKeyCount.
    param ([System.Collections.IDictionary]$Key)
    $values = [System.Collections.Hashtable]::new([System.StringComparer]::OrdinalIgnoreCase)
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($value in $Key.values) {
        $values[[string]$value.name] = $value
        $names.Add([string]$value.name)
    }
    $object = [pscustomobject]@{
        PSTypeName = 'AsrLab.RegistryKey'
        Name = [string]$Key.name
        PSChildName = [string]$Key.leaf
        PSPath = 'Microsoft.PowerShell.Core\Registry::' + [string]$Key.name
        PSIsContainer = $true
        Property = $names.ToArray()
        SubKeyCount = @($Key.subkeys).Count
        ValueCount = $names.Count
        _values = $values
        _subkeys = [string[]]@($Key.subkeys)
    }
    Add-ScriptMethod $object $script:RegistryKeyMethods
    return $object
}

function New-FileSystemObject {
    # What the FileSystem provider returns: a FileInfo or DirectoryInfo (with 5.1's Target for a junction).
    param ([System.Collections.IDictionary]$Item)
    $path = [string]$Item.path
    $type = [string]$Item.type
    $isDirectory = $type -ne 'file'
    $cut = $path.TrimEnd('\').LastIndexOf('\')
    $leaf = if ($path.Length -le 3) { $path } else { $path.Substring($cut + 1) }
    $parent = if ($path.Length -le 3) { '' } elseif ($cut -eq 2) { $path.Substring(0, 3) } else { $path.Substring(0, $cut) }
    $written = ConvertFrom-EpochTime ([double]$Item.mtime)
    $object = [pscustomobject]@{
        PSTypeName = if ($isDirectory) { 'AsrLab.DirectoryInfo' } else { 'AsrLab.FileInfo' }
        Name = $leaf
        FullName = $path
        PSChildName = $leaf
        PSParentPath = 'Microsoft.PowerShell.Core\FileSystem::' + $parent
        PSPath = 'Microsoft.PowerShell.Core\FileSystem::' + $path
        PSIsContainer = $isDirectory
        Exists = $true
        Attributes = if ($type -eq 'junction') { [System.IO.FileAttributes]'Directory, ReparsePoint' } elseif ($isDirectory) { [System.IO.FileAttributes]::Directory } else { [System.IO.FileAttributes]::Archive }
        LastWriteTimeUtc = $written
        LastWriteTime = $written.ToLocalTime()
        CreationTimeUtc = $written
        Mode = if ($isDirectory) { 'd-----' } else { '-a----' }
        LinkType = if ($type -eq 'junction') { 'Junction' } else { $null }
        Target = if ($type -eq 'junction') { [string[]]@([string]$Item.target) } else { $null }
        Length = if ($isDirectory) { $null } else { [long]$Item.size }
        DirectoryName = if ($isDirectory) { $null } else { $parent }
        Extension = [System.IO.Path]::GetExtension($leaf)
    }
    return $object
}

function Get-LabItem {
    # The lab's item at a path (registry key or file-system entry), or $null.
    param ([string]$Path)
    if (Test-RegistryPath $Path) {
        $key = Invoke-LabHost -Method 'reg.key' -Arguments @{ path = $Path }
        if ($null -eq $key) { return $null }
        return New-RegistryKeyObject -Key $key
    }
    $item = Invoke-LabHost -Method 'fs.item' -Arguments @{ path = (ConvertTo-ProviderlessPath $Path) }
    if ($null -eq $item) { return $null }
    return New-FileSystemObject -Item $item
}

function Get-LabItemKind {
    # 'container', 'leaf' or $null (absent): what Test-Path needs, without building the provider's object.
    param ([string]$Path)
    if (Test-RegistryPath $Path) {
        if ($null -eq (Invoke-LabHost -Method 'reg.key' -Arguments @{ path = $Path })) { return $null }
        return 'container'
    }
    $item = Invoke-LabHost -Method 'fs.item' -Arguments @{ path = (ConvertTo-ProviderlessPath $Path) }
    if ($null -eq $item) { return $null }
    if ([string]$item.type -eq 'file') { return 'leaf' }
    return 'container'
}

function New-PathNotFound {
    param ([string]$Path)
    return [System.Management.Automation.ItemNotFoundException]::new("Cannot find path '$Path' because it does not exist.")
}

# ---- item cmdlets ---------------------------------------------------------------------------------------------
function Test-Path {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [ValidateSet('Any', 'Container', 'Leaf')][string]$PathType = 'Any',
        [switch]$IsValid
    )
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            if ($IsValid) { $true; continue }
            $drive = Get-Drive $one
            if ($drive -and -not (Test-RegistryPath $one) -and (@(Get-CallValue 'drives') -notcontains $drive.ToUpperInvariant())) {
                $false
                continue
            }
            $kind = Get-LabItemKind -Path $one
            if ($null -eq $kind) { $false; continue }
            switch ($PathType) {
                'Container' { $kind -eq 'container' }
                'Leaf' { $kind -eq 'leaf' }
                default { $true }
            }
        }
    }
}

function Get-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [switch]$Force
    )
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            $item = Get-LabItem -Path $one
            if ($null -eq $item) {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                continue
            }
            $item
        }
    }
}

function Get-ChildItem {
    [CmdletBinding(DefaultParameterSetName = 'Items')]
    param (
        [Parameter(Position = 0, ParameterSetName = 'Items', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralItems', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1)][string]$Filter,
        [switch]$Directory,
        [switch]$File,
        [switch]$Force,
        [switch]$Recurse
    )
    process {
        if ($Recurse) {
            throw [System.NotSupportedException]::new('lab: Get-ChildItem -Recurse is not emulated')
        }
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Items') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Items') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            if (Test-RegistryPath $one) {
                $children = Invoke-LabHost -Method 'reg.children' -Arguments @{ path = $one }
                if ($null -eq $children) {
                    Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                    continue
                }
                foreach ($key in $children) {
                    $object = New-RegistryKeyObject -Key $key
                    if (-not $Filter -or $object.PSChildName -like $Filter) { $object }
                }
                continue
            }
            $children = Invoke-LabHost -Method 'fs.children' -Arguments @{ path = (ConvertTo-ProviderlessPath $one) }
            if ($null -eq $children) {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'DirIOError' -Target $one
                continue
            }
            foreach ($entry in $children) {
                $object = New-FileSystemObject -Item $entry
                if ($Directory -and -not $object.PSIsContainer) { continue }
                if ($File -and $object.PSIsContainer) { continue }
                if ($Filter -and $object.Name -notlike $Filter) { continue }
                $object
            }
        }
    }
}

function Get-ItemProperty {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1)][Alias('PSProperty')][string[]]$Name
    )
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if (-not (Test-RegistryPath $one)) {
                throw [System.NotSupportedException]::new("lab: Get-ItemProperty of a file ('$one') is not emulated")
            }
            $key = Get-LabItem -Path $one
            if ($null -eq $key) {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                continue
            }
            $wanted = if ($Name) { $Name } else { $key.Property }
            $properties = [ordered]@{}
            foreach ($valueName in $wanted) {
                $found = @($key.Property) | Where-Object { $_ -ieq $valueName } | Select-Object -First 1
                if ($null -eq $found) {
                    $exception = [System.Management.Automation.PSArgumentException]::new("Property $valueName does not exist at path $($key.Name).")
                    Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'System.Management.Automation.PSArgumentException' -Target $valueName -Category InvalidArgument
                    continue
                }
                $properties[$found] = $key.GetValue($found)
            }
            if ($properties.Count) {
                $properties.PSPath = $key.PSPath
                $properties.PSChildName = $key.PSChildName
                [pscustomobject]$properties
            }
        }
    }
}

function ConvertFrom-FileBytes {
    # Text as Windows PowerShell 5.1's Get-Content reads it: the byte order mark decides, else ANSI (Windows-1252).
    param ([byte[]]$Bytes)
    if ($Bytes.Length -ge 3 -and $Bytes[0] -eq 0xEF -and $Bytes[1] -eq 0xBB -and $Bytes[2] -eq 0xBF) {
        return [System.Text.Encoding]::UTF8.GetString($Bytes, 3, $Bytes.Length - 3)
    }
    if ($Bytes.Length -ge 2 -and $Bytes[0] -eq 0xFF -and $Bytes[1] -eq 0xFE) {
        return [System.Text.Encoding]::Unicode.GetString($Bytes, 2, $Bytes.Length - 2)
    }
    if ($Bytes.Length -ge 2 -and $Bytes[0] -eq 0xFE -and $Bytes[1] -eq 0xFF) {
        return [System.Text.Encoding]::BigEndianUnicode.GetString($Bytes, 2, $Bytes.Length - 2)
    }
    return $script:Windows1252.GetString($Bytes)
}

function ConvertTo-FileBytes {
    # Bytes as Windows PowerShell 5.1's Set-Content -Encoding writes them (UTF8 carries a byte order mark).
    param ([string]$Text, [string]$Encoding)
    switch ($Encoding) {
        'UTF8' { return , [byte[]](@(0xEF, 0xBB, 0xBF) + [System.Text.Encoding]::UTF8.GetBytes($Text)) }
        'Unicode' { return , [byte[]](@(0xFF, 0xFE) + [System.Text.Encoding]::Unicode.GetBytes($Text)) }
        'BigEndianUnicode' { return , [byte[]](@(0xFE, 0xFF) + [System.Text.Encoding]::BigEndianUnicode.GetBytes($Text)) }
        'ASCII' { return , [System.Text.Encoding]::ASCII.GetBytes($Text) }
        'UTF7' { throw [System.NotSupportedException]::new('lab: Set-Content -Encoding UTF7 is not emulated') }
        'UTF32' { return , [byte[]](@(0xFF, 0xFE, 0x00, 0x00) + [System.Text.Encoding]::UTF32.GetBytes($Text)) }
        default { return , $script:Windows1252.GetBytes($Text) }
    }
}

function Read-LabFile {
    param ([string]$Path)
    $answer = Invoke-LabHost -Method 'fs.read' -Arguments @{ path = (ConvertTo-ProviderlessPath $Path) }
    return , [System.Convert]::FromBase64String([string]$answer)
}

function Get-Content {
    [CmdletBinding(DefaultParameterSetName = 'Path')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [switch]$Raw,
        [string]$Encoding,
        [long]$TotalCount = -1,
        [int]$Tail = -1
    )
    process {
        if ($Encoding) {
            throw [System.NotSupportedException]::new('lab: Get-Content -Encoding is not emulated')
        }
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            try {
                $text = ConvertFrom-FileBytes -Bytes (Read-LabFile -Path $one)
            }
            catch [System.IO.FileNotFoundException], [System.Management.Automation.ItemNotFoundException] {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                continue
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $one
                continue
            }
            if ($Raw) { $text; continue }
            $lines = [System.Collections.Generic.List[string]]::new([string[]]($text -split "\r\n|\n"))
            if ($lines.Count -gt 0 -and $lines[$lines.Count - 1] -eq '') { $lines.RemoveAt($lines.Count - 1) }
            if ($TotalCount -ge 0) { $lines = $lines | Select-Object -First $TotalCount }
            if ($Tail -ge 0) { $lines = $lines | Select-Object -Last $Tail }
            $lines
        }
    }
}

function Write-LabFile {
    param ([string]$Path, [byte[]]$Bytes)
    $null = Invoke-LabHost -Method 'fs.write' -Arguments @{ path = (ConvertTo-ProviderlessPath $Path); data = [System.Convert]::ToBase64String($Bytes) }
}

function Set-Content {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path')][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory = $true, Position = 1, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][AllowNull()][AllowEmptyCollection()][object[]]$Value,
        [string]$Encoding = 'Default',
        [switch]$NoNewline,
        [switch]$Force
    )
    begin { $collected = [System.Collections.Generic.List[object]]::new() }
    process { foreach ($v in $Value) { $collected.Add($v) } }
    end {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        $separator = if ($NoNewline) { '' } else { "`r`n" }
        $text = -join @($collected | ForEach-Object { [string]$_ + $separator })
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            if (-not $PSCmdlet.ShouldProcess($one, 'Set Content')) { continue }
            try {
                Write-LabFile -Path $one -Bytes (ConvertTo-FileBytes -Text $text -Encoding $Encoding)
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $one
            }
        }
    }
}

function New-Item {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipelineByPropertyName = $true)][string[]]$Path,
        [Alias('Type')][string]$ItemType = 'File',
        [Parameter(ValueFromPipeline = $true)][object]$Value,
        [switch]$Force
    )
    process {
        foreach ($one in $Path) {
            $target = ConvertTo-ProviderlessPath $one
            if (Test-RegistryPath $target) {
                throw [System.NotSupportedException]::new("lab: New-Item in the registry ('$one') is not emulated")
            }
            if (-not $PSCmdlet.ShouldProcess($target, 'Create ' + $ItemType)) { continue }
            try {
                $existing = Invoke-LabHost -Method 'fs.item' -Arguments @{ path = $target }
                if ($ItemType -ieq 'Directory') {
                    if ($null -ne $existing -and -not $Force) {
                        throw [System.IO.IOException]::new("An item with the specified name $target already exists.")
                    }
                    if ($null -ne $existing -and [string]$existing.type -eq 'file') {
                        throw [System.IO.IOException]::new("An item with the specified name $target already exists.")
                    }
                    $null = Invoke-LabHost -Method 'fs.mkdir' -Arguments @{ path = $target }
                }
                elseif ($ItemType -ieq 'File') {
                    if ($null -ne $existing -and -not $Force) {
                        throw [System.IO.IOException]::new("The file '$target' already exists.")
                    }
                    $text = if ($null -eq $Value) { '' } else { [string]$Value }
                    $null = Invoke-LabHost -Method 'fs.write' -Arguments @{ path = $target; data = [System.Convert]::ToBase64String($script:Windows1252.GetBytes($text)); parents = [bool]$Force }
                }
                else {
                    throw [System.NotSupportedException]::new("lab: New-Item -ItemType $ItemType is not emulated")
                }
                New-FileSystemObject -Item (Invoke-LabHost -Method 'fs.item' -Arguments @{ path = $target })
            }
            catch [System.NotSupportedException] {
                throw
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $target
            }
        }
    }
}

function Remove-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [switch]$Recurse,
        [switch]$Force
    )
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            $target = ConvertTo-ProviderlessPath $one
            if (Test-RegistryPath $target) {
                throw [System.NotSupportedException]::new("lab: Remove-Item in the registry ('$one') is not emulated")
            }
            $item = Invoke-LabHost -Method 'fs.item' -Arguments @{ path = $target }
            if ($null -eq $item) {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                continue
            }
            if (-not $PSCmdlet.ShouldProcess($target, 'Remove Item')) { continue }
            try {
                $null = Invoke-LabHost -Method 'fs.remove' -Arguments @{ path = $target; recurse = [bool]$Recurse }
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $target
            }
        }
    }
}

function Move-Item {
    [CmdletBinding(DefaultParameterSetName = 'Path', SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Path', ValueFromPipeline = $true)][string[]]$Path,
        [Parameter(Mandatory = $true, ParameterSetName = 'LiteralPath', ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Position = 1)][string]$Destination,
        [switch]$Force,
        [switch]$PassThru
    )
    process {
        $paths = if ($PSCmdlet.ParameterSetName -eq 'Path') { $Path } else { $LiteralPath }
        foreach ($one in $paths) {
            if ($PSCmdlet.ParameterSetName -eq 'Path') { Assert-LiteralPathUsable -Cmdlet $PSCmdlet -Path $one }
            $source = ConvertTo-ProviderlessPath $one
            if ($null -eq (Invoke-LabHost -Method 'fs.item' -Arguments @{ path = $source })) {
                Write-CmdletError -Cmdlet $PSCmdlet -Exception (New-PathNotFound $one) -ErrorId 'PathNotFound' -Target $one
                continue
            }
            if (-not $PSCmdlet.ShouldProcess($source, 'Move Item')) { continue }
            try {
                $moved = Invoke-LabHost -Method 'fs.move' -Arguments @{ path = $source; destination = (ConvertTo-ProviderlessPath $Destination); force = [bool]$Force }
                if ($PassThru) { New-FileSystemObject -Item $moved }
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $source
            }
        }
    }
}

# ---- access control: what Get-Acl/Set-Acl and the ACL seams (protected_files fragment) see ------------------------
function New-LabAcl {
    # An access control list as the lab keeps it; GetAccessRules answers with SIDs (IdentityReference.Value).
    param ([bool]$Protected = $false, [object[]]$Rules = @(), [bool]$Container = $false)
    $acl = [pscustomobject]@{
        PSTypeName = if ($Container) { 'AsrLab.DirectorySecurity' } else { 'AsrLab.FileSecurity' }
        AreAccessRulesProtected = $Protected
        Rules = [System.Collections.Generic.List[object]]::new()
    }
    foreach ($rule in $Rules) { $acl.Rules.Add($rule) }
    $acl | Add-Member -MemberType ScriptMethod -Name SetAccessRuleProtection -Value {
        param ([bool]$IsProtected, [bool]$PreserveInheritance)
        $this.AreAccessRulesProtected = $IsProtected
        if ($IsProtected -and -not $PreserveInheritance) {
            foreach ($inherited in @($this.Rules | Where-Object { $_.IsInherited })) { [void]$this.Rules.Remove($inherited) }
        }
    }
    $acl | Add-Member -MemberType ScriptMethod -Name AddAccessRule -Value {
        param ($Rule)
        $this.Rules.Add($Rule)
    }
    $acl | Add-Member -MemberType ScriptMethod -Name GetAccessRules -Value {
        param ([bool]$IncludeExplicit, [bool]$IncludeInherited, $TargetType)
        return , @($this.Rules | Where-Object { ($IncludeExplicit -and -not $_.IsInherited) -or ($IncludeInherited -and $_.IsInherited) })
    }
    return $acl
}

function New-LabAccessRule {
    param ([string]$Sid, [string]$Rights = 'FullControl', [string]$Inheritance = 'None', [string]$Propagation = 'None',
        [string]$Type = 'Allow', [bool]$Inherited = $false)
    return [pscustomobject]@{
        PSTypeName = 'AsrLab.FileSystemAccessRule'
        IdentityReference = [pscustomobject]@{ Value = $Sid }
        FileSystemRights = $Rights
        InheritanceFlags = $Inheritance
        PropagationFlags = $Propagation
        AccessControlType = $Type
        IsInherited = $Inherited
    }
}

function Get-Acl {
    [CmdletBinding()]
    param (
        [Parameter(Position = 0)][string[]]$Path,
        [Parameter(ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath
    )
    process {
        foreach ($one in @($Path) + @($LiteralPath) | Where-Object { $_ }) {
            try {
                $answer = Invoke-LabHost -Method 'fs.get_acl' -Arguments @{ path = (ConvertTo-ProviderlessPath $one) }
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $one
                continue
            }
            $rules = @(foreach ($r in @($answer.rules)) {
                    New-LabAccessRule -Sid $r.sid -Rights $r.rights -Inheritance $r.inheritance -Propagation $r.propagation -Type $r.type -Inherited ([bool]$r.inherited)
                })
            New-LabAcl -Protected ([bool]$answer.protected) -Rules $rules -Container ([bool]$answer.container)
        }
    }
}

function Set-Acl {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [Parameter(Position = 0)][string[]]$Path,
        [Parameter(ValueFromPipelineByPropertyName = $true)][Alias('PSPath')][string[]]$LiteralPath,
        [Parameter(Mandatory = $true, Position = 1)]$AclObject
    )
    process {
        foreach ($one in @($Path) + @($LiteralPath) | Where-Object { $_ }) {
            if (-not $PSCmdlet.ShouldProcess($one, 'Set-Acl')) { continue }
            $rules = @(foreach ($rule in @($AclObject.Rules | Where-Object { -not $_.IsInherited })) {
                    @{
                        sid = [string]$rule.IdentityReference.Value
                        rights = [string]$rule.FileSystemRights
                        inheritance = [string]$rule.InheritanceFlags
                        propagation = [string]$rule.PropagationFlags
                        type = [string]$rule.AccessControlType
                    }
                })
            try {
                $null = Invoke-LabHost -Method 'fs.set_acl' -Arguments @{ path = (ConvertTo-ProviderlessPath $one); protected = [bool]$AclObject.AreAccessRulesProtected; rules = $rules }
            }
            catch {
                Write-LabError -Cmdlet $PSCmdlet -Exception $_.Exception -Target $one
            }
        }
    }
}

function Invoke-LabNewFileSystemSecurity {
    # seam New-FileSystemSecurity (protected_files fragment)
    param ([switch]$Container)
    return New-LabAcl -Container ([bool]$Container)
}

function Invoke-LabNewSidAccessRule {
    # seam New-SidAccessRule (protected_files fragment): the same rule the fragment builds, by SID
    param ([string]$Sid, [switch]$Container)
    if ($Sid -notmatch '^S-1-(\d+-)*\d+$') {
        throw [System.Management.Automation.MethodInvocationException]::new("Exception calling "".ctor"" with ""1"" argument(s): ""Value was invalid.""", [System.ArgumentException]::new('Value was invalid.'))
    }
    if ($Container) {
        return New-LabAccessRule -Sid $Sid -Inheritance 'ContainerInherit, ObjectInherit'
    }
    return New-LabAccessRule -Sid $Sid
}

# ---- file content and version: the file_facts / shared_text / protected_files seams -------------------------------
function New-DotNetCallException {
    # How PowerShell reports a .NET method that threw: 'Exception calling "<Method>" with "<n>" argument(s): "<message>"'.
    param ([string]$Method, [int]$Arity, [System.Exception]$Inner)
    return [System.Management.Automation.MethodInvocationException]::new("Exception calling ""$Method"" with ""$Arity"" argument(s): ""$($Inner.Message)""", $Inner)
}

function Invoke-LabOpenSharedFile {
    # seam Open-SharedFile: [IO.File]::Open(path, Open, Read, ReadWrite)
    param ([string]$Path)
    try {
        return [System.IO.MemoryStream]::new((Read-LabFile -Path $Path), $false)
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException], [System.Management.Automation.ItemNotFoundException] {
        throw (New-DotNetCallException -Method 'Open' -Arity 4 -Inner $_.Exception)
    }
}

function Invoke-LabOpenFileRead {
    # seam Open-FileRead: [IO.File]::OpenRead(path)
    param ([string]$Path)
    try {
        return [System.IO.MemoryStream]::new((Read-LabFile -Path $Path), $false)
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException], [System.Management.Automation.ItemNotFoundException] {
        throw (New-DotNetCallException -Method 'OpenRead' -Arity 1 -Inner $_.Exception)
    }
}

function Invoke-LabSetFileText {
    # seam Set-FileText: [IO.File]::WriteAllText(path, text, UTF-8 without BOM)
    param ([string]$Path, [string]$Text)
    try {
        $null = Invoke-LabHost -Method 'fs.write' -Arguments @{ path = $Path; data = [System.Convert]::ToBase64String([System.Text.UTF8Encoding]::new($false).GetBytes([string]$Text)) }
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException] {
        throw (New-DotNetCallException -Method 'WriteAllText' -Arity 3 -Inner $_.Exception)
    }
}

function Invoke-LabGetFileVersionInfo {
    # seam Get-FileVersionInfo: [Diagnostics.FileVersionInfo]::GetVersionInfo(path) -- the version resource
    param ([string]$Path)
    try {
        $info = Invoke-LabHost -Method 'file.version' -Arguments @{ path = $Path }
    }
    catch [System.IO.FileNotFoundException] {
        throw (New-DotNetCallException -Method 'GetVersionInfo' -Arity 1 -Inner $_.Exception)
    }
    $object = [pscustomobject]@{ PSTypeName = 'AsrLab.FileVersionInfo'; FileName = $Path }
    foreach ($name in $info.Keys) {
        $object | Add-Member -NotePropertyName $name -NotePropertyValue $info[$name]
    }
    return $object
}

# ---- package_stage's runner: the partial package and the share it copies from -----------------------------------------
function Invoke-LabOpenPartialFile {
    # seam Open-PartialFile: [IO.File]::Open(path, OpenOrCreate, Write, Read) at its end. Here a MemoryStream holding
    # what the host's file holds; Close-PartialFile writes it back (the runner closes it before it reads the file).
    param ([string]$Path)
    $bytes = [byte[]]@()
    try {
        $bytes = Read-LabFile -Path $Path
    }
    catch [System.IO.FileNotFoundException] {
        $bytes = [byte[]]@()  # OpenOrCreate: a new file
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException] {
        throw (New-DotNetCallException -Method 'Open' -Arity 4 -Inner $_.Exception)
    }
    $stream = [System.IO.MemoryStream]::new()
    $stream.Write($bytes, 0, $bytes.Length)
    return $stream
}

function Invoke-LabClosePartialFile {
    # seam Close-PartialFile: the stream's content is the host's file now
    param ([System.IO.Stream]$Stream, [string]$Path)
    $data = [System.Convert]::ToBase64String($Stream.ToArray())
    $null = Invoke-LabHost -Method 'fs.write' -Arguments @{ path = $Path; data = $data }
    $Stream.Dispose()
}

function Invoke-LabGetSourceLength {
    # seam Get-SourceLength: (New-Object IO.FileInfo path).Length -- a UNC path as this call's account (lab/share.py)
    param ([string]$Path)
    try {
        return [int64](Invoke-LabHost -Method 'share.size' -Arguments @{ path = $Path })
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException] {
        throw (New-DotNetCallException -Method 'get_Length' -Arity 0 -Inner $_.Exception)
    }
}

function Invoke-LabOpenSourceFile {
    # seam Open-SourceFile: [IO.File]::OpenRead(path) then Seek(offset): here the bytes from offset on
    param ([string]$Path, [int64]$Offset)
    try {
        $answer = Invoke-LabHost -Method 'share.read' -Arguments @{ path = $Path; offset = $Offset }
    }
    catch [System.IO.IOException], [System.UnauthorizedAccessException] {
        throw (New-DotNetCallException -Method 'OpenRead' -Arity 1 -Inner $_.Exception)
    }
    return [System.IO.MemoryStream]::new([System.Convert]::FromBase64String([string]$answer), $false)
}

# ---- the caller's token, TCP, named mutexes: the probe and setup_start seams -----------------------------------------
function Invoke-LabGetCallerToken {
    # seam Get-CallerToken: the token of the call (user, become, network logon), as the lab's session has it
    $token = Invoke-LabHost -Method 'token'
    return [ordered]@{
        name = [string]$token.name
        is_system = [bool]$token.is_system
        elevated = [bool]$token.elevated
        group_sids = [string[]]@($token.group_sids)
    }
}

function Invoke-LabNewTcpClient {
    # seam New-TcpClient: a TcpClient whose connection the lab decides (which emulated host owns the address, and
    # whether it listens on the port); the script's own timeout and error handling run as written.
    $client = [pscustomobject]@{ PSTypeName = 'AsrLab.TcpClient'; Connected = $false; _outcome = $null }
    $client | Add-Member -MemberType ScriptMethod -Name BeginConnect -Value {
        param ([string]$Address, [int]$Port, $Callback, $State)
        $this._outcome = Invoke-LabHost -Method 'tcp.connect' -Arguments @{ address = $Address; port = $Port }
        $handle = [pscustomobject]@{ Outcome = $this._outcome }
        $handle | Add-Member -MemberType ScriptMethod -Name WaitOne -Value {
            param ($Milliseconds, $ExitContext)
            return ([string]$this.Outcome.state -ne 'timeout')
        }
        return [pscustomobject]@{ AsyncWaitHandle = $handle; IsCompleted = ([string]$this._outcome.state -ne 'timeout') }
    }
    $client | Add-Member -MemberType ScriptMethod -Name EndConnect -Value {
        param ($AsyncResult)
        if ([string]$this._outcome.state -ne 'connected') {
            # the SocketException's message as Windows words it (.NET on Linux words error 10061 differently)
            throw [System.Exception]::new([string]$this._outcome.message)
        }
        $this.Connected = $true
    }
    $client | Add-Member -MemberType ScriptMethod -Name Close -Value { $this.Connected = $false }
    $client | Add-Member -MemberType ScriptMethod -Name Dispose -Value { $this.Connected = $false }
    return $client
}

function Invoke-LabNewNamedMutex {
    # seam New-NamedMutex: a mutex of this call only. On Windows a named mutex lives while a process holds a handle to
    # it; each win_powershell call over WinRM is its own process and the lab runs one call per host at a time, so no
    # other process ever holds it (abandonment, or a long-lived psrp process keeping it, are not emulated).
    param ([string]$Name)
    return [System.Threading.Mutex]::new($false)
}

function Invoke-LabTestNamedMutex {
    # seam Test-NamedMutex: whether a named mutex exists on the host ([1.3] Unified Setup holds its own while it runs)
    param ([string]$Name)
    return [bool](Invoke-LabHost -Method 'mutex.exists' -Arguments @{ name = $Name })
}

# ---- services and CIM -----------------------------------------------------------------------------------------------
function Get-Service {
    [CmdletBinding()]
    param ([Parameter(Position = 0, ValueFromPipeline = $true)][Alias('ServiceName')][string[]]$Name)
    process {
        foreach ($one in $Name) {
            $service = Invoke-LabHost -Method 'svc.get' -Arguments @{ name = $one }
            if ($null -eq $service) {
                $exception = [Microsoft.PowerShell.Commands.ServiceCommandException]::new("Cannot find any service with service name '$one'.")
                Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'NoServiceFoundForGivenName' -Target $one -Category ObjectNotFound
                continue
            }
            $object = [pscustomobject]@{
                PSTypeName = 'AsrLab.ServiceController'
                Name = [string]$service.Name
                ServiceName = [string]$service.Name
                DisplayName = [string]$service.DisplayName
                Status = [string]$service.Status
                StartType = [string]$service.StartType
            }
            $object | Add-Member -MemberType ScriptMethod -Name ToString -Value { $this.Name } -Force
            $object
        }
    }
}

function Get-CimInstance {
    [CmdletBinding()]
    param (
        [Parameter(Mandatory = $true, Position = 0)][string]$ClassName,
        [string]$Namespace = 'root/cimv2',
        [string]$Filter,
        [string]$ComputerName
    )
    if ($Filter -or $ComputerName) {
        throw [System.NotSupportedException]::new('lab: Get-CimInstance -Filter/-ComputerName is not emulated')
    }
    $instances = Invoke-LabHost -Method 'cim.instances' -Arguments @{ class = $ClassName; namespace = $Namespace }
    foreach ($instance in $instances) {
        $object = [pscustomobject]@{ PSTypeName = "AsrLab.CimInstance#$ClassName" }
        foreach ($name in $instance.Keys) {
            $value = $instance[$name]
            if ($ClassName -eq 'Win32_Process' -and $name -eq 'CreationDate') {
                $value = (ConvertFrom-EpochTime ([double]$value)).ToLocalTime()   # the CIM cmdlets give a DateTime
            }
            $object | Add-Member -NotePropertyName $name -NotePropertyValue $value
        }
        $object
    }
}

function Invoke-CimMethod {
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true)][string]$ClassName,
        [Parameter(Mandatory = $true)][string]$MethodName,
        [System.Collections.IDictionary]$Arguments = @{},
        [string]$Namespace = 'root/cimv2'
    )
    if ($ClassName -ne 'Win32_Process' -or $MethodName -ne 'Create') {
        throw [System.NotSupportedException]::new("lab: Invoke-CimMethod $ClassName.$MethodName is not emulated (only Win32_Process.Create)")
    }
    if (-not $PSCmdlet.ShouldProcess($ClassName, $MethodName)) { return }
    $created = Invoke-LabHost -Method 'process.create' -Arguments @{ command_line = [string]$Arguments['CommandLine']; cwd = [string]$Arguments['CurrentDirectory'] }
    return [pscustomobject]@{
        PSTypeName = 'AsrLab.CimMethodResult'
        ReturnValue = [uint32]$created.ReturnValue
        ProcessId = [uint32]$created.ProcessId
    }
}

# ---- processes and programs ------------------------------------------------------------------------------------------
function Get-Process {
    [CmdletBinding(DefaultParameterSetName = 'Name')]
    param (
        [Parameter(Mandatory = $true, ParameterSetName = 'Id', ValueFromPipelineByPropertyName = $true)][Alias('PID')][int[]]$Id,
        [Parameter(Position = 0, ParameterSetName = 'Name')][string[]]$Name
    )
    process {
        if ($PSCmdlet.ParameterSetName -ne 'Id') {
            throw [System.NotSupportedException]::new('lab: Get-Process by name is not emulated (use -Id)')
        }
        foreach ($one in $Id) {
            $process = Invoke-LabHost -Method 'proc.get' -Arguments @{ pid = $one }
            if ($null -eq $process) {
                $exception = [System.ArgumentException]::new("Cannot find a process with the process identifier $one.")
                Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'NoProcessFoundForGivenId' -Target $one -Category ObjectNotFound
                continue
            }
            [pscustomobject]@{
                PSTypeName = 'AsrLab.Process'
                Id = [int]$process.pid
                ProcessName = [string]$process.name
                Path = [string]$process.path
                StartTime = (ConvertFrom-EpochTime ([double]$process.started)).ToLocalTime()
                HasExited = $false
            }
        }
    }
}

function Stop-Process {
    # 5.1 Stop-Process -Id: Process.Kill of each (TerminateProcess, exit code -1), a process of the emulated host's table
    # (lab/detached.py stop); an id no process has is the cmdlet's error.
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0, ValueFromPipelineByPropertyName = $true)][int[]]$Id,
        [switch]$Force,
        [switch]$PassThru
    )
    process {
        foreach ($one in $Id) {
            if (-not $PSCmdlet.ShouldProcess("process $one", 'Stop-Process')) {
                continue
            }
            if (-not (Invoke-LabHost -Method 'proc.stop' -Arguments @{ pid = $one })) {
                $exception = [System.ArgumentException]::new("Cannot find a process with the process identifier $one.")
                Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'NoProcessFoundForGivenId' -Target $one -Category ObjectNotFound
            }
        }
    }
}

function Start-Process {
    # 5.1 Start-Process: the arguments joined with spaces as given (no quoting), the program run as a new process.
    [CmdletBinding(SupportsShouldProcess = $true)]
    param (
        [Parameter(Mandatory = $true, Position = 0)][Alias('PSPath')][string]$FilePath,
        [Parameter(Position = 1)][Alias('Args')][string[]]$ArgumentList,
        [string]$WorkingDirectory,
        [string]$RedirectStandardOutput,
        [string]$RedirectStandardError,
        [string]$RedirectStandardInput,
        [switch]$NoNewWindow,
        [switch]$PassThru,
        [switch]$Wait,
        [string]$WindowStyle,
        [string]$Verb,
        [switch]$UseNewEnvironment
    )
    if ($Verb -or $RedirectStandardInput -or $UseNewEnvironment) {
        throw [System.NotSupportedException]::new('lab: Start-Process -Verb/-RedirectStandardInput/-UseNewEnvironment is not emulated')
    }
    if (-not $PSCmdlet.ShouldProcess($FilePath, 'Start-Process')) { return }
    $arguments = @{
        file = $FilePath
        arguments = (@($ArgumentList) -join ' ')
        cwd = $WorkingDirectory
        stdout = $RedirectStandardOutput
        stderr = $RedirectStandardError
        wait = [bool]$Wait
    }
    try {
        $started = Invoke-LabHost -Method 'process.start' -Arguments $arguments
    }
    catch [System.IO.FileNotFoundException], [System.InvalidOperationException] {
        $exception = [System.InvalidOperationException]::new("This command cannot be run due to the error: $($_.Exception.Message)")
        Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'InvalidOperationException' -Target $FilePath -Category InvalidOperation
        return
    }
    if ($started.suspend) {
        Stop-WhileWaiting
    }
    if ($PassThru) {
        $process = [pscustomobject]@{
            PSTypeName = 'AsrLab.Process'
            Id = [int]$started.pid
            ProcessName = [string]$started.name
            Handle = [System.IntPtr]::Zero
            _exited = [bool]$started.exited
            _exit_code = $started.exit_code
        }
        Add-ScriptMethod $process $script:StartedProcessMethods
        foreach ($name in $script:StartedProcessProperties.Keys) {
            $process.PSObject.Properties.Add([System.Management.Automation.PSScriptProperty]::new($name, $script:StartedProcessProperties[$name]))
        }
        $process
    }
}

function Stop-WhileWaiting {
    # The program this detached process waits for is still running: on Windows it stays blocked in the wait. The lab
    # stops it here, with no effect after this point, and runs it again when that program has ended (lab/detached.py).
    $global:AsrLabChannel.Suspended = $true
    throw [System.OperationCanceledException]::new('lab: this process waits for a program that is still running')
}

$script:StartedProcessMethods = [ordered]@{
    WaitForExit = {
        # void WaitForExit() and bool WaitForExit(int milliseconds)
        if ($this._exited) {
            if ($args.Count -eq 0) { return }
            return $true
        }
        $timeout = if ($args.Count -eq 0) { -1 } else { [int]$args[0] }
        $answer = Invoke-LabHost -Method 'process.wait' -Arguments @{ pid = $this.Id; timeout_ms = $timeout }
        if ($answer.suspend) {
            Stop-WhileWaiting
        }
        if ($answer.exited) {
            $this._exited = $true
            $this._exit_code = $answer.exit_code
        }
        if ($args.Count -eq 0) { return }
        return [bool]$answer.exited
    }
    Refresh = {
        return
    }
    Dispose = {
        return
    }
}
$script:StartedProcessProperties = [ordered]@{
    HasExited = {
        if (-not $this._exited) { $null = $this.WaitForExit(0) }
        return $this._exited
    }
    ExitCode = {
        if (-not $this._exited -and -not $this.WaitForExit(0)) {
            throw [System.InvalidOperationException]::new('Process must exit before requested information can be determined.')
        }
        return [int]$this._exit_code
    }
}

$script:ProcessMethods = [ordered]@{
    _Run = {
        if ($null -eq $this._result) {
            $arguments = @{ file = $this._file; arguments = $this._arguments; cwd = $this._cwd; stdin = $this._input.ToString(); env = $this._env }
            $this._result = Invoke-LabHost -Method 'program.run' -Arguments $arguments
        }
        return $this._result
    }
    WaitForExit = {
        # void WaitForExit() and bool WaitForExit(int milliseconds), as .NET has them
        $result = $this._Run()
        if ($args.Count -eq 0) {
            return
        }
        # an emulated program longer than the wait: still running (its effects are already there: a lab limit)
        return -not ([int]$args[0] -ge 0 -and [double]$result.duration_s * 1000 -gt [int]$args[0])
    }
    Kill = {
        $this._killed = $true
    }
    Close = {
        return
    }
    Dispose = {
        return
    }
}
$script:ProcessProperties = [ordered]@{
    ExitCode = {
        if ($this._killed) { return -1 }
        return [int]$this._Run().rc
    }
    Id = {
        return [int]$this._Run().pid
    }
    HasExited = {
        return $null -ne $this._result
    }
}
$script:OutputStreamMethods = [ordered]@{
    ReadToEndAsync = {
        $task = [pscustomobject]@{ Stream = $this }
        $task.PSObject.Properties.Add([System.Management.Automation.PSScriptProperty]::new('Result', { [string]$this.Stream.Owner._Run()[$this.Stream.Field] }))
        return $task
    }
    ReadToEnd = {
        return [string]$this.Owner._Run()[$this.Field]
    }
}
$script:InputStreamMethods = [ordered]@{
    Write = {
        param ($Text)
        [void]$this.Owner._input.Append([string]$Text)
    }
    WriteLine = {
        param ($Text)
        [void]$this.Owner._input.Append([string]$Text + "`r`n")
    }
    Flush = {
        return
    }
    Close = {
        $null = $this.Owner._Run()
    }
    Dispose = {
        $null = $this.Owner._Run()
    }
}

function Invoke-LabStopProcessTree {
    # seam Stop-ProcessTree (native_command fragment): a program the lab emulates has already done what it does when
    # its result is read, so there is nothing left to stop (its ExitCode then reads -1: Kill was called).
    param ([int]$ProcessId)
    return
}

function Invoke-LabStartNativeProcess {
    # seam Start-NativeProcess (native_command fragment): the program a ProcessStartInfo describes, run by the lab's
    # program emulations (lab/programs.py, lab/asr/*) when its standard input is closed or its result is first read.
    # The command line is what .NET Framework's Process.Start gives CreateProcess: "<FileName>" <Arguments>. The
    # exit code travels whole (a Linux process status would keep 8 bits: 3010 would read 194).
    param ([System.Diagnostics.ProcessStartInfo]$StartInfo)
    # what the script added to the child's environment (ProcessStartInfo copies this process's environment first)
    $added = @{}
    $own = [Environment]::GetEnvironmentVariables()
    foreach ($entry in $StartInfo.Environment.GetEnumerator()) {
        if ([string]$own[$entry.Key] -cne [string]$entry.Value) {
            $added[$entry.Key] = [string]$entry.Value
        }
    }
    $process = [pscustomobject]@{
        PSTypeName = 'AsrLab.Process'
        _env = $added
        _file = $StartInfo.FileName
        _arguments = $StartInfo.Arguments
        _cwd = $StartInfo.WorkingDirectory
        _input = [System.Text.StringBuilder]::new()
        _result = $null
        _killed = $false
        StandardOutput = $null
        StandardError = $null
        StandardInput = $null
    }
    Add-ScriptMethod $process $script:ProcessMethods
    foreach ($name in $script:ProcessProperties.Keys) {
        $process.PSObject.Properties.Add([System.Management.Automation.PSScriptProperty]::new($name, $script:ProcessProperties[$name]))
    }
    foreach ($field in 'stdout', 'stderr') {
        $stream = [pscustomobject]@{ Owner = $process; Field = $field }
        Add-ScriptMethod $stream $script:OutputStreamMethods
        if ($field -eq 'stdout') { $process.StandardOutput = $stream } else { $process.StandardError = $stream }
    }
    $stdin = [pscustomobject]@{ Owner = $process }
    Add-ScriptMethod $stdin $script:InputStreamMethods
    $process.StandardInput = $stdin
    return $process
}

# ---- the MARS agent's cmdlets ([6.6]) and Import-Module of its module -------------------------------------------------
function Import-Module {
    [CmdletBinding(DefaultParameterSetName = 'Name')]
    param (
        [Parameter(Mandatory = $true, Position = 0, ParameterSetName = 'Name', ValueFromPipeline = $true)][string[]]$Name,
        [switch]$Force,
        [switch]$PassThru,
        [switch]$Global,
        [string]$Prefix
    )
    process {
        foreach ($one in $Name) {
            if ($one -notmatch '[\\/]MSOnlineBackup\.psd1$') {
                $splat = @{} + $PSBoundParameters
                $splat.Name = $one
                Microsoft.PowerShell.Core\Import-Module @splat
                continue
            }
            # [6.6] SRC SetMarsProxy: <InstallPath>\bin\Modules\MSOnlineBackup\MSOnlineBackup.psd1
            $item = Invoke-LabHost -Method 'fs.item' -Arguments @{ path = $one }
            if ($null -eq $item -or [string]$item.type -ne 'file') {
                $exception = [System.IO.FileNotFoundException]::new("The specified module '$one' was not loaded because no valid module file was found in any module directory.")
                Write-CmdletError -Cmdlet $PSCmdlet -Exception $exception -ErrorId 'Modules_ModuleNotFound' -Target $one -Category ResourceUnavailable
                continue
            }
            $script:MarsModuleLoaded = $true
        }
    }
}

function Invoke-LabCmdlet {
    # A cmdlet the lab emulates from the reference (lab/asr/mars.py); its errors as terminating errors.
    param ($Cmdlet, [string]$Name, [hashtable]$Parameters)
    $answer = Invoke-LabHost -Method 'cmdlet.run' -Arguments @{ name = $Name; parameters = $Parameters }
    foreach ($message in @($answer.errors)) {
        $exception = [System.Management.Automation.RuntimeException]::new([string]$message)
        $record = [System.Management.Automation.ErrorRecord]::new($exception, "LabCmdletError,$Name", 'NotSpecified', $null)
        $Cmdlet.ThrowTerminatingError($record)
    }
    foreach ($item in @($answer.output)) {
        if ($item -is [System.Collections.IDictionary]) { [pscustomobject]$item } else { $item }
    }
}

function Get-OBMachineSetting {
    [CmdletBinding()]
    param ()
    Invoke-LabCmdlet -Cmdlet $PSCmdlet -Name 'Get-OBMachineSetting' -Parameters @{}
}

function Set-OBMachineSetting {
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'High')]
    param (
        [string]$ProxyServer,
        [Nullable[int]]$ProxyPort,
        [string]$ProxyUserName,
        [System.Security.SecureString]$ProxyPassword,
        [string[]]$BypassUrls,
        [switch]$NoProxy,
        [switch]$NoThrottle,
        $WorkDay
    )
    $parameters = @{}
    foreach ($key in $PSBoundParameters.Keys) {
        if ($key -in @('Confirm', 'WhatIf', 'Verbose', 'Debug', 'ErrorAction', 'WarningAction', 'InformationAction', 'ErrorVariable', 'WarningVariable', 'OutVariable', 'OutBuffer', 'PipelineVariable', 'InformationVariable')) {
            continue
        }
        $value = $PSBoundParameters[$key]
        if ($value -is [System.Security.SecureString]) {
            $value = [System.Net.NetworkCredential]::new('', $value).Password  # to the lab only, which keeps a digest
        }
        elseif ($value -is [switch]) {
            $value = $value.IsPresent
        }
        $parameters[$key] = $value
    }
    if (-not $PSCmdlet.ShouldProcess('MARS agent', 'Set-OBMachineSetting')) { return }
    Invoke-LabCmdlet -Cmdlet $PSCmdlet -Name 'Set-OBMachineSetting' -Parameters $parameters
}

# ---- Windows facts the diagnosis reads (lab/windows.py) ------------------------------------------------------------------
function Get-ExecutionPolicy {
    # Get-ExecutionPolicy [-Scope] [-List] (Microsoft, about_Execution_Policies): the scopes in precedence order, one
    # scope, or the effective policy -- as the host's registry and the call's powershell.exe command line set them.
    [CmdletBinding()]
    param (
        [Parameter(Position = 0)][Microsoft.PowerShell.ExecutionPolicyScope]$Scope,
        [switch]$List
    )
    $answer = Invoke-LabHost -Method 'windows.execution_policy'
    if ($List) {
        foreach ($entry in $answer.scopes) {
            [pscustomobject]@{
                PSTypeName = 'Microsoft.PowerShell.Commands.ExecutionPolicyEntry'
                Scope = [Microsoft.PowerShell.ExecutionPolicyScope][string]$entry.scope
                ExecutionPolicy = [Microsoft.PowerShell.ExecutionPolicy][string]$entry.policy
            }
        }
        return
    }
    if ($PSBoundParameters.ContainsKey('Scope')) {
        $entry = @($answer.scopes | Where-Object { $_.scope -eq [string]$Scope })[0]
        return [Microsoft.PowerShell.ExecutionPolicy][string]$entry.policy
    }
    return [Microsoft.PowerShell.ExecutionPolicy][string]$answer.effective
}

function Invoke-LabGetPowerShellVersionTable {
    # seam Get-PowerShellVersionTable: $PSVersionTable of the host's Windows PowerShell 5.1 (the worker is pwsh 7)
    $known = Invoke-LabHost -Method 'windows.version_table'
    $table = @{ PSVersion = [version]$known.version; PSEdition = [string]$known.edition }
    if ($known.clr_version) { $table.CLRVersion = [version]$known.clr_version }
    if ($known.build_version) { $table.BuildVersion = [version]$known.build_version }
    return $table
}

function Invoke-LabGetSessionCulture {
    # seam Get-SessionCulture: the host's culture and UI culture (the worker runs with the invariant culture)
    $known = Invoke-LabHost -Method 'windows.culture'
    return [ordered]@{ culture = [string]$known.culture; ui_culture = [string]$known.ui_culture }
}

function Invoke-LabGetDefenderPreference {
    # seam Get-DefenderPreference: Get-MpPreference's answer, $null where the host has no Defender
    $known = Invoke-LabHost -Method 'windows.defender'
    if ($null -eq $known) { return $null }
    return [pscustomobject]@{
        PSTypeName = 'Microsoft.Management.Infrastructure.CimInstance#ROOT/Microsoft/Windows/Defender/MSFT_MpPreference'
        AttackSurfaceReductionRules_Ids = if ($known.AttackSurfaceReductionRules_Ids) { [string[]]$known.AttackSurfaceReductionRules_Ids } else { $null }
        AttackSurfaceReductionRules_Actions = if ($known.AttackSurfaceReductionRules_Actions) { [byte[]]$known.AttackSurfaceReductionRules_Actions } else { $null }
        ExclusionPath = if ($known.ExclusionPath) { [string[]]$known.ExclusionPath } else { $null }
        ExclusionProcess = if ($known.ExclusionProcess) { [string[]]$known.ExclusionProcess } else { $null }
    }
}

# ---- the host clock ---------------------------------------------------------------------------------------------------
function Get-Date {
    [CmdletBinding(DefaultParameterSetName = 'net')]
    param (
        [Parameter(Position = 0, ValueFromPipeline = $true, ValueFromPipelineByPropertyName = $true)][Alias('LastWriteTime')][datetime]$Date,
        [Parameter(ParameterSetName = 'net')][string]$Format,
        [Parameter(ParameterSetName = 'UFormat')][string]$UFormat
    )
    process {
        if (-not $PSBoundParameters.ContainsKey('Date')) {
            $PSBoundParameters['Date'] = Get-LabNow
        }
        Microsoft.PowerShell.Utility\Get-Date @PSBoundParameters
    }
}

# ---- the seams the scripts define themselves, replaced by alias (aliases beat functions) -------------------------------
$seams = @{
    'Open-SharedFile' = 'Invoke-LabOpenSharedFile'
    'Open-FileRead' = 'Invoke-LabOpenFileRead'
    'Set-FileText' = 'Invoke-LabSetFileText'
    'Get-FileVersionInfo' = 'Invoke-LabGetFileVersionInfo'
    'New-FileSystemSecurity' = 'Invoke-LabNewFileSystemSecurity'
    'New-SidAccessRule' = 'Invoke-LabNewSidAccessRule'
    'Start-NativeProcess' = 'Invoke-LabStartNativeProcess'
    'Stop-ProcessTree' = 'Invoke-LabStopProcessTree'
    'Get-CallerToken' = 'Invoke-LabGetCallerToken'
    'New-TcpClient' = 'Invoke-LabNewTcpClient'
    'New-NamedMutex' = 'Invoke-LabNewNamedMutex'
    'Test-NamedMutex' = 'Invoke-LabTestNamedMutex'
    'Open-PartialFile' = 'Invoke-LabOpenPartialFile'
    'Close-PartialFile' = 'Invoke-LabClosePartialFile'
    'Get-SourceLength' = 'Invoke-LabGetSourceLength'
    'Open-SourceFile' = 'Invoke-LabOpenSourceFile'
    'Get-PowerShellVersionTable' = 'Invoke-LabGetPowerShellVersionTable'
    'Get-SessionCulture' = 'Invoke-LabGetSessionCulture'
    'Get-DefenderPreference' = 'Invoke-LabGetDefenderPreference'
}
foreach ($seam in $seams.Keys) {
    Set-Alias -Name $seam -Value $seams[$seam]
}

$cmdlets = @(
    'Join-Path', 'Split-Path', 'Test-Path', 'Get-Item', 'Get-ChildItem', 'Get-ItemProperty', 'Get-Content', 'Set-Content',
    'New-Item', 'Remove-Item', 'Move-Item', 'Get-Acl', 'Set-Acl', 'Get-Service', 'Get-CimInstance', 'Invoke-CimMethod',
    'Get-Process', 'Stop-Process', 'Start-Process', 'Import-Module', 'Get-OBMachineSetting', 'Set-OBMachineSetting', 'Get-Date',
    'Get-ExecutionPolicy'
)
Export-ModuleMember -Function ([string[]]($cmdlets + @($seams.Values) + 'Reset-LabShim')) -Alias ([string[]]@($seams.Keys))
