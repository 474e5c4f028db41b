"""The vault's view of a configuration server (plugin_utils/domain/vault.py) and the Switch plan made from it
(plugin_utils/domain/switch_plan.py): parsing what Resource Manager returns, health [7.5], and every refusal of a
move."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import switch_plan, vault
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption, PlanningError

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.UTC)
FABRIC_ID = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/"


def stamp(age_s: int) -> str:
    return (NOW - datetime.timedelta(seconds=age_s)).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")  # .NET's 7 digits


def ps(ps_id, name, ip, count, health="Normal", age=60):
    return {"id": ps_id, "friendlyName": name, "ipAddress": ip, "machineCount": str(count), "health": health,
            "lastHeartbeat": stamp(age), "psServiceStatus": "Running", "healthErrors": []}  # fmt: skip


def fabric_json(name="f1", friendly="CS01", servers=None, instance="VMware"):
    servers = servers if servers is not None else [
        ps("PS-CS", "CS01", "10.0.0.11", 0),
        ps("PS-1", "PS01", "10.0.0.101", 3),
        ps("PS-2", "PS02", "10.0.0.102", 1),
    ]  # fmt: skip
    return {"name": name, "id": FABRIC_ID + name,
            "properties": {"friendlyName": friendly,
                           "customDetails": {"instanceType": instance, "ipAddress": "10.0.0.11",
                                             "processServers": servers}}}  # fmt: skip


def item(name, ps_id, ps_name="", provider="InMageAzureV2"):
    details = {"instanceType": provider, "processServerId": ps_id, "processServerName": ps_name, "ipAddress": "1.2.3.4"}
    props = {
        "friendlyName": name,
        "protectableItemId": f"a/replicationProtectableItems/pi-{name}",
        "replicationHealth": "Normal",
        "protectionState": "Protected",
        "providerSpecificDetails": details,
    }
    return {"name": f"item-{name}", "id": f"x/item-{name}", "properties": props}


def view(machines=None, **kw) -> vault.FabricView:
    fabric = vault.parse_fabric(fabric_json(**kw), NOW)
    machines = machines if machines is not None else [
        item("vm1", "PS-1"), item("vm2", "PS-1"), item("vm3", "PS-1"), item("vm4", "PS-2")
    ]  # fmt: skip
    return vault.with_machines(fabric, ["cloud_1"], {"cloud_1": machines})


# ---- parsing -----------------------------------------------------------------------------------------------
def test_fabric_parsed_as_resource_manager_returns_it():
    fabric = view()
    assert fabric.is_configuration_server and fabric.friendly_name == "CS01"
    ps1 = fabric.process_servers[1]
    assert (ps1.id, ps1.name, ps1.ip_address, ps1.machine_count, ps1.health) == (
        "PS-1",
        "PS01",
        "10.0.0.101",
        3,
        "Normal",
    )
    assert ps1.heartbeat_age_s == 60  # a 7-digit fraction (.NET) parses
    assert [m.name for m in fabric.machines_on(ps1)] == ["vm1", "vm2", "vm3"]
    assert fabric.machines[0].protectable_item == "pi-vm1"
    data = fabric.to_dict()
    assert data["process_servers"][1]["protected_machines"] == 3
    assert data["protected_machines"][3]["process_server_id"] == "PS-2"


def test_other_providers_have_no_process_server_and_are_left_out():
    fabric = view([item("vm1", "PS-1"), item("hv1", "", provider="HyperVReplicaAzure")])
    assert [m.name for m in fabric.machines] == ["vm1"]


def test_machine_count_that_is_not_a_number_is_unknown():
    fabric = vault.parse_fabric(fabric_json(servers=[{**ps("A", "A", "1.1.1.1", 0), "machineCount": "n/a"}]), NOW)
    assert fabric.process_servers[0].machine_count is None
    assert fabric.load(fabric.process_servers[0]) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T11:59:00Z", 60),
        ("2026-11-26T11:59:00.1234567Z", 59),
        ("2026-11-26T12:59:00+01:00", 60),
        ("2026-11-26T11:59:00", 60),
        ("not a time", None),
        ("", None),
    ],
)
def test_heartbeat_times(text, expected):
    when = vault.parse_time(text)
    assert (None if when is None else int((NOW - when).total_seconds())) == expected


# ---- health [7.5] --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("health", "age", "level"),
    [
        ("Normal", 60, "Normal"),
        ("Warning", 60, "Warning"),
        ("Critical", 60, "Critical"),
        ("Normal", 16 * 60, "Critical"),  # no heartbeat for 15 minutes
        ("Normal", 15 * 60, "Normal"),
        ("None", 60, "Unknown"),
    ],
)
def test_health_is_the_vaults_made_critical_by_a_silent_heartbeat(health, age, level):
    server = vault.parse_fabric(fabric_json(servers=[ps("A", "A", "1.1.1.1", 0, health, age)]), NOW)
    assert vault.health(server.process_servers[0]).level == level


# ---- the plan ----------------------------------------------------------------------------------------------
def test_switch_everything_is_one_system_level_request():
    plan = switch_plan.plan_switch(view(), "PS01", "10.0.0.102")
    assert plan.to_move == ("vm1", "vm2", "vm3") and plan.update_type == switch_plan.SYSTEM_LEVEL
    assert plan.request() == {"properties": {"containerName": "cloud_1", "sourceProcessServerId": "PS-1",
                                             "targetProcessServerId": "PS-2", "updateType": "SystemLevel"}}  # fmt: skip
    assert (plan.source_before, plan.target_before, plan.target_after) == (3, 1, 4)


def test_load_balance_names_the_protectable_items():
    plan = switch_plan.plan_switch(view(), "ps01", "PS-2", ["VM2", "vm3"])
    assert plan.update_type == switch_plan.SERVER_LEVEL
    assert plan.request()["properties"]["vmsToMigrate"] == ["pi-vm2", "pi-vm3"]


def test_machines_already_on_the_target_are_not_moved_again():
    moved = view([item("vm1", "PS-2"), item("vm2", "PS-2"), item("vm3", "PS-1")])
    plan = switch_plan.plan_switch(moved, "PS01", "PS02", ["vm1", "vm2", "vm3"])
    assert plan.to_move == ("vm3",) and plan.already_on_target == ("vm1", "vm2")
    done = switch_plan.plan_switch(view([item("vm1", "PS-2")]), "PS01", "PS02", ["vm1"])
    assert not done.changed and done.already_on_target == ("vm1",)


def test_a_partly_switched_source_is_finished_by_name_not_moved_twice():
    # a failed Switch left vm1 on the target: "all" now means what is still on the source
    half = view([item("vm1", "PS-2"), item("vm2", "PS-1"), item("vm3", "PS-1")])
    plan = switch_plan.plan_switch(half, "PS01", "PS02")
    assert plan.to_move == ("vm2", "vm3") and plan.update_type == switch_plan.SYSTEM_LEVEL
    empty = switch_plan.plan_switch(view([item("vm1", "PS-2")]), "PS01", "PS02")
    assert not empty.changed


@pytest.mark.parametrize(
    ("source", "target", "machines", "error", "words"),
    [
        ("PS01", "ps01", None, InvalidOption, "Source and target are the same"),
        ("PS01", "10.0.0.101", None, InvalidOption, "other than the source"),
        ("", "PS02", None, InvalidOption, "It is empty"),
        ("PS01", "PS02", [], InvalidOption, "non-empty list"),
        ("PS01", "PS09", None, PlanningError, "has no process server 'PS09'"),
        ("PS01", "PS02", ["vm1", "vm5"], PlanningError, "'vm5' replicates through PS-CS, not through the source"),
        ("PS01", "PS02", ["nope"], PlanningError, "not a protected machine"),
    ],
)
def test_refusals(source, target, machines, error, words):
    with pytest.raises(error, match=words):
        machines_ = [item("vm1", "PS-1"), item("vm4", "PS-2"), item("vm5", "PS-CS")]
        switch_plan.plan_switch(view(machines_), source, target, machines)


def test_a_target_of_another_configuration_server_is_refused():
    other = vault.parse_fabric(fabric_json("f2", "CS02", [ps("PS-9", "PS09", "10.0.0.109", 0)]), NOW)
    with pytest.raises(PlanningError, match="belongs to configuration server CS02"):
        switch_plan.plan_switch(view(), "PS01", "PS09", others=[other])


@pytest.mark.parametrize(
    ("health", "age", "accept", "ok"),
    [
        ("Critical", 60, "any", False),
        ("Normal", 3600, "any", False),
        ("Warning", 60, "Normal", False),
        ("Warning", 60, "Warning", True),
        ("None", 60, "Normal", False),
        ("None", 60, "any", True),
    ],
)
def test_an_unhealthy_target_is_refused(health, age, accept, ok):
    servers = [ps("PS-1", "PS01", "10.0.0.101", 1), ps("PS-2", "PS02", "10.0.0.102", 0, health, age)]
    fabric = vault.with_machines(
        vault.parse_fabric(fabric_json(servers=servers), NOW), ["c"], {"c": [item("a", "PS-1")]}
    )
    if ok:
        assert switch_plan.plan_switch(fabric, "PS01", "PS02", accept_health=accept).changed
    else:
        with pytest.raises(PlanningError, match=r"\[7\.5\]"):
            switch_plan.plan_switch(fabric, "PS01", "PS02", accept_health=accept)


def test_an_unhealthy_target_is_not_refused_when_nothing_moves():
    servers = [ps("PS-1", "PS01", "10.0.0.101", 0), ps("PS-2", "PS02", "10.0.0.102", 1, "Critical")]
    fabric = vault.with_machines(
        vault.parse_fabric(fabric_json(servers=servers), NOW), ["c"], {"c": [item("a", "PS-2")]}
    )
    assert not switch_plan.plan_switch(fabric, "PS01", "PS02", ["a"]).changed


def test_the_target_must_stay_within_its_tier():
    machines = [item(f"s{i}", "PS-1") for i in range(10)] + [item(f"t{i}", "PS-2") for i in range(80)]
    with pytest.raises(PlanningError, match=r"over its limit of 85 \[7\.1\]"):
        switch_plan.plan_switch(view(machines), "PS01", "PS02", tier="small")
    assert switch_plan.plan_switch(view(machines), "PS01", "PS02", tier="medium").target_after == 90
    with pytest.raises(PlanningError, match="limit of 89"):
        switch_plan.plan_switch(view(machines), "PS01", "PS02", max_machines=89)
    assert switch_plan.target_limit(None, None) == 225


@settings(max_examples=60, deadline=None)
@given(
    placement=st.lists(st.sampled_from(["PS-1", "PS-2", "PS-CS"]), min_size=1, max_size=30),
    pick=st.lists(st.integers(min_value=0, max_value=29), max_size=10),
)
def test_plan_moves_exactly_the_named_machines_still_on_the_source(placement, pick):
    machines = [item(f"vm{i}", where) for i, where in enumerate(placement)]
    names = sorted({f"vm{i}" for i in pick if i < len(placement) and placement[i] != "PS-CS"}) or None
    plan = switch_plan.plan_switch(view(machines), "PS01", "PS02", names)
    expected = [f"vm{i}" for i, w in enumerate(placement) if w == "PS-1" and (names is None or f"vm{i}" in names)]
    assert sorted(plan.to_move) == sorted(expected)
    assert plan.target_after == placement.count("PS-2") + len(expected)
    # applying the plan and planning again moves nothing (idempotence)
    after = [item(m["properties"]["friendlyName"], "PS-2" if m["properties"]["friendlyName"] in plan.to_move
                  else m["properties"]["providerSpecificDetails"]["processServerId"]) for m in machines]  # fmt: skip
    assert not switch_plan.plan_switch(view(after), "PS01", "PS02", names).changed


def test_batches_group_by_source_and_target():
    moves = [{"machine": f"m{i}", "from_server": "ps01" if i < 5 else "ps02", "to_server": "ps03"} for i in range(7)]
    assert [{k: b[k] for k in ("source", "target", "machines")} for b in switch_plan.batches(moves, 2)] == [
        {"source": "ps01", "target": "ps03", "machines": ["m0", "m1"]},
        {"source": "ps01", "target": "ps03", "machines": ["m2", "m3"]},
        {"source": "ps01", "target": "ps03", "machines": ["m4"]},
        {"source": "ps02", "target": "ps03", "machines": ["m5", "m6"]},
    ]
    with pytest.raises(InvalidOption, match="batch_size"):
        switch_plan.batches(moves, 0)
    with pytest.raises(InvalidOption, match=r"moves\[0\]\.machine"):
        switch_plan.batches([{"machine": "", "from_server": "a", "to_server": "b"}], 1)


def test_batches_use_the_names_the_vault_knows():
    moves = [{"machine": "m1", "from_server": "ps01", "to_server": "ps02"}]
    (batch,) = switch_plan.batches(moves, 5, {"ps01": "10.0.0.101", "ps02": ""})
    assert (batch["source"], batch["target"], batch["source_host"]) == ("10.0.0.101", "ps02", "ps01")


def _vault_result(target_health="Normal", age=60, where="PS-2"):
    fabric = view([item("vm1", where), item("vm2", "PS-1")])
    data = fabric.to_dict()
    for server, shown in zip(fabric.process_servers, data["process_servers"], strict=True):
        level = vault.health(server).level if server.id != "PS-2" else target_health
        shown["health_verdict"] = {"level": level, "reasons": ["x"]}
    return {"configuration_servers": [data]}


def test_the_health_gate_after_a_switch():
    switch = {"plan": {"target": "PS02", "target_id": "PS-2", "source": "PS01", "source_id": "PS-1"}, "moved": ["vm1"]}
    assert switch_plan.gate(_vault_result(), switch) == {"healthy": True, "problems": []}
    sick = switch_plan.gate(_vault_result("Critical"), switch)
    assert not sick["healthy"] and "target PS02 is critical" in sick["problems"][0]
    stray = switch_plan.gate(_vault_result(where="PS-1"), switch)
    assert "not on PS02" in stray["problems"][0]
    failed = switch_plan.gate(_vault_result(), {"failed": True, "msg": "boom"})
    assert failed == {"healthy": False, "problems": ["the Switch failed: boom"]}
    gone = switch_plan.gate(_vault_result(), {**switch, "plan": {**switch["plan"], "target_id": "PS-X"}})
    assert "no longer lists the target" in gone["problems"][0]


def test_the_vault_as_the_plans_source_machines():
    result = {
        "configuration_servers": [view([item("vm1", "PS-1"), item("vm2", "PS-2"), item("vm3", "PS-CS")]).to_dict()]
    }
    inventory = [{"name": "VM2", "daily_churn_gb": 40}, {"name": "new1", "daily_churn_gb": 7}]
    load = vault.plan_machines(result, {"ps01": "10.0.0.101", "ps02": ""}, inventory, 5)
    assert load["machines"] == [
        {"name": "vm1", "daily_churn_gb": 5, "current_process_server": "ps01"},
        {"name": "vm2", "daily_churn_gb": 40, "current_process_server": "ps02"},
        {"name": "new1", "daily_churn_gb": 7},
    ]
    assert (load["from_vault"], load["churn_from_inventory"], load["new_from_inventory"]) == (2, 1, 1)
    assert load["not_planned"] == ["vm3"]  # on the configuration server's in-built process server


# ---- rebalance.yml's check of every batch before the first Switch -------------------------------------------------
def test_the_vault_result_reads_back_as_the_view_it_came_from():
    fabric = view([item("vm1", "PS-1"), item("vm4", "PS-2")])
    assert vault.fabric_from_dict(fabric.to_dict()) == fabric


@settings(max_examples=40, deadline=None)
@given(placement=st.lists(st.sampled_from(["PS-1", "PS-2", "PS-CS"]), min_size=1, max_size=20))
def test_the_view_round_trips_for_any_placement(placement):
    fabric = view([item(f"vm{i}", where) for i, where in enumerate(placement)])
    again = vault.fabric_from_dict(fabric.to_dict())
    assert again == fabric and again.to_dict() == fabric.to_dict()


def _batch(source, target, machines):
    return {"source": source, "target": target, "source_host": source.lower(), "target_host": target.lower(),
            "machines": machines}  # fmt: skip


def test_every_batch_is_checked_before_the_first_switch():
    result = {"configuration_servers": [view().to_dict()]}  # vm1-vm3 on PS01, vm4 on PS02
    good = [_batch("PS01", "PS02", ["vm1", "vm2"]), _batch("PS01", "PS02", ["vm3"])]
    assert switch_plan.check_batches(result, good) == {"ok": True, "problems": [], "moving": 3, "already_on_target": 0}
    # the same plan once carried out: every machine already on its target
    done = {"configuration_servers": [view([item(f"vm{i}", "PS-2") for i in range(1, 5)]).to_dict()]}
    assert switch_plan.check_batches(done, good)["already_on_target"] == 3
    # a later batch that would be refused half-way through the run is found now; the first batch is fine
    bad = [_batch("PS01", "PS02", ["vm1"]), _batch("PS02", "CS01", ["vm2"]), _batch("PS01", "PS09", ["vm3"])]
    check = switch_plan.check_batches(result, bad)
    assert not check["ok"] and len(check["problems"]) == 2
    assert check["problems"][0].startswith("batch 2 (ps02 -> cs01): machines: 'vm2' replicates through PS-1")
    assert check["problems"][1].startswith("batch 3 (ps01 -> ps09): target: configuration server CS01 has no")


def test_a_batch_is_checked_after_the_earlier_batches_moved():
    # vm1 goes to PS02 in batch 1, and back in batch 2: fine once batch 1 is applied to the view
    result = {"configuration_servers": [view().to_dict()]}
    there_and_back = [_batch("PS01", "PS02", ["vm1"]), _batch("PS02", "PS01", ["vm1"])]
    assert switch_plan.check_batches(result, there_and_back)["ok"]
    # 224 already on PS02: the first batch fills it to 225, the second would go over the largest tier
    full = [item(f"t{i}", "PS-2") for i in range(224)] + [item("a", "PS-1"), item("b", "PS-1")]
    over = switch_plan.check_batches({"configuration_servers": [view(full).to_dict()]},
                                     [_batch("PS01", "PS02", ["a"]), _batch("PS01", "PS02", ["b"])])  # fmt: skip
    assert over["problems"] == [over["problems"][0]] and "batch 2" in over["problems"][0]
    assert "over its limit of 225" in over["problems"][0]


def test_the_configuration_server_must_be_known_before_the_batches():
    result = {"configuration_servers": [view().to_dict(), view(name="f2", friendly="CS02").to_dict()]}
    batches = [_batch("PS01", "PS02", ["vm1"])]
    assert (
        "the vault has 2 configuration servers (CS01, CS02)"
        in switch_plan.check_batches(result, batches)["problems"][0]
    )
    assert switch_plan.check_batches(result, batches, "CS02")["ok"]
    assert "no configuration server 'CS09'" in switch_plan.check_batches(result, batches, "CS09")["problems"][0]


@pytest.mark.parametrize(
    ("move", "names", "words"),
    [
        ({"machine": "m1", "from_server": "ps01", "to_server": "PS01"}, {}, r"plan\[0\]\.to_server: 'PS01'"),
        ({"machine": "m1", "from_server": "ps01", "to_server": "10.0.0.101"}, {"ps01": "10.0.0.101"}, "same process"),
        ({"machine": "m1", "from_server": "ps01", "to_server": " "}, {}, r"plan\[0\]\.to_server: ' '.*It is empty"),
        ("ps01", {}, r"plan\[0\]: 'ps01' is not allowed; allowed: a mapping"),
    ],
)
def test_a_move_to_the_same_process_server_is_refused_when_cut(move, names, words):
    with pytest.raises(InvalidOption, match=words):
        switch_plan.batches([move], 5, names, option="plan")
