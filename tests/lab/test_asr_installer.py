"""Unified Setup emulation: package extraction [1.1], validation [1.3]/[8], install effects [1.3]/[6.x],
exit codes [1.4] (natural and fault-forced), /Upgrade and N-4 [4], detached start/poll."""

from __future__ import annotations

import pytest
from asr_helpers import CURRENT, OLD, PASSPHRASE, PS_LINE, install_ps, make_estate, run

from lab.asr import constants as c
from lab.asr import installer, products
from lab.state import new_host

UNINSTALL = c.UNINSTALL_ROOT


def test_package_bytes_and_cli(tmp_path):
    assert installer.package_bytes(CURRENT) == b"ASR-LAB-UNIFIED-SETUP\nversion=9.55.7123.1\n"
    out = tmp_path / "pkg.exe"
    assert installer.main(["package", "--version", OLD, "--out", str(out)]) == 0
    assert out.read_bytes() == installer.package_bytes(OLD)
    with pytest.raises(ValueError):
        installer.package_bytes("9.55")


def test_extraction(tmp_path):
    estate = make_estate(tmp_path)
    host = estate.read_host("ps01")
    assert host.is_file(r"C:\Temp\Extracted\UnifiedSetup.exe")
    assert "version=9.55.7123.1" in host.read_text(r"C:\Temp\Extracted\UNIFIEDSETUP.EXE")


@pytest.mark.parametrize("line", [r"/q /xC:\Temp\X", r"/x:C:\Temp\X", "/q"])
def test_extraction_needs_q_and_x_colon(tmp_path, line):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        r = run(host, r"C:\Temp\MicrosoftAzureSiteRecoveryUnifiedSetup.exe " + line)
        assert r.rc == 1
        assert not host.exists(r"C:\Temp\X")


def test_ps_install_effects(tmp_path):
    estate = make_estate(tmp_path)
    r = install_ps(estate)
    assert r.rc == 0, r.stdout
    assert r.stdout.rstrip().endswith(c.MSG_SUCCEEDED)
    host = estate.read_host("ps01")
    # [6.1] uninstall entries
    names = {p["DisplayName"]: p for p in products.installed_products(host)}
    assert set(names) == {c.DN_DEPENDENCIES, c.DN_CSPS, c.DN_MT, c.DN_MARS}
    assert all(p["DisplayVersion"] == CURRENT for p in names.values())
    mt = host.reg_values(UNINSTALL + "\\" + c.MT_PRODUCT_CODE)
    assert mt["DisplayName"] == c.DN_MT
    assert "QuietUninstallString" in names[c.DN_CSPS]
    # [6.4]
    nine = host.reg_values(c.REG_INSTALLED_CSPS)
    assert nine["Product_Name"] == "Caspian CX"
    assert nine["CX_TYPE"] == 2
    assert nine["Build_Version"] == CURRENT
    assert nine["Proxy_Type"] == "Bypass"
    assert nine["InstallDirectory"] == r"D:\home\svsystems"
    assert host.reg_get(c.REG_INSTALLED_DEPENDENCIES, "Build_Version") == CURRENT
    assert host.reg_get(c.REG_PS_MODE, "CS Mode") == "LegacyCS"
    # [6.3] services and start types
    for name, _, _ in c.SERVICES_CSPS + c.SERVICES_MT + c.SERVICES_MARS:
        svc = host.service(name)
        assert svc["state"] == "running"
        assert svc["start_mode"] == ("manual" if name == "obengine" else "auto")
    # [6.5] files via the [3.3] junction
    amethyst = host.read_text(r"C:\ProgramData\ASR\home\svsystems\etc\amethyst.conf")
    for line in ('PS_IP = "10.0.0.101"', 'CS_IP = "10.0.0.11"', 'PS_CS_PORT = "443"', 'CX_TYPE = "2"', "HOST_GUID"):
        assert line in amethyst
    cxps = host.read_text(r"D:\home\svsystems\transport\cxps.conf")
    assert cxps.startswith("[cxps]") and "ssl_port = 9443" in cxps and "cs_ip_address = 10.0.0.11" in cxps
    assert host.is_file(r"C:\ProgramData\ASR\Agent\cdpcli.exe")
    # [1.5] logs
    log = host.read_text(c.LOG_UNIFIED)
    assert c.MSG_SUCCEEDED in log
    for path in (c.LOG_DEPENDENCIES, c.LOG_CSPS, c.LOG_MT_MSI, c.LOG_MARS_STATUS, c.LOG_MARS_MSI):
        assert host.is_file(path)
    assert host.data["disks"]["D"]["free_gb"] < 1000
    # registered on the CS, MT registered ([1.3] registermt)
    record = estate.read_host("cs01").asr["registered_process_servers"]["10.0.0.101"]
    assert record["version"] == CURRENT
    assert record["mt_registered"] is True
    assert record["host_guid"] == host.asr["host_guid"]


def test_doc_example_quoting_of_install_location_fails(tmp_path):
    # [1.1] `/InstallLocation "D:\"`: CommandLineToArgvW makes \" a literal quote => not an absolute path => 2
    estate = make_estate(tmp_path)
    r = install_ps(estate, line=PS_LINE.replace(r'"D:\\"', r'"D:\"'))
    assert r.rc == 2
    assert "failed" in r.stdout


def test_datatransfersecureport_443_ignored_in_ps_mode(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate, line=PS_LINE + " /DataTransferSecurePort 443").rc == 0
    assert "ssl_port = 9443" in estate.read_host("ps01").read_text(r"D:\home\svsystems\transport\cxps.conf")


def test_custom_data_port(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate, line=PS_LINE + " /DataTransferSecurePort 9500").rc == 0
    assert "ssl_port = 9500" in estate.read_host("ps01").read_text(r"D:\home\svsystems\transport\cxps.conf")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.replace("/AcceptThirdpartyEULA ", ""), "AcceptThirdpartyEULA"),
        (lambda s: s.replace('/ServerMode "PS"', '/ServerMode "XX"'), "ServerMode"),
        (lambda s: s.replace('/CSIP "10.0.0.11"', ""), "CSIP"),
        (lambda s: s.replace(r'/PassphraseFilePath "C:\Temp\pp.txt"', ""), "PassphraseFilePath"),
        (lambda s: s.replace('/EnvType "NonVMware"', ""), "EnvType"),
        (lambda s: s.replace(r'/InstallLocation "D:\\"', ""), "InstallLocation"),
        (lambda s: s.replace(r'"D:\\"', r'"C:\Temp"'), "system drive"),
        (lambda s: s.replace(r'"D:\\"', r'"D:\missing"'), "does not exist"),
        (lambda s: s.replace(r'"D:\\"', "relative"), "absolute"),
        (lambda s: s.replace('"NonVMware"', '"Hyper-V"'), "EnvType"),
        (lambda s: s.replace('"NonVMware"', '"VMware"'), "VMware Tools"),
        (lambda s: s.replace('"10.0.0.11"', '"10.0.0.300"'), "valid IP"),
        (lambda s: s + " /PSIP nope", "valid IP"),
        (lambda s: s + " /DataTransferSecurePort 70000", "DataTransferSecurePort"),
        (lambda s: s + " /DataTransferSecurePort abc", "DataTransferSecurePort"),
        (lambda s: s + " /BypassProxy", "Invalid command line argument"),  # [1.3] no /BypassProxy in SRC
        (lambda s: s + " /InstallDrive D", "Invalid command line argument"),
        (lambda s: s + " /SkipSpaceCheck extra", "Invalid command line argument"),
        (lambda s: s + " /?", "UnifiedSetup.exe [/ShowThirdpartyEULA]"),
        (lambda s: s + " /ShowThirdpartyEULA", "EULA"),
        (lambda s: s.replace(r"C:\Temp\pp.txt", r"C:\Temp\none.txt"), "does not exist"),
        (lambda s: s + " /ProxySettingsFilePath C:\\Temp\\none.ini", "does not exist"),
    ],
)
def test_validation_failures_exit_2(tmp_path, change, message):
    estate = make_estate(tmp_path)
    r = install_ps(estate, line=change(PS_LINE))
    assert r.rc == 2, r.stdout
    assert message in r.stdout
    assert c.MSG_FAILED in r.stdout
    assert products.installed_versions(estate.read_host("ps01")) == {}


def test_vmware_env_with_tools(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.facts["vmware_tools"] = True
    assert install_ps(estate, line=PS_LINE.replace('"NonVMware"', '"VMWare"')).rc == 0


def test_space_check_and_skips(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.data["disks"]["D"]["free_gb"] = 500
    r = install_ps(estate)
    assert r.rc == 2 and "600 GB" in r.stdout
    assert install_ps(estate, line=PS_LINE + " /SkipSpaceCheck").rc == 0


@pytest.mark.parametrize("skip", ["/SkipSpaceCheck", "/SkipPrereqsCheck"])
def test_disk_too_small_fault(tmp_path, skip):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["disk_too_small"] = True
    assert install_ps(estate).rc == 2
    assert install_ps(estate, line=PS_LINE + " " + skip).rc == 0


def test_non_ntfs_or_removable_drive(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.data["disks"]["D"]["filesystem"] = "ReFS"
    r = install_ps(estate)
    assert r.rc == 2 and "fixed NTFS" in r.stdout


def test_wrong_passphrase_and_cs_unreachable(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.write_file(r"C:\Temp\pp.txt", "wrong")
    r = install_ps(estate)
    assert r.rc == 2 and "Passphrase validation failed" in r.stdout
    with estate.open_host("ps01") as host:
        host.write_file(r"C:\Temp\pp.txt", PASSPHRASE)
        host.faults["cs_unreachable"] = True
    r = install_ps(estate)
    assert r.rc == 2 and "Unable to connect" in r.stdout
    with estate.open_host("ps01") as host:
        host.faults.clear()
    with estate.open_host("cs01") as cs:
        cs.data["reachable"] = False
    assert install_ps(estate).rc == 2
    r = install_ps(estate, line=PS_LINE.replace("10.0.0.11", "10.0.0.99"))
    assert r.rc == 2


def test_ps_newer_than_cs_refused(tmp_path):
    estate = make_estate(tmp_path, cs_version=OLD, package=CURRENT)
    r = install_ps(estate)
    assert r.rc == 4
    assert "newer than the configuration server" in r.stdout


def test_already_installed_needs_upgrade(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate).rc == 0
    r = install_ps(estate)
    assert r.rc == 2
    assert "Pass /Upgrade switch to proceed" in r.stdout


def test_partial_install_completes_on_rerun(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_exit_code"] = 1
    r = install_ps(estate)
    assert r.rc == 1 and c.MSG_FAILED in r.stdout
    assert set(products.installed_versions(estate.read_host("ps01"))) == {"dependencies"}
    assert "installer_exit_code" not in estate.read_host("ps01").faults  # the fault is for the next run only
    assert install_ps(estate).rc == 0
    assert len(products.installed_versions(estate.read_host("ps01"))) == 4


# ---- proxy file [8] ---------------------------------------------------------------------------------
GOOD_PROXY = (
    '[ProxySettings]\nProxyAuthentication = "Yes"\nProxyIP = "http://proxy.corp"\nProxyPort = "3128"\n'
    'ProxyUserName="corp\\svc"\nProxyPassword="Pw1!"\n'
)


@pytest.mark.parametrize(
    "text",
    [
        GOOD_PROXY.replace("ProxyIP", "Proxy IP"),  # the doc's spelling fails the SRC regex
        GOOD_PROXY.replace('"Yes"', '"yes"'),  # case-sensitive
        GOOD_PROXY.replace("http://proxy.corp", "proxy.corp"),
        GOOD_PROXY.replace('"3128"', '"0"'),
        GOOD_PROXY.replace('"3128"', '"x"'),
        GOOD_PROXY.replace('ProxyPassword="Pw1!"', 'ProxyPassword=""'),
        GOOD_PROXY.replace("[ProxySettings]\n", ""),
        GOOD_PROXY.replace("[ProxySettings]", "* [ProxySettings]"),  # the PS articles' markdown artefact
        GOOD_PROXY + 'Extra = "1"\n',
        GOOD_PROXY.replace('ProxyPort = "3128"\n', "").replace("ProxyIP", "ProxyPort", 0),
    ],
)
def test_proxy_file_rejected(text):
    with pytest.raises(installer.SetupExit) as exc:
        installer.validate_proxy_file(text)
    assert exc.value.code == 2


def test_proxy_file_accepted_and_parsed_like_src():
    proxy = installer.validate_proxy_file(GOOD_PROXY.replace("\n", "\r\n\r\n"))
    assert proxy["address"] == "http://proxy.corp" and proxy["port"] == 3128 and proxy["username"] == "corp\\svc"
    assert "password" not in proxy
    no_auth = GOOD_PROXY.replace('"Yes"', '"No"').replace('"corp\\svc"', '""').replace('"Pw1!"', '""')
    assert installer.validate_proxy_file(no_auth)["authentication"] is False
    # [8] GrepUtils.cs: a password containing '=' is truncated
    from lab.asr import mars

    cut = installer.validate_proxy_file(GOOD_PROXY.replace("Pw1!", "a=b"))
    assert cut["password_sha256"] == mars.password_digest("a")


def test_install_with_proxy_sets_custom_and_mars(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.write_file(r"C:\Temp\proxy.ini", GOOD_PROXY)
    r = install_ps(estate, line=PS_LINE + r' /ProxySettingsFilePath "C:\Temp\proxy.ini"')
    assert r.rc == 0, r.stdout
    host = estate.read_host("ps01")
    assert host.reg_get(c.REG_INSTALLED_CSPS, "Proxy_Type") == "Custom"
    assert host.asr["mars_proxy"]["ProxyServer"] == "http://proxy.corp"
    assert host.asr["mars_proxy_effective"]["ProxyPort"] == 3128
    assert "Pw1!" not in str(host.data)


# ---- exit codes [1.4] ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "installed", "registered", "failed_text"),
    [
        (0, 4, True, False),
        (1, 1, False, True),
        (2, 0, False, True),
        (4, 0, False, True),
        (101, 4, True, True),
        (102, 4, True, True),
        (103, 4, True, True),
        (111, 3, True, True),
        (112, 4, True, True),
        (113, 4, True, True),
        (115, 4, True, True),
        (116, 4, True, True),
        (201, 0, False, False),
        (203, 0, False, True),
        (3010, 4, True, False),
    ],
)
def test_forced_exit_codes(tmp_path, code, installed, registered, failed_text):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_exit_code"] = code
        host.write_file(r"C:\Temp\proxy.ini", GOOD_PROXY)
    r = install_ps(estate, line=PS_LINE + r' /ProxySettingsFilePath "C:\Temp\proxy.ini"')
    assert r.rc == code
    assert (c.MSG_FAILED in r.stdout) is failed_text
    host = estate.read_host("ps01")
    assert len(products.installed_versions(host)) == installed
    records = estate.read_host("cs01").asr["registered_process_servers"]
    assert ("10.0.0.101" in records) is registered
    if code in (112, 113):
        assert records["10.0.0.101"]["mt_registered"] is False
    if code == 115:
        assert "mars_proxy" not in host.asr
    if code == 102:
        assert host.service("ProcessServer")["state"] == "stopped"
    if code == 3010:
        assert host.pending_reboot_reasons()


def test_service_fails_to_start_gives_102(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["service_fails_to_start"] = "tmansvc"
    r = install_ps(estate)
    assert r.rc == 102
    assert "tmansvc" in r.stdout
    assert estate.read_host("ps01").service("tmansvc")["state"] == "stopped"


def test_network_logon_restricted(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["network_logon_restricted"] = True
        r = run(host, PS_LINE, become=False)
        assert r.rc == 1 and "Access is denied" in r.stdout
        assert products.installed_versions(host) == {}
        assert run(host, PS_LINE, become=True).rc == 0


def test_wizard_mode_returns_0_and_does_nothing(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        assert run(host, "UnifiedSetup.exe").rc == 0
        assert products.installed_versions(host) == {}


def test_pending_reboot_not_invented(tmp_path):
    # The reference does not say setup refuses when a reboot is pending: the lab installs.
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["pending_reboot"] = True
    assert install_ps(estate).rc == 0


# ---- /Upgrade [4] -------------------------------------------------------------------------------------
def _with_new_package(estate, host_name, version=CURRENT):
    """``version``'s package copied to ``host_name`` and extracted to C:\\Temp\\New (where /Upgrade runs from)."""
    with estate.open_host(host_name) as host:
        host.write_file(r"C:\Temp\new.exe", installer.package_bytes(version))
        assert run(host, r"C:\Temp\new.exe /q /x:C:\Temp\New").rc == 0
    return estate


def _old_estate(tmp_path, old=OLD, cs_version=CURRENT):
    estate = make_estate(tmp_path, cs_version=cs_version, package=old)
    assert install_ps(estate).rc == 0
    return _with_new_package(estate, "ps01")


def test_upgrade_keeps_configuration(tmp_path):
    estate = _old_estate(tmp_path)
    before = estate.read_host("ps01")
    guid = before.asr["host_guid"]
    with estate.open_host("ps01") as host:
        host.set_service_state("tmansvc", "stopped")
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 0, r.stdout
    host = estate.read_host("ps01")
    assert products.installed_versions(host) == dict.fromkeys(products.COMPONENTS, CURRENT)
    assert host.reg_get(c.REG_INSTALLED_CSPS, "Build_Version") == CURRENT
    assert host.asr["host_guid"] == guid
    assert 'CS_IP = "10.0.0.11"' in host.read_text(r"D:\home\svsystems\etc\amethyst.conf")
    assert host.service("tmansvc")["state"] == "running"
    assert estate.read_host("cs01").asr["registered_process_servers"]["10.0.0.101"]["version"] == CURRENT
    # same version again => 201 ProductIsAlreadyInstalled (lab-chosen trigger), nothing changed
    with estate.open_host("ps01") as h:
        assert run(h, "UnifiedSetup.exe /Upgrade /AcceptThirdpartyEULA", cwd=r"C:\Temp\New").rc == 201


def test_upgrade_with_other_switches_refused(tmp_path):
    estate = _old_estate(tmp_path)
    with estate.open_host("ps01") as host:
        r = run(host, r"UnifiedSetup.exe /Upgrade /InstallLocation D:\ ", cwd=r"C:\Temp\New")
    assert r.rc == 2 and "cannot be combined" in r.stdout


def test_upgrade_nothing_installed(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        assert run(host, "UnifiedSetup.exe /Upgrade").rc == 2


def test_upgrade_n_minus_4(tmp_path):
    estate = _old_estate(tmp_path, old="9.50.6601.1")  # 55 - 50 = 5 > 4
    with estate.open_host("ps01") as host:
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 203 and c.MSG_FAILED in r.stdout
    assert products.installed_version(estate.read_host("ps01"), "csps") == "9.50.6601.1"


def test_upgrade_n_minus_4_boundary_allowed(tmp_path):
    estate = _old_estate(tmp_path, old="9.51.6712.1")
    with estate.open_host("ps01") as host:
        assert run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New").rc == 0


def test_downgrade_refused(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate).rc == 0
    with estate.open_host("ps01") as host:
        host.write_file(r"C:\Temp\old.exe", installer.package_bytes(OLD))
        run(host, r"C:\Temp\old.exe /q /x:C:\Temp\Old")
        assert run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\Old").rc == 203


def test_upgrade_ps_beyond_cs_refused(tmp_path):
    estate = _old_estate(tmp_path, cs_version=OLD)
    with estate.open_host("ps01") as host:
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 203 and "configuration server first" in r.stdout


def test_upgrade_cs_unreachable_then_registration_fails_113(tmp_path):
    estate = _old_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["cs_unreachable"] = True
        assert run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New").rc == 113


# ---- /Upgrade on a configuration server [4], [1.3] ----------------------------------------------------------
def _old_cs_estate(tmp_path, old=OLD, package=CURRENT):
    estate = make_estate(tmp_path, cs_version=old, package=old)
    assert install_ps(estate).rc == 0  # a process server registered with the CS (PS <= CS at the old build)
    return _with_new_package(estate, "cs01", package)


def test_cs_upgrade_bumps_the_build_and_restarts_its_services(tmp_path):
    estate = _old_cs_estate(tmp_path)
    with estate.open_host("cs01") as host:
        for name in ("dra", "W3SVC", "tmansvc"):
            host.set_service_state(name, "stopped")
        mysql_before = products.installed_version(host, "mysql")
        passphrase = products.cs_passphrase(host)
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 0, r.stdout
    assert "upgrade in CS mode" in host.read_text(c.LOG_UNIFIED)
    host = estate.read_host("cs01")
    versions = products.installed_versions(host)
    assert {k: versions[k] for k in (*products.COMPONENTS, "provider")} == dict.fromkeys(
        (*products.COMPONENTS, "provider"), CURRENT
    )
    assert versions["mysql"] == mysql_before  # [2.1] MySQL is not upgraded by the lab (nothing documented)
    assert host.reg_get(c.REG_INSTALLED_CSPS, "Build_Version") == CURRENT
    assert host.reg_get(c.REG_INSTALLED_CSPS, "CX_TYPE") == 3 and products.is_configuration_server(host)
    assert products.cs_passphrase(host) == passphrase  # the configuration is kept
    for name, _, _ in c.SERVICES_CSPS + c.SERVICES_MT + c.SERVICES_CS_ONLY:
        assert host.service(name)["state"] == "running", name
    assert "10.0.0.101" in host.asr["registered_process_servers"]  # its process servers stay registered
    # the process server may now go to the CS's build (PS <= CS [3.1])
    with estate.open_host("ps01") as ps:
        ps.write_file(r"C:\Temp\new.exe", installer.package_bytes(CURRENT))
        assert run(ps, r"C:\Temp\new.exe /q /x:C:\Temp\New").rc == 0
        assert run(ps, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New").rc == 0


def test_cs_upgrade_with_the_third_party_eula_switch(tmp_path):
    # [1.3] SRC: a CS with MySQL 5.5 is upgraded with /Upgrade /AcceptThirdpartyEULA
    estate = _old_cs_estate(tmp_path)
    with estate.open_host("cs01") as host:
        host.reg_set(products.uninstall_key("mysql"), "DisplayVersion", "5.5.37")  # [2.2] seed-era MySQL
        assert run(host, "UnifiedSetup.exe /Upgrade /AcceptThirdpartyEULA", cwd=r"C:\Temp\New").rc == 0
    host = estate.read_host("cs01")
    # the lab invents nothing about MySQL during an upgrade ([2.1]: upgrading MySQL on the CS is not supported)
    assert products.installed_version(host, "mysql") == "5.5.37"
    assert products.installed_version(host, "csps") == CURRENT


def test_cs_upgrade_refuses_other_switches(tmp_path):
    estate = _old_cs_estate(tmp_path)
    with estate.open_host("cs01") as host:
        r = run(host, "UnifiedSetup.exe /Upgrade /ServerMode CS", cwd=r"C:\Temp\New")
    assert r.rc == 2 and products.installed_version(estate.read_host("cs01"), "csps") == OLD


def test_cs_upgrade_n_minus_4_and_downgrade_refused(tmp_path):
    estate = _old_cs_estate(tmp_path, old="9.50.6601.1")  # 55 - 50 = 5 > 4 [4]
    with estate.open_host("cs01") as host:
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 203 and "more than 4 versions" in r.stdout
    assert products.installed_version(estate.read_host("cs01"), "csps") == "9.50.6601.1"
    estate = _old_cs_estate(tmp_path / "down", old=CURRENT, package=OLD)
    with estate.open_host("cs01") as host:
        r = run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert r.rc == 203 and "downgrade" in r.stdout
    assert products.installed_version(estate.read_host("cs01"), "csps") == CURRENT


def test_cs_upgrade_failure_fault_leaves_the_build(tmp_path):
    estate = _old_cs_estate(tmp_path)
    with estate.open_host("cs01") as host:
        host.faults["installer_exit_code"] = 203
        assert run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New").rc == 203
    assert products.installed_version(estate.read_host("cs01"), "csps") == OLD


def test_cs_upgrade_service_that_will_not_start(tmp_path):
    estate = _old_cs_estate(tmp_path)
    with estate.open_host("cs01") as host:
        host.faults["service_fails_to_start"] = ["dra"]
        run(host, "UnifiedSetup.exe /Upgrade", cwd=r"C:\Temp\New")
    assert estate.read_host("cs01").service("dra")["state"] == "stopped"


# ---- detached runs ------------------------------------------------------------------------------------
def test_start_poll_with_installer_seconds(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_seconds"] = 600
        run_rec = installer.start_setup(host, PS_LINE, "Administrator", True, cwd=r"C:\Temp\Extracted")
        assert run_rec["state"] == "running" and run_rec["rc"] is None
        assert products.installed_versions(host) == {}
        # single instance: a second run fails while the first holds the mutex
        second = run(host, PS_LINE)
        assert second.rc == 1 and "Another instance" in second.stdout
        assert installer.poll_setup(host, run_rec["run_id"])["state"] == "running"
        host.faults["clock_skew_seconds"] = 601  # the host clock moves past the run's end
        done = installer.poll_setup(host, run_rec["run_id"])
        assert done["state"] == "exited" and done["rc"] == 0
        assert c.MSG_SUCCEEDED in done["stdout"]
        assert len(products.installed_versions(host)) == 4
    with pytest.raises(KeyError):
        installer.poll_setup(estate.read_host("ps01"), "run-nope")


def test_start_validation_failure_ends_at_once(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_seconds"] = 600
        rec = installer.start_setup(
            host, PS_LINE.replace("/AcceptThirdpartyEULA ", ""), "a", True, cwd=r"C:\Temp\Extracted"
        )
    assert rec["state"] == "exited" and rec["rc"] == 2


def test_start_setup_argv_list_and_other_programs(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        rec = installer.start_setup(host, ["hostname"], "a", True)
        assert rec["state"] == "exited" and rec["rc"] == 0 and rec["stdout"].strip() == "PS01"
        rec = installer.start_setup(
            host,
            [
                r"C:\Temp\Extracted\UnifiedSetup.exe",
                "/AcceptThirdpartyEULA",
                "/ServerMode",
                "PS",
                "/InstallLocation",
                "D:\\",
                "/EnvType",
                "NonVMware",
                "/CSIP",
                "10.0.0.11",
                "/PassphraseFilePath",
                r"C:\Temp\pp.txt",
            ],
            "a",
            True,
        )
        assert rec["rc"] == 0


def test_sync_run_reports_installer_seconds(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_seconds"] = 42
        r = run(host, PS_LINE)
    assert r.rc == 0 and r.duration_s == 42


# ---- CS mode --------------------------------------------------------------------------------------------
MYSQL = '[MySQLCredentials]\nMySQLRootPassword = "Root#Pass1"\nMySQLUserPassword = "User#Pass1"\n'
CS_LINE = (
    r'UnifiedSetup.exe /AcceptThirdpartyEULA /ServerMode CS /InstallLocation "E:\ASR" '
    r"/MySQLCredsFilePath C:\Temp\m.txt "
    r"/VaultCredsFilePath C:\Temp\v.vaultcredentials /EnvType NonVMware"
)


def _cs_host():
    host = new_host("csnew", "10.0.0.12", "configuration_server")
    host.data["disks"]["E"] = {"size_gb": 2048, "free_gb": 2000, "filesystem": "NTFS", "fixed": True}
    host.mkdir("E:\\ASR")
    host.write_file(r"C:\Temp\m.txt", MYSQL)
    host.write_file(r"C:\Temp\v.vaultcredentials", "<vault/>")
    host.write_file(r"C:\Temp\X\UnifiedSetup.exe", "ASR-LAB-UNIFIEDSETUP-EXE\nversion=9.55.7123.1\n")
    return host


def test_cs_mode_install():
    host = _cs_host()
    r = run(host, CS_LINE, cwd=r"C:\Temp\X")
    assert r.rc == 0, r.stdout
    assert products.is_configuration_server(host)
    assert host.reg_get(c.REG_INSTALLED_CSPS, "CX_TYPE") == 3
    assert products.cs_passphrase(host)
    assert host.service("dra") and host.service("MySQL")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s + " /DataTransferSecurePort 443",  # [1.3] rejected in CS mode
        lambda s: s.replace(r"/VaultCredsFilePath C:\Temp\v.vaultcredentials", ""),
        lambda s: s.replace(r"/MySQLCredsFilePath C:\Temp\m.txt", ""),
    ],
)
def test_cs_mode_validation(change):
    host = _cs_host()
    assert run(host, change(CS_LINE), cwd=r"C:\Temp\X").rc == 2


def test_cs_mode_skip_registration_and_mysql_rules():
    host = _cs_host()
    line = CS_LINE.replace(r"/VaultCredsFilePath C:\Temp\v.vaultcredentials", "/SkipRegistration")
    host.write_file(r"C:\Temp\m.txt", MYSQL.replace("Root#Pass1", "short1#"))
    assert run(host, line, cwd=r"C:\Temp\X").rc == 2
    host.write_file(r"C:\Temp\m.txt", MYSQL.replace("Root#Pass1", "Root.Pass1#"))  # '.' forbidden
    assert run(host, line, cwd=r"C:\Temp\X").rc == 2
    host.write_file(r"C:\Temp\m.txt", MYSQL)
    assert run(host, line, cwd=r"C:\Temp\X").rc == 0


def test_detached_run_finishes_without_polling(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        host.faults["installer_seconds"] = 30
        installer.start_setup(host, PS_LINE, "a", True, cwd=r"C:\Temp\Extracted")
        host.faults["clock_skew_seconds"] = 31
        run(host, "hostname")  # any later process on the host: the setup process has ended on its own
        assert len(products.installed_versions(host)) == 4
