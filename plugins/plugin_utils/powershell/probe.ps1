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
# asr.process_server include: survey_parameters

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# asr.process_server include: shared_text

# asr.process_server include: file_facts

# asr.process_server include: uninstall_keys

# asr.process_server include: survey

$survey = Get-Survey

$Ansible.Result = ConvertTo-Json -InputObject $survey -Depth 10 -Compress
