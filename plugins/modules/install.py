#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/install.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: install
short_description: Install an Azure Site Recovery scale-out process server and register it
version_added: 0.1.0
description:
  - Ensures an Azure Site Recovery (classic) scale-out process server is installed on a Windows host and
    registered to a configuration server, by running Unified Setup
    (C(UnifiedSetup.exe /ServerMode PS ...)) silently.
  - Reads the host in one read-only remote call first. When the process server is already installed at the
    installer's version and registered to O(configuration_server_ip), nothing else happens (C(changed=false),
    one remote call).
  - Before anything changes it checks, from that call, the operating system (Windows Server 2012 R2 or 2016),
    the install location (a fixed NTFS drive other than the system drive, 600 GB free unless
    O(skip_space_check)), that the configuration server answers on TCP 443, that no reboot is pending, the
    installer's version against what is installed and against O(configuration_server_version), and that the
    session can run installers (elevated, not a WinRM network logon).
  - The installer is copied from the controller (O(installer), checksum verified on the host), downloaded by the
    host (O(installer_url)) or copied by it from a share (a UNC O(installer_remote_path)) - detached, resumable and
    checked against O(installer_checksum) on the host - or used where it is (a local O(installer_remote_path));
    then it is extracted with C(/q /x:<folder>) and started detached, so it survives a dropped
    WinRM connection; short read-only polls (the only calls retried after a connection failure) follow it up to
    O(setup_timeout).
  - The passphrase and the proxy settings (with the proxy password) travel as PowerShell SecureStrings, are written
    only to files in a folder that only SYSTEM and Administrators can open, are deleted when setup exits and again by
    the cleanup that always runs, and are never part of the command line, the result or the logs.
  - Every Unified Setup exit code is explained; a failure returns C(rc), setup's console output, the tail of
    C(C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log) and what to do. Exit code 201 (already installed) is
    not a failure; 3010 sets RV(reboot_required) or, with O(reboot), reboots and verifies.
  - A successful run is verified from the last poll (the installed build, the registration target in
    C(amethyst.conf) and the services Unified Setup itself checks).
extends_documentation_fragment:
  - asr.process_server.unified_setup
  - asr.process_server.setup_run
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  configuration_server_ip:
    description:
      - IPv4 address of the configuration server the process server registers to (C(/CSIP)). Unified Setup reaches
        it on port 443 only.
      - Exactly one of O(passphrase) (sent as a SecureString and written to a protected file that is removed after
        setup) and O(passphrase_file) (an existing file on the host, not deleted) is required.
    type: str
    required: true
  # Described in the asr.process_server.unified_setup fragment; required by this module.
  install_location:
    required: true
  env_type:
    required: true
  proxy:
    description:
      - A custom proxy for setup and the Microsoft Azure Recovery Services agent, written to the proxy settings
        file Unified Setup reads (C(/ProxySettingsFilePath)). Without it setup connects directly.
    type: dict
    suboptions:
      address:
        description: Proxy address; must start with C(http://).
        type: str
        required: true
      port:
        description: Proxy port, 1 to 65535.
        type: int
        required: true
      username:
        description: User name for an authenticating proxy (with O(proxy.password)).
        type: str
      password:
        description:
          - Password for O(proxy.username). Must not contain C(=) or C(") (setup would truncate it).
        type: str
attributes:
  check_mode:
    support: full
    details: Runs only the read-only probe and returns the steps a real run would take in RV(steps).
  diff_mode:
    support: full
    details: Component versions, registration target and data port before and after.
notes:
  - Run the task with C(become=true), C(become_method=runas), C(become_user=SYSTEM). Over a plain WinRM
    network logon Unified Setup's installers fail with Access Denied; the module detects such a session and
    refuses before changing anything.
  - The detached setup is started with C(Win32_Process.Create), so it runs as the task's (become) identity and
    outlives the WinRM shell; a small runner records its exit code.
  - Use the installer last used on the configuration server. An installed process server older than the
    installer is not reinstalled; use M(asr.process_server.upgrade).
    A process server registered to another configuration server is not moved; use C(asr.process_server.registration).
  - A fresh install with a package from the controller takes 5 remote calls (RV(remote_calls)) when setup has
    ended by the first poll - the probe, the transfer, the start, the poll, the cleanup - plus one poll per
    O(poll_interval) while setup still runs, and one read of the package's version when neither the file's version
    resource nor O(installer_version) gives it.
seealso:
  - module: asr.process_server.upgrade
  - module: asr.process_server.info
  - module: ansible.windows.win_reboot
"""

EXAMPLES = r"""
- name: Install the scale-out process server and register it
  asr.process_server.install:
    configuration_server_ip: 10.150.24.119
    passphrase: "{{ vault_asr_passphrase }}"
    installer: files/MicrosoftAzureSiteRecoveryUnifiedSetup.exe
    installer_checksum: "{{ asr_installer_sha256 }}"
    configuration_server_version: 9.55.7123.1
    install_location: D:\
    env_type: VMware
    reboot: true
  become: true
  become_method: runas
  become_user: SYSTEM

- name: Behind an authenticating proxy, installer already on the host
  asr.process_server.install:
    configuration_server_ip: 10.150.24.119
    passphrase_file: D:\Secure\connection.passphrase
    installer_remote_path: D:\Media\MicrosoftAzureSiteRecoveryUnifiedSetup.exe
    install_location: E:\
    env_type: NonVMware
    process_server_ip: 10.150.24.130
    proxy:
      address: http://proxy.corp.example
      port: 3128
      username: CORP\svc-asr
      password: "{{ vault_proxy_password }}"
  become: true
  become_method: runas
  become_user: SYSTEM
  register: installed

- name: Reboot later when setup asked for it
  ansible.windows.win_reboot:
  when: installed.reboot_required
"""

RETURN = r"""
changed:
  description: Whether anything changed on the host (in check mode, whether it would).
  returned: always
  type: bool
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - C(stage installer) unless the package is staged already, C(run Unified Setup (install)), C(clean up staged
      secrets and extracted files); with O(reboot), a reboot before setup (one was pending) or after it (3010).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: stage installer, changed: true}
    - {name: run Unified Setup (install), changed: true}
    - {name: clean up staged secrets and extracted files, changed: true}
version_before:
  description: Build of the Configuration/Process Server before the task; null when not installed.
  returned: always
  type: str
  sample: null
version_after:
  description: Build installed after the task (predicted in check mode).
  returned: always
  type: str
  sample: 9.55.7123.1
installer_version:
  description: The installer's version, when known.
  returned: always
  type: str
  sample: 9.55.7123.1
reboot_required:
  description: Whether setup exited with 3010 and the host was not rebooted (see O(reboot)).
  returned: always
  type: bool
remote_calls:
  description: WinRM round trips the task made; 1 when the host was already as wanted (see the notes).
  returned: always
  type: int
  sample: 1
exit_code:
  description: Unified Setup's exit code.
  returned: when setup ran
  type: int
  sample: 0
exit_code_name:
  description: The exit code's name (for example V(Successful), V(ServicesAreNotRunning), V(SuccessfulNeedReboot)).
  returned: when setup ran
  type: str
  sample: Successful
polls:
  description: How many polls followed the detached setup.
  returned: when setup ran
  type: int
poll_retries:
  description: Polls repeated after a connection failure.
  returned: when setup ran
  type: int
rc:
  description: Unified Setup's exit code on failure; null when it gave none (see the notes on a failed run).
  returned: failure of setup
  type: int
  sample: 4
stdout:
  description: The end of Unified Setup's console output.
  returned: failure of setup
  type: str
log_tail:
  description: The last lines of C(ASRUnifiedSetup.log).
  returned: failure of setup
  type: list
  elements: str
log_path:
  description: The path of C(ASRUnifiedSetup.log).
  returned: failure of setup
  type: str
remediation:
  description: What to do about the exit code.
  returned: failure of setup with a known exit code
  type: str
stopped_processes:
  description: The processes stopped with O(stop_setup_on_timeout), each with C(pid), C(name) and C(parent_pid).
  returned: failure of setup after setup_timeout with stop_setup_on_timeout
  type: list
  elements: dict
  sample: [{pid: 4108, name: UnifiedSetup.exe, parent_pid: 4104}, {pid: 4104, name: powershell.exe, parent_pid: 612}]
diff:
  description: Before and after (C(components), C(configuration_server_ip), C(data_port)) with C(--diff).
  returned: changed and diff mode
  type: dict
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
