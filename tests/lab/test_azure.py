"""The lab's Azure side (lab/azure.py) driven by Microsoft's own clients (azure-identity, azure-mgmt-
recoveryservicessiterecovery) over real HTTPS: sign-in, the vault's view of the configuration server's state, the
Switch changing what the configuration server lists, and the faults."""

from __future__ import annotations

import pytest

from lab import azure, journal, seed, wsman
from lab import estate as estate_mod
from lab.asr import protection

identity = pytest.importorskip("azure.identity")
srs = pytest.importorskip("azure.mgmt.recoveryservicessiterecovery")
from azure.core import exceptions as az  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    estate = estate_mod.create(tmp_path_factory.mktemp("azure") / "estate", cs=1, ps=3)
    seed.apply(estate, "vault")
    server = wsman.serve(estate)
    try:
        yield estate, estate_mod.read_meta(estate)
    finally:
        server.shutdown()


def client(estate, meta, secret=None, **kw):
    options = azure.module_options(estate, meta)
    cred = identity.ClientSecretCredential(
        options["tenant"], options["client_id"], secret or options["secret"], authority=options["adfs_authority_url"],
        disable_instance_discovery=True, connection_verify=options["ca_path"],
    )  # fmt: skip
    return srs.SiteRecoveryManagementClient(
        cred, options["subscription_id"], base_url=options["resource_manager_endpoint"],
        connection_verify=options["ca_path"], polling_interval=1, **kw,
    ), options  # fmt: skip


def fabric(c, options):
    return next(iter(c.replication_fabrics.list(options["resource_group"], options["vault"]))).as_dict()


def servers(fab):
    return {p["friendlyName"]: p for p in fab["properties"]["customDetails"]["processServers"]}


def test_the_vault_shows_the_configuration_servers_state(lab):
    estate, meta = lab
    c, options = client(estate, meta)
    fab = fabric(c, options)
    assert fab["properties"]["customDetails"]["instanceType"] == "VMware"
    ps = servers(fab)
    assert {k: v["machineCount"] for k, v in ps.items()} == {"CS01": "2", "PS01": "40", "PS02": "10", "PS03": "0"}
    assert {v["health"] for v in ps.values()} == {"Normal"}
    cs = estate.read_host("cs01")
    assert ps["PS01"]["id"] == estate.read_host("ps01").asr["host_guid"].upper()
    containers = list(c.replication_protection_containers.list_by_replication_fabrics(
        options["resource_group"], options["vault"], fab["name"]))  # fmt: skip
    items = list(c.replication_protected_items.list_by_replication_protection_containers(
        options["resource_group"], options["vault"], fab["name"], containers[0].name))  # fmt: skip
    assert len(items) == len(protection.machines(cs)) == 52  # two pages of the lab's 100... one here, paged below
    details = items[0].as_dict()["properties"]["providerSpecificDetails"]
    assert details["instanceType"] == "InMageAzureV2" and details["processServerId"]


def test_sign_in_and_resource_manager_errors_are_azures(lab):
    estate, meta = lab
    c, options = client(estate, meta, secret="wrong")
    with pytest.raises(az.ClientAuthenticationError, match="AADSTS7000215"):
        fabric(c, options)
    c, options = client(estate, meta)
    with pytest.raises(az.ResourceNotFoundError, match="vaults/nope"):
        list(c.replication_fabrics.list(options["resource_group"], "nope"))
    with pytest.raises(az.ResourceNotFoundError, match="ResourceGroupNotFound"):
        list(c.replication_fabrics.list("other-rg", options["vault"]))


def test_a_switch_moves_the_machines_on_the_configuration_server(lab):
    estate, meta = lab
    c, options = client(estate, meta)
    fab = fabric(c, options)
    ps = servers(fab)
    container = azure.container_name(estate.read_host("cs01"))
    body = {"properties": {"containerName": container, "sourceProcessServerId": ps["PS02"]["id"],
                           "targetProcessServerId": ps["PS03"]["id"], "updateType": "SystemLevel"}}  # fmt: skip
    poller = c.replication_fabrics.begin_reassociate_gateway(
        options["resource_group"], options["vault"], fab["name"], body
    )
    poller.result(timeout=60)
    assert poller.status() == "Succeeded"
    cs = estate.read_host("cs01")
    assert protection.on_process_server(cs, "10.0.0.102") == []
    assert len(protection.on_process_server(cs, "10.0.0.103")) == 10
    assert servers(fabric(c, options))["PS03"]["machineCount"] == "10"
    posts = [e for e in journal.read(estate, azure.NAME) if e["identity"].startswith("POST")]
    assert posts[-1]["rc"] == 202 and posts[-1]["args"]["update_type"] == "SystemLevel"


def test_throttling_is_a_429_with_retry_after_that_the_sdk_waits_out(lab):
    estate, meta = lab
    seen = []
    c, options = client(estate, meta, raw_response_hook=lambda r: seen.append(r.http_response.status_code))
    with azure.open_state(estate) as state:
        state["faults"]["arm_throttle"] = 2
    fabric(c, options)
    assert seen == [429, 429, 200]


def test_a_failing_operation_leaves_a_half_done_switch(lab):
    estate, meta = lab
    c, options = client(estate, meta)
    fab = fabric(c, options)
    ps = servers(fab)
    with azure.open_state(estate) as state:
        state["faults"].update(operation_fails=True, operation_fails_after=3)
    body = {"properties": {"containerName": azure.container_name(estate.read_host("cs01")),
                           "sourceProcessServerId": ps["PS03"]["id"], "targetProcessServerId": ps["PS02"]["id"],
                           "updateType": "SystemLevel"}}  # fmt: skip
    poller = c.replication_fabrics.begin_reassociate_gateway(
        options["resource_group"], options["vault"], fab["name"], body
    )
    with pytest.raises(az.HttpResponseError) as failed:
        poller.result(timeout=60)
    assert "LabSwitchFailed" in failed.value.response.text()
    cs = estate.read_host("cs01")
    assert len(protection.on_process_server(cs, "10.0.0.102")) == 3
    assert len(protection.on_process_server(cs, "10.0.0.103")) == 7


def test_a_token_that_expires_mid_run_is_refused_and_a_new_one_accepted(lab):
    estate, meta = lab
    c, options = client(estate, meta)
    fabric(c, options)
    with azure.open_state(estate) as state:
        state["faults"]["token_expires_at_request"] = 1
    with pytest.raises(az.ClientAuthenticationError, match="ExpiredAuthenticationToken"):
        fabric(c, options)
    with pytest.raises(az.ClientAuthenticationError, match="ExpiredAuthenticationToken"):
        fabric(c, options)  # the cached token stays refused
    fresh, _ = client(estate, meta)
    assert fabric(fresh, options)["name"]


def test_a_large_container_is_paged(tmp_path):
    estate = estate_mod.create(tmp_path / "big", cs=1, ps=1)
    with estate.open_host("cs01") as cs:
        pass
    seed.apply(estate, "vault")  # ps02/ps03 are not served here; only the Azure side is used
    with estate.open_host("cs01") as cs:
        for number in range(230):
            protection.protect(cs, f"EXTRA{number:03d}", cs.ip)
    meta = estate_mod.read_meta(estate)
    server = azure.servers(estate, meta, None)[0]
    import threading

    thread = threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True)
    thread.start()
    try:
        c, options = client(estate, meta)
        fab = fabric(c, options)
        name = azure.container_name(estate.read_host("cs01"))
        items = list(c.replication_protected_items.list_by_replication_protection_containers(
            options["resource_group"], options["vault"], fab["name"], name))  # fmt: skip
        assert len(items) == 282
        pages = [e for e in journal.read(estate, azure.NAME) if "replicationProtectedItems" in e["identity"]]
        assert [e["args"]["page"] for e in pages] == ["0", "100", "200"]
    finally:
        server.shutdown()
        server.server_close()
