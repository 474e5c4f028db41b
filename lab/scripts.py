"""The collection's own PowerShell scripts on an emulated host (lab/DESIGN.md, layer ``lab/scripts.py``).

The collection ships its PowerShell as files that carry a stable identity header (ARCHITECTURE.md decision 5)::

    # asr.process_server script: <name> v<N>

A ``win_powershell`` call whose script carries that header runs its EXACT text under PowerShell 7 (ARCHITECTURE.md
decision 8): ``lab.pshost`` runs it in a persistent pwsh worker the way ``ansible.windows.win_powershell`` runs a
script, and ``LabShim.psm1`` + ``lab.shim`` answer the Windows-only commands from the emulated host. The lab keeps
no copy of the collection's logic. A script without the header is refused (the lab runs only the collection's own
PowerShell: it is code that was written to touch nothing but what the shim provides).

``run`` returns the fields ``ansible.windows.win_powershell`` returns (``result``, ``output``, ``error``,
``host_out``, ``host_err``, ``information``, ``verbose``, ``debug``, ``warning``, ``changed``, ``failed``, and
``diff`` when the script set one), or ``{"changed": true, "msg": "skipped, running in check mode"}`` for a script
that does not declare SupportsShouldProcess in check mode.
"""

from __future__ import annotations

import re
from typing import Any

from lab import detached, pshost
from lab.shim import Session
from lab.state import Host

HEADER_RE = re.compile(r"^\s*#\s*asr\.process_server script:\s*(?P<name>[A-Za-z0-9_.\-]+)\s+v(?P<version>\d+)\s*$")
HEADER_SCAN_LINES = 10  # the header is the first non-empty line, or within the first lines (after #Requires...)
CHECK_MODE_SKIP = "skipped, running in check mode"


class UnknownScriptError(LookupError):
    """A script the lab does not run (it carries no collection identity header)."""


def identify(script_text: str) -> tuple[str, int] | None:
    """``(name, version)`` from the identity header, or None when the text carries none."""
    seen = 0
    for line in script_text.lstrip("\ufeff").splitlines():
        if not line.strip():
            continue
        m = HEADER_RE.match(line)
        if m:
            return m.group("name"), int(m.group("version"))
        seen += 1
        if seen >= HEADER_SCAN_LINES:
            break
    return None


def run(
    host: Host,
    text: str,
    parameters: dict[str, Any],
    sensitive: list[dict[str, Any]],
    *,
    check_mode: bool,
    user: str,
    become: bool,
    **options: Any,
) -> dict[str, Any]:
    """Run a collection script on ``host`` as win_powershell would; its win_powershell fields.

    ``sensitive`` are win_powershell's ``sensitive_parameters`` entries (``{name, value}`` or ``{name, username,
    password}``); ``options`` are :func:`execute`'s (``verbosity``, ``tmpdir``, ``error_action``, ``depth``). Before
    the script, detached processes whose program has ended run on (lab.detached); after it, the processes it started
    detached run.
    """
    if identify(text) is None:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        raise UnknownScriptError(
            "lab: win_powershell script carries no '# asr.process_server script: <name> v<N>' identity header; "
            f"the emulated host runs only the collection's own PowerShell. First line: {first}"
        )
    from lab.asr.installer import settle

    settle(host)  # detached Unified Setup runs whose time has come have finished by now
    detached.resume_finished(host)
    session = Session(host, user, become)
    fields = execute(session, text, parameters, sensitive, check_mode=check_mode, **options)
    detached.run_created(host, session)
    return fields


def execute(
    session: Session,
    text: str,
    parameters: dict[str, Any],
    sensitive: list[dict[str, Any]],
    *,
    plain: bool = False,
    check_mode: bool = False,
    verbosity: int = 0,
    tmpdir: str | None = None,
    error_action: str = "continue",
    depth: int = 2,
) -> dict[str, Any]:
    """Run ``text`` in a pwsh worker for ``session`` (``plain``: a powershell.exe process, no ``$Ansible``)."""
    from lab.winmodules._common import environment

    request = {
        "text": text,
        "parameters": dict(parameters or {}),
        "sensitive": [dict(entry) for entry in sensitive or []],
        "check_mode": bool(check_mode),
        "verbosity": int(verbosity),
        "tmpdir": tmpdir,
        "error_action": error_action,
        "depth": int(depth),
        "plain": plain,
        "env": environment(session.host, session.user),
        "call": session.call_facts(),
    }
    fields = pshost.run(request, session.handle)
    if not plain:
        fields.pop("suspended", None)
    if not fields.get("diff"):
        fields.pop("diff", None)
    if fields.pop("skipped_check_mode", False):
        return {"changed": True, "msg": CHECK_MODE_SKIP}
    fields["changed"] = bool(fields.get("changed"))
    fields["failed"] = bool(fields.get("failed"))
    for key in ("output", "error", "warning", "verbose", "debug", "information"):
        value = fields.get(key)
        fields[key] = [] if value is None else value if isinstance(value, list) else [value]
    return fields
