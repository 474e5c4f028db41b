# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.upgrade: bring an installed process server or configuration server to the installer's
version (``UnifiedSetup.exe /Upgrade``).

validate (no remote call) -> probe (one call) -> ensure_upgraded (plan hops, then stage/start/poll/cleanup).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.action.install import (
    DEFAULT_STAGING_DIR,
    PACKAGE_OPTIONS,
    check_checksum,
    check_remote_path,
    find_local_file,
    host_fetched,
    resolve_installer,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    package_source,
    registration_plan,
    survey,
    unified_setup,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.install_plan import Installer
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import installer_file
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup import staged_path
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.upgrade import (
    ensure_upgraded,
    probe_parameters,
    upgrade_spec,
)

# Kept equal to DOCUMENTATION in plugins/modules/upgrade.py by tests/unit/plugins/test_docs_match_spec.py.
# /Upgrade takes no configuration server, passphrase or port [1.3]: of the action group's shared options only
# configuration_server_ip means something here (the host must belong to it); the others are deprecated.
ARGUMENT_SPEC: dict[str, Any] = {
    "configuration_server_ip": {"type": "str"},
    "installer": {"type": "path"},
    "installer_remote_path": {"type": "str"},
    "installer_url": {"type": "str", "no_log": True},
    "installer_checksum": {"type": "str"},
    "installer_version": {"type": "str"},
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
    "reboot": {"type": "bool", "default": False},
    "reboot_timeout": {"type": "int", "default": 1200},
    "setup_timeout": {"type": "int", "default": 5400},
    "poll_interval": {"type": "int", "default": 15},
}
# Options for upgrading a configuration server; asr.process_server.process_server (process servers only) has none.
CONFIGURATION_SERVER_OPTIONS = ("server_role", "accept_third_party_eula")
MUTUALLY_EXCLUSIVE = [PACKAGE_OPTIONS]
UPGRADE_KEEPS = (
    "/Upgrade keeps the configuration server the host is registered to [4], and the rule that a process server is "
    "never newer than its configuration server [3.1] must be judged against that one"
)
REQUIRED_ONE_OF = [PACKAGE_OPTIONS]


def intermediate_installer(action: AsrActionBase, item: dict[str, Any], index: int, staging: str) -> Installer:
    option = f"installers[{index}]"
    version = parse_version(item["version"], f"{option}.version")
    expected = check_checksum(item.get("checksum"), f"{option}.checksum")
    if item.get("url") is not None:
        source = package_source.check_url(f"{option}.url", item["url"])
        return host_fetched(source, expected, f"{option}.checksum", staging, version=version, option=option)
    if item.get("remote_path"):
        remote = item["remote_path"]
        if package_source.is_unc(remote):
            source = package_source.check_unc(f"{option}.remote_path", remote)
            return host_fetched(source, expected, f"{option}.checksum", staging, version=version, option=option)
        path = check_remote_path(f"{option}.remote_path", remote)
        return Installer(remote_path=path, version=version, sha256=expected, option=option)
    local = find_local_file(action, item["path"], f"{option}.path")
    actual = installer_file.sha256_of(local)
    if expected and actual != expected:
        raise InvalidOption(f"{option}.checksum", expected, f"the SHA-256 of {local} ({actual})")
    read = installer_file.pe_file_version(local)
    if read is not None and parse_version(read) != version:
        raise InvalidOption(f"{option}.version", str(version), f"the file's own version {read}")
    return Installer(
        remote_path=staged_path(staging, actual), local_path=local, version=version, sha256=actual, option=option
    )


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REPORTS_STEPS = True
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE
    REQUIRED_ONE_OF = REQUIRED_ONE_OF
    REPORTS_REMOTE_CALLS = True

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        staging = unified_setup.check_windows_path("staging_dir", args["staging_dir"], allow_spaces=False)
        staging = staging.rstrip("\\")
        installer = resolve_installer(self, args, staging)
        intermediate = [intermediate_installer(self, item, i, staging) for i, item in enumerate(args["installers"])]
        spec = upgrade_spec(args, installer, intermediate)
        if args.get("configuration_server_ip") is not None:
            unified_setup.check_ipv4("configuration_server_ip", args["configuration_server_ip"])
        probe = self.run_script("probe", task_vars, probe_parameters(spec))
        # /Upgrade keeps the registration the host has [4]: with configuration_server_ip given, a host registered to
        # another configuration server is refused unchanged (process_server with state=latest does the same).
        registration_plan.check_configuration_server(
            survey.interpret(probe), args.get("configuration_server_ip"), UPGRADE_KEEPS
        )
        return ensure_upgraded(self, probe, spec, task_vars)
