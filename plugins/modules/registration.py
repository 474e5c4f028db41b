#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/registration.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: registration
short_description: Re-register a process server's master target with its configuration server
version_added: 0.1.0
extends_documentation_fragment:
  - asr.process_server.steps
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
description:
  - Re-registers an Azure Site Recovery (classic) scale-out process server with the configuration server it is
    configured for, as documented for re-registering a process server and its master target
    (C(cdpcli.exe --registermt) from C(%ProgramData%\ASR\Agent), then C(net stop obengine) /
    C(net start obengine)), in one remote call.
  - Idempotent from one read-only probe - it re-registers only when the configuration server named in
    C(amethyst.conf) (C(PS_CS_IP)) does not answer on its port from the host, or C(obengine) is not running. Use
    O(force=true) after the configuration server was re-registered, its certificates changed or its passphrase
    was renewed.
  - Fails before any change when the host is not an installed process server, has no master target agent, or is
    configured for another configuration server than O(configuration_server_ip) (when set). No documented
    silent command moves a process server to another configuration server; use C(cspsconfigtool) or reinstall.
  - Fails clearly, with the exit code and output of C(cdpcli.exe) and what to check, when the configuration
    server cannot be reached.
options:
  force:
    description:
      - Re-register even when the probe shows nothing wrong (the task then always reports a change).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Check mode runs only the read-only probe.
  diff_mode:
    support: none
notes:
  - The host keeps no documented marker of the master target's registration, and the configuration server's last
    heartbeat from this process server is kept on the configuration server, so neither is part of the decision;
    a stopped C(tmansvc) (no heartbeat) is reported as a warning, because re-registering does not start it.
  - Restarting C(obengine) interrupts uploads to Azure for the restart's duration.
  - This module was called C(asr.process_server.register), a name that reads like the C(register) task keyword. The
    old name still runs this module, with a deprecation warning, until the collection's release 1.0.0.
seealso:
  - module: asr.process_server.proxy
  - module: asr.process_server.info
"""

EXAMPLES = r"""
- name: Re-register when the configuration server does not answer or obengine is down
  asr.process_server.registration:
    configuration_server_ip: 10.150.24.119

- name: Re-register after the configuration server's certificates were renewed
  asr.process_server.registration:
    force: true
"""

RETURN = r"""
registration:
  description: The registration as the probe saw it before the task.
  returned: success
  type: dict
  contains:
    registered:
      description: Whether amethyst.conf names a configuration server.
      type: bool
      sample: true
    configuration_server_ip:
      description: The configuration server the process server is configured for (C(PS_CS_IP)).
      type: str
      sample: 10.150.24.119
    configuration_server_port:
      description: Its port (C(PS_CS_PORT)).
      type: int
      sample: 443
    configuration_server_reachable:
      description: Whether the host could open a TCP connection to it; null when not tested.
      type: bool
      sample: true
    configuration_server_error:
      description: Why the connection failed, or null.
      type: str
    master_target_installed:
      description: Whether the Mobility Service/Master Target agent is installed.
      type: bool
      sample: true
    obengine:
      description: State of the obengine service (V(running), V(stopped), ...; null when missing). After a
        successful re-registration, V(running).
      type: str
      sample: running
    tmansvc:
      description: State of the tmansvc service, which sends the heartbeat.
      type: str
      sample: running
reasons:
  description: Why the task re-registers (empty when it does not).
  returned: success
  type: list
  elements: str
  sample: ["force=true"]
steps:
  description:
    - What the task did (in check mode, would do), in order; one dictionary per step, its keys in the notes.
    - C(cdpcli.exe --registermt), then C(restart obengine); empty when no re-registration is needed.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: cdpcli.exe --registermt, changed: true, rc: 0}
    - {name: restart obengine, changed: true, rc: 0}
rc:
  description: Exit code of the failed step (for example of C(cdpcli.exe --registermt)).
  returned: failure of a step
  type: int
  sample: 1
stdout:
  description: Output of the failed step.
  returned: failure of a step
  type: str
stderr:
  description: Error output of the failed step.
  returned: failure of a step
  type: str
  sample: Failed to register master target with configuration server 10.0.0.11. Unable to connect ...
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
