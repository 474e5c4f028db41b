"""What the reliability suite actually executed; docs/reliability.md is rendered from it.

Every test module under ``tests/reliability/`` contributes one or more *sections*. A section is declared once
(title, a short description, an order key) and then receives *cases* as they run::

    import registry  # tests/reliability is on sys.path (pytest rootdir-relative import, no __init__.py)

    registry.section("bad-inputs", "Bad input matrix", "Invalid values fail before any remote call ...", order=10)

    with registry.case("bad-inputs", "install: data port 443", group="install"):
        ...assertions...                     # recorded "passed", or "failed" if an exception escapes

    registry.record("bad-inputs", "install: data port 443", "passed", group="install")   # the same, by hand
    registry.fact("secret-leaks", "Places searched", "console output, ANSIBLE_LOG_PATH, journal, ...")

Only what ran is counted: a case is recorded by the test that executed it, never from a static list. Each record
is a property of the running test, written with pytest's own ``record_property`` (``RECORD_NAME``, a JSON text):
it travels in the test's report, to the pytest-xdist controller like any report, and into a ``--junitxml`` file.
The session plugin (``reliability_suite.py``) reads the reports into a :class:`Registry` and renders it:
``render()`` produces the Markdown (deterministic: no timings, no paths, sorted groups), compared with the
committed ``docs/reliability.md`` at the end of a full run and written to ``reports/reliability.md``
(``RELIABILITY_UPDATE_DOC=1`` writes docs/reliability.md too).

Outcomes are free strings; ``passed`` and ``failed`` are the usual ones, ``xfail`` (a known, reported
problem the case demonstrates) is counted separately.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_LOCK = threading.Lock()
ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
REPORT = ROOT / "reports" / "reliability.md"  # git-ignored: the latest run's rendering
RECORD_NAME = "asr_reliability"  # the user property every record is written under


@dataclasses.dataclass
class Section:
    key: str
    title: str
    description: str = ""
    order: int = 100
    cases: list[tuple[str, str, str]] = dataclasses.field(default_factory=list)  # (group, case, outcome)
    facts: dict[str, str] = dataclasses.field(default_factory=dict)


class Registry:
    """The sections, cases and facts of one run, as the session plugin rebuilds them from the tests' reports."""

    def __init__(self) -> None:
        self._sections: dict[str, Section] = {}

    def section(self, key: str, title: str, description: str = "", *, order: int = 100) -> Section:
        """Declare (or update) a section; idempotent."""
        sec = self._sections.get(key)
        if sec is None:
            sec = self._sections[key] = Section(key, title, description, order)
        else:
            sec.title, sec.description, sec.order = title, description or sec.description, order
        return sec

    def _get(self, key: str) -> Section:
        sec = self._sections.get(key)
        if sec is None:
            sec = self._sections[key] = Section(key, key)
        return sec

    def record(self, section_key: str, case_name: str, outcome: str, *, group: str = "") -> None:
        """One executed case. The same (group, case) recorded twice counts once (the last outcome wins)."""
        sec = self._get(section_key)
        sec.cases = [c for c in sec.cases if (c[0], c[1]) != (group, case_name)]
        sec.cases.append((group, case_name, outcome))

    def fact(self, section_key: str, name: str, value: object) -> None:
        self._get(section_key).facts[name] = str(value)

    def add(self, properties: Iterable[tuple[str, Any]]) -> None:
        """The records among a test report's ``user_properties``, in the order the test wrote them."""
        for name, value in properties:
            if name != RECORD_NAME:
                continue
            item = json.loads(value)
            kind = item.pop("kind")
            if kind == "section":
                self.section(item["key"], item["title"], item["description"], order=item["order"])
            elif kind == "case":
                self.record(item["section"], item["case"], item["outcome"], group=item["group"])
            elif kind == "fact":
                self.fact(item["section"], item["name"], item["value"])

    def sections(self) -> list[Section]:
        return sorted(self._sections.values(), key=lambda s: (s.order, s.key))

    def render(self) -> str:
        return render(self.sections())


# ---- what a test calls ---------------------------------------------------------------------------------------
_DECLARED: dict[str, dict[str, Any]] = {}  # this process's section declarations (module level of each test file)
_RECORDER: dict[str, Any] = {"record_property": None, "sections_sent": set()}


def bind(record_property: Callable[[str, object], None] | None) -> None:
    """Where this process's records go: the running test's ``record_property`` (tests/reliability/conftest.py)."""
    with _LOCK:
        _RECORDER["record_property"] = record_property
        _RECORDER["sections_sent"] = set()


def _emit(item: dict[str, Any]) -> None:
    with _LOCK:
        record_property = _RECORDER["record_property"]
        if record_property is None:
            raise RuntimeError("registry: a record outside a reliability test (no record_property bound)")
        key = item.get("section")
        if key in _DECLARED and key not in _RECORDER["sections_sent"]:  # the section travels with its first record
            _RECORDER["sections_sent"].add(key)
            record_property(RECORD_NAME, json.dumps({"kind": "section", **_DECLARED[key]}, sort_keys=True))
        record_property(RECORD_NAME, json.dumps(item, sort_keys=True))


def section(key: str, title: str, description: str = "", *, order: int = 100) -> None:
    """Declare a section (at a test module's top level); it is reported with its first record."""
    with _LOCK:
        _DECLARED[key] = {"key": key, "title": title, "description": description, "order": order}


def record(section_key: str, case_name: str, outcome: str, *, group: str = "") -> None:
    """Record one executed case (a property of the running test)."""
    _emit({"kind": "case", "section": section_key, "case": case_name, "outcome": outcome, "group": group})


def fact(section_key: str, name: str, value: object) -> None:
    """A named fact of the section (e.g. 'places searched'), rendered as a bullet list after the table."""
    _emit({"kind": "fact", "section": section_key, "name": name, "value": str(value)})


@contextlib.contextmanager
def case(section_key: str, case_name: str, *, group: str = "") -> Iterator[None]:
    """Record ``passed`` when the block completes, ``failed`` when it raises (the exception propagates)."""
    try:
        yield
    except BaseException:
        record(section_key, case_name, "failed", group=group)
        raise
    record(section_key, case_name, "passed", group=group)


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


def render(all_sections: list[Section]) -> str:
    lines = [HEADER]
    secs = [s for s in all_sections if s.cases or s.facts]
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
