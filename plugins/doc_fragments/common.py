# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Options every module of the asr.process_server.process_server action group accepts, so that
# module_defaults can set the configuration server and passphrase once for a whole play.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  configuration_server_ip:
    description:
      - IPv4 address of the configuration server the process server registers with (C(/CSIP)).
      - Every module of the C(asr.process_server.process_server) action group accepts it so that
        C(module_defaults) can set it once; a module that does not need it ignores it.
    type: str
  configuration_server_port:
    description:
      - TCP port of the configuration server's control channel. Process servers reach it on 443, the
        port Unified Setup validates the passphrase against.
    type: int
    default: 443
  passphrase:
    description:
      - The configuration server's connection passphrase (on the configuration server,
        C(%ProgramData%\ASR\home\svsystems\bin\genpassphrase.exe -v)).
      - Never put on a command line and never returned; modules that need it write it to a file readable
        only by SYSTEM and Administrators for the duration of the step, then remove it.
      - Modules that do not need it ignore it.
    type: str
  passphrase_file:
    description:
      - Path, on the managed host, of a file that already holds the passphrase; an alternative to
        O(passphrase). Modules that do not need it ignore it.
      - When Unified Setup would run, the read-only probe checks the file first - it exists, the session that runs
        setup can read it, and it holds exactly one non-empty line (C(genpassphrase.exe -v > file)) - and the task
        refuses before any change otherwise, in check mode too, naming the option and the path. Its content is
        never returned.
      - A file under a user profile (for example C(C:\Users\Administrator\Desktop\Passphrase.txt)) gets a warning -
        profiles are per-user, so SYSTEM (become) or another administrator may not read it, and it leaves the
        passphrase on a desktop. Prefer O(passphrase) from Ansible Vault.
    type: str
notes:
  - The options above are shared by every module of the C(asr.process_server.process_server) action group,
    so a play can set them once with C(module_defaults) (C(group/asr.process_server.process_server)).
"""
