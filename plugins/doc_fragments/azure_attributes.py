# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The support levels of the modules that talk to Azure Resource Manager (the action group ``azure``), as
# attributes.py gives them for the WinRM modules. Each module adds its own check_mode and diff_mode.


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action:
    support: full
    details: An action plugin that runs on the controller and calls Azure Resource Manager through Microsoft's
      C(azure-mgmt-recoveryservicessiterecovery) client; it makes no WinRM call.
  action_group:
    support: full
    membership:
      - asr.process_server.azure
  async:
    support: none
    details: The task refuses the C(async) keyword; a Switch is a long-running Azure operation the task waits for
      (for C(switch_process_server), its option C(wait_timeout)).
  bypass_host_loop:
    support: none
  platform:
    support: full
    platforms: all
"""
