# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE shared probe call the state-changing modules start from (ARCHITECTURE.md decision 4).

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Each ``_op_<name>.py`` says which probe options it needs (``probe_options(args)``); an action plugin (or a
later converged ``process_server`` module) merges them, probes once with :func:`probe_host` and hands the
:class:`ProbedHost` to every ``ensure_*`` it runs. A host already in the desired state costs that one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import survey


@dataclass
class ProbedHost:
    """The raw probe result and its interpretation (``survey.interpret``)."""

    raw: dict[str, Any]
    asr: dict[str, Any]


def merge_options(*options: dict[str, Any]) -> dict[str, Any]:
    """Union of probe options: a check any caller wants is on."""
    merged: dict[str, Any] = {}
    for each in options:
        for key, value in each.items():
            if isinstance(value, bool):
                merged[key] = merged.get(key, False) or value
            elif value not in (None, ""):
                merged[key] = value
    return merged


def probe_host(action: Any, task_vars: dict[str, Any], **options: Any) -> ProbedHost:
    """Run probe.ps1 once (one remote call) and interpret it."""
    raw = action.run_script("probe", task_vars, survey.probe_parameters(**options))
    return ProbedHost(raw, survey.interpret(raw))
