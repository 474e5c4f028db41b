"""The configuration server as other hosts see it, and what runs on it.

* reaching a CS from a PS (``reach_cs``): over the network to ``CSIP:443`` ([1.3] SRC: passphrase validated live
  against CSIP:443), which fails when the PS has the ``cs_unreachable`` fault, when no host owns that IP, when
  the CS host is down (state ``reachable: false``, set by seeds), or when that host is no configuration server;
* its bookkeeping of registered process servers (LAB bookkeeping in ``host.asr["registered_process_servers"]``,
  keyed by the PS IP): host GUID, host name, version, data port, MT registration, last heartbeat ([7.5] "no
  heartbeat for 15 min" is how a CS notices a dead PS);
* ``perl Unregister-ASRComponent.pl -IPAddress <ip> -Component PS`` run on the CS from
  ``%ProgramData%\\ASR\\home\\svsystems\\bin`` ([5] DOC), which purges a PS from the CS -- as the 2018/2019
  revisions describe it (a listing, then a prompt for the S.No) or, on a CS seeded with
  ``unregister_script: '2017'``, as the seed's 2017 revision does (it purges at once).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from lab.asr import constants as c
from lab.asr import products
from lab.programs import Invocation, ProcessResult, executable
from lab.state import Host

HEARTBEAT_STALE_S = 15 * 60  # [7.5] Critical: no heartbeat for 15 min


def is_down(host: Host) -> bool:
    """A host that is powered off / off the network (seed field ``reachable: false``)."""
    return host.data.get("reachable", True) is False


@contextlib.contextmanager
def reach_cs(host: Host, cs_ip: str) -> Iterator[tuple[Host | None, str]]:
    """``(cs_host, "")`` when ``host`` can talk to a configuration server at ``cs_ip``:443, else ``(None, why)``.

    The CS host is locked for the duration (the caller already holds ``host``'s lock; the lab only ever locks
    PS -> CS, never the other way round, so two hosts cannot deadlock).
    """
    if host.faults.get("cs_unreachable"):
        yield None, f"Unable to connect to the configuration server {cs_ip}:{c.CS_PORT}."
        return
    if cs_ip == host.ip:
        ok = products.is_configuration_server(host)
        yield (host, "") if ok else (None, f"No configuration server is listening on {cs_ip}:{c.CS_PORT}.")
        return
    estate = host.estate
    name = estate.host_by_ip_nolock(cs_ip) if estate is not None else None
    if estate is None or name is None:
        yield None, f"Unable to connect to the configuration server {cs_ip}:{c.CS_PORT}."
        return
    with estate.open_host(name) as cs:
        if is_down(cs):
            yield None, f"Unable to connect to the configuration server {cs_ip}:{c.CS_PORT}."
        elif not products.is_configuration_server(cs):
            yield None, f"No configuration server is listening on {cs_ip}:{c.CS_PORT}."
        else:
            yield cs, ""


def cs_version(cs: Host) -> str | None:
    return cs.reg_get(c.REG_INSTALLED_CSPS, "Build_Version")


def registered(cs: Host) -> dict[str, dict[str, Any]]:
    return cs.asr.setdefault("registered_process_servers", {})


def register_ps(cs: Host, ps: Host, *, ps_ip: str, version: str, data_port: int, mt: bool | None = None) -> None:
    """The PS registers with the CS (CS/PS component, [1.3]) or its MT does (``cdpcli --registermt``, [3.3])."""
    records = registered(cs)
    record = records.get(ps_ip, {})
    record.update(
        {
            "host_guid": ps.asr.get("host_guid"),
            "hostname": ps.data.get("hostname", ps.name.upper()),
            "os": ps.data.get("os", {}).get("name", ""),
            "lab_host": ps.name,
            "version": version,
            "data_port": data_port,
            "last_heartbeat": cs.now(),
        }
    )
    record.setdefault("registered_at", cs.now())
    record.setdefault("mt_registered", False)
    if mt is not None:
        record["mt_registered"] = mt
    records[ps_ip] = record


def unregister_ps(cs: Host, ps_ip: str, how: str) -> bool:
    record = registered(cs).pop(ps_ip, None)
    if record is None:
        return False
    record["unregistered_at"] = cs.now()
    record["unregistered_by"] = how
    cs.asr.setdefault("unregistered_process_servers", []).append({"ip": ps_ip, **record})
    return True


def refresh_heartbeats(cs: Host, only_ip: str | None = None) -> dict[str, dict[str, Any]]:
    """Bring the CS's heartbeat records up to date: a registered PS heartbeats while it is up, can reach the CS
    and runs ``tmansvc`` ([6.3] DOC: no heartbeat => check tmansvc). PS states are read without locks (this runs
    under the CS lock and the lab never locks CS -> PS). Returns the records with ``heartbeat_age_s``; with
    ``only_ip``, just that record (a listing by IP reads one process server's state, not the whole estate's)."""
    estate = cs.estate
    out = {}
    records = registered(cs)
    if only_ip is not None:
        records = {only_ip: records[only_ip]} if only_ip in records else {}
    for ip, record in records.items():
        name = estate.host_by_ip_nolock(ip) if estate is not None else None
        if name is not None:
            import json

            ps = Host(json.loads(estate.host_path(name).read_text(encoding="utf-8")), estate=estate)
            svc = ps.service("tmansvc")
            if not is_down(ps) and not ps.faults.get("cs_unreachable") and svc and svc["state"] == "running":
                record["last_heartbeat"] = cs.now()
        age = cs.now() - float(record.get("last_heartbeat", 0))
        out[ip] = {**record, "heartbeat_age_s": round(age, 1), "heartbeat_stale": age > HEARTBEAT_STALE_S}
    return out


# ---- perl Unregister-ASRComponent.pl ([5]) ---------------------------------------------------------------
@executable("perl.exe")
def perl(inv: Invocation) -> ProcessResult:
    args = inv.args
    if not args:
        return ProcessResult(0, "", "")  # perl reading a script from stdin: nothing to run
    script = args[0]
    path = script if (len(script) >= 2 and script[1] == ":") else products.join(inv.cwd, script)
    if not inv.host.is_file(path):
        # perl's own message when the script file is missing (e.g. not run from svsystems\bin, or not a CS)
        return ProcessResult(2, "", f'Can\'t open perl script "{script}": No such file or directory\n')
    if path.replace("/", "\\").rsplit("\\", 1)[-1].lower() != products.UNREGISTER_SCRIPT.lower():
        return ProcessResult(255, "", f"lab: perl script {script} is not emulated\n")
    return _unregister_component(inv, args[1:])


def _unregister_component(inv: Invocation, args: list[str]) -> ProcessResult:
    # [5] DOC: `perl Unregister-ASRComponent.pl -IPAddress <IP_of_Process_Server> -Component PS` purges the PS from
    # the CS. The later revisions of that include (ms.date 08/06/2018 and 04/28/2019) describe a dialogue: the script
    # LISTS the process servers registered with that IP (S.No, IP/Name, Heartbeat; several for duplicate entries),
    # asks for the S.No of the one to unregister, purges it and prints
    # "Successfully unregistered <server-name> (<server-IP-address>)". The lab follows that dialogue by default; a CS
    # seeded with `unregister_script: '2017'` follows the 2017 revision instead (_purge_at_once, below).
    # LAB choices where the documents are silent (the collection relies on none of them for reading: it reads the
    # registrations in svsdb1, lab/asr/mysql.py, and starts this script only to purge, answering "1"):
    #   1. no answer at the prompt (standard input empty or closed) purges nothing (LAB: rc 1);
    #   2. a row is "<S.No>  <IP>/<name>  <YYYY-MM-DD HH:MM:SS>" (the layout is only shown in a screenshot; the
    #      heartbeat is MySQL DATETIME text, SRC svsdb.sql hosts.lastHostUpdateTimePs), in the CS's local time, which
    #      the lab takes to be UTC;
    #   3. the S.No followed by Enter purges that row.
    # [UNCONFIRMED] other parameters, -Component values, exact messages and exit codes (script absent from SRC): the
    # lab accepts exactly the documented pair (names case-insensitive), prints LAB wording and returns
    # 0 = purged, 1 = bad usage, unknown IP or nothing selected.
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        name = args[i]
        if name.startswith("-") and i + 1 < len(args):
            opts[name.lstrip("-").lower()] = args[i + 1]
            i += 2
            continue
        return ProcessResult(
            1, "", f"Unknown argument {name}\nUsage: perl Unregister-ASRComponent.pl -IPAddress <IP> -Component PS\n"
        )
    ip = opts.get("ipaddress")
    component = opts.get("component")
    if not ip or not component or set(opts) - {"ipaddress", "component"}:
        return ProcessResult(1, "", "Usage: perl Unregister-ASRComponent.pl -IPAddress <IP> -Component PS\n")
    if component.upper() != "PS":
        return ProcessResult(1, "", f"Component {component} is not supported by the lab (only PS is documented).\n")
    host = inv.host
    if not products.is_configuration_server(host):
        return ProcessResult(1, "", "This machine is not a configuration server.\n")
    if script_revision(host) == "2017":
        return _purge_at_once(host, ip)
    records = refresh_heartbeats(host, ip)
    rows = [(ip, records[ip])] if ip in records else []  # LAB: records are keyed by IP, so no duplicates
    if not rows:
        return ProcessResult(
            1, f"No process server with IP address {ip} is registered with this configuration server.\n", ""
        )
    listing = "S.No  IP/Name                              Heartbeat\r\n"
    for number, (row_ip, record) in enumerate(rows, start=1):
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(float(record.get("last_heartbeat", 0))))
        listing += f"{number:<6}{row_ip + '/' + str(record.get('hostname', '')):<37}{stamp}\r\n"
    listing += "Enter the S.No of the process server to unregister: "
    lines = (inv.stdin or "").splitlines()
    answer = lines[0].strip() if lines else ""
    if not answer:
        return ProcessResult(1, listing + "\r\nNo process server was selected; nothing was unregistered.\r\n", "")
    if not answer.isdigit() or not 1 <= int(answer) <= len(rows):
        return ProcessResult(1, listing + f"{answer}\r\nInvalid S.No {answer}; nothing was unregistered.\r\n", "")
    row_ip, record = rows[int(answer) - 1]
    unregister_ps(host, row_ip, "Unregister-ASRComponent.pl")
    return ProcessResult(
        0, listing + f"{answer}\r\nSuccessfully unregistered {record.get('hostname', '')} ({row_ip})\r\n", ""
    )


# [5] [DISCREPANCY] the include's revisions. The 2017 revision (the seed's) says the command "purges the process
# server details from the system": no listing, no prompt, standard input is never read. A CS seeded with
# `unregister_script: '2017'` behaves so; the default is the 2018/2019 dialogue above.
SCRIPT_REVISIONS = ("2017", "2018")


def script_revision(cs: Host) -> str:
    return str(cs.asr.get("unregister_script") or "2018")


def _purge_at_once(cs: Host, ip: str) -> ProcessResult:
    # LAB wording and exit codes (the 2017 text shows none): 0 = purged, 1 = no process server with that IP.
    record = registered(cs).get(ip)
    if record is None:
        return ProcessResult(
            1, f"No process server with IP address {ip} is registered with this configuration server.\r\n", ""
        )
    unregister_ps(cs, ip, "Unregister-ASRComponent.pl")
    return ProcessResult(
        0, f"Purged the details of process server {record.get('hostname', '')} ({ip}) from the system.\r\n", ""
    )
