"""Session plumbing of the reliability suite, as a pytest plugin (``tests/conftest.py`` registers it once, also in
a pytest-xdist controller, which loads no conftest.py below ``tests/``).

* It tracks whether this was a *full* run of ``tests/reliability`` (every test module collected, nothing
  deselected, every case passed): only a full run may be compared with, or written to, ``docs/reliability.md``.
* At the end of the session it writes the rendering of the registry (registry.py) to ``reports/reliability.md``
  (git-ignored), and to ``docs/reliability.md`` as well when ``RELIABILITY_UPDATE_DOC=1``.

In one process, ``test_reliability_doc.py::test_published_counts_match_this_run`` (run last) makes the
comparison. Under pytest-xdist the cases are spread over workers and each worker's registry holds only its own:
each worker hands its registry and its collection facts to the controller (``workeroutput``), the controller
merges them, and the controller makes the comparison at the end of the session (the workers' copy of the test
skips, saying so); a difference fails the run.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

import pytest
import registry

DOC_TEST = "test_published_counts_match_this_run"
OUTPUT_KEY = "asr_reliability"

STATE: dict[str, Any] = {"deselected": 0, "not_passed": [], "ran_reliability": False, "files_not_collected": []}


def is_reliability(nodeid_or_path: str) -> bool:
    return "tests/reliability/" in nodeid_or_path.replace("\\", "/") or nodeid_or_path.startswith("reliability/")


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def is_xdist_controller(config: pytest.Config) -> bool:
    return config.pluginmanager.hasplugin("dsession") and not is_xdist_worker(config)


def note_collection(items: list[pytest.Item]) -> None:
    """Which reliability test modules this session collected (called by tests/reliability/conftest.py)."""
    here = registry.ROOT / "tests" / "reliability"
    collected = {pathlib.Path(str(i.path)).resolve() for i in items}
    STATE["files_not_collected"] = sorted(p.name for p in here.glob("test_*.py") if p.resolve() not in collected)


def partial_run_reason() -> str | None:
    if STATE["files_not_collected"]:
        return "not every reliability test module ran: " + ", ".join(STATE["files_not_collected"])
    if STATE["deselected"]:
        return f"{STATE['deselected']} reliability test(s) deselected: counts of a partial run are not published"
    if STATE["not_passed"]:
        return "not every reliability test passed: " + "; ".join(STATE["not_passed"][:5])
    return None


def pytest_deselected(items):
    STATE["deselected"] += sum(1 for i in items if is_reliability(str(i.path)))


def pytest_runtest_logreport(report):
    if not is_reliability(report.nodeid):
        return
    if report.nodeid.endswith(DOC_TEST):
        return
    STATE["ran_reliability"] = True
    if hasattr(report, "wasxfail"):  # a known, reported issue the suite demonstrates: counted, not a gap
        return
    if report.failed or (report.when in ("call", "setup") and report.skipped):
        STATE["not_passed"].append(f"{report.nodeid} ({report.outcome} in {report.when})")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: merge what a worker's part of the suite recorded."""
    out = (getattr(node, "workeroutput", None) or {}).get(OUTPUT_KEY)
    if not out:
        return
    registry.merge(out["registry"])
    if out["collected"]:  # every worker collects the whole session; one that collected nothing says nothing
        STATE["files_not_collected"] = out["files_not_collected"]
        STATE["deselected"] = max(STATE["deselected"], out["deselected"])


def _write(session: pytest.Session, line: str) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_sep("-", "reliability suite")
        reporter.write_line(line)
    else:
        print(line)


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if is_xdist_worker(config):
        config.workeroutput[OUTPUT_KEY] = {
            "registry": registry.export(),
            "collected": bool(session.items),
            "files_not_collected": STATE["files_not_collected"],
            "deselected": STATE["deselected"],
        }
        return
    if not STATE["ran_reliability"]:
        return
    text = registry.render()
    registry.REPORT.parent.mkdir(parents=True, exist_ok=True)
    registry.REPORT.write_text(text, encoding="utf-8")
    reason = partial_run_reason()
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
