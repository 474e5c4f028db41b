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


# ---- the reliability suite's session plugin ---------------------------------------------------------------
RELIABILITY_DIR = REPO_ROOT / "tests" / "reliability"


def pytest_configure(config):
    # registered here, not in tests/reliability/conftest.py: a pytest-xdist controller loads no conftest.py below
    # tests/, and it is the controller that merges the workers' registries (reliability_suite.py)
    import sys

    if str(RELIABILITY_DIR) not in sys.path:
        sys.path.insert(0, str(RELIABILITY_DIR))
    import reliability_suite as suite

    if not config.pluginmanager.is_registered(suite):
        config.pluginmanager.register(suite, "asr-reliability-suite")


# ---- running on several cores (pytest-xdist, ``-n 2 --dist loadgroup`` in scripts/test.sh) ------------------
# Tests are independent: each lab estate has its own directory under tmp_path and its own free ports. The tests
# of a module go to one worker together, in collection order, when the module (or a conftest.py above it)
# shares a module-, class- or package-scoped fixture (one lab estate or one expensive scan for the module): on
# two workers it would be built twice, and a test that stops the shared estate could run while another worker
# still uses it. A reliability module that records registry facts stays whole too, so its facts keep their
# order in docs/reliability.md (the workers' registries are merged by tests/reliability/reliability_suite.py).
# xdist's own loadgroup marks groups by appending "@group" to Item._nodeid, which pytest 9 no longer reads
# (nodeid comes from Item._id), so its groups are silently lost; this scheduler groups by node id instead.
_SHARED_FIXTURE = re.compile(r"""scope\s*=\s*["'](module|class|package)["']""")
_REGISTRY_FACT = re.compile(r"registry\.fact\(")


@functools.cache
def _keep_together(module: str) -> bool:
    """Whether the tests of a module (path relative to the repository) must run on one worker."""
    path = REPO_ROOT / module
    files = [path] + [d / "conftest.py" for d in path.parents if REPO_ROOT in d.parents or d == REPO_ROOT]
    if any(f.is_file() and _SHARED_FIXTURE.search(f.read_text(encoding="utf-8")) for f in files):
        return True
    return RELIABILITY_DIR in path.parents and bool(_REGISTRY_FACT.search(path.read_text(encoding="utf-8")))


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its module, or the test alone."""
    module = nodeid.split("::", 1)[0]
    return module if _keep_together(module) else nodeid


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class _Scheduling(LoadScopeScheduling):
        # loadscope's reorder: the units with the most tests first, single tests last
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return _Scheduling(config, log)
