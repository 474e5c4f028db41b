"""Shared builders for the lab's ASR emulation tests (an estate with one CS and process servers)."""

from __future__ import annotations

from lab import programs
from lab.asr import build, installer
from lab.state import Estate, new_host

CURRENT = "9.55.7123.1"
OLD = "9.52.6801.1"
PASSPHRASE = "LabPassphrase0001"
EXTRACTED = r"C:\Temp\Extracted"
PS_LINE = (
    r'UnifiedSetup.exe /AcceptThirdpartyEULA /ServerMode "PS" /InstallLocation "D:\\" /EnvType "NonVMware" '
    r'/CSIP "10.0.0.11" /PassphraseFilePath "C:\Temp\pp.txt"'
)


def make_estate(tmp_path, *, cs_version=CURRENT, package=CURRENT, ps_names=("ps01",)):
    estate = Estate(tmp_path)
    cs = new_host("cs01", "10.0.0.11", "configuration_server")
    build.configuration_server(cs, cs_version, passphrase=PASSPHRASE)
    estate.save_new_host(cs)
    for i, name in enumerate(ps_names):
        ps = new_host(name, f"10.0.0.{101 + i}")
        ps.write_file(r"C:\Temp\pp.txt", PASSPHRASE + "\r\n")
        ps.write_file(r"C:\Temp\MicrosoftAzureSiteRecoveryUnifiedSetup.exe", installer.package_bytes(package))
        programs.run(
            ps,
            r"C:\Temp\MicrosoftAzureSiteRecoveryUnifiedSetup.exe /q /x:C:\Temp\Extracted",
            user="Administrator",
            become=True,
        )
        estate.save_new_host(ps)
    return estate


def run(host, line, *, become=True, cwd=EXTRACTED):
    return programs.run(host, line, user="Administrator", become=become, cwd=cwd)


def install_ps(estate, name="ps01", line=PS_LINE):
    with estate.open_host(name) as host:
        return run(host, line)
