"""Hand-made ``asr.process_server.info`` results for the report and preflight tests (the shape info returns)."""

from __future__ import annotations

import copy
from typing import Any

GIB = 1024**3


def info_result(
    *,
    vcpus: int = 8,
    memory_gb: float = 16.0,
    cache_gb: float = 1024.0,
    cache_free_gb: float = 1000.0,
    installed: bool = True,
    version: str | None = "9.55.7123.1",
    os_version: str = "10.0.14393",
    os_caption: str = "Microsoft Windows Server 2016 Datacenter",
    install_location: str | None = "D:\\",
    filesystem: str = "NTFS",
    cs_reachable: bool | None = True,
    pending: list[str] | None = None,
    alerts: list[dict[str, Any]] | None = None,
    installer: dict[str, Any] | None = None,
    volumes: list[dict[str, Any]] | None = None,
    role: str | None = "process_server",
    cs_ip: str | None = "10.0.0.11",
) -> dict[str, Any]:
    drive = (install_location or "D:")[:2] if installed else "D:"
    cache = {
        "drive": drive,
        "source": "install_location" if installed else "largest_data_volume",
        "filesystem": filesystem,
        "size_gb": cache_gb,
        "free_gb": cache_free_gb,
        "free_percent": round(100 * cache_free_gb / cache_gb, 1) if cache_gb else None,
    }
    if volumes is None:
        volumes = [
            {"drive": "C:", "filesystem": "NTFS", "size_bytes": 127 * GIB, "free_bytes": 90 * GIB},
            {"drive": drive, "filesystem": filesystem, "size_bytes": int(cache_gb * GIB),
             "free_bytes": int(cache_free_gb * GIB)},
        ]  # fmt: skip
    checks: dict[str, Any] = {}
    if cs_reachable is not None:
        checks["configuration_server"] = {
            "address": "10.0.0.11",
            "port": 443,
            "reachable": cs_reachable,
            "error": None if cs_reachable else "timed out after 3000 ms",
        }
    checks["installer"] = installer
    alerts = alerts or []
    status = (
        "not_installed"
        if not installed
        else max((a["level"] for a in alerts), key=["healthy", "warning", "critical"].index, default="healthy")
    )
    asr = {
        "installed": installed,
        "role": role if installed else None,
        "build_version": version if installed else None,
        # amethyst.conf CS_IP [6.5]: the configuration server the process server is registered to
        "registration": {
            "registered": bool(cs_ip and installed),
            "configuration_server_ip": cs_ip if installed else None,
        },
        "install_location": install_location if installed else None,
        "cache_drive": cache,
        "os": {"caption": os_caption, "version": os_version, "system_drive": "C:"},
        "pending_reboot": {"pending": bool(pending), "reasons": list(pending or [])},
        "health": {"status": status, "alerts": alerts, "not_measured": ["cpu_percent", "memory_percent"]},
        "sizing": {
            "host_facts": {
                "vcpus": vcpus,
                "memory_gb": memory_gb,
                "cache_disk_gb": cache_gb,
                "cache_free_gb": cache_free_gb,
                "retention_free_gb": None,
            },
            "role": "process_server",
        },
        "checks": checks,
    }
    return {"changed": False, "asr": asr, "survey": {"host": {"volumes": copy.deepcopy(volumes)}}}


SMALL = {"vcpus": 4, "memory_gb": 8.0, "cache_gb": 300.0, "cache_free_gb": 290.0}
MEDIUM = {"vcpus": 8, "memory_gb": 12.0, "cache_gb": 600.0, "cache_free_gb": 590.0}
LARGE = {"vcpus": 12, "memory_gb": 24.0, "cache_gb": 1024.0, "cache_free_gb": 1000.0}
