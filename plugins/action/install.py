# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.install: install a scale-out process server and register it to a configuration server.

validate (no remote call) -> probe (one call) -> ensure_installed (plan, then stage/start/poll/cleanup).
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleError

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import package_source, unified_setup
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.install_plan import Installer
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import installer_file
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import AsrActionBase
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.install import (
    ensure_installed,
    install_spec,
    probe_parameters,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.setup import staged_path

DEFAULT_STAGING_DIR = r"C:\ProgramData\ASRSetupStaging"

# Kept equal to DOCUMENTATION in plugins/modules/install.py by tests/unit/plugins/test_docs_match_spec.py.
# Of the action group's shared options install uses configuration_server_ip (required), passphrase and
# passphrase_file; configuration_server_port is deprecated here (setup reaches the configuration server on 443 [1.3]).
ARGUMENT_SPEC: dict[str, Any] = {
    "configuration_server_ip": {"type": "str", "required": True},
    "passphrase": {"type": "str", "no_log": True},
    "passphrase_file": {"type": "str"},
    "installer": {"type": "path"},
    "installer_remote_path": {"type": "str"},
    # A URL may carry a token (an Azure storage SAS): no_log, and only its redacted form is ever shown.
    "installer_url": {"type": "str", "no_log": True},
    "installer_checksum": {"type": "str"},
    "installer_version": {"type": "str"},
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
    "reboot": {"type": "bool", "default": False},
    "reboot_timeout": {"type": "int", "default": 1200},
    "setup_timeout": {"type": "int", "default": 5400},
    "poll_interval": {"type": "int", "default": 15},
}
PACKAGE_OPTIONS = ["installer", "installer_remote_path", "installer_url"]
MUTUALLY_EXCLUSIVE = [["passphrase", "passphrase_file"], PACKAGE_OPTIONS]
REQUIRED_ONE_OF = [["passphrase", "passphrase_file"], PACKAGE_OPTIONS]


def check_checksum(value: str | None, option: str = "installer_checksum") -> str | None:
    return package_source.check_checksum(option, value)


def host_fetched(
    source: package_source.PackageSource, checksum: str | None, checksum_option: str, staging_dir: str, **fields: Any
) -> Installer:
    """A package the host downloads or copies: staged by its SHA-256 (required), verified there before use."""
    sha256 = package_source.require_checksum(source, checksum, checksum_option)
    return Installer(remote_path=staged_path(staging_dir, sha256), sha256=sha256, source=source, **fields)


def resolve_installer(action: AsrActionBase, args: dict[str, Any], staging_dir: str) -> Installer:
    """The installer as the controller knows it (no remote call): checksum and, if readable, version."""
    expected = check_checksum(args.get("installer_checksum"))
    declared = parse_version(args["installer_version"], "installer_version") if args.get("installer_version") else None
    if args.get("installer_url") is not None:
        source = package_source.check_url("installer_url", args["installer_url"])
        return host_fetched(
            source, expected, "installer_checksum", staging_dir, version=declared, option="installer_url"
        )
    if args.get("installer_remote_path") is not None:
        remote = args["installer_remote_path"]
        if isinstance(remote, str) and package_source.is_unc(remote):
            source = package_source.check_unc("installer_remote_path", remote)
            return host_fetched(
                source, expected, "installer_checksum", staging_dir, version=declared, option="installer_remote_path"
            )
        path = check_remote_path("installer_remote_path", remote)
        return Installer(remote_path=path, version=declared, sha256=expected, option="installer_remote_path")
    local = find_local_file(action, args["installer"], "installer")
    actual = installer_file.sha256_of(local)
    if expected and actual != expected:
        raise InvalidOption(
            "installer_checksum",
            expected,
            f"the SHA-256 of {local} ({actual})",
            "The file on the controller does not match the checksum: download it again or correct the checksum.",
        )
    version = installer_file.pe_file_version(local)
    if version is not None and declared is not None and parse_version(version) != declared:
        raise InvalidOption(
            "installer_version", str(declared), f"the file's own version {version}", "Remove installer_version."
        )
    return Installer(
        remote_path=staged_path(staging_dir, actual),
        local_path=local,
        version=parse_version(version) if version else declared,
        sha256=actual,
    )


def check_remote_path(option: str, value: Any) -> str:
    r"""A package path on the host: an absolute drive path (a UNC path is a share source, handled before)."""
    try:
        return unified_setup.check_windows_path(option, value)
    except InvalidOption as exc:
        raise InvalidOption(option, value, package_source.UNC_ALLOWED, exc.why) from exc


def find_local_file(action: AsrActionBase, path: str, option: str) -> str:
    """A controller file: absolute, or found like a role's files/ (``_find_needle``)."""
    try:
        found = path if os.path.isabs(path) else action._find_needle("files", path)
    except AnsibleError:
        found = path
    if not os.path.isfile(found):
        raise InvalidOption(option, path, "the path of an existing Unified Setup package file on the controller")
    return found


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = ARGUMENT_SPEC
    REPORTS_STEPS = True
    MUTUALLY_EXCLUSIVE = MUTUALLY_EXCLUSIVE
    REQUIRED_ONE_OF = REQUIRED_ONE_OF
    REPORTS_REMOTE_CALLS = True

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        staging = unified_setup.check_windows_path("staging_dir", args["staging_dir"], allow_spaces=False)
        installer = resolve_installer(self, args, staging.rstrip("\\"))
        spec = install_spec(args, installer)
        probe = self.run_script("probe", task_vars, probe_parameters(spec))
        return ensure_installed(self, probe, spec, task_vars)
