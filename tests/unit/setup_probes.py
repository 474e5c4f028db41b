"""Probe results (``probe v1``) for the install/upgrade tests, built from the recorded scale-out PS fixture.

``installed(version)`` is the recorded host at another build; ``fresh()`` is the same machine before Unified Setup
(no ASR product, no registry, no conf files) with a 1 TB D: drive. Keyword arguments adjust the run-only parts:
identity, CS reachability, the installer check, pending reboot.
"""

from __future__ import annotations

import copy
import json
import pathlib

FIXTURE = pathlib.Path(__file__).parent / "plugins" / "action" / "fixtures" / "probe_v1_scale_out_ps.json"
RECORDED = json.loads(FIXTURE.read_text(encoding="utf-8"))
GIB = 1024**3
SYSTEM = {"name": "NT AUTHORITY\\SYSTEM", "is_system": True, "elevated": True, "network_logon": False}
NETWORK = {"name": "PS01\\Administrator", "is_system": False, "elevated": True, "network_logon": True}
CS_IP = "10.150.24.119"


TEMP = "C:\\Windows\\Temp"


def upload_facts(name="asr-upload.exe", *, exists=False, version="9.55.7123.1", sha256="ab" * 32):
    """``checks.installer_upload``: a package put into the host's temporary folder (probe InstallerUploadName)."""
    facts = installer_facts(f"{TEMP}\\{name}", version, sha256, exists)
    return {**facts, "folder": TEMP, "folder_exists": True}


def _checks(probe, *, cs_reachable=True, installer=None, upload=None):
    probe["checks"] = {
        "configuration_server": None
        if cs_reachable is None
        else {
            "address": CS_IP,
            "port": 443,
            "reachable": cs_reachable,
            "error": None if cs_reachable else "timed out after 3000 ms",
        },
        "installer": installer,
        "installer_upload": upload if upload is not None else upload_facts(),
    }


def installer_facts(path, version="9.55.7123.1", sha256="ab" * 32, exists=True):
    if not exists:
        return {"path": path, "exists": False, "size_bytes": None, "file_version": None, "product_version": None,
                "sha256": None}  # fmt: skip
    return {"path": path, "exists": True, "size_bytes": 100, "file_version": version, "product_version": version,
            "sha256": sha256}  # fmt: skip


def installed(version="9.55.7123.1", *, identity=SYSTEM, installer=None, cs_reachable=True, pending=False,
              registered_to=CS_IP, cx_type="2", upload=None):  # fmt: skip
    probe = copy.deepcopy(RECORDED)
    for entry in probe["uninstall_entries"]:
        if "Recovery Services Agent" not in entry["display_name"]:
            entry["display_version"] = version
    probe["installed_products"]["csps"]["build_version"] = version
    probe["installed_products"]["csps"]["cx_type"] = cx_type
    probe["installed_products"]["dependencies"]["build_version"] = version
    probe["amethyst_conf"]["ps_cs_ip"] = registered_to
    probe["identity"] = identity
    probe["pending_reboot"] = {"pending": pending, "reasons": ["PendingFileRenameOperations"] if pending else []}
    _checks(probe, cs_reachable=cs_reachable, installer=installer, upload=upload)
    return probe


def fresh(*, identity=SYSTEM, installer=None, cs_reachable=True, pending=False, d_free_gb=1000, d_fs="NTFS",
          os_version="10.0.14393", upload=None):  # fmt: skip
    probe = copy.deepcopy(RECORDED)
    probe["uninstall_entries"] = []
    probe["installed_products"] = {"csps": None, "dependencies": None}
    probe["asr_junction"] = {"path": "C:\\ProgramData\\ASR", "exists": False, "target": None}
    for conf in ("amethyst_conf", "cxps_conf"):
        probe[conf] = {k: (False if k == "present" else None) for k in probe[conf]} | {"path": probe[conf]["path"]}
    probe["services"] = [{"name": s["name"], "present": False, "display_name": None, "state": None, "start_mode": None}
                         for s in probe["services"]]  # fmt: skip
    probe["os"]["version"] = os_version
    probe["volumes"] = [
        {"drive": "C:", "size_bytes": 127 * GIB, "free_bytes": 90 * GIB, "filesystem": "NTFS"},
        {"drive": "D:", "size_bytes": 1024 * GIB, "free_bytes": int(d_free_gb * GIB), "filesystem": d_fs},
    ]
    probe["identity"] = identity
    probe["pending_reboot"] = {"pending": pending, "reasons": ["PendingFileRenameOperations"] if pending else []}
    _checks(probe, cs_reachable=cs_reachable, installer=installer, upload=upload)
    return probe
