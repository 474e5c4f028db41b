"""The benchmark harness's own logic: journal counting, ratio maths, targets, the scenario table, CI gate, chart."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import pytest

from bench import metrics, run, scenarios, svg


# ---- journal counting --------------------------------------------------------------------------------------
def test_read_journal_counts_every_line_and_a_missing_file_is_empty(tmp_path):
    path = tmp_path / "ps01.jsonl"
    entries = [{"op": "module", "identity": "probe v1"}, {"op": "file", "identity": "put_file"}]
    path.write_text("".join(json.dumps(e) + "\n" for e in entries) + "\n", encoding="utf-8")
    assert metrics.read_journal(path) == entries
    assert metrics.read_journal(tmp_path / "never-called.jsonl") == []


def test_calls_per_host_counts_hosts_without_a_journal_as_zero():
    journals = {"ps01": [{}, {}, {}], "ps02": [{}], "cs01": [{}] * 7}
    per_host = metrics.calls_per_host(journals, ["ps01", "ps02", "ps03"])
    assert per_host == {"ps01": 3, "ps02": 1, "ps03": 0}  # cs01 is not a process server: not counted
    stats = metrics.call_stats(per_host)
    assert (stats.hosts, stats.total, stats.min, stats.max) == (3, 4, 0, 3)
    assert stats.mean == pytest.approx(4 / 3, abs=1e-3)
    assert metrics.call_stats({}).to_dict() == {"hosts": 0, "total": 0, "mean": 0.0, "min": 0, "max": 0}


def test_call_mix_is_mean_calls_per_host_by_identity_largest_first():
    journals = {
        "ps01": [{"identity": "ansible.windows.setup"}, {"identity": "probe v1"}, {"identity": "probe v1"}],
        "ps02": [{"identity": "probe v1"}, {"op": "raw"}],
    }
    mix = metrics.call_mix(journals, ["ps01", "ps02"])
    assert list(mix) == ["probe v1", "ansible.windows.setup", "raw"]
    assert mix == {"probe v1": 1.5, "ansible.windows.setup": 0.5, "raw": 0.5}


# ---- ratio maths -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("baseline", "ours", "expected"),
    [(20, 4, 5.0), (9, 1, 9.0), (1, 2, 0.5), (None, 3, None), (3, None, None), (0, 0, None)],
)
def test_ratio_is_baseline_over_ours(baseline, ours, expected):
    assert metrics.ratio(baseline, ours) == expected


def test_ratio_with_nothing_on_our_side_is_infinite_and_formats():
    assert math.isinf(metrics.ratio(5, 0))
    assert metrics.fmt_ratio(math.inf) == "inf"
    assert metrics.fmt_ratio(None) == "-"
    assert metrics.fmt_ratio(3.04) == "3.0x"


def test_growth_is_relative_to_the_smallest_measured_n():
    assert metrics.growth({50: 20.0, 10: 4.0, 200: 90.0}) == {10: 1.0, 50: 5.0, 200: 22.5}
    assert metrics.growth({10: None, 50: 8.0, 200: 16.0}) == {10: None, 50: 1.0, 200: 2.0}
    assert metrics.growth({10: None}) == {10: None}


# ---- targets -----------------------------------------------------------------------------------------------
def test_converged_target_is_exactly_one_call():
    assert metrics.check_converged_calls(1).status == "met"
    missed = metrics.check_converged_calls(3)
    assert missed.status == "missed" and "+2" in missed.detail
    assert metrics.check_converged_calls(None).status == "not measured"


def test_fresh_ratio_target_is_three_times_fewer_calls():
    assert metrics.check_fresh_ratio(20, 6.5).status == "met"
    assert metrics.check_fresh_ratio(20, 7).status == "missed"
    assert metrics.check_fresh_ratio(None, 4).status == "not measured"


def test_converged_wall_target_only_counts_at_200_hosts():
    assert metrics.check_converged_wall(100.0, 10.0, 200).status == "met"
    assert metrics.check_converged_wall(100.0, 25.0, 200).status == "missed"
    smaller = metrics.check_converged_wall(100.0, 10.0, 50)
    assert smaller.status == "not measured" and "N=50" in smaller.detail


def test_planner_target_says_by_how_much_and_why():
    assert metrics.check_planner(1.2, 557, 556).status == "met"
    slow = metrics.check_planner(2.5, 556, 556)
    assert slow.status == "missed" and "0.50 s over" in slow.detail
    many = metrics.check_planner(1.0, 594, 556, "machine sizes leave room")
    assert many.status == "missed" and "37 more than allowed" in many.detail and "machine sizes" in many.detail


# ---- the scenario table ------------------------------------------------------------------------------------
def test_every_scenario_has_a_seed_the_lab_knows_and_a_baseline_in_the_repository():
    seeds = {p.stem for p in (scenarios.ROOT / "lab" / "seeds").glob("*.yml")}
    for scenario in scenarios.SCENARIOS:
        assert scenario.seed in seeds, scenario
        assert scenarios.availability(scenario, "baseline") is None, scenario
        assert scenario.ours.startswith("playbooks/")
        assert scenario.converged_run in scenario.runs
    names = [s.name for s in scenarios.SCENARIOS]
    assert len(names) == len(set(names))
    assert {"site", "upgrade", "proxy"} <= set(names)


def test_a_missing_playbook_is_not_available_yet_not_an_error(tmp_path):
    scenario = scenarios.Scenario(name="x", seed="fresh", ours="playbooks/nope.yml", baseline="b.yml")
    (tmp_path / "b.yml").write_text("---\n", encoding="utf-8")
    assert scenarios.availability(scenario, "ours", tmp_path).startswith("not available yet")
    assert scenarios.availability(scenario, "baseline", tmp_path) is None
    with pytest.raises(ValueError):
        scenario.playbook("other")


def test_scenario_vars_layer_extra_vars_over_the_common_ones():
    scenario = scenarios.Scenario(
        name="x", seed="fresh", ours="a", baseline="b", extra_vars={"asr_env_type": "NonVMware"}
    )
    assert scenario.vars()["asr_env_type"] == "NonVMware"
    assert scenario.vars()["asr_configuration_server_ip"] == scenarios.LAB_CS_IP
    assert scenarios.by_name(None) == list(scenarios.SCENARIOS)
    with pytest.raises(ValueError, match="unknown scenario"):
        scenarios.by_name(["nope"])


# ---- run.py: recap, comparisons, targets, CI gate, chart -----------------------------------------------------
def _row(impl, scenario, run_label, n, mean, mx, wall, status="ok"):
    return {
        "impl": impl, "scenario": scenario, "run": run_label, "hosts": n, "status": status,
        "calls": {"mean": mean, "max": mx}, "wall_s": wall, "cpu_s": wall / 2, "maxrss_mb": 60.0,
        "mix": {}, "log": "x.log",
    }  # fmt: skip


def test_recap_reads_ansible_play_recap_lines():
    text = (
        "PLAY RECAP ****\n"
        "ps01                       : ok=12   changed=10   unreachable=0    failed=0    skipped=0\n"
        "ps02                       : ok=3    changed=1    unreachable=1    failed=0    skipped=0\n"
    )
    assert run.recap(text) == {
        "ps01": {"ok": 12, "changed": 10, "unreachable": 0, "failed": 0},
        "ps02": {"ok": 3, "changed": 1, "unreachable": 1, "failed": 0},
    }


def test_compare_pairs_runs_and_targets_read_the_largest_n():
    rows = [
        _row("ours", "site", "fresh", 10, 5.0, 5, 10.0),
        _row("baseline", "site", "fresh", 10, 20.0, 20, 40.0),
        _row("ours", "site", "converged", 10, 1.0, 1, 2.0),
        _row("baseline", "site", "converged", 10, 9.0, 9, 20.0),
        _row("ours", "site", "converged", 200, 1.0, 1, 10.0),
        _row("baseline", "site", "converged", 200, 9.0, 9, 60.0),
        _row("ours", "proxy", "converged", 10, 2.0, 2, 1.0),
    ]
    comparisons = run.compare(rows)
    site_fresh = next(c for c in comparisons if (c["run"], c["hosts"]) == ("fresh", 10))
    assert site_fresh["calls_ratio"] == 4.0 and site_fresh["wall_ratio"] == 4.0
    verdicts = {v["target"]: v for v in run.targets(rows, [])}
    assert verdicts["site: converged run: exactly 1 remote call per host"]["status"] == "met"
    assert verdicts["proxy: converged run: exactly 1 remote call per host"]["status"] == "missed"
    wall = next(v for k, v in verdicts.items() if "wall time" in k)
    assert wall["status"] == "met" and "N=200" in wall["detail"]
    fresh = next(v for k, v in verdicts.items() if k.startswith("fresh install"))
    assert fresh["status"] == "met"


def test_ci_fails_on_a_broken_run_or_a_converged_host_above_one_call_never_on_time():
    slow_but_fine = [
        _row("ours", "site", "converged", 3, 1.0, 1, 9999.0),
        _row("baseline", "site", "fresh", 3, 20, 20, 1),
    ]
    assert run.ci_failures({"runs": slow_but_fine}) == []
    not_yet = [{"impl": "ours", "scenario": "site", "run": "fresh", "hosts": 3, "status": "not available yet"}]
    assert run.ci_failures({"runs": not_yet}) == []
    broken = [_row("baseline", "proxy", "fix drift", 3, 6, 6, 1.0, status="failed")]
    assert len(run.ci_failures({"runs": broken})) == 1
    chatty = [_row("ours", "site", "converged", 3, 1.3, 2, 1.0)]
    assert "2 remote calls" in run.ci_failures({"runs": chatty})[0]
    baseline_converged = [_row("baseline", "site", "converged", 3, 9, 9, 1.0)]
    assert run.ci_failures({"runs": baseline_converged}) == []


def test_the_chart_is_well_formed_svg_with_unavailable_bars_marked():
    rows = [
        _row("baseline", "site", "fresh", 10, 20.0, 20, 40.0),
        _row("baseline", "site", "fresh", 50, 20.0, 20, 90.0),
        {"impl": "ours", "scenario": "site", "run": "fresh", "hosts": 10, "status": "not available yet"},
    ]
    document = svg.chart({"runs": rows, "params": {"latency_ms": 50, "forks": 20}, "machine": {"nproc": 2}})
    root = ET.fromstring(document)
    assert root.tag.endswith("svg")
    assert "n/a" in document and "site/fresh" in document and "N=50" in document


def test_ci_mode_is_small_and_has_no_latency():
    args = run.parse_args(["--ci"])
    assert (args.hosts, args.latency_ms) == ([2], 0)
    assert args.impl == ["ours"]  # the gate is about this collection; the full run compares with the baseline
    assert run.parse_args(["--ci", "--impl", "baseline"]).impl == ["baseline"]
    assert run.parse_args([]).impl is None  # both implementations
    args = run.parse_args(["--hosts", "10", "50", "200", "--latency-ms", "50", "--forks", "20"])
    assert (args.hosts, args.latency_ms, args.forks) == ([10, 50, 200], 50, 20)


def test_markdown_tables_list_runs_in_scenario_order_with_ratios():
    rows = [
        _row("baseline", "proxy", "fix drift", 10, 6.0, 6, 12.0),
        _row("ours", "site", "fresh", 10, 4.0, 4, 5.0),
        _row("baseline", "site", "fresh", 10, 20.0, 20, 20.0),
        {"impl": "ours", "scenario": "proxy", "run": "fix drift", "hosts": 10, "status": "not available yet"},
    ]
    for r in rows:
        r.setdefault("lab_server_cpu_s", 1.0)
    text = run.markdown([{"runs": rows, "planner": []}])
    body = [line for line in text.splitlines() if line.startswith("| 10 |")]
    assert body[0].startswith("| 10 | site | fresh | ours | 4 (4)")
    assert body[2].startswith("| 10 | proxy | fix drift | ours | not available yet")
    assert "| 10 | site | fresh | 5.0x | 4.0x |" in text


def test_combine_merges_separate_runs_and_recomputes_the_ratios(tmp_path):
    def part(impl, wall, command):
        rows = [_row(impl, "site", "converged", 200, 1.0 if impl == "ours" else 9.0, 1 if impl == "ours" else 9, wall)]
        for r in rows:
            r.setdefault("lab_server_cpu_s", 1.0)
        return {
            "date": "2026-11-26T03:00:00", "command": command, "machine": {"nproc": 2},
            "params": {"hosts": [200], "latency_ms": 50, "forks": 20, "ci": False}, "runs": rows, "planner": [],
            "not_available": [], "elapsed_s": 10,
        }  # fmt: skip

    paths = []
    for impl, wall in (("ours", 10.0), ("baseline", 50.0)):
        path = tmp_path / f"{impl}.json"
        path.write_text(json.dumps(part(impl, wall, f"bench/run.py --impl {impl}")), encoding="utf-8")
        paths.append(path)
    written = run.combine(paths, tmp_path / "out")
    result = json.loads(written.read_text(encoding="utf-8"))
    assert written.name == "2026-11-26-n200-lat50.json" and written.with_suffix(".svg").is_file()
    assert [c["wall_ratio"] for c in result["comparisons"]] == [5.0]
    assert "--impl ours" in result["command"] and "--impl baseline" in result["command"]


def test_lab_cpu_counts_the_server_and_its_pwsh_workers_per_remote_call():
    before, after = {"server": 10.0, "pwsh": 20.0}, {"server": 11.0, "pwsh": 23.0}
    assert run.lab_cpu(before, after, 8) == {
        "lab_server_cpu_s": 4.0,
        "lab_pwsh_cpu_s": 3.0,
        "lab_cpu_per_call_ms": 500.0,
    }
    assert run.lab_cpu(None, after, 8)["lab_cpu_per_call_ms"] is None
    assert run.lab_cpu(before, after, 0)["lab_cpu_per_call_ms"] is None


def test_the_lab_cpu_includes_the_pwsh_workers_the_server_started():
    import os
    import subprocess
    import sys

    from bench import labctl

    # The child stands in for a pwsh worker: it burns 0.3 s of its OWN CPU, then says so and waits. Waiting for that
    # line (not for a fixed wall time, which a loaded machine may spend on other processes) makes the count certain.
    burn = "import sys, time\nwhile time.process_time() < 0.3: pass\nprint('burnt', flush=True)\nsys.stdin.read()"
    child = subprocess.Popen([sys.executable, "-c", burn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "burnt"
        lab = labctl.Lab.__new__(labctl.Lab)
        lab.pid = os.getpid()
        usage = lab.cpu_s()
        assert usage is not None and usage["pwsh"] >= 0.2  # the busy child's CPU is counted
    finally:
        child.kill()
        child.wait()
