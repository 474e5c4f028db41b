from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.sizing import (
    CONFIGURATION_SERVER_TIERS,
    SCALE_OUT_PS_TIERS,
    HostFacts,
    PlannedLoad,
    assess_host,
    get_tier,
    planned_load_from,
    qualifying_tier,
    required_tier,
    sizing_verdict,
)

# Golden: the seed's table (fr, 2017), transcribed:
# vCPU (sockets x cores), memory GB, cache GB, max GB/day, max machines.
SEED_PS_ROWS = [
    (4, 2, 2, 8, 300, 250, 85),
    (8, 2, 4, 12, 600, 1024, 150),  # "600 Go", "250 Go à 1 To", "entre 85 et 150"
    (12, 2, 6, 24, 1024, 2048, 225),  # "1 To", "1 To à 2 To", "entre 150 et 225"
]
# [7.2] CS with in-built PS: "< 100" machines in the first row.
CS_ROWS = [(8, 16, 300, 500, 99), (12, 18, 600, 1024, 150), (16, 32, 1024, 2048, 200)]


@pytest.mark.parametrize(("tier", "row"), list(zip(SCALE_OUT_PS_TIERS, SEED_PS_ROWS, strict=True)))
def test_scale_out_tiers_match_the_seed_table(tier, row):
    assert (
        tier.vcpus,
        tier.sockets,
        tier.cores_per_socket,
        tier.memory_gb,
        tier.cache_disk_gb,
        tier.max_daily_churn_gb,
        tier.max_protected_machines,
    ) == row
    assert tier.sockets * tier.cores_per_socket == tier.vcpus


@pytest.mark.parametrize(("tier", "row"), list(zip(CONFIGURATION_SERVER_TIERS, CS_ROWS, strict=True)))
def test_configuration_server_tiers_match_the_documented_table(tier, row):
    assert (tier.vcpus, tier.memory_gb, tier.cache_disk_gb, tier.max_daily_churn_gb, tier.max_protected_machines) == row


@pytest.mark.parametrize("role", ["process_server", "configuration_server"])
@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_host_built_to_a_tier_qualifies_for_exactly_that_tier(role, index):
    tiers = SCALE_OUT_PS_TIERS if role == "process_server" else CONFIGURATION_SERVER_TIERS
    tier = tiers[index]
    result = qualifying_tier(HostFacts(tier.vcpus, tier.memory_gb, tier.cache_disk_gb), role)
    assert result.tier == tier
    assert result.shortfalls == []


def test_windows_reported_sizes_slightly_below_the_tier_still_qualify():
    # 24 GB installed shows as ~23.6 GB visible; a 1024 GiB disk formats to ~1023.9 GB.
    assert qualifying_tier(HostFacts(12, 23.6, 1023.9)).tier.name == "large"
    assert qualifying_tier(HostFacts(12, 23.6, 1023.9), tolerance=0).tier.name == "medium"


def test_one_missing_minimum_drops_to_the_tier_below():
    assert qualifying_tier(HostFacts(12, 24, 600)).tier.name == "medium"
    assert qualifying_tier(HostFacts(16, 64, 4096)).tier.name == "large"


def test_host_below_the_smallest_tier_names_each_shortfall():
    result = qualifying_tier(HostFacts(2, 4, 100))
    assert result.tier is None
    text = " ".join(result.shortfalls)
    for option, needed in (("vcpus", "4"), ("memory_gb", "8"), ("cache_disk_gb", "300")):
        assert option in text
        assert needed in text
    assert len(result.shortfalls) == 3


@pytest.mark.parametrize(
    ("machines", "churn", "expected"),
    [
        (85, 250, "small"),  # 2017 "85 or fewer"/"250 GB or less": upper bounds inclusive
        (86, 10, "medium"),  # 2021 "86-150"
        (10, 251, "medium"),  # 2021 "251 GB-1 TB"
        (150, 1024, "medium"),
        (151, 10, "large"),
        (10, 1025, "large"),
        (225, 2048, "large"),
        (0, 0, "small"),
    ],
)
def test_required_tier_boundaries(machines, churn, expected):
    assert required_tier(PlannedLoad(machines, churn)).tier.name == expected


@pytest.mark.parametrize(
    ("machines", "churn", "named"), [(226, 10, "226 protected machines"), (10, 2049, "2049 GB/day")]
)
def test_load_beyond_the_largest_tier_needs_another_process_server(machines, churn, named):
    result = required_tier(PlannedLoad(machines, churn))
    assert result.tier is None
    assert "more than one process server needed" in result.reason
    assert named in result.reason


def test_configuration_server_first_row_is_under_100_machines():
    assert required_tier(PlannedLoad(99, 500), "configuration_server").tier.name == "small"
    assert required_tier(PlannedLoad(100, 500), "configuration_server").tier.name == "medium"
    assert required_tier(PlannedLoad(201, 10), "configuration_server").tier is None


def test_scale_example_2017_220_machines_needs_the_12_vcpu_24_gb_process_server():
    # [7.1] 2017/2018: 220 machines => CS 12 vCPU/18 GB + PS 12 vCPU/24 GB.
    tier = required_tier(PlannedLoad(220, 1000)).tier
    assert (tier.vcpus, tier.memory_gb) == (12, 24)


def test_scale_example_2021_one_server_for_200_machines_at_1_5_tb():
    # [7.1] 2021 says "one PS 16 vCPU/24 GB"; the scale-out table's top row is 12 vCPU/24 GB (16 vCPU is the
    # CS's top row). Our table follows the sizing rows, so one server needs the 12 vCPU/24 GB tier.
    tier = required_tier(PlannedLoad(200, 1.5 * 1024)).tier
    assert (tier.vcpus, tier.memory_gb) == (12, 24)
    assert sizing_verdict(HostFacts(16, 24, 1024), PlannedLoad(200, 1536)).fits


def test_verdict_names_the_shortfall_and_the_load_that_drives_it():
    verdict = sizing_verdict(HostFacts(8, 12, 600), PlannedLoad(180, 900))
    assert not verdict.fits
    assert "vcpus: needs 12 vCPU for 180 machines, host has 8 (large tier [7.1])" in verdict.shortfalls
    assert verdict.host_tier.name == "medium"
    assert verdict.needed_tier.name == "large"
    churn_driven = sizing_verdict(HostFacts(8, 12, 600), PlannedLoad(100, 1500))
    assert any("for 1500 GB/day" in s for s in churn_driven.shortfalls)
    assert not any("machines" in s for s in churn_driven.shortfalls)


# any host from 1 vCPU to 64, 1 GB to 256 GB of memory and no cache disk to 8 TB
HOSTS = st.builds(HostFacts, st.integers(1, 64), st.floats(1, 256), st.floats(0, 8192))


def test_verdict_for_a_load_beyond_one_server():
    verdict = sizing_verdict(HostFacts(12, 24, 1024), PlannedLoad(300, 100))
    assert not verdict.fits
    assert verdict.needed_tier is None
    assert "more than one process server needed" in verdict.shortfalls[0]


@given(facts=HOSTS, load=st.builds(PlannedLoad, st.integers(0, 225), st.floats(0, 2048)))
def test_verdict_fits_exactly_when_the_host_tier_is_at_least_the_needed_tier(facts, load):
    verdict = sizing_verdict(facts, load)
    host_rank = -1 if verdict.host_tier is None else SCALE_OUT_PS_TIERS.index(verdict.host_tier)
    assert verdict.fits == (host_rank >= SCALE_OUT_PS_TIERS.index(verdict.needed_tier))
    assert verdict.fits == (verdict.shortfalls == [])


def test_a_host_built_to_the_small_tier_gets_one_verdict_ok_by_the_scale_out_table():
    """Issue 10 item 8: 4 vCPU, 8 GB, 300 GB is a supported scale-out process server ([7.1] small row, the seed's
    own sizing section); [2.1]'s 8 cores / 16 GB are the configuration server's smallest row [7.2], not a
    second verdict. What remains of [2.1] is setup's 600 GB free-space check [1.3], reported as a note."""
    small = assess_host(HostFacts(4, 8, 300, cache_free_gb=299))
    assert small.ok is True and small.tier.name == "small" and small.shortfalls == []
    assert small.table.startswith("[7.1]") and small.tier.source == "[7.1]"
    assert small.verdict == "small tier [7.1]: up to 85 machines and 250 GB/day"
    (note,) = small.notes
    assert "600 GB free on the install drive [1.3]" in note and "skip_space_check" in note


def test_a_configuration_server_is_judged_by_its_own_table():
    assert assess_host(HostFacts(8, 16, 600), "configuration_server").tier.name == "small"
    short = assess_host(HostFacts(8, 12, 600), "configuration_server")
    assert short.ok is False and short.table.startswith("[7.2]")
    assert any("memory_gb" in s and "small [7.2]" in s for s in short.shortfalls)
    # the same host is a medium scale-out process server [7.1]
    assert assess_host(HostFacts(8, 12, 600)).tier.name == "medium"


def test_every_shortfall_names_the_table_it_comes_from():
    no_row = assess_host(HostFacts(2, 4, 100))
    assert no_row.ok is False and no_row.verdict == "meets no row of the [7.1] scale-out process server sizing table"
    assert all("small [7.1]" in s for s in no_row.shortfalls) and len(no_row.shortfalls) == 3
    loaded = assess_host(HostFacts(8, 12, 600), load=PlannedLoad(180, 900))
    assert loaded.ok is False and loaded.needed_tier.name == "large"
    assert (
        loaded.verdict
        == "cannot carry 180 machines and 900 GB/day: needs the large tier [7.1], host meets the medium tier"
    )
    assert all(s.endswith("(large tier [7.1])") for s in loaded.shortfalls)


def test_retention_is_a_note_from_the_requirements_page():
    result = assess_host(HostFacts(12, 24, 1024, cache_free_gb=900, retention_free_gb=100))
    assert result.ok is True
    assert result.notes == ["retention drive has 100 GB free; the requirements page asks for 600 GB for failback [2.1]"]
    assert assess_host(HostFacts(12, 24, 1024, cache_free_gb=900, retention_free_gb=600)).notes == []


@given(facts=HOSTS, load=st.builds(PlannedLoad, st.integers(0, 300), st.floats(0, 3000)))
def test_the_one_verdict_agrees_with_the_tier_and_the_load(facts, load):
    assert assess_host(facts).ok == (qualifying_tier(facts).tier is not None)
    assert assess_host(facts, load=load).ok == sizing_verdict(facts, load).fits


def test_to_dict_is_json_friendly():
    import json

    verdict = sizing_verdict(HostFacts(8, 12, 600), PlannedLoad(180, 900))
    data = json.loads(json.dumps(verdict.to_dict()))
    assert data["needed_tier"]["name"] == "large"
    assert data["fits"] is False


@pytest.mark.parametrize(
    ("build", "option", "allowed"),
    [
        (lambda: HostFacts(0, 8, 300), "vcpus", "at least 1"),
        (lambda: HostFacts("8", 8, 300), "vcpus", "an integer"),
        (lambda: HostFacts(True, 8, 300), "vcpus", "an integer"),
        (lambda: HostFacts(8, 0, 300), "memory_gb", "greater than 0"),
        (lambda: HostFacts(8, float("nan"), 300), "memory_gb", "a number"),
        (lambda: HostFacts(8, 8, -1), "cache_disk_gb", "at least 0"),
        (lambda: PlannedLoad(-1, 10), "protected_machines", "at least 0"),
        (lambda: PlannedLoad(1.5, 10), "protected_machines", "an integer"),
        (lambda: PlannedLoad(10, -5), "daily_churn_gb", "at least 0"),
        (lambda: PlannedLoad(10, "lots"), "daily_churn_gb", "a number"),
        (lambda: get_tier("huge"), "tier", "'small', 'medium', 'large'"),
        (lambda: get_tier("small", "master_target"), "role", "'process_server', 'configuration_server'"),
        (lambda: qualifying_tier(HostFacts(8, 8, 300), tolerance=-0.1), "tolerance", "at least 0"),
    ],
)
def test_bad_inputs_name_the_option_and_what_is_allowed(build, option, allowed):
    with pytest.raises(InvalidOption) as err:
        build()
    assert err.value.option == option
    assert str(err.value).startswith(f"{option}:")
    assert allowed in str(err.value)


# ---- planned loads as operators write them --------------------------------------------------------------------
@given(machines=st.integers(0, 10_000), churn=st.floats(0, 1e6, allow_nan=False), as_text=st.booleans())
def test_a_planned_load_reads_numbers_and_numeric_strings_alike(machines, churn, as_text):
    value = {"protected_machines": str(machines), "daily_churn_gb": repr(churn)} if as_text else {
        "protected_machines": machines, "daily_churn_gb": churn}  # fmt: skip
    assert planned_load_from(value) == PlannedLoad(machines, churn)


@given(
    machines=st.one_of(st.integers(max_value=-1), st.floats(allow_nan=True), st.text(max_size=4), st.none()),
)
def test_a_bad_machine_count_is_named_with_the_variable(machines):
    if isinstance(machines, str) and machines.strip().isdigit() and machines.strip().isascii():
        return  # a numeric string is a count
    with pytest.raises(InvalidOption) as err:
        planned_load_from({"protected_machines": machines, "daily_churn_gb": 1}, "asr_planned_load")
    assert err.value.option == "asr_planned_load.protected_machines"
    assert err.value.allowed == "an integer of at least 0"


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"protected_machines": 1}, "Missing keys: daily_churn_gb."),
        ({"protected_machines": 1, "daily_churn_gb": 1, "vms": 2}, "Unknown keys: vms."),
        ({"daily_churn_gb": 1, "vms": 2}, "Unknown keys: vms; missing keys: protected_machines."),
        ([1, 2], ""),
    ],
)
def test_a_planned_load_must_have_exactly_its_two_keys(value, why):
    with pytest.raises(InvalidOption) as err:
        planned_load_from(value, "asr_planned_load")
    assert err.value.option == "asr_planned_load"
    assert err.value.allowed == "a mapping with the keys protected_machines, daily_churn_gb"
    assert err.value.why == why
