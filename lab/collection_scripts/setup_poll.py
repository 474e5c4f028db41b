"""The lab's answer to ``setup_poll v1`` (``plugins/plugin_utils/powershell/setup_poll.ps1``).

Mirrors the script's two sections against the emulated host:

* the run: ``status.json`` present -> exited (rc, error, finished); else the runner's process id from
  ``started.json`` alive -> running, gone -> lost; no ``started.json`` -> missing; plus the tail of the captured
  console output. LAB: the runner is the detached run of ``lab.asr.installer`` (``poll_setup``); when that run has
  ended, this handler first does what the real runner does in its ``finally`` -- delete the secret files, write
  ``stdout.txt`` and ``status.json`` -- exactly once;
* the host: Installed Products 9/10 ``Build_Version``/``CX_TYPE`` [6.4], amethyst.conf ``PS_CS_IP``/``PS_CS_PORT``/
  ``PS_IP`` and cxps.conf ``ssl_port`` [6.5], ``Get-Service`` states [6.3], pending reboot, and once the run has
  ended the tail of ASRUnifiedSetup.log [1.5].
"""

from __future__ import annotations

import json
import time
from typing import Any

from lab import scripts
from lab.asr import installer
from lab.collection_scripts import probe
from lab.collection_scripts.setup_start import runs

INSTALLED_PRODUCTS = probe.INSTALLED_PRODUCTS


def _tail(host: Any, path: str, count: int) -> list[str]:
    if not host.is_file(path):
        return []
    lines = [line for line in probe.split_lines(probe.read_shared_text(host, path)) if line != ""]
    return lines[-count:] if count else []


def finalise(host: Any, run_dir: str) -> None:
    """What the real runner does when setup exits: secret files deleted, console output and status.json written."""
    record = runs(host).get(run_dir.lower())
    if record is None or record.get("finalised"):
        return
    run = installer.poll_setup(host, record["lab_run_id"])
    if run["state"] == "running":
        return
    for path in record.get("secret_files") or []:
        if host.exists(path):
            host.remove(path)
    if host.is_dir(run_dir):
        host.write_file(run_dir + "\\stdout.txt", run.get("stdout") or "")
        host.write_file(run_dir + "\\stderr.txt", run.get("stderr") or "")
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(run.get("finished") or host.now()))
        status = {"state": "exited", "rc": run["rc"], "error": None, "finished": finished}
        host.write_file(run_dir + "\\status.json", json.dumps(status, separators=(",", ":")))
    record["finalised"] = True


def run_state(host: Any, run_dir: str, stdout_lines: int) -> dict[str, Any]:
    run: dict[str, Any] = {
        "state": "none",
        "rc": None,
        "error": None,
        "pid": None,
        "started": None,
        "finished": None,
        "stdout_tail": [],
    }
    if not run_dir:
        return run
    finalise(host, run_dir)
    started_path, status_path = run_dir + "\\started.json", run_dir + "\\status.json"
    if host.is_file(started_path):
        started = json.loads(probe.read_shared_text(host, started_path))
        run.update(pid=int(started["pid"]), started=started["started"])
    if host.is_file(status_path):
        status = json.loads(probe.read_shared_text(host, status_path))
        run.update(state="exited", rc=status.get("rc"), error=status.get("error"), finished=status.get("finished"))
    elif run["pid"] is not None:
        record = runs(host).get(run_dir.lower())
        alive = record is not None and installer.poll_setup(host, record["lab_run_id"])["state"] == "running"
        run["state"] = "running" if alive else "lost"
    else:
        run["state"] = "missing"
    run["stdout_tail"] = _tail(host, run_dir + "\\stdout.txt", stdout_lines)
    return run


@scripts.register("setup_poll", 1)
def setup_poll(ctx: scripts.ScriptContext) -> str:
    host = ctx.host
    run = run_state(host, str(ctx.param("RunDir") or ""), int(ctx.param("StdoutTailLines", 20)))
    services = []
    for name in ctx.param("ServiceNames") or []:
        svc = host.service(name)
        state = str(svc["state"]).lower().replace(" ", "").replace("_", "") if svc else None
        services.append({"name": name, "present": svc is not None, "state": state})
    svsystems = r"C:\ProgramData\ASR\home\svsystems"
    amethyst = probe.read_conf_file(host, svsystems + r"\etc\amethyst.conf", ("PS_CS_IP", "PS_CS_PORT", "PS_IP"))
    cxps = probe.read_conf_file(host, svsystems + r"\transport\cxps.conf", ("ssl_port",))
    log_path = probe.join_path(host.system_drive, r"ProgramData\ASRSetupLogs\ASRUnifiedSetup.log")
    ended = run["state"] in ("exited", "lost", "missing")
    ctx.changed = False
    result = {
        "run": run,
        "csps": {
            "build_version": probe.ps_string(host.reg_get(INSTALLED_PRODUCTS + "\\9", "Build_Version")),
            "cx_type": probe.ps_string(host.reg_get(INSTALLED_PRODUCTS + "\\9", "CX_TYPE")),
        },
        "dependencies": {"build_version": probe.ps_string(host.reg_get(INSTALLED_PRODUCTS + "\\10", "Build_Version"))},
        "amethyst_conf": {k: v for k, v in amethyst.items() if k not in ("path", "present")},
        "cxps_conf": {k: v for k, v in cxps.items() if k not in ("path", "present")},
        "services": services,
        "pending_reboot": probe.pending_reboot(host)["pending"],
        "setup_log": {
            "path": log_path,
            "tail": _tail(host, log_path, int(ctx.param("LogTailLines", 40))) if ended else [],
        },
        "poll": "setup_poll v1",
    }
    return json.dumps(result, separators=(",", ":"))
