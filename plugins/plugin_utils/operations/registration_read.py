# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read a configuration server's registrations and heartbeats from its database [5]: one read-only remote call.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Shared by asr.process_server.registration_info (the health gate's heartbeat read) and
asr.process_server.unregister (its decision and its verification). ``registration_read.ps1`` runs on the
configuration server; :mod:`registrations` reads its output and says what to do when it cannot be used.
"""

from __future__ import annotations

from typing import Any

from ..domain import registrations
from ..domain.errors import InvalidOption
from .action_base import ActionFailure


def check_database_options(args: dict[str, Any]) -> None:
    """Refuse an empty account before any remote call (an empty user would silently mean amethyst.conf)."""
    for option in ("database_user", "database_password"):
        if args.get(option) is not None and not str(args[option]):
            raise InvalidOption(
                option,
                "",
                "a non-empty value, or neither option (the configuration server's own account)",
                f"{option} is empty.",
            )
    if args.get("database_password") is not None and "\0" in str(args["database_password"]):
        raise InvalidOption("database_password", args["database_password"], "a password without NUL characters")


def read(
    action: Any, args: dict[str, Any], task_vars: dict[str, Any]
) -> tuple[dict[str, Any], list[registrations.HostRow]]:
    """``registration_read``'s result and its rows; ActionFailure (with what to do) when it cannot be used."""
    parameters: dict[str, Any] = {}
    sensitive: dict[str, str] = {}
    if args.get("database_user"):
        parameters["DatabaseUser"] = args["database_user"]
        sensitive["DatabasePassword"] = args["database_password"]
    result = action.run_script("registration_read", task_vars, parameters, sensitive or None)
    problem = registrations.read_problem(result)
    if problem:
        raise ActionFailure(problem, rc=result.get("rc"), stderr=result.get("stderr") or None)
    return result, registrations.parse_batch(result.get("stdout") or "")
