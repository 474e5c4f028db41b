from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption, PlanningError
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import split_command_line
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.uninstall_plan import (
    InstalledProduct,
    identify,
    plan_uninstall,
)

CS_PS = "Microsoft Azure Site Recovery Configuration/Process Server"
DEPS = "Microsoft Azure Site Recovery Configuration/Process Server Dependencies"
MT = "Microsoft Azure Site Recovery Mobility Service/Master Target Server"
MARS = "Microsoft Azure Recovery Services Agent"
INNO_PS = r'"C:\Program Files (x86)\Microsoft Azure Site Recovery\unins000.exe"'
MARS_UNINSTALL = r'"C:\Program Files\Microsoft Azure Recovery Services Agent\Setup\setup.exe" /d /q'

PS_HOST = [
    InstalledProduct(MARS, "2.0.9", quiet_uninstall_string=MARS_UNINSTALL),
    InstalledProduct(MT, "9.50.0.0", "{275197FC-14FD-4560-A5EB-38217F80CBD1}"),
    InstalledProduct(DEPS, "9.50", uninstall_string=r'"C:\thirdparty\unins000.exe"'),
    InstalledProduct(CS_PS, "9.50", uninstall_string=INNO_PS, quiet_uninstall_string=INNO_PS + " /SILENT"),
    InstalledProduct("Microsoft Visual C++ 2015 Redistributable", "14.0"),
]


def test_process_server_order():
    steps = plan_uninstall(PS_HOST)
    assert [s.display_name for s in steps] == [CS_PS, DEPS, MT, MARS]


def test_inno_uninstall_is_made_fully_silent():
    step = plan_uninstall(PS_HOST)[0]
    assert step.installer == "inno"
    assert step.argv == [
        r"C:\Program Files (x86)\Microsoft Azure Site Recovery\unins000.exe",
        "/VERYSILENT",
        "/SUPPRESSMSGBOXES",
        "/NORESTART",
    ]


def test_master_target_uses_the_documented_msiexec_command():
    step = plan_uninstall(PS_HOST)[2]
    assert step.argv == [
        "MsiExec.exe",
        "/qn",
        "/x",
        "{275197FC-14FD-4560-A5EB-38217F80CBD1}",
        "/L+*V",
        r"C:\ProgramData\ASRSetupLogs\UnifiedAgentMSIUninstall.log",
    ]
    assert step.product_code == "{275197FC-14FD-4560-A5EB-38217F80CBD1}"
    assert step.reboot_may_follow


def test_mars_uses_the_hosts_quiet_uninstall_string_and_is_optional():
    step = plan_uninstall(PS_HOST)[3]
    assert step.argv == [r"C:\Program Files\Microsoft Azure Recovery Services Agent\Setup\setup.exe", "/d", "/q"]
    assert step.optional
    kept = plan_uninstall(PS_HOST, keep=["recovery_services_agent"])
    assert MARS not in [s.display_name for s in kept]


@given(st.sets(st.integers(0, 3)))
def test_resuming_after_a_partial_uninstall_keeps_order(removed):
    remaining = [p for i, p in enumerate(PS_HOST[:4]) if i not in removed]
    names = [s.display_name for s in plan_uninstall(remaining)]
    full = [CS_PS, DEPS, MT, MARS]
    assert names == [n for n in full if n in {p.display_name for p in remaining}]


def test_doc_variants_and_case_are_matched_and_dependencies_are_not_taken_for_the_server():
    assert (
        identify("Microsoft Azure Site Recovery Configuration Server/Process Server").key
        == "configuration_process_server"
    )
    assert identify("Microsoft Azure Site Recovery Configuration Server Dependencies").key.endswith("dependencies")
    assert identify(DEPS + " 9.50").key == "configuration_process_server_dependencies"
    assert (
        identify("Microsoft Azure Site Recovery Mobility Service/Master Target server").key
        == "mobility_service_master_target"
    )
    assert identify("Azure Site Recovery Configuration Manager") is None


def test_configuration_server_order_and_registration_key():
    installed = [
        InstalledProduct("MySQL Server 5.7", "5.7.20", "{0C4A2BA0-6D04-4A3C-8E5D-9A36D6A6A1B2}"),
        InstalledProduct(DEPS, uninstall_string=r'"C:\thirdparty\unins000.exe"'),
        InstalledProduct(CS_PS, uninstall_string=INNO_PS),
        InstalledProduct("Microsoft Azure Site Recovery Provider", uninstall_string=r"C:\p\uninstall.exe /q"),
        InstalledProduct(MT, product_code="{275197FC-14FD-4560-A5EB-38217F80CBD1}"),
        InstalledProduct(MARS, quiet_uninstall_string=MARS_UNINSTALL),
    ]
    steps = plan_uninstall(installed, "configuration_server", registration_key_present=True)
    assert [s.product for s in steps] == [
        "recovery_services_agent",
        "mobility_service_master_target",
        "site_recovery_provider",
        "configuration_process_server",
        "configuration_process_server_dependencies",
        "mysql_server",
        "registration_key",
    ]
    assert steps[5].argv[:4] == ["MsiExec.exe", "/qn", "/x", "{0C4A2BA0-6D04-4A3C-8E5D-9A36D6A6A1B2}"]
    assert steps[-1].argv == ["reg.exe", "delete", r"HKLM\Software\Microsoft\Azure Site Recovery\Registration", "/f"]
    assert "registration_key" not in [s.product for s in plan_uninstall(installed, "configuration_server")]


def test_msi_product_code_is_read_from_an_msiexec_uninstall_string():
    entry = InstalledProduct(
        "MySQL Server 5.7", uninstall_string="MsiExec.exe /I{0c4a2ba0-6d04-4a3c-8e5d-9a36d6a6a1b2}"
    )
    step = plan_uninstall([entry], "configuration_server")[0]
    assert step.installer == "msi"
    assert step.argv[3] == "{0C4A2BA0-6D04-4A3C-8E5D-9A36D6A6A1B2}"


def test_a_product_without_any_uninstall_command_cannot_be_planned():
    with pytest.raises(PlanningError, match="QuietUninstallString"):
        plan_uninstall([InstalledProduct(MARS)])


# Uninstall strings are split as Windows splits them, with the same function as Unified Setup's command lines: the
# program name is read up to its closing quote or first blank, the backslash rules apply to the arguments after it.
@pytest.mark.parametrize(
    ("command", "argv"),
    [
        (r'"C:\a b\unins000.exe" /SILENT', [r"C:\a b\unins000.exe", "/SILENT"]),
        (r"C:\x\setup.exe  /d   /q", [r"C:\x\setup.exe", "/d", "/q"]),
        (r'x.exe a\\"b c" d', ["x.exe", r"a\b c", "d"]),
        (r"x.exe a\"b", ["x.exe", 'a"b']),
        (r'"" x', ["", "x"]),
        (r'"C:\dir\"x.exe /q', ["C:\\dir\\", "x.exe", "/q"]),
    ],
)
def test_uninstall_strings_split_as_windows_does(command, argv):
    assert split_command_line(command) == argv


@pytest.mark.parametrize(
    ("kwargs", "option", "allowed"),
    [
        ({"role": "master_target"}, "role", "'process_server', 'configuration_server'"),
        ({"keep": ["mobility_service_master_target"]}, "keep", "'recovery_services_agent'"),
        ({"keep": "recovery_services_agent"}, "keep", "a list of product keys"),
    ],
)
def test_bad_inputs_name_the_option_and_what_is_allowed(kwargs, option, allowed):
    with pytest.raises(InvalidOption) as err:
        plan_uninstall(PS_HOST, **kwargs)
    assert err.value.option == option
    assert allowed in str(err.value)
