"""capacity_report: the report says what the sizing filters and the fleet planner say, and renders safely."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import markupsafe
import pytest
from _info_results import LARGE, MEDIUM, SMALL, info_result

from ansible_collections.asr.process_server.plugins.filter.sizing import fleet_plan, process_server_sizing
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import capacity_report as cr
from ansible_collections.asr.process_server.plugins.plugin_utils.report import capacity_page


def host(name, facts, load=None, **extra):
    return {"name": name, "info": info_result(**facts, **extra), "planned_load": load}


def fleet_hosts():
    return [
        host("ps01", SMALL, {"protected_machines": 60, "daily_churn_gb": 200}),
        host("ps02", MEDIUM, {"protected_machines": 160, "daily_churn_gb": 900}),
        host("ps03", LARGE, {"protected_machines": 100, "daily_churn_gb": 1500}),
    ]


@pytest.mark.parametrize(("facts", "tier"), [(SMALL, "small"), (MEDIUM, "medium"), (LARGE, "large")])
def test_each_seed_row_qualifies_for_its_tier(facts, tier):
    report = cr.build_report([host("ps", facts)])
    assert report["hosts"][0]["tier"] == tier
    assert report["hosts"][0]["status"] == cr.NO_LOAD


def test_verdicts_equal_the_sizing_filter():
    report = cr.build_report(fleet_hosts())
    for entry, item in zip(report["hosts"], fleet_hosts(), strict=True):
        expected = process_server_sizing(item["info"]["asr"]["sizing"]["host_facts"], item["planned_load"])
        assert entry["tier"] == expected["qualifies_for"]["tier"]["name"]
        assert entry["fits"] == expected["verdict"]["fits"]
        assert entry["shortfalls"] == expected["verdict"]["shortfalls"]
        assert entry["needed_tier"] == expected["verdict"]["needed_tier"]["name"]
    assert [h["status"] for h in report["hosts"]] == [cr.FITS, cr.OVER, cr.FITS]
    assert report["hosts"][1]["shortfalls"][0].startswith("vcpus: needs 12 vCPU")


def test_fleet_plan_equals_the_fleet_plan_filter_for_source_machines():
    machines = [
        {"name": f"vm{i:03d}", "daily_churn_gb": 10.0 + i % 7, "current_process_server": "ps01" if i < 90 else "ps02"}
        for i in range(200)
    ]
    report = cr.build_report(fleet_hosts(), machines)
    cs = {"configuration_server": "10.0.0.11"}
    expected = fleet_plan(machines, [{"name": "ps01", "tier": "small", **cs}, {"name": "ps02", "tier": "medium", **cs},
                                     {"name": "ps03", "tier": "large", **cs}])  # fmt: skip
    assert report["fleet"]["plan"] == expected
    assert report["fleet"]["machines_synthesized"] is False
    assert report["summary"]["servers_needed"] == expected["servers_needed"]
    assert report["summary"]["moves"] == len(expected["moves"])
    assert sum(m["machines"] for m in report["fleet"]["move_summary"]) == len(expected["moves"])
    # asr_planned_load wins over the machines for the per-host verdict
    assert report["hosts"][0]["load_source"] == "asr_planned_load"


def test_load_from_source_machines_when_no_planned_load():
    machines = [{"name": f"vm{i}", "daily_churn_gb": 5, "current_process_server": "ps01"} for i in range(90)]
    report = cr.build_report([host("ps01", SMALL)], machines)
    entry = report["hosts"][0]
    assert entry["load_source"] == "asr_source_machines"
    assert entry["planned_load"] == {"protected_machines": 90, "daily_churn_gb": 450}
    assert entry["status"] == cr.OVER  # 90 machines > 85 of the small tier
    assert report["fleet"]["plan"]["additional_servers"] == {"large": 1}


def test_synthesized_machines_follow_the_planned_loads():
    report = cr.build_report(fleet_hosts())
    fleet = report["fleet"]
    assert fleet["machines_synthesized"] is True
    assert fleet["machine_count"] == 60 + 160 + 100
    assert fleet["total_daily_churn_gb"] == pytest.approx(200 + 900 + 1500)
    plan = fleet["plan"]
    by_name = {s["name"]: s for s in plan["servers"]}
    assert by_name["ps02"]["protected_machines"] <= by_name["ps02"]["planned_max_protected_machines"]
    assert {m["from_server"] for m in fleet["move_summary"]} == {"ps02"}


def test_unreachable_and_undersized_hosts():
    tiny = {"vcpus": 2, "memory_gb": 4.0, "cache_gb": 100.0, "cache_free_gb": 90.0}
    report = cr.build_report(
        [host("tiny", tiny, {"protected_machines": 5, "daily_churn_gb": 10}),
         {"name": "gone", "info": {"unreachable": True, "msg": "timed out"}, "planned_load": None}]
    )  # fmt: skip
    tiny_entry, gone = report["hosts"]
    assert tiny_entry["status"] == cr.NO_TIER and tiny_entry["tier"] is None
    assert any("vcpus" in s for s in tiny_entry["shortfalls"])
    assert gone["status"] == cr.UNKNOWN and "timed out" in gone["error"]
    assert report["fleet"]["excluded_servers"] == ["tiny", "gone"]
    assert report["summary"]["by_status"][cr.NO_TIER] == 1


def test_a_machine_over_two_tb_is_reported_not_raised():
    machines = [{"name": "huge", "daily_churn_gb": 3000, "current_process_server": "ps03"}]
    report = cr.build_report([host("ps03", LARGE)], machines)
    assert "2 TB" in report["fleet"]["error"]
    assert report["summary"]["fleet_error"] == report["fleet"]["error"]
    assert "fleet plan: daily_churn_gb" in "\n".join(cr.summary_lines(report))
    assert "huge" in capacity_page.render_html(report)


def test_report_is_json_and_summary_names_each_host():
    report = cr.build_report(fleet_hosts(), generated="2025-01-01T00:00:00Z")
    assert json.loads(json.dumps(report)) == report
    source, *lines = cr.summary_lines(report)
    assert source == "load from: inventory variables (asr_planned_load, asr_source_machines)"
    assert [line.split(":")[0] for line in lines[:3]] == ["ps01", "ps02", "ps03"]
    assert "cannot carry" in lines[1] and "vcpus" in lines[1]
    assert lines[3].startswith("fleet plan:")


# ---- rendering -----------------------------------------------------------------------------------------------
NASTY = '<script>alert("x")</script>&"\''


def test_every_value_is_escaped():
    hosts = [host(NASTY, MEDIUM, {"protected_machines": 10, "daily_churn_gb": 10})]
    machines = [{"name": NASTY + "vm", "daily_churn_gb": 5, "current_process_server": "elsewhere<b>"}]
    report = cr.build_report(hosts, machines, generated=NASTY)
    page = capacity_page.render_html(report)
    assert "<script" not in page and NASTY not in page and "elsewhere<b>" not in page
    escaped = str(markupsafe.escape(NASTY))  # the template's autoescaping (quotes as &#34; and &#39;)
    assert escaped == html.escape(NASTY, quote=True).replace("&quot;", "&#34;").replace("&#x27;", "&#39;")
    assert escaped in page
    assert "elsewhere&lt;b&gt;" in page
    assert page.count(escaped) >= 4  # table, charts (label, data-server), generated


def test_page_is_self_contained_and_has_the_charts():
    report = cr.build_report(fleet_hosts(), generated="2025-01-01T00:00:00Z")
    page = capacity_page.render_html(report)
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "<script" not in page
    svgs = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(svgs) == 3  # planned load, after the plan, health
    for svg in svgs:
        ET.fromstring(svg)  # well-formed XML
    for name in ("ps01", "ps02", "ps03"):
        assert page.count(f'data-server="{name}"') >= 3  # machines + churn bars, cache-free bar
    assert page.count('class="line-utilisation"') == 2 * (3 + len(report["fleet"]["plan"]["servers"]))
    assert 'class="line-warning"' in page and 'class="line-critical"' in page


def test_chart_numbers_equal_the_planner():
    report = cr.build_report(fleet_hosts())
    page = capacity_page.render_html(report)
    after = re.search(r'<svg[^>]*id="load-chart-plan".*?</svg>', page, re.S).group(0)
    root = ET.fromstring(after)
    bars = {}
    for rect in root.iter("{http://www.w3.org/2000/svg}rect"):
        kind = rect.get("class").split()[1]
        bars[(rect.get("data-server"), kind)] = (float(rect.get("data-value")), float(rect.get("data-cap")))
    for server in report["fleet"]["plan"]["servers"]:
        name = server["name"] + (" (new)" if server["new"] else "")
        assert bars[(name, "bar-machines")] == (server["protected_machines"], server["max_protected_machines"])
        assert bars[(name, "bar-churn")] == pytest.approx((server["daily_churn_gb"], server["max_daily_churn_gb"]))


def test_every_server_is_shown_including_new_ones():
    machines = [{"name": f"vm{i}", "daily_churn_gb": 30, "current_process_server": None} for i in range(150)]
    report = cr.build_report([host("ps01", SMALL)], machines)
    page = capacity_page.render_html(report)
    new = [s["name"] for s in report["fleet"]["plan"]["servers"] if s["new"]]
    assert new
    for name in ["ps01", *new]:
        assert f"{name}" in page
    assert "Servers to add: <b>" in page


def test_no_load_renders_without_fleet():
    report = cr.build_report([host("ps01", MEDIUM)])
    assert report["fleet"] is None
    page = capacity_page.render_html(report)
    assert "No planned load" in page and 'id="load-chart-planned"' in page


# ---- plan.yml's variables are checked before any remote call ---------------------------------------------------
def test_plan_variables_default_and_convert():
    assert cr.options_from_variables({}) == {"max_utilisation": 0.8, "new_server_tier": "large", "keep_current": True}
    assert cr.options_from_variables({name: None for name in cr.PLAYBOOK_VARIABLES}) == cr.options_from_variables({})
    given = {"asr_max_utilisation": "0.5", "asr_new_server_tier": "small", "asr_keep_current": "no"}
    assert cr.options_from_variables(given) == {
        "max_utilisation": 0.5,
        "new_server_tier": "small",
        "keep_current": False,
    }


@pytest.mark.parametrize(
    ("variables", "option", "allowed"),
    [
        ({"asr_new_server_tier": "huge"}, "asr_new_server_tier", "one of 'small', 'medium', 'large'"),
        ({"asr_new_server_tier": "Large"}, "asr_new_server_tier", "one of 'small', 'medium', 'large'"),
        ({"asr_max_utilisation": 0}, "asr_max_utilisation", "a number greater than 0"),
        ({"asr_max_utilisation": "80%"}, "asr_max_utilisation", "a number greater than 0"),
        ({"asr_max_utilisation": 1.5}, "asr_max_utilisation", "a number greater than 0 and at most 1"),
        ({"asr_max_utilisation": 0.001}, "asr_max_utilisation", "at least 0.004 so that a 'large' server"),
        ({"asr_keep_current": "maybe"}, "asr_keep_current", "true or false"),
        ({"asr_planned_load": {"protected_machines": -3, "daily_churn_gb": 5}}, "asr_planned_load.protected_machines",
         "an integer of at least 0"),
        ({"asr_planned_load": {"protected_machines": 3}}, "asr_planned_load", "a mapping with the keys"),
        ({"asr_source_machines": [{"name": "vm1", "daily_churn_gb": -1}]}, "daily_churn_gb", "a number of at least 0"),
        ({"asr_source_machines": "vm1"}, "asr_source_machines", "a list of source machines"),
        ({"asr_new_server_teir": "small"}, "variables", "the variables asr_planned_load"),
    ],
)  # fmt: skip
def test_a_bad_plan_variable_fails_naming_it_and_what_is_allowed(variables, option, allowed):
    with pytest.raises(cr.InvalidOption) as err:
        cr.options_from_variables(variables)
    assert err.value.option == option
    assert allowed in err.value.allowed


def test_bad_options_are_refused_even_without_a_planned_load():
    """Without any load the planner never runs; a bad tier must still be refused, not reported as a plan."""
    no_load = [host("ps01", LARGE)]
    with pytest.raises(cr.InvalidOption, match="new_server_tier"):
        cr.build_report(no_load, new_server_tier="huge")
    with pytest.raises(cr.InvalidOption, match="max_utilisation"):
        cr.build_report(no_load, max_utilisation=0)
    with pytest.raises(cr.InvalidOption, match="source_machines"):
        cr.build_report(no_load, ["vm1"])
    assert cr.build_report(no_load)["fleet"] is None


# ---- issue 10 item 6: numbers compared as shown, cards add up, failed surveys named, nothing clipped --------
SVG = "{http://www.w3.org/2000/svg}"


def chart(page, chart_id):
    return ET.fromstring(re.search(rf'<svg[^>]*id="{chart_id}".*?</svg>', page, re.S).group(0))


def bars(root):
    return {(r.get("data-server"), r.get("class").split()[1]): r for r in root.iter(f"{SVG}rect")}


def twelve_hosts():
    """9 fit, 1 over capacity (300 machines on a small tier: 353 %), 1 below every tier, 1 survey failed."""
    fitting = [host(f"ps{i:02d}", MEDIUM, {"protected_machines": 50, "daily_churn_gb": 300}) for i in range(1, 10)]
    return [
        *fitting,
        host("ps10", SMALL, {"protected_machines": 300, "daily_churn_gb": 200}),
        host("ps11", {"vcpus": 2, "memory_gb": 4.0, "cache_gb": 100.0, "cache_free_gb": 90.0}),
        {"name": "ps12", "info": {"failed": True, "msg": "WinRM: connection refused"}, "planned_load": None},
    ]


def test_eighty_percent_of_a_cap_is_within_the_planning_limit_and_shown_as_compared():
    # 80 machines of 10.24 GB/day: 819.2000000000005 GB/day in floating point, 80 % of a medium server's 1024.
    machines = [{"name": f"vm{i:02d}", "daily_churn_gb": 10.24, "current_process_server": "ps02"} for i in range(80)]
    report = cr.build_report([host("ps02", MEDIUM)], machines)
    (server,) = report["fleet"]["plan"]["servers"]
    assert server["daily_churn_gb"] > 819.2  # the float the planner adds up
    churn = bars(chart(capacity_page.render_html(report), "load-chart-plan"))[("ps02", "bar-churn")]
    assert churn.get("fill") == "#2f80ed" and "bar-ok" in churn.get("class")  # within the limit, not orange
    assert churn.get("data-percent") == "80.0"
    assert "(80.0 %)" in capacity_page.render_html(report)
    assert capacity_page.load_bar(819.2000000000005, 1024, 0.8)["state"] == "ok"
    assert capacity_page.load_bar(819.3, 1024, 0.8)["state"] == "ok"  # 80.01 %, shown and compared as 80.0 %
    assert capacity_page.load_bar(820, 1024, 0.8)["state"] == "warn"  # 80.1 %
    assert capacity_page.load_bar(1024.04, 1024, 0.8)["state"] == "warn"  # 100.0 %: at the cap, not over it
    assert capacity_page.load_bar(1025, 1024, 0.8)["state"] == "over"


def test_summary_cards_add_up_to_the_fleet_and_a_failed_survey_is_named():
    report = cr.build_report(twelve_hosts())
    page = capacity_page.render_html(report)
    cards = re.search(r'<div class="cards"[^>]*>(.*?)\n</div>\n', page, re.S).group(1)  # the first row of cards
    counts = dict(re.findall(r'<div class="card[^"]*"[^>]*>([^<]+)<b>(\d+)</b></div>', cards))
    assert counts.pop("Process servers") == "12"
    assert counts == {"Fit their load": "9", "Cannot carry their load": "1", "Qualify for no tier": "1",
                      "No planned load": "0", "Survey failed": "1"}  # fmt: skip
    assert sum(int(n) for n in counts.values()) == 12
    planned = chart(page, "load-chart-planned")
    texts = ["".join(t.itertext()) for t in planned.iter(f"{SVG}text")]
    assert "survey failed" in texts and "machines: survey failed: no data" in texts
    row = re.search(r"<tr><td>ps12</td>.*?</tr>", page).group(0)
    assert "unknown (survey failed)" in row and ">none<" not in row and "no tier" not in row
    health = ["".join(t.itertext()) for t in chart(page, "health-chart").iter(f"{SVG}text")]
    assert health[health.index("ps12") + 1] == "survey failed"


def test_no_bar_is_clipped_the_scale_reaches_the_largest():
    report = cr.build_report(twelve_hosts())
    root = chart(capacity_page.render_html(report), "load-chart-planned")
    by_key = bars(root)
    over = by_key[("ps10", "bar-machines")]  # 300 of 85 machines
    fitting = by_key[("ps01", "bar-machines")]  # 50 of 150 machines
    ratio = float(over.get("width")) / float(fitting.get("width"))
    assert ratio == pytest.approx(352.9 / 33.3, rel=0.01)  # proportional: not cut at 150 %
    assert over.get("data-percent") == "352.9"
    ticks = ["".join(t.itertext()) for t in root.iter(f"{SVG}text") if "".join(t.itertext()).endswith(" %")]
    assert ticks[-1] == "400 %"
    plot_right = float(root.get("viewBox").split()[2]) - 260
    assert float(over.get("x")) + float(over.get("width")) <= plot_right + 0.1


# ---- issue 10 item 5: configuration-server membership ------------------------------------------------------
def two_cs_hosts():
    """ps01 (small, cs 10.0.0.11) carries 100 machines; ps02 (large) is registered to another configuration
    server; ps03 (large) is installed but not registered; ps04's survey failed."""
    return [
        host("ps01", SMALL),
        host("ps02", LARGE, cs_ip="10.0.0.12"),
        host("ps03", LARGE, cs_ip=None),
        {"name": "ps04", "info": {"unreachable": True, "msg": "timed out"}, "planned_load": None},
    ]


MACHINES_ON_PS01 = [{"name": f"vm{i:03d}", "daily_churn_gb": 3.0, "current_process_server": "ps01"} for i in range(100)]


def test_machines_move_only_within_their_configuration_server():
    report = cr.build_report(two_cs_hosts(), MACHINES_ON_PS01)
    plan = report["fleet"]["plan"]
    assert {server for server in plan["assignments"].values()} == {"ps01", "new-process-server-1"}
    assert {m["to_server"] for m in plan["moves"]} == {"new-process-server-1"} and len(plan["moves"]) == 34
    membership = {h["name"]: (h["configuration_server"], h["configuration_server_unknown"]) for h in report["hosts"]}
    assert membership["ps02"] == ("10.0.0.12", None)
    assert membership["ps03"][0] is None and "not registered" in membership["ps03"][1]
    assert membership["ps04"][0] is None and "survey failed" in membership["ps04"][1]
    groups = {g["configuration_server"]: g for g in plan["configuration_servers"]}
    assert groups["10.0.0.11"]["servers"] == ["ps01", "new-process-server-1"]
    assert groups["10.0.0.12"]["servers"] == ["ps02"] and groups["10.0.0.12"]["moves"] == 0
    assert groups[None]["servers"] == ["ps03"] and "no machine is moved onto" in groups[None]["note"]


def test_the_report_groups_servers_by_configuration_server_and_says_so():
    report = cr.build_report(two_cs_hosts(), MACHINES_ON_PS01)
    page = capacity_page.render_html(report)
    after = chart(page, "load-chart-plan")
    headers = [t.text for t in after.iter(f"{SVG}text") if t.get("class") == "group"]
    assert headers == [
        "Configuration server 10.0.0.11",
        "Configuration server 10.0.0.12",
        "Configuration server unknown: receives no machine",
    ]
    assert "Machines move only between process servers of the same configuration server" in page
    assert 'class="configuration-servers"' in page
    lines = cr.summary_lines(report)
    assert "ps02: tier large; no planned load; configuration server 10.0.0.12" in lines
    assert any(line.startswith("configuration server 10.0.0.11: ps01, new-process-server-1; needs 2") for line in lines)
    assert "configuration server unknown: ps03 (receive no machine; 0 unplaced)" in lines
