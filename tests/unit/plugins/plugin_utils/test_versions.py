from __future__ import annotations

import itertools

import pytest
from _refusals import assert_refused, bad_input_table
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import (
    MAX_MINOR_HOP,
    Version,
    check_version_order,
    minor_gap,
    parse_version,
    plan_upgrade_path,
    upgrade_needed,
)

v = parse_version
versions = st.builds(Version, st.just(9), st.integers(0, 80), st.integers(0, 9999), st.integers(0, 9))


def test_parse_four_parts():
    assert v("9.55.7123.1") == Version(9, 55, 7123, 1)
    assert str(v(" 9.55.7123.1 ")) == "9.55.7123.1"


def test_parse_two_parts_fills_zeros():
    assert v("9.55") == Version(9, 55, 0, 0)
    assert v(Version(9, 1)) == Version(9, 1)


def test_order_is_numeric_not_textual():
    assert v("9.9.0.0") < v("9.10.0.0") < v("9.10.1.0") < v("9.10.1.1") < v("10.0")


@given(versions, versions)
def test_order_matches_tuple_order(a, b):
    assert (a < b) == ((a.major, a.minor, a.build, a.revision) < (b.major, b.minor, b.build, b.revision))
    assert parse_version(str(a)) == a


def test_docs_example_path():
    available = [v(f"9.{m}.0.1") for m in range(17, 24)]
    assert plan_upgrade_path(v("9.16"), v("9.24"), available) == [v("9.20.0.1"), v("9.24")]


def test_path_within_four_minors_is_one_hop():
    assert plan_upgrade_path(v("9.7.1"), v("9.11.2"), []) == [v("9.11.2")]


def test_path_to_same_version_is_empty():
    assert plan_upgrade_path(v("9.20"), v("9.20.0.0"), [v("9.21")]) == []


def test_path_ignores_versions_beyond_target_and_picks_newest_build():
    available = [v("9.19.1"), v("9.19.5"), v("9.30"), v("9.13")]
    assert plan_upgrade_path(v("9.15"), v("9.22"), available) == [v("9.19.5"), v("9.22")]


def test_path_gap_raises_planning_error_naming_the_limit():
    with pytest.raises(PlanningError, match=r"bridges 9\.18\.0\.0 -> 9\.30\.0\.0.*at most 9\.22"):
        plan_upgrade_path(v("9.16"), v("9.30"), [v("9.18"), v("9.26")])


def test_cross_major_is_not_planned():
    with pytest.raises(PlanningError, match="major"):
        plan_upgrade_path(v("8.5"), v("9.1"), [])


@given(versions, versions, st.lists(versions, max_size=12))
def test_every_planned_hop_obeys_the_n_minus_4_rule(a, b, available):
    installed, target = min(a, b), max(a, b)
    try:
        hops = plan_upgrade_path(installed, target, available)
    except PlanningError:
        # Then some gap really cannot be bridged from the versions offered.
        offered = sorted({*available, target})
        current = installed
        while current < target:
            nxt = [x for x in offered if current < x <= target and x.minor - current.minor <= MAX_MINOR_HOP]
            if not nxt:
                return
            current = nxt[-1]
        pytest.fail("planning failed although a path exists")
    else:
        path = [installed, *hops]
        assert hops[-1:] == ([target] if target != installed else [])
        assert all(x < y and y.minor - x.minor <= MAX_MINOR_HOP for x, y in itertools.pairwise(path))
        assert set(hops) <= {*available, target}


def test_upgrade_needed():
    assert upgrade_needed(v("9.50"), v("9.54")) is True
    assert upgrade_needed(v("9.50.1"), v("9.50.1.0")) is False
    assert minor_gap(v("9.50"), v("9.54")) == 4


def test_version_order_accepts_equal_and_older():
    check_version_order(v("9.55"), v("9.55"), v("9.54"))
    check_version_order(v("9.55"), v("9.50"))


BAD = [
    ("empty", lambda: v(""), "installer_version", "2 to 4 dot-separated numbers"),
    ("one part", lambda: v("9"), "installer_version", "2 to 4 dot-separated numbers"),
    ("five parts", lambda: v("9.1.2.3.4"), "installer_version", "2 to 4 dot-separated numbers"),
    ("letters", lambda: v("9.55-preview"), "installer_version", "2 to 4 dot-separated numbers"),
    ("v prefix", lambda: v("v9.55"), "installer_version", "such as 9.55.7123.1"),
    ("number", lambda: v(9.55), "installer_version", "2 to 4 dot-separated numbers"),
    ("other option", lambda: v("x", option="configuration_server_version"), "configuration_server_version", "9.55"),
    ("downgrade", lambda: upgrade_needed(v("9.55"), v("9.54")), "installer_version", "at or above the installed"),
    ("n-5", lambda: upgrade_needed(v("9.16"), v("9.21")), "installer_version", "up to 9.20"),
    ("plan downgrade", lambda: plan_upgrade_path(v("9.2"), v("9.1"), []), "installer_version", "at or above"),
    (
        "ps newer than cs",
        lambda: check_version_order(v("9.54"), v("9.55")),
        "installer_version",
        "at or below the configuration server's 9.54.0.0",
    ),
    (
        "mt newer than ps",
        lambda: check_version_order(v("9.55"), v("9.53"), v("9.54")),
        "installer_version",
        "at or above the master target's 9.54.0.0",
    ),
]


@bad_input_table(BAD)
def test_bad_input_names_option_and_allowed(call, option, allowed):
    assert_refused(call, option, allowed)
