# asr.process_server fragment: file_facts
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe and setup_start: what the collection reads of a file it checks (the Unified
# Setup package, a proxy settings file): its SHA-256 and the fixed part of its version resource.
function Open-FileRead {
    # Windows seam (the lab's shim and the Pester tests replace it): the file's bytes as a stream.
    param ([string]$Path)
    return [System.IO.File]::OpenRead($Path)
}

function Get-FileVersionInfo {
    # Windows seam (the lab's shim and the Pester tests replace it): the version resource of a program file.
    param ([string]$Path)
    return [System.Diagnostics.FileVersionInfo]::GetVersionInfo($Path)
}

function Get-FileSha256 {
    # Lower-case hex SHA-256 of a file's content. The Windows CryptoAPI implementation: on .NET Framework
    # [SHA256]::Create() is the managed SHA256Managed, which throws on a host whose FIPS policy is on.
    param ([string]$Path)
    $stream = Open-FileRead -Path $Path
    $hasher = New-Object -TypeName System.Security.Cryptography.SHA256CryptoServiceProvider
    try {
        return ([System.BitConverter]::ToString($hasher.ComputeHash($stream))).Replace('-', '').ToLowerInvariant()
    }
    finally {
        $hasher.Dispose()
        $stream.Dispose()
    }
}

function Get-FileFixedVersion {
    # major.minor.build.private of the version resource's fixed part (VS_FIXEDFILEINFO, what the controller reads
    # from the file too: plugin_utils/operations/installer_file.py), not FileVersion, a text that may say more (or
    # else). $null when the file has no version (all four parts 0).
    param ($Info)
    if ($null -eq $Info) {
        return $null
    }
    $parts = @([int]$Info.FileMajorPart, [int]$Info.FileMinorPart, [int]$Info.FileBuildPart, [int]$Info.FilePrivatePart)
    if (($parts | Measure-Object -Sum).Sum -eq 0) {
        return $null
    }
    return ($parts -join '.')
}

function Test-SameVersion {
    # Two versions of 2 to 4 dot-separated numbers, missing parts counting as 0 (9.55 is 9.55.0.0), as the
    # controller compares them (plugins/plugin_utils/domain/versions.py; .NET's [version] would not).
    param ([string]$Left, [string]$Right)
    $a = @($Left.Split('.') | ForEach-Object { [int]$_ }) + @(0, 0, 0, 0)
    $b = @($Right.Split('.') | ForEach-Object { [int]$_ }) + @(0, 0, 0, 0)
    for ($i = 0; $i -lt 4; $i++) {
        if ($a[$i] -ne $b[$i]) {
            return $false
        }
    }
    return $true
}
