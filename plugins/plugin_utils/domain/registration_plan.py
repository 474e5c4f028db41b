# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether a process server's master target must be re-registered with its configuration server [3.3].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The documented re-registration is ``cdpcli.exe --registermt`` from ``%ProgramData%\\ASR\\Agent`` followed by an
``obengine`` restart [3.3]. It registers with the configuration server the host is already configured for
(amethyst.conf ``PS_CS_IP`` [6.5]); moving a process server to ANOTHER configuration server is done with the
GUI-only ``cspsconfigtool`` or by reinstalling ([3.3]: no silent CLI is documented), so a mismatch is refused.

What one probe of the process server can tell [6.5], [6.3]:

* whether the CS/PS and the master target are installed, and which CS amethyst.conf names;
* whether that CS answers on its port from the host (``checks.registered_configuration_server``);
* whether ``obengine`` runs (the procedure restarts it).

What it cannot tell: whether the MT registration itself is current (no documented marker on the host) or
how fresh the CS's last heartbeat from this PS is (kept on the CS [7.5]). ``force: true`` re-registers anyway,
which the docs call for after the CS was re-registered or its certificates changed [3.3].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable
from .errors import PlanningError
from .product import HEARTBEAT_SERVICE, MARS_SERVICE


@dataclass
class RegistrationPlan(Jsonable):
    register: bool
    reasons: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    configuration_server_ip: str | None = None
    configuration_server_port: int | None = None
    configuration_server_reachable: bool | None = None


def _service_state(asr: dict[str, Any], name: str) -> str | None:
    for svc in asr.get("services") or []:
        if str(svc.get("name", "")).casefold() == name.casefold():
            return svc.get("state") if svc.get("present", True) else None
    return None


def registration_state(asr: dict[str, Any]) -> dict[str, Any]:
    """The registration as the module returns it: CS, port, reachability, obengine and tmansvc states."""
    registration = asr.get("registration") or {}
    check = (asr.get("checks") or {}).get("registered_configuration_server") or {}
    return {
        "registered": bool(registration.get("registered")),
        "configuration_server_ip": registration.get("configuration_server_ip"),
        "configuration_server_port": registration.get("configuration_server_port"),
        "configuration_server_reachable": check.get("reachable") if check else None,
        "configuration_server_error": check.get("error") if check else None,
        "master_target_installed": bool(
            ((asr.get("components") or {}).get("mobility_service_master_target") or {}).get("installed")
        ),
        "obengine": _service_state(asr, MARS_SERVICE),
        "tmansvc": _service_state(asr, HEARTBEAT_SERVICE),
    }


def foreign_configuration_server(asr: dict[str, Any], configuration_server_ip: str | None) -> str | None:
    """The configuration server the host is registered to when it is NOT ``configuration_server_ip``, else None.

    Read from amethyst.conf (``PS_CS_IP`` [6.5]) as the probe reports it; a host with nothing configured, or no
    wanted configuration server, has none.
    """
    current = (asr.get("registration") or {}).get("configuration_server_ip")
    if not configuration_server_ip or not current or str(current) == str(configuration_server_ip):
        return None
    return str(current)


def check_configuration_server(asr: dict[str, Any], configuration_server_ip: str | None, because: str = "") -> None:
    """Refuse (:class:`PlanningError`) a process server registered to another configuration server.

    Every change this collection makes to an installed process server either runs ``cdpcli.exe --registermt``,
    which registers with the configured server only [3.3] (the proxy procedure [8] does too), or keeps the
    configured server (``/Upgrade`` [4]). On a process server of another configuration server that would change
    (and re-register with) a server outside the estate the task was given, so it is refused before any change.
    """
    current = foreign_configuration_server(asr, configuration_server_ip)
    if current is not None:
        raise PlanningError(foreign_configuration_server_message(current, str(configuration_server_ip), because))


REREGISTERS = "cdpcli.exe --registermt re-registers with the configured server only"


def foreign_configuration_server_message(current: str, wanted: str, because: str = "") -> str:
    """What is wrong and what to do, for a process server registered to ``current`` instead of ``wanted``.

    ``because``: why the operation must not run on it (default: it re-registers with the configured server).
    """
    return (
        f"The process server is registered to configuration server {current} (amethyst.conf PS_CS_IP [6.5]), not "
        f"to {wanted} (configuration_server_ip; asr_configuration_server_ip in the playbooks), so nothing was "
        f"changed on it: {because or REREGISTERS}, and no silent command moves a process server to another "
        "configuration server [3.3]. If it belongs to the other configuration server, leave it out of this run (its "
        "inventory group or --limit); if it must move, use the Process Server configuration tool (cspsconfigtool) on "
        f"the host, or uninstall it and install it against {wanted}."
    )


def plan_registration(
    asr: dict[str, Any], *, configuration_server_ip: str | None = None, force: bool = False
) -> RegistrationPlan:
    """Whether to run ``cdpcli --registermt`` + obengine restart; :class:`PlanningError` when it cannot help."""
    state = registration_state(asr)
    unreadable = (asr.get("registration") or {}).get("error")
    if unreadable:
        raise PlanningError(
            f"amethyst.conf could not be read ({unreadable}), so the configuration server this process server is "
            "registered to is not known and nothing was changed. It is usually locked for a moment by the process "
            "server's own services: run the task again; if it stays unreadable, check the file's permissions [6.5]."
        )
    if not asr.get("installed") or not state["registered"]:
        raise PlanningError(
            "The Configuration/Process Server is not installed or not configured for a configuration server "
            "(no PS_CS_IP in amethyst.conf [6.5]), so there is nothing to re-register. Install the process server "
            "first (asr.process_server.install)."
        )
    if not state["master_target_installed"]:
        raise PlanningError(
            "The Mobility Service/Master Target Server is not installed, so cdpcli.exe --registermt [3.3] is not "
            "available. Repair the process server installation (re-run Unified Setup) first."
        )
    current = state["configuration_server_ip"]
    check_configuration_server(asr, configuration_server_ip)
    plan = RegistrationPlan(
        register=False,
        configuration_server_ip=current,
        configuration_server_port=state["configuration_server_port"],
        configuration_server_reachable=state["configuration_server_reachable"],
    )
    if force:
        plan.reasons.append("force=true")
    if state["configuration_server_reachable"] is False:
        plan.reasons.append(
            f"the configuration server {current} does not answer from the host "
            f"({state['configuration_server_error'] or 'unreachable'}), so it gets no heartbeat"
        )
    if state["obengine"] != "running":
        plan.reasons.append(f"obengine is {state['obengine'] or 'missing'}; the procedure restarts it [3.3]")
    if state["tmansvc"] not in ("running", None):
        # Re-registration does not start tmansvc; saying so keeps the module from looping on it.
        plan.warnings.append(
            f"tmansvc is {state['tmansvc']}: the configuration server gets no heartbeat from this process server "
            "without it [6.3]. Start it (ansible.windows.win_service name=tmansvc state=started)."
        )
    plan.register = bool(plan.reasons)
    return plan


def registration_failure_hint(rc: int | None, output: str) -> str:
    """The remediation sentence for a failed ``cdpcli --registermt``."""
    del rc, output
    return (
        "Check that the process server reaches the configuration server on TCP 443 (firewall, routing, the proxy: "
        "asr.process_server.proxy), that the configuration server and its services run, and that its passphrase was "
        "not regenerated (then re-register with cspsconfigtool [3.3]); then run the task again."
    )
