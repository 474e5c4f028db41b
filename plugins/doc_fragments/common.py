# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# What every module of the asr.process_server.process_server action group (the WinRM modules) shares, stated once:
# - the group's shared options (plugin_utils/operations/action_base.py SHARED_OPTIONS), which module_defaults may
#   hand to any module of the group: configuration_server_ip with its usual meaning, and configuration_server_port,
#   passphrase and passphrase_file as most of the group takes them - accepted, ignored, deprecated. A module that
#   means something else by one documents it itself (info: the port) or extends, listed BEFORE this fragment, the
#   fragment that does (unified_setup: the passphrase; configuration_server_database: the deprecated
#   configuration_server_ip) - ansible-core merges fragments key by key and what is merged first wins.
#   tests/unit/plugins/test_shared_options.py checks each module's merged text against its argument spec.
# - the support levels of the attributes. Their descriptions are ansible-core's own
#   (ansible.builtin.action_common_attributes, .flow and .actiongroups, listed after this fragment in each module,
#   so these support levels and the group membership stand over the builtin placeholders). Each module adds its own
#   support level and details for check_mode and diff_mode.
# - the notes on the shared options and on refusals (the contract of the return value ``refused``, which every
#   module of the group documents in its RETURN in short).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  configuration_server_ip:
    description:
      - IPv4 address of the configuration server the process server is registered with (C(/CSIP)).
    type: str
  configuration_server_port:
    description:
      - B(Deprecated), ignored - Unified Setup reaches the configuration server on 443 only, and a registered
        process server on the port of its C(amethyst.conf). Only M(asr.process_server.info) uses a port, for its
        reachability test. Removed from this module in release 1.0.0 of the collection (see the notes on the
        group's shared options).
    type: int
  passphrase:
    description:
      - B(Deprecated), ignored - only a Unified Setup install uses the passphrase (M(asr.process_server.install),
        M(asr.process_server.process_server)); a secret is best handed only to the modules that need it. Removed
        from this module in release 1.0.0 of the collection (see the notes on the group's shared options).
    type: str
  passphrase_file:
    description:
      - B(Deprecated), ignored, for the same reason as O(passphrase); removed from this module in release 1.0.0.
    type: str
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
author:
  - asr.process_server developers (@asr-process-server)
notes:
  - B(The group's shared options) - every module of the C(asr.process_server.process_server) action group accepts
    C(configuration_server_ip), C(configuration_server_port), C(passphrase) and C(passphrase_file), so a play can set
    them once with C(module_defaults) (C(group/asr.process_server.process_server)). A module that does not use one
    accepts it only for that, says so in its description (B(Deprecated), ignored) and gives a deprecation warning
    when it is set; those are removed from it in release 1.0.0 of the collection - set them for the modules that
    use them instead.
  - B(Refusals) - RV(refused) is V(true) when the task failed because the module refused to act, before any
    change - a bad option, or a finding of its read-only probe that blocks the operation (for example a process
    server registered to another configuration server, a jump beyond N-4, a blocked install preflight). Every remote
    call it made was read-only, so nothing was changed on the host; the message says what is wrong and what to do.
    The fleet playbooks' screening uses it - a host refused in check mode is failed in the rolling play with that
    message, without calling the module again.
"""
