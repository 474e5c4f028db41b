# asr.process_server script: unregister_list v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# On a CONFIGURATION SERVER: list the process servers registered with one IP address (or several, one run of the
# script each, all in this one remote call), READ-ONLY, through the documented purge script itself [5]: in
# %ProgramData%\ASR\home\svsystems\bin,
#   perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS
# prints the matching process servers (S.No, IP/Name, Heartbeat) and asks for the serial number to unregister
# (DOC includes/site-recovery-vmware-unregister-process-server.md, ms.date 08/06/2018 and 04/28/2019).
# ASSUMPTION (not documented; see plugins/plugin_utils/unregister_plan.py): when standard input is closed without
# an answer, the script purges nothing. This script answers nothing. The controller parses the listing.
# Also reports whether the host is a configuration server (Installed Products\9 CX_TYPE 1 or 3 [6.4]) and the
# CS's local time, against which the Heartbeat column is aged. rc/stdout/stderr are the first address's run,
# listings holds every address's run ({ip, rc, stdout, stderr}). Takes no secret.
# Lab mirror: lab/collection_scripts/unregister_list.py.
[CmdletBinding(SupportsShouldProcess)]
param (
    [Parameter(Mandatory = $true)][string[]]$IpAddress
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

# asr.process_server include: unregister_context
$context = Get-UnregisterContext
$result = $context.Result
$result.listings = @()
if ($result.is_configuration_server -and $result.script_present) {
    foreach ($ip in $IpAddress) {
        # perl is on the PATH of a configuration server (Dependencies, [6.2]); no answer to the prompt.
        $arguments = @($context.ScriptName, '-IPAddress', $ip, '-Component', 'PS')
        # read-only: the purge script lists the matching process servers and, its prompt answered by end of input, purges none [5] (ASSUMED, see above)
        $listing = Invoke-NativeCommand -FilePath 'perl.exe' -ArgumentList $arguments -WorkingDirectory $context.BinDir
        $result.listings += [ordered]@{ ip = $ip; rc = $listing.rc; stdout = $listing.stdout; stderr = $listing.stderr }
    }
    $result.rc = $result.listings[0].rc
    $result.stdout = $result.listings[0].stdout
    $result.stderr = $result.listings[0].stderr
}
$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 4 -Compress
