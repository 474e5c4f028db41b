"""bench/timeline.py: a run's modelled wall time from its timeline and the declared package size's additions."""

from __future__ import annotations

import json

import pytest

from bench import distribution, timeline


def task(execution, name, hosts, start=0.0, duration=1.0):
    return timeline.TaskRun(execution, name, "play", {h: timeline.HostRun(start, start + duration) for h in hosts})


def test_nothing_declared_models_the_measured_time():
    tasks = [task(1, "a", ["ps01", "ps02"]), task(2, "b", ["ps01"], start=2.0)]
    modelled = timeline.model(10.0, tasks, [], forks=20)
    assert modelled.modelled_s == 10.0 and modelled.added_s == 0.0


def test_a_foreground_transfer_lengthens_its_task_through_the_forks():
    # 4 hosts, 2 forks, each host's put_file 10 s longer: two rounds of 11 s instead of two of 1 s
    hosts = ["ps01", "ps02", "ps03", "ps04"]
    adds = [timeline.Addition(h, 0.5, 10.0, background=False) for h in hosts]
    modelled = timeline.model(5.0, [task(1, "copy", hosts)], adds, forks=2)
    assert modelled.added_s == pytest.approx(20.0)
    assert modelled.modelled_s == pytest.approx(25.0)
    assert timeline.model(5.0, [task(1, "copy", hosts)], adds, forks=4).added_s == pytest.approx(10.0)


def test_background_transfers_overlap_and_the_next_task_waits_for_them():
    # every host starts its download in task 1 (2 forks), the downloads run at once; task 2 waits for the last
    hosts = ["ps01", "ps02", "ps03", "ps04"]
    adds = [timeline.Addition(h, 0.5, 100.0, background=True) for h in hosts]
    tasks = [task(1, "start", hosts), task(2, "wait", hosts, start=1.0, duration=0.1)]
    modelled = timeline.model(3.0, tasks, adds, forks=2)
    # the first task is not longer (the controller is free); the last download began in the second round
    assert modelled.per_task[0]["task"] == "wait"
    assert modelled.added_s == pytest.approx(100.0 + 1.0 + 0.5 - (1.0 + 0.2), abs=0.01)
    # one host per worker round would make the same downloads wait far longer in the foreground
    foreground = [timeline.Addition(h, 0.5, 100.0, background=False) for h in hosts]
    assert timeline.model(3.0, tasks, foreground, forks=2).added_s == pytest.approx(200.0)


def test_additions_are_read_from_wire_logs_by_channel(tmp_path):
    wire = {
        "ps01": [{"time": 1.0, "channel": "wsman", "virtual_s": 5.0}, {"time": 2.0, "channel": "wsman", "what": "x"}],
        "ps02": [{"time": 3.0, "channel": "http", "virtual_s": 7.0}, {"time": 4.0, "channel": "smb", "virtual_s": 1}],
    }
    found = timeline.additions(wire)
    assert [(a.host, a.seconds, a.background) for a in found] == [
        ("ps01", 5.0, False), ("ps02", 7.0, True), ("ps02", 1.0, True)
    ]  # fmt: skip


def test_the_timeline_file_gives_each_serial_batch_its_own_execution(tmp_path):
    path = tmp_path / "t.jsonl"
    events = [
        {"event": "play", "forks": 20, "time": 0},
        {"event": "task", "execution": 1, "name": "x", "time": 0},
        {"event": "start", "execution": 1, "host": "ps01", "time": 1},
        {"event": "end", "execution": 1, "host": "ps01", "time": 2, "status": "ok"},
        {"event": "task", "execution": 2, "name": "x", "time": 3},
        {"event": "start", "execution": 2, "host": "ps02", "time": 3},
        {"event": "end", "execution": 2, "host": "ps02", "time": 5, "status": "skipped"},
        {"event": "task", "execution": 3, "name": "no hosts", "time": 6},
    ]
    path.write_text("\n".join(json.dumps(e) for e in events), encoding="utf-8")
    tasks, forks = timeline.read_timeline(path)
    assert forks == 20 and [t.execution for t in tasks] == [1, 2]
    assert tasks[1].hosts["ps02"].status == "skipped" and tasks[1].end == 5


def test_wire_figures_count_requests_bytes_and_package_copies():
    entries = [
        {"channel": "wsman", "what": "connect (TLSv1.3)", "round_trips": 2, "bytes_in": 0},
        {"channel": "wsman", "what": "Send", "round_trips": 1, "bytes_in": 1000},
        {"channel": "wsman", "what": "put_file", "round_trips": 0, "package": True, "send_bytes": 1500, "bytes_in": 0},
        {"channel": "wsman", "what": "put_file (declared package size)", "round_trips": 0, "virtual_in": 9000,
         "virtual_requests": 5},
        {"channel": "http", "what": "body", "bytes_in": 70},
        {"channel": "http", "what": "body (declared package size)", "virtual_in": 700},
    ]  # fmt: skip
    figures = distribution.wire_figures(entries)
    assert figures["wsman_requests"] == 1 + 5 and figures["connections"] == 1
    assert figures["package_copies"] == 1 and figures["package_bytes"] == 1500 + 9000
    assert figures["controller_bytes"] == 1000 + 9000 and figures["file_bytes"] == 770


def _row(n, mode, variant, wall, *, package_bytes=0, copies=(0, 0), calls_max=1):
    return {
        "hosts": n, "mode": mode, "variant": variant, "status": "ok", "wall_s": wall, "modelled_wall_s": wall,
        "added_s": 0.0, "source": variant, "calls": {"mean": calls_max, "max": calls_max},
        "wire": {"total": {"package_bytes": package_bytes, "controller_bytes": 0, "file_bytes": 0},
                 "per_host_mean": {"wsman_requests": 0}, "package_copies_min": copies[0],
                 "package_copies_max": copies[1]},
    }  # fmt: skip


def test_targets_judge_the_speed_up_at_200_hosts_and_the_bytes_copies_and_calls_at_every_size():
    rows = [
        _row(10, "declared", "naive", 500.0),
        _row(10, "declared", "url", 250.0),
        _row(200, "declared", "naive", 5000.0),
        _row(200, "declared", "url", 1100.0, package_bytes=0),
        _row(200, "declared", "share", 900.0, package_bytes=1),
        _row(200, "declared", "push", 6000.0, copies=(1, 2)),
        _row(200, "converged", "url", 20.0, calls_max=2),
    ]
    found = {t["target"]: t for t in distribution.targets(rows)}
    small = found["N=10 url: modelled fresh rollout >= 5x faster than the naive playbook (judged at N=200)"]
    assert small["status"] == "reported" and "2.0x" in small["detail"]
    share = found["N=200 share: modelled fresh rollout >= 5x faster than the naive playbook"]
    assert share["status"] == "met" and share["detail"].startswith("900 s vs naive 5000 s = 5.6x")
    url = found["N=200 url: modelled fresh rollout >= 5x faster than the naive playbook"]  # each source on its own
    assert url["status"] == "missed" and url["detail"].startswith("1100 s vs naive 5000 s = 4.5x")
    assert found["N=200 url: controller bytes for the package 0"]["status"] == "met"
    assert found["N=200 share: controller bytes for the package 0"]["status"] == "missed"
    assert found["N=200 push: one copy per host, never two"]["status"] == "missed"
    assert found["N=200 url: converged run 1 remote call per host"]["status"] == "missed"


def test_the_package_phase_spans_the_package_tasks_and_adds_what_the_model_added_in_them():
    tasks = [
        task(1, "Screen", ["ps01", "ps02"], start=0.0, duration=5.0),
        task(2, "asr.process_server.process_server : Start staging the Unified Setup package (state=staged)",
             ["ps01", "ps02"], start=6.0, duration=2.0),
        task(3, "asr.process_server.process_server : Wait until the Unified Setup package is staged (its SHA-256)",
             ["ps01", "ps02"], start=9.0, duration=1.0),
        task(4, "Converge", ["ps01"], start=11.0, duration=30.0),
    ]  # fmt: skip
    added = [
        {"task": "process_server : Wait until the Unified Setup package is staged", "added_s": 120.0},
        {"task": "Converge", "added_s": 7.0},
    ]
    assert distribution.package_phase(tasks, added) == {"measured_s": 4.0, "added_s": 120.0, "modelled_s": 124.0}
    assert distribution.package_phase(tasks[:1], []) == {"measured_s": 0.0, "added_s": 0.0, "modelled_s": 0.0}


def test_model_check_sets_the_really_waited_run_against_the_modelled_one():
    declared = {
        **_row(10, "declared", "url", 100.0),
        "modelled_wall_s": 250.0,
        "added_s": 120.0,
        "package_phase": {"measured_s": 10.0, "added_s": 120.0, "modelled_s": 130.0},
    }
    sleep = {
        **_row(10, "sleep", "url", 300.0),
        "package_phase": {"measured_s": 125.0, "added_s": 0.0, "modelled_s": 125.0},
    }
    small = _row(10, "small", "url", 190.0)
    unmatched = _row(10, "sleep", "share", 280.0)  # no declared share run: nothing to check it against
    (check,) = distribution.model_check([declared, sleep, small, unmatched])
    assert check["modelled_wall_s"] == 250.0 and check["sleep_wall_s"] == 300.0
    assert check["wall_error"] == round((250 - 300) / 300, 3) and check["phase_error"] == 0.04
    assert check["waited_s"] == 110.0 and check["model_added_s"] == 120.0
    text = distribution.markdown({"rows": [declared, sleep, small], "targets": []})
    assert "| 10 | url | 300 | 250 | -17 % | 125 | 130 | +4 % | 110 | 120 |" in text
