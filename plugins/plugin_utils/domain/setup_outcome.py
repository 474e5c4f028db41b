# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a finished Unified Setup run means for the task: success, unchanged, reboot, or a failure to explain.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Pure Python. Reads the last ``setup_poll`` result (``powershell/setup_poll.ps1``): the run's exit code goes
through :mod:`exit_codes` [1.4] (201 is never a failure, 3010 is a success that needs a reboot), and a
successful run is verified from the same poll -- the installed build [6.4], the registration target
(amethyst.conf ``PS_CS_IP`` [6.5]) and the services setup itself checks in PS mode [6.3] -- so no extra call
is needed unless the host rebooted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import exit_codes, product
from .unified_setup import ASR_SETUP_LOG

STDOUT_TAIL_LINES = 20


@dataclass
class Outcome:
    """One run's verdict. ``detail`` holds the fields a failed task returns (rc, stdout, log_tail, ...)."""

    rc: int | None
    name: str
    success: bool
    changed: bool
    reboot_required: bool
    msg: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def _service_states(poll: dict[str, Any]) -> dict[str, str | None]:
    return {s.get("name"): (s.get("state") if s.get("present") else None) for s in poll.get("services") or []}


def verify(
    poll: dict[str, Any], *, version: str | None, configuration_server_ip: str | None, after_reboot: bool = False
) -> list[str]:
    """Problems with the host after a successful run (empty = verified).

    Right after setup every service it checks must run; after a reboot a service allowed a manual start
    ([6.3]: obengine, the MARS agent, starts on demand) may be stopped.
    """
    problems = []
    installed = (poll.get("csps") or {}).get("build_version")
    if not installed:
        problems.append("the Configuration/Process Server is not registered as installed (Installed Products\\9)")
    elif version and _same_version(installed, version) is False:
        problems.append(f"the installed build is {installed}, expected {version}")
    registered = (poll.get("amethyst_conf") or {}).get("ps_cs_ip")
    if configuration_server_ip and registered != configuration_server_ip:
        problems.append(
            f"amethyst.conf registers the process server to {registered or 'no configuration server'}, "
            f"expected {configuration_server_ip}"
        )
    states = _service_states(poll)
    allowed = product.MANUAL_START_ALLOWED if after_reboot else frozenset()
    stopped = [
        name for name in product.SETUP_CHECKED_PS_SERVICES if states.get(name) != "running" and name not in allowed
    ]
    if stopped:
        problems.append("services not running: " + ", ".join(stopped))
    return problems


def _same_version(left: str, right: str) -> bool | None:
    from .errors import InvalidOption
    from .versions import parse_version

    try:
        return parse_version(left) == parse_version(right)
    except InvalidOption:
        return None


def failure_detail(poll: dict[str, Any], info: exit_codes.ExitCodeInfo | None) -> dict[str, Any]:
    """The fields a failed task carries: rc, setup's console output, the log tail and the remediation."""
    run = poll.get("run") or {}
    detail: dict[str, Any] = {
        "rc": run.get("rc"),
        "stdout": "\n".join(run.get("stdout_tail") or []),
        "log_tail": list((poll.get("setup_log") or {}).get("tail") or []),
        "log_path": (poll.get("setup_log") or {}).get("path") or ASR_SETUP_LOG,
    }
    if info is not None:
        detail.update(exit_code_name=info.name, remediation=info.remediation)
    return detail


def interpret_run(
    poll: dict[str, Any], *, operation: str, version: str | None, configuration_server_ip: str | None
) -> Outcome:
    """The verdict of a run whose poll says it has ended (``run.state`` exited, lost or missing)."""
    run = poll.get("run") or {}
    state = run.get("state")
    if state != "exited" or run.get("rc") is None:
        why = run.get("error") or {
            "lost": "the detached setup runner disappeared without writing its exit code (was the host rebooted?)",
            "missing": "the run folder has no record of a started setup",
        }.get(str(state), f"the run ended in state {state!r}")
        return Outcome(
            rc=None,
            name="Unknown",
            success=False,
            changed=True,
            reboot_required=False,
            msg=f"Unified Setup ({operation}) did not report an exit code: {why}. Read {ASR_SETUP_LOG} "
            "(log_tail) and run the task again; the probe will see what setup did.",
            detail=failure_detail(poll, None),
        )
    rc = int(run["rc"])
    info = exit_codes.interpret(rc)
    if not info.success:
        return Outcome(
            rc=rc,
            name=info.name,
            success=False,
            changed=info.changed,
            reboot_required=False,
            msg=f"Unified Setup ({operation}) failed with exit code {rc} ({info.name}): {info.meaning} "
            f"{info.remediation}",
            detail=failure_detail(poll, info),
        )
    outcome = Outcome(rc, info.name, True, info.changed, info.reboot_required)
    if rc == 201:  # ProductIsAlreadyInstalled: nothing changed, never a failure
        outcome.msg = "Unified Setup reports the product is already installed at this version (201); nothing changed."
        return outcome
    if info.reboot_required:
        outcome.msg = "Unified Setup succeeded; a reboot completes it (3010)."
    return outcome
