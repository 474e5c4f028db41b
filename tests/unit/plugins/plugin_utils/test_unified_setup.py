from __future__ import annotations

import pytest
from _refusals import assert_refused, bad_input_table
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import (
    ASR_SETUP_LOG,
    build_cs_install,
    build_extract,
    build_ps_install,
    build_upgrade,
    check_install_location,
    from_seed_command,
    split_command_line,
    to_command_line,
)

# The seed's sample (2017 French doc; same line in the 2019 English revision) [1.1].
SEED = (
    r'UNIFIEDSETUP.EXE /AcceptThirdpartyEULA /servermode "PS" /InstallLocation "D:\" /EnvType "VMWare" '
    r'/CSIP "10.150.24.119" /PassphraseFilePath "C:\Users\Administrator\Desktop\Passphrase.txt" '
    r"/DataTransferSecurePort 443"
)
EXTRACTED = r"C:\Temp\Extracted"
PS = {
    "extract_dir": EXTRACTED,
    "install_location": r"E:\Program Files (x86)\Microsoft Azure Site Recovery",
    "env_type": "NonVMware",
    "configuration_server_ip": "10.0.0.4",
    "passphrase_file": r"C:\Windows\Temp\asr\passphrase.txt",
}
CS = {
    "extract_dir": EXTRACTED,
    "install_location": "D:\\",
    "env_type": "VMware",
    "mysql_credentials_file": r"C:\Temp\MySQLCredentialsfile.txt",
    "vault_credentials_file": r"C:\Temp\MyVault.vaultcredentials",
}


def switches(argv: list[str]) -> dict[str, str | bool]:
    """Read an argv back into {switch: value}, independently of the module under test."""
    out: dict[str, str | bool] = {}
    rest = argv[1:]
    i = 0
    while i < len(rest):
        name = rest[i][1:]
        if i + 1 < len(rest) and not rest[i + 1].startswith("/"):
            out[name] = rest[i + 1]
            i += 2
        else:
            out[name] = True
            i += 1
    return out


# --- Golden: the seed -------------------------------------------------------------------------------------


def test_seed_switches_in_canonical_spelling():
    seed = from_seed_command(SEED)
    assert seed.server_mode == "PS"
    assert seed.switches == {
        "AcceptThirdpartyEULA": True,
        "ServerMode": "PS",
        "InstallLocation": "D:\\",
        "EnvType": "VMware",
        "CSIP": "10.150.24.119",
        "PassphraseFilePath": r"C:\Users\Administrator\Desktop\Passphrase.txt",
        "DataTransferSecurePort": "443",
    }


def test_seed_warns_that_443_is_ignored_in_ps_mode():
    seed = from_seed_command(SEED)
    port_warnings = [w for w in seed.warnings if "/DataTransferSecurePort 443" in w]
    assert len(port_warnings) == 1
    assert "ignored" in port_warnings[0] and "9443" in port_warnings[0]
    assert "data_port" not in seed.options


def test_seed_warns_that_cmd_exe_would_break_the_trailing_backslash():
    assert any('"D:\\"' in w and "cmd.exe" in w for w in from_seed_command(SEED).warnings)


def test_seed_rebuilt_gives_the_same_switches_with_the_effective_port():
    seed = from_seed_command(SEED)
    built = build_ps_install(extract_dir=EXTRACTED, **seed.options)
    expected = dict(seed.switches, DataTransferSecurePort="9443")
    assert switches(built.argv) == expected
    assert built.argv[0] == EXTRACTED + r"\UnifiedSetup.exe"


def test_seed_line_under_commandlinetoargvw_swallows_the_following_switches():
    # Documents the doc's quoting bug: "D:\" escapes its closing quote.
    argv = split_command_line(SEED)
    assert argv[:5] == ["UNIFIEDSETUP.EXE", "/AcceptThirdpartyEULA", "/servermode", "PS", "/InstallLocation"]
    assert argv[5].startswith('D:" /EnvType VMWare /CSIP')
    assert len(argv) == 6


def test_microsoft_installps_script_line_reads_single_quotes():
    line = (
        'UnifiedSetup.exe /AcceptThirdpartyEULA /ServerMode "PS" /InstallLocation \'E:\\Program Files (x86)\\'
        "Microsoft Azure Site Recovery' /CSIP '10.1.2.3' /EnvType 'NonVMWare' /PassphraseFilePath "
        "'C:\\p.txt' /SkipSpaceCheck"
    )
    seed = from_seed_command(line)
    assert seed.options == {
        "install_location": r"E:\Program Files (x86)\Microsoft Azure Site Recovery",
        "configuration_server_ip": "10.1.2.3",
        "env_type": "NonVMware",
        "passphrase_file": r"C:\p.txt",
        "skip_space_check": True,
    }
    assert any("single quotes" in w for w in seed.warnings)


def test_seed_switches_are_case_insensitive_and_accept_dash():
    seed = from_seed_command(
        r"-ACCEPTTHIRDPARTYEULA -SERVERMODE ps -installlocation F:\asr -envtype nonvmware -csip 10.0.0.4 "
        r"-passphrasefilepath C:\p.txt"
    )
    assert seed.switches["InstallLocation"] == r"F:\asr"
    assert seed.switches["EnvType"] == "NonVMware"
    assert seed.server_mode == "PS"
    assert seed.warnings == []


def test_seed_data_port_other_than_443_is_kept():
    seed = from_seed_command(
        r"UnifiedSetup.exe /AcceptThirdpartyEULA /ServerMode PS /InstallLocation D:\ /EnvType VMware "
        r"/CSIP 10.0.0.4 /PassphraseFilePath C:\p.txt /DataTransferSecurePort 9444"
    )
    assert seed.options["data_port"] == 9444
    assert seed.warnings == []


# --- Builders ---------------------------------------------------------------------------------------------


def test_ps_install_argv_order_and_values():
    cmd = build_ps_install(
        **PS, process_server_ip="10.0.0.5", proxy_settings_file=r"C:\t\proxy.ini", skip_space_check=True
    )
    assert cmd.argv == [
        r"C:\Temp\Extracted\UnifiedSetup.exe",
        "/AcceptThirdpartyEULA",
        "/ServerMode",
        "PS",
        "/InstallLocation",
        r"E:\Program Files (x86)\Microsoft Azure Site Recovery",
        "/EnvType",
        "NonVMware",
        "/CSIP",
        "10.0.0.4",
        "/PSIP",
        "10.0.0.5",
        "/PassphraseFilePath",
        r"C:\Windows\Temp\asr\passphrase.txt",
        "/ProxySettingsFilePath",
        r"C:\t\proxy.ini",
        "/DataTransferSecurePort",
        "9443",
        "/SkipSpaceCheck",
    ]
    assert cmd.warnings == []


def test_ps_install_without_proxy_file_has_no_proxy_switch():
    # [1.3] no proxy file => "Bypass" (direct); there is no /BypassProxy.
    argv = build_ps_install(**PS).argv
    assert not any("proxy" in a.lower() for a in argv)


def test_ps_install_command_line_quotes_the_spaced_location():
    line = build_ps_install(**PS).command_line
    assert r'/InstallLocation "E:\Program Files (x86)\Microsoft Azure Site Recovery" /EnvType' in line


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("d:/asr/", r"D:\asr"),
        ("D:\\", "D:\\"),
        ("d:\\", "D:\\"),
        (r"E:\a\\b\\", r"E:\a\b"),
    ],
)
def test_install_location_is_normalised(given, expected):
    assert check_install_location(given) == expected


def test_install_location_system_drive_is_a_parameter():
    assert check_install_location(r"C:\ASR", system_drive="D:") == r"C:\ASR"
    with pytest.raises(InvalidOption, match="system drive D:"):
        check_install_location(r"d:\ASR", system_drive="d:\\")


def test_cs_install_mandatory_switches():
    got = switches(build_cs_install(**CS).argv)
    assert got == {
        "AcceptThirdpartyEULA": True,
        "ServerMode": "CS",
        "InstallLocation": "D:\\",
        "EnvType": "VMware",
        "MySQLCredsFilePath": r"C:\Temp\MySQLCredentialsfile.txt",
        "VaultCredsFilePath": r"C:\Temp\MyVault.vaultcredentials",
        "DataTransferSecurePort": "9443",
    }


def test_cs_install_skip_registration_needs_no_vault_file():
    cs = {k: v for k, v in CS.items() if k != "vault_credentials_file"}
    got = switches(build_cs_install(**cs, skip_registration=True).argv)
    assert got["SkipRegistration"] is True
    assert "VaultCredsFilePath" not in got


@pytest.mark.parametrize(
    ("mode", "eula", "expected"),
    [("PS", False, ["/Upgrade"]), ("cs", False, ["/Upgrade"]), ("CS", True, ["/Upgrade", "/AcceptThirdpartyEULA"])],
)
def test_upgrade_takes_upgrade_alone(mode, eula, expected):
    cmd = build_upgrade(extract_dir=EXTRACTED + "\\", server_mode=mode, accept_third_party_eula=eula)
    assert cmd.argv == [EXTRACTED + r"\UnifiedSetup.exe", *expected]


def test_extract_uses_x_colon():
    argv = build_extract(r"c:\Temp\MicrosoftAzureSiteRecoveryUnifiedSetup.exe", EXTRACTED).argv
    assert argv == [r"C:\Temp\MicrosoftAzureSiteRecoveryUnifiedSetup.exe", "/q", r"/x:C:\Temp\Extracted"]


def test_log_constant():
    assert ASR_SETUP_LOG.lower() == r"c:\programdata\asrsetuplogs\asrunifiedsetup.log"


# --- Windows quoting --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "rendered"),
    [
        ("D:\\", "D:\\"),
        (r"E:\Program Files\ASR" + "\\", r'"E:\Program Files\ASR\\"'),
        ("", '""'),
        ('say "hi"', r'"say \"hi\""'),
        ('a\\"b', r'"a\\\"b"'),
        ("tab\there", '"tab\there"'),
        (r"\\server\share", r"\\server\share"),
    ],
)
def test_quoting_examples(arg, rendered):
    assert to_command_line(["prog.exe", arg]) == "prog.exe " + rendered


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\x00"), max_size=20), max_size=6))
def test_quoting_round_trips_through_commandlinetoargvw(args):
    argv = [r"C:\Temp\Extracted\UnifiedSetup.exe", *args]
    assert split_command_line(to_command_line(argv)) == argv


@given(st.text(alphabet="ab \\\"'\t", max_size=30))
def test_split_never_crashes_and_rerenders_stably(line):
    argv = split_command_line("prog.exe " + line)
    assert split_command_line(to_command_line(argv)) == argv


# --- Bad inputs: every message names the option and what is allowed ---------------------------------------


def _ps(**override):
    return lambda: build_ps_install(**{**PS, **override})


def _cs(**override):
    return lambda: build_cs_install(**{**CS, **override})


BAD = [
    ("relative location", _ps(install_location=r"asr\files"), "install_location", "absolute path on a drive letter"),
    ("drive-relative", _ps(install_location="D:"), "install_location", "absolute path on a drive letter"),
    ("UNC location", _ps(install_location=r"\\nas\asr"), "install_location", "absolute path on a drive letter"),
    ("system drive root", _ps(install_location="C:\\"), "install_location", "other than the system drive C:"),
    ("system drive folder", _ps(install_location=r"c:\ASR"), "install_location", "other than the system drive"),
    ("dotdot", _ps(install_location=r"D:\a\..\b"), "install_location", "absolute path on a drive letter"),
    ("pipe in path", _ps(install_location=r"D:\a|b"), "install_location", "absolute path on a drive letter"),
    ("empty location", _ps(install_location=""), "install_location", "absolute path on a drive letter"),
    ("bad system drive", _ps(system_drive="CC"), "system_drive", "drive letter with a colon"),
    ("env type", _ps(env_type="Hyper-V"), "env_type", "VMware or NonVMware"),
    ("env type none", _ps(env_type=None), "env_type", "VMware or NonVMware"),
    ("csip garbage", _ps(configuration_server_ip="cs01"), "configuration_server_ip", "unicast IPv4 address"),
    ("csip ipv6", _ps(configuration_server_ip="fe80::1"), "configuration_server_ip", "unicast IPv4 address"),
    ("csip leading zero", _ps(configuration_server_ip="10.0.0.04"), "configuration_server_ip", "dotted-quad"),
    ("csip loopback", _ps(configuration_server_ip="127.0.0.1"), "configuration_server_ip", "unicast IPv4"),
    ("psip zero", _ps(process_server_ip="0.0.0.0"), "process_server_ip", "unicast IPv4 address"),
    ("psip broadcast", _ps(process_server_ip="255.255.255.255"), "process_server_ip", "unicast IPv4 address"),
    ("psip multicast", _ps(process_server_ip="224.0.0.1"), "process_server_ip", "unicast IPv4 address"),
    ("port 443 ps", _ps(data_port=443), "data_port", "1 to 65535 other than 443"),
    ("port 443 cs", _cs(data_port=443), "data_port", "1 to 65535 other than 443"),
    ("port 0", _ps(data_port=0), "data_port", "1 to 65535"),
    ("port 65536", _ps(data_port=65536), "data_port", "1 to 65535"),
    ("port bool", _ps(data_port=True), "data_port", "1 to 65535"),
    ("port text", _ps(data_port="9443"), "data_port", "1 to 65535"),
    ("relative passphrase", _ps(passphrase_file="passphrase.txt"), "passphrase_file", "absolute path"),
    ("proxy file unc", _ps(proxy_settings_file=r"\\s\p.ini"), "proxy_settings_file", "absolute path"),
    ("extract dir relative", _ps(extract_dir="Extracted"), "extract_dir", "absolute path"),
    ("cs no vault", _cs(vault_credentials_file=None), "vault_credentials_file", "skip_registration=true"),
    ("cs vault ext", _cs(vault_credentials_file=r"C:\v.txt"), "vault_credentials_file", ".VaultCredentials"),
    ("cs mysql relative", _cs(mysql_credentials_file="m.txt"), "mysql_credentials_file", "absolute path"),
    (
        "upgrade ps eula",
        lambda: build_upgrade(extract_dir=EXTRACTED, accept_third_party_eula=True),
        "accept_third_party_eula",
        "false for a process server",
    ),
    ("upgrade mode", lambda: build_upgrade(extract_dir=EXTRACTED, server_mode="MT"), "server_mode", "PS"),
    (
        "extract spaces",
        lambda: build_extract(r"C:\t\MicrosoftAzureSiteRecoveryUnifiedSetup.exe", r"C:\Temp Dir"),
        "extract_dir",
        "without spaces",
    ),
    (
        "extract not exe",
        lambda: build_extract(r"C:\t\setup.msi", EXTRACTED),
        "package",
        "MicrosoftAzureSiteRecoveryUnifiedSetup.exe",
    ),
    (
        "seed bypassproxy",
        lambda: from_seed_command(SEED + " /BypassProxy"),
        "command_line",
        "usage text",
    ),
    (
        "seed installdrive",
        lambda: from_seed_command(SEED.replace("InstallLocation", "InstallDrive")),
        "command_line",
        "usage",
    ),
    ("seed duplicate", lambda: from_seed_command(SEED + " /CSIP 10.0.0.9"), "command_line", "each switch once"),
    ("seed missing value", lambda: from_seed_command(SEED + " /PSIP"), "command_line", "followed by its value"),
    ("seed stray word", lambda: from_seed_command(SEED + " please"), "command_line", "usage text"),
    ("seed unbalanced", lambda: from_seed_command(SEED + ' /PSIP "10.0.0.9'), "command_line", "balanced"),
    ("seed port text", lambda: from_seed_command(SEED.replace(" 443", " https")), "data_port", "1 to 65535"),
    ("seed skip tls", lambda: from_seed_command(SEED + " /SkipTLSCheck"), "command_line", "/InstallLocation"),
    ("seed bad mode", lambda: from_seed_command(SEED.replace('"PS"', '"MT"')), "server_mode", "PS"),
]


@bad_input_table(BAD)
def test_bad_input_names_option_and_allowed(call, option, allowed):
    assert_refused(call, option, allowed)


def test_bypass_proxy_refusal_explains_the_direct_connection():
    with pytest.raises(InvalidOption, match="Bypass"):
        from_seed_command(SEED + " /BypassProxy")


def test_port_443_refusal_explains_the_control_channel():
    with pytest.raises(InvalidOption, match="control channel"):
        build_ps_install(**PS, data_port=443)
