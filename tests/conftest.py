"""Make ``ansible_collections.asr.process_server`` importable through Ansible's collection loader.

The repository root is the collection; ``collections/ansible_collections/asr/process_server`` is a
symlink to it, so the loader finds it exactly as ``ansible-playbook`` does from a checkout.
"""

from __future__ import annotations

import os
import pathlib

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


# ---- one lab pwsh worker per test process ------------------------------------------------------------------------
# The lab keeps up to ASR_LAB_PWSH_WORKERS persistent pwsh workers per process (lab/pshost.py, default 4), and each
# one pays its own start and compiles (.NET JIT) every script and shim function it runs again: ~2 s of CPU to start
# and several more for its first calls. pytest-xdist already runs one test process per core, so a second worker in
# a test process buys no throughput on those cores, only that CPU again (docs/dev/test-time.md: a fleet test file,
# 3 workers 16.6 s of pwsh CPU, 1 worker 8.4 s, same wall time). Calls of hosts served at the same time then wait for
# the worker in turn; lab.pshost.reserved takes it before any host lock, so one worker cannot deadlock. Set here,
# before any test imports lab.pshost (its pool reads the variable when the module is imported); a value in the
# environment wins. `python -m lab up` processes started by tests inherit it.
os.environ.setdefault("ASR_LAB_PWSH_WORKERS", "1")


# ---- the reliability suite's session plugin ---------------------------------------------------------------
RELIABILITY_DIR = REPO_ROOT / "tests" / "reliability"


def pytest_configure(config):
    # registered here, not in tests/reliability/conftest.py: a pytest-xdist controller loads no conftest.py below
    # tests/, and it is the controller that receives every worker's reports (reliability_suite.py)
    import sys

    if str(RELIABILITY_DIR) not in sys.path:
        sys.path.insert(0, str(RELIABILITY_DIR))
    import reliability_suite as suite

    if not config.pluginmanager.is_registered(suite):
        config.pluginmanager.register(suite, "asr-reliability-suite")
    if os.environ.get("ASR_TEST_CPU_LOG") and not config.pluginmanager.has_plugin("asr-cpu-time"):
        from tests import cpu_time  # CPU seconds per test (docs/dev/test-time.md)

        config.pluginmanager.register(cpu_time, "asr-cpu-time")
