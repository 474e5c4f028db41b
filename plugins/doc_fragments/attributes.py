# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The support levels every module of the collection shares. The attributes' descriptions are ansible-core's own
# (ansible.builtin.action_common_attributes, .flow and .actiongroups, listed after this fragment in each module:
# Ansible merges fragments key by key and what is merged first wins, so these support levels and the group
# membership stand over the builtin placeholders). Each module adds its own support level and details for
# check_mode and diff_mode.


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details: Each module is an action plugin - it validates its options on the controller, then runs the collection's
      PowerShell scripts on the host through M(ansible.windows.win_powershell).
  action_group:
    support: full
    membership:
      - asr.process_server.process_server
  async:
    support: none
    details: The task refuses the C(async) keyword. A Unified Setup run, the only long step, is already started
      detached on the host and polled until it ends or its time limit passes.
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: windows
"""
