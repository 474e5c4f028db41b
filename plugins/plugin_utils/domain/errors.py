# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Errors raised by the domain core.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Every rule the domain core enforces fails with :class:`InvalidOption`, which names the option an
operator set, the value that was refused and what is allowed, so an action plugin can turn it into a
task failure before any remote call.
"""

from __future__ import annotations

from typing import Any


class AsrError(Exception):
    """Base class for every error the domain core raises."""


class InvalidOption(AsrError, ValueError):
    """A value an operator supplied breaks a rule the installer or the product enforces."""

    def __init__(self, option: str, value: Any, allowed: str, why: str = "") -> None:
        self.option = option
        self.value = value
        self.allowed = allowed
        self.why = why
        shown = "<hidden>" if _looks_secret(option) else repr(value)
        message = f"{option}: {shown} is not allowed; allowed: {allowed}."
        if why:
            message += f" {why}"
        super().__init__(message)


class PlanningError(AsrError):
    """A plan (upgrade path, fleet assignment, uninstall order) cannot be made from the inputs."""


def _looks_secret(option: str) -> bool:
    lowered = option.lower()
    return any(word in lowered for word in ("password", "passphrase", "secret", "credential"))
