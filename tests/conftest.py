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


# ---- the longest files first -------------------------------------------------------------------------------------
# scripts/test.sh runs the suite on pytest-xdist workers with --dist loadfile --no-loadscope-reorder: a file runs on
# one worker, and files go to workers in collection order (xdist's default order, most tests first, handed the
# longest files out late: the fleet fault matrix alone is about 230 s on one worker and has 13 tests), so one or two
# workers ran them alone at the end while the others had nothing left. Handing out the longest first (longest
# processing time first) lets the short files fill the gaps instead (docs/dev/test-time.md). The figures are each
# file's wall seconds on one worker in a full run (scripts/cpu_report.py); a file not listed keeps its place after
# these, in collection order, and a stale figure changes only the order. tests/unit/test_conftest_order.py checks
# that each path still exists.
LONGEST_FILES = (
    ("tests/reliability/test_faults.py", 231),
    ("tests/integration/test_playbooks_lab.py", 179),
    ("tests/reliability/test_secret_leaks.py", 93),
    ("tests/integration/test_install_lab.py", 88),
    ("tests/reliability/test_bad_inputs.py", 56),
    ("tests/integration/test_package_sources_lab.py", 54),
    ("tests/reliability/test_concurrency.py", 49),
    ("tests/integration/test_foreign_cs_lab.py", 48),
    ("tests/reliability/test_rolling.py", 47),
    ("tests/reliability/test_azure_faults.py", 46),
    ("tests/integration/test_read_paths_lab.py", 45),
    ("tests/unit/test_check_powershell.py", 41),
    ("tests/lab/test_dispatch.py", 39),
    ("tests/reliability/test_resume.py", 35),
    ("tests/integration/test_plan_lab.py", 32),
    ("tests/integration/test_rebalance_lab.py", 32),
    ("tests/integration/test_upgrade_cs_lab.py", 31),
    ("tests/integration/test_lab_acceptance.py", 27),
    ("tests/integration/test_process_server_lab.py", 22),
    ("tests/integration/test_diagnose_lab.py", 22),
)


def pytest_collection_modifyitems(session, config, items):
    rank = {path: index for index, (path, _seconds) in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))  # stable: the rest keep order
