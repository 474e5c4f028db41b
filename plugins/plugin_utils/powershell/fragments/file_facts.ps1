# asr.process_server fragment: file_facts
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe and setup_start: what the collection reads of a file it checks (the Unified
# Setup package, a proxy settings file): its SHA-256 and its version resource.
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
    # Lower-case hex SHA-256 of a file's content.
    param ([string]$Path)
    $stream = Open-FileRead -Path $Path
    try {
        $hasher = [System.Security.Cryptography.SHA256]::Create()
        return ([System.BitConverter]::ToString($hasher.ComputeHash($stream))).Replace('-', '').ToLowerInvariant()
    }
    finally {
        $stream.Dispose()
    }
}
