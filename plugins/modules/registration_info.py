#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/registration_info.py (ARCHITECTURE.md
# decision 2).

DOCUMENTATION = r"""
---
module: registration_info
short_description: Read which process servers a configuration server has registered, and their heartbeats
version_added: 0.1.0
description:
  - Runs on the B(configuration server). Reads, in one read-only remote call, the process servers registered
    with it and when each last sent a heartbeat, from the configuration server's own database (C(svsdb1),
    table C(hosts)) - the source Microsoft documents for "the list of registered machines with their IP
    addresses and last heartbeat".
  - Changes nothing, in any mode. It never starts C(Unregister-ASRComponent.pl), which one revision of
    Microsoft's documentation says purges a process server as soon as it runs.
  - The fleet playbooks' health gate (the C(asr.process_server.verify) role) reads a whole rollout batch's
    heartbeats with it, once per batch.
  - A database that cannot be read (no MySQL client, no credentials, MySQL refusing the account or not
    running) fails the task with what to do.
extends_documentation_fragment:
  - asr.process_server.configuration_server_database
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  ip_addresses:
    description:
      - Only the process servers registered with these IPv4 addresses (each address as the configuration server
        knows it, C(asr_ip)); RV(reasons) names those that are not registered.
      - Omit it to return every registered process server.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    details: The read is read-only and runs the same way in check mode.
  diff_mode:
    support: none
seealso:
  - module: asr.process_server.unregister
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Read the heartbeats of three process servers on the configuration server (read-only, one call)
  asr.process_server.registration_info:
    ip_addresses: [10.0.0.101, 10.0.0.102, 10.0.0.103]
  delegate_to: cs01
  register: registrations

- name: Every process server registered with the configuration server, with a dedicated read-only account
  asr.process_server.registration_info:
    database_user: asr_readonly
    database_password: "{{ vault_asr_readonly_password }}"
  delegate_to: cs01
"""

RETURN = r"""
process_servers:
  description:
    - The registered process servers (rows of C(svsdb1.hosts) with C(processserverenabled) 1), in the database's
      order; several rows may share an address (duplicate entries).
  returned: success
  type: list
  elements: dict
  contains:
    ip:
      description: IP address as the configuration server knows it.
      type: str
      sample: 10.0.0.101
    name:
      description: Machine name.
      type: str
      sample: PS01
    host_id:
      description: The host's GUID in the configuration server's database (C(hosts.id)).
      type: str
    operating_system:
      description: Operating system as recorded (C(hosts.ostype)).
      type: str
    heartbeat:
      description:
        - Last heartbeat of the process server (C(hosts.lasthostupdatetimeps)), in the database's time zone, or null.
      type: str
      sample: "2026-11-26 01:45:55"
    heartbeat_age_minutes:
      description:
        - Minutes since that heartbeat by the database's clock, or null.
        - The portal calls a process server critical after 15.
      type: float
      sample: 1.0
    agent_heartbeat:
      description:
        - Last heartbeat of the host's agent (C(hosts.lasthostupdatetime), the column Microsoft's documented query
          reads), or null.
      type: str
    agent_heartbeat_age_minutes:
      description: Minutes since the agent's heartbeat, or null.
      type: float
reasons:
  description: For each address of O(ip_addresses) that no registered process server has, a sentence saying so.
  returned: success
  type: list
  elements: str
database:
  description: Where the registrations were read (never a password).
  returned: success
  type: dict
  contains:
    name:
      description: The database, C(svsdb1).
      type: str
    client:
      description: The C(mysql.exe) that ran the read.
      type: str
    client_source:
      description: Where its folder came from (C(amethyst.conf MYSQL_PATH) or the MySQL registry key).
      type: str
    credentials:
      description: C(amethyst.conf) (the configuration server's own account) or C(task).
      type: str
rc:
  description: Exit code of C(mysql.exe) when the read failed.
  returned: failure of the read
  type: int
stderr:
  description: Its error output.
  returned: failure of the read
  type: str
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
