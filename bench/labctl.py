"""Start, re-seed, fault and stop one lab estate for the benchmark (lab/DESIGN.md, lab/cli.py).

One estate (1 configuration server + N process servers) and one WinRM server per fleet size; each scenario
re-creates the host states from its seed (``lab.estate.reset``, the server keeps running: the host list does
not change between seeds) and sets the ``latency_ms`` fault on every host again. ``down`` always runs.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

from lab import cli as lab_cli
from lab import estate as estate_mod
from lab import journal, link
from lab.state import Estate


class Lab:
    def __init__(self, path: pathlib.Path, *, ps: int, cs: int = 1) -> None:
        self.path = path.resolve()
        self.ps = ps
        self.cs = cs
        self.estate: Estate | None = None
        self.pid: int | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------------
    def up(self, seed: str) -> None:
        self.estate = estate_mod.create(self.path, cs=self.cs, ps=self.ps, seed=seed)
        self.pid = lab_cli.start_server(self.estate)

    def down(self) -> None:
        if self.estate is not None and (self.path / estate_mod.META_FILE).is_file():
            lab_cli.stop_server(self.estate)
        self.pid = None

    def reseed(self, seed: str, latency_ms: float = 0, **link: Any) -> None:
        """Every host back to ``seed``'s state, journals and wire logs empty, ``latency_ms`` and the other link knobs
        (lab/link.py: ``bandwidth_mbit``, ``package_virtual_bytes``, ``virtual_time``) on every host."""
        estate = self._estate()
        meta = estate_mod.read_meta(estate)
        meta["seed"] = seed
        estate_mod.write_meta(estate, meta)
        estate_mod.reset(estate)
        knobs = {k: v for k, v in {"latency_ms": latency_ms, **link}.items() if v}
        if knobs:
            for name in estate.host_names():
                with estate.open_host(name) as host:
                    host.faults.update(knobs)

    # ---- queries -----------------------------------------------------------------------------------------
    @property
    def inventory(self) -> pathlib.Path:
        return estate_mod.inventory_path(self._estate())

    def hosts_by_role(self) -> dict[str, list[str]]:
        roles: dict[str, list[str]] = {}
        for name, info in sorted(estate_mod.hosts(self._estate()).items()):
            roles.setdefault(info["role"], []).append(name)
        return roles

    def wire_logs(self) -> dict[str, list[dict[str, Any]]]:
        """Every host's wire log (lab/link.py): what crossed its link, the declared package size's additions."""
        estate = self._estate()
        return {name: link.read(estate, name) for name in estate.host_names()}

    def files_meta(self) -> dict[str, Any]:
        return estate_mod.read_meta(self._estate())

    def journals(self) -> dict[str, list[dict[str, Any]]]:
        estate = self._estate()
        return {name: journal.read(estate, name) for name in estate.host_names()}

    def clear_journals(self) -> None:
        journal.clear(self._estate())

    def server_cpu_s(self) -> float | None:
        """CPU seconds (user+sys, all threads) the lab has used so far -- its WinRM server and the pwsh workers that
        run the collection's scripts (ARCHITECTURE.md decision 8) -- or None when the server is not running."""
        usage = self.cpu_s()
        return None if usage is None else round(usage["server"] + usage["pwsh"], 3)

    def cpu_s(self) -> dict[str, float] | None:
        """``{"server": s, "pwsh": s}``: the WinRM server and its pwsh worker children (they share the cores)."""
        if not self.pid:
            return None
        server = _process_cpu_s(self.pid)
        if server is None:
            return None
        pwsh = 0.0
        for entry in pathlib.Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            fields = _stat_fields(int(entry.name))
            if fields is not None and int(fields[1]) == self.pid:  # fields[1] is the parent pid
                pwsh += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return {"server": server, "pwsh": round(pwsh, 3)}

    def _estate(self) -> Estate:
        if self.estate is None:
            raise RuntimeError("the lab is not up")
        return self.estate


def _stat_fields(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command name: state, ppid, ... (utime and stime at 11 and 12)."""
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _process_cpu_s(pid: int) -> float | None:
    fields = _stat_fields(pid)
    return None if fields is None else (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
