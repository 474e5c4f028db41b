# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's PowerShell scripts, as the host receives them (ARCHITECTURE.md decision 5).

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

Each ``<name>.ps1`` next to this file starts with ``# asr.process_server script: <name> v<N>`` (its identity, which
the lab's journal and the remote-call counts show) and takes user values as parameters only. A line
``# asr.process_server include: <fragment>`` is replaced by ``fragments/<fragment>.ps1`` so that the functions
several scripts need live once while the host still receives one self-contained script. Reading files is all this
module does: no Ansible (the operations run the scripts, ``operations/action_base.py``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
INCLUDE_RE = re.compile(r"^# asr\.process_server include: (?P<name>[a-z0-9_]+)[ \t]*\r?\n", re.MULTILINE)
HEADER_RE = re.compile(r"^# asr\.process_server script: (?P<name>[A-Za-z0-9_.-]+) v(?P<version>[1-9][0-9]*)\s*$")


class ScriptFileError(Exception):
    """A script file that cannot be sent: a wrong identity header, or a fragment that is missing."""


@dataclass(frozen=True)
class Script:
    """A collection PowerShell script: its identity (header) and text."""

    name: str
    version: int
    text: str

    @property
    def identity(self) -> str:
        return f"{self.name} v{self.version}"


_SCRIPTS: dict[str, Script] = {}


def load_script(name: str, directory: str = SCRIPT_DIR) -> Script:
    """Read ``<directory>/<name>.ps1`` and check its identity header names it (decision 5)."""
    if directory == SCRIPT_DIR and name in _SCRIPTS:
        return _SCRIPTS[name]
    path = os.path.join(directory, f"{name}.ps1")
    with open(path, encoding="utf-8-sig") as handle:
        text = handle.read()
    first = text.splitlines()[0] if text else ""
    match = HEADER_RE.match(first)
    if not match or match.group("name") != name:
        raise ScriptFileError(f"{path}: the first line must be '# asr.process_server script: {name} v<N>'")
    script = Script(name, int(match.group("version")), splice_fragments(text, path))
    if directory == SCRIPT_DIR:
        _SCRIPTS[name] = script
    return script


def splice_fragments(text: str, path: str) -> str:
    """Replace each ``# asr.process_server include: <fragment>`` line with ``fragments/<fragment>.ps1``.

    The fragment's leading comment block (its own header) is not sent.
    """

    def fragment(match: re.Match[str]) -> str:
        frag_path = os.path.join(SCRIPT_DIR, "fragments", f"{match.group('name')}.ps1")
        try:
            with open(frag_path, encoding="utf-8-sig") as handle:
                lines = handle.read().splitlines(keepends=True)
        except OSError as exc:
            raise ScriptFileError(f"{path}: cannot include fragment {match.group('name')!r}: {exc}") from exc
        while lines and (lines[0].startswith("#") or not lines[0].strip()):
            lines.pop(0)
        return "".join(lines)

    return INCLUDE_RE.sub(fragment, text)
