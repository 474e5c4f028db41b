# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one shape of ``steps`` in every module's result (documented once: doc fragment ``asr.process_server.steps``).

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

``steps`` is a list, in order, of what the task did - or, in check mode, would do - one dictionary per step:

* ``name`` (always): what the step does, in the words check mode predicts it with and a real run reports it with;
* ``changed`` (always): the step changed the host (in check mode: would change it);
* ``rc``: the exit code of the program the step ran, when one ran and reported one;
* ``msg``: how the step ended when that needs words (a failure, a time-out, an uninstaller's exit code meaning);
* ``failed``: ``true`` on the step that failed (absent otherwise);
* ``operation``: only in asr.process_server.process_server - which operation the step belongs to.

The collection's scripts report finer steps than a plan can predict (``net stop obengine`` runs only when the
service runs): :func:`from_script` folds them into the plan's steps, so a real run and check mode name the same
steps. Pure Python, no Ansible.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .script_steps import step_status

# The proxy and re-registration procedures [8], [3.3], step by step, as proxy_apply.ps1 and register_apply.ps1 run
# them (each restart is net stop / net start obengine).
SET_PROXY = "Set-OBMachineSetting (proxy)"
REMOVE_PROXY = "Set-OBMachineSetting -NoProxy"
RESTART_OBENGINE = "restart obengine"
REGISTER_MT = "cdpcli.exe --registermt"
WRITE_SETTINGS_FILE = "write settings_file"
REGISTRATION_STEPS = (REGISTER_MT, RESTART_OBENGINE)

# A script's own step name -> the procedure step it belongs to (its "_after_registermt" twin: the same).
_SCRIPT_STEP = {
    "set_ob_machine_setting": (SET_PROXY, REMOVE_PROXY),
    "stop_obengine": (RESTART_OBENGINE,),
    "start_obengine": (RESTART_OBENGINE,),
    "restart_obengine": (RESTART_OBENGINE,),
    "registermt": (REGISTER_MT,),
    "write_settings_file": (WRITE_SETTINGS_FILE,),
}


def step(
    name: str,
    *,
    changed: bool = True,
    rc: int | None = None,
    msg: str | None = None,
    failed: bool = False,
) -> dict[str, Any]:
    """One step in the shared shape; optional keys only when they say something."""
    entry: dict[str, Any] = {"name": name, "changed": changed}
    if rc is not None:
        entry["rc"] = rc
    if msg:
        entry["msg"] = msg
    if failed:
        entry["failed"] = True
    return entry


def planned(names: Iterable[str]) -> list[dict[str, Any]]:
    """Steps a plan will take (check mode) or took without more to say (each changes the host)."""
    return [step(name) for name in names]


def in_operation(steps: Iterable[Mapping[str, Any]], operation: str) -> list[dict[str, Any]]:
    """``steps`` of one operation of asr.process_server.process_server, each marked with it."""
    return [{**entry, "operation": operation} for entry in steps]


def proxy_step_names(
    *, set_mars_proxy: bool, no_proxy: bool, register_mt: bool, write_settings_file: bool = False
) -> list[str]:
    """What proxy_apply.ps1 runs for a proxy plan [8]: the agent's proxy and a restart, the re-registration and a
    restart, then the optional settings file."""
    names: list[str] = []
    if set_mars_proxy:
        names += [REMOVE_PROXY if no_proxy else SET_PROXY, RESTART_OBENGINE]
        if register_mt:
            names += [REGISTER_MT, RESTART_OBENGINE]
    if write_settings_file:
        names.append(WRITE_SETTINGS_FILE)
    return names


def _belongs(script_name: str, procedure_step: str) -> bool:
    base = script_name.removesuffix("_after_registermt")
    return procedure_step in _SCRIPT_STEP.get(base, (script_name,))


def _ok(reported: Mapping[str, Any]) -> bool:
    return reported.get("rc") == 0 or bool(reported.get("already_running"))


def from_script(names: Iterable[str], reported: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The procedure's steps (``names``, in order) with what the script reported for each of them.

    A procedure step gathers the script's steps that belong to it (``stop_obengine`` and ``start_obengine`` are one
    ``restart obengine``); it carries the exit code of its last program, and on a failure that program's status and
    ``failed``. Steps the script did not reach are left out; a script step that matches no procedure step is kept
    under its own name, so nothing the host did is hidden.
    """
    queue = list(reported)
    out: list[dict[str, Any]] = []
    for name in names:
        mine: list[Mapping[str, Any]] = []
        while queue and _belongs(str(queue[0].get("name", "")), name):
            mine.append(queue.pop(0))
            if not _ok(mine[-1]):
                break
        if not mine:
            break
        last = mine[-1]
        ok = _ok(last)
        note = None if ok and not last.get("already_running") else step_status(last)
        out.append(step(name, changed=ok or len(mine) > 1, rc=last.get("rc"), msg=note, failed=not ok))
        if not ok:
            return out
    out += [
        step(str(extra.get("name")), rc=extra.get("rc"), msg=None if _ok(extra) else step_status(extra))
        for extra in queue
    ]
    return out
