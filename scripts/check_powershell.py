#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check every PowerShell file of the repository with PowerShell's own parser (docs/dev/powershell-checks.md).

The hosts run Windows PowerShell 5.1 on .NET Framework 4.5; the developer and CI machines have pwsh 7 (found as the
lab finds it, ``lab/pwsh.py``: ``ASR_PWSH``, then ``PATH``, then ``../shared/toolchain/pwsh``).
ONE pwsh process (``tests/powershell/tools/powershell_check.ps1``) analyses, in one go:

* every collection script AS SENT (the fragments spliced in exactly as ``load_script`` does, and the detached
  runner inside setup_start's here-string as a script of its own): parse errors, syntax / operators / escapes /
  variables / commands / cmdlet parameters / type accelerators Windows PowerShell 5.1 lacks, .NET types, members and
  overloads .NET Framework 4.5 lacks (``scripts/data/net45.json.gz``), and the check-mode rule (a script declaring
  SupportsShouldProcess changes nothing unguarded; a program it starts only to read carries ``# read-only: <why>``);
* every file under ``plugins/`` as it is in the repository, which is what ansible-test's pslint reads: the
  PSScriptAnalyzer rules pslint applies, re-implemented on the AST (PSScriptAnalyzer is not obtainable here);
* every other ``*.ps1`` / ``*.psm1`` / ``*.psd1`` (tests, developer tools): parse errors under pwsh.

A finding in a fragment is reported at the fragment's own file and line (once, however many scripts include it).
This script itself checks, without pwsh, that every shipped script carries its identity header
``# asr.process_server script: <name> v<N>`` (unique names; the lab recognises scripts by it) and every fragment
``# asr.process_server fragment: <name>``, and that every fragment is included somewhere.

Usage: ``python scripts/check_powershell.py [ROOT]``. Exit status 1 on any finding, 2 when no pwsh is found (the
check never passes without running), 0 otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence

SUFFIXES = (".ps1", ".psm1", ".psd1")
# Trees that are not ours or not source: virtualenvs, the collections/ symlink back to the root, outputs.
SKIP_PARTS = {".git", "collections", "build", "node_modules", "__pycache__", ".lab"}
SKIP_PREFIXES = (".venv", "tests/output")
HEADER_RE = re.compile(r"^# asr\.process_server script: (?P<name>[A-Za-z0-9_.-]+) v(?P<version>[1-9][0-9]*)\s*$")
INCLUDE_RE = re.compile(r"^# asr\.process_server include: (?P<name>[a-z0-9_]+)[ \t]*\r?\n", re.MULTILINE)
HEADER_LINES = 3
SCRIPT_DIR = pathlib.PurePosixPath("plugins/plugin_utils/powershell")
ANALYZER = pathlib.Path(__file__).resolve().parent.parent / "tests" / "powershell" / "tools" / "powershell_check.ps1"
API_DATA = pathlib.Path(__file__).resolve().parent / "data" / "net45.json.gz"

SENT_RULES = ("parse", "ps51", "net45", "checkmode", "project", "embedded")
FILE_RULES = ("parse", "pslint")
OTHER_RULES = ("parse",)


ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the lab's pwsh discovery (lab/pwsh.py) is the project's one
    sys.path.insert(0, str(ROOT))

from lab.pwsh import PwshNotFound  # noqa: E402
from lab.pwsh import find as _find_pwsh  # noqa: E402


def find_pwsh(root: pathlib.Path | None = None) -> tuple[str, str]:
    """(path, how it was found): lab/pwsh.py's order, ASR_PWSH, then PATH, then ../shared/toolchain/pwsh."""
    found = _find_pwsh(root or ROOT)
    return found.path, found.source


def pwsh_or_say(tool: str, root: pathlib.Path | None = None) -> tuple[str, str] | None:
    """:func:`find_pwsh`, or None after printing ``<tool>: FAILED: <what to install>`` (the tool then exits 2)."""
    try:
        return find_pwsh(root)
    except PwshNotFound as exc:
        print(f"{tool}: FAILED: {exc}")
        return None


@dataclasses.dataclass(frozen=True)
class Unit:
    """One text the analyzer reads, and where each of its lines comes from (file, line)."""

    name: str
    text: str
    rules: tuple[str, ...]
    origins: tuple[tuple[str, int], ...]

    def origin(self, line: int) -> tuple[str, int]:
        if 1 <= line <= len(self.origins):
            return self.origins[line - 1]
        return self.name, line


@dataclasses.dataclass(frozen=True, order=True)
class Finding:
    path: str
    line: int
    column: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: [{self.rule}] {self.message}"


def analyze(units: Sequence[Unit], pwsh: str) -> list[Finding]:
    """Run ONE pwsh over all units; the findings at their source files and lines, sorted, without duplicates."""
    if not units:
        return []
    with tempfile.TemporaryDirectory(prefix="asr-pscheck-") as tmp:
        request = pathlib.Path(tmp, "request.json")
        payload = {"units": [{"name": u.name, "text": u.text, "rules": list(u.rules)} for u in units]}
        request.write_text(json.dumps(payload), encoding="utf-8")
        command = [pwsh, "-NoProfile", "-NonInteractive", "-File", str(ANALYZER), "-RequestPath", str(request)]
        command += ["-ApiPath", str(API_DATA)]
        env = {**os.environ, "NO_COLOR": "1"}  # pwsh's error messages without terminal colours
        # one long pwsh run: .NET's tiered JIT would compile the analyzer's hot code twice (measured: 15 s instead of
        # 22 s of CPU for the repository without it; docs/dev/test-time.md)
        env.setdefault("DOTNET_TieredCompilation", "0")
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the PowerShell analyzer failed (exit {done.returncode}):\n{done.stderr}{done.stdout}")
    by_name = {u.name: u for u in units}
    found = set()
    for item in json.loads(done.stdout or "[]"):
        path, line = by_name[item["unit"]].origin(int(item["line"]))
        found.add(Finding(path, line, int(item["column"]), item["rule"], item["message"]))
    return sorted(found)


# ---- what the repository holds -----------------------------------------------------------------------------------
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


def read_text(path: pathlib.Path) -> str:
    return path.read_text(encoding="utf-8-sig")


def fragment_body(path: pathlib.Path) -> tuple[list[str], int]:
    """The fragment's lines as load_script splices them (leading comment block dropped) and how many were dropped."""
    lines = read_text(path).splitlines(keepends=True)
    dropped = 0
    while lines and (lines[0].startswith("#") or not lines[0].strip()):
        lines.pop(0)
        dropped += 1
    return lines, dropped


def splice(root: pathlib.Path, script: pathlib.Path) -> tuple[str, tuple[tuple[str, int], ...], list[str]]:
    """The script as sent (load_script's splice), each line's origin (file, line), and the fragments it includes."""
    fragments_dir = root / SCRIPT_DIR / "fragments"
    rel = script.relative_to(root).as_posix()
    out: list[str] = []
    origins: list[tuple[str, int]] = []
    included: list[str] = []
    for number, line in enumerate(read_text(script).splitlines(keepends=True), start=1):
        match = INCLUDE_RE.match(line)
        if not match:
            out.append(line)
            origins.append((rel, number))
            continue
        fragment = fragments_dir / f"{match['name']}.ps1"
        included.append(match["name"])
        body, dropped = fragment_body(fragment)
        frag_rel = fragment.relative_to(root).as_posix()
        out += body
        origins += [(frag_rel, dropped + i) for i in range(1, len(body) + 1)]
    return "".join(out), tuple(origins), included


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


def collect_units(root: pathlib.Path, files: Iterable[pathlib.Path]) -> tuple[list[Unit], list[Finding]]:
    """The analyzer's units for the repository, and the header findings this side makes itself."""
    units: list[Unit] = []
    findings: list[Finding] = []
    seen: dict[str, pathlib.Path] = {}
    included: set[str] = set()
    fragments: list[pathlib.Path] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        text = read_text(path)
        lines = text.splitlines()
        own = tuple((rel, n) for n in range(1, len(lines) + 1))
        if not rel.startswith("plugins/"):
            units.append(Unit(rel, text, OTHER_RULES, own))
            continue
        findings += [Finding(rel, ln, col, "header", msg) for ln, col, msg in header_problems(path, text, seen)]
        units.append(Unit(rel, text, FILE_RULES, own))
        if path.parent.name == "fragments":
            fragments.append(path)
        elif path.suffix.lower() == ".ps1" and path.parent == root / SCRIPT_DIR:
            sent, origins, names = splice(root, path)
            included.update(names)
            units.append(Unit(f"{rel} (as sent)", sent, SENT_RULES, origins))
    for path in fragments:
        if path.stem not in included:
            rel = path.relative_to(root).as_posix()
            findings.append(
                Finding(rel, 1, 1, "header", "no script includes this fragment, so nothing checks it as sent")
            )
    return units, findings


def main(argv: list[str]) -> int:
    root = pathlib.Path(argv[1] if len(argv) > 1 else pathlib.Path(__file__).resolve().parent.parent).resolve()
    files = find_files(root)
    if not files:
        print(f"check_powershell: no PowerShell files under {root}; nothing to check.")
        return 0
    found = pwsh_or_say("check_powershell", root)
    if found is None:
        return 2
    pwsh, how = found
    units, findings = collect_units(root, files)
    print(f"check_powershell: pwsh {pwsh} (from {how}); {len(files)} file(s), {len(units)} unit(s)")
    findings = sorted(set(findings) | set(analyze(units, pwsh)))
    for finding in findings:
        print(finding)
    bad_files = len({f.path for f in findings})
    print(f"check_powershell: {len(files)} file(s) checked, {bad_files} with problems, {len(findings)} finding(s).")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
