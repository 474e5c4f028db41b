#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a built Galaxy artifact of asr.process_server and the collection installed from it.

Usage: ``python scripts/check_artifact.py ARTIFACT.tar.gz COLLECTIONS_PATH``

1. Every file of the artifact is on an allow-list (:data:`ALLOWED`): plugins, roles, playbooks, docs, the
   changelog, the example inventory, meta/, the licence text (COPYING) and the sanity ignore files.
   Development-only trees (lab, unit tests, CI, Molecule, benchmarks, scripts, requirements, the
   collections/ symlink) and whatever a run leaves in the checkout (reports/, .lab/, surveys/, context/,
   virtualenvs, caches, bytecode) are not, whether or not galaxy.yml's build_ignore remembered them. The
   artifact does hold what Galaxy and ansible-test need (MANIFEST.json, FILES.json, meta/runtime.yml, the
   empty sanity ignore files) and the licence galaxy.yml names (COPYING).
2. Every ``plugins/plugin_utils/*/*.py`` and ``plugins/action/*.py`` of the *installed* collection imports
   through Ansible's collection loader with COLLECTIONS_PATH searched first, and each module really comes
   from there (not from a checkout that happens to be on sys.path).
"""

from __future__ import annotations

import importlib
import pathlib
import re
import sys
import tarfile
import traceback

# Every file the artifact may hold (``*`` stays inside one folder, ``**/`` spans any number of them). An
# allow-list, not a list of what to leave out: git-ignored output a run leaves in the checkout (reports/,
# .lab/, surveys/, context/, caches, venvs, ...) or a new development tree fails the check until galaxy.yml's
# build_ignore excludes it or it is added here on purpose.
ALLOWED = (
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "COPYING",
    "ansible.cfg",
    ".yamllint",
    "execution-environment.yml",
    "meta/*.yml",
    "meta/ee-*.txt",
    "plugins/action/*.py",
    "plugins/modules/*.py",
    "plugins/doc_fragments/*.py",
    "plugins/filter/*.py",
    "plugins/filter/*.yml",
    "plugins/plugin_utils/*/*.py",
    "plugins/plugin_utils/powershell/**/*.ps1",
    "plugins/plugin_utils/report/templates/*.j2",
    "roles/*/defaults/main.yml",
    "roles/*/meta/*.yml",
    "roles/*/tasks/*.yml",
    "playbooks/*.yml",
    "playbooks/tasks/*.yml",  # task files the playbooks include (rebalance.yml: tasks/switch_batch.yml)
    "docs/**/*.md",
    "changelogs/changelog.yaml",
    "changelogs/config.yaml",
    "changelogs/fragments/*.yml",
    "changelogs/fragments/.keep",
    "inventories/example/README.md",
    "inventories/example/**/*.yml",
    "tests/config.yml",
    "tests/sanity/ignore-*.txt",
)
REQUIRED = (
    "MANIFEST.json",
    "COPYING",  # the GPL-3.0-or-later text galaxy.yml's license names
    # the capacity report's page (capacity_report_html)
    "plugins/plugin_utils/report/templates/capacity_report.html.j2",
    "FILES.json",
    "meta/runtime.yml",
    "tests/config.yml",
    "tests/sanity/ignore-2.19.txt",
    "tests/sanity/ignore-2.20.txt",
    "tests/sanity/ignore-2.21.txt",
)
COLLECTION = "ansible_collections.asr.process_server"


def _glob_regex(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part).replace(r"\*", "[^/]*") for part in pattern.split("**/"))
    return re.compile("(?:[^/]+/)*".join(parts) + r"\Z")


ALLOWED_RES = tuple(_glob_regex(pattern) for pattern in ALLOWED)


def allowed_file(name: str) -> bool:
    return any(regex.match(name) for regex in ALLOWED_RES)


def check_members(artifact: pathlib.Path) -> list[str]:
    """The artifact's files against :data:`ALLOWED`; a folder only as the parent of an allowed file; no bytecode."""
    with tarfile.open(artifact) as tar:
        members = [(m.name.removeprefix("./").rstrip("/"), m.isdir()) for m in tar.getmembers()]
    names = [name for name, _is_dir in members if name and name != "."]
    kept = [name for name, is_dir in members if not is_dir and allowed_file(name)]
    problems = []
    for name, is_dir in sorted(members):
        if not name or name == ".":
            continue
        if "__pycache__" in name.split("/") or name.endswith(".pyc"):
            problems.append(f"{artifact.name}: bytecode shipped: {name}")
        elif not (any(f.startswith(f"{name}/") for f in kept) if is_dir else allowed_file(name)):
            what = "folder" if is_dir else "file"
            problems.append(f"{artifact.name}: {what} not on the allow-list shipped: {name} (see build_ignore)")
    problems += [f"{artifact.name}: missing {required}" for required in REQUIRED if required not in names]
    print(f"check_artifact: {artifact.name} holds {len(names)} entries")
    return problems


def check_imports(collections_path: pathlib.Path) -> list[str]:
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    installed = collections_path / "ansible_collections" / "asr" / "process_server"
    if not (installed / "MANIFEST.json").is_file():
        return [f"{installed}: no installed collection (MANIFEST.json missing)"]
    # ansible.windows and friends come from the "ansible" package in site-packages, searched after.
    site_paths = [p for p in sys.path if p.endswith("site-packages")]
    finder = _AnsibleCollectionFinder(paths=[str(collections_path), *site_paths], scan_sys_paths=False)
    finder._install()

    problems = []
    modules = sorted(installed.glob("plugins/plugin_utils/*/*.py")) + sorted(installed.glob("plugins/action/*.py"))
    for path in modules:
        if path.name == "__init__.py":
            continue
        rel = path.relative_to(installed).with_suffix("")
        name = ".".join((COLLECTION, *rel.parts))
        try:
            module = importlib.import_module(name)
        except Exception:  # report every broken module, not just the first
            problems.append(f"{rel}.py: import failed:\n{traceback.format_exc()}")
            continue
        origin = pathlib.Path(module.__file__ or "").resolve()
        if not origin.is_relative_to(installed.resolve()):
            problems.append(f"{rel}.py: imported from {origin}, not from the installed collection")
    print(f"check_artifact: imported {len(modules)} plugin module(s) from {installed}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__)
        return 2
    problems = check_members(pathlib.Path(argv[1])) + check_imports(pathlib.Path(argv[2]).resolve())
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
