"""Build installed hosts directly (seeds, tests): the same artefacts Unified Setup creates, without running it."""

from __future__ import annotations

from typing import Any

from lab.asr import constants as c
from lab.asr import cs as cs_mod
from lab.asr import mars, products
from lab.state import Host

DEFAULT_PASSPHRASE = "LabPassphrase0001"  # LAB default CS passphrase when a seed names none


def configuration_server(
    host: Host, version: str, *, location: str = "D:\\", passphrase: str = DEFAULT_PASSPHRASE
) -> None:
    """A configuration server (CS + in-built PS, CX_TYPE 3) at ``version`` ([1.3] CS mode, [6.1]-[6.5])."""
    host.mkdir(location)
    products.install_dependencies(host, version)
    products.install_csps(
        host,
        version,
        mode="CS",
        location=location,
        cs_ip=host.ip,
        ps_ip=host.ip,
        data_port=c.DEFAULT_DATA_PORT,
        proxy_type="Bypass",
        env_type="VMware" if host.facts.get("vmware_tools") else "NonVMware",
    )
    products.install_cs_extras(host, version, location=location)
    products.install_mt(host, version, location=location, cs_ip=host.ip)
    products.install_mars(host, version)
    products.set_cs_passphrase(host, passphrase)


def process_server(
    host: Host,
    versions: str | dict[str, str],
    *,
    cs_ip: str,
    location: str = "D:\\",
    ps_ip: str | None = None,
    data_port: int = c.DEFAULT_DATA_PORT,
    proxy: dict[str, Any] | None = None,
) -> None:
    """A scale-out PS with the [6.2] components; ``versions`` is one version or one per component
    (``dependencies``, ``csps``, ``mt``, ``mars``; a missing component is not installed)."""
    per = versions if isinstance(versions, dict) else dict.fromkeys(products.COMPONENTS, versions)
    host.mkdir(location)
    if per.get("dependencies"):
        products.install_dependencies(host, per["dependencies"])
    if per.get("csps"):
        products.install_csps(
            host,
            per["csps"],
            mode="PS",
            location=location,
            cs_ip=cs_ip,
            ps_ip=ps_ip or host.ip,
            data_port=data_port,
            proxy_type="Custom" if proxy else "Bypass",
            env_type="VMware" if host.facts.get("vmware_tools") else "NonVMware",
        )
    if per.get("mt"):
        products.install_mt(host, per["mt"], location=location, cs_ip=cs_ip)
    if per.get("mars"):
        products.install_mars(host, per["mars"])
        if proxy:
            mars.set_proxy(host, proxy["address"], proxy.get("port"), proxy.get("username"), proxy.get("password"))
            if proxy.get("password_sha256"):
                host.asr["mars_proxy"]["password_sha256"] = proxy["password_sha256"]
            mars.apply_on_restart(host)


def register(cs: Host, ps: Host, *, mt: bool = True, heartbeat_age_s: float = 0.0) -> None:
    """Book ``ps`` on ``cs`` as a registered PS (what setup's registration and registermt leave behind)."""
    version = products.installed_version(ps, "csps") or ""
    from lab.asr.cdpcli import registration_target

    _, ps_ip, port = registration_target(ps)
    cs_mod.register_ps(cs, ps, ps_ip=ps_ip or ps.ip, version=version, data_port=port, mt=mt)
    cs_mod.registered(cs)[ps_ip or ps.ip]["last_heartbeat"] = cs.now() - heartbeat_age_s
    if mt:
        ps.asr["mt_registered_with"] = cs.ip
