# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Attributes every module of the collection shares: member of the asr.process_server.process_server action
# group, Windows only. Each module adds its own support level and details for check_mode and diff_mode
# (Ansible merges a module's attribute over the fragment's, key by key).


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  action_group:
    description: Use C(group/asr.process_server.process_server) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - asr.process_server.process_server
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: windows
"""
