"""Start, re-seed, fault and stop one lab estate for the benchmark (lab/DESIGN.md, lab/cli.py).

One estate (1 configuration server + N process servers) and one WinRM server per fleet size; each scenario
re-creates the host states from its seed (``lab.estate.reset``, the server keeps running: the host list does
not change between seeds) and sets the ``latency_ms`` fault on every host again. ``down`` always runs.

Two lab limits the benchmark works around here, without changing the lab (reported to its owner):

* ``lab.estate.free_port`` asks the kernel for a free port per host without holding it, so a large estate can
  be handed the same port twice (201 hosts: the server then dies with "Address already in use"). The estate is
  created with a ``free_port`` that never returns a port it already handed out.
* ``lab.estate.default_layout`` gives ps<i> the address ``10.0.0.<100+i>``, not an IP address beyond ps155
  (``10.0.0.300``). Above that the benchmark continues the range (ps156 = 10.0.1.0, ...); ps01..ps155 keep
  the lab's addresses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import pathlib
from collections.abc import Iterator
from typing import Any

from lab import cli as lab_cli
from lab import estate as estate_mod
from lab import journal
from lab.state import Estate

_PS_BASE = ipaddress.IPv4Address("10.0.0.100")


def layout(cs: int, ps: int) -> list[tuple[str, str, str]]:
    """``lab.estate.default_layout`` with process server addresses that stay valid beyond ps155."""
    rows = [(f"cs{i:02d}", "configuration_server", f"10.0.0.{10 + i}") for i in range(1, cs + 1)]
    rows += [(f"ps{i:02d}", "process_server", str(_PS_BASE + i)) for i in range(1, ps + 1)]
    return rows


@contextlib.contextmanager
def _patched_lab() -> Iterator[None]:
    handed_out: set[int] = set()
    original_free_port, original_layout = estate_mod.free_port, estate_mod.default_layout

    def unique_free_port() -> int:
        for _ in range(1000):
            port = original_free_port()
            if port not in handed_out:
                handed_out.add(port)
                return port
        raise RuntimeError("no free port found")

    estate_mod.free_port, estate_mod.default_layout = unique_free_port, layout
    try:
        yield
    finally:
        estate_mod.free_port, estate_mod.default_layout = original_free_port, original_layout


class Lab:
    def __init__(self, path: pathlib.Path, *, ps: int, cs: int = 1) -> None:
        self.path = path.resolve()
        self.ps = ps
        self.cs = cs
        self.estate: Estate | None = None
        self.pid: int | None = None

    # ---- lifecycle ---------------------------------------------------------------------------------------
    def up(self, seed: str) -> None:
        with _patched_lab():
            self.estate = estate_mod.create(self.path, cs=self.cs, ps=self.ps, seed=seed)
        self.pid = lab_cli.start_server(self.estate)

    def down(self) -> None:
        if self.estate is not None and (self.path / estate_mod.META_FILE).is_file():
            lab_cli.stop_server(self.estate)
        self.pid = None

    def reseed(self, seed: str, latency_ms: float = 0) -> None:
        """Every host back to ``seed``'s state, journals empty, ``latency_ms`` on every host."""
        estate = self._estate()
        meta = estate_mod.read_meta(estate)
        meta["seed"] = seed
        estate_mod.write_meta(estate, meta)
        with _patched_lab():
            estate_mod.reset(estate)
        if latency_ms:
            for name in estate.host_names():
                with estate.open_host(name) as host:
                    host.faults["latency_ms"] = latency_ms

    # ---- queries -----------------------------------------------------------------------------------------
    @property
    def inventory(self) -> pathlib.Path:
        return estate_mod.inventory_path(self._estate())

    def hosts_by_role(self) -> dict[str, list[str]]:
        roles: dict[str, list[str]] = {}
        for name, info in sorted(estate_mod.hosts(self._estate()).items()):
            roles.setdefault(info["role"], []).append(name)
        return roles

    def journals(self) -> dict[str, list[dict[str, Any]]]:
        estate = self._estate()
        return {name: journal.read(estate, name) for name in estate.host_names()}

    def clear_journals(self) -> None:
        journal.clear(self._estate())

    def server_cpu_s(self) -> float | None:
        """CPU seconds (user+sys, all threads) the lab's WinRM server has used so far: it shares the cores."""
        if not self.pid:
            return None
        try:
            fields = pathlib.Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _estate(self) -> Estate:
        if self.estate is None:
            raise RuntimeError("the lab is not up")
        return self.estate
