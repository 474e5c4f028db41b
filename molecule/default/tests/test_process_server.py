"""pytest-testinfra verification through its ansible backend (``--hosts=ansible://process_servers``).

verify.yml runs this with the Molecule inventory. On Windows hosts only ``host.ansible(...)`` (an ad-hoc
``ansible -m <module>`` run) and the inventory variables are usable; README.md explains why ``host.run``,
``host.file``, ``host.service`` and the ``winrm://`` backend are not, and why a module failure has to be
recognised here rather than by testinfra.
"""

from __future__ import annotations

import json
import pathlib

import pytest

SCENARIO = pathlib.Path(__file__).resolve().parents[1]


def windows_module(host, module: str, expect: str, **args):
    """Run ``ansible.windows.<module>`` for real (testinfra's default is --check) and return its result.

    testinfra raises AnsibleException only when the result carries ``failed``; the ``--tree`` files
    ansible-core >= 2.19 writes no longer do, so a failure is recognised by the missing ``expect`` key.
    """
    # no arguments: no --args at all (ansible takes an empty "{}" for a raw parameter, which these modules refuse)
    result = host.ansible(f"ansible.windows.{module}", json.dumps(args) if args else None, check=False)
    assert expect in result, f"ansible.windows.{module} {args} failed: {result}"
    return result


def test_inventory_places_host_in_a_lab_group(host):
    variables = host.ansible.get_variables()
    assert variables["ansible_connection"] == "winrm"
    assert {"configuration_servers", "process_servers"} & set(variables["group_names"])


_SERVICES: dict[str, dict[str, dict]] = {}


def services_of(host) -> dict[str, dict]:
    """Every service of the host by lower-case name, from ONE win_service_info call (no ``name``: all services).

    One ad-hoc ``ansible`` run per host instead of one per service: each run costs about a second of controller CPU
    (docs/dev/test-time.md) and the listing carries the same fields as a query by name.
    """
    name = host.backend.get_hostname()
    if name not in _SERVICES:
        info = windows_module(host, "win_service_info", "services")
        _SERVICES[name] = {service["name"].lower(): service for service in info["services"]}
    return _SERVICES[name]


@pytest.mark.parametrize("service", ["ProcessServer", "ProcessServerMonitor", "cxprocessserver", "obengine", "tmansvc"])
def test_process_server_service_runs(host, service):
    """The services a scale-out process server needs [6.3], installed and started by the process_server role."""
    found = services_of(host).get(service.lower())
    assert found is not None, f"{service} is not installed"
    assert found["state"] == "running", (service, found["state"])


def test_a_module_failure_comes_back_without_failed(host):
    """Pins the testinfra/ansible-core >= 2.19 behaviour windows_module() works around."""
    args = {"path": "C:\\Windows", "no_such_option": 1}
    result = host.ansible("ansible.windows.win_stat", json.dumps(args), check=False)
    assert result["msg"].startswith("Unsupported parameters for (ansible.windows.win_stat) module: no_such_option")
    assert "stat" not in result
