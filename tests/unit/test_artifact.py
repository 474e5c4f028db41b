"""The Galaxy artifact built after a demo-like run ships only what is on scripts/check_artifact.py's allow-list.

A copy of the checkout (its tracked files) gets every path that running the collection, its lab, its tests and
its tools leaves behind (scripts/demo.sh, plan.yml's reports, docs/lab.md's surveys, the EE context, caches,
virtualenvs, bytecode, Molecule's ephemeral directory, bench output); then ``ansible-galaxy collection build``
runs on it as a release would, and the artifact is checked.
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess
import sys
import tarfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
GALAXY = pathlib.Path(sys.executable).parent / "ansible-galaxy"

# What a run leaves in a checkout; each is git-ignored (so it must never ship either).
GENERATED = (
    ".lab/demo/inventory.yml",  # scripts/demo.sh, python -m lab up
    ".lab/demo/fleet-vars.yml",
    ".lab/demo/site.yml.rollout.log",
    ".lab/demo/media/MicrosoftAzureSiteRecoveryUnifiedSetup.exe",
    ".lab/default/tls/key.pem",
    "reports/capacity-20261201T101500Z.html",  # plan.yml (asr_report_dir default)
    "reports/capacity-20261201T101500Z.json",
    "playbooks/reports/capacity-20261201T101500Z.json",  # plan.yml run from inside playbooks/
    "surveys/ps-prod-07.json",  # docs/lab.md, importing a real host's survey
    "surveys/ps-prod-07.seed.json",
    "diagnostics/ps-prod-07.json",  # diagnose.yml (asr_diagnostics_dir default)
    "playbooks/diagnostics/ps-prod-07.json",  # diagnose.yml run from inside playbooks/
    "context/Containerfile",  # docs/execution-environment.md: scripts/ee_context.sh context
    "context/_build/requirements.txt",
    "build/ee/asr-process_server-0.1.0.tar.gz",  # scripts/ee_context.sh default
    "asr-process_server-0.1.0.tar.gz",  # ansible-galaxy collection build in the checkout
    ".venv/bin/python",  # scripts/lib/venv.sh
    ".venv-2.21/bin/python",
    ".pytest_cache/v/cache/lastfailed",
    ".ruff_cache/0.14.0/123456",
    ".hypothesis/examples/0a1b/2c3d",
    ".mypy_cache/3.11/plugins.json",
    ".coverage",
    "htmlcov/index.html",
    ".tox/py311/pyvenv.cfg",
    ".ansible/collections/ansible_collections/placeholder.txt",  # ansible-lint's cache
    ".cache/pip/selfcheck.json",
    "plugins/plugin_utils/__pycache__/sizing.cpython-311.pyc",
    "plugins/filter/__pycache__/capacity.cpython-312.pyc",
    "changelogs/.plugin-cache.yaml",  # antsibull-changelog
    "tests/output/junit/python3.11-validate-modules.xml",  # ansible-test
    "molecule/default/.molecule/state.yml",  # MOLECULE_EPHEMERAL_DIRECTORY inside the checkout
    ".molecule/default/state.yml",
    "playbooks/site.retry",
    "ansible.log",
)
# Development output that is committed on purpose (bench/results) or lives in a development-only tree.
DEVELOPMENT = (
    "bench/results/2099-01-01-n10-lat50.json",
    "bench/results/2099-01-01-n10-lat50.svg",
    "tests/reliability/__pycache__/registry.cpython-311.pyc",
)


def _check_artifact():
    spec = importlib.util.spec_from_file_location("check_artifact", REPO / "scripts" / "check_artifact.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tracked_copy(dest: pathlib.Path) -> None:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(source.readlink())
        elif source.is_file():
            shutil.copy2(source, target)


def test_every_generated_path_is_git_ignored():
    """.gitignore and galaxy.yml's build_ignore describe the same generated paths."""
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", *GENERATED],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    not_ignored = [line.split("\t", 1)[1] for line in result.stdout.splitlines() if line.startswith("::")]
    assert not_ignored == [], "add these to .gitignore (and galaxy.yml's build_ignore)"


@pytest.fixture(scope="module")
def artifact_after_a_run(tmp_path_factory) -> tuple[pathlib.Path, list[str]]:
    root = tmp_path_factory.mktemp("artifact")
    checkout = root / "checkout"
    _tracked_copy(checkout)
    for name in GENERATED + DEVELOPMENT:
        path = checkout / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"generated: {name}\n", encoding="utf-8")
    dist = root / "dist"
    subprocess.run(
        [str(GALAXY), "collection", "build", "--output-path", str(dist), str(checkout)],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (artifact,) = dist.glob("asr-process_server-*.tar.gz")
    with tarfile.open(artifact) as tar:
        names = [m.name.removeprefix("./") for m in tar.getmembers()]
    return artifact, names


def test_artifact_after_a_run_holds_only_the_allow_list(artifact_after_a_run):
    artifact, _names = artifact_after_a_run
    assert _check_artifact().check_members(artifact) == []


def test_no_generated_path_ships(artifact_after_a_run):
    _artifact, names = artifact_after_a_run
    top = {name.split("/", 1)[0] for name in GENERATED + DEVELOPMENT} - {"plugins", "playbooks", "changelogs", "tests"}
    shipped = sorted(n for n in names if n in GENERATED + DEVELOPMENT or n.split("/", 1)[0] in top)
    assert shipped == []


def test_the_allow_list_refuses_generated_output():
    """The check itself: a report, a survey or a cache in the artifact is a problem even if build_ignore forgets it."""
    check = _check_artifact()
    assert [name for name in GENERATED + DEVELOPMENT if check.allowed_file(name)] == []
    for shipped in ("plugins/action/install.py", "roles/process_server/tasks/main.yml", "docs/modules/info.md"):
        assert check.allowed_file(shipped), shipped


def test_the_artifact_ships_the_full_licence_text_galaxy_names(artifact_after_a_run):
    """galaxy.yml says GPL-3.0-or-later; the artifact carries that licence's full text as COPYING."""
    import yaml

    artifact, names = artifact_after_a_run
    assert yaml.safe_load((REPO / "galaxy.yml").read_text(encoding="utf-8"))["license"] == ["GPL-3.0-or-later"]
    assert "COPYING" in names
    with tarfile.open(artifact) as tar:
        member = next(m for m in tar.getmembers() if m.name.removeprefix("./") == "COPYING")
        text = tar.extractfile(member).read().decode("utf-8")
    assert text.lstrip().startswith("GNU GENERAL PUBLIC LICENSE")
    for part in (
        "Version 3, 29 June 2007",
        "TERMS AND CONDITIONS",
        "15. Disclaimer of Warranty.",
        "END OF TERMS AND CONDITIONS",
        "How to Apply These Terms to Your New Programs",
    ):
        assert part in text, part
    assert len(text.splitlines()) > 600  # the full text, not a notice
