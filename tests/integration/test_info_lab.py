"""asr.process_server.info end to end: real ansible-playbook, the winrm connection, pywinrm, the lab.

The estate's process server starts from a survey (the recorded unit-test probe, as a seed); the info task
must cost exactly ONE remote call (the journal), return what the seed holds, and its own survey, imported
into a second host, must give the same answer again.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import read_probe, to_survey

pytestmark = pytest.mark.lab

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "unit" / "plugins" / "action" / "fixtures" / "probe_v1_scale_out_ps.json"
PLAYBOOK = """
- name: Survey process servers
  hosts: "{hosts}"
  gather_facts: false
  tasks:
    - name: Survey
      asr.process_server.info:
        configuration_server_ip: "{cs_ip}"
      register: surveyed
"""

from tests import playbook_runner  # noqa: E402
from tests.integration.lab_ops import keep_results  # noqa: E402
from tests.lab_support import ansible_env, playbook_command, serving  # noqa: E402

lab_estate = pytest.importorskip("lab.estate")
pytest.importorskip("lab.dispatch")
from lab import journal, survey_import  # noqa: E402


@pytest.fixture
def served_estate(tmp_path):
    estate = lab_estate.create(tmp_path / "estate", cs=1, ps=2)
    with serving(estate):
        yield estate


def names(estate, role):
    return sorted(n for n in estate.host_names() if estate.read_host(n).role == role)


def run_info(estate, hosts, cs_ip, out, *extra):
    playbook = out / "info.yml"
    playbook.write_text(PLAYBOOK.format(hosts=hosts, cs_ip=cs_ip), encoding="utf-8")
    for host in hosts.split(","):
        (out / f"{host}.json").unlink(missing_ok=True)
    cmd, env = playbook_command(estate, *extra, str(playbook)), ansible_env(**keep_results(out, "Survey"))
    proc = playbook_runner.run(cmd, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return {h: json.loads((out / f"{h}.json").read_text(encoding="utf-8")) for h in hosts.split(",")}


def seed_survey():
    return to_survey(json.loads(FIXTURE.read_text(encoding="utf-8")))


def test_info_is_one_remote_call_and_returns_the_seed(served_estate, tmp_path):
    estate = served_estate
    ps1 = names(estate, "process_server")[0]
    cs_ip = estate.read_host(names(estate, "configuration_server")[0]).ip
    seed = seed_survey()
    survey_import.import_survey(estate, ps1, seed)
    journal.clear(estate)

    result = run_info(estate, ps1, cs_ip, tmp_path)[ps1]

    entries = journal.read(estate, ps1)
    assert len(entries) == 1, entries
    assert entries[0]["identity"] in ("probe v1", "ansible.windows.win_powershell")
    assert result["changed"] is False and not result.get("failed")
    surveyed = result["survey"]["host"]
    differing = {k: {"surveyed": surveyed.get(k), "seed": v} for k, v in seed["host"].items() if surveyed.get(k) != v}
    assert not differing, differing  # which facts of the host came back different (names the part that did)
    assert result["survey"] == seed
    expected = read_probe(seed["host"]).asr
    expected["setup_log"].pop("tail")  # returned only with include_log_tail
    assert {k: v for k, v in result["asr"].items() if k != "checks"} == {
        k: v for k, v in expected.items() if k != "checks"
    }
    assert result["asr"]["role"] == "process_server" and result["asr"]["data_port"] == 9443
    assert result["asr"]["checks"]["configuration_server"]["address"] == cs_ip


def test_an_info_survey_imported_as_a_seed_reproduces_the_info_output(served_estate, tmp_path):
    estate = served_estate
    ps1, ps2 = names(estate, "process_server")
    cs_ip = estate.read_host(names(estate, "configuration_server")[0]).ip
    survey_import.import_survey(estate, ps1, seed_survey())
    first = run_info(estate, ps1, cs_ip, tmp_path)[ps1]

    survey_import.import_survey(estate, ps2, first["survey"])
    again = run_info(estate, ps2, cs_ip, tmp_path)[ps2]

    assert again["survey"] == first["survey"]
    assert {k: v for k, v in again["asr"].items() if k != "checks"} == {
        k: v for k, v in first["asr"].items() if k != "checks"
    }


def test_check_mode_runs_the_same_single_read_only_call(served_estate, tmp_path):
    estate = served_estate
    ps1 = names(estate, "process_server")[0]
    cs_ip = estate.read_host(names(estate, "configuration_server")[0]).ip
    survey_import.import_survey(estate, ps1, seed_survey())
    before = estate.read_host(ps1).data
    journal.clear(estate)

    result = run_info(estate, ps1, cs_ip, tmp_path, "--check")[ps1]

    assert len(journal.read(estate, ps1)) == 1
    assert result["changed"] is False and result["asr"]["installed"] is True
    assert estate.read_host(ps1).data == before  # read-only
