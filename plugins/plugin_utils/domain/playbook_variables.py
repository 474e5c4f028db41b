# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet playbooks' ``asr_*`` variables and the module options they feed.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

An operator of the playbooks sets ``asr_installers``, not the module option ``installers``; a message a playbook
run can reach names both (:func:`both`), so the operator finds what to change whichever way they run the module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import argument_specs, capacity_report, package_source, preflight, proxy_plan, sizing, switch_plan, unified_setup
from .checks import require_number
from .errors import InvalidOption
from .versions import parse_version

# Module option -> the asr_* variable that feeds it: the one name of the setting in the playbooks, the inventory and
# the roles (roles/*/meta/argument_specs.yml, docs/roles.md).
OPTION_VARIABLES: dict[str, str] = {
    "configuration_server_ip": "asr_configuration_server_ip",
    "configuration_server_version": "asr_configuration_server_version",
    "passphrase": "asr_passphrase",
    "passphrase_file": "asr_passphrase_file",
    "installer": "asr_installer",
    "installer_remote_path": "asr_installer_remote_path",
    "installer_url": "asr_installer_url",
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
    "template": "asr_report_template",  # capacity_report_html (plan.yml)
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


# ---- checking the playbooks' variables before any remote call (issue 10, item 3) ------------------------------
EMPTY = "It is empty: give a value, or leave the variable out to take the default."
_TRUE = frozenset({"true", "yes", "on", "1", "y", "t"})
_FALSE = frozenset({"false", "no", "off", "0", "n", "f"})


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value in ({}, [])


def _renamed(variable: str, check: Callable[[], Any], suffixes: Mapping[str, str] | None = None) -> Any:
    """Run a module-option check; its refusal names the playbook variable (``proxy_port`` -> ``asr_proxy.port``)."""
    try:
        return check()
    except InvalidOption as exc:
        raise InvalidOption(variable + (suffixes or {}).get(exc.option, ""), exc.value, exc.allowed, exc.why) from None


def _with_option(problem: InvalidOption, name: str) -> InvalidOption:
    """The refusal of ``name``, saying which module option the variable sets (when one does)."""
    option = OPTION_VARIABLES_REVERSED.get(name)
    if option is None:
        return problem
    sets = f"{problem.option} sets the module option {option}{problem.option[len(name) :]}."
    return InvalidOption(problem.option, problem.value, problem.allowed, f"{problem.why} {sets}".strip())


def check_bool(name: str, value: Any) -> bool:
    """A boolean as Ansible reads one: true/false, yes/no, on/off, 1/0 (as ``-e name=value`` gives it)."""
    allowed = "true or false (also yes/no, on/off, 1/0)"
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")


def _integer(name: str, value: Any, allowed: str) -> int:
    if isinstance(value, bool):
        raise InvalidOption(name, value, allowed)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    allowed = f"an integer from {minimum} to {maximum}" if maximum is not None else f"an integer of at least {minimum}"
    number = _integer(name, value, allowed)
    if number < minimum or (maximum is not None and number > maximum):
        raise InvalidOption(name, value, allowed)
    return number


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if isinstance(value, str) and value in choices:
        return value
    raise InvalidOption(name, value, "one of " + ", ".join(choices), EMPTY if _is_empty(value) else "")


def check_text(name: str, value: Any, allowed: str = "a non-empty string") -> str:
    if isinstance(value, str) and value.strip():
        return value
    raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")


SERIAL_ALLOWED = (
    "a positive integer (hosts per batch), a percentage from 1% to 100% of the hosts, or a list of those "
    "(a ramp such as [1, '25%'])"
)


def _batch(name: str, value: Any) -> int | str:
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        if number.isdigit() and 1 <= int(number) <= 100:
            return f"{int(number)}%"
        raise InvalidOption(name, value, SERIAL_ALLOWED, "A percentage of 0 would still roll out one host per batch.")
    number = _integer(name, value, SERIAL_ALLOWED)
    if number < 1:
        raise InvalidOption(
            name, value, SERIAL_ALLOWED, "A batch of 0 hosts makes Ansible roll out every host at once."
        )
    return number


def check_serial(name: str, value: Any) -> int | str | list[int | str]:
    """``serial`` of the rolling plays: Ansible's batch sizes, without the values it silently turns into others."""
    if isinstance(value, list | tuple):
        if not value:
            raise InvalidOption(name, value, SERIAL_ALLOWED, "An empty list is no batch size.")
        return [_batch(f"{name}[{index}]", item) for index, item in enumerate(value)]
    if _is_empty(value):
        raise InvalidOption(name, value, SERIAL_ALLOWED, EMPTY)
    return _batch(name, value)


def check_max_fail_percentage(name: str, value: Any) -> int | float:
    """``max_fail_percentage``: 0 (the first failed batch stops the rollout) to 100."""
    allowed = "a percentage from 0 to 100 (0: the first failed host stops the rollout after its batch)"
    number: Any = value
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            number = float(text) if "." in text else int(text)
        except ValueError:
            raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "") from None
    if isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= 100:
        raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")
    return number


def _version(name: str, value: Any) -> str:
    try:
        return str(parse_version(value, name))
    except InvalidOption as exc:
        why = "Quote it: YAML reads an unquoted 9.55 as a number." if isinstance(value, float) else exc.why
        raise InvalidOption(name, value, exc.allowed, EMPTY if _is_empty(value) else why) from None


def _controller_file(name: str, value: Any) -> str:
    path = check_text(name, value, "the path of the Unified Setup package file on the controller")
    if os.path.isabs(path) and not os.path.isfile(path):
        raise InvalidOption(name, value, "the path of an existing Unified Setup package file on the controller")
    return path


def _template_file(name: str, value: Any) -> str:
    """plan.yml's own Jinja2 template for the HTML capacity report: a file on the controller (relative paths from the
    directory ansible-playbook runs in, where the report is rendered)."""
    allowed = "the path of a Jinja2 template file on the controller (capacity_report_html's template)"
    path = check_text(name, value, allowed)
    if not os.path.isfile(path):
        raise InvalidOption(name, value, allowed, "No such file.")
    return path


_INSTALLER_KEYS = ("path", "remote_path", "url", "version", "checksum")


def _package_path(name: str, value: Any) -> str:
    r"""A package path the host reads: an absolute drive path, or a UNC path (``\\server\share\file.exe``)."""
    check_text(name, value, package_source.UNC_ALLOWED)
    return package_source.check_host_path(name, value)


def _fetched_by_the_host(url: Any, remote_path: Any) -> str | None:
    """``url`` or ``remote_path`` when the host fetches the package (a URL, a UNC path), else None."""
    if not _is_empty(url):
        return "url"
    if isinstance(remote_path, str) and package_source.is_unc(remote_path):
        return "remote_path"
    return None


def check_installers(name: str, value: Any) -> list[dict[str, Any]]:
    """Intermediate builds for jumps beyond N-4 [4]: ``{path, url or remote_path, version, checksum}`` each."""
    allowed = "a list of {path, url or remote_path, version, checksum} (intermediate builds for jumps beyond N-4)"
    if not isinstance(value, list | tuple):
        raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")
    checked = []
    for index, item in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidOption(where, item, "a mapping with " + ", ".join(_INSTALLER_KEYS))
        unknown = sorted(str(k) for k in item if k not in _INSTALLER_KEYS)
        if unknown:
            raise InvalidOption(f"{where}.{unknown[0]}", item[unknown[0]], "the keys " + ", ".join(_INSTALLER_KEYS))
        given = [key for key in ("path", "remote_path", "url") if item.get(key) not in (None, "")]
        if len(given) != 1:
            shown = "(" + ", ".join(given) + ")" if given else "(neither)"
            raise InvalidOption(where, shown, "exactly one of path, url and remote_path")
        if given == ["remote_path"]:
            _package_path(f"{where}.remote_path", item["remote_path"])
        elif given == ["url"]:
            package_source.check_url(f"{where}.url", item["url"])
        else:
            _controller_file(f"{where}.path", item["path"])
        _version(f"{where}.version", item.get("version"))
        if item.get("checksum") not in (None, ""):
            package_source.check_checksum(f"{where}.checksum", item["checksum"])
        elif _fetched_by_the_host(item.get("url"), item.get("remote_path")):
            raise InvalidOption(
                f"{where}.checksum", "(not set)", package_source.CHECKSUM_ALLOWED,
                "The host fetches this package (a URL or a UNC path) and checks it against its SHA-256.",
            )  # fmt: skip
        checked.append(dict(item))
    return checked


_PROXY_KEYS = ("state", "address", "port", "username", "password")
_PROXY_SUFFIXES = {
    "proxy_address": ".address",
    "proxy_port": ".port",
    "proxy_username": ".username",
    "proxy_password": ".password",
    "state": ".state",
}


def check_proxy(name: str, value: Any) -> dict[str, Any]:
    """``{address, port, username, password}`` or ``{state: absent}``; null or empty = the proxy is not managed."""
    allowed = "a mapping of address (http://...), port, and optionally username and password; or {state: absent}"
    if not isinstance(value, Mapping):
        raise InvalidOption(name, value, allowed)
    unknown = sorted(str(k) for k in value if k not in _PROXY_KEYS)
    if unknown:
        raise InvalidOption(f"{name}.{unknown[0]}", "(set)", "the keys " + ", ".join(_PROXY_KEYS))
    state = check_choice(f"{name}.state", value.get("state", "present"), ("present", "absent"))
    port = value.get("port")
    args = {
        "state": state,
        "proxy_address": value.get("address"),
        "proxy_port": _integer(f"{name}.port", port, "an integer from 1 to 65535") if port not in (None, "") else None,
        "proxy_username": value.get("username"),
        "proxy_password": value.get("password"),
    }
    _renamed(name, lambda: proxy_plan.desired_settings(args), _PROXY_SUFFIXES)
    return dict(value)


def _ip(name: str, value: Any) -> str:
    check_text(name, value, "an IPv4 address such as 10.0.0.11")
    return unified_setup.check_ipv4(name, value)


def _windows_path(name: str, value: Any) -> str:
    check_text(name, value, r"an absolute Windows path such as C:\ProgramData\ASR\passphrase.txt")
    return unified_setup.check_windows_path(name, value)


def _data_port(name: str, value: Any) -> int:
    port = _integer(name, value, "an integer from 1 to 65535 other than 443 (default 9443)")
    return _renamed(name, lambda: unified_setup.check_data_port(port))


@dataclass(frozen=True)
class Variable:
    """One ``asr_*`` variable: how its value is checked, and whether empty means "not set" (the role omits it)."""

    name: str
    check: Callable[[str, Any], Any]
    empty_is_unset: bool = False


# ---- the vault playbooks (rebalance.yml, decommission.yml's drain, plan.yml's vault source): docs/azure.md ----
_AZURE_KEYS = (*argument_specs.AZURE_VAULT, *argument_specs.AZURE_AUTH)


def check_azure(name: str, value: Any) -> dict[str, Any]:
    """asr_azure: the Azure modules' options (module_defaults of group asr.process_server.azure)."""
    allowed = "a mapping with resource_group, vault and how to sign in (" + ", ".join(_AZURE_KEYS) + ")"
    if not isinstance(value, Mapping):
        raise InvalidOption(name, "(set)" if value else value, allowed, EMPTY if _is_empty(value) else "")
    unknown = sorted(str(key) for key in value if key not in _AZURE_KEYS)
    if unknown:
        raise InvalidOption(name, "(set)", allowed, "Unknown key(s): " + ", ".join(unknown) + ".")
    for key in argument_specs.AZURE_VAULT:
        check_text(f"{name}.{key}", value.get(key), "the vault's " + key.replace("_", " "))
    if value.get("auth_source") is not None:
        check_choice(f"{name}.auth_source", value["auth_source"], argument_specs.AZURE_AUTH["auth_source"]["choices"])
    return dict(value)


_MOVE_KEYS = ("machine", "from_server", "to_server")


def check_moves(name: str, value: Any) -> list[dict[str, Any]]:
    """asr_rebalance_moves: a capacity report's fleet.plan.moves (machine, from_server, to_server each)."""
    allowed = "a list of moves, each a mapping with " + ", ".join(_MOVE_KEYS) + " (plan.yml's fleet.plan.moves)"
    if not isinstance(value, list):
        raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "")
    for index, move in enumerate(value):
        if not isinstance(move, Mapping) or any(_is_empty(move.get(key)) for key in _MOVE_KEYS):
            raise InvalidOption(f"{name}[{index}]", move, allowed)
    switch_plan.batches(value, 1, option=name)  # as rebalance.yml cuts them: a move to the same server is refused
    return [dict(move) for move in value]


def check_number(name: str, value: Any, minimum: float) -> float:
    """checks.require_number, for a value that may come as text (-e name=5)."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            allowed = f"a number of at least {minimum:g}"
            raise InvalidOption(name, value, allowed, EMPTY if _is_empty(value) else "") from None
    return require_number(name, value, minimum)


_TIERS = tuple(t.name for t in sizing.tiers_for(sizing.PROCESS_SERVER))


def _variables() -> dict[str, Variable]:
    def v(name: str, check: Callable[[str, Any], Any], empty_is_unset: bool = False) -> tuple[str, Variable]:
        return name, Variable(name, check, empty_is_unset)

    serial = check_serial
    return dict(
        [
            v("asr_serial", serial),
            v("asr_stage_batch", _batch),
            v("asr_stage_delay", lambda n, x: check_int(n, x, 1, 600)),
            v("asr_stage_timeout", lambda n, x: check_int(n, x, 60)),
            v("asr_max_fail_percentage", check_max_fail_percentage),
            v("asr_state", lambda n, x: check_choice(n, x, ("present", "latest", "absent"))),
            v("asr_preflight", check_bool),
            v("asr_configuration_server_ip", _ip),
            v("asr_passphrase", lambda n, x: _renamed(n, lambda: _passphrase(n, x))),
            v("asr_passphrase_file", _windows_path, empty_is_unset=True),
            v("asr_installer", _controller_file, empty_is_unset=True),
            v("asr_installer_remote_path", _package_path, empty_is_unset=True),
            v("asr_installer_url", package_source.check_url, empty_is_unset=True),
            v("asr_installer_checksum", package_source.check_checksum, empty_is_unset=True),
            v("asr_installer_version", _version, empty_is_unset=True),
            v("asr_version", _version, empty_is_unset=True),
            v("asr_configuration_server_version", _version, empty_is_unset=True),
            v("asr_installers", check_installers),
            v("asr_install_location", lambda n, x: _renamed(n, lambda: unified_setup.check_install_location(x))),
            v("asr_env_type", lambda n, x: _renamed(n, lambda: unified_setup.canonical_env_type(x))),
            v("asr_ip", _ip, empty_is_unset=True),
            v("asr_data_port", _data_port),
            v("asr_proxy", check_proxy, empty_is_unset=True),
            v("asr_proxy_update_password", lambda n, x: check_choice(n, x, ("always", "on_change"))),
            v("asr_proxy_settings_file", _windows_path, empty_is_unset=True),
            v("asr_force_reregister", check_bool),
            v("asr_skip_space_check", check_bool),
            v("asr_reboot", check_bool),
            v("asr_poll_interval", lambda n, x: check_int(n, x, 1, 600)),
            v("asr_setup_timeout", lambda n, x: check_int(n, x, 60)),
            v("asr_workload_moved", check_bool),
            v("asr_keep_mars_agent", check_bool),
            v("asr_purge_from_configuration_server", check_bool),
            v("asr_force_purge", check_bool),
            v("asr_accept_third_party_eula", check_bool),
            v("asr_verify_heartbeat", lambda n, x: check_choice(n, x, ("always", "changed", "never"))),
            v("asr_verify_services", check_bool),
            v("asr_decommission_hosts", lambda n, x: check_text(n, x, "a host name or an inventory pattern")),
            v("asr_report_dir", lambda n, x: check_text(n, x, "a folder on the controller for the reports")),
            v("asr_report_template", _template_file, empty_is_unset=True),
            v("asr_preflight_fail_on_block", check_bool),
            v("asr_azure", check_azure),
            v("asr_load_source", lambda n, x: check_choice(n, x, ("inventory", "vault"))),
            v("asr_vault_machine_churn_gb", lambda n, x: check_number(n, x, 0)),
            v("asr_rebalance_report", lambda n, x: check_text(n, x, "a capacity report JSON file plan.yml wrote")),
            v("asr_rebalance_moves", check_moves, empty_is_unset=True),
            v("asr_rebalance_batch_size", lambda n, x: check_int(n, x, 1)),
            v("asr_rebalance_configuration_server", lambda n, x: check_text(n, x, "the vault's configuration server")),
            v("asr_drain_to", lambda n, x: check_text(n, x, "another process server of the same configuration server")),
            v("asr_drain_configuration_server", lambda n, x: check_text(n, x, "the vault's configuration server")),
            v("asr_drain_target_tier", lambda n, x: check_choice(n, x, _TIERS)),
            v(
                "asr_diagnostics_dir",
                lambda n, x: check_text(n, x, "a folder on the controller for the diagnostics files"),
            ),
        ]
    )


def _passphrase(name: str, value: Any) -> str:
    text = check_text(name, value, "the configuration server's connection passphrase on one line")
    if "\n" in text or "\r" in text:
        raise InvalidOption(name, value, "the configuration server's connection passphrase on one line")
    return text


VARIABLES: dict[str, Variable] = _variables()
OPTION_VARIABLES_REVERSED: dict[str, str] = {variable: option for option, variable in OPTION_VARIABLES.items()}

# What each playbook reads, per inventory group it reads it for (the playbook's header names them too).
_ROLLOUT = ("asr_serial", "asr_max_fail_percentage")
_STAGE = ("asr_stage_batch", "asr_stage_delay", "asr_stage_timeout")  # the staging play before the canary
# The Unified Setup package a host installs or upgrades from, and the packages of the hops before it: the same
# variables for process servers and configuration servers.
_PACKAGE = (
    "asr_installer",
    "asr_installer_remote_path",
    "asr_installer_url",
    "asr_installer_checksum",
    "asr_installer_version",
    "asr_version",
    "asr_installers",
)
_CONVERGE = (
    "asr_configuration_server_ip",
    "asr_passphrase",
    "asr_passphrase_file",
    *_PACKAGE,
    "asr_install_location",
    "asr_env_type",
    "asr_ip",
    "asr_data_port",
    "asr_proxy",
    "asr_proxy_update_password",
    "asr_force_reregister",
    "asr_configuration_server_version",
    "asr_skip_space_check",
    "asr_reboot",
    "asr_poll_interval",
    "asr_setup_timeout",
    "asr_workload_moved",
    "asr_verify_heartbeat",
    "asr_verify_services",
)
_CS_UPGRADE = (
    *_PACKAGE,
    "asr_accept_third_party_eula",
    "asr_reboot",
    "asr_poll_interval",
    "asr_setup_timeout",
    "asr_ip",
    "asr_configuration_server_ip",
)
_PROXY = (
    "asr_proxy",
    "asr_proxy_update_password",
    "asr_proxy_settings_file",
    "asr_configuration_server_ip",
    "asr_ip",
    "asr_verify_heartbeat",
    "asr_verify_services",
)
_REREGISTER = (
    "asr_configuration_server_ip",
    "asr_force_reregister",
    "asr_ip",
    "asr_verify_heartbeat",
    "asr_verify_services",
)
_DECOMMISSION = (
    "asr_decommission_hosts",
    "asr_workload_moved",
    "asr_keep_mars_agent",
    "asr_purge_from_configuration_server",
    "asr_force_purge",
    "asr_ip",
    "asr_drain_to",
    "asr_drain_configuration_server",
    "asr_drain_target_tier",
    "asr_azure",
)
_REBALANCE = (
    "asr_azure",
    "asr_rebalance_report",
    "asr_rebalance_moves",
    "asr_rebalance_batch_size",
    "asr_rebalance_configuration_server",
    "asr_ip",
)
PROCESS_SERVERS, CONFIGURATION_SERVERS = "process_servers", "configuration_servers"
PLAYBOOKS: dict[str, dict[str, tuple[str, ...]]] = {
    "site.yml": {PROCESS_SERVERS: (*_ROLLOUT, *_STAGE, "asr_state", "asr_preflight", *_CONVERGE)},
    "upgrade.yml": {CONFIGURATION_SERVERS: _CS_UPGRADE, PROCESS_SERVERS: (*_ROLLOUT, *_STAGE, *_CONVERGE)},
    "proxy.yml": {PROCESS_SERVERS: (*_ROLLOUT, *_PROXY)},
    "reregister.yml": {PROCESS_SERVERS: (*_ROLLOUT, *_REREGISTER)},
    "decommission.yml": {PROCESS_SERVERS: _DECOMMISSION},
    "plan.yml": {
        PROCESS_SERVERS: (
            "asr_report_dir",
            "asr_report_template",
            "asr_load_source",
            "asr_azure",
            "asr_vault_machine_churn_gb",
            "asr_ip",
        )
    },
    "rebalance.yml": {PROCESS_SERVERS: _REBALANCE},
    "preflight.yml": {PROCESS_SERVERS: ("asr_configuration_server_ip", "asr_preflight_fail_on_block")},
    "diagnose.yml": {
        CONFIGURATION_SERVERS: ("asr_installer_remote_path", "asr_diagnostics_dir"),
        PROCESS_SERVERS: ("asr_installer_remote_path", "asr_diagnostics_dir"),
    },
}
# Variables checked as a group by the playbook's own domain function (the same one the playbook's later task uses).
GROUP_CHECKS: dict[str, tuple[tuple[str, ...], Callable[[dict[str, Any]], Any]]] = {
    "plan.yml": (tuple(capacity_report.PLAYBOOK_VARIABLES), capacity_report.options_from_variables),
    "preflight.yml": (tuple(preflight.PLAYBOOK_VARIABLES), preflight.expectations_from_variables),
}


def playbook_variable_names(playbook: str) -> tuple[str, ...]:
    """Every ``asr_*`` variable ``playbook`` reads (its groups' and its group check's)."""
    groups = PLAYBOOKS.get(playbook)
    if groups is None:
        raise InvalidOption("playbook", playbook, "one of " + ", ".join(PLAYBOOKS))
    names = [name for group in groups.values() for name in group]
    names += list(GROUP_CHECKS.get(playbook, ((), None))[0])
    return tuple(dict.fromkeys(names))


def check_host_variables(playbook: str, group: str, values: Mapping[str, Any]) -> list[InvalidOption]:
    """Every refusal for one host's variables (``values``: name -> value, only those that are set)."""
    problems: list[InvalidOption] = []
    for name in PLAYBOOKS[playbook].get(group, ()):
        if name not in values:
            continue
        variable = VARIABLES[name]
        value = values[name]
        if variable.empty_is_unset and _is_empty(value):
            continue
        try:
            variable.check(name, value)
        except InvalidOption as exc:
            problems.append(_with_option(exc, name))
    problems += _package_problems(playbook, group, values)
    names, group_check = GROUP_CHECKS.get(playbook, ((), None))
    if group_check is not None and group == PROCESS_SERVERS:
        try:
            group_check({name: values.get(name) for name in names})
        except InvalidOption as exc:
            problems.append(exc)
    return problems


PACKAGE_VARIABLES = ("asr_installer", "asr_installer_url", "asr_installer_remote_path")


def _package_problems(playbook: str, group: str, values: Mapping[str, Any]) -> list[InvalidOption]:
    """One package source at most; a URL or a UNC path needs asr_installer_checksum (the host checks it)."""
    if not set(PACKAGE_VARIABLES) <= set(PLAYBOOKS[playbook].get(group, ())):
        return []
    given = [name for name in PACKAGE_VARIABLES if not _is_empty(values.get(name))]
    if len(given) > 1:
        return [
            InvalidOption(
                given[0],
                "(set)",
                "one of asr_installer (a package on the controller), asr_installer_url (a URL the hosts download) "
                "and asr_installer_remote_path (a path on the host, or a UNC path the hosts copy from)",
                f"Both are set: {given[0]} and {given[1]}." if len(given) == 2 else f"All are set: {', '.join(given)}.",
            )
        ]
    fetched = _fetched_by_the_host(values.get("asr_installer_url"), values.get("asr_installer_remote_path"))
    if fetched and _is_empty(values.get("asr_installer_checksum")):
        name = "asr_installer_url" if fetched == "url" else "asr_installer_remote_path"
        return [
            InvalidOption(
                "asr_installer_checksum",
                "(not set)",
                package_source.CHECKSUM_ALLOWED,
                f"{name} makes every host fetch the package itself; each checks it against this SHA-256 before use.",
            )
        ]
    return []


def check_playbook_variables(playbook: str, hosts: Mapping[str, tuple[str, Mapping[str, Any]]]) -> list[str]:
    """One line per refusal, for ``hosts`` (name -> (its group, its set variables)); empty when all are valid.

    The same refusal on several hosts (a fleet-wide variable) is one line naming them, or "all N hosts" when every
    checked host that reads the variable has it.
    """
    seen: dict[str, tuple[str, list[str]]] = {}
    for host, (group, values) in hosts.items():
        for problem in check_host_variables(playbook, group, values):
            seen.setdefault(str(problem), (problem.option, []))[1].append(host)
    lines = []
    for text, (option, where) in seen.items():
        name = option.split("[", 1)[0].split(".", 1)[0]
        readers = [host for host, (group, _values) in hosts.items() if _reads(playbook, group, name)]
        lines.append(f"{text} [{_hosts_text(where, readers)}]")
    return lines


def _reads(playbook: str, group: str, name: str) -> bool:
    names, _check = GROUP_CHECKS.get(playbook, ((), None))
    return name in PLAYBOOKS[playbook].get(group, ()) or (group == PROCESS_SERVERS and name in names)


def _hosts_text(where: list[str], readers: list[str]) -> str:
    if len(where) > 1 and set(where) == set(readers):
        return f"all {len(where)} hosts"
    shown = ", ".join(where[:5])
    return shown + (f" and {len(where) - 5} more" if len(where) > 5 else "")
