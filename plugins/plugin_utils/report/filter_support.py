# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the collection's filter plugins share: plain data for the domain core, and their option check.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

No Ansible here (only ``operations/`` and the plugins themselves import it): a filter raises ``AnsibleFilterError``
with the message :func:`unknown_options` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def plain(value: Any) -> Any:
    """Ansible's lazy/tagged containers as plain dicts and lists (the domain core takes plain data)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def unknown_options(filter_name: str, options: Mapping[str, Any], allowed: Iterable[str]) -> str | None:
    """The message naming the filter, the options it does not take and the ones it does; None when all are known."""
    allowed = set(allowed)
    unknown = sorted(set(options) - allowed)
    if not unknown:
        return None
    return f"{filter_name}: unsupported options {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
