"""win_service and win_service_info over the host's service table."""

from __future__ import annotations

from typing import Any

from lab.argspec import ModuleFailure
from lab.winmodules._common import Context

_STATE = {"running": "running", "stopped": "stopped", "paused": "paused"}


def _start_failure(service: dict[str, Any]) -> ModuleFailure:
    # Start-Service (WinPS 5.1) ServiceCommandException, escaping win_service.ps1 -> module_wrapper.ps1
    # "Unhandled exception while executing module: $ErrorRecord"
    name = service["name"]
    return ModuleFailure(
        "Unhandled exception while executing module: Service "
        f"'{service['display_name']} ({name})' cannot be started due to the following error: "
        f"Cannot start service {name} on computer '.'."
    )


def _returned(service: dict[str, Any]) -> dict[str, Any]:
    username = service.get("username", "LocalSystem")
    if username.lower() in ("localsystem", "system", "nt authority\\system", ".\\localsystem"):
        username = "LocalSystem"
    return {
        "exists": True,
        "name": service["name"],
        "display_name": service["display_name"],
        "state": _STATE.get(service["state"], service["state"]),
        "start_mode": service["start_mode"],
        "path": service["path"],
        "description": service.get("description", ""),
        "username": username,
        "desktop_interact": False,
        "dependencies": list(service.get("dependencies", [])),
        "depended_by": [],
        "can_pause_and_continue": False,
    }


def _depended_by(ctx: Context, name: str) -> list[str]:
    return sorted(
        s["name"]
        for s in ctx.host.data["services"].values()
        if name.lower() in [d.lower() for d in s.get("dependencies", [])]
    )


def win_service(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    host = ctx.host
    check = ctx.check_mode
    name = params["name"]
    state = params["state"]
    result = ctx.result(exists=False)
    service = host.service(name)
    if state == "absent":
        if service is not None:
            if not check:
                host.remove_service(name)
            result["changed"] = True
        return result
    settable = [
        k for k in params if k not in ("name", "dependency_action", "desktop_interact", "force_dependent_services")
    ]
    detect_changes = (
        service is not None
        or any(params.get(k) is not None for k in settable)
        or params["dependency_action"] != "set"
        or params["desktop_interact"] is True
    )
    if not detect_changes:
        # win_service.ps1: nothing to configure and no such service -> the after-diff is the empty before-diff
        return result
    if service is None:
        if params.get("path") is None:
            msg = f"Service '{name}' is not installed, need to set 'path' to create a new service"
            raise ModuleFailure(msg, **result)
        result["changed"] = True
        if check:
            # win_service.ps1: New-Service -WhatIf; nothing to read back, the after-diff holds only the name
            service = {
                "name": name,
                "display_name": params.get("display_name") or name,
                "path": params["path"],
                "start_mode": params.get("start_mode") or "auto",
                "state": "stopped",
                "username": "LocalSystem",
            }
        else:
            host.add_service(name, name, params["path"], start_mode="auto", state="stopped")
            service = host.service(name)
    assert service is not None
    target = service if not check else dict(service)

    def update(key: str, value: Any) -> None:
        if value is not None and target.get(key) != value:
            target[key] = value
            result["changed"] = True

    update("display_name", params.get("display_name"))
    update("description", params.get("description"))
    update("path", params.get("path"))
    update("start_mode", params.get("start_mode"))
    if params.get("username") is not None:
        update("username", params["username"])
    if params.get("dependencies") is not None:
        wanted = list(params["dependencies"])
        current = list(target.get("dependencies", []))
        action = params["dependency_action"]
        if action == "add":
            wanted = current + [d for d in wanted if d.lower() not in [c.lower() for c in current]]
        elif action == "remove":
            wanted = [c for c in current if c.lower() not in [d.lower() for d in wanted]]
        if [d.lower() for d in wanted] != [c.lower() for c in current]:
            target["dependencies"] = wanted
            result["changed"] = True
    # win_service.ps1 Set-ServiceState (always last)
    if state == "started" and target["state"] != "running":
        result["changed"] = True
        if not check:
            if not host.set_service_state(target["name"], "running"):
                raise _start_failure(target)
        else:
            target["state"] = "running"
    elif state == "stopped" and target["state"] != "stopped":
        result["changed"] = True
        if not check:
            host.set_service_state(target["name"], "stopped")
        else:
            target["state"] = "stopped"
    elif state == "restarted":
        result["changed"] = True
        if not check:
            host.set_service_state(target["name"], "stopped")
            if not host.set_service_state(target["name"], "running"):
                raise _start_failure(target)
        else:
            target["state"] = "running"
    elif state == "paused" and target["state"] != "paused":
        raise ModuleFailure(f"failed to pause service {target['name']}: The service does not support pausing", **result)
    returned = _returned(target)
    if state in ("started", "restarted") and check:
        returned["state"] = "running"
    returned["depended_by"] = _depended_by(ctx, target["name"])
    result.update(returned)
    return result


_START_TYPE = {"auto": "auto", "delayed": "delayed", "manual": "manual", "disabled": "disabled"}


def win_service_info(ctx: Context) -> dict[str, Any]:
    # win_service_info.ps1: name matches the service name or display name, wildcards allowed
    import fnmatch

    pattern = ctx.params.get("name")
    services = []
    for service in sorted(ctx.host.data["services"].values(), key=lambda s: s["name"].lower()):
        if pattern and not (
            fnmatch.fnmatch(service["name"].lower(), pattern.lower())
            or fnmatch.fnmatch(service["display_name"].lower(), pattern.lower())
        ):
            continue
        username = service.get("username", "LocalSystem")
        running = service["state"] == "running"
        services.append(
            {
                "checkpoint": 0,
                "controls_accepted": ["stop", "shutdown"] if running else [],
                "dependencies": list(service.get("dependencies", [])),
                "dependency_of": _depended_by(ctx, service["name"]),
                "description": service.get("description", ""),
                "desktop_interact": False,
                "display_name": service["display_name"],
                "error_control": "normal",
                "failure_actions": [],
                "failure_action_on_non_crash_failure": False,
                "failure_command": None,
                "failure_reboot_msg": None,
                "failure_reset_period_sec": 0,
                "launch_protection": "none",
                "load_order_group": "",
                "name": service["name"],
                "path": service["path"],
                "pre_shutdown_timeout_ms": 180000,
                "preferred_node": None,
                "process_id": 4000 + len(services) if running else 0,
                "required_privileges": [],
                "service_exit_code": 0,
                "service_flags": [],
                "service_type": "win32_own_process",
                "sid_info": "none",
                "start_mode": _START_TYPE.get(service["start_mode"], service["start_mode"]),
                "state": service["state"],
                "triggers": [],
                "username": "NT AUTHORITY\\SYSTEM" if username.lower() == "localsystem" else username,
                "wait_hint_ms": 0,
                "win32_exitcode": 0 if running else 1077,
            }
        )
    return ctx.result(exists=bool(services), services=services)
