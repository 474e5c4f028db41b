#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/upgrade.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: upgrade
short_description: Upgrade an Azure Site Recovery process server or configuration server to an installer's version
version_added: 0.1.0
description:
  - Brings an installed Azure Site Recovery (classic) scale-out process server, or a configuration server, to the
    version of a Unified Setup installer with C(UnifiedSetup.exe /Upgrade), the only silent upgrade Unified Setup
    has. A process server takes no other switch; a configuration server that still has MySQL 5.5 also needs
    C(/AcceptThirdpartyEULA) (see O(accept_third_party_eula)).
  - Upgrade the configuration server first, then its scale-out process servers (then the Mobility agents).
    C(playbooks/upgrade.yml) does it in that order with this module.
  - Reads the host in one read-only remote call first; the role comes from C(CX_TYPE) in the registry
    (O(server_role=auto)). A host already at the installer's version is left alone (C(changed=false), one remote
    call). On a process server an older installer (a downgrade) and an installer newer than
    O(configuration_server_version) are refused before anything changes; a configuration server newer than the
    installer is left alone with a warning (its process servers may run the installer's build).
  - Unified Setup refuses jumps of more than 4 minor versions (the N-4 rule, exit code 203). When the gap is
    bigger the module fails and explains the rule, unless O(installers) lists intermediate builds; it then plans
    hops of at most 4 minor versions (for example 9.16 -> 9.20 -> 9.24) and runs each.
  - Each hop stages the package (checksum verified on the host), starts setup detached, polls it with retries on
    the poll only, up to O(setup_timeout), always cleans up, maps the exit code (203 is reported as
    "upgrade not supported" with the reason from the setup log) and verifies the new build and the services.
extends_documentation_fragment:
  - asr.process_server.setup_run
  - asr.process_server.upgrade_hops
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  configuration_server_ip:
    description:
      - The configuration server the host must belong to - C(PS_CS_IP) of its C(amethyst.conf) (a configuration
        server's own process server reports to itself). A host registered to another configuration server is
        refused after the read-only probe, before any change (RV(refused)) - C(/Upgrade) keeps the registration
        the host has, and the rule that a process server is never newer than its configuration server must be
        judged against that one. Unset - not checked.
  configuration_server_version:
    description:
      - The configuration server's version; a process server target newer than it is refused (upgrade the
        configuration server first).
      - Not applied to a configuration server against itself. With O(server_role=auto) it is still checked
        before the probe, so leave it unset (or set O(server_role=configuration_server)) on the configuration
        server.
    type: str
  server_role:
    description:
      - What the host is. V(auto) reads it from C(CX_TYPE) in
        C(HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9) (1 configuration server only,
        2 process server only, 3 configuration server with its process server); a host without a readable
        C(CX_TYPE) is taken as a process server.
      - V(process_server) or V(configuration_server) make the task refuse, after the probe and before any change, a
        host whose C(CX_TYPE) says otherwise.
    type: str
    default: auto
    choices: [auto, process_server, configuration_server]
  accept_third_party_eula:
    description:
      - Add C(/AcceptThirdpartyEULA) to C(/Upgrade). Unified Setup's own usage says a configuration server with
        MySQL 5.5 is upgraded with C(/Upgrade /AcceptThirdpartyEULA) (the third-party EULA is MySQL's).
      - The collection cannot tell which MySQL version a configuration server runs (the reference it follows
        gives no way to detect it), so this is your explicit choice; leave it V(false) unless the
        configuration server still has MySQL 5.5.
      - Only for a configuration server; V(true) with O(server_role=process_server) fails before any remote
        call, and on a host that O(server_role=auto) finds to be a process server it fails before any change.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Runs only the read-only probe and returns the hops and steps a real run would take.
  diff_mode:
    support: full
    details: Component versions before and after.
notes:
  - Run the task with C(become=true), C(become_method=runas), C(become_user=SYSTEM); over a plain WinRM network
    logon the module refuses before changing anything.
  - Upgrade the configuration server first, then its process servers, then the Mobility agents.
  - Microsoft's documented configuration server upgrade is the wizard (run the new Unified Setup, it detects the
    installed components and upgrades them); this module runs the same package silently with C(/Upgrade).
  - After a configuration server upgrade the module also checks that C(W3SVC), C(MySQL) and C(dra) run again.
  - C(/Upgrade) keeps the existing registration; of the action group's shared options only O(configuration_server_ip)
    means something here (the configuration server the host must belong to).
seealso:
  - module: asr.process_server.install
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Upgrade the process servers to the configuration server's build
  asr.process_server.upgrade:
    installer: files/MicrosoftAzureSiteRecoveryUnifiedSetup-9.55.exe
    configuration_server_version: 9.55.7123.1
    reboot: true
  become: true
  become_method: runas
  become_user: SYSTEM

- name: Upgrade the configuration server first (it still has MySQL 5.5)
  asr.process_server.upgrade:
    installer: files/MicrosoftAzureSiteRecoveryUnifiedSetup-9.55.exe
    server_role: configuration_server
    accept_third_party_eula: true
  become: true
  become_method: runas
  become_user: SYSTEM

- name: Catch up an old process server in hops (N-4 rule)
  asr.process_server.upgrade:
    installer: files/UnifiedSetup-9.55.7123.1.exe
    installers:
      - path: files/UnifiedSetup-9.51.6712.1.exe
        version: 9.51.6712.1
    configuration_server_version: 9.55.7123.1
  become: true
  become_method: runas
  become_user: SYSTEM
"""

RETURN = r"""
server_role:
  description: What the host was upgraded as (from C(CX_TYPE) with O(server_role=auto)).
  returned: always
  type: str
  sample: configuration_server
changed:
  description: Whether anything changed (in check mode, whether it would).
  returned: always
  type: bool
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - One stage, run and clean-up per hop.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: run Unified Setup /Upgrade to 9.55.7123.1, changed: true}
    - {name: clean up staged secrets and extracted files (9.55.7123.1), changed: true}
hops:
  description: The versions upgraded to, in order (one entry unless the N-4 rule needed hops).
  returned: always
  type: list
  elements: str
  sample: [9.51.6712.1, 9.55.7123.1]
version_before:
  description: Build before the task.
  returned: always
  type: str
  sample: 9.50.6601.1
version_after:
  description: Build after the task (predicted in check mode); on failure, the build the failed hop started from.
  returned: always
  type: str
  sample: 9.55.7123.1
installer_version:
  description: The target installer's version, when known.
  returned: always
  type: str
reboot_required:
  description: Whether a hop exited with 3010 and the host was not rebooted.
  returned: always
  type: bool
remote_calls:
  description: WinRM round trips the task made; 1 when the host was already at the installer's version.
  returned: always
  type: int
exit_code:
  description: Exit code of the last Unified Setup run.
  returned: when setup ran
  type: int
exit_code_name:
  description: Name of the last run's exit code (see the notes on a failed run).
  returned: when setup ran
  type: str
polls:
  description: Polls of the last run.
  returned: when setup ran
  type: int
poll_retries:
  description: Polls of the last run repeated after a connection failure.
  returned: when setup ran
  type: int
rc:
  description: The failed hop's exit code, or null (see the notes on a failed run).
  returned: failure of a hop
  type: int
stdout:
  description: The end of the failed hop's console output.
  returned: failure of a hop
  type: str
log_tail:
  description: The last lines of C(ASRUnifiedSetup.log) after the failed hop.
  returned: failure of a hop
  type: list
  elements: str
log_path:
  description: The path of C(ASRUnifiedSetup.log).
  returned: failure of a hop
  type: str
remediation:
  description: What to do about the failed hop's exit code.
  returned: failure of a hop with a known exit code
  type: str
stopped_processes:
  description: The processes of the hop stopped with O(stop_setup_on_timeout).
  returned: failure of a hop after setup_timeout with stop_setup_on_timeout
  type: list
  elements: dict
  sample: [{pid: 4108, name: UnifiedSetup.exe, parent_pid: 4104}, {pid: 4104, name: powershell.exe, parent_pid: 612}]
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
