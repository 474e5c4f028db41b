#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/unregister.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: unregister
short_description: Purge a disconnected process server from its configuration server
version_added: 0.1.0
extends_documentation_fragment:
  - asr.process_server.configuration_server_database
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
description:
  - Runs on the B(configuration server). Purges a scale-out process server that cannot be revived from the
    configuration server with the documented C(perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS), run
    from C(%ProgramData%\ASR\home\svsystems\bin).
  - Decides from the configuration server's registrations, read read-only from its database (the same read as
    M(asr.process_server.registration_info), one remote call); check mode stops there. The purge script itself is
    started only in a real run, once the module decided to purge, because it is not read-only.
  - Reports no change when no process server with O(ip_address) is registered.
  - Refuses to purge a process server whose last heartbeat is at most 15 minutes old (or unknown), unless
    O(force=true) - the purge is only for a process server that cannot be revived; a connected one is
    decommissioned on the process server itself with M(asr.process_server.uninstall).
  - After each purge the database is read again; the task fails, with the script's output, when the address is
    still registered.
options:
  ip_address:
    description:
      - IPv4 address of the process server to purge, as the configuration server knows it.
    type: str
    required: true
  force:
    description:
      - Purge even when the last heartbeat is recent or unknown.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Check mode reads the registrations only; the purge script is never started.
  diff_mode:
    support: full
    details: The registered process servers with that address before, none after.
notes:
  - B(Why the purge script is never used to look) - the revisions of Microsoft's instructions disagree. The 2017
    one says C(perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS) purges the process server's details
    at once, with no listing and no prompt; the 2018 and 2019 ones describe a listing (S.No, IP/Name, Heartbeat)
    followed by a prompt for the serial number to unregister. The module therefore starts it only to purge, with
    C(1) on its standard input - the first row of a listing that only shows that address, unread by a script that
    purges at once - once per registered row, and verifies the result in the database.
  - Deletion can take up to 15 minutes to show in the portal.
seealso:
  - module: asr.process_server.registration_info
  - module: asr.process_server.uninstall
"""

EXAMPLES = r"""
- name: Purge the dead process server 10.0.0.101 from the configuration server
  asr.process_server.unregister:
    ip_address: 10.0.0.101
  delegate_to: cs01

- name: What would be purged (reads the registrations only)
  asr.process_server.unregister:
    ip_address: 10.0.0.101
  delegate_to: cs01
  check_mode: true
"""

RETURN = r"""
process_servers:
  description:
    - The registered process servers with O(ip_address) before the task (the rows
      M(asr.process_server.registration_info) returns).
  returned: success
  type: list
  elements: dict
  contains:
    ip:
      description: IP address.
      type: str
      sample: 10.0.0.101
    name:
      description: Machine name.
      type: str
      sample: PS01
    host_id:
      description: The host's GUID in the configuration server's database.
      type: str
    heartbeat:
      description: Last heartbeat of the process server, or null.
      type: str
      sample: "2024-05-01 10:00:00"
    heartbeat_age_minutes:
      description: Minutes since that heartbeat by the database's clock, or null.
      type: float
      sample: 60.0
purged:
  description: The rows purged (in check mode, none).
  returned: success
  type: list
  elements: dict
reasons:
  description: What the task found.
  returned: success
  type: list
  elements: str
database:
  description: Where the registrations were read (see M(asr.process_server.registration_info)).
  returned: success
  type: dict
rc:
  description: Exit code of the purge (or of C(mysql.exe) when the read failed).
  returned: failure
  type: int
stdout:
  description: Output of the purge that left the address registered.
  returned: failure of a purge
  type: str
stderr:
  description: Its error output.
  returned: failure
  type: str
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
