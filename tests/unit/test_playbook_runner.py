"""tests/playbook_runner.py: an ansible-playbook run forked from the server is the run a fresh process makes."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import time

import pytest

from tests import playbook_runner
from tests.lab_support import ROOT, ansible_env

SHOW = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: What the run sees
      ansible.builtin.debug:
        msg: "env={{ lookup('env', 'ASR_RUNNER_PROBE') }} cwd={{ cwd }} pid={{ pid }} tmp={{ tmp }}"
      vars:
        # the shell's parent is the task's worker, forked from the ansible-playbook process: the run's directory, its
        # pid, and the local temporary directory ansible-core made for it (named after the process that made it)
        cwd: "{{ lookup('pipe', 'readlink /proc/$PPID/cwd') }}"
        pid: "{{ lookup('pipe', 'grep ^PPid /proc/$PPID/status | cut -f2') }}"
        tmp: "{{ lookup('pipe', 'ls -d ~/.ansible/tmp/ansible-local-' ~ pid ~ '* || echo none') }}"
    - name: Fail when asked
      ansible.builtin.fail:
        msg: asked to fail
      when: fail_now | default(false) | bool
"""


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("runner") / "show.yml"
    path.write_text(SHOW, encoding="utf-8")
    return path


def command(book: pathlib.Path, *extra: str) -> list[str]:
    return [playbook_runner.ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", *extra, str(book)]


def test_a_forked_run_prints_what_a_fresh_process_prints(book, tmp_path):
    # results as JSON: the yaml callback wraps a message by its length, and the pid's digits differ between two runs
    env = ansible_env(ASR_RUNNER_PROBE="first", ANSIBLE_CALLBACK_RESULT_FORMAT="json")
    forked = playbook_runner.run(command(book), cwd=tmp_path, env=env, timeout=120)
    fresh = subprocess.run(command(book), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert forked.returncode == fresh.returncode == 0, forked.stdout + forked.stderr
    assert f"env=first cwd={tmp_path} pid=" in forked.stdout

    def same_but_pid(text: str) -> str:  # each run's own pid and local tmp directory (named after the pid)
        return re.sub(r"pid=\d+ tmp=\S+?ansible-local-\d+\w*", "pid=N tmp=T", text)

    assert same_but_pid(forked.stdout) == same_but_pid(fresh.stdout)
    assert "pid=N tmp=T" in same_but_pid(forked.stdout)
    assert forked.stderr == fresh.stderr


def test_run_only_variables_reach_each_run_exactly(book, tmp_path):
    """ASR_* variables do not start another server, yet every run sees its own value (and no leftover)."""
    seen = []
    for value in ("one", "two"):
        proc = playbook_runner.run(command(book), cwd=tmp_path, env=ansible_env(ASR_RUNNER_PROBE=value), timeout=120)
        seen.append(proc.stdout)
    without = playbook_runner.run(command(book), cwd=tmp_path, env=ansible_env(), timeout=120)
    assert "env=one " in seen[0] and "env=two " in seen[1]
    assert "env= cwd=" in without.stdout


def test_every_run_is_its_own_process_with_its_own_local_tmp(book, tmp_path):
    seen = []
    for _ in range(2):
        proc = playbook_runner.run(command(book), cwd=tmp_path, env=ansible_env(), timeout=120)
        text = " ".join(proc.stdout.split())
        seen.append((text.split(" pid=")[1].split()[0], text.split(" tmp=")[1].split()[0]))
    (pid1, tmp1), (pid2, tmp2) = seen
    assert pid1 != pid2 and str(os.getpid()) not in (pid1, pid2)
    assert tmp1 != tmp2 and "/ansible-local-" in tmp1  # not the server's directory, not shared
    assert not pathlib.Path(tmp1).exists() and not pathlib.Path(tmp2).exists()  # removed when each run ended


def test_exit_codes_and_errors_are_those_of_ansible_playbook(book, tmp_path):
    failed = playbook_runner.run(command(book, "-e", "fail_now=true"), cwd=tmp_path, env=ansible_env(), timeout=120)
    assert failed.returncode == 2 and "asked to fail" in failed.stdout
    bad = playbook_runner.run(command(book, "--no-such-option"), cwd=tmp_path, env=ansible_env(), timeout=120)
    assert bad.returncode == 2 and "unrecognized arguments: --no-such-option" in bad.stderr


def test_a_run_past_its_timeout_is_killed(tmp_path):
    slow = tmp_path / "slow.yml"
    slow.write_text(
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.pause:\n        seconds: 60\n",
        encoding="utf-8",
    )
    marker = f"timeout-{os.getpid()}-{time.monotonic_ns()}"  # in the environment of the run and all it starts
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        playbook_runner.run(command(slow), cwd=tmp_path, env=ansible_env(ASR_RUNNER_PROBE=marker), timeout=5)
    assert time.monotonic() - started < 30
    # nothing of the run is left: its task worker (pausing) runs in a session of its own, outside the run's group
    deadline = time.monotonic() + 5
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not processes_with(marker)


def processes_with(marker: str) -> list[int]:
    """The live processes whose environment holds ``marker`` (zombies have none)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/environ", "rb") as environ:
                    if marker.encode() in environ.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_other_commands_and_the_switch_run_as_plain_subprocesses(monkeypatch, tmp_path):
    ansible = str(pathlib.Path(playbook_runner.ANSIBLE_PLAYBOOK).with_name("ansible"))
    version = playbook_runner.run([ansible, "--version"], cwd=ROOT, env=ansible_env(), timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("ansible [core ")
    monkeypatch.setenv("ASR_TEST_PLAYBOOK_FORK", "0")
    assert not playbook_runner.enabled()


def test_a_message_cut_short_is_an_error_not_a_wait_forever():
    """The server reads a request up to its length; a peer that closes after 2 bytes of the 4-byte header ends it."""
    import socket
    import threading

    from tests import playbook_zygote

    ours, theirs = socket.socketpair()
    theirs.sendall(playbook_zygote.frame({"argv": []})[:2])
    theirs.close()
    raised: list[BaseException] = []

    def read() -> None:
        try:
            playbook_zygote.receive(ours)
        except BaseException as error:
            raised.append(error)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    ours.close()
    assert raised and isinstance(raised[0], EOFError), raised
