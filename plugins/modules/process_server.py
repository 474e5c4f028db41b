#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/process_server.py (ARCHITECTURE.md decision 2).
# Its options are composed from the install, proxy, registration and uninstall modules' (same names, same rules).

DOCUMENTATION = r"""
---
module: process_server
short_description: Converge an Azure Site Recovery scale-out process server to a state in one task
version_added: 0.1.0
extends_documentation_fragment:
  - asr.process_server.unified_setup
  - asr.process_server.setup_run
  - asr.process_server.upgrade_hops
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
description:
  - One task for the whole life of an Azure Site Recovery (classic) scale-out process server on Windows -
    V(present) (installed and registered), V(latest) (installed, registered and at the installer's version) or
    V(absent) (decommissioned); and V(staged) (only the Unified Setup package, put on the host and checked there,
    before a rollout).
  - Reads the host in ONE read-only remote call that answers every operation the state needs (install preflight,
    the configuration server on TCP 443, the installer file, the MARS proxy, the registration), then runs only
    what differs, in order - install or upgrade, then the MARS proxy, then the registration. A host already in
    the desired state costs exactly that one call (RV(remote_calls)).
  - Each operation is the one of the single-purpose module, with the same option names and rules -
    M(asr.process_server.install), M(asr.process_server.upgrade), M(asr.process_server.proxy),
    M(asr.process_server.registration), M(asr.process_server.uninstall) - so a playbook can switch between them.
  - After Unified Setup ran, the host is read once more (setup's own proxy and registration steps can fail on
    their own), in the same remote call as setup's cleanup (a separate read only after a reboot); after a proxy
    change the next step uses what the proxy script verified, without another call. A fresh install with a
    package from the controller takes 5 remote calls when setup has ended by the first poll - the probe, the
    package transfer, the start, the poll, the cleanup - plus one poll per O(poll_interval) while setup still runs.
  - V(present) and V(latest) refuse, after the probe and before any change, a process server registered to
    another configuration server than O(configuration_server_ip) (C(PS_CS_IP) in C(amethyst.conf)) - its proxy
    procedure and re-registration would run against that other server (RV(refused)).
  - V(present) never upgrades; an older installed process server stays as it is (use V(latest)).
  - V(latest) upgrades an older process server with C(UnifiedSetup.exe /Upgrade) (M(asr.process_server.upgrade));
    a jump of more than four minor versions (the N-4 rule) goes through the intermediate builds of O(installers),
    and without them is refused with the rule.
  - V(absent) uninstalls in the documented order and refuses a process server still registered with a
    configuration server that answers unless O(workload_moved=true).
  - V(staged) changes nothing of the product - it puts the package at its staging path in O(staging_dir) and checks
    its SHA-256 there, so a fleet rollout can stage every host at once before its canary (playbooks/site.yml does).
    A package already staged costs one remote call. From O(installer_url) or a UNC O(installer_remote_path) the host
    transfers it itself, detached and resumable; the task starts (or resumes) that transfer and returns at once
    with RV(staged) false while it runs, so a play starts every host's transfer and then waits with C(until) (see the
    examples). From O(installer) the controller sends one copy (put_file) and the host checks and moves it.
options:
  state:
    description:
      - V(present) - installed (Unified Setup when any process server component is missing) and registered to
        O(configuration_server_ip); an installed process server is not upgraded.
      - V(latest) - as V(present), and an installed process server older than the installer is upgraded.
      - V(absent) - decommissioned (the ordered uninstall of M(asr.process_server.uninstall)). The install options
        (but O(configuration_server_ip), see there) are ignored so that one task can switch states with a variable;
        O(proxy) and O(force_reregister) are refused.
      - V(staged) - only the package, at its staging path and checked (see above); one of O(installer),
        O(installer_url) and a UNC O(installer_remote_path) is required, the other install options are ignored.
      - With V(present) and V(latest), O(configuration_server_ip), O(install_location), O(env_type) and one of
        O(installer), O(installer_url) and O(installer_remote_path) are required.
    type: str
    choices: [present, latest, absent, staged]
    default: present
  configuration_server_ip:
    description:
      - IPv4 address of the configuration server the process server is (to be) registered to (C(/CSIP)). Required
        with O(state=present) and O(state=latest). A process server registered to another configuration server is
        refused (no silent command moves it); with O(state=absent), when set, too (it is not uninstalled).
      - With O(state=present) or O(state=latest) exactly one of O(passphrase) and O(passphrase_file) is required
        (used only when Unified Setup installs).
    type: str
  installer:
    description:
      - Path on the controller of C(MicrosoftAzureSiteRecoveryUnifiedSetup.exe), as for M(asr.process_server.install).
        Sent to the host (through C($env:SystemRoot\Temp) to O(staging_dir)) only when setup must run.
      - With O(state=present), O(state=latest) or O(state=staged) exactly one of O(installer), O(installer_url) and
        O(installer_remote_path) is required.
    type: path
  installer_version:
    description:
      - The installer's version (for example V(9.55.7123.1)) when the controller cannot read it from the file.
        With O(state=latest) it decides whether an upgrade is needed without staging the file.
    type: str
  installers:  # the rest in the asr.process_server.upgrade_hops fragment
    description:
      - With O(state=latest), intermediate Unified Setup builds to use as hops when the installer is more than 4
        minor versions above the installed build (the N-4 rule), as for M(asr.process_server.upgrade). Only the
        ones the plan needs are copied and run. Must be empty with the other states.
  proxy:
    description:
      - The proxy of the Microsoft Azure Recovery Services agent (C(Set-OBMachineSetting), then
        C(cdpcli.exe --registermt) and C(obengine) restarts, as M(asr.process_server.proxy) does). When Unified
        Setup installs, it gets the same proxy (C(/ProxySettingsFilePath)) and sets the agent's proxy from it.
      - Unset - the proxy is not managed.
    type: dict
    suboptions:
      state:
        description:
          - V(present) - the agent uses this proxy (O(proxy.address) and O(proxy.port) required).
          - V(absent) - the agent connects directly (C(Set-OBMachineSetting -NoProxy)); setup installs without a
            proxy. No other suboption may be set.
        type: str
        choices: [present, absent]
        default: present
      address:
        description: Proxy address; must start with C(http://).
        type: str
      port:
        description: Proxy port, 1 to 65535.
        type: int
      username:
        description: User name for an authenticating proxy (with O(proxy.password)).
        type: str
      password:
        description:
          - Password for O(proxy.username). Never returned, never on a command line. It cannot be read back, so it
            is set only when something else changes unless O(proxy.update_password=always).
        type: str
      update_password:
        description:
          - V(on_change) sets the password only when the address, port or user name change; V(always) on every run
            (and then always reports a change).
        type: str
        choices: [always, on_change]
        default: on_change
  force_reregister:
    description:
      - Re-register the master target (C(cdpcli.exe --registermt), C(obengine) restart) even when nothing looks
        wrong, for example after the configuration server was re-registered or its certificates changed. Not run
        twice when a proxy change already re-registered it.
    type: bool
    default: false
  workload_moved:
    description:
      - With O(state=absent), confirms that no protected machine uses this process server any more (Switch / Load
        balance done); without it a registered process server whose configuration server answers is refused.
    type: bool
    default: false
  keep_mars_agent:
    description:
      - With O(state=absent), leave C(Microsoft Azure Recovery Services Agent) installed.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details:
      - Runs only the probe and returns, per operation, the steps a real run would take (RV(steps)). After a
        predicted install the proxy and registration are predicted from what setup leaves behind.
  diff_mode:
    support: full
    details: Component versions, the agent's proxy (without password) and the registration, before and after.
notes:
  - Run the task with C(become=true), C(become_method=runas), C(become_user=SYSTEM) when Unified Setup or an
    uninstaller may run; over a plain WinRM network logon they fail with Access Denied and the module refuses first.
  - Refuses a configuration server; this module manages scale-out process servers.
seealso:
  - module: asr.process_server.install
  - module: asr.process_server.upgrade
  - module: asr.process_server.proxy
  - module: asr.process_server.registration
  - module: asr.process_server.uninstall
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Every process server installed, registered and behind the corporate proxy
  asr.process_server.process_server:
    state: present
    configuration_server_ip: 10.150.24.119
    passphrase: "{{ vault_asr_passphrase }}"
    installer: files/MicrosoftAzureSiteRecoveryUnifiedSetup.exe
    installer_version: 9.55.7123.1
    install_location: D:\
    env_type: VMware
    proxy:
      address: http://proxy.corp.example
      port: 3128
      username: CORP\svc-asr
      password: "{{ vault_proxy_password }}"
  become: true
  become_method: runas
  become_user: SYSTEM
  register: ps

- name: What would change (one read-only call per host)
  asr.process_server.process_server:
    state: latest
    configuration_server_ip: 10.150.24.119
    passphrase_file: D:\Secure\connection.passphrase
    installer_remote_path: D:\Media\MicrosoftAzureSiteRecoveryUnifiedSetup.exe
    install_location: D:\
    env_type: NonVMware
  check_mode: true
  diff: true

- name: Start the package download on every host (the host fetches it; nothing passes through the controller)
  asr.process_server.process_server:
    state: staged
    installer_url: "{{ vault_asr_installer_url }}"  # e.g. an Azure storage URL with a SAS token
    installer_checksum: "{{ asr_installer_checksum }}"
    installer_version: 9.55.7123.1
  become: true
  become_method: runas
  become_user: SYSTEM

- name: Wait until every host has it (SHA-256 checked on the host)
  asr.process_server.process_server:
    state: staged
    installer_url: "{{ vault_asr_installer_url }}"
    installer_checksum: "{{ asr_installer_checksum }}"
    installer_version: 9.55.7123.1
  become: true
  become_method: runas
  become_user: SYSTEM
  register: stage
  until: stage.staged | default(false) or stage.failed | default(false)
  retries: 360
  delay: 10

- name: Decommission after the Switch jobs finished
  asr.process_server.process_server:
    state: absent
    workload_moved: true
  become: true
  become_method: runas
  become_user: SYSTEM
"""

RETURN = r"""
changed:
  description: Whether any operation changed the host (in check mode, would).
  returned: always
  type: bool
state:
  description: The state asked for.
  returned: success
  type: str
  sample: present
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - The steps of every operation in the order they ran - C(install) or C(upgrade), C(proxy), C(registration)
      for V(present) and V(latest); C(uninstall) for V(absent); C(stage) for V(staged) - each with C(operation),
      the operation it belongs to; an operation that had nothing to do has no step.
  returned: always
  type: list
  elements: dict
  sample:
    - {operation: install, name: run Unified Setup (install), changed: true}
    - {operation: install, name: clean up staged secrets and extracted files, changed: true}
operations:
  description:
    - One entry per operation, in the order they ran, with C(changed) and the operation's own return values (for
      example C(version_after), C(hops), C(reasons), C(proxy), C(registration), C(removed), C(plan)); C(failed) and
      C(msg) mark the operation that failed, C(msg) also says why an operation did nothing.
  returned: always, except when an option is refused before the probe
  type: dict
  sample:
    install: {changed: true, version_before: null, version_after: 9.55.7123.1}
    proxy: {changed: false, msg: proxy not managed (no proxy option)}
    registration: {changed: false, reasons: []}
actions:
  description: The operations that changed (or would), with their steps.
  returned: success
  type: list
  elements: str
  sample: ["proxy: Set-OBMachineSetting (proxy), restart obengine, cdpcli.exe --registermt, restart obengine"]
version_before:
  description: Build of the Configuration/Process Server before the task; null when not installed.
  returned: success
  type: str
  sample: 9.52.6801.1
version_after:
  description: Build after the task (predicted in check mode); null when not installed.
  returned: success
  type: str
  sample: 9.55.7123.1
reboot_required:
  description: Whether setup or an uninstaller asked for a reboot that did not happen (see O(reboot)).
  returned: success
  type: bool
staged:
  description: With O(state=staged) - whether the package is at its staging path with the expected SHA-256.
  returned: state=staged
  type: bool
  sample: true
source:
  description: With O(state=staged) - where the package comes from (a URL without its query, a UNC path, a file).
  returned: state=staged
  type: str
  sample: https://files.corp.example/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe
package:
  description:
    - With O(state=staged) - the package at its staging path as the host reads it - C(path), C(exists),
      C(size_bytes), C(sha256), C(file_version), C(product_version).
  returned: state=staged
  type: dict
transfer:
  description:
    - With O(state=staged), for a package the host transfers itself - the transfer as its status file says -
      C(state) (V(running), V(staged), V(failed)), C(source), C(attempts), C(resumed_from) (byte it resumed at),
      C(bytes_done), C(bytes_total), C(error), C(started), C(finished). Never the URL's query.
  returned: state=staged, for a URL or share source
  type: dict
remote_calls:
  description: WinRM round trips the task made; 1 when the host was already in the desired state.
  returned: always
  type: int
  sample: 1
diff:
  description:
    - Before and after, with C(--diff) - C(components) (version of each process server component, null when not
      installed), C(proxy) (the agent's proxy without password; null when the agent is not installed) and
      C(registration) (C(registered), C(configuration_server_ip)).
  returned: diff mode
  type: dict
stopped_processes:
  description: The processes stopped with O(stop_setup_on_timeout) when setup outlived O(setup_timeout).
  returned: failure of setup (install or upgrade) after setup_timeout with stop_setup_on_timeout
  type: list
  elements: dict
  sample: [{pid: 4108, name: UnifiedSetup.exe, parent_pid: 4104}]
rc:
  description: Exit code of the failed program (Unified Setup, an uninstaller, C(cdpcli.exe)), or null.
  returned: failure of a step
  type: int
stdout:
  description: The end of the failed program's output.
  returned: failure of a step
  type: str
stderr:
  description: The error output of the failed program or script.
  returned: failure of a step
  type: str
log_tail:
  description: The last lines of the failed program's log (C(ASRUnifiedSetup.log) for setup).
  returned: failure of setup or of an uninstaller
  type: list
  elements: str
log_path:
  description: The path of C(ASRUnifiedSetup.log) (see the notes on a failed run).
  returned: failure of setup (install or upgrade)
  type: str
exit_code_name:
  description: The name of setup's exit code.
  returned: failure of setup (install or upgrade) with a known exit code
  type: str
remediation:
  description: What to do about setup's exit code.
  returned: failure of setup (install or upgrade) with a known exit code
  type: str
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
