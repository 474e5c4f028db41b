# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a step a collection script reports ended, in words for a failure message.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

proxy_apply, register_apply and uninstall_step report each program they ran as ``{rc, stdout, stderr}``; a
program stopped after its time limit comes back with ``rc`` null and ``timed_out`` true (its whole process tree was
stopped), and a step the script could not complete (a program that could not start, a cmdlet that threw) with
``rc`` null and ``error`` true, its message in ``stderr``. The steps done before it are reported all the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def step_status(step: Mapping[str, Any]) -> str:
    """``rc 3``, ``timed out (the program and what it started were stopped)`` or ``did not complete: <why>``."""
    if step.get("timed_out"):
        return "timed out (the program and what it started were stopped)"
    if step.get("rc") is None:
        why = str(step.get("stderr") or "").strip() or "no exit code was reported"
        return f"did not complete: {why}"
    if step.get("already_running"):
        return f"rc {step['rc']}, the service was already running"
    return f"rc {step['rc']}"
