"""Reliability suite plumbing: docs/reliability.md is rendered from what the suite executed (registry.py).

* ``test_reliability_doc.py::test_published_counts_match_this_run`` is moved to the very end of the run and
  compares the committed ``docs/reliability.md`` with the rendering of this run. It only judges a *full* run
  of ``tests/reliability`` (nothing deselected, skipped or failed before it); a partial run skips it, saying why.
* The session side (is this a full run, the rendered report, ``RELIABILITY_UPDATE_DOC=1``, and the merge of
  pytest-xdist workers' registries) is the plugin ``reliability_suite.py``, registered by ``tests/conftest.py``.
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


@pytest.fixture
def reliability_partial_reason():
    return suite.partial_run_reason
