# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether a scale-out process server may be decommissioned, and which uninstall steps remain [5], [6.1].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The order and the command lines come from :mod:`uninstall_plan` (CS/PS, Dependencies, Mobility Service/Master
Target, MARS). This module adds what the ``uninstall`` module decides around it, from one probe:

* **Refusal.** [5] The clean (connected) path uninstalls a PS that is still registered and talks to its
  configuration server; the machines it serves must first move to another PS with the portal's **Switch** or
  **Load balance**, or ``Start-AzRecoveryServicesAsrSwitchProcessServerJob`` [7.4]. The probe cannot see the
  vault's replicated items, so the operator confirms it with ``workload_moved: true``. A PS that is registered
  and whose configuration server answers (or could not be tested) is refused without it.
* **Resume.** The plan is made from what is still installed, so a re-run after a partial uninstall continues at
  the first product still present, in the same order.
* **Failures.** Each step's exit code is judged by :func:`step_outcome` (Windows Installer codes for MSI, 0 for
  the Inno uninstallers) together with whether the product's Add/Remove Programs entry is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable
from .errors import PlanningError
from .uninstall_plan import DEPENDENCIES, MARS, SETUP_LOG_DIR, InstalledProduct, UninstallStep, identify, plan_uninstall

# [1.5] SRC Constants.cs component logs. [UNCONFIRMED] where the Inno uninstallers of CS/PS and Dependencies log;
# the step reports the tail of the component's setup log, where Inno appends by default for that product.
INNO_LOGS = {
    "configuration_process_server": SETUP_LOG_DIR + r"\CX_InstallLogFile.log",
    DEPENDENCIES.key: SETUP_LOG_DIR + r"\CX_TP_InstallLogFile.log",
}
MSI_SUCCESS = {0: False, 3010: True, 1641: True}  # rc -> reboot required (ERROR_SUCCESS_REBOOT_*)
MSI_UNKNOWN_PRODUCT = 1605
_MSI_MEANING = {
    1602: "the user cancelled the uninstall (it was not silent)",
    1603: "a fatal error occurred during the uninstall",
    1605: "the product is not installed",
    1618: "another installation is already in progress",
    1639: "invalid command line",
}
SWITCH_HINT = (
    "Move its protected machines to another process server first: in the vault, Site Recovery Infrastructure > "
    "Configuration Servers > the configuration server > this process server > Switch (all machines) or Load "
    "balance (selected machines), or Start-AzRecoveryServicesAsrSwitchProcessServerJob -Fabric <fabric> "
    "-SourceProcessServer <this PS> -TargetProcessServer <other PS> [7.4]; wait for the jobs to finish (about 15 "
    "minutes to show), then run the task again with workload_moved=true."
)


@dataclass
class DecommissionPlan(Jsonable):
    steps: list[UninstallStep]
    registered: bool
    configuration_server_ip: str | None
    connected: bool | None
    warnings: list[str] = field(default_factory=list)


def installed_products(probe: dict[str, Any]) -> list[InstalledProduct]:
    """Add/Remove Programs entries of the probe (``uninstall_entries``) as :class:`InstalledProduct`."""
    found = []
    for entry in probe.get("uninstall_entries") or []:
        name = entry.get("display_name") or ""
        if identify(name) is None:
            continue
        found.append(
            InstalledProduct(
                display_name=name,
                display_version=entry.get("display_version"),
                product_code=entry.get("key_name"),
                uninstall_string=entry.get("uninstall_string"),
                quiet_uninstall_string=entry.get("quiet_uninstall_string"),
            )
        )
    return found


def plan_decommission(
    probe: dict[str, Any], asr: dict[str, Any], *, workload_moved: bool = False, keep_mars_agent: bool = False
) -> DecommissionPlan:
    """The remaining steps, or :class:`PlanningError` when the host must not be decommissioned yet."""
    if asr.get("role") == "configuration_server":
        raise PlanningError(
            "This host is a configuration server (CX_TYPE 1 or 3 [6.4]); asr.process_server.uninstall decommissions "
            "scale-out process servers only. A configuration server is removed in another order, after its vault "
            "registration [6.1]."
        )
    registration = asr.get("registration") or {}
    check = (asr.get("checks") or {}).get("registered_configuration_server") or {}
    registered = bool(registration.get("registered")) and bool(asr.get("installed"))
    connected = check.get("reachable") if check else None
    cs_ip = registration.get("configuration_server_ip")
    warnings: list[str] = []
    if registered and connected is not False and not workload_moved:
        state = "connected to" if connected else "registered with (connection not tested)"
        raise PlanningError(
            f"Refusing to decommission: this process server is still {state} configuration server {cs_ip}, "
            f"and protected machines may still replicate through it [5]. {SWITCH_HINT}"
        )
    if registered and connected is False:
        warnings.append(
            f"The configuration server {cs_ip} does not answer from this host: uninstalling cannot unregister the "
            "process server there [5]. Purge it on the configuration server afterwards with "
            "asr.process_server.unregister (ip of this process server)."
        )
    keep = [MARS.key] if keep_mars_agent else []
    steps = plan_uninstall(installed_products(probe), "process_server", keep=keep)
    return DecommissionPlan(steps, registered, cs_ip, connected, warnings)


def step_log(step: UninstallStep) -> str | None:
    """The log file a step writes (MSI: its /L+*V argument) or the component log it appends to."""
    if step.installer == "msi" and "/L+*V" in step.argv:
        return step.argv[step.argv.index("/L+*V") + 1]
    return INNO_LOGS.get(step.product)


def step_outcome(step: UninstallStep, rc: int | None, still_installed: bool, why: str = "") -> dict[str, Any]:
    """Whether a step succeeded, whether a reboot must follow, and what the exit code means.

    ``rc`` None: the uninstaller gave no exit code (it was stopped after its time limit, or it could not start);
    ``why`` says which (:func:`script_steps.step_status`). That is a failure even when the entry is gone.
    """
    if rc is None:
        return {"ok": False, "reboot_required": False, "meaning": why or "the uninstaller reported no exit code"}
    if step.installer == "msi":
        reboot = MSI_SUCCESS.get(rc, False)
        ok = (rc in MSI_SUCCESS or rc == MSI_UNKNOWN_PRODUCT) and not still_installed
        meaning = "success" if rc in MSI_SUCCESS else _MSI_MEANING.get(rc, "Windows Installer error")
    else:
        reboot = False
        ok = rc == 0 and not still_installed
        meaning = "success" if rc == 0 else "the uninstaller failed"
    if rc in MSI_SUCCESS and still_installed:
        meaning = "the uninstaller returned success but the product is still listed in Add/Remove Programs"
    return {"ok": ok, "reboot_required": reboot, "meaning": meaning}
