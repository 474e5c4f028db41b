# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Unified Setup packages a task names, as the controller knows them before any remote call.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

A package comes from the controller (``installer``: found like a role's ``files/``, its SHA-256 and version read
here, :mod:`installer_file`), from the host itself (``installer_remote_path`` on a local drive), or is fetched by the
host (``installer_url``, a UNC ``installer_remote_path``: :mod:`..domain.package_source`, staged by its SHA-256).
The install, upgrade and process_server modules resolve their package with :func:`resolve_installer`, the upgrade's
intermediate builds (``installers``) with :func:`intermediate_installer`: one reading of the same rules, with each
option named as the task wrote it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ansible.errors import AnsibleError

from ..domain import package_source, unified_setup
from ..domain.errors import InvalidOption
from ..domain.install_plan import Installer
from ..domain.versions import Version, parse_version
from . import installer_file
from .action_base import AsrActionBase
from .setup import staged_path


@dataclass(frozen=True)
class PackageOptions:
    """How a task names one package: its option for each source, its checksum and its version."""

    local: str
    remote: str
    url: str
    checksum: str
    version: str
    version_required: bool = False
    item: str | None = None  # a list entry (``installers[0]``): the package's name in messages; else the option used

    def shown(self, used: str) -> str:
        """``Installer.option``: how messages name the package given by option ``used``."""
        return self.item or used


INSTALLER = PackageOptions(
    "installer", "installer_remote_path", "installer_url", "installer_checksum", "installer_version"
)


def intermediate_options(index: int) -> PackageOptions:
    """``installers[<index>]``: an intermediate build of an N-4 upgrade (its version is required)."""
    item = f"installers[{index}]"
    return PackageOptions(
        f"{item}.path", f"{item}.remote_path", f"{item}.url", f"{item}.checksum", f"{item}.version", True, item
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


def _host_fetched(source: package_source.PackageSource, checksum: str | None, names: PackageOptions, used: str,
                  staging_dir: str, version: Version | None) -> Installer:  # fmt: skip
    """A package the host downloads or copies: staged by its SHA-256 (required), verified there before use."""
    sha256 = package_source.require_checksum(source, checksum, names.checksum)
    return Installer(
        remote_path=staged_path(staging_dir, sha256), sha256=sha256, source=source, version=version,
        option=names.shown(used),
    )  # fmt: skip


def _package(
    action: AsrActionBase, values: dict[str, Any], names: PackageOptions, staging_dir: str, declared: Version | None
) -> Installer:
    """The package from whichever source ``values`` (the task's options, by ``names``) give."""
    expected = package_source.check_checksum(names.checksum, values.get("checksum"))
    if values.get("url") is not None:
        source = package_source.check_url(names.url, values["url"])
        return _host_fetched(source, expected, names, names.url, staging_dir, declared)
    remote = values.get("remote")
    if remote is not None:
        if isinstance(remote, str) and package_source.is_unc(remote):
            source = package_source.check_unc(names.remote, remote)
            return _host_fetched(source, expected, names, names.remote, staging_dir, declared)
        path = check_remote_path(names.remote, remote)
        return Installer(remote_path=path, version=declared, sha256=expected, option=names.shown(names.remote))
    local = find_local_file(action, values["local"], names.local)
    actual = installer_file.sha256_of(local)
    if expected and actual != expected:
        raise InvalidOption(
            names.checksum,
            expected,
            f"the SHA-256 of {local} ({actual})",
            "The file on the controller does not match the checksum: download it again or correct the checksum.",
        )
    read = installer_file.pe_file_version(local)
    if read is not None and declared is not None and parse_version(read) != declared:
        fix = f"Correct {names.version} or the file." if names.version_required else f"Remove {names.version}."
        raise InvalidOption(names.version, str(declared), f"the file's own version {read}", fix)
    return Installer(
        remote_path=staged_path(staging_dir, actual),
        local_path=local,
        version=parse_version(read) if read else declared,
        sha256=actual,
        option=names.shown(names.local),
    )


def resolve_installer(action: AsrActionBase, args: dict[str, Any], staging_dir: str) -> Installer:
    """The task's package (``installer``, ``installer_remote_path`` or ``installer_url``): checksum and, if readable,
    version, before any remote call."""
    declared = parse_version(args["installer_version"], "installer_version") if args.get("installer_version") else None
    values = {
        "local": args.get("installer"),
        "remote": args.get("installer_remote_path"),
        "url": args.get("installer_url"),
        "checksum": args.get("installer_checksum"),
    }
    return _package(action, values, INSTALLER, staging_dir, declared)


def intermediate_installer(action: AsrActionBase, item: dict[str, Any], index: int, staging_dir: str) -> Installer:
    """``installers[<index>]``: an intermediate build with its (required) version."""
    names = intermediate_options(index)
    version = parse_version(item["version"], names.version)
    values = {"local": item.get("path"), "remote": item.get("remote_path"), "url": item.get("url"),
              "checksum": item.get("checksum")}  # fmt: skip
    return _package(action, values, names, staging_dir, version)
