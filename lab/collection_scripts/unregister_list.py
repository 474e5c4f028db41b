"""The lab's answers to ``unregister_list v1`` and ``unregister_purge v1`` (plugins/plugin_utils/powershell/).

[5] DOC (2018/2019 revisions): ``perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS`` from
%ProgramData%\\ASR\\home\\svsystems\\bin lists the matching process servers (S.No, IP/Name, Heartbeat), asks for
the S.No and purges it. The listing call answers nothing (ASSUMPTION 1 of the collection's unregister module:
no answer purges nothing -- lab/asr/cs.py emulates exactly that); the purge call re-reads the listing, checks the
row with that S.No still names the IP, then answers the prompt with the S.No (ASSUMPTION 3).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from lab import scripts
from lab.collection_scripts._native import invoke

BIN_DIR = r"C:\ProgramData\ASR\home\svsystems\bin"
SCRIPT = "Unregister-ASRComponent.pl"
CSPS_KEY = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9"


def _base(ctx: scripts.ScriptContext) -> dict[str, Any]:
    cx_type = ctx.registry_value(CSPS_KEY, "CX_TYPE")
    return {
        "is_configuration_server": cx_type is not None and int(cx_type) in (1, 3),
        "bin_dir": BIN_DIR,
        "script_present": ctx.host.is_file(BIN_DIR + "\\" + SCRIPT),
        # (Get-Date) on the CS: LAB, the CS's local time is UTC (what lab/asr/cs.py prints heartbeats in)
        "now_local": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ctx.host.now())),
        "rc": None,
        "stdout": None,
        "stderr": None,
    }


def _arguments(ip: str) -> list[str]:
    return [SCRIPT, "-IPAddress", ip, "-Component", "PS"]


@scripts.register("unregister_list", 1)
def unregister_list(ctx: scripts.ScriptContext) -> str:
    ctx.changed = False
    result = {**_base(ctx), "listings": []}
    addresses = ctx.param("IpAddress")
    # [string[]]$IpAddress: one address binds as a one-element array; one run of the script per address
    addresses = [str(a) for a in addresses] if isinstance(addresses, list) else [str(addresses)]
    if result["is_configuration_server"] and result["script_present"]:
        for ip in addresses:
            run = invoke(ctx, "perl.exe", _arguments(ip), cwd=BIN_DIR)
            result["listings"].append({"ip": ip, "rc": run["rc"], "stdout": run["stdout"], "stderr": run["stderr"]})
        first = result["listings"][0]
        result.update(rc=first["rc"], stdout=first["stdout"], stderr=first["stderr"])
    return json.dumps(result, separators=(",", ":"))


@scripts.register("unregister_purge", 1)
def unregister_purge(ctx: scripts.ScriptContext) -> str:
    ctx.changed = False
    ip = str(ctx.param("IpAddress"))
    serial = int(ctx.param("SerialNumber"))
    result = {**_base(ctx), "listing_matches": False}
    if result["is_configuration_server"] and result["script_present"]:
        listing = invoke(ctx, "perl.exe", _arguments(ip), cwd=BIN_DIR)
        row = re.compile(rf"^\s*{serial}[.):|-]?\s+.*(?<![\d.]){re.escape(ip)}(?![\d.])", re.IGNORECASE)
        result["listing_matches"] = any(row.search(line) for line in re.split(r"\r\n|\n|\r", listing["stdout"]))
        run = listing
        if result["listing_matches"]:
            ctx.changed = True
            run = invoke(ctx, "perl.exe", _arguments(ip), cwd=BIN_DIR, input_text=f"{serial}\r\n")
        result.update(rc=run["rc"], stdout=run["stdout"], stderr=run["stderr"])
    return json.dumps(result, separators=(",", ":"))
