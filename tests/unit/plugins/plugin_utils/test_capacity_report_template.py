"""The HTML capacity report is a Jinja2 template shipped with the collection; Python builds only its data.

plugins/plugin_utils/report/templates/capacity_report.html.j2 holds every tag, style and word around the numbers;
capacity_report.page_data computes what the page shows (texts, numbers, the charts' geometry). An operator restyles
the page with a template of their own (capacity_report_html's ``template``, plan.yml's ``asr_report_template``),
whole or extending the shipped one block by block, with the same autoescaping.
"""

from __future__ import annotations

import json
import pathlib
import re
import shutil

import markupsafe
import pytest
from _info_results import MEDIUM, SMALL, info_result
from ansible.errors import AnsibleFilterError

from ansible_collections.asr.process_server.plugins.filter.capacity import capacity_report_html
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import capacity_report as cr
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.playbook_variables import check_host_variables
from ansible_collections.asr.process_server.plugins.plugin_utils.report import capacity_page

SHIPPED = pathlib.Path(capacity_page.TEMPLATE_DIR) / capacity_page.TEMPLATE
NASTY = '<script>alert("x")</script>&"\''


def report(name="ps01"):
    hosts = [
        {"name": name, "info": info_result(**MEDIUM), "planned_load": {"protected_machines": 60, "daily_churn_gb": 3}},
        {"name": "ps02", "info": info_result(**SMALL), "planned_load": {"protected_machines": 99, "daily_churn_gb": 5}},
    ]
    return cr.build_report(hosts, generated="2026-12-01T10:15:00Z")


def test_the_page_is_the_shipped_template(tmp_path):
    copy = tmp_path / "mine.html.j2"
    shutil.copyfile(SHIPPED, copy)
    assert capacity_page.render_html(report(), str(copy)) == capacity_page.render_html(report())
    # and changing the copy changes the page: the markup lives in the template, nowhere else
    copy.write_text(SHIPPED.read_text(encoding="utf-8").replace("capacity report</h1>", "capacity report (ACME)</h1>"))
    assert "capacity report (ACME)</h1>" in capacity_page.render_html(report(), str(copy))


def test_python_builds_only_data():
    for module in (cr, capacity_page):
        source = pathlib.Path(module.__file__).read_text(encoding="utf-8")
        assert not re.search(r"<(svg|rect|line|text|table|tr|td|th|div|p|h1|h2|span|style|html|body)\b", source)
    data = capacity_page.page_data(report())
    assert json.loads(json.dumps(data)) == data  # plain data: texts, numbers, lists, dictionaries


def test_an_operator_template_extends_the_shipped_one_and_restyles_it(tmp_path):
    mine = tmp_path / "restyled.html.j2"
    mine.write_text(
        '{% extends "asr/capacity_report.html.j2" %}\n'
        "{% block style %}{{ super() }}body{background:#102030}\n{% endblock %}\n",
        encoding="utf-8",
    )
    shipped, restyled = capacity_page.render_html(report()), capacity_page.render_html(report(), str(mine))
    assert "body{background:#102030}" in restyled
    assert restyled.replace("body{background:#102030}\n", "") == shipped  # only the block it overrides changed


def test_autoescape_is_on_in_an_operator_template_too(tmp_path):
    mine = tmp_path / "names.html.j2"
    mine.write_text("{% for host in page.hosts %}<li>{{ host.name }}</li>{% endfor %}", encoding="utf-8")
    page = capacity_page.render_html(report(NASTY), str(mine))
    assert NASTY not in page and f"<li>{markupsafe.escape(NASTY)}</li>" in page
    assert NASTY not in capacity_page.render_html(report(NASTY))  # and in the shipped one


def test_a_broken_or_missing_template_fails_naming_it(tmp_path):
    broken = tmp_path / "broken.html.j2"
    broken.write_text("{{ page.no_such_value }}", encoding="utf-8")
    with pytest.raises(InvalidOption) as raised:
        capacity_page.render_html(report(), str(broken))
    said = str(raised.value)
    assert raised.value.option == "template" and "no_such_value" in said and str(broken) in said
    with pytest.raises(InvalidOption, match="Jinja2 template file"):
        capacity_page.render_html(report(), str(tmp_path / "missing.html.j2"))


def test_the_filter_takes_the_template_and_names_a_bad_one(tmp_path):
    mine = tmp_path / "one.html.j2"
    mine.write_text("{{ page.process_servers }} servers", encoding="utf-8")
    assert capacity_report_html(report(), template=str(mine)) == "2 servers"
    assert capacity_report_html(report(), template=None) == capacity_page.render_html(report())
    with pytest.raises(AnsibleFilterError, match="template must be a file path"):
        capacity_report_html(report(), template=["x"])
    with pytest.raises(AnsibleFilterError, match=r"capacity_report_html: .*template"):
        capacity_report_html(report(), template=str(tmp_path / "missing.j2"))


def test_plan_yml_checks_asr_report_template_before_any_remote_call(tmp_path):
    problems = check_host_variables("plan.yml", "process_servers", {"asr_report_template": str(tmp_path / "none.j2")})
    assert [p.option for p in problems] == ["asr_report_template"] and "No such file" in str(problems[0])
    mine = tmp_path / "mine.j2"
    mine.write_text("x", encoding="utf-8")
    assert check_host_variables("plan.yml", "process_servers", {"asr_report_template": str(mine)}) == []
