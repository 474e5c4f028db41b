"""Which PowerShell 7 (``pwsh``) the lab and the tests run the collection's scripts with (ARCHITECTURE.md decision 8).

Looked up in this order, and the first one found is used:

1. ``ASR_PWSH``: the path of a pwsh executable. When it is set it must name one: a wrong value is an error, never a
   silent fall-back to another PowerShell;
2. ``pwsh`` on ``PATH`` (a distribution package or Microsoft's package feed installs it there);
3. the project's toolchain, ``../shared/toolchain/pwsh`` next to the repository root (PowerShell 7.6.10 with its
   own .NET runtime and Pester, unpacked on first use). For a git worktree, the main work tree's
   ``../shared/toolchain/pwsh`` is tried as well, so every worktree of one clone finds the same toolchain.

When none is found, ``find()`` raises ``PwshNotFound`` with a message that says what was tried and what to install.
The lab never runs without pwsh and the tests fail (they do not skip) when it is missing.

``python -m lab.pwsh`` prints the one in use (or the message and exit status 1).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import sys
from dataclasses import dataclass

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
TOOLCHAIN = pathlib.Path("..", "shared", "toolchain", "pwsh")  # relative to a repository root
ENV_VAR = "ASR_PWSH"
INSTALL_HINT = (
    "install PowerShell 7.5 or later (your distribution's package, or Microsoft's package feed: "
    "https://learn.microsoft.com/powershell/scripting/install/installing-powershell-on-linux) so that `pwsh` is "
    f"on PATH, or set {ENV_VAR} to a pwsh executable"
)


class PwshNotFound(RuntimeError):
    """No usable pwsh: the message says what was tried and what to install."""


@dataclass(frozen=True)
class Pwsh:
    path: str
    source: str  # "ASR_PWSH", "PATH" or "toolchain"

    def describe(self) -> str:
        return f"{self.path} (from {self.source})"


def _executable(path: pathlib.Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _main_worktree(root: pathlib.Path) -> pathlib.Path | None:
    """The main work tree of the clone ``root`` is a linked worktree of (``.git`` is then a file naming its gitdir)."""
    dot_git = root / ".git"
    if not dot_git.is_file():
        return None
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if not text.startswith("gitdir:"):
        return None
    gitdir = (root / text.split(":", 1)[1].strip()).resolve()  # <main>/.git/worktrees/<name>
    common = gitdir / "commondir"
    try:
        common_dir = (gitdir / common.read_text(encoding="utf-8").strip()).resolve()
    except OSError:
        common_dir = gitdir.parents[1]
    return common_dir.parent if common_dir.name == ".git" else None


def toolchain_candidates(root: pathlib.Path = REPO_ROOT) -> list[pathlib.Path]:
    """Where the project's toolchain pwsh may be: next to this repository, then next to its main work tree."""
    found = [(root / TOOLCHAIN).resolve()]
    main = _main_worktree(root)
    if main is not None and (main / TOOLCHAIN).resolve() not in found:
        found.append((main / TOOLCHAIN).resolve())
    return found


def find(root: pathlib.Path = REPO_ROOT, environ: dict[str, str] | None = None) -> Pwsh:
    """The pwsh to use (see the module docstring for the order); ``PwshNotFound`` when there is none."""
    env = os.environ if environ is None else environ
    configured = env.get(ENV_VAR, "")
    if configured:
        path = pathlib.Path(configured).expanduser()
        if not _executable(path):
            raise PwshNotFound(
                f"lab: {ENV_VAR} is set to {configured!r}, which is not an executable file; {INSTALL_HINT}"
            )
        return Pwsh(str(path), ENV_VAR)
    on_path = shutil.which("pwsh", path=env.get("PATH", os.defpath))
    if on_path:
        return Pwsh(on_path, "PATH")
    tried = toolchain_candidates(root)
    for candidate in tried:
        if _executable(candidate):
            return Pwsh(str(candidate), "toolchain")
    raise PwshNotFound(
        f"lab: no PowerShell 7 (pwsh) found: {ENV_VAR} is not set, there is no pwsh on PATH, and no toolchain at "
        f"{', '.join(str(p) for p in tried)}. The lab runs the collection's PowerShell scripts under pwsh: "
        f"{INSTALL_HINT}."
    )


def main() -> int:
    try:
        found = find()
    except PwshNotFound as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"pwsh: {found.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
