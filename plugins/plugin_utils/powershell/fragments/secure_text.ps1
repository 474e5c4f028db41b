# asr.process_server fragment: secure_text
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into setup_start, package_stage, registration_read and diagnose: the one way the scripts
# turn a secret that arrived as a SecureString (win_powershell sensitive_parameters) into text for its one use.
function ConvertFrom-SecureText {
    # The plain text of a SecureString, for the caller's one use (a protected file, a child's environment, the
    # runner's spec); the unmanaged copy is zeroed and freed at once.
    param ([System.Security.SecureString]$Value)
    $bstr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($Value)
    try {
        return [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($bstr)
    }
    finally {
        [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($bstr)
    }
}
