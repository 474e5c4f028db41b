"""Reliability suite plumbing: docs/reliability.md is rendered from what the suite executed (registry.py).

* At the end of the session the rendered text is written to ``reports/reliability.md`` (git-ignored), and to
  ``docs/reliability.md`` as well when ``RELIABILITY_UPDATE_DOC=1``.
* ``test_reliability_doc.py::test_published_counts_match_this_run`` is moved to the very end of the run and
  compares the committed ``docs/reliability.md`` with the rendering of this run. It only judges a *full* run
  of ``tests/reliability`` (nothing deselected, skipped or failed before it); a partial run skips it, saying why.
* Under pytest-xdist (``-n``), ``tests/conftest.py`` keeps the whole suite on one worker (the registry is per
  process): that worker records, compares and writes as above; the controller process, which only relays the
  workers' reports, writes nothing.
"""

from __future__ import annotations

import os
import pathlib

import pytest
import registry

DOC = registry.DOC
REPORT = registry.REPORT
DOC_TEST = "test_published_counts_match_this_run"

_STATE = {"deselected": 0, "not_passed": [], "ran_reliability": False, "files_not_collected": []}


def _is_xdist_controller(config) -> bool:
    return config.pluginmanager.hasplugin("dsession") and not hasattr(config, "workerinput")


def _is_reliability(nodeid_or_path: str) -> bool:
    return "tests/reliability/" in nodeid_or_path.replace("\\", "/") or nodeid_or_path.startswith("reliability/")


def pytest_collection_modifyitems(session, config, items):
    doc_items = [i for i in items if i.name == DOC_TEST and _is_reliability(str(i.path))]
    here = registry.ROOT / "tests" / "reliability"
    collected = {pathlib.Path(str(i.path)).resolve() for i in items}
    _STATE["files_not_collected"] = sorted(p.name for p in here.glob("test_*.py") if p.resolve() not in collected)
    for item in doc_items:
        items.remove(item)
        items.append(item)


def pytest_deselected(items):
    _STATE["deselected"] += sum(1 for i in items if _is_reliability(str(i.path)))


def pytest_runtest_logreport(report):
    if not _is_reliability(report.nodeid) and "reliability/" not in report.nodeid:
        return
    if report.nodeid.endswith(DOC_TEST):
        return
    _STATE["ran_reliability"] = True
    if hasattr(report, "wasxfail"):  # a known, reported issue the suite demonstrates: counted, not a gap
        return
    if report.failed or (report.when == "call" and report.skipped) or (report.when == "setup" and report.skipped):
        _STATE["not_passed"].append(f"{report.nodeid} ({report.outcome} in {report.when})")


def partial_run_reason() -> str | None:
    if _STATE["files_not_collected"]:
        return "not every reliability test module ran: " + ", ".join(_STATE["files_not_collected"])
    if _STATE["deselected"]:
        return f"{_STATE['deselected']} reliability test(s) deselected: counts of a partial run are not published"
    if _STATE["not_passed"]:
        return "not every reliability test passed: " + "; ".join(_STATE["not_passed"][:5])
    return None


def pytest_sessionfinish(session, exitstatus):
    if not _STATE["ran_reliability"] or _is_xdist_controller(session.config):
        return
    text = registry.render()
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text, encoding="utf-8")
    if os.environ.get("RELIABILITY_UPDATE_DOC") == "1":
        reason = partial_run_reason()
        if reason:
            print(f"\nreliability: docs/reliability.md NOT updated ({reason})")
        else:
            DOC.write_text(text, encoding="utf-8")
            print("\nreliability: docs/reliability.md updated from this run")


@pytest.fixture
def reliability_partial_reason():
    return partial_run_reason
