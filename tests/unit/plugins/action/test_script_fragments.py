"""The collection scripts' shared PowerShell lives once (powershell/fragments) and is spliced in by load_script."""

from __future__ import annotations

import pathlib
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader

SCRIPT_DIR = pathlib.Path(loader.SCRIPT_DIR)
SCRIPTS = sorted(p.stem for p in SCRIPT_DIR.glob("*.ps1"))
FUNCTION_RE = re.compile(r"^function ([A-Za-z-]+) \{", re.MULTILINE)
# A single-quoted here-string that starts with '# asr.process_server' is a script of its own (a detached runner the
# script writes to a file): its functions are its own, checked as its own unit (scripts/check_powershell.py).
EMBEDDED_RE = re.compile(r"@'\r?\n(# asr\.process_server[^\n]*\n.*?)^'@", re.MULTILINE | re.DOTALL)


def units(text):
    """The script's own text and each embedded script's text."""
    embedded = EMBEDDED_RE.findall(text)
    return [EMBEDDED_RE.sub("@''@", text), *embedded]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_loaded_script_is_self_contained(name):
    text = loader.load_script(name).text
    assert "asr.process_server include:" not in text
    for unit in units(text):
        defined = FUNCTION_RE.findall(unit)
        assert len(defined) == len(set(defined)), f"{name} defines a function twice: {defined}"
    defined = FUNCTION_RE.findall(units(text)[0])
    # a script that calls Invoke-NativeCommand gets its definition (and ConvertTo-ArgumentText with it)
    if re.search(r"\bInvoke-NativeCommand -", text):
        assert {"Invoke-NativeCommand", "ConvertTo-ArgumentText"} <= set(defined), name
    assert text.splitlines()[0].startswith(f"# asr.process_server script: {name} v")


def test_no_script_carries_its_own_copy_of_the_native_command_fragment():
    for path in SCRIPT_DIR.glob("*.ps1"):
        raw = path.read_text(encoding="utf-8-sig")
        if "function Invoke-NativeCommand {" in raw:
            # only a script the splice does not reach yet may define it, and then not next to an include
            assert "asr.process_server include: native_command" not in raw, path.name


def test_include_is_replaced_by_the_fragment_without_its_header(tmp_path):
    (tmp_path / "demo.ps1").write_text(
        "# asr.process_server script: demo v2\nparam ()\n# asr.process_server include: native_command\n$x = 1\n",
        encoding="utf-8",
    )
    text = loader.load_script("demo", str(tmp_path)).text
    assert text.startswith("# asr.process_server script: demo v2\nparam ()\nfunction ConvertTo-ArgumentText {")
    assert text.endswith("}\n$x = 1\n")
    assert "asr.process_server fragment:" not in text


def test_an_unknown_fragment_is_a_clear_error(tmp_path):
    (tmp_path / "demo.ps1").write_text(
        "# asr.process_server script: demo v1\n# asr.process_server include: no_such_fragment\n", encoding="utf-8"
    )
    with pytest.raises(Exception, match="cannot include fragment 'no_such_fragment'"):
        loader.load_script("demo", str(tmp_path))


def test_an_embedded_runner_is_its_own_unit():
    text = (
        "# asr.process_server script: x v1\nfunction A {\n}\n"
        "$r = @'\n# asr.process_server runner\nfunction A {\n}\n'@\n"
    )
    own, runner = units(text)
    assert FUNCTION_RE.findall(own) == ["A"] and FUNCTION_RE.findall(runner) == ["A"]


# That every spliced script parses (under PowerShell's own parser) and suits Windows PowerShell 5.1 is
# scripts/check_powershell.py's job: tests/unit/test_check_powershell.py runs it on the repository.
