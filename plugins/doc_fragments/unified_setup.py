# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The Unified Setup parameters of a process server install (install and process_server): the same names,
# values and checks in both (plugins/plugin_utils/domain/unified_setup.py), the configuration server's passphrase
# among them (the only modules of the action group that use it: listed before asr.process_server.common, whose
# deprecated passphrase options it replaces - what is merged first wins). Whether an option is required is the
# module's to say.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  passphrase:
    description:
      - The configuration server's connection passphrase (on the configuration server,
        C(%ProgramData%\ASR\home\svsystems\bin\genpassphrase.exe -v)).
      - Never put on a command line and never returned; it is written to a file readable only by SYSTEM and
        Administrators for the duration of Unified Setup, then removed.
    type: str
  passphrase_file:
    description:
      - Path, on the managed host, of a file that already holds the passphrase; an alternative to O(passphrase).
      - When Unified Setup would run, the read-only probe checks the file first - it exists, the session that runs
        setup can read it, and it holds exactly one non-empty line (C(genpassphrase.exe -v > file)) - and the task
        refuses before any change otherwise, in check mode too, naming the option and the path. Its content is
        never returned.
      - A file under a user profile (for example C(C:\Users\Administrator\Desktop\Passphrase.txt)) gets a warning -
        profiles are per-user, so SYSTEM (become) or another administrator may not read it, and it leaves the
        passphrase on a desktop. Prefer O(passphrase) from Ansible Vault.
    type: str
  install_location:
    description:
      - Where Unified Setup installs (C(/InstallLocation)), for example D:\ (a drive root) or a folder. It must be
        on a fixed NTFS drive that is not the system drive; the process server cache lives under it. Created if
        missing.
    type: str
  env_type:
    description:
      - V(VMware) for a VMware virtual machine (setup then requires VMware Tools), V(NonVMware) otherwise
        (C(/EnvType)).
      - Any capitalisation is accepted (Microsoft's command lines write V(VMWare) and V(NonVMWare); Unified Setup
        compares the value upper-cased) and normalised to V(VMware) or V(NonVMware); any other value is refused
        before any remote call.
    type: str
  process_server_ip:
    description:
      - IPv4 address of the network card that receives replication data (C(/PSIP)); setup picks one when unset.
    type: str
  data_port:
    description:
      - The replication data port (C(/DataTransferSecurePort)), 1 to 65535. 443 is refused because it is the
        configuration server's control channel (setup would silently keep 9443).
    type: int
    default: 9443
  skip_space_check:
    description:
      - Pass C(/SkipSpaceCheck) and skip the module's own 600 GB check of the install location's drive.
    type: bool
    default: false
"""
