"""Where a controller package goes and when it is sent: install_plan.needs_staging / staged_facts and the
_op_setup path helpers (upload_name, upload_path, staged_path, SetupRunner.source_for)."""

from __future__ import annotations

import string
from unittest.mock import MagicMock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import install_plan as ip
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version as V
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import setup as _op_setup
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import ActionFailure
from tests.unit.setup_probes import fresh, installer_facts, upload_facts

SHA = "ab" * 32
OTHER = "cd" * 32
STAGING = r"C:\ProgramData\ASRSetupStaging"
STAGED = _op_setup.staged_path(STAGING, SHA)
sha256s = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


def local(sha=SHA, version="9.55.7123.1"):
    return ip.Installer(remote_path=_op_setup.staged_path(STAGING, sha), local_path="/media/setup.exe",
                        version=V(version) if version else None, sha256=sha)  # fmt: skip


def state(installer=None, upload=None):
    return read_probe(fresh(installer=installer, upload=upload))


@given(sha256s, sha256s)
def test_every_package_has_its_own_transfer_name_and_staging_folder(first, second):
    assert _op_setup.upload_name(first).startswith(f"asr-{first[:16]}-")
    assert _op_setup.upload_name(first).endswith(_op_setup.PACKAGE_EXE)
    if first[:16] != second[:16]:  # hops of an N-4 upgrade coexist, on the way and once staged
        assert _op_setup.upload_name(first) != _op_setup.upload_name(second)
        assert _op_setup.staged_path(STAGING, first) != _op_setup.staged_path(STAGING, second)


@given(st.text(alphabet=string.ascii_letters + ":\\", min_size=1, max_size=30), sha256s)
def test_the_upload_path_is_one_file_directly_in_the_folder(folder, sha):
    path = _op_setup.upload_path(folder, sha)
    assert path.rsplit("\\", 1) == [folder.rstrip("\\"), _op_setup.upload_name(sha)]


def test_a_package_is_sent_unless_the_probe_saw_it_with_the_same_checksum():
    assert ip.needs_staging(state(), local())  # nowhere on the host
    assert not ip.needs_staging(state(installer=installer_facts(STAGED, sha256=SHA)), local())  # staged
    assert not ip.needs_staging(state(upload=upload_facts(exists=True, sha256=SHA)), local())  # transferred
    assert ip.needs_staging(state(installer=installer_facts(STAGED, sha256=OTHER)), local())
    assert ip.needs_staging(state(upload=upload_facts(exists=True, sha256=OTHER)), local())
    remote = ip.Installer(remote_path=r"D:\Media\setup.exe", sha256=SHA, option="installer_remote_path")
    assert not ip.needs_staging(state(), remote)  # never sent


def test_the_version_of_a_transferred_package_is_read_from_where_it_is():
    transferred = state(upload=upload_facts(exists=True, sha256=SHA, version="9.54.7000.1"))
    assert ip.staged_facts(transferred, local(version=None))["path"].startswith("C:\\Windows\\Temp\\")
    assert ip.installer_version(transferred, local(version=None)) == V("9.54.7000.1")
    staged = state(installer=installer_facts(STAGED, sha256=SHA, version="9.53.6904.1"),
                   upload=upload_facts(exists=True, sha256=SHA, version="9.54.7000.1"))  # fmt: skip
    assert ip.installer_version(staged, local(version=None)) == V("9.53.6904.1")  # the staging path wins
    assert ip.installer_version(state(), local(version=None)) is None


def runner(probe_state):
    settings = _op_setup.SetupSettings(staging_dir=STAGING, setup_timeout=600, poll_interval=5)
    return _op_setup.SetupRunner(MagicMock(), {}, settings, probe_state)


def test_setup_start_is_told_where_a_controller_package_was_transferred():
    probed = state(upload=upload_facts())
    source = runner(probed).source_for(STAGED, SHA)
    assert source == rf"C:\Windows\Temp\{_op_setup.upload_name(SHA)}"
    assert runner(probed).source_for(r"D:\Media\setup.exe", SHA) is None  # installer_remote_path: nothing moved
    assert runner(probed).source_for(STAGED, None) is None
    no_folder = state(upload={**upload_facts(), "folder_exists": False})
    assert runner(no_folder).source_for(STAGED, SHA) is None and runner(None).source_for(STAGED, SHA) is None


def test_without_a_temporary_folder_the_transfer_is_refused_saying_what_to_do():
    probed = runner(state(upload={**upload_facts(), "folder_exists": False}))
    with pytest.raises(ActionFailure, match=r"SystemRoot\\Temp.*installer_remote_path"):
        probed.stage(local())
    assert probed.action._connection.put_file.call_count == 0
