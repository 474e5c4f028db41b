# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The Unified Setup parameters of a process server install (install and process_server): the same names,
# values and checks in both (plugins/plugin_utils/domain/unified_setup.py). Whether an option is required is the
# module's to say.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
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
