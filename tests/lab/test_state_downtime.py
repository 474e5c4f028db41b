"""lab/state.py bookkeeping: service downtime windows recorded by Host.set_service_state (lab-only, for the
reliability suite's rolling-upgrade measurement)."""

from __future__ import annotations

from lab.state import Host, new_host


def _host() -> Host:
    host = new_host("ps01", "10.0.0.101", "process_server")
    host.add_service("tmansvc", "tmansvc", r"C:\tman.exe", state="running")
    host.add_service("obengine", "obengine", r"C:\ob.exe", state="stopped")
    return host


def test_a_stop_then_start_is_one_closed_window(monkeypatch):
    host = _host()
    clock = iter([100.0, 130.0])
    monkeypatch.setattr(host, "now", lambda: next(clock))
    host.set_service_state("tmansvc", "stopped")
    assert host.data["downtime"] == [{"service": "tmansvc", "down_at": 100.0, "up_at": None}]
    host.set_service_state("TMANSVC", "running")
    assert host.data["downtime"] == [{"service": "tmansvc", "down_at": 100.0, "up_at": 130.0}]


def test_no_window_without_a_transition_and_a_blocked_start_stays_open(monkeypatch):
    host = _host()
    monkeypatch.setattr(host, "now", lambda: 5.0)
    host.set_service_state("tmansvc", "running")  # already running
    host.set_service_state("obengine", "stopped")  # already stopped
    assert host.data.get("downtime", []) == []
    host.faults["service_fails_to_start"] = ["tmansvc"]
    host.set_service_state("tmansvc", "stopped")
    assert host.set_service_state("tmansvc", "running") is False
    assert host.data["downtime"] == [{"service": "tmansvc", "down_at": 5.0, "up_at": None}]
    host.faults.clear()
    host.set_service_state("obengine", "running")  # a service first seen stopped opens nothing to close
    assert host.data["downtime"] == [{"service": "tmansvc", "down_at": 5.0, "up_at": None}]
