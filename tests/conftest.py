"""Make ``ansible_collections.asr.process_server`` importable through Ansible's collection loader.

The repository root is the collection; ``collections/ansible_collections/asr/process_server`` is a
symlink to it, so the loader finds it exactly as ``ansible-playbook`` does from a checkout.
"""

from __future__ import annotations

import functools
import pathlib
import re

import pytest
from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / "collections"


def _install_collection_loader() -> None:
    import sys

    if any(type(f).__name__ == "_AnsibleCollectionFinder" for f in sys.meta_path):
        return
    # ansible.windows lives in site-packages (from the "ansible" package); keep that path too.
    site_paths = [p for p in sys.path if p.endswith("site-packages")]
    finder = _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR), *site_paths], scan_sys_paths=False)
    finder._install()


_install_collection_loader()


# ---- running on several cores (pytest-xdist, ``-n 2 --dist loadgroup`` in scripts/test.sh) ------------------
# Tests are independent: each lab estate has its own directory under tmp_path and its own free ports. Two kinds
# of tests must stay together on one worker, in collection order:
# * the tests of a module that shares a module-, class- or package-scoped fixture (one lab estate or one
#   expensive scan for the module): on two workers it would be built twice, and a test that stops the shared
#   estate could run while another worker still uses it;
# * the whole reliability suite: docs/reliability.md is rendered from its in-process registry
#   (tests/reliability/registry.py), which only sees the cases its own process ran.
# xdist's own loadgroup marks groups by appending "@group" to Item._nodeid, which pytest 9 no longer reads
# (nodeid comes from Item._id), so its groups are silently lost; this scheduler groups by node id instead.
_SHARED_FIXTURE = re.compile(r"""scope\s*=\s*["'](module|class|package)["']""")
_RELIABILITY = "tests/reliability/"


@functools.cache
def _shares_fixtures(module: str) -> bool:
    """Whether a test module (path relative to the repository) or a conftest.py above it defines a fixture
    shared beyond one test."""
    path = REPO_ROOT / module
    files = [path] + [d / "conftest.py" for d in path.parents if REPO_ROOT in d.parents or d == REPO_ROOT]
    return any(f.is_file() and _SHARED_FIXTURE.search(f.read_text(encoding="utf-8")) for f in files)


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to: the reliability suite, its module, or the test alone."""
    module = nodeid.split("::", 1)[0]
    if module.startswith(_RELIABILITY):
        return _RELIABILITY
    return module if _shares_fixtures(module) else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class _Scheduling(LoadScopeScheduling):
        # the largest unit (the reliability suite) starts first (loadscope's reorder: units by size, descending)
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return _Scheduling(config, log)
