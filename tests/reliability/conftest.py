"""Reliability suite plumbing: docs/reliability.md is rendered from what the suite executed (registry.py).

* Every test's records go to its own ``record_property`` (bound below), so they travel in its report.
* ``test_reliability_doc.py::test_published_counts_match_this_run`` is moved to the very end of the run and
  compares the committed ``docs/reliability.md`` with the rendering of this run. It only judges a *full* run
  of ``tests/reliability`` (nothing deselected, skipped or failed before it); a partial run skips it, saying why.
* The session side (reading the reports, is this a full run, the rendered report, ``RELIABILITY_UPDATE_DOC=1``,
  the comparison made by a pytest-xdist controller) is the plugin ``reliability_suite.py``, registered by
  ``tests/conftest.py``.
"""

from __future__ import annotations

import pytest
import registry
import reliability_suite as suite

DOC = registry.DOC
REPORT = registry.REPORT
DOC_TEST = suite.DOC_TEST


def pytest_collection_modifyitems(session, config, items):
    suite.note_collection(items)
    doc_items = [i for i in items if i.name == DOC_TEST and suite.is_reliability(str(i.path))]
    for item in doc_items:
        items.remove(item)
        items.append(item)


@pytest.fixture(autouse=True)
def _reliability_records(record_property):
    """The registry's records of this test become its properties (pytest's record_property)."""
    registry.bind(record_property)
    yield
    registry.bind(None)


@pytest.fixture
def reliability_partial_reason(request):
    return lambda: suite.partial_run_reason(request.config)


@pytest.fixture
def reliability_run():
    """What the session has read from the reports so far (the rendering the doc test compares)."""
    return suite.RUN
