"""``net start|stop <service>`` and ``sc query|start|stop|qc <service>``.

[3.3] and [8] DOC restart obengine with ``net stop obengine`` / ``net start obengine``; [6.3] lists the services and
their start types. Output and exit codes are those of the Windows tools (net: rc 2 with NET HELPMSG numbers on
failure; sc: the Win32 error code). Starting a service honours the fault ``service_fails_to_start``.
"""

from __future__ import annotations

from typing import Any

from lab.asr import mars
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host

_STATES = {"running": (4, "RUNNING"), "stopped": (1, "STOPPED")}
_START = {
    "auto": (2, "AUTO_START"),
    "delayed": (2, "AUTO_START  (DELAYED)"),
    "manual": (3, "DEMAND_START"),
    "disabled": (4, "DISABLED"),
}


def find_service(host: Host, name: str, *, display_too: bool) -> dict[str, Any] | None:
    svc = host.service(name)
    if svc is None and display_too:  # net accepts the display name too
        for candidate in host.data["services"].values():
            if candidate["display_name"].lower() == name.lower():
                return candidate
    return svc


def start(host: Host, svc: dict[str, Any]) -> bool:
    ok = host.set_service_state(svc["name"], "running")
    if ok and svc["name"].lower() == "obengine":
        mars.apply_on_restart(host)
    return ok


def _helpmsg(n: int) -> str:
    return f"\r\nMore help is available by typing NET HELPMSG {n}.\r\n\r\n"


@executable("net.exe", "net1.exe")
def net(inv: Invocation) -> ProcessResult:
    args = inv.args
    if len(args) < 2 or args[0].lower() not in ("start", "stop"):
        return ProcessResult(1, "", "The syntax of this command is:\r\n\r\nNET\r\n    [ START | STOP ] ...\r\n")
    verb = args[0].lower()
    name = " ".join(args[1:])
    host = inv.host
    svc = find_service(host, name, display_too=True)
    if svc is None:
        return ProcessResult(2, "", "The service name is invalid.\r\n" + _helpmsg(2185))
    display = svc["display_name"]
    if verb == "start":
        if svc["state"] == "running":
            return ProcessResult(2, "", "The requested service has already been started.\r\n" + _helpmsg(2182))
        if svc["start_mode"] == "disabled":
            return ProcessResult(
                2,
                "",
                "System error 1058 has occurred.\r\n\r\nThe service cannot be started, either because it is disabled "
                "or because it has no enabled devices associated with it.\r\n\r\n",
            )
        if not start(host, svc):
            return ProcessResult(
                2,
                f"The {display} service is starting.\r\n",
                f"The {display} service could not be started.\r\n\r\nA service specific error occurred: 1.\r\n"
                + _helpmsg(3547),
            )
        return ProcessResult(
            0, f"The {display} service is starting.\r\nThe {display} service was started successfully.\r\n\r\n", ""
        )
    if svc["state"] != "running":
        return ProcessResult(2, "", f"The {display} service is not started.\r\n" + _helpmsg(3521))
    host.set_service_state(svc["name"], "stopped")
    return ProcessResult(
        0, f"The {display} service is stopping.\r\nThe {display} service was stopped successfully.\r\n\r\n", ""
    )


def _sc_status(svc: dict[str, Any], state: tuple[int, str]) -> str:
    return (
        f"\r\nSERVICE_NAME: {svc['name']} \r\n"
        "        TYPE               : 10  WIN32_OWN_PROCESS  \r\n"
        f"        STATE              : {state[0]}  {state[1]} \r\n"
        "                                (STOPPABLE, NOT_PAUSABLE, ACCEPTS_SHUTDOWN)\r\n"
        "        WIN32_EXIT_CODE    : 0  (0x0)\r\n"
        "        SERVICE_EXIT_CODE  : 0  (0x0)\r\n"
        "        CHECKPOINT         : 0x0\r\n"
        "        WAIT_HINT          : 0x0\r\n"
    )


def _sc_fail(op: str, code: int, text: str) -> ProcessResult:
    return ProcessResult(code, f"[SC] {op} FAILED {code}:\r\n\r\n{text}\r\n\r\n", "")


@executable("sc.exe")
def sc(inv: Invocation) -> ProcessResult:
    args = inv.args
    if len(args) < 2 or args[0].lower() not in ("query", "start", "stop", "qc"):
        return ProcessResult(
            1,
            "DESCRIPTION:\r\n        SC is a command line program used for communicating with the\r\n"
            "        Service Control Manager and services.\r\n",
            "",
        )
    verb, name = args[0].lower(), args[1]
    host = inv.host
    svc = find_service(host, name, display_too=False)  # sc takes the service (key) name only
    if svc is None:
        op = {"query": "EnumQueryServicesStatus:OpenService", "qc": "OpenService"}.get(verb, "OpenService")
        return _sc_fail(op, 1060, "The specified service does not exist as an installed service.")
    if verb == "query":
        return ProcessResult(0, _sc_status(svc, _STATES.get(svc["state"], (1, "STOPPED"))), "")
    if verb == "qc":
        mode = _START[svc["start_mode"]]
        return ProcessResult(
            0,
            f"[SC] QueryServiceConfig SUCCESS\r\n\r\nSERVICE_NAME: {svc['name']}\r\n"
            "        TYPE               : 10  WIN32_OWN_PROCESS \r\n"
            f"        START_TYPE         : {mode[0]}   {mode[1]}\r\n"
            "        ERROR_CONTROL      : 1   NORMAL\r\n"
            f"        BINARY_PATH_NAME   : {svc['path']}\r\n"
            f"        DISPLAY_NAME       : {svc['display_name']}\r\n"
            f"        SERVICE_START_NAME : {svc['username']}\r\n",
            "",
        )
    if verb == "start":
        if svc["state"] == "running":
            return _sc_fail("StartService", 1056, "An instance of the service is already running.")
        if svc["start_mode"] == "disabled":
            return _sc_fail(
                "StartService",
                1058,
                "The service cannot be started, either because it is disabled or "
                "because it has no enabled devices associated with it.",
            )
        if not start(host, svc):
            return _sc_fail(
                "StartService", 1053, "The service did not respond to the start or control request in a timely fashion."
            )
        return ProcessResult(0, _sc_status(svc, (2, "START_PENDING")), "")
    if svc["state"] != "running":
        return _sc_fail("ControlService", 1062, "The service has not been started.")
    host.set_service_state(svc["name"], "stopped")
    return ProcessResult(0, _sc_status(svc, (3, "STOP_PENDING")), "")
