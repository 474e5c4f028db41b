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
  - asr.process_server.common
  - asr.process_server.attributes
description:
  - Runs on the B(configuration server). Purges a scale-out process server that cannot be revived from the
    configuration server with the documented C(perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS), run
    from C(%ProgramData%\ASR\home\svsystems\bin).
  - The documentation (2018 and 2019 revisions) says the script first lists the process servers registered with
    that IP address (S.No, IP/Name, Heartbeat; more than one for duplicate entries), asks for the serial number of
    the one to unregister and prints C(Successfully unregistered <name> (<ip>)). The module uses that listing as
    its read-only check (one remote call), then purges each listed row with one call that answers the prompt.
  - Reports no change when no process server with O(ip_address) is listed.
  - Refuses to purge a process server whose last heartbeat is at most 15 minutes old (or cannot be read), unless
    O(force=true) - the purge is only for a process server that cannot be revived; a connected one is
    decommissioned on the process server itself with M(asr.process_server.uninstall).
options:
  ip_address:
    description:
      - IPv4 address of the process server to purge, as the configuration server lists it.
      - Exactly one of O(ip_address) and O(ip_addresses) is required.
    type: str
  ip_addresses:
    description:
      - List these addresses only, never purge (in any mode) - one remote call that runs the listing once per
        address and returns every row in RV(process_servers) with its heartbeat. The fleet playbooks read a whole
        rollout batch's heartbeats this way.
    type: list
    elements: str
  force:
    description:
      - Purge even when the listed heartbeat is recent or unreadable.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Check mode runs only the listing.
  diff_mode:
    support: full
    details: The listed process servers with that address before, none after.
notes:
  - B(Assumptions) - how to read the configuration server's list of registered process servers is not documented
    beyond the above. The module assumes (1) that the script purges nothing when its prompt gets no answer
    (standard input closed), which makes the listing read-only; (2) that a listing row starts with its serial
    number and contains the process server's IP address, with the heartbeat as C(YYYY-MM-DD HH:MM:SS) in the
    configuration server's local time (MySQL's DATETIME text; the configuration server keeps the heartbeat in the
    DATETIME column C(hosts.lastHostUpdateTimePs) according to the published product source); (3) that the serial
    number followed by Enter purges that row. Before answering, the purge call reads the listing again and purges
    only when that serial number still names the same address.
  - The configuration server's database is not read directly (that would need its database credentials).
  - Deletion can take up to 15 minutes to show in the portal.
seealso:
  - module: asr.process_server.uninstall
author:
  - asr.process_server developers (@asr-process-server)
"""

EXAMPLES = r"""
- name: Purge the dead process server 10.0.0.101 from the configuration server
  asr.process_server.unregister:
    ip_address: 10.0.0.101
  delegate_to: cs01

- name: Read the heartbeats of three process servers on the configuration server (read-only, one call)
  asr.process_server.unregister:
    ip_addresses: [10.0.0.101, 10.0.0.102, 10.0.0.103]
  delegate_to: cs01
  register: listing
"""

RETURN = r"""
process_servers:
  description: The listing's rows for O(ip_address) (or every address of O(ip_addresses)) before the task.
  returned: success
  type: list
  elements: dict
  contains:
    serial:
      description: The row's S.No.
      type: int
      sample: 1
    ip:
      description: IP address.
      type: str
      sample: 10.0.0.101
    name:
      description: Machine name, when the row shows one.
      type: str
      sample: PS01
    heartbeat:
      description: Last heartbeat as listed, or null.
      type: str
      sample: "2024-05-01 10:00:00"
    heartbeat_age_minutes:
      description: Minutes since that heartbeat by the configuration server's clock, or null.
      type: float
      sample: 60.0
    line:
      description: The row as printed.
      type: str
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
rc:
  description: Exit code of the purge that did not report success.
  returned: failure of a purge
  type: int
stdout:
  description: Its output.
  returned: failure of a purge
  type: str
stderr:
  description: Its error output.
  returned: failure of a purge
  type: str
refused:
  description:
    - V(true) when the task failed because the module refused to act, before any change - a bad option, or a
      finding of its read-only probe that blocks the operation (for example a process server registered to
      another configuration server, a jump beyond N-4, a blocked install preflight). Every remote call it made was
      read-only, so nothing was changed on the host; the message says what is wrong and what to do.
    - The fleet playbooks' screening uses it - a host refused in check mode is failed in the rolling play with
      that message, without calling the module again.
  returned: when the module refused
  type: bool
  sample: true
"""
