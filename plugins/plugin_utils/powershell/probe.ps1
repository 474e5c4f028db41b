# asr.process_server script: probe v1
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Read-only survey of an ASR classic configuration/process server (ARCHITECTURE.md decision 4: one remote
# call). Runs under ansible.windows.win_powershell on Windows PowerShell 5.1 (Windows Server 2012 R2 with
# WMF 5.1, 2016, 2019). It changes nothing; SupportsShouldProcess lets win_powershell run it in check mode.
# User values arrive only as parameters (decision 5); it takes no secret and never reads a password.
# It sets $Ansible.Result to ONE JSON text (no serialisation depth limit); the controller interprets it.
# The survey itself is the survey fragment's Get-Survey (diagnose.ps1 makes the same survey in its one call).
# Section numbers [x.y] refer to reference/asr-process-server.md. The lab runs this text under pwsh
# (lab/scripts.py, ARCHITECTURE.md decision 8).
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
    [string]$PassphraseFilePath = ''
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: shared_text

# asr.process_server include: file_facts

# asr.process_server include: survey

$survey = Get-Survey

$Ansible.Result = ConvertTo-Json -InputObject $survey -Depth 10 -Compress
