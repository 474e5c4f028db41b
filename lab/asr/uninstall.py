"""Uninstallers: ``MsiExec.exe /x {GUID}`` (Master Target, MARS) and the Inno ``unins000.exe`` (CS/PS, Dependencies).

[6.1] DOC: a scale-out PS is removed by uninstalling Configuration/Process Server, then its Dependencies, then MARS;
the MT silently with ``MsiExec.exe /qn /x {275197FC-14FD-4560-A5EB-38217F80CBD1} /L+*V "<log>"``.
[5] DOC: on the connected path the CS learns of the removal (the portal shows it within 15 minutes): the lab's CS/PS
uninstaller tells the CS when it can reach it and otherwise leaves the CS's record (the disconnected path, cleaned
up with Unregister-ASRComponent.pl on the CS).

Not invented: the reference does not say that removing Dependencies while the CS/PS is installed fails, so the lab
lets it happen (leaving a broken CS/PS). LAB-CHOSEN exit codes: MSI's own (0, 1605 unknown product, 1603 fatal error,
1639 invalid command line); Inno's uninstaller 0 on success, 1 when not silent or access is denied.
"""

from __future__ import annotations

import time

from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import products
from lab.asr.cdpcli import registration_target
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host

MSI_COMPONENTS = {c.MT_PRODUCT_CODE.upper(): "mt", c.MARS_PRODUCT_CODE_LAB.upper(): "mars"}


def _msi_log(host: Host, path: str | None, lines: list[str]) -> None:
    if not path:
        return
    stamp = time.strftime("%H:%M:%S", time.gmtime(host.now()))
    host.append_text(path, "".join(f"MSI (s) [{stamp}:000]: {line}\r\n" for line in lines))


@executable("msiexec.exe")
def msiexec(inv: Invocation) -> ProcessResult:
    args = inv.args
    quiet = False
    product = None
    log = None
    i = 0
    while i < len(args):
        arg = args[i]
        low = arg.lower()
        if low in ("/q", "/qn", "/quiet", "/passive", "/qb", "/qb!", "/qn+"):
            quiet = True
        elif low in ("/x", "/uninstall"):
            i += 1
            product = args[i] if i < len(args) else None
        elif low.startswith("/x{"):
            product = arg[2:]
        elif low.startswith("/l"):
            i += 1
            log = args[i] if i < len(args) else None
        elif low in ("/norestart", "/forcerestart", "/promptrestart"):
            pass
        else:
            return ProcessResult(
                1639,
                "",
                "Invalid command line argument. Consult the Windows Installer SDK for detailed command line help. "
                f"({arg})\r\n",
            )
        i += 1
    if product is None:
        return ProcessResult(1639, "", "Invalid command line argument. (lab: only /x <product code> is emulated)\r\n")
    if not quiet:
        # A confirmation dialog would wait forever in a WinRM session; LAB-CHOSEN: refuse as "user cancelled".
        return ProcessResult(1602, "", "User cancelled installation. (lab: pass /qn)\r\n")
    host = inv.host
    component = MSI_COMPONENTS.get(product.upper())
    if component is None or products.installed_version(host, component) is None:
        _msi_log(
            host, log, [f"Product: {product} -- This action is only valid for products that are currently installed."]
        )
        return ProcessResult(1605, "", "This action is only valid for products that are currently installed.\r\n")
    name = products.DISPLAY_NAMES[component]
    version = products.installed_version(host, component)
    forced = host.faults.pop("msiexec_exit_code", None)
    if forced not in (None, "", 0, "0"):
        # Fault `msiexec_exit_code`: the next MSI uninstall fails with this Windows Installer code (e.g. 1603) and
        # removes nothing, as a rolled-back uninstall does.
        _msi_log(host, log, [f"Product: {name} -- Removal failed.", f"Removal success or error status: {forced}."])
        return ProcessResult(int(forced), "", "Fatal error during installation.\r\n")
    if host.faults.get("network_logon_restricted") and not inv.become:
        _msi_log(
            host, log, [f"Product: {name} -- Error 1730. Access is denied.", "Removal success or error status: 1603."]
        )
        return ProcessResult(1603, "", "Fatal error during installation.\r\n")
    if component == "mt":
        products.remove_mt(host)
    else:
        products.remove_mars(host)
    _msi_log(
        host,
        log,
        [
            f"Product: {name} -- Removal completed successfully.",
            f"Windows Installer removed the product. Product Name: {name}. Product Version: {version}. "
            "Product Language: 1033. Manufacturer: Microsoft Corporation. Removal success or error status: 0.",
        ],
    )
    return ProcessResult(0, "", "")


def _inno_component(host: Host, exe_path: str) -> str | None:
    want = exe_path.replace("/", "\\").lower()
    for component in ("csps", "dependencies"):
        key = products.uninstall_key(component)
        uninstall = str(host.reg_get(key, "UninstallString", "")).strip('"').lower()
        if uninstall and host.resolve(uninstall) == host.resolve(want):
            return component
    return None


@executable("unins000.exe")
def inno_uninstaller(inv: Invocation) -> ProcessResult:
    host = inv.host
    component = _inno_component(host, inv.exe_path)
    if component is None:
        return ProcessResult(1, "", 'Setup Error: The file "unins000.dat" is missing or corrupted.\r\n')
    flags = {a.upper() for a in inv.args}
    if not flags & {"/SILENT", "/VERYSILENT"}:
        # Inno asks "Are you sure you want to completely remove ...?": nobody answers over WinRM (LAB: rc 1).
        return ProcessResult(1, "", "Uninstall needs /SILENT or /VERYSILENT when run without a desktop.\r\n")
    if host.faults.get("network_logon_restricted") and not inv.become:
        return ProcessResult(1, "", "Access is denied.\r\n")
    log = c.LOG_CSPS if component == "csps" else c.LOG_DEPENDENCIES
    stamp = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(host.now()))
    if component == "csps":
        _tell_cs(host)
        products.remove_csps(host)
    else:
        products.remove_dependencies(host)
    host.append_text(log, f"{stamp} Uninstall of {products.DISPLAY_NAMES[component]} completed.\r\n")
    return ProcessResult(0, "", "")


def _tell_cs(host: Host) -> None:
    """[5] connected path: the PS's removal reaches the CS when it can talk to it."""
    cs_ip, ps_ip, _ = registration_target(host)
    if not cs_ip or products.is_configuration_server(host):
        return
    with cs_mod.reach_cs(host, cs_ip) as (cs, _why):
        if cs is not None:
            cs_mod.unregister_ps(cs, ps_ip or host.ip, "uninstall")
