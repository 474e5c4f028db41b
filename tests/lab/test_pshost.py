"""lab.pshost: persistent pwsh workers (one per call at a time, reused, replaced when they die, tidy when left)."""

from __future__ import annotations

import contextlib
import time

import pytest
from asr_helpers import run_script

from lab import dispatch, pshost, pwsh
from lab.requests import ModuleRequest
from lab.state import new_host

HEADER = "# asr.process_server script: lab_test v1\n"


@pytest.fixture
def own_worker(monkeypatch):
    """For a test that starts its own short-lived workers: .NET's default tiered JIT starts one ~1 s of CPU cheaper;
    lab.pshost's DOTNET_TieredCompilation=0 pays off only over a long life (docs/dev/test-time.md). The process's
    pool (pshost.POOL) never starts a worker under it."""
    monkeypatch.setenv("DOTNET_TieredCompilation", "1")


def test_a_worker_runs_many_calls_and_gets_each_script_text_once(own_worker):
    pool = pshost.Pool(1)
    try:
        with pool.worker() as worker:
            first = worker.process.pid
            for value in (1, 2, 3):
                request = {"text": HEADER + "param ($X)\n$Ansible.Result = $X * 2\n", "parameters": {"X": value},
                           "sensitive": [], "check_mode": False, "verbosity": 0, "tmpdir": None,
                           "error_action": "continue", "depth": 2, "plain": False, "env": {}, "call": {}}  # fmt: skip
                assert worker.run(request, lambda *_: None)["result"] == value * 2
            assert len(worker.scripts_sent) == 1
        with pool.worker() as worker:
            assert worker.process.pid == first  # the same process, kept
    finally:
        pool.close()


def test_a_dead_worker_is_replaced_by_a_new_one(own_worker):
    pool = pshost.Pool(1)
    try:
        with pool.worker() as worker:
            worker.process.kill()
            worker.process.wait()
            dead = worker.process.pid
        with pool.worker() as worker:
            assert worker.alive() and worker.process.pid != dead
    finally:
        pool.close()


def test_a_worker_left_by_its_lab_removes_its_sandbox_and_log(own_worker):
    worker = pshost.Worker(pwsh.find())
    sandbox, log = worker.sandbox, worker.log_path
    assert sandbox.is_dir() and log.is_file()
    worker._out.close()  # the lab process went away without closing the worker
    worker.process.wait(timeout=30)
    deadline = time.monotonic() + 5
    while (sandbox.exists() or log.exists()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not sandbox.exists() and not log.exists()


def test_a_win_powershell_call_holds_its_worker_before_it_takes_the_host_lock(estate, monkeypatch):
    """A script on a process server may take its configuration server's lock: every lock holder must already have its
    worker, or process servers waiting for that lock could hold every worker (lab.pshost.reserved)."""
    seen = []
    opened = type(estate).open_host

    @contextlib.contextmanager
    def open_host(self, name):
        seen.append(getattr(pshost._RESERVED, "worker", None) is not None)
        with opened(self, name) as host:
            yield host

    monkeypatch.setattr(type(estate), "open_host", open_host)
    script = HEADER + "$Ansible.Result = 1\n"
    request = ModuleRequest("ansible.windows.win_powershell", {"script": script})
    assert dispatch.handle(estate, "ps01", request).rc == 0
    ping = ModuleRequest("ansible.windows.win_ping", {})
    assert dispatch.handle(estate, "ps01", ping).rc == 0
    assert seen == [True, False]  # a module that runs no script takes no worker


def test_the_runspace_is_clean_for_the_next_call():
    host = new_host("ps01", "10.0.0.101")
    left = "$global:x = 1\nfunction global:Get-Left { 1 }\nSet-Alias -Name gl2 -Value Get-Date -Scope Global\n"
    run_script(host, HEADER + left + "$global:ErrorActionPreference = 'Stop'\n")
    text = HEADER + (
        "$Ansible.Result = @{ x = $null -eq $global:x;"
        " f = $null -eq (Get-Command Get-Left -ErrorAction SilentlyContinue);"
        " a = $null -eq (Get-Alias gl2 -ErrorAction SilentlyContinue); eap = [string]$ErrorActionPreference }\n"
    )
    assert run_script(host, text)["result"] == {"x": True, "f": True, "a": True, "eap": "Continue"}


def test_a_test_process_runs_one_pwsh_worker():
    """tests/conftest.py sets ASR_LAB_PWSH_WORKERS=1 before lab.pshost is imported: xdist runs a test process per core,
    and every further worker would pay its start and its JIT again (docs/dev/test-time.md)."""
    import os

    assert "ASR_LAB_PWSH_WORKERS" in os.environ  # 1 unless the one running the tests chose another size
    assert pshost.POOL.size == int(os.environ["ASR_LAB_PWSH_WORKERS"])  # the pool was made after it was set


def test_the_housekeeping_leaves_no_variable_of_its_own_for_the_next_call(own_worker):
    """A script sees the global variables of a fresh runspace, however many calls the worker ran before it (the
    housekeeping between calls once left its loop variables -- $item, $variable, $module, $preference, $Baseline)."""
    pool = pshost.Pool(1)
    names = HEADER + "$Ansible.Result = @(Get-Variable -Scope Global | ForEach-Object { $_.Name } | Sort-Object)\n"
    request = {"text": names, "parameters": {}, "sensitive": [], "check_mode": False, "verbosity": 0, "tmpdir": None,
               "error_action": "continue", "depth": 2, "plain": False, "env": {}, "call": {}}  # fmt: skip
    try:
        with pool.worker() as worker:
            fresh = worker.run(dict(request), lambda *_: None)["result"]
            later = [worker.run(dict(request), lambda *_: None)["result"] for _ in range(2)]
    finally:
        pool.close()
    assert later == [fresh, fresh]
