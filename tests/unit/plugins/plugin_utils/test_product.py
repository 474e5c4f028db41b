from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.product import (
    CDPCLI_EXE,
    CONFIGURATION_SERVER_EXTRA_SERVICES,
    CSPS_REGISTRY_KEY,
    DEPENDENCIES_REGISTRY_KEY,
    PROCESS_SERVER_SERVICES,
    SETUP_CHECKED_PS_SERVICES,
    agent_dir,
    cx_type_name,
    is_scale_out_process_server,
    svsystems_dir,
)


@pytest.mark.parametrize(
    ("value", "name"),
    [
        (1, "configuration server only"),
        ("2", "process server only"),
        (3, "configuration server and process server"),
        (7, "unknown (CX_TYPE=7)"),
        ("x", "unknown (CX_TYPE='x')"),
    ],
)
def test_cx_type_name(value, name):
    assert cx_type_name(value) == name


@pytest.mark.parametrize(("value", "expected"), [(2, True), ("2", True), (3, False), ("", False)])
def test_is_scale_out_process_server(value, expected):
    assert is_scale_out_process_server(value) is expected


def test_registry_keys_are_the_32_bit_view():
    assert CSPS_REGISTRY_KEY.endswith(r"\Wow6432Node\InMage Systems\Installed Products\9")
    assert DEPENDENCIES_REGISTRY_KEY.endswith(r"\Installed Products\10")


def test_setup_checked_services_are_process_server_services_and_cs_extras_are_disjoint():
    assert set(SETUP_CHECKED_PS_SERVICES) < set(PROCESS_SERVER_SERVICES)
    assert not set(CONFIGURATION_SERVER_EXTRA_SERVICES) & set(PROCESS_SERVER_SERVICES)


def test_paths():
    assert CDPCLI_EXE.lower() == r"c:\programdata\asr\agent\cdpcli.exe"
    assert svsystems_dir("D:\\") == r"D:\home\svsystems"
    assert agent_dir(r"E:\ASR") == r"E:\ASR\agent"
