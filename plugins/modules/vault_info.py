#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/vault_info.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: vault_info
short_description: Read the vault's process servers, their load and health, and each protected machine's process server
version_added: 0.1.0
description:
  - Reads, from the Recovery Services vault through Azure Resource Manager, every configuration server the vault
    knows (a fabric of type C(VMware)), each of its process servers (its Azure id, IP address, protected machines,
    health and last heartbeat, as the vault reports them) and, for every protected machine of the classic
    VMware/physical stack, the process server it replicates through.
  - This is the real current load per process server, the one the portal shows; C(playbooks/plan.yml) can plan from
    it (C(asr_load_source=vault)).
  - Changes nothing. Runs on the controller; no WinRM call.
  - Each process server's RV(configuration_servers[].process_servers[].health_verdict) applies the portal's rule that
    a process server without a heartbeat for 15 minutes is critical, whatever health the vault last computed.
extends_documentation_fragment:
  - asr.process_server.azure
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  fabric:
    description:
      - Only this configuration server - its name as the portal shows it (the fabric's friendly name), the fabric's
        name, or the configuration server's IP address.
      - Omit it to read every configuration server of the vault.
    type: str
  protected_machines:
    description:
      - Also read the protected items (one request per 100 machines and configuration server), for
        RV(configuration_servers[].protected_machines) and exact machine counts.
      - V(false) reads only the fabrics (one request), with the vault's own machine counts.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    details: A read; it runs the same way in check mode.
  diff_mode:
    support: none
seealso:
  - module: asr.process_server.switch_process_server
  - module: asr.process_server.registration_info
"""

EXAMPLES = r"""
- name: Read the vault (credentials from AZURE_* or ~/.azure/credentials, as azure.azcollection reads them)
  asr.process_server.vault_info:
    resource_group: rg-dr
    vault: vault-dr-weu
  run_once: true
  delegate_to: localhost
  register: vault

- name: Show each process server's protected machines
  ansible.builtin.debug:
    msg: "{{ vault.configuration_servers | map(attribute='process_servers') | flatten
             | items2dict(key_name='name', value_name='protected_machines') }}"
  run_once: true
"""

RETURN = r"""
configuration_servers:
  description: Each configuration server of the vault (or the one O(fabric) names).
  returned: success
  type: list
  elements: dict
  contains:
    name:
      description: The fabric's name (what Resource Manager paths use).
      type: str
    friendly_name:
      description: The configuration server's name as the portal shows it.
      type: str
      sample: CS01
    configuration_server_ip:
      description: The configuration server's IP address as the vault knows it.
      type: str
    containers:
      description: The fabric's protection containers (read with the protected machines).
      type: list
      elements: str
    process_servers:
      description: Every process server the configuration server knows, its in-built one included.
      type: list
      elements: dict
      contains:
        id:
          description: The process server's Azure id (what a Switch names).
          type: str
        name:
          description: Its name as the portal shows it.
          type: str
        ip_address:
          description: Its IP address.
          type: str
        machine_count:
          description: The vault's count of servers configured with it, or null.
          type: int
        protected_machines:
          description: Protected machines replicating through it, counted from the protected items (null when
            O(protected_machines=false)).
          type: int
        health:
          description: The vault's health of it (V(Normal), V(Warning), V(Critical), V(None)).
          type: str
        last_heartbeat:
          description: Its last heartbeat (RFC 3339, UTC), or null.
          type: str
        heartbeat_age_s:
          description: Seconds since that heartbeat, by the controller's clock.
          type: int
        service_status:
          description: The vault's status of its services.
          type: str
        health_errors:
          description: The vault's health errors, each as its code and summary.
          type: list
          elements: str
        health_verdict:
          description: The health a move checks (V(Normal), V(Warning), V(Critical), V(Unknown)) and why.
          type: dict
    machines_read:
      description: Whether the protected items were read.
      type: bool
    protected_machines:
      description: The protected machines of the classic stack (present when they were read).
      type: list
      elements: dict
      contains:
        name:
          description: The machine's name.
          type: str
        item_name:
          description: The protected item's name.
          type: str
        protectable_item:
          description: The protectable item's name (what a Load balance names).
          type: str
        process_server_id:
          description: The Azure id of the process server it replicates through.
          type: str
        process_server_name:
          description: That process server's name.
          type: str
        replication_health:
          description: The vault's replication health of the machine.
          type: str
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
