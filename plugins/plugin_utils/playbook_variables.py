# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet playbooks' ``asr_*`` variables and the module options they feed.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

An operator of the playbooks sets ``asr_installers``, not the module option ``installers``; a message a playbook
run can reach names both (:func:`both`), so the operator finds what to change whichever way they run the module.
"""

from __future__ import annotations

from .errors import InvalidOption

# Module option -> the playbook variable that feeds it (roles/*/defaults/main.yml, playbooks/upgrade.yml).
OPTION_VARIABLES: dict[str, str] = {
    "configuration_server_ip": "asr_configuration_server_ip",
    "configuration_server_version": "asr_configuration_server_version",
    "passphrase": "asr_passphrase",
    "passphrase_file": "asr_passphrase_file",
    "installer": "asr_installer",
    "installer_remote_path": "asr_installer_remote_path",
    "installer_checksum": "asr_installer_checksum",
    "installer_version": "asr_installer_version",
    "installers": "asr_installers",
    "install_location": "asr_install_location",
    "env_type": "asr_env_type",
    "process_server_ip": "asr_ip",
    "data_port": "asr_data_port",
    "proxy": "asr_proxy",
    "update_password": "asr_proxy_update_password",
    "settings_file": "asr_proxy_settings_file",
    "force_reregister": "asr_force_reregister",
    "skip_space_check": "asr_skip_space_check",
    "reboot": "asr_reboot",
    "poll_interval": "asr_poll_interval",
    "setup_timeout": "asr_setup_timeout",
    "workload_moved": "asr_workload_moved",
    "keep_mars_agent": "asr_keep_mars_agent",
    "accept_third_party_eula": "asr_accept_third_party_eula",
}


def playbook_variable(option: str) -> str | None:
    """The playbook variable behind a module option (``installers[0].version`` -> ``asr_installers[0].version``).

    ``option`` may carry an index or a sub-option; the variable gets the same suffix. None when no playbook
    variable feeds the option.
    """
    root = option.split("[", 1)[0].split(".", 1)[0]
    variable = OPTION_VARIABLES.get(root)
    return None if variable is None else variable + option[len(root) :]


def both(option: str) -> str:
    """``installers (asr_installers in the playbooks)``: the module option and the playbook variable behind it."""
    variable = playbook_variable(option)
    return option if variable is None else f"{option} ({variable} in the playbooks)"


def describe(error: InvalidOption) -> str:
    """A refusal's message, plus the playbook variable behind its option when a playbook variable feeds it."""
    variable = playbook_variable(error.option)
    return str(error) if variable is None else f"{error} In the playbooks this is {variable}."
