# asr.process_server fragment: shared_text
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe, setup_poll, uninstall_step and registration_read: reading the logs, status and
# configuration files Unified Setup, Windows Installer and the product's services keep open.
function Open-SharedFile {
    # Windows seam (the lab's shim and the Pester tests replace it): open a file for reading that another process
    # may hold open for writing.
    param ([string]$Path)
    # ReadWrite and Delete: the writer keeps writing, and may rename or delete the file (setup rotates its log)
    $share = [System.IO.FileShare]::ReadWrite -bor [System.IO.FileShare]::Delete
    return [System.IO.File]::Open($Path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, $share)
}

function Read-SharedText {
    # Read a file another process may hold open for writing (setup writes its log while running). StreamReader
    # detects the encoding from the byte order mark (Windows Installer logs may be UTF-16).
    param ([string]$Path)
    $stream = Open-SharedFile -Path $Path
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream, $true
        return $reader.ReadToEnd()
    }
    finally {
        $stream.Dispose()
    }
}
