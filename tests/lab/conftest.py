"""Fixtures that create an estate in a temporary directory and serve it over real WinRM (127.0.0.1)."""

from __future__ import annotations

import json
import time

import pytest

from lab import estate as estate_mod
from lab import wsman
from lab.requests import FileRequest, ModuleRequest, RawRequest, Reply


def echo_handler(estate, host_name, request) -> Reply:
    """Test double for lab.dispatch.handle: describes the decoded request back as JSON."""
    if isinstance(request, ModuleRequest):
        out = {"host": host_name, "kind": "module", "module": request.module, "args": request.args}
        return Reply(stdout=json.dumps(out), identity=request.module, journal_args=request.args)
    if isinstance(request, FileRequest):
        out = {"host": host_name, "kind": "file", "action": request.action, "size": len(request.data)}
        return Reply(stdout=json.dumps(out), identity=request.action, journal_args=request.params)
    assert isinstance(request, RawRequest)
    rc = 3 if "exit 3" in request.script else 0
    out = {"host": host_name, "kind": "raw", "script": request.script}
    return Reply(stdout=json.dumps(out), stderr="raw-stderr" if rc else "", rc=rc, identity="raw")


@pytest.fixture
def estate(tmp_path):
    return estate_mod.create(tmp_path / "estate", cs=1, ps=2)


@pytest.fixture
def http_estate(tmp_path):
    return estate_mod.create(tmp_path / "estate-http", cs=0, ps=1, http=True)


@pytest.fixture
def served(estate):
    """The estate served by the WinRM server with the echo test double as handler."""
    lab = wsman.serve(estate, handler=echo_handler)
    try:
        yield lab
    finally:
        lab.shutdown()


@pytest.fixture
def slow_served(estate):
    """The echo handler after 3 s of work: a command longer than a Receive's operation timeout."""

    def slow(estate_, host_name, request):
        time.sleep(3)
        return echo_handler(estate_, host_name, request)

    lab = wsman.serve(estate, handler=slow)
    try:
        yield lab
    finally:
        lab.shutdown()
