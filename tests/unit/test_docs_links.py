"""Relative links in the documentation index and the operator guides point at files that exist."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ["docs/index.md", "docs/awx.md", "docs/execution-environment.md", "docs/modules/index.md", "docs/roles.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    path = ROOT / page
    broken = []
    for target in LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        if not (path.parent / file_part).exists():
            broken.append(target)
    assert broken == [], f"{page}: links to missing files: {broken}"


def test_index_links_every_operator_guide():
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    for guide in ("awx.md", "execution-environment.md", "modules/index.md"):
        assert f"]({guide})" in index
