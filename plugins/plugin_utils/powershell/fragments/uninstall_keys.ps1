# asr.process_server fragment: uninstall_keys
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe, diagnose (with the survey fragment, which reads through it) and uninstall_step:
# the Add/Remove Programs entries of the products asked for [6.1] (setup matches DisplayName "contains" under
# Wow6432Node; the native view is read as well).
function Test-NameMatch {
    param ([string]$Name, [string[]]$Candidates)
    foreach ($candidate in $Candidates) {
        if ($Name.IndexOf($candidate, [System.StringComparison]::OrdinalIgnoreCase) -ge 0) {
            return $true
        }
    }
    return $false
}

function Find-UninstallKey {
    # The entries (both registry views) whose DisplayName contains one of Names: each key with the root it is under.
    param ([string[]]$Names)
    $roots = @(
        'HKLM:\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall',
        'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall'
    )
    $found = [System.Collections.Generic.List[object]]@()
    foreach ($root in $roots) {
        foreach ($key in @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue)) {
            $displayName = $key.GetValue('DisplayName', $null)
            if ($displayName -and (Test-NameMatch -Name $displayName -Candidates $Names)) {
                $found.Add([pscustomobject]@{ Root = $root; Key = $key; DisplayName = [string]$displayName })
            }
        }
    }
    return , $found.ToArray()
}
