"""The modelled wall time of a run: its measured timeline plus what the package's declared size would have added.

The lab (lab/link.py) prices every request and byte that really moves, in real time. With ``virtual_time:
account`` it only RECORDS what a declared package size (say 1.5 GB instead of the lab's small file) would have
added (``virtual_s`` in each host's wire log), so that a 200-host rollout of a 1.5 GB package does not take hours.
This module puts that time back where a real run would have spent it, using the run's own timeline (which task ran
on which host when, from bench/callback_plugins/bench_timeline.py) and Ansible's scheduling:

* a task runs on its hosts through ``forks`` workers, each host as soon as a worker is free, in the order they
  started (the linear strategy); the next task starts when the task has ended on every host of the batch;
* a **foreground** addition (the WinRM link: a put_file of the package by the collection or by ``win_copy``) makes
  that host's part of the task longer -- the controller's worker is busy sending;
* a **background** addition (the file server or a share: the host's own detached download or copy) runs from when the
  host started it; the host's NEXT task (the staging play's wait, skipped or not) cannot end before it ends -- the
  controller is free meanwhile, so every host's transfer overlaps.

For each task the model schedules the hosts twice on ``forks`` workers -- with the real durations, and with the real
durations plus the additions -- and adds the difference to the run's wall time: the scheduling itself (worker
start-up, the strategy's own pauses) stays as measured. With nothing declared, the modelled wall time is the
measured one. Checked against runs that really wait the declared time (``virtual_time: sleep``) at N = 10
(docs/benchmarks.md).
"""

from __future__ import annotations

import heapq
import json
import pathlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FOREGROUND = ("wsman",)
BACKGROUND = ("http", "smb")


@dataclass
class HostRun:
    start: float
    end: float
    status: str = "ok"


@dataclass
class TaskRun:
    """One execution of a task (a serial play runs its tasks once per batch)."""

    execution: int
    name: str
    play: str
    hosts: dict[str, HostRun] = field(default_factory=dict)

    @property
    def start(self) -> float:
        return min(h.start for h in self.hosts.values())

    @property
    def end(self) -> float:
        return max(h.end for h in self.hosts.values())


@dataclass
class Addition:
    """What a declared package size added to one transfer: when (real time), how long, and which kind."""

    host: str
    time: float
    seconds: float
    background: bool


def read_timeline(path: pathlib.Path) -> tuple[list[TaskRun], int | None]:
    """The task executions (with at least one host) in the order they started, and the run's ``forks``."""
    tasks: dict[int, TaskRun] = {}
    forks = None
    for line in path.read_text(encoding="utf-8").splitlines() if path.is_file() else []:
        event = json.loads(line)
        kind = event.get("event")
        if kind == "play" and event.get("forks"):
            forks = int(event["forks"])
        elif kind == "task":
            tasks[event["execution"]] = TaskRun(event["execution"], event.get("name", ""), event.get("play", ""))
        elif kind in ("start", "end") and event.get("execution") in tasks:
            task = tasks[event["execution"]]
            run = task.hosts.get(event["host"])
            if kind == "start":
                task.hosts[event["host"]] = HostRun(event["time"], event["time"])
            elif run is not None:
                run.end, run.status = event["time"], event.get("status") or "ok"
            else:  # an end without a start (a result the strategy reported directly): an instant
                task.hosts[event["host"]] = HostRun(event["time"], event["time"], event.get("status") or "ok")
    ordered = [t for t in tasks.values() if t.hosts]
    return sorted(ordered, key=lambda t: t.start), forks


def additions(wire_logs: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Addition]:
    """The declared size's additions in the hosts' wire logs (lab/link.py), foreground or background by channel."""
    found = []
    for host, entries in wire_logs.items():
        for entry in entries:
            seconds = float(entry.get("virtual_s") or 0)
            if seconds <= 0:
                continue
            found.append(Addition(host, float(entry["time"]), seconds, entry.get("channel") in BACKGROUND))
    return sorted(found, key=lambda a: a.time)


def _schedule(order: list[str], durations: Mapping[str, float], ready: float, forks: int,
              not_before: Mapping[str, float]) -> tuple[float, dict[str, float]]:  # fmt: skip
    """List scheduling on ``forks`` workers from ``ready``: (makespan end, each host's start)."""
    workers = [ready] * max(1, forks)
    heapq.heapify(workers)
    ends = [ready]
    starts = {}
    for host in order:
        begin = heapq.heappop(workers)
        end = max(begin + durations[host], not_before.get(host, 0.0))
        starts[host] = begin
        ends.append(end)
        heapq.heappush(workers, end)
    return max(ends), starts


@dataclass
class Model:
    measured_s: float
    modelled_s: float
    added_s: float
    foreground_s: float  # the additions' own total (every host), for the report
    background_s: float
    per_task: list[dict[str, Any]]


def model(measured_s: float, tasks: list[TaskRun], found: list[Addition], forks: int) -> Model:
    """The run's modelled wall time: measured plus, task by task, what the additions lengthen its schedule by."""
    shift = 0.0  # modelled time minus real time, so far
    pending: dict[str, float] = {}  # host -> modelled time its background transfer ends
    per_task = []
    for task in tasks:
        order = sorted(task.hosts, key=lambda h: task.hosts[h].start)
        real = {h: max(0.0, task.hosts[h].end - task.hosts[h].start) for h in order}
        mine = {h: [a for a in found if a.host == h and task.hosts[h].start <= a.time <= task.hosts[h].end]
                for h in order}  # fmt: skip
        longer = {h: real[h] + sum(a.seconds for a in mine[h] if not a.background) for h in order}
        ready = task.start + shift
        wait = {h: pending.pop(h) for h in order if h in pending}
        base_end, _ = _schedule(order, real, ready, forks, {})
        model_end, starts = _schedule(order, longer, ready, forks, wait)
        added = max(0.0, model_end - base_end)
        for host in order:  # background transfers this task started: they end that long after they began
            for a in mine[host]:
                if a.background:
                    began = starts[host] + (a.time - task.hosts[host].start)
                    pending[host] = max(pending.get(host, 0.0), began + a.seconds)
        if added > 0:
            per_task.append({"task": task.name, "play": task.play, "hosts": len(order), "added_s": round(added, 3)})
        shift += added
    return Model(
        measured_s=measured_s,
        modelled_s=measured_s + shift,
        added_s=shift,
        foreground_s=sum(a.seconds for a in found if not a.background),
        background_s=sum(a.seconds for a in found if a.background),
        per_task=per_task,
    )
