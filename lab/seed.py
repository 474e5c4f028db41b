"""Starting states for an estate: ``apply(estate, "mixed")`` or a path to a YAML/JSON seed file.

The format is documented in ``lab/seeds/README.md``. Installed hosts are built with the same code the emulated
Unified Setup uses (``lab.asr.build`` / ``lab.asr.products``), so a seeded host looks exactly like an installed one.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import yaml

from lab.asr import build, mars, products
from lab.asr import cs as cs_mod
from lab.state import Estate, Host, new_host

SEEDS_DIR = pathlib.Path(__file__).resolve().parent / "seeds"
ROLES = ("configuration_server", "process_server")

# A survey (a future `info` module's output) names products by Add/Remove-Programs DisplayName ([6.1]).
_BY_DISPLAY_NAME = {name.lower(): comp for comp, name in products.DISPLAY_NAMES.items()}
_COMPONENT_ALIASES = {
    "dependencies": "dependencies",
    "csps": "csps",
    "process_server": "csps",
    "configuration_process_server": "csps",
    "mt": "mt",
    "master_target": "mt",
    "mobility_service": "mt",
    "mars": "mars",
    "mars_agent": "mars",
}


class SeedError(ValueError):
    pass


def seed_path(seed: str | os.PathLike[str]) -> pathlib.Path:
    path = pathlib.Path(seed)
    if path.suffix in (".yml", ".yaml", ".json") and path.is_file():
        return path
    for suffix in (".yml", ".yaml", ".json"):
        candidate = SEEDS_DIR / f"{seed}{suffix}"
        if candidate.is_file():
            return candidate
    known = ", ".join(available()) or "none"
    raise SeedError(f"unknown seed {seed!r} (known: {known}; or give a path to a .yml/.json file)")


def available() -> list[str]:
    return sorted(p.stem for p in SEEDS_DIR.glob("*.yml"))


def load(seed: str | os.PathLike[str]) -> dict[str, Any]:
    path = seed_path(seed)
    text = path.read_text(encoding="utf-8")
    spec = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    if not isinstance(spec, dict) or not isinstance(spec.get("hosts", []), list):
        raise SeedError(f"{path}: a seed is a mapping with a `hosts` list")
    return spec


def apply(
    estate: Estate,
    seed: str | os.PathLike[str],
    cs: int | None = None,
    ps: int | None = None,
) -> list[str]:
    """Create the seed's host states in ``estate``; returns the names of the hosts written.

    Hosts listed in the seed are (re)built from it; hosts already in the estate but not listed take the seed's
    ``templates.<role>`` (if any). ``cs``/``ps`` first make sure the default layout's hosts (cs01.., ps01..)
    exist, so a template-based seed ("fresh") scales to any fleet size.
    """
    spec = load(seed)
    if cs is not None or ps is not None:
        from lab.estate import default_layout

        for name, role, ip in default_layout(cs or 0, ps or 0):
            if name not in estate.host_names():
                estate.save_new_host(new_host(name, ip, role))
    listed = {entry["name"]: entry for entry in spec.get("hosts", [])}
    for name in listed:
        if not isinstance(name, str) or not name:
            raise SeedError("every seed host needs a name")
    entries: list[dict[str, Any]] = list(listed.values())
    templates = spec.get("templates", {}) or {}
    for name in estate.host_names():
        if name in listed:
            continue
        existing = estate.read_host(name)
        template = templates.get(existing.role)
        if template is not None:
            entries.append({**template, "name": name, "role": existing.role, "ip": existing.ip})
    # configuration servers first: process servers register with them
    entries.sort(key=lambda e: 0 if e.get("role", "process_server") == "configuration_server" else 1)
    built: dict[str, Host] = {}
    for entry in entries:
        built[entry["name"]] = _build_host(estate, entry, built)
    for entry in entries:
        _protect_machines(entry, built, estate)
    for host in built.values():
        estate.save_new_host(host)
    return sorted(built)


def _protect_machines(entry: dict[str, Any], built: dict[str, Host], estate: Estate) -> None:
    """``asr.protected_machines`` of an entry: on a configuration server, a list of ``{name, process_server,
    daily_churn_gb}`` (``process_server``: a host of the seed or an IP; default the CS itself); on a process server,
    a count of machines ``<HOSTNAME>-VM001``... replicating through it ([7.3]; lab/asr/protection.py)."""
    from lab.asr import protection

    asr = entry.get("asr") or {}
    wanted = asr.get("protected_machines")
    if not wanted:
        return
    host = built[entry["name"]]
    churn = asr.get("machine_churn_gb")
    if host.role == "configuration_server":
        if not isinstance(wanted, list):
            raise SeedError(f"{host.name}: asr.protected_machines on a configuration server is a list of machines")
        for machine in wanted:
            ref = str(machine.get("process_server") or host.name)
            ps_ip = built[ref].ip if ref in built else ref
            try:
                protection.protect(host, str(machine["name"]), ps_ip, churn_gb=machine.get("daily_churn_gb", churn))
            except (KeyError, ValueError) as exc:
                raise SeedError(f"{host.name}: protected machine {machine!r}: {exc}") from exc
        return
    _cs_ip, cs_host = _find_cs(asr, built, estate)
    if cs_host is None or not isinstance(wanted, int):
        raise SeedError(f"{host.name}: asr.protected_machines on a process server is a count, with its CS in the seed")
    stem = str(host.data.get("hostname", host.name.upper()))
    for number in range(1, wanted + 1):
        try:
            protection.protect(cs_host, f"{stem}-VM{number:03d}", asr.get("ps_ip") or host.ip, churn_gb=churn)
        except ValueError as exc:
            raise SeedError(f"{host.name}: {exc}") from exc


def _build_host(estate: Estate, entry: dict[str, Any], built: dict[str, Host]) -> Host:
    name = entry["name"]
    previous = estate.read_host(name) if name in estate.host_names() else None
    role = entry.get("role") or (previous.role if previous else "process_server")
    if role not in ROLES:
        raise SeedError(f"{name}: role must be one of {ROLES}")
    ip = entry.get("ip") or (previous.ip if previous else None)
    if not ip:
        raise SeedError(f"{name}: no ip")
    creds = previous.data.get("credentials", {}) if previous else {}
    if entry.get("survey") is not None:  # an info module's `survey` value, or a diagnostics file, as is
        from lab.survey_import import SurveyError, seed_from_survey, split_document

        login = {k: v for k, v in creds.items() if k in ("username", "password")}
        try:
            survey, diagnostics = split_document(entry["survey"])
        except SurveyError as exc:
            raise SeedError(f"{name}: survey: {exc}") from exc
        return seed_from_survey(survey, name, ip, **login, diagnostics=diagnostics)
    kwargs: dict[str, Any] = {}
    if entry.get("disks"):
        kwargs["disks"] = {k.rstrip(":\\").upper(): dict(v) for k, v in entry["disks"].items()}
    if entry.get("cpu", {}).get("logical_processors"):
        kwargs["vcpus"] = int(entry["cpu"]["logical_processors"])
    if entry.get("memory_gb"):
        kwargs["memory_gb"] = int(entry["memory_gb"])
    for key, arg in (("name", "os_name"), ("version", "os_version")):
        if entry.get("os", {}).get(key):
            kwargs[arg] = entry["os"][key]
    host = new_host(
        name,
        ip,
        role,
        username=creds.get("username", "Administrator"),
        password=creds.get("password", "Lab-Passw0rd!"),
        **kwargs,
    )
    if entry.get("hostname"):
        host.data["hostname"] = entry["hostname"]
    host.facts.update(entry.get("facts", {}) or {})
    host.faults.update(entry.get("faults", {}) or {})
    if entry.get("reachable") is False:
        host.data["reachable"] = False
    if entry.get("pending_reboot"):
        host.data["pending_reboot"] = list(entry["pending_reboot"])
    asr = entry.get("asr", {}) or {}
    if role == "configuration_server":
        _build_cs(host, asr)
    else:
        _build_ps(host, asr, built, estate)
    for svc, state in (asr.get("services") or {}).items():
        if host.service(svc) is None:
            raise SeedError(f"{name}: service {svc} is not installed")
        host.service(svc)["state"] = state
    return host


def _components(asr: dict[str, Any]) -> dict[str, str]:
    if asr.get("products"):  # survey form: [{DisplayName, DisplayVersion}]
        out = {}
        for product in asr["products"]:
            comp = _BY_DISPLAY_NAME.get(str(product.get("DisplayName", "")).lower())
            if comp in products.COMPONENTS:
                out[comp] = str(product["DisplayVersion"])
        return out
    if asr.get("components"):
        out = {}
        for key, version in asr["components"].items():
            comp = _COMPONENT_ALIASES.get(str(key).lower()) or _BY_DISPLAY_NAME.get(str(key).lower())
            if comp is None:
                raise SeedError(f"unknown component {key!r}")
            out[comp] = str(version)
        return out
    if asr.get("version"):
        return dict.fromkeys(products.COMPONENTS, str(asr["version"]))
    return {}


def _build_cs(host: Host, asr: dict[str, Any]) -> None:
    revision = asr.get("unregister_script")
    if revision is not None:  # [5] which revision of Unregister-ASRComponent.pl the CS has (lab/asr/cs.py)
        if str(revision) not in cs_mod.SCRIPT_REVISIONS:
            raise SeedError(
                f"{host.name}: unregister_script must be one of {', '.join(cs_mod.SCRIPT_REVISIONS)}, got {revision!r}"
            )
        host.asr["unregister_script"] = str(revision)
    comps = _components(asr)
    version = asr.get("version") or comps.get("csps")
    if not version:
        return  # a configuration-server-to-be with nothing installed
    location = asr.get("install_location", "D:\\")
    _ensure_dir(host, location)
    build.configuration_server(
        host, str(version), location=location, passphrase=asr.get("passphrase") or build.DEFAULT_PASSPHRASE
    )


def _ensure_dir(host: Host, location: str) -> None:
    letter = location[:1].upper()
    if letter not in host.data["disks"]:
        raise SeedError(f"{host.name}: install location {location} is on a drive the host does not have")
    host.mkdir(location)


def _find_cs(asr: dict[str, Any], built: dict[str, Host], estate: Estate) -> tuple[str | None, Host | None]:
    ref = asr.get("cs")
    cs_ip = asr.get("cs_ip")
    if ref:
        host = built.get(ref)
        if host is None:
            raise SeedError(f"configuration server {ref!r} is not in the seed")
        return host.ip, host
    if cs_ip:
        return cs_ip, next((h for h in built.values() if h.ip == cs_ip), None)
    for host in built.values():
        if host.role == "configuration_server":
            return host.ip, host
    return None, None


def _build_ps(host: Host, asr: dict[str, Any], built: dict[str, Host], estate: Estate) -> None:
    comps = _components(asr)
    if not comps:
        return
    cs_ip, cs_host = _find_cs(asr, built, estate)
    if cs_ip is None:
        raise SeedError(f"{host.name}: an installed process server needs a configuration server (asr.cs)")
    location = asr.get("install_location", "D:\\")
    _ensure_dir(host, location)
    build.process_server(
        host,
        comps,
        cs_ip=cs_ip,
        location=location,
        ps_ip=asr.get("ps_ip"),
        data_port=int(asr.get("data_port", 9443)),
        proxy=asr.get("proxy"),
    )
    if "mars_proxy" in asr and products.installed_version(host, "mars"):
        drift = asr["mars_proxy"] or {}
        mars.set_proxy(host, drift.get("address"), drift.get("port"), drift.get("username"))
        mars.apply_on_restart(host)
    if asr.get("registered", True) and cs_host is not None and comps.get("csps"):
        build.register(
            cs_host,
            host,
            mt=bool(asr.get("mt_registered", True)),
            heartbeat_age_s=float(asr.get("heartbeat_age_s", 0)),
        )
