"""The action unit tests' one harness: build an action plugin for a task and replay recorded win_powershell replies.

Each action plugin sends its PowerShell through ``_execute_module`` (ansible.windows.win_powershell); these helpers
replace that call with a list of replies, so a test sees every script the plugin sent and what it made of them.
"""

from __future__ import annotations

import importlib
import json
from unittest.mock import MagicMock

from ansible.playbook.task import Task

from ansible_collections.asr.process_server.plugins.plugin_utils.operations import setup as _op_setup

COLLECTION = "asr.process_server"


def ps(result, **extra):
    """What win_powershell returns for a script that wrote ``result`` as its JSON (every stream empty)."""
    reply = {"changed": False, "result": json.dumps(result), "output": [], "error": [], "host_out": "",
             "host_err": "", "warning": [], "verbose": [], "debug": [], "information": []}  # fmt: skip
    reply.update(extra)
    return reply


def step(name, rc=0, stdout="", stderr=""):
    """One entry of a result's ``steps`` (the shared shape, plugin_utils/domain/steps.py)."""
    return {"name": name, "rc": rc, "stdout": stdout, "stderr": stderr}


def make_plugin(module, args, check_mode=False, diff=False):
    """The action plugin ``module`` (a module object or its name) for a task with ``args``."""
    if isinstance(module, str):
        module = importlib.import_module(f"ansible_collections.asr.process_server.plugins.action.{module}")
    task = MagicMock(Task)
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    task.action = f"{COLLECTION}.{module.__name__.rsplit('.', 1)[1]}"
    play_context = MagicMock()
    play_context.check_mode = check_mode
    return module.ActionModule(task, MagicMock(), play_context, loader=None, templar=None, shared_loader_obj=None)


def replay(monkeypatch, plugin, replies, host="ps01"):
    """Run ``plugin`` on ``host`` with ``replies`` as the win_powershell results, in order: (execute mock, result)."""
    execute = MagicMock(side_effect=list(replies))
    monkeypatch.setattr(plugin, "_execute_module", execute)
    return execute, plugin.run(task_vars={"inventory_hostname": host})


def scripts(execute):
    """The ``<name> v<N>`` of every script sent, in order (each script's first line is ``# asr script: <name> vN``)."""
    return [c.kwargs["module_args"]["script"].splitlines()[0].split(": ")[1] for c in execute.call_args_list]


def freeze_setup_clock(monkeypatch):
    """Setup polling waits on a fake clock: ``time.sleep`` advances ``time.monotonic`` at once."""
    clock = {"now": 0.0}
    monkeypatch.setattr(_op_setup.time, "sleep", lambda seconds: clock.update(now=clock["now"] + seconds))
    monkeypatch.setattr(_op_setup.time, "monotonic", lambda: clock["now"])
