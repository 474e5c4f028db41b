# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's options, in one place: the action plugins take their ``ARGUMENT_SPEC`` and ``ARGUMENT_RULES`` (the
``<MODULE>_RULES``: mutually_exclusive, required_if, ... as Ansible's argument spec validation takes them) from here.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Each spec is kept equal to the DOCUMENTATION of its doc-only module (plugins/modules/<name>.py) by
tests/unit/plugins/test_docs_match_spec.py. ``process_server`` is composed from the single-purpose modules' options
(install's under their own names, the upgrade's intermediate ``installers``, the proxy module's ``update_password``
inside ``proxy``, the registration's ``force`` as ``force_reregister``, uninstall's options), so a playbook can switch
between it and the single-purpose modules and there is one source of truth.
"""

from __future__ import annotations

import copy
from typing import Any

from . import proxy_plan, sizing, switch_plan

DEFAULT_STAGING_DIR = r"C:\ProgramData\ASRSetupStaging"
# The three places a Unified Setup package can come from (one of them, exactly).
PACKAGE_OPTIONS = ["installer", "installer_remote_path", "installer_url"]
# The package and what it must be (install and upgrade; process_server takes install's).
PACKAGE: dict[str, Any] = {
    "installer": {"type": "path"},
    "installer_remote_path": {"type": "str"},
    # A URL may carry a token (an Azure storage SAS): no_log, and only its redacted form is ever shown.
    "installer_url": {"type": "str", "no_log": True},
    "installer_checksum": {"type": "str"},
    "installer_version": {"type": "str"},
}
SETUP_TIMING: dict[str, Any] = {
    "reboot": {"type": "bool", "default": False},
    "reboot_timeout": {"type": "int", "default": 1200},
    "setup_timeout": {"type": "int", "default": 5400},
    "poll_interval": {"type": "int", "default": 15},
    "stop_setup_on_timeout": {"type": "bool", "default": False},
}

# ---- install -------------------------------------------------------------------------------------------------
# Of the action group's shared options install uses configuration_server_ip (required), passphrase and
# passphrase_file; configuration_server_port is deprecated here (setup reaches the configuration server on 443 [1.3]).
INSTALL: dict[str, Any] = {
    "configuration_server_ip": {"type": "str", "required": True},
    "passphrase": {"type": "str", "no_log": True},
    "passphrase_file": {"type": "str"},
    **PACKAGE,
    "staging_dir": {"type": "str", "default": DEFAULT_STAGING_DIR},
    "install_location": {"type": "str", "required": True},
    # No ``choices``: Ansible compares them case-sensitively and Microsoft's own examples write ``VMWare``;
    # unified_setup.canonical_env_type accepts any capitalisation and refuses the rest before any remote call.
    "env_type": {"type": "str", "required": True},
    "process_server_ip": {"type": "str"},
    "data_port": {"type": "int", "default": 9443},
    "proxy": {
        "type": "dict",
        "options": {
            "address": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
        },
    },
    "skip_space_check": {"type": "bool", "default": False},
    "configuration_server_version": {"type": "str"},
    **SETUP_TIMING,
}
INSTALL_RULES: dict[str, list[Any]] = {
    "mutually_exclusive": [["passphrase", "passphrase_file"], PACKAGE_OPTIONS],
    "required_one_of": [["passphrase", "passphrase_file"], PACKAGE_OPTIONS],
}

# ---- upgrade -------------------------------------------------------------------------------------------------
# /Upgrade takes no configuration server, passphrase or port [1.3]: of the action group's shared options only
# configuration_server_ip means something here (the host must belong to it); the others are deprecated.
UPGRADE: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    **PACKAGE,
    "installers": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "path": {"type": "path"},
            "remote_path": {"type": "str"},
            "url": {"type": "str", "no_log": True},
            "version": {"type": "str", "required": True},
            "checksum": {"type": "str"},
        },
        "mutually_exclusive": [["path", "remote_path", "url"]],
        "required_one_of": [["path", "remote_path", "url"]],
    },
    "staging_dir": {"type": "str", "default": DEFAULT_STAGING_DIR},
    "configuration_server_version": {"type": "str"},
    "server_role": {"type": "str", "default": "auto", "choices": ["auto", "process_server", "configuration_server"]},
    "accept_third_party_eula": {"type": "bool", "default": False},
    **SETUP_TIMING,
}
# Options for upgrading a configuration server; process_server (process servers only) has none.
CONFIGURATION_SERVER_OPTIONS = ("server_role", "accept_third_party_eula")
UPGRADE_RULES: dict[str, list[Any]] = {"mutually_exclusive": [PACKAGE_OPTIONS], "required_one_of": [PACKAGE_OPTIONS]}

# ---- proxy, registration, uninstall --------------------------------------------------------------------------
PROXY: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "state": {"type": "str", "choices": list(proxy_plan.STATES), "default": "present"},
    "proxy_address": {"type": "str"},
    "proxy_port": {"type": "int"},
    "proxy_username": {"type": "str"},
    "proxy_password": {"type": "str", "no_log": True},
    "update_password": {"type": "str", "choices": list(proxy_plan.UPDATE_PASSWORD), "default": "on_change"},
    "settings_file": {"type": "str"},
}
PROXY_RULES: dict[str, list[Any]] = {
    "required_if": [["state", "present", ["proxy_address", "proxy_port"]]],
    "required_together": [["proxy_username", "proxy_password"]],
}

REGISTRATION: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "force": {"type": "bool", "default": False},
}

UNINSTALL: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "workload_moved": {"type": "bool", "default": False},
    "keep_mars_agent": {"type": "bool", "default": False},
}

# ---- the configuration server's database (registration_info, unregister) --------------------------------------
# The options both modules take to choose the MySQL account (doc_fragments/configuration_server_database.py).
DATABASE: dict[str, Any] = {
    "database_user": {"type": "str"},
    "database_password": {"type": "str", "no_log": True},
}
DATABASE_RULES: dict[str, list[Any]] = {"required_together": [["database_user", "database_password"]]}

REGISTRATION_INFO: dict[str, Any] = {
    "ip_addresses": {"type": "list", "elements": "str"},
    **DATABASE,
}

UNREGISTER: dict[str, Any] = {
    "ip_address": {"type": "str", "required": True},
    "force": {"type": "bool", "default": False},
    **DATABASE,
}

# ---- info ----------------------------------------------------------------------------------------------------
INFO: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "configuration_server_port": {"type": "int", "default": 443},
    "connect_timeout": {"type": "int", "default": 3},
    "installer_path": {"type": "str"},
    "installer_checksum": {"type": "bool", "default": True},
    "include_log_tail": {"type": "bool", "default": False},
    "log_tail_lines": {"type": "int", "default": 40},
    "diagnose": {"type": "bool", "default": False},
}
# The options that shape the probe (probe.ps1's and diagnose.ps1's parameters).
INFO_PROBE_OPTIONS = (
    "configuration_server_ip",
    "configuration_server_port",
    "connect_timeout",
    "installer_path",
    "installer_checksum",
    "include_log_tail",
    "log_tail_lines",
)


# ---- process_server: composed from the others ------------------------------------------------------------------
PROCESS_SERVER_STATES = ("present", "latest", "absent", "staged")
INSTALL_REQUIRED = ["configuration_server_ip", "install_location", "env_type"]


def _optional(spec: dict[str, Any]) -> dict[str, Any]:
    """An option of another module, no longer ``required`` here (required per ``state`` instead)."""
    option = copy.deepcopy(spec)
    option.pop("required", None)
    return option


def _proxy_option() -> dict[str, Any]:
    """install's ``proxy`` dict plus ``state`` and the proxy module's ``update_password``."""
    option = copy.deepcopy(INSTALL["proxy"])
    suboptions = {"state": {"type": "str", "choices": list(proxy_plan.STATES), "default": "present"}}
    suboptions.update({name: _optional(spec) for name, spec in option["options"].items()})
    suboptions["update_password"] = copy.deepcopy(PROXY["update_password"])
    option["options"] = suboptions
    option["required_if"] = [["state", "present", ["address", "port"]]]
    option["required_together"] = [["username", "password"]]
    return option


PROCESS_SERVER: dict[str, Any] = {
    "state": {"type": "str", "choices": list(PROCESS_SERVER_STATES), "default": "present"},
    **{name: _optional(spec) for name, spec in INSTALL.items() if name != "proxy"},
    # The upgrade module's options that install does not have (``installers``: intermediate builds for N-4 hops).
    **{
        name: copy.deepcopy(spec)
        for name, spec in UPGRADE.items()
        if name not in INSTALL and name not in CONFIGURATION_SERVER_OPTIONS
    },
    "proxy": _proxy_option(),
    "force_reregister": copy.deepcopy(REGISTRATION["force"]),
    **copy.deepcopy(UNINSTALL),
}
PROCESS_SERVER_RULES: dict[str, list[Any]] = {
    "mutually_exclusive": copy.deepcopy(INSTALL_RULES["mutually_exclusive"]),
    "required_if": [
        rule
        for wanted in ("present", "latest")
        for rule in (
            ["state", wanted, INSTALL_REQUIRED],
            *[["state", wanted, one_of, True] for one_of in INSTALL_RULES["required_one_of"]],
        )
    ]
    + [["state", "staged", PACKAGE_OPTIONS, True]],
}
# The proxy module's option names as process_server's ``proxy`` suboptions name them (in messages).
PROXY_OPTION_NAMES = {
    "proxy_address": "proxy.address",
    "proxy_port": "proxy.port",
    "proxy_username": "proxy.username",
    "proxy_password": "proxy.password",
    "update_password": "proxy.update_password",
    "settings_file": "proxy",
}


# ---- Azure Resource Manager (vault_info, switch_process_server) --------------------------------------------------
# The options every Azure module takes (azure.azcollection's names; doc fragment azure_auth), and the vault.
AZURE_AUTH: dict[str, Any] = {
    "auth_source": {"type": "str", "choices": ["auto", "cli", "env", "credential_file", "msi"]},
    "profile": {"type": "str"},
    "subscription_id": {"type": "str"},
    "client_id": {"type": "str", "no_log": True},
    "secret": {"type": "str", "no_log": True},
    "tenant": {"type": "str", "no_log": True},
    "x509_certificate_path": {"type": "path", "no_log": True},
    "cloud_environment": {"type": "str"},
    "adfs_authority_url": {"type": "str"},
    "cert_validation_mode": {"type": "str", "choices": ["validate", "ignore"]},
    "disable_instance_discovery": {"type": "bool"},
    "resource_manager_endpoint": {"type": "str"},
    "ca_path": {"type": "path"},
}
AZURE_VAULT: dict[str, Any] = {
    "resource_group": {"type": "str", "required": True},
    "vault": {"type": "str", "required": True},
}

VAULT_INFO: dict[str, Any] = {
    **AZURE_VAULT,
    "fabric": {"type": "str"},
    "protected_machines": {"type": "bool", "default": True},
    **AZURE_AUTH,
}

SWITCH_PROCESS_SERVER: dict[str, Any] = {
    **AZURE_VAULT,
    "configuration_server": {"type": "str", "aliases": ["fabric"]},
    "source": {"type": "str", "required": True},
    "target": {"type": "str", "required": True},
    "machines": {"type": "list", "elements": "str"},
    "target_tier": {"type": "str", "choices": [t.name for t in sizing.tiers_for(sizing.PROCESS_SERVER)]},
    "target_max_machines": {"type": "int"},
    "target_health": {"type": "str", "choices": list(switch_plan.ACCEPTED_HEALTH), "default": "Normal"},
    "wait_timeout": {"type": "int", "default": 3600},
    "poll_interval": {"type": "int", "default": 30},
    **AZURE_AUTH,
}
SWITCH_PROCESS_SERVER_RULES: dict[str, list[Any]] = {"mutually_exclusive": [("target_tier", "target_max_machines")]}
