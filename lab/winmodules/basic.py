"""win_ping, setup (Windows facts) and async_status."""

from __future__ import annotations

import datetime
import json
from typing import Any

from lab.argspec import ModuleFailure, legacy_param
from lab.winmodules._common import Context, join_path, user_profile


def win_ping(ctx: Context) -> dict[str, Any]:
    # win_ping.ps1: if ($data -eq "crash") { throw "boom" }; $module.Result.ping = $data
    data = ctx.params["data"]
    if data == "crash":
        raise ModuleFailure("Unhandled exception while executing module: boom")
    return ctx.result(ping=data)


def _os_caption(host_os: dict[str, Any]) -> str:
    return host_os["name"]


def setup(ctx: Context) -> dict[str, Any]:
    """setup.ps1 facts, answered from the host model (hardware from ``cpu``/``memory_mb``, OS from ``os``).

    lab decision: the references are silent on these hosts' firmware, virtualisation, interface and account
    details; the lab reports fixed Hyper-V guest values (BIOS, product name, MAC, SIDs, page file, PowerShell 5)
    in the shape setup.ps1 returns them.
    """
    host = ctx.host
    data = host.data
    now = host.now()
    version = data["os"]["version"]
    major = version.split(".")[0]
    cpu = data["cpu"]
    sockets = int(cpu.get("sockets", 1))
    vcpus = int(cpu["logical_processors"])
    cores = int(cpu.get("cores_per_socket", max(1, vcpus // max(sockets, 1))))
    threads = max(1, vcpus // max(sockets * cores, 1))
    hostname = data.get("hostname", host.name.upper())
    domain = data.get("domain", "")
    fqdn = f"{hostname}.{domain}" if domain else hostname
    boot = float(data["boot_time"])
    local_now = datetime.datetime.fromtimestamp(now).astimezone()
    utc_now = datetime.datetime.fromtimestamp(now, tz=datetime.UTC)
    profile = user_profile(host, ctx.user)
    processors: list[str] = []
    model = cpu.get("model", "Intel(R) Xeon(R) Platinum 8272CL CPU @ 2.60GHz")
    for socket in range(sockets):
        for _ in range(cores * threads):
            processors += [str(socket), "GenuineIntel", model]
    facts: dict[str, Any] = {
        "ansible_architecture": "64-bit",
        "ansible_architecture2": "x86_64",
        "ansible_bios_date": "12/07/2018",
        "ansible_bios_version": "Hyper-V UEFI Release v4.0",
        "ansible_date_time": {
            "date": local_now.strftime("%Y-%m-%d"),
            "day": local_now.strftime("%d"),
            "epoch": f"{now:.0f}",
            "epoch_int": str(int(now)),
            "epoch_local": f"{now:.0f}",
            "hour": local_now.strftime("%H"),
            "iso8601": utc_now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso8601_basic": local_now.strftime("%Y%m%dT%H%M%S%f"),
            "iso8601_basic_short": local_now.strftime("%Y%m%dT%H%M%S"),
            "iso8601_micro": utc_now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "minute": local_now.strftime("%M"),
            "month": local_now.strftime("%m"),
            "second": local_now.strftime("%S"),
            "time": local_now.strftime("%H:%M:%S"),
            "tz": "Coordinated Universal Time",
            "tz_offset": local_now.strftime("%z")[:3] + ":" + local_now.strftime("%z")[3:],
            "weekday": local_now.strftime("%A"),
            "weekday_number": local_now.strftime("%w"),
            "weeknumber": local_now.strftime("%W"),
            "year": local_now.strftime("%Y"),
        },
        "ansible_distribution": _os_caption(data["os"]),
        "ansible_distribution_major_version": major,
        "ansible_distribution_version": version,
        "ansible_domain": domain,
        "ansible_env": dict(ctx.env),
        "ansible_fqdn": fqdn,
        "ansible_hostname": hostname,
        "ansible_interfaces": [
            {
                "connection_name": "Ethernet",
                "default_gateway": data.get("gateway"),
                "dns_domain": domain or None,
                "interface_index": 4,
                "interface_name": "Microsoft Hyper-V Network Adapter",
                "ipv4": {"address": host.ip, "prefix": "24"},
                "macaddress": data.get("mac", "00:15:5D:00:00:01"),
                "mtu": 1500,
                "speed": 10000,
            }
        ],
        "ansible_ip_addresses": [host.ip],
        "ansible_kernel": version,
        "ansible_lastboot": datetime.datetime.fromtimestamp(boot).strftime("%Y-%m-%d %H:%M:%SZ"),
        "ansible_machine_id": data.get("machine_sid", "S-1-5-21-1000000000-1000000000-1000000000"),
        "ansible_memfree_mb": int(data.get("memory_free_mb", data["memory_mb"] // 2)),
        "ansible_memtotal_mb": int(data["memory_mb"]),
        "ansible_netbios_name": hostname[:15],
        "ansible_nodename": fqdn,
        "ansible_os_family": "Windows",
        "ansible_os_installation_type": "Server",
        "ansible_os_install_date": datetime.datetime.fromtimestamp(boot - 86400 * 30, tz=datetime.UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "ansible_os_name": _os_caption(data["os"]),
        "ansible_os_product_type": "domain_controller" if data.get("role") == "domain_controller" else "server",
        "ansible_owner_contact": "",
        "ansible_owner_name": "",
        "ansible_pagefilefree_mb": 1024,
        "ansible_pagefiletotal_mb": 1280,
        "ansible_powershell_version": 5,
        "ansible_processor": processors,
        "ansible_processor_cores": cores,
        "ansible_processor_count": sockets,
        "ansible_processor_threads_per_core": threads,
        "ansible_processor_vcpus": vcpus,
        "ansible_product_name": "Virtual Machine",
        "ansible_product_serial": data.get("serial", "0000-0000-0000-0000-0000-0000-00"),
        "ansible_product_uuid": data.get("uuid", "00000000-0000-0000-0000-000000000000"),
        "ansible_reboot_pending": bool(host.pending_reboot_reasons()),
        "ansible_swaptotal_mb": 0,
        "ansible_system": "Win32NT",
        "ansible_system_description": "",
        "ansible_system_vendor": "Microsoft Corporation",
        "ansible_uptime_seconds": round(now - boot),
        "ansible_user_dir": profile,
        "ansible_user_gecos": "",
        "ansible_user_id": ctx.user.rsplit("\\", 1)[-1],
        "ansible_user_sid": "S-1-5-21-1000000000-1000000000-1000000000-500",
        "ansible_virtualization_role": "guest",
        "ansible_virtualization_type": "Hyper-V",
        "ansible_windows_domain": domain or "WORKGROUP",
        "ansible_windows_domain_member": bool(domain),
        "ansible_windows_domain_role": "Member server" if domain else "Stand-alone server",
    }
    # setup.ps1: facts always carry gather_subset and module_setup
    facts["gather_subset"] = ctx.params["gather_subset"]
    facts["module_setup"] = True
    return ctx.result(ansible_facts=facts)


# ---- async ----------------------------------------------------------------------------------------------
def async_jobs(ctx_host: Any) -> dict[str, Any]:
    return ctx_host.data.setdefault("async_jobs", {})


def settle_async_jobs(host: Any) -> None:
    """Write the final result of every job whose run time has passed on the host clock into its results file
    (async_watchdog.ps1 ``Set-Content -LiteralPath $ResultPath -Value $resultJson``)."""
    jobs = async_jobs(host)
    for jid in list(jobs):
        job = jobs[jid]
        if host.now() >= float(job["finish_at"]):
            host.write_file(job["results_file"], json.dumps(job["result"], separators=(",", ":")) + "\r\n")
            del jobs[jid]
    if not jobs:
        host.data.pop("async_jobs", None)


def async_status(ctx: Context) -> dict[str, Any]:
    # async_status.ps1 (Legacy): jid required, mode status|cleanup, _async_dir from the action plugin
    params = ctx.params
    results: dict[str, Any] = {"changed": False}
    jid = legacy_param(params, "jid", failifempty=True, resultobj=results)
    mode = legacy_param(params, "mode", default="status", validateset=["status", "cleanup"])
    async_dir = legacy_param(params, "_async_dir", type="path", failifempty=True, env=ctx.env)
    log_path = join_path(async_dir, str(jid))
    settle_async_jobs(ctx.host)
    if not ctx.host.exists(log_path):
        raise ModuleFailure(
            f"could not find job at '{async_dir}'", ansible_job_id=jid, started=1, finished=1, changed=False
        )
    if mode == "cleanup":
        ctx.host.remove(log_path)
        async_jobs(ctx.host).pop(str(jid), None)
        return {"ansible_job_id": jid, "erased": log_path, "changed": False}
    raw = ctx.host.read_text(log_path).strip() if ctx.host.is_file(log_path) else ""
    if not raw:
        return {"results_file": log_path, "ansible_job_id": jid, "started": 1, "finished": 0, "changed": False}
    try:
        data = json.loads(raw.lstrip("\ufeff"))
    except ValueError:
        raise ModuleFailure(
            "Could not parse job output: ", ansible_job_id=jid, results_file=log_path, started=1, finished=1
        ) from None
    if "started" not in data:
        data["finished"] = 1
        data["ansible_job_id"] = jid
    elif "finished" not in data:
        data["finished"] = 0
    data.setdefault("changed", False)  # Legacy Exit-Json
    return data
