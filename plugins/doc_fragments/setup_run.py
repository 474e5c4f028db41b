# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Options of every module that runs Unified Setup (install, upgrade, process_server): where the package is
# staged, how it is verified, reboots, and how long a run may take. The same names with the same rules in
# each module (plugins/plugin_utils/_op_setup.py runs setup for all three).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  installer_remote_path:
    description:
      - Path on the host of a Unified Setup package that is already there; an alternative to O(installer).
    type: str
  installer_checksum:
    description:
      - Expected SHA-256 of the installer (64 hexadecimal digits, optionally prefixed with C(sha256:)). A
        controller file that does not match is refused before any remote call; the host verifies the staged file
        again right before extracting it.
    type: str
  staging_dir:
    description:
      - Folder on the host (without spaces) for staged packages, their extracted files and the run folder of the
        detached setup. A package from the controller is transferred into the host's C($env:SystemRoot\Temp) (the
        connection cannot create a folder) and moved here, one folder per SHA-256, when setup starts. The extracted
        files and the run folder are removed after every run; the packages stay, so a later run does not copy them
        again (nor one that an interrupted run left in C($env:SystemRoot\Temp)).
    type: str
    default: C:\ProgramData\ASRSetupStaging
  reboot:
    description:
      - Reboot when a reboot is pending before setup and when a Unified Setup run exits with 3010, then verify the
        result and go on. Without it a pending reboot is refused and 3010 ends the task with RV(reboot_required).
    type: bool
    default: false
  reboot_timeout:
    description: Seconds to wait for the host to come back from each reboot (at least 60).
    type: int
    default: 1200
  setup_timeout:
    description:
      - Hard limit in seconds (at least 60) for each Unified Setup run; setup usually takes 20 to 60 minutes. On
        timeout the task fails and setup is left running; any secret file written for it is removed.
    type: int
    default: 5400
  poll_interval:
    description: Seconds between two polls of the running setup (1 to 600, at most O(setup_timeout)).
    type: int
    default: 15
"""
