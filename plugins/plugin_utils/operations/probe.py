# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ONE shared probe call the state-changing modules start from (ARCHITECTURE.md decision 4).

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Each operation says what its probe must check (``probe_request(...)``, a :class:`~..domain.probe.ProbeRequest`);
an action plugin unites them (``ProbeRequest.union``), probes once with :func:`probe_host` and hands the one
:class:`~..domain.probe.ProbedHost` to every ``ensure_*`` it runs. A host already in the desired state costs that
one call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.probe import ProbedHost, ProbeRequest, read_probe


@dataclass(frozen=True)
class OperationOutcome:
    """What one operation did: its own result (what its single-purpose module returns) and the host as it left it
    (``after``), which the next operation of a converged task plans from instead of probing again."""

    result: dict[str, Any]
    after: ProbedHost


def probe_host(action: Any, task_vars: dict[str, Any], request: ProbeRequest) -> ProbedHost:
    """Run probe.ps1 once (one remote call) and read its result once."""
    return read_probe(action.run_script("probe", task_vars, request.script_parameters()))
