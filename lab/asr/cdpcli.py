"""``cdpcli.exe --registermt``: (re-)register the Master Target with the configuration server.

[3.3] DOC: run from ``%PROGRAMDATA%\\ASR\\Agent`` (an admin prompt) after re-registering a PS, then restart obengine;
also used to pull the latest certificates from the CS. [1.3] SRC: setup's last PS-mode step, whose failure is exit
113 (MTContainerRegistrationFailed, [1.4]).

The lab reads the CS address from the agent's drscout.conf ([6.5], path [UNCONFIRMED]) falling back to the PS's
amethyst.conf ``PS_CS_IP`` then ``CS_IP`` ([6.5]), and the data port from transport\\cxps.conf ``ssl_port`` ([6.5]);
success refreshes the CS's record of this PS (version, heartbeat, MT registered).
Output wording and the failure exit code (1) are LAB-CHOSEN: the reference documents neither.
"""

from __future__ import annotations

import re

from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import products
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host


def read_conf(host: Host, path: str) -> dict[str, str]:
    if not host.is_file(path):
        return {}
    out = {}
    for line in host.read_text(path).splitlines():
        m = re.match(r'^\s*([A-Za-z_][\w.]*)\s*=\s*"?(.*?)"?\s*$', line)
        if m:
            out[m.group(1).upper()] = m.group(2)
    return out


def cxps_data_port(host: Host, location: str) -> int:
    """The PS data port: ``[cxps] ssl_port`` of ``<svsystems>\\transport\\cxps.conf`` ([6.5]), default 9443 ([1.3])."""
    cxps = read_conf(host, products.join(products.svsystems(location), "transport", "cxps.conf"))
    port = cxps.get("SSL_PORT", "")
    return int(port) if port.isdigit() else c.DEFAULT_DATA_PORT


def registration_target(host: Host) -> tuple[str | None, str | None, int]:
    """``(cs_ip, ps_ip, data_port)`` from the installed configuration."""
    location = products.install_location(host)
    if not location:
        return None, None, c.DEFAULT_DATA_PORT
    amethyst = read_conf(host, products.join(products.svsystems(location), "etc", "amethyst.conf"))
    drscout = read_conf(host, products.join(products.agent_dir(location), "Application Data", "etc", "drscout.conf"))
    # [6.5] amethyst.conf PS_CS_IP is the CS this PS talks to (a surveyed scale-out PS may carry no CS_IP at all)
    cs_ip = drscout.get("HOSTNAME") or amethyst.get("PS_CS_IP") or amethyst.get("CS_IP")
    return cs_ip, amethyst.get("PS_IP") or host.ip, cxps_data_port(host, location)


def register_mt(host: Host) -> tuple[bool, str]:
    """What ``cdpcli --registermt`` does; ``(ok, message)``."""
    cs_ip, ps_ip, port = registration_target(host)
    if cs_ip is None:
        return False, "Master target configuration not found."
    version = products.installed_version(host, "csps") or products.installed_version(host, "mt") or ""
    with cs_mod.reach_cs(host, cs_ip) as (cs, why):
        if cs is None:
            return False, f"Failed to register master target with configuration server {cs_ip}. {why}"
        cs_mod.register_ps(cs, host, ps_ip=ps_ip or host.ip, version=version, data_port=port, mt=True)
    host.asr["mt_registered_with"] = cs_ip
    return True, f"Master target registered successfully with configuration server {cs_ip}."


@executable("cdpcli.exe")
def cdpcli(inv: Invocation) -> ProcessResult:
    args = [a.lower() for a in inv.args]
    if args != ["--registermt"]:
        return ProcessResult(1, "", "Usage: cdpcli.exe --registermt\r\n(LAB: only --registermt [3.3] is emulated)\r\n")
    if products.installed_version(inv.host, "mt") is None:
        return ProcessResult(1, "", "Master target is not installed.\r\n")
    ok, message = register_mt(inv.host)
    return ProcessResult(0 if ok else 1, message + "\r\n" if ok else "", "" if ok else message + "\r\n")
