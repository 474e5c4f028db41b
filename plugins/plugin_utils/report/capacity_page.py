# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report's HTML page: the data the Jinja2 template shows, and the rendering.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

:func:`render_html` turns a capacity report (``domain/capacity_report.py`` :func:`build_report`) into one
self-contained HTML page (inline CSS and SVG, no script, no network), escaping every value it shows.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jinja2
import markupsafe

from ..domain import health
from ..domain.capacity_report import PERCENT_DECIMALS, STATUS_CARDS, STATUS_TEXT, UNKNOWN, percent_of_cap
from ..domain.errors import InvalidOption
from ..domain.fleet_planner import DEFAULT_MAX_UTILISATION, MEMBERSHIP_GIVEN


def status_cards(summary: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """(status, card label, count) for every status: the counts add up to ``summary.process_servers``."""
    return [(status, label, int(summary["by_status"].get(status, 0))) for status, label in STATUS_CARDS.items()]


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
    percent = percent_of_cap(value, cap)
    limit = round(100.0 * utilisation, PERCENT_DECIMALS)
    state = "over" if percent > 100 else "warn" if percent > limit else "ok"
    return {"value": value, "cap": cap, "percent": percent, "limit_percent": limit, "state": state}


def axis_max_percent(rows: Sequence[Mapping[str, Any]]) -> int:
    """The load chart's scale: at least 150 %, else the largest bar rounded up to a tick, so no bar is cut."""
    largest = max(
        (percent_of_cap(float(row[kind] or 0), row[cap]) for row in rows for kind, cap in _BAR_KINDS if row.get(cap)),
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
