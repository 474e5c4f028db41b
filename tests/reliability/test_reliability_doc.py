"""docs/reliability.md publishes exactly what this run of the suite executed (see conftest.py)."""

from __future__ import annotations

import json
import os

import pytest
import registry
from registry import DOC, REPORT


def test_registry_renders_counts_by_group():
    recorded: list[tuple[str, object]] = []
    registry.bind(lambda name, value: recorded.append((name, value)))
    try:
        registry.section("x", "X", "Demo.", order=1)
        with registry.case("x", "a", group="g1"):
            pass
        with pytest.raises(ValueError), registry.case("x", "b", group="g2"):
            raise ValueError
        registry.record("x", "a", "passed", group="g1")  # a repeat counts once
        registry.fact("x", "Places searched", "journal")
    finally:
        registry.bind(None)
        registry._DECLARED.pop("x")
    # every record is a JSON text under one property name (what record_property and --junitxml keep)
    assert {name for name, _ in recorded} == {registry.RECORD_NAME}
    assert [json.loads(str(v))["kind"] for _, v in recorded] == ["section", "case", "case", "case", "fact"]
    run = registry.Registry()
    run.add([("other_property", "ignored"), *recorded])
    text = run.render()
    assert "| X | 2 | 1 | 1 | 0 |" in text
    assert "| g1 | 1 | 1 | 0 |" in text and "| g2 | 1 | 0 | 1 |" in text
    assert "- **Places searched:** journal" in text


def test_a_record_outside_a_test_is_an_error():
    registry.bind(None)
    with pytest.raises(RuntimeError, match="no record_property bound"):
        registry.record("x", "a", "passed")


def test_published_counts_match_this_run(reliability_partial_reason, reliability_run, request):
    if hasattr(request.config, "workerinput"):
        pytest.skip("pytest-xdist: a worker sees its own reports only; the controller compares (reliability_suite.py)")
    reason = reliability_partial_reason()
    if reason:
        pytest.skip(reason)
    text = reliability_run.render()
    if os.environ.get("RELIABILITY_UPDATE_DOC") == "1":
        DOC.write_text(text, encoding="utf-8")
    committed = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    assert committed == text, (
        f"docs/reliability.md differs from what this run executed (rendered copy: {REPORT} after the session); "
        "re-run with RELIABILITY_UPDATE_DOC=1 and commit docs/reliability.md"
    )
