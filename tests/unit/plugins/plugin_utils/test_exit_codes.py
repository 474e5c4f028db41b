from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.exit_codes import EXIT_CODES, interpret

# [1.4] SRC SetupHelper.cs SetupReturnValues.
DOCUMENTED = {
    0: "Successful",
    1: "Failed",
    2: "InvalidCommandLine",
    4: "PrerequisiteChecksFailed",
    101: "DRAInstallationFailed",
    102: "ServicesAreNotRunning",
    103: "VaultRegistrationFailed",
    111: "MARSAgentInstallationFailed",
    112: "ContainerRegistrationFailed",
    113: "MTContainerRegistrationFailed",
    115: "MARSAgentProxyIsNotSet",
    116: "ConfigManagerInstallationFailed",
    201: "ProductIsAlreadyInstalled",
    203: "UpgradeNotSupported",
    3010: "SuccessfulNeedReboot",
}


def test_every_source_code_is_mapped_with_its_name():
    assert {code: info.name for code, info in EXIT_CODES.items()} == DOCUMENTED


@pytest.mark.parametrize(
    ("rc", "success", "changed", "reboot"),
    [
        (0, True, True, False),
        (201, True, False, False),
        (3010, True, True, True),
        (2, False, False, False),
        (4, False, False, False),
        (203, False, False, False),
        (102, False, True, False),
        (113, False, True, False),
    ],
)
def test_outcome_flags(rc, success, changed, reboot):
    info = interpret(rc)
    assert (info.code, info.success, info.changed, info.reboot_required) == (rc, success, changed, reboot)


@pytest.mark.parametrize(
    ("rc", "needle"),
    [
        (2, r"C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log"),
        (4, r"C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log"),
        (113, "--registermt"),
        (113, "passphrase"),
        (102, "svagents"),
        (102, "InMage PushInstall"),
        (115, "proxy"),
        (203, "9.16 -> 9.20 -> 9.24"),
        (111, "OBMsi.log"),
        (3010, "Reboot"),
    ],
)
def test_remediation_tells_the_operator_what_to_do(rc, needle):
    assert needle in interpret(rc).remediation


@given(st.integers(-(2**31), 2**31 - 1).filter(lambda rc: rc not in DOCUMENTED))
def test_unknown_codes_are_failures_that_say_so(rc):
    info = interpret(rc)
    assert info.name == "Unknown"
    assert not info.success
    assert str(rc) in info.meaning


@pytest.mark.parametrize("rc", [14, 41, 62, 1603, 1641])
def test_inno_and_msi_codes_are_not_unified_setup_results(rc):
    assert interpret(rc).name == "Unknown"
    assert "not one of Unified Setup's result codes" in interpret(rc).meaning
