"""Microsoft Azure Recovery Services agent (MARS, service ``obengine``) proxy: ``Set-OBMachineSetting``.

[6.6] DOC: ``Set-OBMachineSetting -ProxyServer http://host -ProxyPort N -ProxyUserName dom\\user -ProxyPassword
<SecureString>`` then ``net stop obengine`` / ``net start obengine``; ``Set-OBMachineSetting -NoProxy``. [6.6] SRC
SetMarsProxy.exe also passes ``BypassUrls``. [8] DOC: on a scale-out PS the proxy is changed with
Set-OBMachineSetting followed by an obengine restart.

[UNCONFIRMED] where MARS persists its proxy (registry/file): the lab keeps it under the LAB-ONLY key
``host.asr["mars_proxy"]`` (what was set) and ``host.asr["mars_proxy_effective"]`` (what the running obengine uses:
copied when obengine starts, following the documented "set, then restart obengine" procedure). A real probe reads
it back with ``Get-OBMachineSetting``; the lab's ``Get-OBMachineSetting`` returns server, port, user name and
bypass list -- never the password (the lab stores only a SHA-256 of it, to tell "changed" from "unchanged").
"""

from __future__ import annotations

import hashlib
from typing import Any

from lab.asr import products
from lab.programs import CmdletResult, cmdlet
from lab.state import Host


def password_digest(password: str) -> str:
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def set_proxy(
    host: Host,
    server: str | None,
    port: int | None = None,
    username: str | None = None,
    password: str | None = None,
    bypass: list[str] | None = None,
) -> None:
    """Set (``server`` given) or clear (``server`` None = -NoProxy) the MARS proxy."""
    if server is None:
        host.asr["mars_proxy"] = {}
        return
    setting: dict[str, Any] = {"ProxyServer": server, "ProxyPort": int(port) if port is not None else None}
    if username:
        setting["ProxyUserName"] = username
    if password:
        setting["password_sha256"] = password_digest(password)
    if bypass:
        setting["BypassUrls"] = list(bypass)
    host.asr["mars_proxy"] = setting


def apply_on_restart(host: Host) -> None:
    """obengine started: it now uses the configured proxy ([6.6], [8] restart after Set-OBMachineSetting)."""
    host.asr["mars_proxy_effective"] = dict(host.asr.get("mars_proxy", {}))


def readback(host: Host, *, effective: bool = False) -> dict[str, Any]:
    setting = host.asr.get("mars_proxy_effective" if effective else "mars_proxy", {})
    return {
        "ProxyServer": setting.get("ProxyServer"),
        "ProxyPort": setting.get("ProxyPort"),
        "ProxyUserName": setting.get("ProxyUserName"),
        "BypassUrls": list(setting.get("BypassUrls", [])),
        "ProxyPasswordSet": "password_sha256" in setting,
    }


def _not_loaded(name: str) -> CmdletResult:
    # The cmdlets come with the MARS agent's MSOnlineBackup module ([6.6] SRC SetMarsProxy): without MARS they do
    # not exist.
    return CmdletResult(
        errors=[
            f"The term '{name}' is not recognized as the name of a cmdlet, function, script file, or operable "
            "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
            "and try again."
        ]
    )


@cmdlet("Set-OBMachineSetting")
def set_ob_machine_setting(host: Host, params: dict[str, Any], *, user: str, become: bool) -> CmdletResult:
    if products.installed_version(host, "mars") is None:
        return _not_loaded("Set-OBMachineSetting")
    proxy_keys = {"proxyserver", "proxyport", "proxyusername", "proxypassword", "bypassurls"}
    if params.get("noproxy"):
        if proxy_keys & set(params):
            return CmdletResult(errors=["Parameter set cannot be resolved using the specified named parameters."])
        set_proxy(host, None)
        return CmdletResult()
    if "proxyserver" in params:
        server = str(params["proxyserver"])
        port = params.get("proxyport")
        if port is None:
            # lab decision: the reference is silent (the full cmdlet reference was not read, [6.6]); every documented
            # call passes -ProxyPort with -ProxyServer, so the lab treats it as mandatory.
            return CmdletResult(
                errors=["Cannot process command because of one or more missing mandatory parameters: ProxyPort."]
            )
        try:
            port_num = int(port)
        except (TypeError, ValueError):
            return CmdletResult(
                errors=[f'Cannot bind parameter \'ProxyPort\'. Cannot convert value "{port}" to type "System.Int32".']
            )
        password = params.get("proxypassword")
        if password is not None and not isinstance(password, str):
            password = str(password)
        bypass = params.get("bypassurls")
        if isinstance(bypass, str):
            bypass = [bypass]
        set_proxy(host, server, port_num, params.get("proxyusername"), password, bypass)
        return CmdletResult()
    if "nothrottle" in params or "workday" in params:  # [6.6] throttling: accepted, not modelled
        return CmdletResult()
    return CmdletResult(errors=["Parameter set cannot be resolved using the specified named parameters."])


@cmdlet("Get-OBMachineSetting")
def get_ob_machine_setting(host: Host, params: dict[str, Any], *, user: str, become: bool) -> CmdletResult:
    # [UNCONFIRMED] real output shape: LAB-ONLY readback of what Set-OBMachineSetting stored; no password, ever.
    if products.installed_version(host, "mars") is None:
        return _not_loaded("Get-OBMachineSetting")
    return CmdletResult(output=[readback(host)])
