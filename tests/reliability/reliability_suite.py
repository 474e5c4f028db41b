"""Session plugin of the reliability suite (``tests/conftest.py`` registers it, in a pytest-xdist controller too,
which loads no conftest.py below ``tests/``).

The tests record what they executed with pytest's ``record_property`` (registry.py). Those records are part of each
test's report, and every report reaches this plugin through ``pytest_runtest_logreport``: in one process directly,
under pytest-xdist in the controller, which receives every worker's reports. So the process that sees the whole
run rebuilds the whole registry the same way in both cases; nothing is merged by hand.

* It tracks whether this was a *full* run of ``tests/reliability`` (every test module collected, nothing
  deselected or filtered, every case passed): only a full run may be compared with, or written to,
  ``docs/reliability.md``.
* In one process, ``test_reliability_doc.py::test_published_counts_match_this_run`` (moved to the very end)
  compares the committed ``docs/reliability.md`` with this run's rendering. Under pytest-xdist a worker's copy of
  that test skips (a worker sees its own reports only) and the controller makes the same comparison when the
  session ends; a difference fails the run.
* At the end of the session it writes the rendering to ``reports/reliability.md`` (git-ignored), and to
  ``docs/reliability.md`` as well when ``RELIABILITY_UPDATE_DOC=1``.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest
import registry

DOC_TEST = "test_published_counts_match_this_run"
HERE = registry.ROOT / "tests" / "reliability"

RUN = registry.Registry()
STATE: dict[str, Any] = {"deselected": 0, "not_passed": [], "ran_reliability": False, "files_not_collected": []}


def is_reliability(nodeid_or_path: str) -> bool:
    return "tests/reliability/" in nodeid_or_path.replace("\\", "/") or nodeid_or_path.startswith("reliability/")


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("dsession") and not is_xdist_worker(config)


def _note_collected(paths: set[pathlib.Path]) -> None:
    STATE["files_not_collected"] = sorted(p.name for p in HERE.glob("test_*.py") if p.resolve() not in paths)


def note_collection(items: list[pytest.Item]) -> None:
    """Which reliability test modules this process collected (called by tests/reliability/conftest.py)."""
    _note_collected({pathlib.Path(str(i.path)).resolve() for i in items})


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """xdist controller: what a worker collected (every worker collects the same session)."""
    _note_collected({(registry.ROOT / nodeid.split("::", 1)[0]).resolve() for nodeid in ids})


def _filtered(config: pytest.Config) -> str | None:
    """A selection that may leave reliability tests out (the controller does not see the workers' deselection)."""
    for option, label in (("keyword", "-k"), ("markexpr", "-m"), ("deselect", "--deselect"), ("lf", "--lf")):
        if config.getoption(option, None):
            return label
    if any("::" in arg and is_reliability(arg) for arg in config.args):
        return "a test id"
    return None


def partial_run_reason(config: pytest.Config | None = None) -> str | None:
    if STATE["files_not_collected"]:
        return "not every reliability test module ran: " + ", ".join(STATE["files_not_collected"])
    if STATE["deselected"]:
        return f"{STATE['deselected']} reliability test(s) deselected: counts of a partial run are not published"
    selection = _filtered(config) if config is not None else None
    if selection:
        return f"tests selected with {selection}: counts of a partial run are not published"
    if STATE["not_passed"]:
        return "not every reliability test passed: " + "; ".join(STATE["not_passed"][:5])
    return None


def pytest_deselected(items):
    STATE["deselected"] += sum(1 for i in items if is_reliability(str(i.path)))


def pytest_runtest_logreport(report):
    if not is_reliability(report.nodeid):
        return
    if report.when == "teardown":  # a report of each phase carries the records so far; the last one all of them
        RUN.add(report.user_properties)
    if report.nodeid.endswith(DOC_TEST):
        return
    STATE["ran_reliability"] = True
    if hasattr(report, "wasxfail"):  # a known, reported issue the suite demonstrates: counted, not a gap
        return
    if report.failed or (report.when in ("call", "setup") and report.skipped):
        STATE["not_passed"].append(f"{report.nodeid} ({report.outcome} in {report.when})")


def _write(session: pytest.Session, line: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("-", "reliability suite")
        reporter.write_line(line)
    else:
        print(line)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if is_xdist_worker(config) or not STATE["ran_reliability"]:
        return
    text = RUN.render()
    registry.REPORT.parent.mkdir(parents=True, exist_ok=True)
    registry.REPORT.write_text(text, encoding="utf-8")
    reason = partial_run_reason(config)
    if os.environ.get("RELIABILITY_UPDATE_DOC") == "1":
        if reason:
            _write(session, f"reliability: docs/reliability.md NOT updated ({reason})")
        else:
            registry.DOC.write_text(text, encoding="utf-8")
            _write(session, "reliability: docs/reliability.md updated from this run")
    if is_xdist_controller(config) and not reason:
        committed = registry.DOC.read_text(encoding="utf-8") if registry.DOC.exists() else ""
        if committed != text:
            _write(
                session,
                f"FAILED {DOC_TEST} (checked by the xdist controller): docs/reliability.md differs from what "
                f"this run executed (rendered copy: {registry.REPORT}); re-run with RELIABILITY_UPDATE_DOC=1 "
                "and commit docs/reliability.md",
            )
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        else:
            _write(session, f"{DOC_TEST} (checked by the xdist controller): docs/reliability.md matches this run")
