#!/usr/bin/env python3
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check a built Galaxy artifact of asr.process_server and the collection installed from it.

Usage: ``python scripts/check_artifact.py ARTIFACT.tar.gz COLLECTIONS_PATH``

1. The artifact holds no development-only tree (lab, unit tests, CI, Molecule, benchmarks, scripts,
   requirements, the collections/ symlink, virtualenvs, caches) and does hold what Galaxy and
   ansible-test need (MANIFEST.json, FILES.json, meta/runtime.yml, the empty sanity ignore files).
2. Every ``plugins/plugin_utils/*.py`` and ``plugins/action/*.py`` of the *installed* collection imports
   through Ansible's collection loader with COLLECTIONS_PATH searched first, and each module really comes
   from there (not from a checkout that happens to be on sys.path).
"""

from __future__ import annotations

import importlib
import pathlib
import sys
import tarfile
import traceback

FORBIDDEN_PREFIXES = (
    ".ci/",
    ".venv",
    ".git/",
    ".ansible/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    "bench/",
    "build/",
    "collections/",
    "lab/",
    "molecule/",
    "requirements/",
    "scripts/",
    "tests/unit/",
    "tests/lab/",
    "tests/integration/",
    "tests/output/",
    "tests/conftest.py",
    "docs/dev/",
    "inventories/lab/",
)
REQUIRED = (
    "MANIFEST.json",
    "FILES.json",
    "meta/runtime.yml",
    "tests/config.yml",
    "tests/sanity/ignore-2.19.txt",
    "tests/sanity/ignore-2.20.txt",
    "tests/sanity/ignore-2.21.txt",
)
COLLECTION = "ansible_collections.asr.process_server"


def check_members(artifact: pathlib.Path) -> list[str]:
    with tarfile.open(artifact) as tar:
        names = [member.name.removeprefix("./").rstrip("/") for member in tar.getmembers()]
    problems = []
    for name in sorted(names):
        if any(name.startswith(prefix) or f"{name}/" == prefix for prefix in FORBIDDEN_PREFIXES):
            problems.append(f"{artifact.name}: development-only path shipped: {name}")
        if "__pycache__" in name.split("/") or name.endswith(".pyc"):
            problems.append(f"{artifact.name}: bytecode shipped: {name}")
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
    modules = sorted(installed.glob("plugins/plugin_utils/*.py")) + sorted(installed.glob("plugins/action/*.py"))
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
