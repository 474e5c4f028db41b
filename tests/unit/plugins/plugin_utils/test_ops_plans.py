"""Pure decisions of proxy/register/uninstall: drift cases, registration states, uninstall resume after every
partial state. (unregister's decisions: test_registrations.py.)"""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    decommission_plan,
    proxy_plan,
    registration_plan,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption, PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.proxy_settings import ProxySettings

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "action" / "fixtures"
PROBE = json.loads((FIXTURES / "probe_v1_lab_drifted_proxy.json").read_text(encoding="utf-8"))
WANTED = ProxySettings("http://proxy.corp.example", 3128, "CORP\\svc-asr", "pw")


def asr_with(**changes):
    probe = copy.deepcopy(PROBE)
    for path, value in changes.items():
        node = probe
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return probe, read_probe(probe).asr


def mars(address, port, user=None):
    return {
        "source": "Get-OBMachineSetting",
        "enabled": bool(address),
        "address": address,
        "port": port,
        "username": user,
    }


# ---- proxy ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("current", "wanted", "changed"),
    [
        (mars("http://old-proxy.corp.example", 8080), WANTED, True),  # the seed's drift: address, port, user
        (mars("http://proxy.corp.example", 3128, "CORP\\svc-asr"), WANTED, False),
        (mars("HTTP://PROXY.corp.example/", 3128, "corp\\SVC-ASR"), WANTED, False),  # case, trailing slash
        (mars("http://proxy.corp.example", 3129, "CORP\\svc-asr"), WANTED, True),  # port only
        (mars("http://proxy.corp.example", 3128, None), WANTED, True),  # user only
        (mars(None, None), WANTED, True),  # no proxy yet
        (mars(None, None), None, False),  # absent, already direct
        (mars("http://proxy.corp.example", 3128), None, True),  # absent, proxy to remove
    ],
)
def test_proxy_drift(current, wanted, changed):
    _probe, asr = asr_with(mars__proxy=current)
    plan = proxy_plan.plan_proxy(asr, wanted)
    assert plan.changed is changed and plan.set_mars_proxy is changed
    assert plan.no_proxy is (changed and wanted is None)
    assert plan.register_mt is changed  # the MT agent is installed on the seed's PS [8]
    assert "pw" not in json.dumps(plan.to_dict())


def test_update_password_always_changes_even_when_matching():
    _probe, asr = asr_with(mars__proxy=mars("http://proxy.corp.example", 3128, "CORP\\svc-asr"))
    plan = proxy_plan.plan_proxy(asr, WANTED, update_password="always")
    assert plan.changed and plan.set_mars_proxy and "cannot be read back" in plan.reasons[-1]


def test_matching_proxy_with_a_stopped_obengine_is_applied_again():
    probe = copy.deepcopy(PROBE)
    probe["mars"]["proxy"] = mars("http://proxy.corp.example", 3128, "CORP\\svc-asr")
    for svc in probe["services"]:
        if svc["name"] == "obengine":
            svc["state"] = "stopped"
    plan = proxy_plan.plan_proxy(read_probe(probe).asr, WANTED)
    assert plan.changed and plan.set_mars_proxy and plan.register_mt and "obengine is stopped" in plan.reasons[0]


def test_no_mars_or_unreadable_mars_is_a_planning_error():
    _probe, asr = asr_with(mars__proxy={"source": "unknown"}, mars__error="boom")
    with pytest.raises(PlanningError, match="boom"):
        proxy_plan.plan_proxy(asr, WANTED)
    probe = copy.deepcopy(PROBE)
    probe["uninstall_entries"] = [e for e in probe["uninstall_entries"] if "Recovery Services" not in e["display_name"]]
    with pytest.raises(PlanningError, match="not installed"):
        proxy_plan.plan_proxy(read_probe(probe).asr, WANTED)


def test_settings_file_never_holds_a_password_and_is_compared_by_hash_and_acl():
    with pytest.raises(InvalidOption, match="settings_file"):
        proxy_plan.desired_settings(
            {
                "proxy_address": "http://p",
                "proxy_port": 1,
                "proxy_username": "u",
                "proxy_password": "x",
                "settings_file": r"C:\x.conf",
            }
        )
    anonymous = ProxySettings("http://proxy.corp.example", 3128)
    good = {
        "exists": True,
        "sha256": proxy_plan.settings_file_sha256(anonymous),
        "access_sids": ["S-1-5-18", "S-1-5-32-544"],
        "inheritance_protected": True,
    }
    assert proxy_plan.settings_file_differences(good, anonymous) == []
    assert proxy_plan.settings_file_differences({**good, "sha256": "0"}, anonymous)
    assert proxy_plan.settings_file_differences(
        {**good, "access_sids": [*good["access_sids"], "S-1-5-32-545"]}, anonymous
    )
    assert proxy_plan.settings_file_differences({"exists": False}, anonymous)
    _probe, asr = asr_with(mars__proxy=mars("http://proxy.corp.example", 3128), checks__proxy_settings_file=good)
    assert not proxy_plan.plan_proxy(asr, anonymous, settings_file=r"C:\x.conf").changed
    _probe, asr = asr_with(mars__proxy=mars("http://proxy.corp.example", 3128))
    plan = proxy_plan.plan_proxy(asr, anonymous, settings_file=r"C:\x.conf")
    assert plan.write_settings_file and not plan.set_mars_proxy and not plan.register_mt


@pytest.mark.parametrize(
    "args",
    [
        {"proxy_address": "proxy.corp", "proxy_port": 80},
        {"proxy_address": "http://p", "proxy_port": 0},
        {"proxy_address": "http://p", "proxy_port": 80, "proxy_username": "u"},
        {"state": "absent", "proxy_port": 80},
        {"proxy_address": "http://p", "proxy_port": 80, "settings_file": "relative.conf"},
    ],
)
def test_desired_settings_refuses(args):
    with pytest.raises(InvalidOption):
        proxy_plan.desired_settings(args)


# ---- register ---------------------------------------------------------------------------------------------
def test_registered_reachable_running_is_converged():
    _probe, asr = asr_with()
    plan = registration_plan.plan_registration(asr, configuration_server_ip="10.0.0.11")
    assert not plan.register and plan.configuration_server_reachable is True


def test_force_unreachable_and_stopped_obengine_register():
    _probe, asr = asr_with()
    assert registration_plan.plan_registration(asr, force=True).reasons == ["force=true"]
    _probe, asr = asr_with(checks__registered_configuration_server={"reachable": False, "error": "timed out"})
    assert registration_plan.plan_registration(asr).register
    probe = copy.deepcopy(PROBE)
    for svc in probe["services"]:
        if svc["name"] == "obengine":
            svc["state"] = "stopped"
    assert registration_plan.plan_registration(read_probe(probe).asr).register


def test_stopped_tmansvc_warns_but_does_not_loop():
    probe = copy.deepcopy(PROBE)
    for svc in probe["services"]:
        if svc["name"] == "tmansvc":
            svc["state"] = "stopped"
    plan = registration_plan.plan_registration(read_probe(probe).asr)
    assert not plan.register and "tmansvc" in plan.warnings[0]


def test_register_refusals():
    _probe, asr = asr_with()
    with pytest.raises(PlanningError, match="cspsconfigtool"):
        registration_plan.plan_registration(asr, configuration_server_ip="10.0.0.99")
    assert registration_plan.foreign_configuration_server(asr, "10.0.0.99") == "10.0.0.11"
    assert registration_plan.foreign_configuration_server(asr, "10.0.0.11") is None
    assert registration_plan.foreign_configuration_server(asr, None) is None  # no wanted server: nothing to compare
    with pytest.raises(PlanningError, match=r"registered to configuration server 10\.0\.0\.11 .* not to 10\.0\.0\.99"):
        registration_plan.check_configuration_server(asr, "10.0.0.99")
    probe = copy.deepcopy(PROBE)
    probe["uninstall_entries"] = [e for e in probe["uninstall_entries"] if "Master Target" not in e["display_name"]]
    with pytest.raises(PlanningError, match="Master Target"):
        registration_plan.plan_registration(read_probe(probe).asr)
    probe = copy.deepcopy(PROBE)
    probe["installed_products"]["csps"] = None
    probe["amethyst_conf"]["ps_cs_ip"] = None
    with pytest.raises(PlanningError, match="nothing to re-register"):
        registration_plan.plan_registration(read_probe(probe).asr)


# ---- uninstall --------------------------------------------------------------------------------------------
ORDER = [
    "configuration_process_server",
    "configuration_process_server_dependencies",
    "mobility_service_master_target",
    "recovery_services_agent",
]


def without(probe, keys):
    from ansible_collections.asr.process_server.plugins.plugin_utils.domain.uninstall_plan import identify

    probe = copy.deepcopy(probe)
    probe["uninstall_entries"] = [e for e in probe["uninstall_entries"] if identify(e["display_name"]).key not in keys]
    if "configuration_process_server" in keys:
        probe["installed_products"]["csps"] = None
    return probe


def test_refuses_registered_connected_without_workload_moved():
    probe, asr = asr_with()
    with pytest.raises(PlanningError, match="Switch"):
        decommission_plan.plan_decommission(probe, asr)
    plan = decommission_plan.plan_decommission(probe, asr, workload_moved=True)
    assert [s.product for s in plan.steps] == ORDER


def test_untested_connection_counts_as_connected_and_unreachable_warns():
    probe, asr = asr_with(checks__registered_configuration_server=None)
    with pytest.raises(PlanningError, match="not tested"):
        decommission_plan.plan_decommission(probe, asr)
    probe, asr = asr_with(checks__registered_configuration_server={"reachable": False, "error": "timed out"})
    plan = decommission_plan.plan_decommission(probe, asr)
    assert "asr.process_server.unregister" in plan.warnings[0]


@pytest.mark.parametrize("done", range(len(ORDER) + 1))
def test_resume_after_each_partial_state(done):
    probe = without(PROBE, ORDER[:done])
    asr = read_probe(probe).asr
    plan = decommission_plan.plan_decommission(probe, asr, workload_moved=True)
    assert [s.product for s in plan.steps] == ORDER[done:]


def test_keep_mars_agent_and_out_of_order_leftovers():
    probe = without(PROBE, ["configuration_process_server_dependencies"])  # a hand-removed middle product
    plan = decommission_plan.plan_decommission(probe, read_probe(probe).asr, workload_moved=True, keep_mars_agent=True)
    assert [s.product for s in plan.steps] == [ORDER[0], ORDER[2]]


def test_step_outcome_and_logs():
    probe, asr = asr_with()
    steps = {s.product: s for s in decommission_plan.plan_decommission(probe, asr, workload_moved=True).steps}
    mt, csps = steps["mobility_service_master_target"], steps["configuration_process_server"]
    assert decommission_plan.step_log(mt).endswith("UnifiedAgentMSIUninstall.log")
    assert decommission_plan.step_log(csps).endswith("CX_InstallLogFile.log")
    assert decommission_plan.step_outcome(mt, 0, False)["ok"]
    assert decommission_plan.step_outcome(mt, 3010, False)["reboot_required"]
    assert decommission_plan.step_outcome(mt, 1605, False)["ok"]  # already gone
    assert not decommission_plan.step_outcome(mt, 1603, True)["ok"]
    assert not decommission_plan.step_outcome(mt, 0, True)["ok"]  # success claimed, still listed
    assert not decommission_plan.step_outcome(csps, 1, True)["ok"]


def test_configuration_server_is_refused():
    probe = copy.deepcopy(PROBE)
    probe["installed_products"]["csps"]["cx_type"] = "3"
    with pytest.raises(PlanningError, match="configuration server"):
        decommission_plan.plan_decommission(probe, read_probe(probe).asr, workload_moved=True)
