"""net/sc [3.3]/[6.3], cdpcli --registermt [3.3], Set/Get-OBMachineSetting [6.6]/[8], uninstallers [6.1]/[5],
perl Unregister-ASRComponent.pl [5], CS heartbeats [7.5]."""

from __future__ import annotations

import pytest
from asr_helpers import PASSPHRASE, install_ps, make_estate, run

from lab import programs
from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import products

# ---- net / sc -------------------------------------------------------------------------------------------


@pytest.fixture
def installed(tmp_path):
    estate = make_estate(tmp_path)
    assert install_ps(estate).rc == 0
    return estate


def test_net_stop_start_and_errors(installed):
    with installed.open_host("ps01") as host:
        r = run(host, "net stop obengine")
        assert r.rc == 0 and "was stopped successfully" in r.stdout
        r = run(host, "net stop obengine")
        assert r.rc == 2 and "is not started" in r.stderr and "3521" in r.stderr
        r = run(host, "net start obengine")
        assert r.rc == 0 and "Microsoft Azure Recovery Services Agent service was started successfully" in r.stdout
        r = run(host, "net start obengine")
        assert r.rc == 2 and "The requested service has already been started." in r.stderr
        assert run(host, "net start nosuch").rc == 2
        assert run(host, 'net start "Process Server"').rc == 2  # by display name: already running
        host.faults["service_fails_to_start"] = ["tmansvc"]
        run(host, "net stop tmansvc")
        r = run(host, "net start tmansvc")
        assert r.rc == 2 and "could not be started" in r.stderr
        assert host.service("tmansvc")["state"] == "stopped"


def test_sc(installed):
    with installed.open_host("ps01") as host:
        r = run(host, "sc query tmansvc")
        assert r.rc == 0 and "4  RUNNING" in r.stdout
        assert run(host, "sc start tmansvc").rc == 1056
        assert run(host, "sc stop tmansvc").rc == 0
        assert "1  STOPPED" in run(host, "sc.exe query tmansvc").stdout
        assert run(host, "sc stop tmansvc").rc == 1062
        assert run(host, "sc query nosuch").rc == 1060
        assert "DEMAND_START" in run(host, "sc qc obengine").stdout
        host.faults["service_fails_to_start"] = "tmansvc"
        assert run(host, "sc start tmansvc").rc == 1053


# ---- cdpcli --registermt --------------------------------------------------------------------------------
def test_registermt(installed):
    with installed.open_host("cs01") as cs:
        cs.asr["registered_process_servers"]["10.0.0.101"]["last_heartbeat"] = 0
    with installed.open_host("ps01") as host:
        r = run(
            host, "cdpcli.exe --registermt", cwd=r"%ProgramData%\ASR\Agent".replace("%ProgramData%", r"C:\ProgramData")
        )
        assert r.rc == 0 and "registered successfully" in r.stdout
        assert run(host, "cdpcli.exe --bogus", cwd=r"C:\ProgramData\ASR\Agent").rc == 1
        host.faults["cs_unreachable"] = True
        r = run(host, r"C:\ProgramData\ASR\Agent\cdpcli.exe --registermt")
        assert r.rc == 1 and "Failed to register" in r.stderr
    assert installed.read_host("cs01").asr["registered_process_servers"]["10.0.0.101"]["last_heartbeat"] > 0


def test_registermt_via_cmd_docs_path(installed):
    with installed.open_host("ps01") as host:
        r = run(
            host,
            r"cmd /c cd /d %PROGRAMDATA%\ASR\Agent && cdpcli.exe --registermt"
            r" && net stop obengine && net start obengine",
        )
        assert r.rc == 0, r.stderr


# ---- Set-OBMachineSetting / Get-OBMachineSetting ----------------------------------------------------------
def test_mars_proxy_cmdlets(installed):
    with installed.open_host("ps01") as host:
        r = programs.run_cmdlet(
            host,
            "Set-OBMachineSetting",
            {
                "-ProxyServer": "http://p.corp",
                "ProxyPort": 8080,
                "ProxyUserName": "corp\\u",
                "ProxyPassword": "S3cr3t!",
            },
            user="a",
            become=True,
        )
        assert r.ok
        got = programs.run_cmdlet(host, "get-obmachinesetting", {}, user="a", become=True).output[0]
        assert got == {
            "ProxyServer": "http://p.corp",
            "ProxyPort": 8080,
            "ProxyUserName": "corp\\u",
            "BypassUrls": [],
            "ProxyPasswordSet": True,
        }
        assert "S3cr3t!" not in str(host.data)
        assert host.asr["mars_proxy_effective"] == {}  # not in effect until obengine restarts ([6.6]/[8])
        run(host, "net stop obengine")
        run(host, "net start obengine")
        assert host.asr["mars_proxy_effective"]["ProxyServer"] == "http://p.corp"
        assert programs.run_cmdlet(host, "Set-OBMachineSetting", {"NoProxy": True}, user="a", become=True).ok
        assert (
            programs.run_cmdlet(host, "Get-OBMachineSetting", {}, user="a", become=True).output[0]["ProxyServer"]
            is None
        )
        bad = programs.run_cmdlet(
            host, "Set-OBMachineSetting", {"NoProxy": True, "ProxyServer": "x"}, user="a", become=True
        )
        assert not bad.ok
        assert not programs.run_cmdlet(host, "Set-OBMachineSetting", {"ProxyServer": "x"}, user="a", become=True).ok


def test_mars_cmdlets_need_mars(tmp_path):
    estate = make_estate(tmp_path)
    host = estate.read_host("ps01")
    r = programs.run_cmdlet(host, "Set-OBMachineSetting", {"NoProxy": True}, user="a", become=True)
    assert not r.ok and "not recognized" in r.errors[0]


# ---- uninstallers [6.1] / [5] ---------------------------------------------------------------------------
def _uninstall_csps(host, become=True):
    unins = host.reg_get(products.uninstall_key("csps"), "UninstallString").strip('"')
    return run(host, f'"{unins}" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART', become=become)


def test_documented_uninstall_order_connected(installed):
    with installed.open_host("ps01") as host:
        assert _uninstall_csps(host).rc == 0
        assert products.installed_version(host, "csps") is None
        assert host.service("ProcessServer") is None
        assert not host.reg_key_exists(c.REG_INSTALLED_CSPS)
        deps = host.reg_get(products.uninstall_key("dependencies"), "UninstallString").strip('"')
        assert run(host, f'"{deps}" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART').rc == 0
        assert not host.is_dir(c.THIRDPARTY_DIR)
        log = r"C:\ProgramData\ASRSetupLogs\UnifiedAgentMSIUninstall.log"
        r = run(host, f'MsiExec.exe /qn /x {c.MT_PRODUCT_CODE} /L+*V "{log}"')
        assert r.rc == 0
        assert "Removal completed successfully" in host.read_text(log)
        assert host.service("svagents") is None
        r = run(host, f"msiexec /qn /x{c.MARS_PRODUCT_CODE_LAB}")
        assert r.rc == 0
        assert products.installed_products(host) == []
        assert run(host, f"msiexec /qn /x {c.MT_PRODUCT_CODE}").rc == 1605
    # [5] connected: the CS learned of the removal
    cs = installed.read_host("cs01")
    assert "10.0.0.101" not in cs.asr["registered_process_servers"]
    assert cs.asr["unregistered_process_servers"][0]["unregistered_by"] == "uninstall"


def test_uninstall_disconnected_leaves_cs_record(installed):
    with installed.open_host("ps01") as host:
        host.faults["cs_unreachable"] = True
        assert _uninstall_csps(host).rc == 0
    assert "10.0.0.101" in installed.read_host("cs01").asr["registered_process_servers"]


def test_dependencies_first_is_not_blocked(installed):
    # The reference does not say removing Dependencies before the CS/PS fails: the lab does not invent it.
    with installed.open_host("ps01") as host:
        deps = host.reg_get(products.uninstall_key("dependencies"), "UninstallString").strip('"')
        assert run(host, f'"{deps}" /VERYSILENT').rc == 0
        assert products.installed_version(host, "csps")


def test_uninstaller_needs_silent_and_become_when_restricted(installed):
    with installed.open_host("ps01") as host:
        unins = host.reg_get(products.uninstall_key("csps"), "UninstallString").strip('"')
        assert run(host, f'"{unins}"').rc == 1
        host.faults["network_logon_restricted"] = True
        assert _uninstall_csps(host, become=False).rc == 1
        assert run(host, f"msiexec /qn /x {c.MT_PRODUCT_CODE}", become=False).rc == 1603
        assert run(host, f"msiexec /x {c.MT_PRODUCT_CODE}").rc == 1602
        assert products.installed_version(host, "csps") and products.installed_version(host, "mt")
        assert _uninstall_csps(host, become=True).rc == 0


# ---- perl Unregister-ASRComponent.pl [5] ---------------------------------------------------------------
BIN = r"C:\ProgramData\ASR\home\svsystems\bin"


def test_unregister_component(installed):
    with installed.open_host("cs01") as cs:
        line = "perl Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS"
        # [5] 2018/2019 DOC dialogue: list, prompt for the S.No; no answer (assumption 1) purges nothing.
        r = programs.run(cs, line, user="Administrator", become=True, cwd=BIN, stdin="")
        assert r.rc == 1 and "10.0.0.101" in r.stdout and "Enter the S.No" in r.stdout
        assert "10.0.0.101" in cs.asr["registered_process_servers"]
        assert programs.run(cs, line, user="Administrator", become=True, cwd=BIN, stdin="7\r\n").rc == 1
        r = programs.run(cs, line, user="Administrator", become=True, cwd=BIN, stdin="1\r\n")
        assert r.rc == 0, r.stderr
        assert "Successfully unregistered" in r.stdout and "(10.0.0.101)" in r.stdout
        assert "10.0.0.101" not in cs.asr["registered_process_servers"]
        r = run(cs, "perl Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS", cwd=BIN)
        assert r.rc == 1 and "No process server" in r.stdout
        assert run(cs, "perl Unregister-ASRComponent.pl -IPAddress 10.0.0.9 -Component MT", cwd=BIN).rc == 1
        assert run(cs, "perl Unregister-ASRComponent.pl -IPAddress", cwd=BIN).rc == 1
        r = run(cs, "perl Unregister-ASRComponent.pl -IPAddress 10.0.0.101 -Component PS", cwd=r"C:\Temp")
        assert r.rc == 2 and "Can't open perl script" in r.stderr
        r = run(
            cs,
            r"cmd /c cd /d %ProgramData%\ASR\home\svsystems\bin"
            r" && perl Unregister-ASRComponent.pl -IPAddress 1.2.3.4 -Component PS",
        )
        assert r.rc == 1


def test_perl_absent_on_a_bare_ps(tmp_path):
    estate = make_estate(tmp_path)
    with estate.open_host("ps01") as host:
        assert run(host, "perl x.pl").rc == 9009


# ---- CS view ------------------------------------------------------------------------------------------
def test_heartbeats(installed):
    with installed.open_host("cs01") as cs:
        cs.asr["registered_process_servers"]["10.0.0.101"]["last_heartbeat"] = cs.now() - 3600
        view = cs_mod.refresh_heartbeats(cs)
        assert view["10.0.0.101"]["heartbeat_stale"] is False  # tmansvc runs: it heartbeats again
    with installed.open_host("ps01") as ps:
        ps.set_service_state("tmansvc", "stopped")
    with installed.open_host("cs01") as cs:
        cs.asr["registered_process_servers"]["10.0.0.101"]["last_heartbeat"] = cs.now() - 3600
        assert cs_mod.refresh_heartbeats(cs)["10.0.0.101"]["heartbeat_stale"] is True


def test_cs_passphrase_location(installed):
    cs = installed.read_host("cs01")
    assert cs.read_text(r"C:\ProgramData\Microsoft Azure Site Recovery\private\connection.passphrase") == PASSPHRASE
