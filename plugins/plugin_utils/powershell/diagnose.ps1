# asr.process_server script: diagnose v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The diagnosis of a first real host, in ONE read-only remote call (asr.process_server.info with diagnose: true;
# playbooks/diagnose.yml writes it to a file for a bug report and for the lab to import as a seed): the survey every
# module starts from (the survey fragment, as probe.ps1 makes it) plus what no document settles and the collection
# depends on. Section numbers [x.y] refer to reference/asr-process-server.md; [UNCONFIRMED] marks what the reference
# could not confirm and this call records as the host has it:
#   * the shape of Get-OBMachineSetting's result (property names and types, never a value) and whether the MARS
#     agent keeps its proxy in the registry (value names only) [6.6];
#   * the package's version string and its four fixed version parts (the installer check compares the parts);
#   * FIPS policy and execution policies at every scope, group policy included ([2.1]: FIPS mode off, no "Turn on
#     Script Execution" policy), the .NET Framework release and version [1.3], Defender's attack surface reduction
#     rules (setup_start starts its runner through WMI), PowerShell version/edition/CLR, OS build and locale [2.1];
#   * the Add/Remove Programs entries of the ASR products as they are (key names, UninstallString,
#     QuietUninstallString, value names) [6.1], the InMage "Installed Products" keys [6.4], the services [6.3];
#   * where drscout.conf really is [6.5], amethyst.conf's and cxps.conf's key NAMES [6.5], the setup logs present [1.5];
#   * on a configuration server, whether the documented svsdb1 read [5] answers with the credentials at hand (the
#     svsdb_read fragment registration_read uses: one SELECT in a READ ONLY transaction).
# It changes nothing, in check mode or not (SupportsShouldProcess lets win_powershell run it in check mode). The only
# program it starts is mysql.exe for that SELECT; it never starts Unregister-ASRComponent.pl or anything else. No
# secret leaves it: configuration files and policy values are reported by NAME, MARS settings by shape, and every
# string is scrubbed of the secrets this host keeps in amethyst.conf and the ProxySettings key (Protect-SecretText).
# Each part is read on its own: a part that fails is reported with its error and the rest goes on.
# The lab runs this text under pwsh (lab/scripts.py, ARCHITECTURE.md decision 8).
# asr.process_server include: survey_parameters

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: shared_text

# asr.process_server include: file_facts

# asr.process_server include: native_command

# asr.process_server include: secure_text

# asr.process_server include: svsdb_read

# asr.process_server include: uninstall_keys

# asr.process_server include: survey

# ---- helpers ----------------------------------------------------------------------------------------------
function Invoke-DiagnosisPart {
    # One part of the diagnosis; a part that fails is reported with its error, and the others are still read.
    param ([scriptblock]$Part)
    try {
        return (& $Part)
    }
    catch {
        return [ordered]@{ error = $_.Exception.GetBaseException().Message }
    }
}

function ConvertTo-RegistryDisplayPath {
    # HKLM:\x -> HKLM\x, as the reference and reg.exe write registry keys.
    param ([string]$Path)
    return ($Path -replace '^(HK[A-Z]+):\\', '$1\')
}

function Get-ValueState {
    # What a value holds, without the value: null, empty or set.
    param ($Value)
    if ($null -eq $Value) {
        return 'null'
    }
    if ([string]::IsNullOrEmpty([string]$Value)) {
        return 'empty'
    }
    return 'set'
}

function Get-ObjectShape {
    # The type names and the properties (name, declared and runtime type, null/empty/set) of what a command returned;
    # never a value.
    param ($Value)
    $items = @($Value | Where-Object { $null -ne $_ })
    $shape = [ordered]@{ count = $items.Count; type_names = @(); properties = @() }
    if ($items.Count -eq 0) {
        return $shape
    }
    $first = $items[0]
    $shape.type_names = @($first.PSObject.TypeNames | ForEach-Object { [string]$_ })
    $properties = [System.Collections.Generic.List[object]]@()
    foreach ($property in @($first.PSObject.Properties)) {
        $held = $null
        try {
            $held = $property.Value
        }
        catch {
            $held = $null  # a property whose getter throws is reported as null
        }
        $properties.Add([ordered]@{
                name = [string]$property.Name
                type = [string]$property.TypeNameOfValue
                value_type = if ($null -eq $held) { $null } else { $held.GetType().FullName }
                value = Get-ValueState -Value $held
            })
    }
    $shape.properties = $properties.ToArray()
    return $shape
}

function Get-ConfKeyName {
    # The key NAMES of a KEY = "value" file [6.5] (amethyst.conf, cxps.conf, drscout.conf), "section/KEY" inside an
    # [section]; never a value.
    param ([string]$Path)
    $result = [ordered]@{ path = $Path; present = $false; error = $null; key_names = @() }
    $text = Read-ReportedText -Result $result -Path $Path
    if ($null -eq $text) {
        return $result
    }
    $names = [System.Collections.Generic.List[string]]@()
    $section = ''
    foreach ($line in (Split-Line -Text $text)) {
        $header = [regex]::Match($line, '^\s*\[([^\]]+)\]\s*$')
        if ($header.Success) {
            $section = $header.Groups[1].Value.Trim()
            continue
        }
        $m = [regex]::Match($line, '^\s*([A-Za-z0-9_.\- ]*[A-Za-z0-9_.\-])\s*=')
        if (-not $m.Success -or $line.TrimStart().StartsWith('#') -or $line.TrimStart().StartsWith(';')) {
            continue
        }
        $name = if ($section) { $section + '/' + $m.Groups[1].Value } else { $m.Groups[1].Value }
        if (-not $names.Contains($name)) {
            $names.Add($name)
        }
    }
    $result.key_names = $names.ToArray()
    return $result
}

function Find-RegistryValueName {
    # Values whose NAME matches a pattern under a key and its subkeys (to a depth): key, name and kind, never the data.
    param ([string]$Root, [string]$Pattern, [int]$Depth)
    $found = [System.Collections.Generic.List[object]]@()
    $pending = [System.Collections.Generic.Queue[object]]::new()
    $pending.Enqueue(@($Root, 0))
    while ($pending.Count -gt 0) {
        $next = $pending.Dequeue()
        $path = [string]$next[0]
        $level = [int]$next[1]
        $key = Get-Item -LiteralPath $path -ErrorAction SilentlyContinue
        if ($null -eq $key) {
            continue
        }
        foreach ($name in @($key.GetValueNames() | Sort-Object)) {
            if ($name -match $Pattern) {
                $found.Add([ordered]@{
                        registry_key = ConvertTo-RegistryDisplayPath -Path $path
                        value_name = [string]$name
                        kind = [string]$key.GetValueKind($name)
                    })
            }
        }
        if ($level -lt $Depth) {
            foreach ($child in @(Get-ChildItem -LiteralPath $path -ErrorAction SilentlyContinue)) {
                $pending.Enqueue(@(($path.TrimEnd('\') + '\' + $child.PSChildName), ($level + 1)))
            }
        }
    }
    return , $found.ToArray()
}

# ---- Windows seams (the lab's shim and the Pester tests replace them) -------------------------------------------
function Get-PowerShellVersionTable {
    # Windows seam: $PSVersionTable of the host's Windows PowerShell (the lab runs under PowerShell 7).
    return $PSVersionTable
}

function Get-SessionCulture {
    # Windows seam: the culture and UI culture of this session (the lab's pwsh has Linux's).
    return [ordered]@{
        culture = [System.Globalization.CultureInfo]::CurrentCulture.Name
        ui_culture = [System.Globalization.CultureInfo]::CurrentUICulture.Name
    }
}

function Get-DefenderPreference {
    # Windows seam: Microsoft Defender's preferences (Get-MpPreference), or $null where the Defender module is absent
    # (Windows Server 2012 R2, or the feature removed).
    if ($null -eq (Get-Command -Name 'Get-MpPreference' -ErrorAction SilentlyContinue)) {
        return $null
    }
    return Get-MpPreference
}

# ---- the parts of the diagnosis ---------------------------------------------------------------------------
function Get-PowerShellFact {
    # The host's PowerShell: version, edition, CLR (win_powershell runs the scripts in it; the target is 5.1 on .NET
    # Framework 4.5+), the language mode (a ConstrainedLanguage policy would stop the scripts) and the bitness.
    $table = Get-PowerShellVersionTable
    return [ordered]@{
        version = [string]$table['PSVersion']
        edition = if ($table.ContainsKey('PSEdition')) { [string]$table['PSEdition'] } else { $null }
        clr_version = if ($null -ne $table['CLRVersion']) { [string]$table['CLRVersion'] } else { $null }
        build_version = if ($null -ne $table['BuildVersion']) { [string]$table['BuildVersion'] } else { $null }
        language_mode = [string]$ExecutionContext.SessionState.LanguageMode
        is_64bit_process = [System.Environment]::Is64BitProcess
    }
}

function Get-OsBuildFact {
    # OS build and locale ([2.1]: an English (en-*) locale): Win32_OperatingSystem, the update build revision and
    # the session's culture.
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    $current = 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
    $culture = Get-SessionCulture
    return [ordered]@{
        caption = [string]$os.Caption
        version = [string]$os.Version
        build_number = [string]$os.BuildNumber
        update_build_revision = Get-RegistryValue -Path $current -Name 'UBR'
        edition_id = Get-RegistryValue -Path $current -Name 'EditionID'
        installation_type = Get-RegistryValue -Path $current -Name 'InstallationType'
        os_language = if ($null -ne $os.OSLanguage) { [int]$os.OSLanguage } else { $null }
        locale = [string]$os.Locale
        mui_languages = @($os.MUILanguages | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
        culture = $culture.culture
        ui_culture = $culture.ui_culture
    }
}

function Get-FipsPolicy {
    # [2.1] "FIPS mode must be off": the policy .NET and Windows read (Enabled 1 = on).
    $path = 'HKLM:\System\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy'
    $enabled = Get-RegistryValue -Path $path -Name 'Enabled'
    return [ordered]@{ registry_key = ConvertTo-RegistryDisplayPath -Path $path; enabled = if ($null -ne $enabled) { [int]$enabled } else { $null } }
}

function Get-ExecutionPolicyFact {
    # Every scope in precedence order (Get-ExecutionPolicy -List), the effective policy, and the group policy values
    # behind MachinePolicy/UserPolicy ([2.1]: do not enable "Turn on Script Execution").
    $scopes = [System.Collections.Generic.List[object]]@()
    foreach ($entry in @(Get-ExecutionPolicy -List)) {
        $scopes.Add([ordered]@{ scope = [string]$entry.Scope; policy = [string]$entry.ExecutionPolicy })
    }
    $policies = [System.Collections.Generic.List[object]]@()
    foreach ($hive in @('HKLM', 'HKCU')) {
        $path = $hive + ':\SOFTWARE\Policies\Microsoft\Windows\PowerShell'
        $key = Get-Item -LiteralPath $path -ErrorAction SilentlyContinue
        $enable = $null
        $policy = $null
        if ($null -ne $key) {
            $enable = $key.GetValue('EnableScripts', $null)
            $policy = $key.GetValue('ExecutionPolicy', $null)
        }
        $policies.Add([ordered]@{
                registry_key = ConvertTo-RegistryDisplayPath -Path $path
                present = ($null -ne $key)
                enable_scripts = if ($null -ne $enable) { [int]$enable } else { $null }
                execution_policy = if ($null -ne $policy) { [string]$policy } else { $null }
            })
    }
    return [ordered]@{ effective = [string](Get-ExecutionPolicy); scopes = $scopes.ToArray(); group_policy = $policies.ToArray() }
}

function Get-DotNetFact {
    # [1.3] Unified Setup needs .NET Framework 4.6.2+: the release number and the version text of NDP\v4\Full.
    $path = 'HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full'
    $release = Get-RegistryValue -Path $path -Name 'Release'
    $version = Get-RegistryValue -Path $path -Name 'Version'
    return [ordered]@{
        release = if ($null -ne $release) { [int]$release } else { $null }
        version = if ($null -ne $version) { [string]$version } else { $null }
    }
}

function Get-DefenderFact {
    # Defender's attack surface reduction rules (ids and actions as Get-MpPreference lists them) and exclusions; the
    # rule that blocks process creation through WMI would stop setup_start's runner (Win32_Process.Create).
    $result = [ordered]@{ present = $false; error = $null; attack_surface_reduction_rules = @(); exclusion_paths = @(); exclusion_processes = @() }
    try {
        $preference = Get-DefenderPreference
    }
    catch {
        $result.present = $true
        $result.error = $_.Exception.GetBaseException().Message
        return $result
    }
    if ($null -eq $preference) {
        return $result
    }
    $result.present = $true
    $ids = @($preference.AttackSurfaceReductionRules_Ids | Where-Object { $null -ne $_ })
    $actions = @($preference.AttackSurfaceReductionRules_Actions | Where-Object { $null -ne $_ })
    $rules = [System.Collections.Generic.List[object]]@()
    for ($i = 0; $i -lt $ids.Count; $i++) {
        $rules.Add([ordered]@{ id = ([string]$ids[$i]).ToLowerInvariant(); action = if ($i -lt $actions.Count) { [int]$actions[$i] } else { $null } })
    }
    $result.attack_surface_reduction_rules = $rules.ToArray()
    $result.exclusion_paths = @($preference.ExclusionPath | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
    $result.exclusion_processes = @($preference.ExclusionProcess | Where-Object { $null -ne $_ } | ForEach-Object { [string]$_ })
    return $result
}

function Get-MarsDiagnosis {
    # [6.6] [UNCONFIRMED] the shape of Get-OBMachineSetting's result and where the agent persists its proxy: property
    # names and types of the result, and the registry values under Windows Azure Backup whose name mentions a proxy.
    $root = 'HKLM:\SOFTWARE\Microsoft\Windows Azure Backup'
    $installPath = Get-RegistryValue -Path ($root + '\Setup') -Name 'InstallPath'
    $result = [ordered]@{ install_path = $installPath; module_present = $false; machine_setting = $null; error = $null; proxy_values = @() }
    $result.proxy_values = Find-RegistryValueName -Root $root -Pattern 'proxy' -Depth 3
    $psd1 = Find-MarsModule -InstallPath $installPath
    if (-not $psd1) {
        return $result
    }
    try {
        $result.machine_setting = Get-ObjectShape -Value (Read-MarsMachineSetting -Result $result -Module $psd1)
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
    }
    return $result
}

function Get-PackageFact {
    # The package's version resource: the version TEXT (FileVersion, ProductVersion) and the four fixed parts of each
    # (VS_FIXEDFILEINFO), which the collection compares; they need not say the same.
    param ([string]$Path)
    $result = [ordered]@{
        path = $Path; exists = $false; error = $null; file_version = $null; product_version = $null
        file_version_parts = $null; product_version_parts = $null
    }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $result
    }
    $result.exists = $true
    try {
        $info = Get-FileVersionInfo -Path $Path
        $result.file_version = $info.FileVersion
        $result.product_version = $info.ProductVersion
        $result.file_version_parts = @([int]$info.FileMajorPart, [int]$info.FileMinorPart, [int]$info.FileBuildPart, [int]$info.FilePrivatePart)
        $result.product_version_parts = @([int]$info.ProductMajorPart, [int]$info.ProductMinorPart, [int]$info.ProductBuildPart, [int]$info.ProductPrivatePart)
    }
    catch {
        $result.error = $_.Exception.GetBaseException().Message
    }
    return $result
}

function Get-UninstallDiagnosis {
    # [6.1] [UNCONFIRMED] Inno uninstall key names: every Add/Remove Programs entry of the ASR products and their
    # relatives as it is -- key name, every value NAME, and the values that say how it uninstalls.
    param ([string[]]$Names)
    $shown = @('DisplayName', 'DisplayVersion', 'Publisher', 'InstallLocation', 'UninstallString', 'QuietUninstallString',
        'ModifyPath', 'WindowsInstaller', 'SystemComponent', 'NoModify', 'NoRemove', 'Inno Setup: App Path',
        'Inno Setup: Setup Version', 'Inno Setup: Language')
    $entries = [System.Collections.Generic.List[object]]@()
    foreach ($found in (Find-UninstallKey -Names $Names)) {
        $key = $found.Key
        $valueNames = @($key.GetValueNames() | Sort-Object)
        $values = [ordered]@{}
        foreach ($name in $shown) {
            if ($valueNames -contains $name) {
                $values[$name] = [string]$key.GetValue($name, $null)
            }
        }
        $entries.Add([ordered]@{
                registry_key = (ConvertTo-RegistryDisplayPath -Path $found.Root) + '\' + $key.PSChildName
                key_name = [string]$key.PSChildName
                value_names = $valueNames
                values = $values
            })
    }
    return [ordered]@{ entries = $entries.ToArray() }
}

function Get-InstalledProductKey {
    # [6.4] the InMage "Installed Products" subkeys (9 CS/PS, 10 Dependencies, and whichever others setup writes):
    # each with its value names and the values that name and version the product.
    $root = 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products'
    $shown = @('Product_Name', 'Build_Version', 'Version', 'CX_TYPE', 'InstallDirectory', 'Proxy_Type')
    $keys = [System.Collections.Generic.List[object]]@()
    foreach ($key in @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
        $valueNames = @($key.GetValueNames() | Sort-Object)
        $values = [ordered]@{}
        foreach ($name in $shown) {
            if ($valueNames -contains $name) {
                $values[$name] = [string]$key.GetValue($name, $null)
            }
        }
        $keys.Add([ordered]@{ key_name = [string]$key.PSChildName; value_names = $valueNames; values = $values })
    }
    # [6.4] the proxy setup and registration use: its value NAMES (the survey leaves out those naming a password)
    $proxyKey = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings' -ErrorAction SilentlyContinue
    $proxyNames = $null
    if ($null -ne $proxyKey) {
        $proxyNames = @($proxyKey.GetValueNames() | Sort-Object)  # a variable keeps a one-name list a list
    }
    return [ordered]@{ installed_products = $keys.ToArray(); proxy_settings_value_names = $proxyNames }
}

function Get-ServiceDiagnosis {
    # [6.3] the services as Windows has them: the expected names plus every service whose name, display name or
    # program path mentions a related name -- name, state, start mode, delayed start, account and program path.
    param ([string[]]$Expected, [string[]]$Related)
    $services = [System.Collections.Generic.List[object]]@()
    $seen = [System.Collections.Generic.List[string]]@()
    foreach ($svc in @(Get-CimInstance -ClassName Win32_Service)) {
        $name = [string]$svc.Name
        $texts = @($name, [string]$svc.DisplayName, [string]$svc.PathName)
        $isRelated = @($texts | Where-Object { Test-NameMatch -Name $_ -Candidates $Related }).Count -gt 0
        if (-not ($Expected -contains $name) -and -not $isRelated) {
            continue
        }
        $seen.Add($name.ToLowerInvariant())
        $delayed = Get-RegistryValue -Path ('HKLM:\SYSTEM\CurrentControlSet\Services\' + $name) -Name 'DelayedAutostart'
        $services.Add([ordered]@{
                name = $name
                display_name = [string]$svc.DisplayName
                state = [string]$svc.State
                start_mode = [string]$svc.StartMode
                delayed_auto_start = ($delayed -eq 1)
                start_name = [string]$svc.StartName
                path_name = [string]$svc.PathName
            })
    }
    $missing = @($Expected | Where-Object { -not $seen.Contains($_.ToLowerInvariant()) })
    return [ordered]@{ services = $services.ToArray(); missing = $missing }
}

function New-DrscoutCandidate {
    # A place drscout.conf may be: <agent folder>\Application Data\etc\drscout.conf [6.5] (the path SRC gives relative).
    param ([string]$Source, [string]$Folder)
    return [ordered]@{ source = $Source; path = Join-Path -Path $Folder -ChildPath 'Application Data\etc\drscout.conf'; exists = $false }
}

function Get-DrscoutLocation {
    # [6.5] [UNCONFIRMED] drscout.conf's absolute path: each place the reference names, whether it is there, and the
    # key names of the first one that is.
    param ($Survey, $Uninstall)
    $candidates = [System.Collections.Generic.List[object]]@()
    $target = $Survey.asr_junction.target
    if ($target) {
        $candidates.Add((New-DrscoutCandidate -Source '<InstallLocation>\agent [6.5]' -Folder (Join-Path -Path $target -ChildPath 'agent')))
    }
    $candidates.Add((New-DrscoutCandidate -Source '%ProgramData%\ASR\Agent [3.3]' -Folder (Join-Path -Path $env:ProgramData -ChildPath 'ASR\Agent')))
    foreach ($entry in @($Uninstall.entries)) {
        $location = $entry.values['InstallLocation']
        if ($location -and $entry.values['DisplayName'] -match 'Master Target') {
            $candidates.Add((New-DrscoutCandidate -Source 'Mobility Service/Master Target InstallLocation [6.1]' -Folder $location))
        }
    }
    $programFiles = [System.Environment]::GetEnvironmentVariable('ProgramFiles(x86)')
    if ($programFiles) {
        $folder = Join-Path -Path $programFiles -ChildPath 'Microsoft Azure Site Recovery'
        $candidates.Add((New-DrscoutCandidate -Source 'older documentation [6.5]' -Folder $folder))
    }
    $found = $null
    foreach ($candidate in $candidates) {
        $candidate.exists = Test-Path -LiteralPath $candidate.path -PathType Leaf
        if ($candidate.exists -and $null -eq $found) {
            $found = $candidate.path
        }
    }
    $file = $null
    if ($found) {
        $file = Get-ConfKeyName -Path $found
    }
    return [ordered]@{ candidates = $candidates.ToArray(); found = $found; file = $file }
}

function Get-SetupLogListing {
    # [1.5] the setup logs present (names, sizes, times), for a bug report to say which to attach; never their text.
    $folder = Join-Path -Path $env:ProgramData -ChildPath 'ASRSetupLogs'
    $files = [System.Collections.Generic.List[object]]@()
    foreach ($item in @(Get-ChildItem -LiteralPath $folder -ErrorAction SilentlyContinue | Sort-Object -Property Name)) {
        if ($item.PSIsContainer) {
            continue
        }
        $files.Add([ordered]@{
                name = [string]$item.Name
                size_bytes = [int64]$item.Length
                modified = ConvertTo-IsoUtc -Value $item.LastWriteTimeUtc
            })
    }
    return [ordered]@{ folder = $folder; files = $files.ToArray() }
}

# ---- secrets ----------------------------------------------------------------------------------------------
function Get-SecretValue {
    # The secrets this host keeps where the diagnosis looks (amethyst.conf's passwords [6.5], the ProxySettings
    # password [6.4]), read ONLY to scrub them from the diagnosis; they never leave this function's caller.
    $secrets = [System.Collections.Generic.List[string]]@()
    $amethyst = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems\etc\amethyst.conf'
    if (Test-Path -LiteralPath $amethyst -PathType Leaf) {
        try {
            foreach ($line in (Split-Line -Text (Read-SharedText -Path $amethyst))) {
                $m = [regex]::Match($line, '^\s*([A-Za-z0-9_]+)\s*=\s*"?(.*?)"?\s*$')
                if ($m.Success -and $m.Groups[1].Value -match '(?i)pass|pwd|secret|token' -and $m.Groups[2].Value) {
                    $secrets.Add($m.Groups[2].Value)
                }
            }
        }
        catch {
            $secrets.Clear()  # unreadable: the diagnosis reports the file as unreadable and reads no value of it
        }
    }
    $proxy = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings' -ErrorAction SilentlyContinue
    if ($null -ne $proxy) {
        foreach ($name in @($proxy.GetValueNames())) {
            $value = [string]$proxy.GetValue($name, $null)
            if ($name -match '(?i)pass' -and $value) {
                $secrets.Add($value)
            }
        }
    }
    return , $secrets.ToArray()
}

function Protect-SecretText {
    # Every string in a result (dictionaries and lists walked) with each secret replaced by ********: a whole string
    # equal to one, and any string containing one of 6 characters or more (shorter ones would hit innocent text).
    param ($Value, [string[]]$Scrubbed)
    if ($null -eq $Value -or $Scrubbed.Count -eq 0) {
        return , $Value
    }
    if ($Value -is [string]) {
        $text = $Value
        foreach ($secret in $Scrubbed) {
            if ($text -ceq $secret) {
                return '********'
            }
            if ($secret.Length -ge 6) {
                $text = $text.Replace($secret, '********')
            }
        }
        return $text
    }
    if ($Value -is [System.Collections.IDictionary]) {
        # PSBase: an entry named 'keys' must not hide the dictionary's own Keys
        foreach ($key in @($Value.PSBase.Keys)) {
            $Value[$key] = Protect-SecretText -Value $Value[$key] -Scrubbed $Scrubbed
        }
        return , $Value
    }
    if ($Value -is [System.Collections.IList] -and -not $Value.IsReadOnly) {
        for ($i = 0; $i -lt $Value.Count; $i++) {
            $Value[$i] = Protect-SecretText -Value $Value[$i] -Scrubbed $Scrubbed
        }
    }
    return , $Value
}

# ---- the diagnosis ----------------------------------------------------------------------------------------
$diagnosis = [ordered]@{ diagnose = 'diagnose v1' }
$diagnosis.survey = Invoke-DiagnosisPart { Get-Survey }
$diagnosis.powershell = Invoke-DiagnosisPart { Get-PowerShellFact }
$diagnosis.os = Invoke-DiagnosisPart { Get-OsBuildFact }
$diagnosis.fips = Invoke-DiagnosisPart { Get-FipsPolicy }
$diagnosis.execution_policy = Invoke-DiagnosisPart { Get-ExecutionPolicyFact }
$diagnosis.dotnet_framework = Invoke-DiagnosisPart { Get-DotNetFact }
$diagnosis.defender = Invoke-DiagnosisPart { Get-DefenderFact }
$diagnosis.mars = Invoke-DiagnosisPart { Get-MarsDiagnosis }
$diagnosis.package = $null
if ($InstallerPath) {
    $diagnosis.package = Invoke-DiagnosisPart { Get-PackageFact -Path $InstallerPath }
}
$diagnosis.uninstall = Invoke-DiagnosisPart { Get-UninstallDiagnosis -Names (@($ProductNames) + @($RelatedNames)) }
$diagnosis.registry = Invoke-DiagnosisPart { Get-InstalledProductKey }
$diagnosis.services = Invoke-DiagnosisPart { Get-ServiceDiagnosis -Expected $ServiceNames -Related $RelatedNames }
$svsystems = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems'
$diagnosis.amethyst_conf = Invoke-DiagnosisPart { Get-ConfKeyName -Path (Join-Path -Path $svsystems -ChildPath 'etc\amethyst.conf') }
$diagnosis.cxps_conf = Invoke-DiagnosisPart { Get-ConfKeyName -Path (Join-Path -Path $svsystems -ChildPath 'transport\cxps.conf') }
$diagnosis.drscout_conf = Invoke-DiagnosisPart { Get-DrscoutLocation -Survey $diagnosis.survey -Uninstall $diagnosis.uninstall }
$diagnosis.setup_logs = Invoke-DiagnosisPart { Get-SetupLogListing }
# On a configuration server: the svsdb_read fragment, as registration_read makes it (elsewhere it starts nothing).
# read-only: starts only mysql.exe, for one SELECT inside a READ ONLY transaction [5]
$diagnosis.configuration_server_database = Invoke-DiagnosisPart { Read-RegistrationTable }

$diagnosis = Protect-SecretText -Value $diagnosis -Scrubbed (Get-SecretValue)
$Ansible.Result = ConvertTo-Json -InputObject $diagnosis -Depth 12 -Compress
