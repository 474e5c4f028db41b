# asr.process_server fragment: unregister_context
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script into unregister_list and unregister_purge: the configuration-server context both start from.
function Get-UnregisterContext {
    # Where the configuration server's purge script lives [5], whether this host is a configuration server
    # (Installed Products\9 CX_TYPE 1 or 3 [6.4]), its local time (the Heartbeat column is aged against it), and the
    # result both scripts start from. A function, so that the fragment read on its own assigns nothing unused.
    $binDir = Join-Path -Path $env:ProgramData -ChildPath 'ASR\home\svsystems\bin'
    $scriptName = 'Unregister-ASRComponent.pl'
    $cxType = $null
    $key = Get-Item -LiteralPath 'HKLM:\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9' -ErrorAction SilentlyContinue
    if ($null -ne $key) {
        $cxType = $key.GetValue('CX_TYPE', $null)
    }
    return @{
        BinDir = $binDir
        ScriptName = $scriptName
        Result = [ordered]@{
            is_configuration_server = ($null -ne $cxType -and @(1, 3) -contains [int]$cxType)
            bin_dir = $binDir
            script_present = (Test-Path -LiteralPath (Join-Path -Path $binDir -ChildPath $scriptName) -PathType Leaf)
            now_local = (Get-Date).ToString('yyyy-MM-dd HH:mm:ss', [System.Globalization.CultureInfo]::InvariantCulture)
            rc = $null
            stdout = $null
            stderr = $null
        }
    }
}
