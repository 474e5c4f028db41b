"""The one reading of a host (issue 11 item 1): ``ProbeRequest`` says what a probe checks, ``read_probe`` reads its
result ONCE into a frozen ``ProbedHost`` every plan reads, and an operation's effect is a new ``ProbedHost`` from an
``after_*`` method (never a hand-made dict), from which the next operation plans as it would from a real probe."""

from __future__ import annotations

import copy
import dataclasses
import json
import pathlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    install_plan,
    probe,
    proxy_plan,
    registration_plan,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import (
    ProbedHost,
    ProbeRequest,
    read_probe,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.proxy_settings import ProxySettings
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "action" / "fixtures"
DRIFTED = json.loads((FIXTURES / "probe_v1_lab_drifted_proxy.json").read_text(encoding="utf-8"))
FRESH = json.loads((FIXTURES / "probe_v1_lab_mixed_fresh.json").read_text(encoding="utf-8"))
WANTED = ProxySettings("http://proxy.corp.example", 3128, "CORP\\svc-asr", "pw")
CS_IP = "10.0.0.11"


def test_a_probed_host_is_frozen_and_its_typed_facts_agree_with_infos_asr():
    host = read_probe(DRIFTED)
    with pytest.raises(dataclasses.FrozenInstanceError):
        host.pending_reboot = False  # type: ignore[misc]
    assert host.asr == probe.facts(DRIFTED)  # info's return value, unchanged
    assert host.version == parse_version(host.asr["build_version"])
    assert host.registered_cs_ip == host.asr["registration"]["configuration_server_ip"]
    assert host.complete and host.components["recovery_services_agent"] == "9.55.7123.1"
    assert host.raw is DRIFTED


def test_the_single_purpose_diff_view_is_the_typed_one():
    host = read_probe(DRIFTED)
    assert host.summary() == {
        "components": {key: "9.55.7123.1" for key in install_plan.PS_COMPONENTS},
        "configuration_server_ip": CS_IP,
        "data_port": host.asr["data_port"],
    }


_VALUES = {
    "configuration_server_ip": st.sampled_from([None, "", "10.0.0.11"]),
    "installer_path": st.sampled_from([None, "", "D:\\Media\\setup.exe"]),
    "installer_checksum": st.booleans(),
    "check_registered_configuration_server": st.booleans(),
    "proxy_settings_file": st.sampled_from([None, "C:\\ProgramData\\proxy.ini"]),
    "connect_timeout": st.integers(1, 60),
}
requests = st.fixed_dictionaries({}, optional=_VALUES).map(lambda kw: ProbeRequest(**kw))


@given(st.lists(requests, min_size=1, max_size=4))
def test_one_probe_for_several_operations_checks_what_any_of_them_wants(each):
    united = each[0].union(*each[1:])
    for field in dataclasses.fields(ProbeRequest):
        values = [getattr(r, field.name) for r in each]
        if isinstance(values[0], bool):
            assert getattr(united, field.name) is any(values), field.name
        else:
            given_values = [v for v in values if v not in (None, "")]
            expected = given_values[-1] if given_values else values[0]
            assert getattr(united, field.name) == expected, field.name
    assert united.script_parameters()["ConnectTimeoutMs"] == united.connect_timeout * 1000


def test_after_a_proxy_change_the_proxy_plan_has_nothing_left_to_do():
    host = read_probe(DRIFTED)
    before = proxy_plan.plan_proxy(host.asr, WANTED)
    assert before.changed and before.register_mt
    after = host.after_mars_proxy(proxy_plan.shown(WANTED), registered_mt=True)
    assert isinstance(after, ProbedHost) and after.raw is host.raw
    assert not proxy_plan.plan_proxy(after.asr, WANTED).changed
    assert after.asr["checks"]["registered_configuration_server"]["reachable"] is True
    assert host.asr["proxy"]["mars"] != after.asr["proxy"]["mars"]  # the probe itself is not changed


def test_after_a_re_registration_a_forced_one_is_the_only_one_left():
    unreachable = copy.deepcopy(DRIFTED)
    unreachable["checks"]["registered_configuration_server"] = {"address": CS_IP, "reachable": False, "error": "x"}
    host = read_probe(unreachable)
    assert registration_plan.plan_registration(host.asr, configuration_server_ip=CS_IP).register
    after = host.after_registration()
    assert not registration_plan.plan_registration(after.asr, configuration_server_ip=CS_IP).register
    assert not read_probe(unreachable).asr["checks"]["registered_configuration_server"]["reachable"]


def test_after_install_the_host_is_registered_with_the_proxy_setup_set():
    host = read_probe(FRESH)
    assert not host.complete and host.version is None
    after = host.after_setup("9.55.7123.1", registered_to=CS_IP, mars_proxy=proxy_plan.shown(WANTED))
    assert after.complete and after.version == parse_version("9.55.7123.1")
    assert after.registered_cs_ip == CS_IP and after.asr["role"] == "process_server" and after.cx_type == 2
    assert not registration_plan.plan_registration(after.asr, configuration_server_ip=CS_IP).register
    assert not proxy_plan.plan_proxy(after.asr, WANTED).changed
    assert all(s["state"] == "running" for s in after.asr["services"] if s["name"] == "obengine")


def test_after_an_upgrade_only_the_versions_change():
    host = read_probe(DRIFTED)
    after = host.after_setup("9.56.7300.2")
    assert after.version == parse_version("9.56.7300.2")
    assert {after.components[key] for key in install_plan.PS_COMPONENTS} == {"9.56.7300.2"}
    assert after.asr["registration"] == host.asr["registration"] and after.asr["proxy"] == host.asr["proxy"]


def test_after_uninstall_the_removed_products_are_gone():
    host = read_probe(DRIFTED)
    after = host.after_uninstall({"configuration_process_server", "mobility_service_master_target"})
    assert after.components["configuration_process_server"] is None and after.asr["installed"] is False
    assert after.components["recovery_services_agent"] == "9.55.7123.1" and not after.complete
