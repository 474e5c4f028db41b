"""Changelog fragments are one user-facing line per entry; lab and development changes go under ``trivial``.

antsibull-changelog lint (a scripts/test.sh step) checks the format; this checks the shape the project asks for:
an entry reads ``<what> - <one sentence or two>`` on one line (no folded essay), short enough to read in a
release's changelog, and a change to the lab, Molecule, Pester, the PowerShell check or the test tooling (none of
which ships in the Galaxy artifact) is never presented to users as a feature or a fix.
"""

from __future__ import annotations

import pathlib

import pytest
import yaml

FRAGMENTS = sorted((pathlib.Path(__file__).resolve().parents[2] / "changelogs" / "fragments").glob("*.yml"))
LONGEST = 300  # characters: one line in a rendered changelog, not a paragraph
DEVELOPMENT_SUBJECTS = ("lab", "molecule", "pester", "powershell check", "scripts/", "tests", "bench", "ci ")


def entries(path: pathlib.Path) -> list[tuple[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [(section, entry) for section, items in data.items() for entry in items or []]


def test_there_are_fragments():
    assert FRAGMENTS


@pytest.mark.parametrize("path", FRAGMENTS, ids=[p.name for p in FRAGMENTS])
def test_each_entry_is_one_line(path):
    for section, entry in entries(path):
        assert isinstance(entry, str), (section, entry)
        assert "\n" not in entry.strip(), f"{section}: one line per entry, not a folded paragraph: {entry!r}"
        assert len(entry) <= LONGEST, f"{section}: {len(entry)} characters; say it in one line: {entry!r}"
        assert " - " in entry, f"{section}: '<what changed> - <how>': {entry!r}"


@pytest.mark.parametrize("path", FRAGMENTS, ids=[p.name for p in FRAGMENTS])
def test_development_changes_are_trivial(path):
    for section, entry in entries(path):
        subject = entry.split(" - ", 1)[0].strip().lower()
        if subject.startswith(DEVELOPMENT_SUBJECTS):
            assert section == "trivial", f"{path.name}: {subject!r} does not ship; put it under trivial"
