# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report of ``playbooks/plan.yml``: built from ``info`` results and the planned load, rendered as HTML.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

:func:`build_report` is pure data: for every process server the tier it qualifies for [7.1], its planned load,
the verdict (can it carry that load, shortfalls named) and its health [7.5]; then the fleet plan (how many
process servers the load needs, which machines move, which servers to add) from :mod:`fleet_planner`. Every
number comes from :mod:`sizing` and :mod:`fleet_planner` unchanged, so the report says what the filters say.

:func:`render_html` turns that dictionary into one self-contained HTML page (inline CSS and SVG, no script,
no network), escaping every value it shows.

Planned load per host: ``asr_planned_load`` ({protected_machines, daily_churn_gb}) when the host has one, else
the machines of ``asr_source_machines`` whose ``current_process_server`` is that host. The fleet plan uses
``asr_source_machines`` when given; otherwise each host's planned load stands for that many machines of equal
churn on that host (``fleet.machines_synthesized`` is then true and moves are only meaningful as counts).

Configuration servers: each host's membership is the configuration server its survey says it is registered to
(amethyst.conf CS_IP [6.5], ``info``'s ``asr.registration``). The fleet plan moves machines only between
process servers of the same configuration server, never onto a host whose membership is unknown (not
installed, not registered, survey failed: ``configuration_server_unknown`` says which), and the report groups
the servers by configuration server (:mod:`fleet_planner`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import markupsafe

from . import health, sizing
from .errors import AsrError, InvalidOption
from .fleet_planner import (
    DEFAULT_MAX_UTILISATION,
    DEFAULT_NEW_SERVER_TIER,
    MEMBERSHIP_GIVEN,
    check_machines,
    check_options,
    plan_fleet,
)

REPORT_FORMAT = "asr.process_server.capacity_report/v1"
FITS = "fits"
OVER = "over_capacity"
NO_TIER = "no_tier"
NO_LOAD = "no_planned_load"
UNKNOWN = "survey_failed"
# playbooks/plan.yml: the variable an operator sets for each input of the report
PLAYBOOK_VARIABLES = {
    "asr_planned_load": "planned_load",
    "asr_source_machines": "source_machines",
    "asr_max_utilisation": "max_utilisation",
    "asr_new_server_tier": "new_server_tier",
    "asr_keep_current": "keep_current",
}
STATUS_TEXT = {
    FITS: "fits its planned load",
    OVER: "cannot carry its planned load",
    NO_TIER: "qualifies for no tier",
    NO_LOAD: "no planned load",
    UNKNOWN: "survey failed",
}
# The summary cards: one per status, so that they add up to the process servers surveyed.
STATUS_CARDS = {
    FITS: "Fit their load",
    OVER: "Cannot carry their load",
    NO_TIER: "Qualify for no tier",
    NO_LOAD: "No planned load",
    UNKNOWN: "Survey failed",
}
# Load against a cap is compared, and shown, as a percentage rounded to this many decimals: 80 machines of
# 10.24 GB/day add up to 819.2000000000005 GB/day in floating point, which is 80.0 % of 1024 GB/day (the
# planning limit), not above it.
PERCENT_DECIMALS = 1


# ---- checking the inputs -----------------------------------------------------------------------------------
def options_from_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Check plan.yml's variables before any remote call; return the options of :func:`build_report`.

    ``variables`` holds any of :data:`PLAYBOOK_VARIABLES` (one host's ``asr_planned_load``, the fleet's
    ``asr_source_machines``, ``asr_max_utilisation``, ``asr_new_server_tier``, ``asr_keep_current``); unset
    (None) ones take the defaults. Errors are :class:`InvalidOption` naming the variable and what is allowed.
    ``asr_max_utilisation`` may be a numeric string and ``asr_keep_current`` a yes/no string, as ``-e`` gives them.
    """
    if not isinstance(variables, Mapping):
        raise InvalidOption("variables", variables, "a mapping of " + ", ".join(PLAYBOOK_VARIABLES))
    unknown = sorted(str(name) for name in variables if name not in PLAYBOOK_VARIABLES)
    if unknown:
        raise InvalidOption("variables", ", ".join(unknown), "the variables " + ", ".join(PLAYBOOK_VARIABLES))
    given = {PLAYBOOK_VARIABLES[name]: value for name, value in variables.items() if value is not None}
    names = {key: name for name, key in PLAYBOOK_VARIABLES.items()}
    if "planned_load" in given:
        sizing.planned_load_from(given["planned_load"], names["planned_load"])
    if "source_machines" in given:
        check_machines(given["source_machines"], names["source_machines"])
    return check_options(
        sizing.number_text(given.get("max_utilisation", DEFAULT_MAX_UTILISATION)),
        given.get("new_server_tier", DEFAULT_NEW_SERVER_TIER),
        sizing.bool_text(given.get("keep_current", True)),
        names,
    )


# ---- building ----------------------------------------------------------------------------------------------
def _survey_error(info: Any) -> str | None:
    if not isinstance(info, Mapping):
        return "no info result for this host"
    if info.get("unreachable"):
        return f"unreachable: {info.get('msg') or 'no connection'}"
    if info.get("failed") or "asr" not in info:
        return f"info failed: {info.get('msg') or 'no asr facts returned'}"
    return None


def _load_from_machines(name: str, machines: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    mine = [m for m in machines if m.get("current_process_server") == name]
    if not mine:
        return None
    return {
        "protected_machines": len(mine),
        "daily_churn_gb": round(sum(float(m.get("daily_churn_gb") or 0) for m in mine), 3),
    }


def _percent(value: float, cap: float) -> float:
    return round(100.0 * value / cap, PERCENT_DECIMALS) if cap else 0.0


def membership(info: Any) -> tuple[str | None, str | None]:
    """(configuration server, None) from a host's survey, or (None, why it is unknown)."""
    error = _survey_error(info)
    if error:
        return None, f"survey failed ({error})"
    asr = info["asr"]
    registration = asr.get("registration") or {}
    if not asr.get("installed"):
        return None, "the process server is not installed"
    if not registration.get("registered") or not registration.get("configuration_server_ip"):
        return None, "not registered to a configuration server (amethyst.conf has no CS_IP) [6.5]"
    return str(registration["configuration_server_ip"]), None


def _host_entry(item: Mapping[str, Any], machines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    name = str(item["name"])
    error = _survey_error(item.get("info"))
    planned = item.get("planned_load")
    load_source = "asr_planned_load" if planned else None
    if not planned:
        planned = _load_from_machines(name, machines)
        load_source = "asr_source_machines" if planned else None
    configuration_server, unknown_why = membership(item.get("info"))
    entry: dict[str, Any] = {
        "name": name,
        "status": UNKNOWN,
        "error": error,
        "configuration_server": configuration_server,
        "configuration_server_unknown": unknown_why,
        "tier": None,
        "tier_detail": None,
        "host_facts": None,
        "qualification_shortfalls": [],
        "planned_load": dict(planned) if planned else None,
        "load_source": load_source,
        "needed_tier": None,
        "fits": None,
        "shortfalls": [],
        "utilisation": None,
        "health": None,
    }
    if error:
        return entry
    asr = item["info"]["asr"]
    facts = sizing.HostFacts(**asr["sizing"]["host_facts"])
    # Members of the process_servers group are sized as scale-out process servers [7.1].
    qualification = sizing.qualifying_tier(facts, sizing.PROCESS_SERVER)
    tier = qualification.tier
    entry.update(
        tier=tier.name if tier else None,
        tier_detail=tier.to_dict() if tier else None,
        host_facts=facts.to_dict(),
        qualification_shortfalls=list(qualification.shortfalls),
    )
    cache = asr.get("cache_drive") or {}
    report_health = asr.get("health") or {}
    entry["health"] = {
        "status": report_health.get("status"),
        "cache_free_percent": cache.get("free_percent"),
        "cache_drive": cache.get("drive"),
        "alerts": [a.get("message") for a in report_health.get("alerts") or []],
        "not_measured": list(report_health.get("not_measured") or []),
    }
    if planned:
        load = sizing.planned_load_from(planned, f"planned_load of {name}")
        verdict = sizing.sizing_verdict(facts, load, sizing.PROCESS_SERVER)
        entry.update(
            needed_tier=verdict.needed_tier.name if verdict.needed_tier else None,
            fits=verdict.fits,
            shortfalls=list(verdict.shortfalls),
        )
        if tier:
            entry["utilisation"] = {
                "machines_percent": _percent(load.protected_machines, tier.max_protected_machines),
                "churn_percent": _percent(load.daily_churn_gb, tier.max_daily_churn_gb),
            }
    if tier is None:
        entry["status"] = NO_TIER
        entry["shortfalls"] = entry["shortfalls"] or list(qualification.shortfalls)
    elif not planned:
        entry["status"] = NO_LOAD
    else:
        entry["status"] = FITS if entry["fits"] else OVER
    return entry


def _synthesize(hosts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each host's planned load as that many machines of equal churn currently on the host."""
    machines = []
    for host in hosts:
        load = host.get("planned_load")
        if not load or host.get("load_source") != "asr_planned_load":
            continue
        count = int(load["protected_machines"])
        each = float(load["daily_churn_gb"]) / count if count else 0.0
        machines.extend(
            {"name": f"{host['name']}/machine-{i:03d}", "daily_churn_gb": each, "current_process_server": host["name"]}
            for i in range(1, count + 1)
        )
    return machines


def _with_membership(machines: list[dict[str, Any]], hosts: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Machines on a host the plan cannot use (no tier) take that host's configuration server, when known, so
    they move within it; the others keep what they say."""
    excluded = {h["name"]: h["configuration_server"] for h in hosts if not h["tier"] and h["configuration_server"]}
    return [
        {**m, "configuration_server": excluded[m["current_process_server"]]}
        if m.get("current_process_server") in excluded and not m.get("configuration_server")
        else m
        for m in machines
    ]


def _move_summary(moves: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for move in moves:
        key = (move["from_server"], move["to_server"])
        row = grouped.setdefault(
            key, {"from_server": key[0], "to_server": key[1], "machines": 0, "daily_churn_gb": 0.0}
        )
        row["machines"] += 1
        row["daily_churn_gb"] = round(row["daily_churn_gb"] + float(move["daily_churn_gb"]), 3)
    return sorted(grouped.values(), key=lambda r: (r["from_server"], r["to_server"]))


def _fleet(
    hosts: Sequence[Mapping[str, Any]],
    machines: Sequence[Mapping[str, Any]],
    max_utilisation: float,
    new_server_tier: str,
    keep_current: bool,
) -> dict[str, Any] | None:
    synthesized = not machines
    plan_machines = _with_membership(list(machines) if machines else _synthesize(hosts), hosts)
    if not plan_machines:
        return None
    servers = [
        {
            "name": h["name"],
            "tier": h["tier"],
            "configuration_server": h["configuration_server"],
            "configuration_server_unknown": h["configuration_server_unknown"],
        }
        for h in hosts
        if h["tier"]
    ]
    fleet: dict[str, Any] = {
        "machines_synthesized": synthesized,
        "machine_count": len(plan_machines),
        "total_daily_churn_gb": round(sum(float(m.get("daily_churn_gb") or 0) for m in plan_machines), 3),
        "servers_given": servers,
        "excluded_servers": [h["name"] for h in hosts if not h["tier"]],
        "error": None,
        "plan": None,
        "move_summary": [],
    }
    try:
        plan = plan_fleet(
            plan_machines,
            servers,
            max_utilisation=max_utilisation,
            new_server_tier=new_server_tier,
            keep_current=keep_current,
        ).to_dict()
    except AsrError as exc:
        fleet["error"] = str(exc)
        return fleet
    fleet["plan"] = plan
    fleet["move_summary"] = _move_summary(plan["moves"])
    return fleet


def build_report(
    hosts: Sequence[Mapping[str, Any]],
    source_machines: Sequence[Mapping[str, Any]] | None = None,
    *,
    max_utilisation: float = DEFAULT_MAX_UTILISATION,
    new_server_tier: str = DEFAULT_NEW_SERVER_TIER,
    keep_current: bool = True,
    generated: str | None = None,
    load_source: str | None = None,
) -> dict[str, Any]:
    """The capacity report for ``hosts`` (each ``{name, info, planned_load}``; ``info`` is an info result).

    ``load_source`` says where the current load came from (plan.yml: the inventory's variables, or the vault's
    protected machines with churn from the inventory); the report and its summary repeat it.

    Bad options or source machines raise :class:`InvalidOption` (they are inputs, not findings); a fleet
    that cannot be planned from valid inputs (a machine above 2 TB/day [7.3]) is reported in
    ``fleet.error`` and ``summary.fleet_error``.
    """
    check_options(max_utilisation, new_server_tier, keep_current)
    check_machines(source_machines or [], "source_machines")
    machines = [dict(m) for m in source_machines or []]
    entries = [_host_entry(item, machines) for item in hosts]
    fleet = _fleet(entries, machines, max_utilisation, new_server_tier, keep_current)
    plan = (fleet or {}).get("plan") or {}
    counts = {status: sum(1 for e in entries if e["status"] == status) for status in STATUS_TEXT}
    return {
        "format": REPORT_FORMAT,
        "generated": generated,
        "max_utilisation": max_utilisation,
        "tiers": [t.to_dict() for t in sizing.tiers_for(sizing.PROCESS_SERVER)],
        "health_thresholds": health_thresholds(),
        "hosts": entries,
        "fleet": fleet,
        "load_source": load_source or "inventory variables (asr_planned_load, asr_source_machines)",
        "summary": {
            "process_servers": len(entries),
            "by_status": counts,
            "servers_needed": plan.get("servers_needed"),
            "lower_bound": plan.get("lower_bound"),
            "additional_servers": plan.get("additional_servers") or {},
            "moves": len(plan.get("moves") or []),
            "unplaced": len(plan.get("unplaced") or []),
            "fleet_error": (fleet or {}).get("error"),
        },
    }


def status_cards(summary: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(status, card label, count) for every status: the counts add up to ``summary.process_servers``."""
    return [(status, label, int(summary["by_status"].get(status, 0))) for status, label in STATUS_CARDS.items()]


def health_thresholds() -> list[dict[str, Any]]:
    """[7.5] the portal's warning and critical thresholds, for the report's table."""
    return [
        {"metric": "CPU utilisation", "unit": "%", "warning": f"> {health.CPU_WARNING_PERCENT}",
         "critical": f"> {health.CPU_CRITICAL_PERCENT}"},
        {"metric": "Memory usage", "unit": "%", "warning": f"> {health.MEMORY_WARNING_PERCENT}",
         "critical": f"> {health.MEMORY_CRITICAL_PERCENT}"},
        {"metric": "Cache drive free space", "unit": "%", "warning": f"< {health.CACHE_FREE_WARNING_PERCENT}",
         "critical": f"< {health.CACHE_FREE_CRITICAL_PERCENT}"},
        {"metric": "Pending data upload time", "unit": "min", "warning": f"> {health.UPLOAD_WARNING_MINUTES}",
         "critical": f"> {health.UPLOAD_CRITICAL_MINUTES}"},
        {"metric": "No heartbeat", "unit": "min", "warning": "-",
         "critical": f">= {health.HEARTBEAT_CRITICAL_MINUTES}"},
        {"metric": "Process server services", "unit": "", "warning": "any not running", "critical": "-"},
    ]  # fmt: skip


def summary_lines(report: Mapping[str, Any]) -> list[str]:
    """A few readable lines for the playbook's closing debug task."""
    lines = [f"load from: {report['load_source']}"] if report.get("load_source") else []
    for host in report["hosts"]:
        load = host.get("planned_load")
        load_text = (
            f"{load['protected_machines']} machines, {load['daily_churn_gb']:g} GB/day" if load else "no planned load"
        )
        line = f"{host['name']}: tier {host['tier'] or 'none'}; {load_text}"
        if host.get("configuration_server"):
            line += f"; configuration server {host['configuration_server']}"
        elif host["status"] != UNKNOWN:
            line += f"; configuration server unknown ({host.get('configuration_server_unknown')})"
        if host["status"] != NO_LOAD:
            line += f"; {STATUS_TEXT[host['status']]}"
        if host.get("error"):
            line += f" ({host['error']})"
        if host["status"] in (OVER, NO_TIER) and host["shortfalls"]:
            line += " - " + "; ".join(host["shortfalls"])
        lines.append(line)
    fleet = report.get("fleet")
    if fleet is None:
        lines.append("fleet plan: no planned load (set asr_planned_load or asr_source_machines)")
    elif fleet["error"]:
        lines.append(f"fleet plan: {fleet['error']}")
    else:
        plan = fleet["plan"]
        add = ", ".join(f"{n} x {t}" for t, n in plan["additional_servers"].items()) or "none"
        lines.append(
            f"fleet plan: {fleet['machine_count']} machines, {fleet['total_daily_churn_gb']:g} GB/day need "
            f"{plan['servers_needed']} process server(s) (lower bound {plan['lower_bound']}); add: {add}; "
            f"moves: {len(plan['moves'])}; unplaced: {len(plan['unplaced'])}"
        )
        if plan.get("membership") == MEMBERSHIP_GIVEN:
            lines.extend(_group_line(group) for group in plan["configuration_servers"])
        lines.extend(
            f"move {m['machines']} machine(s) ({m['daily_churn_gb']:g} GB/day) {m['from_server']} -> {m['to_server']}"
            for m in fleet["move_summary"]
        )
    return lines


def _group_line(group: Mapping[str, Any]) -> str:
    servers = ", ".join(group["servers"]) or "no process server"
    if not group["configuration_server"]:
        return f"configuration server unknown: {servers} (receive no machine; {group['unplaced']} unplaced)"
    add = ", ".join(f"{n} x {t}" for t, n in group["additional_servers"].items()) or "none"
    return (
        f"configuration server {group['configuration_server']}: {servers}; needs {group['servers_needed']} "
        f"(lower bound {group['lower_bound']}); add: {add}; moves in: {group['moves']}"
    )


# ---- the page's data --------------------------------------------------------------------------------------------
# :func:`page_data` turns a report into everything the HTML page shows - texts, numbers, and the charts' geometry -
# and nothing else: the markup, the styles and the wording around the numbers are the Jinja2 template's
# (templates/capacity_report.html.j2), which an operator may replace or extend without Python (:func:`render_html`).
TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
TEMPLATE = "capacity_report.html.j2"
# An operator's own template extends the shipped one by this name: {% extends "asr/capacity_report.html.j2" %}.
SHIPPED_PREFIX = "asr"
BAR_COLOURS = {"ok": "#2f80ed", "warn": "#f2994a", "over": "#d64545"}
CACHE_FREE_COLOUR = "#27ae60"
_AXIS_STEP_PERCENT = 50
_BAR_KINDS = (("machines", "max_machines"), ("churn", "max_churn"))


def load_bar(value: float, cap: float, utilisation: float) -> dict[str, Any]:
    """One bar's numbers: the percentage of ``cap`` (rounded, :data:`PERCENT_DECIMALS`) and its state.

    The state compares that same rounded percentage: ``over`` above 100 %, ``warn`` above the planning limit
    (``utilisation`` as a rounded percentage), else ``ok``. The chart shows this percentage.
    """
    percent = _percent(value, cap)
    limit = round(100.0 * utilisation, PERCENT_DECIMALS)
    state = "over" if percent > 100 else "warn" if percent > limit else "ok"
    return {"value": value, "cap": cap, "percent": percent, "limit_percent": limit, "state": state}


def axis_max_percent(rows: Sequence[Mapping[str, Any]]) -> int:
    """The load chart's scale: at least 150 %, else the largest bar rounded up to a tick, so no bar is cut."""
    largest = max(
        (_percent(float(row[kind] or 0), row[cap]) for row in rows for kind, cap in _BAR_KINDS if row.get(cap)),
        default=0.0,
    )
    ticks = math.ceil(largest / _AXIS_STEP_PERCENT - 1e-9)
    return max(150, ticks * _AXIS_STEP_PERCENT)


def _load_chart(rows: Sequence[Mapping[str, Any]], utilisation: float, chart_id: str, title: str) -> dict[str, Any]:
    """Per server, two bars (machines, churn) against its caps, with the planning line (e.g. 80 %) and the cap.

    Each bar is scaled to its own cap (the cap sits at 100 %); the scale reaches the largest bar
    (:func:`axis_max_percent`), so a bar is never cut. A host without a survey or without a tier has no cap:
    ``missing`` says which. A row ``{"header": text}`` starts a group (a configuration server's process servers).
    """
    label_w, plot_w, row_h, header_h, top = 170, 640, 54, 26, 34
    scale_max = axis_max_percent(rows)
    placed, y = [], top
    for row in rows:
        placed.append((y, row))
        y += header_h if "header" in row else row_h
    width, height = label_w + plot_w + 260, y + 30

    def x_of(percent: float) -> float:
        return label_w + plot_w * max(0.0, percent) / scale_max

    step = _AXIS_STEP_PERCENT if scale_max <= 300 else 2 * _AXIS_STEP_PERCENT
    out_rows = []
    for y, row in placed:
        if "header" in row:
            out_rows.append({"header": row["header"], "y": y})
            continue
        failed = row.get("status") == UNKNOWN
        bars = []
        for kind, value, cap, unit, dy in (
            ("machines", row["machines"], row["max_machines"], "machines", 4),
            ("churn", row["churn"], row["max_churn"], "GB/day", 26),
        ):
            value = float(value or 0)
            drawn: dict[str, Any] = {"kind": kind, "unit": unit, "y": y + dy, "value": value, "cap": cap}
            if failed or not cap:
                drawn["missing"] = "survey failed: no data" if failed else f"{value:g} {unit} (no tier: no cap)"
            else:
                numbers = load_bar(value, cap, utilisation)
                drawn.update(
                    missing=None,
                    percent=numbers["percent"],
                    state=numbers["state"],
                    colour=BAR_COLOURS[numbers["state"]],
                    width=x_of(numbers["percent"]) - label_w,
                    limit_x=x_of(numbers["limit_percent"]),
                    cap_x=x_of(100),
                    shown_value=round(value, PERCENT_DECIMALS),
                )
            bars.append(drawn)
        tier_text = "survey failed" if failed else f"tier {row['tier'] or 'none'}"
        out_rows.append({"name": row["name"], "tier_text": tier_text, "y": y, "bars": bars})
    return {
        "id": chart_id,
        "title": title,
        "width": width,
        "height": height,
        "top": top,
        "label_w": label_w,
        "value_x": label_w + plot_w + 6,
        "ticks": [{"percent": pct, "x": x_of(pct)} for pct in range(0, scale_max + 1, step)],
        "rows": out_rows,
    }


def _health_chart(hosts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Cache drive free space per host against the 30 % warning and 25 % critical lines [7.5]."""
    label_w, plot_w, row_h, top = 190, 600, 26, 34
    width, height = label_w + plot_w + 150, top + row_h * max(1, len(hosts)) + 30

    def x_of(pct: float) -> float:
        return label_w + plot_w * max(0.0, min(pct, 100.0)) / 100

    rows = []
    for index, host in enumerate(hosts):
        free = (host.get("health") or {}).get("cache_free_percent")
        row: dict[str, Any] = {"name": host["name"], "y": top + index * row_h, "free": None}
        if free is None:
            row["missing"] = "survey failed" if host.get("status") == UNKNOWN else "not measured"
        else:
            free = float(free)
            if free < health.CACHE_FREE_CRITICAL_PERCENT:
                colour = BAR_COLOURS["over"]
            elif free < health.CACHE_FREE_WARNING_PERCENT:
                colour = BAR_COLOURS["warn"]
            else:
                colour = CACHE_FREE_COLOUR
            row.update(missing=None, free=free, width=x_of(free) - label_w, colour=colour)
        rows.append(row)
    return {
        "id": "health-chart",
        "title": "Cache drive free space",
        "width": width,
        "height": height,
        "top": top,
        "label_w": label_w,
        "value_x": label_w + plot_w + 6,
        "ticks": [{"percent": pct, "x": x_of(pct)} for pct in (0, 25, 30, 50, 75, 100)],
        "lines": [
            {"name": "warning", "x": x_of(health.CACHE_FREE_WARNING_PERCENT), "colour": BAR_COLOURS["warn"]},
            {"name": "critical", "x": x_of(health.CACHE_FREE_CRITICAL_PERCENT), "colour": "#b42318"},
        ],
        "rows": rows,
    }


def group_header(configuration_server: str | None, unknown_why: str | None = None) -> str:
    """The heading of a configuration server's process servers in the charts and tables."""
    if configuration_server:
        return f"Configuration server {configuration_server}"
    return "Configuration server unknown" + (f" ({unknown_why})" if unknown_why else "") + ": receives no machine"


def _grouped(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` ordered by configuration server (known ones in order of appearance, unknown last), each group
    headed by a ``{"header": ...}`` row."""
    order: dict[str | None, int] = {}
    for row in rows:
        order.setdefault(row["configuration_server"], len(order))
    ranked = sorted(rows, key=lambda r: (r["configuration_server"] is None, order[r["configuration_server"]]))
    out: list[dict[str, Any]] = []
    current: object = object()
    for row in ranked:
        if row["configuration_server"] != current:
            current = row["configuration_server"]
            out.append({"header": group_header(row["configuration_server"])})
        out.append(row)
    return out


def _chart_rows_before(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for h in report["hosts"]:
        tier = h.get("tier_detail") or {}
        load = h.get("planned_load") or {}
        rows.append(
            {
                "name": h["name"],
                "status": h["status"],
                "tier": h.get("tier"),
                "machines": load.get("protected_machines", 0),
                "churn": load.get("daily_churn_gb", 0),
                "max_machines": tier.get("max_protected_machines"),
                "max_churn": tier.get("max_daily_churn_gb"),
                "configuration_server": h.get("configuration_server"),
            }
        )
    return _grouped(rows)


def _chart_rows_after(plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = [
        {
            "name": s["name"] + (" (new)" if s["new"] else ""),
            "tier": s["tier"],
            "machines": s["protected_machines"],
            "churn": s["daily_churn_gb"],
            "max_machines": s["max_protected_machines"],
            "max_churn": s["max_daily_churn_gb"],
            "configuration_server": s.get("configuration_server"),
        }
        for s in plan["servers"]
    ]
    return _grouped(rows) if plan.get("membership") == MEMBERSHIP_GIVEN else rows


def _host_row(host: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the process servers' table."""
    health_info = host.get("health") or {}
    return {
        "name": host["name"],
        "configuration_server": host.get("configuration_server")
        or f"unknown: {host.get('configuration_server_unknown')}",
        "facts": host.get("host_facts"),
        "tier": "unknown (survey failed)" if host["status"] == UNKNOWN else host.get("tier") or "none",
        "planned_load": host.get("planned_load"),
        "load_source": host.get("load_source"),
        "needed_tier": host.get("needed_tier"),
        "status": host["status"],
        "status_text": STATUS_TEXT[host["status"]],
        "error": host.get("error"),
        "shortfalls": list(host.get("shortfalls") or []),
        "health": health_info.get("status"),
        "alerts": list(health_info.get("alerts") or []),
    }


def _servers_to_add(additional: Mapping[str, int]) -> str:
    return ", ".join(f"{n} x {t}" for t, n in additional.items()) or "none"


def _fleet_data(fleet: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The fleet plan section: None without planned load, ``error`` when it could not be planned."""
    if fleet is None:
        return None
    plan = fleet.get("plan")
    if fleet.get("error") or not plan:
        return {"error": fleet.get("error")}
    return {
        "error": None,
        "machine_count": fleet["machine_count"],
        "total_daily_churn_gb": fleet["total_daily_churn_gb"],
        "servers_needed": plan["servers_needed"],
        "lower_bound": plan["lower_bound"],
        "servers_to_add": _servers_to_add(plan["additional_servers"]),
        "machines_synthesized": bool(fleet.get("machines_synthesized")),
        "gap_reason": plan.get("gap_reason"),
        "excluded_servers": ", ".join(fleet.get("excluded_servers") or []),
        "membership_given": plan.get("membership") == MEMBERSHIP_GIVEN,
        "configuration_servers": [
            {**g, "servers": ", ".join(g["servers"]), "servers_to_add": _servers_to_add(g["additional_servers"])}
            for g in plan.get("configuration_servers") or []
        ],
        "move_summary": list(fleet["move_summary"]),
        "machine_moves": [] if fleet.get("machines_synthesized") else list(plan["moves"]),
        "unplaced": list(plan["unplaced"]),
    }


def page_data(report: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the capacity report page shows, computed: the template only lays it out."""
    utilisation = float(report.get("max_utilisation") or DEFAULT_MAX_UTILISATION)
    summary = report["summary"]
    fleet = report.get("fleet")
    plan = (fleet or {}).get("plan")
    return {
        "generated": report.get("generated"),
        "format": report.get("format"),
        "limit_percent": round(utilisation * 100),
        "percent_decimals": PERCENT_DECIMALS,
        "process_servers": summary["process_servers"],
        "status_cards": [{"status": s, "label": label, "count": n} for s, label, n in status_cards(summary)],
        "servers_needed": summary.get("servers_needed"),
        "moves": summary.get("moves"),
        "bar_colours": BAR_COLOURS,
        "planned_chart": _load_chart(
            _chart_rows_before(report), utilisation, "load-chart-planned", "Planned load (before moves)"
        ),
        "plan_chart": _load_chart(
            _chart_rows_after(plan), utilisation, "load-chart-plan", "Load per server after the plan"
        )
        if plan
        else None,
        "health_chart": _health_chart(report["hosts"]),
        "hosts": [_host_row(h) for h in report["hosts"]],
        "tiers": list(report["tiers"]),
        "fleet": _fleet_data(fleet),
        "thresholds": list(report["health_thresholds"]),
    }


# ---- the page ------------------------------------------------------------------------------------------------
def shown(value: Any) -> str:
    """A value as the page shows it (``-`` for none, floats without trailing zeros); escaping is the template's."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


_BETWEEN_TAGS = re.compile(r"(?<=>)\n[ \t]*|\n[ \t]*(?=<)")


def oneline(text: Any) -> Any:
    """The template's line breaks and indentation between tags removed (a value's own line breaks stay)."""
    joined = _BETWEEN_TAGS.sub("", str(text)).strip(" \t\n")
    return markupsafe.Markup(joined) if isinstance(text, markupsafe.Markup) else joined


def _environment(template: str | None) -> tuple[jinja2.Environment, str]:
    """The Jinja2 environment (autoescape on, undefined names are errors) and the name of the page's template.

    Without ``template`` the shipped one; with it, that file (an operator's), which may extend the shipped one as
    ``asr/capacity_report.html.j2`` and override its blocks.
    """
    shipped = jinja2.FileSystemLoader(TEMPLATE_DIR)
    loaders: list[jinja2.BaseLoader] = [jinja2.PrefixLoader({SHIPPED_PREFIX: shipped})]
    name = f"{SHIPPED_PREFIX}/{TEMPLATE}"
    if template is not None:
        path = os.path.abspath(template)
        if not os.path.isfile(path):
            raise InvalidOption("template", template, "the path of a Jinja2 template file on the controller")
        loaders.insert(0, jinja2.FileSystemLoader(os.path.dirname(path)))
        name = os.path.basename(path)
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    environment.filters["shown"] = shown
    environment.filters["oneline"] = oneline
    return environment, name


def render_html(report: Mapping[str, Any], template: str | None = None) -> str:
    """One self-contained HTML page (inline CSS and SVG charts, no script, no network) for ``report``.

    ``template``: the path of an operator's Jinja2 template on the controller instead of the shipped one; it gets
    the same data (:func:`page_data`) and autoescaping.
    """
    environment, name = _environment(template)
    try:
        return environment.get_template(name).render(page=page_data(report))
    except jinja2.TemplateError as exc:
        where = f" ({template})" if template else ""
        raise InvalidOption(
            "template", template or TEMPLATE, "a Jinja2 template the capacity report data renders in", f"{exc}{where}."
        ) from exc
