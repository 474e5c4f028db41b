# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Value checks and result serialisation shared by the sizing, fleet-planning and health modules.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Every check fails with :class:`InvalidOption` naming the operator's snake_case option and what is
allowed, so an action plugin can fail the task before any remote call.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from typing import Any

from .errors import InvalidOption


def require_int(option: str, value: Any, minimum: int, context: str = "") -> int:
    """Return ``value`` if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidOption(option, value, f"an integer of at least {minimum}", context)
    return value


def require_number(option: str, value: Any, minimum: float, context: str = "", *, above: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number >= ``minimum`` (> when ``above``)."""
    bound = f"greater than {minimum:g}" if above else f"of at least {minimum:g}"
    allowed = f"a number {bound}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidOption(option, value, allowed, context)
    if value < minimum or (above and value == minimum):
        raise InvalidOption(option, value, allowed, context)
    return float(value)


def require_percent(option: str, value: Any, context: str = "") -> float:
    """Return ``value`` as a float if it is a percentage from 0 to 100."""
    number = require_number(option, value, 0, context)
    if number > 100:
        raise InvalidOption(option, value, "a percentage from 0 to 100", context)
    return number


def require_name(option: str, value: Any, context: str = "") -> str:
    """Return ``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidOption(option, value, "a non-empty string", context)
    return value


def require_choice(option: str, value: Any, choices: Collection[str], context: str = "") -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        allowed = "one of " + ", ".join(repr(c) for c in choices)
        raise InvalidOption(option, value, allowed, context)
    return value


def to_jsonable(value: Any) -> Any:
    """Turn dataclasses, tuples and sets into dicts and lists that ``json.dumps`` and Ansible accept."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    return value


class Jsonable:
    """A dataclass whose ``to_dict`` (what the modules return) is its fields, made JSON-ready by ``to_jsonable``."""

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)
