# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's timeline: when each task started and when each host's part of it started and ended.

Not part of the collection (bench/ is a development tree). bench/distribution.py enables it with
``ANSIBLE_CALLBACK_PLUGINS=bench/callback_plugins ANSIBLE_CALLBACKS_ENABLED=bench_timeline`` and
``BENCH_TIMELINE=<file>``; bench/timeline.py reads the JSON lines it writes to model the run's wall time with the
package's declared size (docs/benchmarks.md, "The distribution benchmark").
"""

from __future__ import annotations

import json
import os
import threading
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timeline
type: aggregate
short_description: Task and host start/end times as JSON lines (benchmark only)
description:
  - Writes one JSON line per task start and per host start/end of a task to the file in BENCH_TIMELINE.
options: {}
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = os.environ.get("BENCH_TIMELINE")
        self._lock = threading.Lock()
        self._execution = 0
        self._current: dict[str, int] = {}  # task uuid -> its latest execution (a serial play repeats its tasks)
        self._play = ""

    def _write(self, **entry: object) -> None:
        if not self._path:
            return
        line = json.dumps({"time": time.time(), **entry}, default=str) + "\n"
        with self._lock, open(self._path, "a", encoding="utf-8") as handle:
            handle.write(line)

    def v2_playbook_on_play_start(self, play) -> None:  # type: ignore[no-untyped-def]
        self._play = play.get_name()
        from ansible import context

        self._write(event="play", play=self._play, forks=(context.CLIARGS or {}).get("forks"))

    def v2_playbook_on_task_start(self, task, is_conditional) -> None:  # type: ignore[no-untyped-def]
        self._execution += 1
        self._current[task._uuid] = self._execution
        self._write(event="task", execution=self._execution, name=task.get_name(), play=self._play)

    def _host(self, event: str, result=None, task=None, host=None, status=None) -> None:  # type: ignore[no-untyped-def]
        task = task if task is not None else result._task
        name = (host if host is not None else result._host).get_name()
        self._write(event=event, execution=self._current.get(task._uuid), host=name, status=status)

    def v2_runner_on_start(self, host, task) -> None:  # type: ignore[no-untyped-def]
        self._host("start", task=task, host=host)

    def v2_runner_on_ok(self, result) -> None:  # type: ignore[no-untyped-def]
        self._host("end", result, status="ok")

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:  # type: ignore[no-untyped-def]
        self._host("end", result, status="failed")

    def v2_runner_on_skipped(self, result) -> None:  # type: ignore[no-untyped-def]
        self._host("end", result, status="skipped")

    def v2_runner_on_unreachable(self, result) -> None:  # type: ignore[no-untyped-def]
        self._host("end", result, status="unreachable")
