"""lab.pwsh: which PowerShell 7 the lab and the tests use (ASR_PWSH, then PATH, then the toolchain)."""

from __future__ import annotations

import pathlib

import pytest

from lab import pwsh


def _exe(path: pathlib.Path) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n", encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "clone" / "repo"
    root.mkdir(parents=True)
    return root


def test_asr_pwsh_wins_over_path_and_toolchain(tmp_path, repo):
    chosen = _exe(tmp_path / "mine" / "pwsh")
    on_path = _exe(tmp_path / "bin" / "pwsh")
    _exe(repo.parent / "shared" / "toolchain" / "pwsh")
    found = pwsh.find(repo, {"ASR_PWSH": str(chosen), "PATH": str(on_path.parent)})
    assert (found.path, found.source) == (str(chosen), "ASR_PWSH")
    assert found.describe() == f"{chosen} (from ASR_PWSH)"


def test_a_wrong_asr_pwsh_is_an_error_not_a_fall_back(tmp_path, repo):
    _exe(tmp_path / "bin" / "pwsh")
    with pytest.raises(pwsh.PwshNotFound, match=r"ASR_PWSH is set to '.*nope', which is not an executable file"):
        pwsh.find(repo, {"ASR_PWSH": str(tmp_path / "nope"), "PATH": str(tmp_path / "bin")})


def test_path_before_the_toolchain(tmp_path, repo):
    on_path = _exe(tmp_path / "bin" / "pwsh")
    _exe(repo.parent / "shared" / "toolchain" / "pwsh")
    found = pwsh.find(repo, {"PATH": str(on_path.parent)})
    assert (found.path, found.source) == (str(on_path), "PATH")


def test_the_toolchain_next_to_the_repository(tmp_path, repo):
    tool = _exe(repo.parent / "shared" / "toolchain" / "pwsh")
    found = pwsh.find(repo, {"PATH": str(tmp_path / "empty")})
    assert (found.path, found.source) == (str(tool.resolve()), "toolchain")


def test_a_worktree_finds_the_toolchain_of_its_main_work_tree(tmp_path):
    main = tmp_path / "work" / "main"
    gitdir = main / ".git" / "worktrees" / "slice"
    gitdir.mkdir(parents=True)
    (gitdir / "commondir").write_text("../..\n", encoding="utf-8")
    worktree = tmp_path / "work" / "wt" / "slice"
    worktree.mkdir(parents=True)
    (worktree / ".git").write_text(f"gitdir: {gitdir}\n", encoding="utf-8")
    tool = _exe(tmp_path / "work" / "shared" / "toolchain" / "pwsh")
    found = pwsh.find(worktree, {"PATH": str(tmp_path / "empty")})
    assert (found.path, found.source) == (str(tool.resolve()), "toolchain")


def test_none_found_says_what_was_tried_and_what_to_install(tmp_path, repo):
    with pytest.raises(pwsh.PwshNotFound) as caught:
        pwsh.find(repo, {"PATH": str(tmp_path / "empty")})
    text = str(caught.value)
    assert "ASR_PWSH is not set, there is no pwsh on PATH" in text
    assert str((repo.parent / "shared" / "toolchain" / "pwsh").resolve()) in text
    assert "install PowerShell 7.5 or later" in text


def test_this_machine_has_a_pwsh():
    """The project's tests need pwsh: without one this fails (it never skips), saying what to install."""
    found = pwsh.find()
    assert pathlib.Path(found.path).is_file(), found.describe()
