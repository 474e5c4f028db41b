"""The lab's answer to ``unregister_purge v2`` (plugins/plugin_utils/powershell/unregister_purge.ps1).

A twin kept small until the lab runs the script's own text (ARCHITECTURE.md decision 8): on a configuration server
that has the script, ``perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS`` from
%ProgramData%\\ASR\\home\\svsystems\\bin with "1" on standard input [5]; lab/asr/cs.py emulates the script (the
2018/2019 dialogue, or the 2017 revision that purges at once).
"""

from __future__ import annotations

import json

from lab import scripts
from lab.collection_scripts._native import invoke

BIN_DIR = r"C:\ProgramData\ASR\home\svsystems\bin"
SCRIPT = "Unregister-ASRComponent.pl"
CSPS_KEY = r"HKLM\SOFTWARE\Wow6432Node\InMage Systems\Installed Products\9"


@scripts.register("unregister_purge", 2)
def unregister_purge(ctx: scripts.ScriptContext) -> str:
    ctx.changed = False
    cx_type = ctx.registry_value(CSPS_KEY, "CX_TYPE")
    result = {
        "is_configuration_server": cx_type is not None and int(cx_type) in (1, 3),
        "bin_dir": BIN_DIR,
        "script_present": ctx.host.is_file(BIN_DIR + "\\" + SCRIPT),
        "command": None,
        "rc": None,
        "stdout": None,
        "stderr": None,
    }
    if result["is_configuration_server"] and result["script_present"]:
        ctx.changed = True
        ip = str(ctx.param("IpAddress"))
        run = invoke(ctx, "perl.exe", [SCRIPT, "-IPAddress", ip, "-Component", "PS"], cwd=BIN_DIR, input_text="1\r\n")
        result.update(command=run["command"], rc=run["rc"], stdout=run["stdout"], stderr=run["stderr"])
    return json.dumps(result, separators=(",", ":"))
