#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/switch_process_server.py (ARCHITECTURE.md
# decision 2).

DOCUMENTATION = r"""
---
module: switch_process_server
short_description: Move protected machines to another process server (the vault's Switch and Load balance)
version_added: 0.1.0
description:
  - Moves protected machines from one process server to another process server of the same configuration server,
    as the vault's B(Switch) (every machine) and B(Load balance) (selected machines) do in the portal, and Azure
    PowerShell's C(Start-AzRecoveryServicesAsrSwitchProcessServerJob) - one Azure Resource Manager
    C(reassociateGateway) operation, waited for until it ends or O(wait_timeout) passes.
  - Reads the vault first (the configuration server's process servers and where every protected machine
    replicates), decides, then moves only the machines that are still on the source. Machines already on the target
    are not moved again, so a second run changes nothing, and a run after a failed or timed-out Switch finishes it.
  - Refuses, before any change, a source or target that is not a process server of that configuration server (one
    of another configuration server is named as such), the same process server twice, a machine that replicates
    through neither, a target that is critical (no heartbeat for 15 minutes, or the vault says so), or not healthy
    unless O(target_health) accepts it, and a target that would carry more protected machines than its tier after
    the move (O(target_tier), O(target_max_machines); the largest scale-out row, 225 machines, by default).
  - Throttling (HTTP 429 with C(Retry-After)) is waited out and retried; a sign-in token that expires during a long
    run is renewed and the wait goes on.
  - Runs on the controller; no WinRM call.
extends_documentation_fragment:
  - asr.process_server.azure
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  configuration_server:
    description:
      - The configuration server whose process servers these are - its name as the portal shows it, its fabric's
        name or its IP address. May be omitted when the vault has only one configuration server.
    type: str
    aliases: [fabric]
  source:
    description:
      - The process server to move machines from - its name, IP address or Azure id (as
        M(asr.process_server.vault_info) lists them).
    type: str
    required: true
  target:
    description:
      - The process server to move them to, of the same configuration server.
    type: str
    required: true
  machines:
    description:
      - The protected machines to move, by their names, protected item names or protectable item names (the portal's
        Load balance).
      - Omit it to move every machine of the source (the portal's Switch) - what a drain before a decommission does.
    type: list
    elements: str
  target_tier:
    description:
      - The sizing tier of the target in the sizing table [7.1], as C(playbooks/plan.yml) reports it for the host.
      - V(small) carries up to 85 protected machines, V(medium) 150, V(large) 225. The move is refused when the
        target would carry more.
    type: str
    choices: [small, medium, large]
  target_max_machines:
    description:
      - The most protected machines the target may carry after the move, instead of a tier.
    type: int
  target_health:
    description:
      - The least health of the target that is accepted. A critical target is always refused (a critical process
        server takes no new workload).
      - V(Normal) accepts only a healthy target; V(Warning) also one with warnings; V(any) also one whose health the
        vault does not report.
    type: str
    choices: [Normal, Warning, any]
    default: Normal
  wait_timeout:
    description:
      - Seconds to wait for the Switch operation. When it passes, the task fails saying which machines moved; the
        operation goes on in Azure and the next run moves only what is left on the source.
    type: int
    default: 3600
  poll_interval:
    description:
      - Seconds between two reads of the operation's status when Azure does not say (Azure's C(Retry-After) wins).
    type: int
    default: 30
attributes:
  check_mode:
    support: full
    details: Reads the vault and reports what would move (RV(plan), RV(moved)); starts no operation.
  diff_mode:
    support: full
    details: The machines to move, on the source before and on the target after.
seealso:
  - module: asr.process_server.vault_info
  - module: asr.process_server.uninstall
"""

EXAMPLES = r"""
- name: Drain a process server before decommissioning it (every machine to ps03)
  asr.process_server.switch_process_server:
    resource_group: rg-dr
    vault: vault-dr-weu
    configuration_server: CS01
    source: PS01
    target: PS03
    target_tier: large
  run_once: true
  delegate_to: localhost

- name: Load balance three machines (service principal from the task, secret from a vault variable)
  asr.process_server.switch_process_server:
    resource_group: rg-dr
    vault: vault-dr-weu
    source: 10.0.0.101
    target: 10.0.0.102
    machines: [SQL01, SQL02, WEB07]
    subscription_id: "{{ azure_subscription_id }}"
    tenant: "{{ azure_tenant }}"
    client_id: "{{ azure_client_id }}"
    secret: "{{ vault_azure_secret }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
plan:
  description: What the Switch does (or did) - the configuration server, source and target (names and Azure ids),
    C(to_move), C(already_on_target), C(update_type) (C(ServerLevel) for named machines, C(SystemLevel) for all),
    the target's load before and after and its limit, the target's health.
  returned: success, and on failure after the vault was read
  type: dict
moved:
  description: The machines moved to the target (in check mode, the ones that would move).
  returned: always
  type: list
  elements: str
already_on_target:
  description: The machines named that were already on the target (not moved again).
  returned: success
  type: list
  elements: str
not_moved:
  description: The machines the operation was asked to move that the vault still lists on the source.
  returned: when an operation ran
  type: list
  elements: str
operation:
  description: The Switch operation - C(id) (its Azure-AsyncOperation id), C(status) (C(Succeeded), C(Failed),
    C(TimedOut)), C(seconds) waited, C(error).
  returned: when an operation ran
  type: dict
azure:
  description: The Resource Manager requests the task made and how it signed in (see the notes).
  returned: always, except when an option is refused before any request
  type: dict
  sample:
    calls: 3
    throttled: 0
    token_refreshes: 1
    signed_in_with: service principal with a secret from the environment
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
