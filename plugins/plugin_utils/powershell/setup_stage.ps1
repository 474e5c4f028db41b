# asr.process_server script: setup_stage v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Stage a Unified Setup package that the controller has just transferred into the connection's temporary
# folder: move it to its staging path, verify its SHA-256 and report what the probe reports for an installer
# (size, file/product version, SHA-256), so the controller can decide with the version before setup runs.
# A file whose checksum does not match is deleted and the script fails. Windows PowerShell 5.1.
# User values arrive only as parameters (ARCHITECTURE.md decision 5); no secret is involved.
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$SourcePath,
    [Parameter(Mandatory = $true)][string]$DestinationPath,
    [string]$ExpectedSha256 = ''
)

$ErrorActionPreference = 'Stop'

function Get-FileSha256 {
    param ([string]$Path)
    $stream = [System.IO.File]::OpenRead($Path)
    try {
        $hasher = [System.Security.Cryptography.SHA256]::Create()
        return ([System.BitConverter]::ToString($hasher.ComputeHash($stream))).Replace('-', '').ToLowerInvariant()
    }
    finally {
        $stream.Dispose()
    }
}

if (-not (Test-Path -LiteralPath $SourcePath -PathType Leaf)) {
    throw "The transferred installer $SourcePath is missing on the host."
}
$parent = [System.IO.Path]::GetDirectoryName($DestinationPath)
[void][System.IO.Directory]::CreateDirectory($parent)
if (Test-Path -LiteralPath $DestinationPath -PathType Leaf) {
    Remove-Item -LiteralPath $DestinationPath -Force
}
Move-Item -LiteralPath $SourcePath -Destination $DestinationPath

$sha256 = Get-FileSha256 -Path $DestinationPath
if ($ExpectedSha256 -and $sha256 -ne $ExpectedSha256.ToLowerInvariant()) {
    Remove-Item -LiteralPath $DestinationPath -Force
    throw "The staged installer's SHA-256 is $sha256, expected $ExpectedSha256; the file was deleted (transfer corrupted?)."
}
$info = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($DestinationPath)
$Ansible.Changed = $true
$Ansible.Result = ConvertTo-Json -Compress -InputObject ([ordered]@{
        path = $DestinationPath
        exists = $true
        size_bytes = [int64](Get-Item -LiteralPath $DestinationPath).Length
        file_version = $info.FileVersion
        product_version = $info.ProductVersion
        sha256 = $sha256
    })
