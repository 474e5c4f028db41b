"""setup_outcome (every exit code of exit_codes.py) and installer_file (SHA-256, PE version resource)."""

from __future__ import annotations

import struct

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import exit_codes, setup_outcome
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.product import SETUP_CHECKED_PS_SERVICES
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import installer_file


def poll(rc, state="exited", version="9.55.7123.1", cs_ip="10.0.0.11", stopped=()):
    return {
        "run": {"state": state, "rc": rc, "stdout_tail": ["Installation ... has failed."] if rc else []},
        "csps": {"build_version": version},
        "amethyst_conf": {"ps_cs_ip": cs_ip},
        "services": [
            {"name": s, "present": True, "state": "stopped" if s in stopped else "running"}
            for s in SETUP_CHECKED_PS_SERVICES
        ],
        "setup_log": {"path": "C:\\ProgramData\\ASRSetupLogs\\ASRUnifiedSetup.log", "tail": ["line 1", "line 2"]},
    }


@pytest.mark.parametrize("rc", sorted(exit_codes.EXIT_CODES))
def test_every_exit_code_is_mapped(rc):
    info = exit_codes.EXIT_CODES[rc]
    out = setup_outcome.interpret_run(
        poll(rc), operation="install", version="9.55.7123.1", configuration_server_ip=None
    )
    assert out.success is info.success and out.name == info.name
    if info.success:
        assert out.reboot_required is (rc == 3010)
        assert out.changed is (rc != 201)
    else:
        assert f"exit code {rc} ({info.name})" in out.msg and info.remediation in out.msg
        assert out.detail["rc"] == rc and out.detail["log_tail"] == ["line 1", "line 2"]
        assert out.detail["remediation"] == info.remediation and "failed" in out.detail["stdout"]


def test_an_unknown_exit_code_is_a_failure_that_says_so():
    out = setup_outcome.interpret_run(poll(57), operation="install", version=None, configuration_server_ip=None)
    assert not out.success and "Inno" in out.msg


@pytest.mark.parametrize("state", ["lost", "missing"])
def test_a_run_without_an_exit_code_fails_with_the_log_tail(state):
    out = setup_outcome.interpret_run(
        poll(None, state), operation="install", version=None, configuration_server_ip=None
    )
    assert not out.success and out.detail["log_tail"]


def test_verify_finds_stopped_services_wrong_build_and_registration():
    assert setup_outcome.verify(poll(0), version="9.55.7123.1", configuration_server_ip="10.0.0.11") == []
    problems = setup_outcome.verify(
        poll(0, version="9.54.1.1", cs_ip="10.9.9.9", stopped=("tmansvc",)), version="9.55.7123.1",
        configuration_server_ip="10.0.0.11",
    )  # fmt: skip
    assert len(problems) == 3 and "tmansvc" in problems[2]


def minimal_pe(version=(9, 55, 7123, 1)):
    """MZ header -> PE header with one .rsrc section holding a VS_FIXEDFILEINFO."""
    rsrc = b"\0" * 40 + struct.pack("<IIII", 0xFEEF04BD, 0x10000, version[0] << 16 | version[1],
                                    version[2] << 16 | version[3]) + b"\0" * 32  # fmt: skip
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    optional_size = 0
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x14C, 1, 0, 0, 0, optional_size, 0)
    raw_pointer = 64 + len(coff) + 40
    section = b".rsrc\0\0\0" + struct.pack("<IIIIIIHHI", len(rsrc), 0x1000, len(rsrc), raw_pointer, 0, 0, 0, 0, 0)
    return bytes(dos) + coff + section + rsrc


def test_pe_version_is_read_from_the_resource_section(tmp_path):
    path = tmp_path / "setup.exe"
    path.write_bytes(minimal_pe() + b"payload" * 1000)
    assert installer_file.pe_file_version(str(path)) == "9.55.7123.1"
    assert len(installer_file.sha256_of(str(path))) == 64


def test_a_file_without_a_version_resource_gives_none(tmp_path):
    path = tmp_path / "setup.exe"
    path.write_bytes(b"ASR-LAB-UNIFIED-SETUP\nversion=9.55.7123.1\n")
    assert installer_file.pe_file_version(str(path)) is None
