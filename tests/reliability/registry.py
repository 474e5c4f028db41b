"""Shared registry of what the reliability suite actually executed; docs/reliability.md is rendered from it.

Every test module under ``tests/reliability/`` contributes one or more *sections*. A section is declared once
(title, a short description, an order key) and then receives *cases* as they run::

    import registry  # tests/reliability is on sys.path (pytest rootdir-relative import, no __init__.py)

    registry.section("bad-inputs", "Bad input matrix", "Invalid values fail before any remote call ...", order=10)

    with registry.case("bad-inputs", "install: data port 443", group="install"):
        ...assertions...                     # recorded "passed", or "failed" if an exception escapes

    registry.record("bad-inputs", "install: data port 443", "passed", group="install")   # the same, by hand
    registry.fact("secret-leaks", "Places searched", "console output, ANSIBLE_LOG_PATH, journal, ...")

Only what ran is counted: a case is recorded by the test that executed it, never from a static list.
``render()`` produces the Markdown (deterministic: no timings, no paths, sorted groups), ``conftest.py``
compares it with the committed ``docs/reliability.md`` at the end of a full run and writes the freshly
rendered text to ``reports/reliability.md`` (``RELIABILITY_UPDATE_DOC=1`` writes docs/reliability.md too).

Outcomes are free strings; ``passed`` and ``failed`` are the usual ones, ``xfail`` (a known, reported
problem the case demonstrates) is counted separately.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import threading
from collections.abc import Iterator

_LOCK = threading.Lock()
ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
REPORT = ROOT / "reports" / "reliability.md"  # git-ignored: the latest run's rendering


@dataclasses.dataclass
class Section:
    key: str
    title: str
    description: str = ""
    order: int = 100
    cases: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (group, case, outcome)
    facts: dict[str, str] = dataclasses.field(default_factory=dict)


_SECTIONS: dict[str, Section] = {}


def section(key: str, title: str, description: str = "", *, order: int = 100) -> Section:
    """Declare (or update) a section; idempotent, so every test may call it."""
    with _LOCK:
        sec = _SECTIONS.get(key)
        if sec is None:
            sec = _SECTIONS[key] = Section(key, title, description, order)
        else:
            sec.title, sec.description, sec.order = title, description or sec.description, order
        return sec


def _get(key: str) -> Section:
    sec = _SECTIONS.get(key)
    if sec is None:
        sec = _SECTIONS[key] = Section(key, key)
    return sec


def record(section_key: str, case_name: str, outcome: str, *, group: str = "") -> None:
    """Record one executed case. The same (group, case) recorded twice counts once (the last outcome wins)."""
    with _LOCK:
        sec = _get(section_key)
        sec.cases = [c for c in sec.cases if (c[0], c[1]) != (group, case_name)]
        sec.cases.append((group, case_name, outcome))


def fact(section_key: str, name: str, value: object) -> None:
    """A named fact of the section (e.g. 'places searched'), rendered as a bullet list after the table."""
    with _LOCK:
        _get(section_key).facts[name] = str(value)


@contextlib.contextmanager
def case(section_key: str, case_name: str, *, group: str = "") -> Iterator[None]:
    """Record ``passed`` when the block completes, ``failed`` when it raises (the exception propagates)."""
    try:
        yield
    except BaseException:
        record(section_key, case_name, "failed", group=group)
        raise
    record(section_key, case_name, "passed", group=group)


def sections() -> list[Section]:
    with _LOCK:
        return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))


def reset() -> None:
    with _LOCK:
        _SECTIONS.clear()


def export() -> list[dict[str, object]]:
    """Everything recorded in this process, as plain data (a pytest-xdist worker hands it to the controller)."""
    with _LOCK:
        return [
            {
                "key": s.key,
                "title": s.title,
                "description": s.description,
                "order": s.order,
                "cases": [list(c) for c in s.cases],
                "facts": list(s.facts.items()),
            }
            for s in _SECTIONS.values()
        ]


def merge(exported: list[dict[str, object]]) -> None:
    """Add another process's ``export()``: sections declared there, its cases and its facts (in its order)."""
    for data in exported:
        section(str(data["key"]), str(data["title"]), str(data["description"]), order=int(data["order"]))
        for group, case_name, outcome in data["cases"]:
            record(str(data["key"]), case_name, outcome, group=group)
        for name, value in data["facts"]:
            fact(str(data["key"]), name, value)


def totals(sec: Section) -> dict[str, int]:
    out: dict[str, int] = {}
    for _, _, outcome in sec.cases:
        out[outcome] = out.get(outcome, 0) + 1
    return out


HEADER = """# Reliability: what the suite executed

<!-- GENERATED by tests/reliability (registry.py + conftest.py) from the cases that actually ran.
     Do not edit by hand: run `RELIABILITY_UPDATE_DOC=1 .venv/bin/python -m pytest tests/reliability
     -p no:cacheprovider` and commit the result. A test fails when this file differs from what a full
     run of the suite rendered. -->
"""


def render() -> str:
    lines = [HEADER]
    secs = [s for s in sections() if s.cases or s.facts]
    if secs:
        lines.append("| Section | Cases run | Passed | Failed | Other |")
        lines.append("|---|---:|---:|---:|---:|")
        for sec in secs:
            t = totals(sec)
            other = sum(v for k, v in t.items() if k not in ("passed", "failed"))
            lines.append(f"| {sec.title} | {len(sec.cases)} | {t.get('passed', 0)} | {t.get('failed', 0)} | {other} |")
        lines.append("")
    for sec in secs:
        lines.append(f"## {sec.title}")
        lines.append("")
        if sec.description:
            lines.append(sec.description.strip())
            lines.append("")
        if sec.cases:
            groups: dict[str, dict[str, int]] = {}
            for group, _, outcome in sec.cases:
                g = groups.setdefault(group or "(all)", {})
                g[outcome] = g.get(outcome, 0) + 1
            outcomes = sorted({o for g in groups.values() for o in g}, key=lambda o: (o != "passed", o != "failed", o))
            lines.append("| Group | Cases | " + " | ".join(outcomes) + " |")
            lines.append("|---|---:|" + "---:|" * len(outcomes))
            for name in sorted(groups):
                g = groups[name]
                cells = " | ".join(str(g.get(o, 0)) for o in outcomes)
                lines.append(f"| {name} | {sum(g.values())} | {cells} |")
            t = totals(sec)
            cells = " | ".join(str(t.get(o, 0)) for o in outcomes)
            lines.append(f"| **total** | **{len(sec.cases)}** | {cells} |")
            lines.append("")
        for name, value in sec.facts.items():
            lines.append(f"- **{name}:** {value}")
        if sec.facts:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
