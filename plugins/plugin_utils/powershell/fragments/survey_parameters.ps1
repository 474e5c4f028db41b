# asr.process_server fragment: survey_parameters
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Spliced by load_script at the top of probe and diagnose: the one param block of the two scripts that make the
# survey (Get-Survey, in the survey fragment, reads these parameters). RelatedNames is diagnose's own; probe declares
# it with the rest and does not read it (the controller never sends it to probe).
[CmdletBinding(SupportsShouldProcess)]
param (
    # Add/Remove Programs DisplayNames to report (matched by "contains", case-insensitive) [6.1].
    [string[]]$ProductNames = @(),
    # Windows service names to report [6.3].
    [string[]]$ServiceNames = @(),
    # Optional check: TCP reachability of the configuration server (its port is 443 [1.3]).
    [string]$ConfigurationServerIp = '',
    [int]$ConfigurationServerPort = 443,
    [int]$ConnectTimeoutMs = 3000,
    # Optional check: an installer on the host (existence, file version, size, optionally SHA256).
    [string]$InstallerPath = '',
    [bool]$InstallerSha256 = $true,
    # Optional check: the file name of a package the controller transfers with the connection's put_file into the
    # Windows temporary folder ($env:SystemRoot\Temp: it exists on every host, and put_file cannot create a folder),
    # from where setup_start moves it to InstallerPath. Reported like InstallerPath plus that folder, so the
    # controller knows where to put it and a re-run after a failure does not transfer it again.
    [string]$InstallerUploadName = '',
    # The tail of the Unified Setup log [1.5].
    [bool]$IncludeLogTail = $false,
    [int]$LogTailLines = 40,
    # Optional check (additive, for the proxy/register/uninstall modules): TCP reachability of the configuration
    # server this host is registered to (amethyst.conf PS_CS_IP / PS_CS_PORT [6.5]).
    [bool]$CheckRegisteredConfigurationServer = $false,
    # Optional check: a [ProxySettings] file [8]: existence, SHA256 and who may access it; never its text.
    [string]$ProxySettingsFilePath = '',
    # Optional check: the passphrase file Unified Setup reads (/PassphraseFilePath [1.2, 1.3]): exists, readable by
    # this session, how many (non-empty) lines, under a user profile. Never its text.
    [string]$PassphraseFilePath = '',
    # diagnose only -- Add/Remove Programs entries and services whose name (or display name, or a service's program
    # path) contains one of these are recorded whole (matched case-insensitively) [6.1, 6.3].
    [string[]]$RelatedNames = @()
)
