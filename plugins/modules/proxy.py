#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/proxy.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: proxy
short_description: Set the proxy of the Azure Recovery Services agent on a process server
version_added: 0.1.0
extends_documentation_fragment:
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
description:
  - Makes the proxy of the Microsoft Azure Recovery Services (MARS) agent (service C(obengine)) on an Azure Site
    Recovery (classic) scale-out process server match the task, with the documented procedure for changing it.
  - Reads the host once (the collection's probe, one remote call) and compares the proxy address, port and user
    name that C(Get-OBMachineSetting) reads back. When they match, nothing else runs.
  - When they differ it runs, in one remote call, C(Set-OBMachineSetting) (with the password passed as a
    SecureString, never on a command line), C(net stop obengine) / C(net start obengine), then
    C(cdpcli.exe --registermt) from C(%ProgramData%\ASR\Agent) and restarts C(obengine) again, as the
    documentation for modifying the proxy of a scale-out process server says. The master target step is skipped
    when the Mobility Service/Master Target agent is not installed.
  - When the proxy already matches but C(obengine) is not running (a previous change stopped half way), the
    whole procedure runs again, so a re-run repairs it.
  - With O(state=absent) it removes the proxy (C(Set-OBMachineSetting -NoProxy)) the same way.
  - With O(configuration_server_ip) set, a process server registered to another configuration server
    (C(PS_CS_IP) in C(amethyst.conf)) is refused after the probe, before any change - C(cdpcli.exe --registermt)
    would register it again with that other server (RV(refused)). Without it, the configured server is used.
  - Optionally writes the C([ProxySettings]) file Unified Setup reads with C(/ProxySettingsFilePath)
    (O(settings_file)).
options:
  state:
    description:
      - V(present) makes the MARS agent use the proxy O(proxy_address):O(proxy_port); V(absent) makes it connect
        directly (C(Set-OBMachineSetting -NoProxy)).
    type: str
    choices: [present, absent]
    default: present
  proxy_address:
    description:
      - Address of the proxy. It must start with C(http://) (Unified Setup refuses any other form).
      - Required with O(state=present). Compared without case and without a trailing C(/).
      - Must not contain C(=), C(") or spaces at either end (Unified Setup would change such a value).
    type: str
  proxy_port:
    description:
      - TCP port of the proxy, 1 to 65535. Required with O(state=present).
    type: int
  proxy_username:
    description:
      - User name for a proxy that needs authentication, for example C(CORP\svc-asr). Compared without case.
      - Requires O(proxy_password).
    type: str
  proxy_password:
    description:
      - Password of O(proxy_username). Sent to the host as a SecureString (M(ansible.windows.win_powershell)
        C(sensitive_parameters)) and handed to C(Set-OBMachineSetting) as one; never on a command line, never
        written to a file, scrubbed from every result.
      - The password cannot be read back from the agent; see O(update_password).
    type: str
  update_password:
    description:
      - V(on_change) sets the password only when the address, port or user name changes. A changed password alone
        is therefore not detected.
      - V(always) sets the password on every run; the task then always reports a change, because the password
        cannot be read back to compare.
    type: str
    choices: [always, on_change]
    default: on_change
  settings_file:
    description:
      - Absolute path on the host of a C([ProxySettings]) file to write for Unified Setup's
        C(/ProxySettingsFilePath), in the exact six-line form its validator accepts (C(ProxyIP), not the documents'
        C(Proxy IP)). Its access is limited to SYSTEM and Administrators (inheritance removed).
      - The file never holds a password at rest, so it is refused together with O(proxy_username) (Unified Setup
        would need the password in it). M(asr.process_server.install) writes such a file only for the duration of
        setup and deletes it afterwards.
      - Compared by SHA256 and access rules; rewritten when either differs.
    type: str
attributes:
  check_mode:
    support: full
    details: Check mode runs only the read-only probe and reports what would change.
  diff_mode:
    support: full
    details: The MARS proxy before and after (address, port, user name; never the password).
notes:
  - Where the MARS agent stores its proxy is not documented; the module relies on C(Get-OBMachineSetting) from the
    agent's C(MSOnlineBackup) PowerShell module, and fails when that cannot be read.
  - Restarting C(obengine) interrupts uploads to Azure for the restart's duration.
  - If the configuration server's proxy changed, every scale-out process server needs the change too.
  - The connection user must be a local administrator (or use C(become)).
seealso:
  - module: asr.process_server.registration
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Use the corporate proxy with credentials from the vault
  asr.process_server.proxy:
    proxy_address: http://proxy.corp.example
    proxy_port: 3128
    proxy_username: CORP\svc-asr
    proxy_password: "{{ vault_asr_proxy_password }}"

- name: Rotate the proxy password (it cannot be compared, so this always reports a change)
  asr.process_server.proxy:
    proxy_address: http://proxy.corp.example
    proxy_port: 3128
    proxy_username: CORP\svc-asr
    proxy_password: "{{ vault_asr_proxy_password }}"
    update_password: always

- name: Anonymous proxy, plus the settings file for a later Unified Setup run
  asr.process_server.proxy:
    proxy_address: http://10.0.0.5
    proxy_port: 8080
    settings_file: C:\ProgramData\ASRSetup\ProxySettings.conf

- name: Connect directly
  asr.process_server.proxy:
    state: absent
"""

RETURN = r"""
proxy:
  description: The MARS agent's proxy after the task (in check mode, as it would be). Never a password.
  returned: success
  type: dict
  contains:
    enabled:
      description: Whether the agent uses a proxy.
      type: bool
      sample: true
    address:
      description: Proxy address.
      type: str
      sample: http://proxy.corp.example
    port:
      description: Proxy port.
      type: int
      sample: 3128
    username:
      description: Proxy user name, or null.
      type: str
      sample: CORP\svc-asr
reasons:
  description: Why the task changes something (empty when the host already matched).
  returned: success
  type: list
  elements: str
  sample: ["address is 'http://old-proxy.corp.example', wanted 'http://proxy.corp.example'"]
registered_mt:
  description: Whether C(cdpcli.exe --registermt) ran (in check mode, would run).
  returned: success
  type: bool
  sample: true
settings_file:
  description: The O(settings_file) path, or null.
  returned: success
  type: str
  sample: C:\ProgramData\ASRSetup\ProxySettings.conf
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - The documented procedure - C(Set-OBMachineSetting (proxy)) (or C(Set-OBMachineSetting -NoProxy)),
      C(restart obengine), C(cdpcli.exe --registermt), C(restart obengine), then C(write settings_file) when
      O(settings_file) must be written; a real run stops at the step that failed.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: Set-OBMachineSetting (proxy), changed: true, rc: 0}
    - {name: restart obengine, changed: true, rc: 0}
    - {name: cdpcli.exe --registermt, changed: true, rc: 0}
    - {name: restart obengine, changed: true, rc: 0}
rc:
  description: Exit code of the failed step.
  returned: failure of a step
  type: int
  sample: 2
stdout:
  description: Output of the failed step.
  returned: failure of a step
  type: str
stderr:
  description: Error output of the failed step.
  returned: failure of a step
  type: str
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
