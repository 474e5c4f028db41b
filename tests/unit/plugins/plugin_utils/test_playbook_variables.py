"""Messages a playbook run reaches name the module option and the asr_* variable behind it (issue 10, item 10a)."""

from __future__ import annotations

import pathlib
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.playbook_variables import (
    OPTION_VARIABLES,
    both,
    describe,
    playbook_variable,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("installers", "asr_installers"),
        ("installers[0].version", "asr_installers[0].version"),
        ("proxy.address", "asr_proxy.address"),
        ("process_server_ip", "asr_ip"),
        ("staging_dir", None),
    ],
)
def test_the_variable_behind_an_option(option, variable):
    assert playbook_variable(option) == variable
    assert both(option) == (option if variable is None else f"{option} ({variable} in the playbooks)")


def test_a_refusal_names_both_and_hides_secrets_as_before():
    text = describe(InvalidOption("installers[1].version", "v9", "dot-separated numbers"))
    assert text.startswith("installers[1].version: 'v9' is not allowed") and text.endswith("asr_installers[1].version.")
    secret = describe(InvalidOption("passphrase", "S3cret-Value", "one line"))
    assert "S3cret-Value" not in secret and "asr_passphrase" in secret
    assert describe(InvalidOption("staging_dir", "x", "a folder")) == str(InvalidOption("staging_dir", "x", "a folder"))


def test_every_variable_named_is_one_the_roles_or_playbooks_read():
    # the table must not invent variable names: each one is read by a role default or a playbook
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in (*ROOT.glob("roles/*/defaults/*.yml"), *ROOT.glob("playbooks/*.yml"))
    )
    read = set(re.findall(r"\basr_[a-z_0-9]+", text))
    assert set(OPTION_VARIABLES.values()) <= read, set(OPTION_VARIABLES.values()) - read


# ---- the fleet playbooks' variable check (issue 10, item 3) -----------------------------------------------------
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import playbook_variables as pv  # noqa: E402

ROLES = {
    "site.yml": ("process_server", "verify"),
    "upgrade.yml": ("process_server", "verify"),
    "proxy.yml": ("proxy", "verify"),
    "reregister.yml": ("reregister", "verify"),
    "decommission.yml": ("decommission",),
    "plan.yml": (),
    "preflight.yml": (),
    "diagnose.yml": (),
    "rebalance.yml": (),
}
NAME_RE = re.compile(r"\basr_[a-z_0-9]+")
ASSIGNED_RE = re.compile(r"^\s*(?:register:\s*(asr_\w+)|-?\s*(asr_\w+):)", re.MULTILINE)


def texts(playbook: str, inputs: bool = True) -> str:
    """The playbook and its roles; without ``inputs``, what assigns variables only: the roles' defaults, argument
    specs and table of former names declare the variables an operator sets, they do not assign them."""
    parts = [(ROOT / "playbooks" / playbook).read_text(encoding="utf-8")]
    for role in ROLES[playbook]:
        files = (ROOT / "roles" / role).glob("*/*.yml")
        parts += [
            p.read_text(encoding="utf-8")
            for p in files
            if inputs or (p.parent.name == "tasks" and p.name != "deprecated_names.yml")
        ]
    return "\n".join(parts)


@pytest.mark.parametrize("playbook", sorted(ROLES))
def test_every_asr_variable_a_playbook_reads_is_checked(playbook):
    text = texts(playbook)
    # what the playbook itself sets (register:, set_fact / vars keys) is not an operator's input
    everything = "\n".join(texts(book, inputs=False) for book in ROLES)  # site.yml: asr_preflight_info (preflight.yml)
    assigned = {a or b for a, b in ASSIGNED_RE.findall(everything)} | {"asr_checked_playbook", "asr_variable_problems"}
    read = set(NAME_RE.findall(text)) - assigned
    assert read, playbook
    assert read <= set(pv.playbook_variable_names(playbook)), read - set(pv.playbook_variable_names(playbook))
    assert (ROOT / "playbooks" / playbook).read_text(encoding="utf-8").count(
        "import_playbook: check_variables.yml"
    ) == 1


def test_every_fleet_playbook_is_listed():
    books = {p.name for p in (ROOT / "playbooks").glob("*.yml")} - {"nothing.yml", "check_variables.yml"}
    assert books == set(pv.PLAYBOOKS) == set(ROLES)


def test_diagnose_refuses_a_relative_package_path_before_any_remote_call_naming_the_variable():
    found = pv.check_playbook_variables(
        "diagnose.yml",
        {
            "cs01": (
                "configuration_servers",
                {"asr_installer_remote_path": "Media\\setup.exe", "asr_diagnostics_dir": ""},
            )
        },
    )
    assert len(found) == 2
    assert "asr_installer_remote_path" in found[0] and "absolute" in found[0] and "cs01" in found[0]
    assert "asr_diagnostics_dir" in found[1] and "empty" in found[1]


def problems(playbook="site.yml", **values):
    return pv.check_playbook_variables(playbook, {"ps01": ("process_servers", values)})


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        (1, 1),
        ("5", 5),
        ("25%", "25%"),
        (" 100% ", "100%"),
        ([1, "25%"], [1, "25%"]),
        (["1", "50%", 10], [1, "50%", 10]),
    ],
)
def test_serial_accepts_ansibles_batch_sizes(value, normalised):
    assert pv.check_serial("asr_serial", value) == normalised


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (0, "every host at once"),
        ("0", "every host at once"),
        ("0%", "one host per batch"),
        ("101%", "1% to 100%"),
        ("abc", "a positive integer"),
        ("", "empty"),
        (None, "empty"),
        ([], "empty list"),
        ([1, 0], "asr_serial[1]"),
        (True, "a positive integer"),
        (-3, "every host at once"),
        ("12.5%", "1% to 100%"),
    ],
)
def test_serial_refuses_what_ansible_would_silently_change(value, needle):
    with pytest.raises(pv.InvalidOption) as refused:
        pv.check_serial("asr_serial", value)
    assert needle in str(refused.value) and str(refused.value).startswith("asr_serial")


@given(st.integers())
def test_an_integer_serial_is_accepted_exactly_when_positive(number):
    try:
        assert pv.check_serial("asr_serial", number) == number and number >= 1
    except pv.InvalidOption:
        assert number < 1


@given(st.integers(min_value=-50, max_value=200))
def test_a_percentage_serial_is_accepted_exactly_from_1_to_100(number):
    try:
        assert pv.check_serial("asr_serial", f"{number}%") == f"{number}%" and 1 <= number <= 100
    except pv.InvalidOption:
        assert not 1 <= number <= 100


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        *[(0, True), ("20", True), ("20%", True), (100, True), (12.5, True)],
        *[(101, False), (-1, False), ("abc", False), ("", False), (True, False)],
    ],
)
def test_max_fail_percentage_is_0_to_100(value, ok):
    if ok:
        assert 0 <= pv.check_max_fail_percentage("asr_max_fail_percentage", value) <= 100
    else:
        with pytest.raises(pv.InvalidOption, match="asr_max_fail_percentage"):
            pv.check_max_fail_percentage("asr_max_fail_percentage", value)


@pytest.mark.parametrize("value", [True, False, "yes", "No", "on", "0", 1, "true"])
def test_booleans_as_ansible_reads_them(value):
    assert problems(asr_reboot=value) == []


def test_each_line_names_the_variable_what_is_allowed_the_option_and_the_hosts():
    hosts = {f"ps0{n}": ("process_servers", {"asr_data_port": 443}) for n in range(1, 4)}
    hosts["ps04"] = ("process_servers", {"asr_data_port": "9443"})
    hosts["cs01"] = ("configuration_servers", {"asr_data_port": 443})  # site.yml reads it for process servers only
    (line,) = pv.check_playbook_variables("site.yml", hosts)
    assert line.startswith("asr_data_port: 443 is not allowed; allowed: an integer from 1 to 65535 other than 443")
    assert "asr_data_port sets the module option data_port." in line and line.endswith("[ps01, ps02, ps03]")
    fleet = {f"ps{n:02d}": ("process_servers", {"asr_serial": "0%"}) for n in range(1, 13)}
    (line,) = pv.check_playbook_variables("site.yml", fleet)
    assert line.endswith("[all 12 hosts]")


def test_empty_is_refused_and_said_unless_the_role_treats_it_as_unset():
    assert "empty" in problems(asr_env_type="")[0] and "It is empty" in problems(asr_data_port="")[0]
    assert problems(asr_installer_checksum="", asr_proxy={}, asr_ip="", asr_passphrase_file=None) == []


def test_secrets_are_never_shown():
    (line,) = problems(asr_passphrase="first\nsecond-S3cret")
    assert "S3cret" not in line and "<hidden>" in line
    (line,) = problems(asr_proxy={"address": "http://p", "port": 80, "username": "u", "password": 'x"S3cret'})
    assert "S3cret" not in line and line.startswith("asr_proxy.password")


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"asr_installers": [{"path": "a.exe", "remote_path": "D:\\a.exe", "version": "9.51.1.1"}]}, "exactly one"),
        (
            {"asr_installers": [{"remote_path": "D:\\a.exe", "version": "9.51.1.1", "sha": "x"}]},
            "asr_installers[0].sha",
        ),
        ({"asr_installers": "D:\\a.exe"}, "a list of"),
        ({"asr_installers": [{"remote_path": "D:\\a.exe", "version": "9.51.1.1", "checksum": "ab"}]}, "checksum"),
        ({"asr_proxy": {"address": "http://p"}}, "asr_proxy.port"),
        ({"asr_proxy": {"state": "absent", "address": "http://p"}}, "asr_proxy.address"),
        ({"asr_proxy": {"address": "http://p", "port": "x"}}, "asr_proxy.port"),
        ({"asr_installer": "/nonexistent/setup.exe"}, "existing Unified Setup package"),
        ({"asr_installer_version": 9.55}, "Quote it"),
    ],
)
def test_structured_variables_name_the_part_that_is_wrong(values, needle):
    found = problems(**values)
    assert found and needle in found[0], found


def test_valid_fleet_variables_pass():
    valid = {
        "asr_serial": [1, "25%"],
        "asr_max_fail_percentage": 0,
        "asr_configuration_server_ip": "10.0.0.11",
        "asr_passphrase": "LabPassphrase0001",
        "asr_installer_remote_path": "C:\\ProgramData\\x\\setup.exe",
        "asr_installer_version": "9.55.7123.1",
        "asr_installers": [{"remote_path": "D:\\m\\951.exe", "version": "9.51.6712.1"}],
        "asr_install_location": "D:\\",
        "asr_env_type": "VMWare",
        "asr_ip": "10.0.0.101",
        "asr_data_port": 9443,
        "asr_proxy": {"address": "http://proxy.corp.example", "port": "3128", "username": "u", "password": "p"},
        "asr_state": "latest",
        "asr_verify_heartbeat": "always",
    }
    assert problems(**valid) == []


def test_the_plan_and_preflight_variables_use_those_playbooks_own_checks():
    assert "asr_max_utilisation" in problems("plan.yml", asr_max_utilisation=0)[0]
    assert "asr_installer_version" in problems("preflight.yml", asr_installer_version="9.x")[0]
    with pytest.raises(pv.InvalidOption, match="playbook"):
        pv.playbook_variable_names("other.yml")


# ---- where the package comes from (issue 12) -----------------------------------------------------------------------
SHA = "ab" * 32
URL = "https://acct.blob.core.windows.net/media/setup.exe?sv=2024&sig=Variable-Token-9"
UNC = r"\\files.corp.example\media\setup.exe"


@pytest.mark.parametrize(
    "values",
    [
        {"asr_installer_url": URL, "asr_installer_checksum": SHA},
        {"asr_installer_remote_path": UNC, "asr_installer_checksum": SHA},
        {"asr_installer_remote_path": "D:\\Media\\setup.exe"},
        {"asr_installer_url": "", "asr_installer_remote_path": "D:\\Media\\setup.exe"},  # empty = not set
        {"asr_stage_batch": "50%", "asr_stage_delay": 5, "asr_stage_timeout": 600},
        {"asr_installers": [{"url": URL, "version": "9.51.6712.1", "checksum": SHA}]},
        {"asr_installers": [{"remote_path": UNC, "version": "9.51.6712.1", "checksum": SHA}]},
    ],
)
def test_package_sources_the_hosts_fetch_are_accepted(values):
    assert problems(**values) == [] and problems("upgrade.yml", **values) == []


@pytest.mark.parametrize(
    ("values", "needles"),
    [
        ({"asr_installer_url": "ftp://files/a.exe", "asr_installer_checksum": SHA}, ("asr_installer_url", "https://")),
        ({"asr_installer_url": "https://u:Pw-9@files/a.exe", "asr_installer_checksum": SHA}, ("user name",)),
        ({"asr_installer_url": URL}, ("asr_installer_checksum", "asr_installer_url makes every host fetch")),
        ({"asr_installer_remote_path": UNC}, ("asr_installer_checksum", "asr_installer_remote_path")),
        ({"asr_installer_remote_path": "\\server\\share\\a.exe"}, ("asr_installer_remote_path", "UNC path")),
        ({"asr_installer_url": URL, "asr_installer_checksum": SHA, "asr_installer": "/tmp/x.exe"},
         ("Both are set: asr_installer and asr_installer_url",)),
        ({"asr_stage_batch": 0}, ("asr_stage_batch", "every host at once")),
        ({"asr_stage_delay": 0}, ("asr_stage_delay", "1 to 600")),
        ({"asr_installers": [{"url": URL, "version": "9.51.6712.1"}]}, ("asr_installers[0].checksum",)),
        ({"asr_installers": [{"url": URL, "path": "/x.exe", "version": "9.51.6712.1"}]}, ("exactly one of path",)),
    ],
)  # fmt: skip
def test_package_sources_are_checked_before_any_remote_call(values, needles):
    found = problems(**values)
    assert found, values
    for needle in needles:
        assert any(needle in line for line in found), found
    assert "Variable-Token-9" not in " ".join(found) and "Pw-9" not in " ".join(found)


@pytest.mark.parametrize(
    ("playbook", "values", "names", "says"),
    [
        ("rebalance.yml", {"asr_azure": "my-vault"}, "asr_azure", "a mapping with resource_group, vault"),
        ("rebalance.yml", {"asr_azure": {"resource_group": "rg"}}, "asr_azure.vault", "empty"),
        (
            "rebalance.yml",
            {"asr_azure": {"resource_group": "rg", "vault": "v", "secret2": "s3cr3t"}},
            "asr_azure",
            "Unknown key(s): secret2",
        ),
        ("rebalance.yml", {"asr_rebalance_batch_size": 0}, "asr_rebalance_batch_size", "at least 1"),
        (
            "rebalance.yml",
            {"asr_rebalance_moves": [{"machine": "vm1", "from_server": "ps01"}]},
            "asr_rebalance_moves[0]",
            "to_server",
        ),
        (
            "rebalance.yml",
            {"asr_rebalance_moves": [{"machine": "vm1", "from_server": "ps01", "to_server": "PS01"}]},
            "asr_rebalance_moves[0].to_server",
            "a process server other than from_server",
        ),
        ("plan.yml", {"asr_load_source": "portal"}, "asr_load_source", "inventory, vault"),
        ("plan.yml", {"asr_vault_machine_churn_gb": -1}, "asr_vault_machine_churn_gb", "at least 0"),
        ("decommission.yml", {"asr_drain_target_tier": "huge"}, "asr_drain_target_tier", "small"),
        ("decommission.yml", {"asr_drain_to": ""}, "asr_drain_to", "empty"),
    ],
)
def test_the_vault_playbooks_variables_are_refused_before_any_call(playbook, values, names, says):
    found = pv.check_playbook_variables(playbook, {"ps01": ("process_servers", values)})
    assert len(found) == 1, found
    assert names in found[0] and says in found[0] and "ps01" in found[0]
    assert "s3cr3t" not in found[0]
