# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ASR build versions, the order of components and the N-4 upgrade rule [4].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

* A version is ``major.minor[.build[.revision]]`` (``9.55.7123.1``, as in the registry's ``Build_Version``);
  at least major.minor is required and missing parts count as 0, so ``9.55 == 9.55.0.0``. (.NET's
  ``System.Version`` would order ``9.55`` before ``9.55.0.0``; the installer only compares full builds.)
* [4] The N-4 rule counts **minor** versions: SRC ``ActionProcessess.cs`` refuses an upgrade when
  ``new minor - installed minor > 4``, and the docs say to upgrade in hops (9.16 -> 9.20 -> 9.24).
* [3.1, 4] A process server must not be newer than its configuration server, and a master target not newer
  than the process server or configuration server it sits on. Installing an older build over a newer one is
  refused by the installer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import InvalidOption, PlanningError

MAX_MINOR_HOP = 4  # [4] SRC ActionProcessess.cs: (current minor - installed minor) > 4 => Unsupported
_VERSION_RE = re.compile(r"[0-9]{1,9}(\.[0-9]{1,9}){1,3}")


@dataclass(frozen=True, order=True)
class Version:
    """A four-part ASR build version; ordered part by part."""

    major: int
    minor: int
    build: int = 0
    revision: int = 0

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}.{self.revision}"


def parse_version(value: object, option: str = "installer_version") -> Version:
    """Read ``9.55.7123.1`` (2 to 4 dot-separated numbers) into a :class:`Version`; accept a Version as is."""
    if isinstance(value, Version):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if not _VERSION_RE.fullmatch(text):
        raise InvalidOption(option, value, "a version of 2 to 4 dot-separated numbers, such as 9.55.7123.1")
    parts = [int(p) for p in text.split(".")]
    return Version(*parts)


def minor_gap(installed: Version, target: Version) -> int:
    """How many minor versions an upgrade jumps (what the N-4 rule counts) [4]."""
    if installed.major != target.major:
        raise PlanningError(
            f"{installed} -> {target}: the N-4 rule counts minor versions within one major version; "
            "ASR classic only shipped 9.x, so a change of major version cannot be planned."
        )
    return target.minor - installed.minor


def upgrade_needed(installed: Version, target: Version, option: str = "installer_version") -> bool:
    """True when ``target`` upgrades ``installed`` in one supported step, False when it is the same build.

    Raises :class:`InvalidOption` for a downgrade or a jump of more than 4 minor versions (setup would exit
    203, UpgradeNotSupported) [4].
    """
    if target == installed:
        return False
    if target < installed:
        raise InvalidOption(
            option,
            str(target),
            f"a version at or above the installed {installed}",
            "Unified Setup refuses to install an older build over a newer one [4].",
        )
    if minor_gap(installed, target) > MAX_MINOR_HOP:
        raise InvalidOption(
            option,
            str(target),
            f"a version at most {MAX_MINOR_HOP} minor versions above the installed {installed} "
            f"(up to {installed.major}.{installed.minor + MAX_MINOR_HOP})",
            "Setup refuses bigger jumps (exit 203); upgrade in hops, e.g. 9.16 -> 9.20 -> 9.24 [4].",
        )
    return True


def check_version_order(
    configuration_server: Version,
    process_server: Version,
    master_target: Version | None = None,
    option: str = "installer_version",
) -> None:
    """Enforce master target <= process server <= configuration server [3.1, 4].

    ``option`` names the operator's setting that supplied the version being checked (normally the installer
    the PS is installed or upgraded with).
    """
    if process_server > configuration_server:
        raise InvalidOption(
            option,
            str(process_server),
            f"a version at or below the configuration server's {configuration_server}",
            "A process server must not be newer than its configuration server: upgrade the configuration "
            "server first, or use the installer last used on it [3.1].",
        )
    if master_target is not None and master_target > process_server:
        raise InvalidOption(
            option,
            str(process_server),
            f"a version at or above the master target's {master_target}",
            "The master target must not be newer than the process server it sits on [4].",
        )


def plan_upgrade_path(installed: Version, target: Version, available: Iterable[Version]) -> list[Version]:
    """The hops from ``installed`` to ``target``, each at most 4 minor versions, ending with ``target``.

    Each hop takes the newest available version no further than 4 minors ahead (the docs' 9.16 -> 9.20 ->
    9.24). ``target`` counts as available. Returns ``[]`` when ``installed == target``; raises
    :class:`InvalidOption` for a downgrade and :class:`PlanningError` when no available version bridges a gap.
    """
    if target < installed:
        raise InvalidOption("installer_version", str(target), f"a version at or above the installed {installed}")
    candidates = sorted({*available, target})
    hops: list[Version] = []
    current = installed
    while current < target:
        reachable = [v for v in candidates if current < v <= target and minor_gap(current, v) <= MAX_MINOR_HOP]
        if not reachable:
            raise PlanningError(
                f"No available version bridges {current} -> {target}: the next hop must be newer than {current} "
                f"and at most {current.major}.{current.minor + MAX_MINOR_HOP}; "
                "obtain an intermediate Unified Setup build."
            )
        current = reachable[-1]
        hops.append(current)
    return hops
