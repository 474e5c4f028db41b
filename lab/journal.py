"""Per-host JSON-lines journal of every remote call (DESIGN.md: ``journal/<name>.jsonl``).

One line per WinRM command the lab answered: time, op (module/file/raw), identity (``Reply.identity``),
args (``Reply.journal_args``, already redacted by dispatch for ``no_log`` values), duration_s, rc; plus
``dropped: true`` when the ``drop_connection_at`` fault cut the connection instead of answering.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from lab.state import Estate

_LOCK = threading.Lock()


def record(
    estate: Estate,
    host_name: str,
    *,
    op: str,
    identity: str,
    args: dict[str, Any] | None,
    duration_s: float,
    rc: int | None,
    **extra: Any,
) -> dict[str, Any]:
    """Append one entry and return it."""
    entry: dict[str, Any] = {
        "time": time.time(),
        "op": op,
        "identity": identity,
        "args": args,
        "duration_s": round(duration_s, 4),
        "rc": rc,
        **extra,
    }
    path = estate.journal_path(host_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, default=repr, sort_keys=True) + "\n"
    with _LOCK, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)
    return entry


def read(estate: Estate, host_name: str) -> list[dict[str, Any]]:
    """All entries for one host, oldest first (empty when the host has not been called)."""
    path = estate.journal_path(host_name)
    if not path.is_file():
        return []
    with _LOCK:
        text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def count(estate: Estate, host_name: str) -> int:
    return len(read(estate, host_name))


def clear(estate: Estate, host_name: str | None = None) -> None:
    """Forget the journal of one host, or of every host in the estate (and their wire logs, lab/link.py)."""
    from lab import link

    names = [host_name] if host_name else estate.host_names()
    with _LOCK:
        for name in names:
            estate.journal_path(name).unlink(missing_ok=True)
    link.clear(estate, host_name)
