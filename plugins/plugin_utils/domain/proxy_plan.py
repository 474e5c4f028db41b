# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide whether the MARS agent's proxy (and an optional ``[ProxySettings]`` file) must change [6.6], [8].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

Pure Python: the input is what the shared probe read (``ProbedHost.asr``), the output a
:class:`ProxyPlan` the ``proxy`` module (and a later converged module) executes with ``proxy_apply.ps1``.

* The MARS proxy is read back with ``Get-OBMachineSetting`` (address, port, user name). The password cannot
  be read back, so ``update_password: on_change`` sets it only when something else changes and ``always``
  sets it on every run (and therefore always reports a change).
* Addresses compare without case and without a trailing ``/`` (the scheme and host name of a URL are not
  case-sensitive); user names compare without case (Windows account names are not case-sensitive).
* The ``[ProxySettings]`` file [8] never holds a password at rest: :func:`settings_file_text` refuses an
  authenticated proxy (Unified Setup's validator needs the password in the file when ``ProxyAuthentication``
  is ``Yes``, SRC ``ValidationHelper.cs``; the install module writes such a file for the duration of setup only
  and deletes it in ``finally``, ARCHITECTURE.md decision 6).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from .checks import Jsonable
from .errors import InvalidOption, PlanningError
from .proxy_settings import ProxySettings, render_proxy_settings

UPDATE_PASSWORD = ("always", "on_change")
STATES = ("present", "absent")
# Well-known SIDs: LocalSystem and BUILTIN\Administrators, the only ones allowed to read the settings file.
SYSTEM_SID = "S-1-5-18"
ADMINISTRATORS_SID = "S-1-5-32-544"
SETTINGS_FILE_SIDS = frozenset({SYSTEM_SID, ADMINISTRATORS_SID})


@dataclass
class ProxyPlan(Jsonable):
    """What ``proxy_apply.ps1`` must do; ``changed`` is False when the host already matches."""

    changed: bool
    set_mars_proxy: bool
    no_proxy: bool
    register_mt: bool
    write_settings_file: bool
    reasons: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProxyRequest:
    """The MARS proxy a task wants (``wanted`` None: no proxy), checked once before any remote call."""

    wanted: ProxySettings | None
    update_password: str = "on_change"
    settings_file: str | None = None


def proxy_request(args: dict[str, Any]) -> ProxyRequest:
    """The proxy module's options as a :class:`ProxyRequest`; raises :class:`InvalidOption` naming the option."""
    update_password = args.get("update_password") or "on_change"
    if update_password not in UPDATE_PASSWORD:
        raise InvalidOption("update_password", update_password, "one of always, on_change")
    return ProxyRequest(desired_settings(args), update_password, args.get("settings_file") or None)


def desired_settings(args: dict[str, Any]) -> ProxySettings | None:
    """The wanted proxy from the module's options (None for ``state: absent``), checked before any remote call."""
    if args.get("state", "present") == "absent":
        for option in ("proxy_address", "proxy_port", "proxy_username", "proxy_password", "settings_file"):
            if args.get(option) not in (None, ""):
                raise InvalidOption(option, args[option], "nothing with state=absent")
        return None
    for option in ("proxy_address", "proxy_port"):
        if args.get(option) in (None, ""):
            raise InvalidOption(option, args.get(option), "a value when state=present")
    settings = ProxySettings(
        args["proxy_address"], args["proxy_port"], args.get("proxy_username") or "", args.get("proxy_password") or ""
    )
    if args.get("settings_file"):
        settings_file_text(settings)  # refuse early
        _check_settings_path(args["settings_file"])
    return settings


def _check_settings_path(path: str) -> None:
    allowed = r"an absolute Windows path such as C:\ProgramData\ASRSetup\ProxySettings.conf"
    if len(path) < 4 or path[1] != ":" or path[2] != "\\" or not path[0].isalpha() or path.endswith("\\"):
        raise InvalidOption("settings_file", path, allowed)


def settings_file_text(settings: ProxySettings) -> str:
    """The ``[ProxySettings]`` file for Unified Setup [8]; refused for a proxy with credentials (no secret at rest)."""
    if settings.authentication:
        raise InvalidOption(
            "settings_file",
            "with proxy_username",
            "only a proxy without authentication",
            "The file would have to hold the proxy password in clear text (Unified Setup reads it from the "
            "file [8]); this collection never leaves a password at rest. asr.process_server.install writes the "
            "file for the duration of setup and deletes it afterwards.",
        )
    return render_proxy_settings(settings)


def settings_file_sha256(settings: ProxySettings) -> str:
    """SHA256 of the file as the proxy script writes it (UTF-8 without BOM, CRLF)."""
    return hashlib.sha256(settings_file_text(settings).encode("utf-8")).hexdigest()


def current_mars_proxy(asr: dict[str, Any]) -> dict[str, Any]:
    """The MARS proxy the probe read back (``Get-OBMachineSetting``), without any password."""
    mars = (asr.get("proxy") or {}).get("mars") or {}
    enabled = bool(mars.get("enabled")) and bool(mars.get("address"))
    return {
        "enabled": enabled,
        "address": mars.get("address") if enabled else None,
        "port": mars.get("port") if enabled else None,
        "username": mars.get("username") if enabled else None,
    }


def shown(settings: ProxySettings | None) -> dict[str, Any]:
    """A proxy as the diff and the result show it: never the password."""
    if settings is None:
        return {"enabled": False, "address": None, "port": None, "username": None}
    return {
        "enabled": True,
        "address": settings.address,
        "port": settings.port,
        "username": settings.username or None,
    }


def _same_address(a: str | None, b: str | None) -> bool:
    return (a or "").rstrip("/").casefold() == (b or "").rstrip("/").casefold()


def mars_proxy_differences(current: dict[str, Any], wanted: ProxySettings | None) -> list[str]:
    """What differs between the read-back MARS proxy and the wanted one, in words (never a password)."""
    if wanted is None:
        return ["the MARS agent uses a proxy; state=absent removes it"] if current["enabled"] else []
    if not current["enabled"]:
        return ["the MARS agent uses no proxy"]
    reasons = []
    if not _same_address(current["address"], wanted.address):
        reasons.append(f"address is {current['address']!r}, wanted {wanted.address!r}")
    if current["port"] != wanted.port:
        reasons.append(f"port is {current['port']!r}, wanted {wanted.port!r}")
    if (current["username"] or "").casefold() != wanted.username.casefold():
        reasons.append(f"user name is {current['username']!r}, wanted {wanted.username or None!r}")
    return reasons


def settings_file_differences(facts: dict[str, Any] | None, wanted: ProxySettings) -> list[str]:
    """What differs between the probed settings file (``checks.proxy_settings_file``) and the wanted one."""
    if not facts or not facts.get("exists"):
        return ["the proxy settings file does not exist"]
    reasons = []
    if facts.get("sha256") != settings_file_sha256(wanted):
        reasons.append("the proxy settings file's content differs")
    sids = set(facts.get("access_sids") or [])
    if sids - SETTINGS_FILE_SIDS or not facts.get("inheritance_protected"):
        reasons.append("the proxy settings file is readable by more than SYSTEM and Administrators")
    return reasons


def plan_proxy(
    asr: dict[str, Any],
    wanted: ProxySettings | None,
    *,
    update_password: str = "on_change",
    settings_file: str | None = None,
    register_mt: bool = True,
) -> ProxyPlan:
    """Compare the probed host with the wanted proxy; raise :class:`InvalidOption` when nothing can be done."""
    if update_password not in UPDATE_PASSWORD:
        raise InvalidOption("update_password", update_password, "one of always, on_change")
    components = asr.get("components") or {}
    mars = (asr.get("proxy") or {}).get("mars") or {}
    if not (components.get("recovery_services_agent") or {}).get("installed"):
        raise PlanningError(
            "The Microsoft Azure Recovery Services Agent (obengine) is not installed on this host, so it has no "
            "MARS proxy to set [6.6]. Install the process server first (asr.process_server.install)."
        )
    if mars.get("error") or mars.get("source") != "Get-OBMachineSetting":
        why = mars.get("error") or "the agent's MSOnlineBackup PowerShell module was not found"
        raise PlanningError(
            f"The MARS proxy could not be read back with Get-OBMachineSetting ({why}). Repair the Microsoft Azure "
            "Recovery Services Agent installation, then run the task again."
        )
    current = current_mars_proxy(asr)
    reasons = mars_proxy_differences(current, wanted)
    obengine = next((s for s in asr.get("services") or [] if s.get("name") == "obengine"), None)
    if not reasons and obengine is not None and obengine.get("present") and obengine.get("state") != "running":
        # A previous change that stopped half way (obengine failed to start) left the proxy set but not applied
        # and the MT not re-registered: the whole procedure runs again [8].
        reasons.append(f"obengine is {obengine.get('state')}: the change is applied again and obengine restarted")
    if wanted is not None and wanted.password and update_password == "always":
        reasons.append("update_password=always sets the password on every run (it cannot be read back)")
    set_mars = bool(reasons)
    write_file = False
    if settings_file and wanted is not None:
        file_reasons = settings_file_differences((asr.get("checks") or {}).get("proxy_settings_file"), wanted)
        reasons.extend(file_reasons)
        write_file = bool(file_reasons)
    mt_installed = bool((components.get("mobility_service_master_target") or {}).get("installed"))
    return ProxyPlan(
        changed=set_mars or write_file,
        set_mars_proxy=set_mars,
        no_proxy=set_mars and wanted is None,
        # [8] after Set-OBMachineSetting on a scale-out PS: cdpcli --registermt (only where the MT agent is).
        register_mt=set_mars and register_mt and mt_installed,
        write_settings_file=write_file,
        reasons=reasons,
        before=current,
        after=shown(wanted) if set_mars else current,
    )
