# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep a task's result per host for the lab tests, written by the controller itself (tests/integration/lab_ops.py).

The tests used to add a task ``ansible.builtin.copy: content="{{ r | to_json }}"`` delegated to localhost after the
task under test: on this controller that costs a ``stat`` and a ``file`` module run (two Python processes) per host,
more than the task under test. This callback writes the same value from the result the controller already has:
what ``register`` would hold (the task's return value without Ansible's internal keys and ``invocation``), with
``failed`` / ``skipped`` / ``unreachable`` set as the registered value has them.

Enabled per run by the tests: ``ANSIBLE_CALLBACK_PLUGINS`` = this folder, ``ANSIBLE_CALLBACKS_ENABLED`` =
``asr_test_results``; ``ASR_TEST_RESULTS_DIR`` = the folder that receives ``<host>.json``; ``ASR_TEST_RESULTS_TASK``
= the name of the task to keep (default ``Module under test``).
"""

from __future__ import annotations

import json
import os
import pathlib

from ansible.module_utils.common.json import AnsibleJSONEncoder
from ansible.plugins.callback import CallbackBase
from ansible.vars.clean import module_response_deepcopy, strip_internal_keys

DOCUMENTATION = """
name: asr_test_results
type: aggregate
short_description: keeps one task's registered result per host for the lab tests
description:
  - Writes C(<host>.json) into E(ASR_TEST_RESULTS_DIR) for the task named E(ASR_TEST_RESULTS_TASK).
requirements:
  - enabled with ANSIBLE_CALLBACKS_ENABLED
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "asr_test_results"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        directory = os.environ.get("ASR_TEST_RESULTS_DIR")
        self.directory = pathlib.Path(directory) if directory else None
        self.task_name = os.environ.get("ASR_TEST_RESULTS_TASK", "Module under test")

    def _keep(self, result, **status: bool) -> None:
        if self.directory is None or result.task_name != self.task_name:
            return
        # as StrategyBase registers it: internal keys and invocation removed; the status the callback copy dropped
        value = strip_internal_keys(module_response_deepcopy(dict(result._result)))
        value.pop("invocation", None)
        value.update(status)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{result._host.get_name()}.json"
        path.write_text(json.dumps(value, cls=AnsibleJSONEncoder), encoding="utf-8")

    def v2_runner_on_ok(self, result) -> None:
        self._keep(result, failed=False)

    def v2_runner_on_failed(self, result, ignore_errors: bool = False) -> None:
        self._keep(result, failed=True)

    def v2_runner_on_skipped(self, result) -> None:
        self._keep(result, skipped=True)

    def v2_runner_on_unreachable(self, result) -> None:
        self._keep(result, unreachable=True)
