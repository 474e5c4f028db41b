#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Syntax-check every PowerShell file of the repository with tree-sitter-powershell.

PowerShell cannot be installed on CI machines, so ``ansible-test sanity``'s ``pslint`` (PSScriptAnalyzer)
is skipped there. This check stands in for the part that matters most and runs everywhere:

* every ``*.ps1`` / ``*.psm1`` / ``*.psd1`` must parse: any ERROR or MISSING node fails, reported as
  ``file:line:column``;
* every script the collection ships (under ``plugins/``) must carry, in its first three lines, the identity
  header ``# asr.process_server script: <name> v<N>`` with ``<name>`` equal to the file's stem, and the
  names must be unique (the lab emulator recognises scripts by this header);
* for those shipped scripts, the cheap PSScriptAnalyzer rules ansible-test's pslint enables: lines of at most
  160 characters, indentation with spaces (no tabs), no trailing whitespace.

Usage: ``python scripts/check_powershell.py [ROOT]`` (default: the repository root). Exit status 1 on any
finding, 0 otherwise (also when there is no PowerShell file at all, which it says).
"""

from __future__ import annotations

import os
import pathlib
import re
import sys

import tree_sitter
import tree_sitter_powershell

SUFFIXES = (".ps1", ".psm1", ".psd1")
# Trees that are not ours or not source: virtualenvs, the collections/ symlink back to the root, outputs.
SKIP_PARTS = {".git", "collections", "build", "node_modules", "__pycache__", ".lab"}
SKIP_PREFIXES = (".venv", "tests/output")
HEADER_RE = re.compile(r"^# asr\.process_server script: (?P<name>[A-Za-z0-9_.-]+) v(?P<version>[1-9][0-9]*)\s*$")
HEADER_LINES = 3
MAX_LINE = 160


def find_files(root: pathlib.Path) -> list[pathlib.Path]:
    """Every PowerShell file under root, not descending into skipped trees (virtualenvs are large)."""
    found = []
    for directory, subdirs, files in os.walk(root):
        rel_dir = pathlib.Path(directory).relative_to(root)
        subdirs[:] = sorted(
            d for d in subdirs if d not in SKIP_PARTS and not (rel_dir / d).as_posix().startswith(SKIP_PREFIXES)
        )
        found += [pathlib.Path(directory, name) for name in files if name.lower().endswith(SUFFIXES)]
    return sorted(found)


def syntax_problems(parser: tree_sitter.Parser, source: bytes) -> list[tuple[int, int, str]]:
    """Return (line, column, message) for each innermost ERROR node and each MISSING node, 1-based.

    tree-sitter's error recovery often wraps much of a file in one ERROR node that starts at line 1; the
    innermost ERROR nodes point at the tokens it could not place, which is where a reader should look.
    """
    problems: list[tuple[int, int, str]] = []

    def visit(node: tree_sitter.Node) -> bool:
        """Report problems below ``node``; return whether any was found."""
        if node.is_missing:
            problems.append((node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type!r}"))
            return True
        found = False
        for child in node.children:
            if child.has_error or child.is_missing or child.is_error:
                found = visit(child) or found
        if node.is_error and not found:
            lines = source[node.start_byte : node.end_byte].decode("utf-8", "replace").strip().splitlines()
            message = f"syntax error near {lines[0][:60]!r}" if lines else "syntax error: unexpected end of input"
            problems.append((node.start_point[0] + 1, node.start_point[1] + 1, message))
            found = True
        return found

    tree = parser.parse(source)
    if tree.root_node.has_error:
        visit(tree.root_node)
    return sorted(problems)


def style_problems(text: str) -> list[tuple[int, int, str]]:
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE:
            problems.append((number, MAX_LINE + 1, f"line longer than {MAX_LINE} characters (pslint PSAvoidLongLines)"))
        indent = line[: len(line) - len(line.lstrip())]
        if "\t" in indent:
            problems.append((number, 1, "tab in indentation (pslint PSUseConsistentIndentation: spaces)"))
        if line != line.rstrip():
            problems.append((number, len(line.rstrip()) + 1, "trailing whitespace (pslint PSAvoidTrailingWhitespace)"))
    return problems


def header_problems(path: pathlib.Path, text: str, seen: dict[str, pathlib.Path]) -> list[tuple[int, int, str]]:
    if path.parent.name == "fragments":  # spliced into scripts by load_script: named, but not a script of its own
        wanted = f"# asr.process_server fragment: {path.stem}"
        return [] if text.splitlines()[:1] == [wanted] else [(1, 1, f"the first line must be {wanted!r}")]
    for number, line in enumerate(text.splitlines()[:HEADER_LINES], start=1):
        match = HEADER_RE.match(line)
        if not match:
            continue
        name = match["name"]
        if name != path.stem:
            return [(number, 1, f"identity header names {name!r}, expected the file stem {path.stem!r}")]
        if name in seen:
            return [(number, 1, f"identity header name {name!r} already used by {seen[name]}")]
        seen[name] = path
        return []
    wanted = f"# asr.process_server script: {path.stem} v<N>"
    return [(1, 1, f"no identity header {wanted!r} in the first {HEADER_LINES} lines")]


def main(argv: list[str]) -> int:
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent).resolve()
    files = find_files(root)
    if not files:
        print(f"check_powershell: no PowerShell files under {root}; nothing to check.")
        return 0

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))
    seen: dict[str, pathlib.Path] = {}
    failures = 0
    for path in files:
        rel = path.relative_to(root)
        source = path.read_bytes()
        text = source.decode("utf-8-sig", "replace")
        problems = syntax_problems(parser, source)
        if rel.parts[0] == "plugins":  # shipped in the artifact: what pslint would see, and the lab recognises
            problems += style_problems(text) + header_problems(path, text, seen)
        for line, column, message in sorted(problems):
            print(f"{rel}:{line}:{column}: {message}")
        failures += bool(problems)

    print(f"check_powershell: {len(files)} file(s) checked, {failures} with problems.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
