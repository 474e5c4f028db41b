# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The options module_defaults for the asr.process_server.process_server action group may hand to any module of the
# group (plugin_utils/operations/action_base.py SHARED_OPTIONS). A module documents the ones it uses with DOCUMENTATION
# (configuration_server_ip) and PASSPHRASE, the others - accepted, ignored and deprecated - with the DEPRECATED_*
# variables, and the group's note with GROUP. tests/unit/plugins/test_shared_options.py keeps this equal to the
# modules' argument specs.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  configuration_server_ip:
    description:
      - IPv4 address of the configuration server the process server is registered with (C(/CSIP)).
    type: str
"""

    PASSPHRASE = r"""
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
"""

    DEPRECATED_CONFIGURATION_SERVER_IP = r"""
options:
  configuration_server_ip:
    description:
      - B(Deprecated), ignored - this module runs on the configuration server itself and reads its own database.
        Accepted only so that C(module_defaults) for the action group can set it; it will be removed from this
        module in release 1.0.0 of the collection, and setting it gives a deprecation warning.
    type: str
"""

    DEPRECATED_PORT = r"""
options:
  configuration_server_port:
    description:
      - B(Deprecated), ignored - Unified Setup reaches the configuration server on 443 only, and a registered
        process server on the port of its C(amethyst.conf). Only M(asr.process_server.info) uses a port, for its
        reachability test. Accepted only so that C(module_defaults) for the action group can set it; it will be
        removed from this module in release 1.0.0 of the collection, and setting it gives a deprecation warning.
    type: int
"""

    DEPRECATED_PASSPHRASE = r"""
options:
  passphrase:
    description:
      - B(Deprecated), ignored - only a Unified Setup install uses the passphrase (M(asr.process_server.install),
        M(asr.process_server.process_server)); a secret is best handed only to the modules that need it. Accepted
        only so that C(module_defaults) for the action group can set it; it will be removed from this module in
        release 1.0.0 of the collection, and setting it gives a deprecation warning.
    type: str
  passphrase_file:
    description:
      - B(Deprecated), ignored, for the same reason as O(passphrase); removed from this module in release 1.0.0.
    type: str
"""

    GROUP = r"""
options: {}  # ansible-core requires options or attributes in a fragment; this one only adds the note
notes:
  - Every module of the C(asr.process_server.process_server) action group accepts the group's shared options
    (C(configuration_server_ip), C(configuration_server_port), C(passphrase), C(passphrase_file)), so a play can set
    them once with C(module_defaults) (C(group/asr.process_server.process_server)). A module that does not use one
    says so in its description and warns when it is set; those are removed from it in release 1.0.0 - set them
    for the modules that use them instead.
"""
