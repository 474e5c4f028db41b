# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Capacity report and preflight filters: thin adapters from playbook data to the domain core.

The logic lives in plugins/plugin_utils/report/capacity_report.py and preflight.py (pure, unit-tested Python);
playbooks/plan.yml and playbooks/preflight.yml only call these filters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import capacity_report as report_mod
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import preflight as preflight_mod
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError
from ansible_collections.asr.process_server.plugins.plugin_utils.report import capacity_page
from ansible_collections.asr.process_server.plugins.plugin_utils.report.filter_support import plain, unknown_options

T = TypeVar("T")


# What the domain core raises on data it cannot use: the filter fails with it, named.
DATA_ERRORS: tuple[type[Exception], ...] = (AsrError, TypeError, KeyError, ValueError)


def _domain_call(
    prefix: str, func: Callable[..., T], *args: Any, errors: tuple[type[Exception], ...] = DATA_ERRORS, **kwargs: Any
) -> T:
    """``func(*args, **kwargs)``, with each of ``errors`` turned into the filter's failure (``prefix`` + the error)."""
    try:
        return func(*args, **kwargs)
    except errors as exc:
        raise AnsibleFilterError(f"{prefix}{exc}") from exc


def capacity_report(hosts: Any, source_machines: Any = None, **options: Any) -> dict[str, Any]:
    """Build the capacity report from ``[{name, info, planned_load}]``; see capacity_report.yml."""
    problem = unknown_options(
        "capacity_report",
        options,
        {"max_utilisation", "new_server_tier", "keep_current", "generated", "load_source"},
    )
    if problem:
        raise AnsibleFilterError(problem)
    if not isinstance(hosts, list | tuple):
        raise AnsibleFilterError("capacity_report: input must be a list of {name, info, planned_load}")
    return _domain_call(
        "capacity_report: ", report_mod.build_report, plain(hosts), plain(source_machines) or [], **options
    )


def capacity_plan_options(variables: Any) -> dict[str, Any]:
    """Check plan.yml's variables (by name) before any remote call; the options of capacity_report."""
    return _domain_call("", report_mod.options_from_variables, plain(variables), errors=(AsrError,))


def capacity_report_html(report: Any, template: Any = None) -> str:
    """Render a capacity report as one self-contained HTML page with the shipped Jinja2 template or ``template``."""
    if template is not None and not isinstance(template, str):
        raise AnsibleFilterError(f"capacity_report_html: template must be a file path (a string), not {template!r}")
    try:
        return capacity_page.render_html(plain(report), template or None)
    except AsrError as exc:
        raise AnsibleFilterError(f"capacity_report_html: {exc}") from exc
    except (KeyError, TypeError) as exc:
        raise AnsibleFilterError(f"capacity_report_html: not a capacity report ({exc})") from exc


def capacity_report_summary(report: Any) -> list[str]:
    """Readable summary lines of a capacity report."""
    return report_mod.summary_lines(plain(report))


def preflight(info: Any, expectations: Any = None) -> list[dict[str, str]]:
    """Findings (code, severity, message) for one host's info result; see preflight.yml."""
    findings = _domain_call("preflight: ", preflight_mod.evaluate, plain(info), plain(expectations) or {})
    return [b.to_dict() for b in findings]


def preflight_expectations(variables: Any) -> dict[str, Any]:
    """Check preflight.yml's variables (by name) before any remote call; the expectations of preflight."""
    return _domain_call("", preflight_mod.expectations_from_variables, plain(variables), errors=(AsrError,))


def preflight_table(findings_by_host: Any) -> list[str]:
    """One line per host: ``OK`` or ``BLOCKED: reasons``, from ``{host: findings}``."""
    data = plain(findings_by_host)
    if not isinstance(data, dict):
        raise AnsibleFilterError("preflight_table: input must be a dictionary of host name to findings")
    width = max((len(name) for name in data), default=0)
    return [preflight_mod.verdict_line(name, data[name] or [], width) for name in sorted(data)]


def preflight_blocked(findings_by_host: Any) -> list[str]:
    """Names of the hosts with at least one blocking finding, sorted."""
    data = plain(findings_by_host)
    if not isinstance(data, dict):
        raise AnsibleFilterError("preflight_blocked: input must be a dictionary of host name to findings")
    return sorted(
        name for name, found in data.items() if any(f["severity"] == preflight_mod.BLOCK for f in found or [])
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "capacity_plan_options": capacity_plan_options,
            "capacity_report": capacity_report,
            "capacity_report_html": capacity_report_html,
            "capacity_report_summary": capacity_report_summary,
            "preflight": preflight,
            "preflight_expectations": preflight_expectations,
            "preflight_table": preflight_table,
            "preflight_blocked": preflight_blocked,
        }
