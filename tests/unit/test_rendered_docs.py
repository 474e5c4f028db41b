"""The committed plugin reference pages (docs/modules, docs/filters) match the plugins' documentation.

Regenerates every page into a temporary directory with scripts/render_module_docs.py (ansible-doc with
this repository's ansible.cfg) and compares it with what is committed, so docs never drift from the code.
Fix a failure with ``python scripts/render_module_docs.py`` and commit docs/.
"""

from __future__ import annotations

import importlib.util
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "render_module_docs.py"
FOLDERS = ("modules", "filters")


def _load_renderer():
    spec = importlib.util.spec_from_file_location("render_module_docs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render = _load_renderer()


def _pages(docs: pathlib.Path) -> dict[str, str]:
    return {
        f"{folder}/{path.name}": path.read_text(encoding="utf-8")
        for folder in FOLDERS
        for path in sorted((docs / folder).glob("*.md"))
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("docs")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--output-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return _pages(out)


def test_every_plugin_has_a_page(regenerated):
    names = render.plugin_names(ROOT)
    assert {f"modules/{n}.md" for n in names["module"]} | {f"filters/{n}.md" for n in names["filter"]} | {
        "modules/index.md"
    } == set(regenerated)


def test_committed_pages_are_up_to_date(regenerated):
    committed = _pages(ROOT / "docs")
    hint = "run `python scripts/render_module_docs.py` (with .venv/bin/python) and commit docs/"
    assert sorted(set(regenerated) - set(committed)) == [], f"pages missing under docs/: {hint}"
    assert sorted(set(committed) - set(regenerated)) == [], f"pages for plugins that no longer exist: {hint}"
    stale = [rel for rel in regenerated if committed[rel] != regenerated[rel]]
    assert stale == [], f"stale pages {stale}: {hint}"


def test_pages_carry_every_option_and_return_value(regenerated):
    page = regenerated["modules/info.md"]
    for heading in ("## Parameters", "## Attributes", "## Notes", "## Examples", "## Return values"):
        assert heading in page
    # The shared options come from the doc fragment, merged as ansible-doc merges them.
    assert "| `passphrase` | str |" in page
    assert "| `configuration_server_port` | int | `443` |" in page
    # Nested return values appear with their full path.
    assert "| `asr.health` |" in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C(foo) and V(bar)", "`foo` and `bar`"),
        ("O(state=present)", "`state=present`"),
        ("O(ansible.windows.win_copy#module:src)", "`src`"),
        ("RV(asr.health)", "`asr.health`"),
        ("I(italic) B(bold)", "*italic* **bold**"),
        ("U(https://example.invalid/x)", "<https://example.invalid/x>"),
        ("L(the docs,https://example.invalid/d)", "[the docs](https://example.invalid/d)"),
        ("M(asr.process_server.install)", "[`asr.process_server.install`](install.md)"),
        ("V(a\\)b)", "`a)b`"),
        ("C(x `y`)", "`` x `y` ``"),
        ("no markup, MC(x) stays", "no markup, MC(x) stays"),
        ("E(ANSIBLE_CONFIG)", "`ANSIBLE_CONFIG`"),
        ("O(installers[].path)", "`installers[].path`"),
        ("RV(ansible.windows.win_powershell#module:output)", "`output`"),
        ("a HORIZONTALLINE b", "a<hr>b"),  # the line takes the spaces around it
        ("R(the guide,playbooks_intro)", "the guide"),
        ("P(asr.process_server.fleet_plan#filter)", "[`asr.process_server.fleet_plan`](../filters/fleet_plan.md)"),
        (
            "M(ansible.windows.win_powershell)",
            "[`ansible.windows.win_powershell`]"
            "(https://docs.ansible.com/ansible/latest/collections/ansible/windows/win_powershell_module.html)",
        ),
        ("V(a\\,b) C(a,b)", "`a,b` `a,b`"),
    ],
)
def test_markup(text, expected):
    assert render.markup(text, "modules") == expected


@pytest.mark.parametrize(
    "text",
    [
        "C(never closed",  # the old regexes left this as text
        "P(asr.process_server.fleet_plan)",  # a plugin reference needs its type
        "O(a=b=c",
        "L(no url)",
    ],
)
def test_malformed_markup_stops_the_render_naming_the_text(text):
    # antsibull-docs-parser reports what is wrong; a page never silently shows the raw markup
    with pytest.raises(SystemExit, match="bad Ansible markup"):
        render.markup(text, "modules")


def test_table_cells_escape_pipes_and_newlines():
    assert render.cell("a | b\nc") == "a \\| b c"


def test_module_link_from_a_filter_page_goes_up_one_folder():
    assert render.markup("M(asr.process_server.info)", "filters") == "[`asr.process_server.info`](../modules/info.md)"
