# asr.process_server fragment: shared_text
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into probe and setup_poll: reading the logs and status files Unified Setup keeps open.
function Read-SharedText {
    # Read a file another process may hold open for writing (setup writes its log while running).
    param ([string]$Path)
    $stream = [System.IO.File]::Open($Path, [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::ReadWrite)
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $stream
        return $reader.ReadToEnd()
    }
    finally {
        $stream.Dispose()
    }
}
