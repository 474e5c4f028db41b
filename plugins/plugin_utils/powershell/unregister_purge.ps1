# asr.process_server script: unregister_purge v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# On a CONFIGURATION SERVER: purge ONE disconnected process server [5]: in %ProgramData%\ASR\home\svsystems\bin,
#   perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS
# then answer the script's prompt with the serial number (S.No) of the row the controller chose from the listing
# (DOC includes/site-recovery-vmware-unregister-process-server.md, ms.date 08/06/2018 and 04/28/2019: list, enter
# the S.No, "Successfully unregistered <server-name> (<server-IP-address>)").
# Guard: the listing is read again first (standard input closed, ASSUMED to purge nothing, see
# plugins/plugin_utils/unregister_plan.py) and the purge is only answered when the row with that S.No still names
# the same IP address; otherwise nothing is purged and the controller is told. Takes no secret.
# Lab mirror: lab/collection_scripts/unregister_purge.py.
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)][string]$IpAddress,
    [Parameter(Mandatory = $true)][int]$SerialNumber
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: native_command

# asr.process_server include: unregister_context
$context = Get-UnregisterContext
$result = $context.Result
$arguments = @($context.ScriptName, '-IPAddress', $IpAddress, '-Component', 'PS')
$result.listing_matches = $false
if ($result.is_configuration_server -and $result.script_present) {
    $listing = Invoke-NativeCommand -FilePath 'perl.exe' -ArgumentList $arguments -WorkingDirectory $context.BinDir
    $row = '^\s*' + $SerialNumber + '[.):|-]?\s+.*(?<![\d.])' + [regex]::Escape($IpAddress) + '(?![\d.])'
    foreach ($line in @($listing.stdout -split "\r\n|\n|\r")) {
        if ($line -match $row) {
            $result.listing_matches = $true
        }
    }
    if ($result.listing_matches) {
        $Ansible.Changed = $true
        $purge = Invoke-NativeCommand -FilePath 'perl.exe' -ArgumentList $arguments -WorkingDirectory $context.BinDir -InputText ("$SerialNumber" + "`r`n")
        $result.rc = $purge.rc
        $result.stdout = $purge.stdout
        $result.stderr = $purge.stderr
    }
    else {
        $result.rc = $listing.rc
        $result.stdout = $listing.stdout
        $result.stderr = $listing.stderr
    }
}
$Ansible.Result = ConvertTo-Json -InputObject $result -Depth 4 -Compress
