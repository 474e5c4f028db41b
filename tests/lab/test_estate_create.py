"""Creating an estate again in the same directory starts from a clean slate (no stale process log)."""

from __future__ import annotations

from lab import estate as estate_mod


def test_create_twice_clears_the_process_log(tmp_path):
    estate = estate_mod.create(tmp_path / "e", cs=1, ps=1)
    name = estate.host_names()[0]
    with estate.open_host(name) as host:
        host.record_process("net start obengine", user="Administrator")
    assert estate.processes_path(name).read_text(encoding="utf-8").strip()

    estate = estate_mod.create(tmp_path / "e", cs=1, ps=1)
    assert not estate.processes_path(name).exists()
