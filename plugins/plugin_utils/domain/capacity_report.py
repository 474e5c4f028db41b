# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The capacity report of ``playbooks/plan.yml``, as data: built from ``info`` results and the planned load.

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

:func:`build_report` is pure data: for every process server the tier it qualifies for [7.1], its planned load,
the verdict (can it carry that load, shortfalls named) and its health [7.5]; then the fleet plan (how many
process servers the load needs, which machines move, which servers to add) from :mod:`fleet_planner`. Every
number comes from :mod:`sizing` and :mod:`fleet_planner` unchanged, so the report says what the filters say.

``report/capacity_page.py`` renders that dictionary as one self-contained HTML page (the Jinja2 template).

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

from collections.abc import Mapping, Sequence
from typing import Any

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


def percent_of_cap(value: float, cap: float) -> float:
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
                "machines_percent": percent_of_cap(load.protected_machines, tier.max_protected_machines),
                "churn_percent": percent_of_cap(load.daily_churn_gb, tier.max_daily_churn_gb),
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
