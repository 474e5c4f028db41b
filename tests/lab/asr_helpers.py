"""Shared builders for the lab's ASR emulation tests (an estate with one CS and process servers)."""

from __future__ import annotations

import hashlib

from lab import programs
from lab.asr import build, installer
from lab.state import Estate, new_host

CURRENT = "9.55.7123.1"
OLD = "9.52.6801.1"
PASSPHRASE = "LabPassphrase0001"
EXTRACTED = r"C:\Temp\Extracted"
# The package the setup script tests stage: where setup_start keeps it (by its SHA-256) and the run folder it makes.
PACKAGE = installer.package_bytes(CURRENT)
SHA = hashlib.sha256(PACKAGE).hexdigest()
STAGING = r"C:\ProgramData\ASRSetupStaging"
STAGED = rf"{STAGING}\{SHA[:16]}\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
RUN_DIR = rf"{STAGING}\run-0123456789ab"
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


# ---- the collection's scripts, run by the lab as their real text -------------------------------------------------
def collection_script(name: str) -> str:
    """The exact text win_powershell carries for collection script ``name`` (fragments spliced by load_script)."""
    from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader

    return loader.load_script(name).text


def run_script(host, name_or_text, parameters=None, sensitive=None, *, check_mode=False, user="Administrator",
               become=True):  # fmt: skip
    """Run a collection script (by name, or a script text) on ``host`` as win_powershell does: its fields."""
    from lab import scripts

    text = name_or_text if "\n" in name_or_text else collection_script(name_or_text)
    entries = [{"name": k, "value": v} for k, v in (sensitive or {}).items()]
    return scripts.run(host, text, dict(parameters or {}), entries, check_mode=check_mode, user=user, become=become)


def error_text(fields) -> str:
    """The messages of a script call's error records (what a failed script says)."""
    return " | ".join(str((e.get("exception") or {}).get("message")) for e in fields.get("error") or [])
