#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/uninstall.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: uninstall
short_description: Decommission an Azure Site Recovery scale-out process server
version_added: 0.1.0
extends_documentation_fragment:
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
description:
  - Uninstalls the Azure Site Recovery (classic) components of a scale-out process server in the documented
    order, skipping what is not installed - C(Microsoft Azure Site Recovery Configuration/Process Server), then
    its C(Dependencies), then C(Microsoft Azure Site Recovery Mobility Service/Master Target Server), then
    C(Microsoft Azure Recovery Services Agent) (unless O(keep_mars_agent)).
  - Refuses while the process server is still registered with a configuration server that answers (or could not
    be tested) unless O(workload_moved=true) - its protected machines must first move to another process server.
    In the vault, Site Recovery Infrastructure > Configuration Servers > the configuration server > the process
    server > B(Switch) (all machines) or B(Load balance) (selected machines), or
    C(Start-AzRecoveryServicesAsrSwitchProcessServerJob -Fabric <fabric> -SourceProcessServer <ps>
    -TargetProcessServer <ps>). The jobs take about 15 minutes to show.
  - Uninstalling the Configuration/Process Server while the configuration server is reachable unregisters it
    there (the documented connected path). When it is not reachable, the task warns that the process server must
    be purged on the configuration server with M(asr.process_server.unregister).
  - Each product is one remote call (after one probe), so a failed or interrupted step leaves the later products
    untouched and a re-run resumes with what is still installed. Nothing left to remove costs only the probe.
  - Silent command lines - Windows Installer products C(MsiExec.exe /qn /x {product code} /L+*V
    C:\ProgramData\ASRSetupLogs\<name>.log); Inno Setup products their C(unins000.exe) with
    C(/VERYSILENT /SUPPRESSMSGBOXES /NORESTART).
options:
  configuration_server_ip:
    description:
      - The configuration server the process server must belong to (C(PS_CS_IP) of its C(amethyst.conf)). One
        registered to another configuration server is refused after the read-only probe, before anything is
        uninstalled (RV(refused)) - decommissioning cannot be undone and belongs to the configuration server the
        task names (where the purge runs). Unset - not checked.
  workload_moved:
    description:
      - Confirms that no protected machine uses this process server any more (Switch / Load balance done). The
        probe cannot see the vault's replicated items, so without it a registered, connected process server is
        refused.
    type: bool
    default: false
  keep_mars_agent:
    description:
      - Leave C(Microsoft Azure Recovery Services Agent) installed (it is also the Azure Backup agent; the host may
        still back up files with it).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Check mode runs only the probe and returns the steps it would run in RV(steps).
  diff_mode:
    support: full
    details: The ASR products installed before and after.
notes:
  - Refuses a configuration server; this module decommissions scale-out process servers only.
  - Where the Inno Setup uninstallers of the Configuration/Process Server and its Dependencies log is not
    documented; RV(log_tail) then shows the component's setup log (C(CX_InstallLogFile.log),
    C(CX_TP_InstallLogFile.log)).
  - A product counts as removed only when its exit code says success and its Add/Remove Programs entry is gone.
  - Uninstallers may need the task to run with C(become) over WinRM (network logon).
seealso:
  - module: asr.process_server.unregister
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Show what would be removed
  asr.process_server.uninstall:
    workload_moved: true
  check_mode: true
  register: plan

- name: Decommission after the Switch jobs finished
  asr.process_server.uninstall:
    workload_moved: true
  become: true
  become_method: runas
  become_user: SYSTEM
  register: removed

- name: Reboot when an uninstaller asked for it
  ansible.windows.win_reboot:
  when: removed.reboot_required
"""

RETURN = r"""
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - One step per product, C(uninstall <display name>); in a real run each with the uninstaller's C(rc) and what
      it means (C(msg)).
  returned: always
  type: list
  elements: dict
  sample:
    - {name: uninstall Microsoft Azure Site Recovery Configuration/Process Server, changed: true, rc: 0, msg: success}
plan:
  description: The planned uninstall command lines, in order (what RV(steps) runs).
  returned: success, and on failure of a step
  type: list
  elements: dict
  contains:
    product:
      description: Product key (V(configuration_process_server), V(configuration_process_server_dependencies),
        V(mobility_service_master_target), V(recovery_services_agent)).
      type: str
    display_name:
      description: The product's display name.
      type: str
    argv:
      description: The uninstall command line as argv.
      type: list
      elements: str
    installer:
      description: V(msi), V(inno) or V(other).
      type: str
removed:
  description: The steps that ran and succeeded, with C(rc), C(meaning), C(seconds) and C(log).
  returned: success, and on failure (what was removed before it)
  type: list
  elements: dict
reboot_required:
  description: Whether an uninstaller returned 3010 or 1641.
  returned: success
  type: bool
  sample: false
registration:
  description: Registration seen by the probe.
  returned: success
  type: dict
  contains:
    registered:
      description: Whether the process server was configured for a configuration server.
      type: bool
    configuration_server_ip:
      description: That configuration server.
      type: str
    connected:
      description: Whether it answered from the host; null when not tested.
      type: bool
failed_step:
  description: The step that failed.
  returned: failure of a step
  type: dict
rc:
  description: Exit code of the failed uninstaller.
  returned: failure of a step
  type: int
  sample: 1603
stdout:
  description: Its output.
  returned: failure of a step
  type: str
stderr:
  description: Its error output.
  returned: failure of a step
  type: str
log_tail:
  description: The last lines of the step's log under C(C:\ProgramData\ASRSetupLogs).
  returned: failure of a step
  type: list
  elements: str
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
