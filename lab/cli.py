"""``python -m lab``: start, inspect, reset, fault and stop an emulated estate (DESIGN.md, lab/cli.py).

    python -m lab up --cs 1 --ps 3 [--seed NAME] [--dir DIR] [--http]
    python -m lab status [--dir DIR] [--json]
    python -m lab reset [--dir DIR]
    python -m lab fault [--dir DIR] HOST KNOB VALUE      (VALUE is JSON when it parses, else a string)
    python -m lab fault [--dir DIR] HOST [KNOB] --clear
    python -m lab down [--dir DIR]

``up`` runs the WinRM server as a daemonised ``python -m lab serve --dir DIR`` process (its pid is kept in
``estate.json``) and returns once every host's port accepts connections.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from lab import estate as estate_mod
from lab import journal, link
from lab.state import Estate

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description="Emulated Windows estate over real WinRM.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--dir", default=str(estate_mod.default_dir()), help="estate directory (default .lab/default)")
        return p

    up = with_dir(sub.add_parser("up", help="create the estate and start its WinRM server in the background"))
    up.add_argument("--cs", type=int, default=1, help="configuration servers (default 1)")
    up.add_argument("--ps", type=int, default=3, help="scale-out process servers (default 3)")
    up.add_argument("--seed", default=None, help="starting state (lab/seeds/<NAME>.yml)")
    up.add_argument("--http", action="store_true", help="plain HTTP instead of HTTPS")

    status = with_dir(sub.add_parser("status", help="hosts, ports, server and per-host call counts"))
    status.add_argument("--json", action="store_true", help="machine-readable output")

    with_dir(sub.add_parser("down", help="stop the server; no process or port is left behind"))
    with_dir(sub.add_parser("reset", help="re-create host states from the seed and clear the journals"))

    fault = with_dir(sub.add_parser("fault", help="set or clear a fault on a host"))
    fault.add_argument("host")
    fault.add_argument("knob", nargs="?")
    fault.add_argument("value", nargs="?")
    fault.add_argument("--clear", action="store_true", help="clear KNOB, or every fault when no KNOB is given")

    imported = with_dir(
        sub.add_parser(
            "import",
            help="replace a host's state with a real host's survey or diagnostics file (playbooks/diagnose.yml)",
        )
    )
    imported.add_argument("host", help="the estate's host to replace (its address and credentials are kept)")
    imported.add_argument("file", help="a diagnostics file, an info survey, or a whole registered info result (JSON)")

    installer = sub.add_parser("installer", help="write a lab Unified Setup package for a given build")
    installer.add_argument("--version", required=True, help="product version, e.g. 9.55.7123.1")
    installer.add_argument("--out", required=True, help="file to write (MicrosoftAzureSiteRecoveryUnifiedSetup.exe)")

    with_dir(sub.add_parser("serve", help=argparse.SUPPRESS))

    args = parser.parse_args(argv)
    return {
        "up": cmd_up,
        "status": cmd_status,
        "down": cmd_down,
        "reset": cmd_reset,
        "fault": cmd_fault,
        "import": cmd_import,
        "installer": cmd_installer,
        "serve": cmd_serve,
    }[args.command](args)


# ---- commands ----------------------------------------------------------------------------------------------
def cmd_up(args: argparse.Namespace) -> int:
    path = pathlib.Path(args.dir).resolve()
    if (path / estate_mod.META_FILE).is_file():
        stop_server(Estate(path))  # re-creating a running estate: stop its server first
    estate = estate_mod.create(path, cs=args.cs, ps=args.ps, seed=args.seed, http=args.http)
    pid = start_server(estate)
    inventory = estate_mod.inventory_path(estate)
    print(f"lab up: {len(estate_mod.hosts(estate))} hosts served by pid {pid} from {estate.path}")
    _print_hosts(estate)
    print(f"\ninventory: {inventory}")
    print(f"try:       ansible -i {inventory} all -m ansible.windows.win_ping")
    print(f"stop:      python -m lab down --dir {estate.path}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    estate, meta = estate_mod.load(args.dir)
    pid = meta["server"].get("pid")
    info = {
        "dir": str(estate.path),
        "scheme": meta["scheme"],
        "seed": meta.get("seed"),
        "server": {"pid": pid, "alive": bool(pid and server_alive(pid))},
        "inventory": str(estate_mod.inventory_path(estate)),
        "hosts": {
            name: {
                **{k: v for k, v in host.items() if k != "password"},
                "listening": port_open(host["port"]),
                "calls": journal.count(estate, name),
                # lab/link.py: requests, connections and bytes per channel (wsman, http, smb), declared sizes included
                "wire": link.summary(link.read(estate, name)),
            }
            for name, host in sorted(meta["hosts"].items())
        },
    }
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    state = "running" if info["server"]["alive"] else "not running"
    print(f"estate {info['dir']} ({info['scheme']}, seed {info['seed'] or '-'}): server pid {pid or '-'} {state}")
    _print_hosts(estate, info["hosts"])
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from lab import survey_import

    estate, meta = estate_mod.load(args.dir)
    if args.host not in meta["hosts"]:
        print(f"lab import: no host {args.host!r} in {estate.path} (hosts: {', '.join(sorted(meta['hosts']))})")
        return 2
    return survey_import.import_file(estate, args.host, args.file)


def cmd_down(args: argparse.Namespace) -> int:
    estate, _meta = estate_mod.load(args.dir)
    stopped = stop_server(estate)
    print(f"lab down: {'server stopped' if stopped else 'no server was running'} ({estate.path})")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    estate, meta = estate_mod.load(args.dir)
    before = set(meta["hosts"])
    estate_mod.reset(estate)
    after = set(estate_mod.hosts(estate))
    print(f"lab reset: {len(after)} hosts re-created from seed {meta.get('seed') or '(defaults)'}; journals cleared")
    pid = meta["server"].get("pid")
    if after != before and pid and server_alive(pid):
        print("note: the host list changed; run `python -m lab up` again to serve the new hosts")
    return 0


def cmd_fault(args: argparse.Namespace) -> int:
    estate, meta = estate_mod.load(args.dir)
    if args.host == "azure" and "azure" in meta:
        return _fault_azure(estate, args)
    if args.host not in meta["hosts"]:
        print(f"unknown host {args.host!r}; hosts: {', '.join(sorted(meta['hosts']))}", file=sys.stderr)
        return 2
    with estate.open_host(args.host) as host:
        if args.clear:
            if args.knob:
                host.faults.pop(args.knob, None)
            else:
                host.faults.clear()
        elif args.knob and args.value is not None:
            host.faults[args.knob] = parse_value(args.value)
        else:
            print("fault: give HOST KNOB VALUE, or HOST [KNOB] --clear", file=sys.stderr)
            return 2
        faults = dict(host.faults)
    print(f"{args.host} faults: {json.dumps(faults, sort_keys=True)}")
    return 0


def _fault_azure(estate: Estate, args: argparse.Namespace) -> int:
    """The Azure side's faults (lab/azure.py): throttling, a failing Switch, a token expiring mid-run..."""
    from lab import azure

    with azure.open_state(estate) as state:
        faults = state["faults"]
        if args.clear:
            if args.knob:
                faults.pop(args.knob, None)
            else:
                faults.clear()
        elif args.knob and args.value is not None:
            faults[args.knob] = parse_value(args.value)
        else:
            print("fault: give azure KNOB VALUE, or azure [KNOB] --clear", file=sys.stderr)
            return 2
        shown = dict(faults)
    print(f"azure faults: {json.dumps(shown, sort_keys=True)}")
    return 0


def cmd_installer(args: argparse.Namespace) -> int:
    """The package file the emulated hosts can extract and run ([1.1]); what a user stages with the modules."""
    from lab.asr import installer

    return installer.main(["package", "--version", args.version, "--out", args.out], prog="python -m lab installer")


def cmd_serve(args: argparse.Namespace) -> int:
    from lab import wsman

    wsman.run_forever(Estate(args.dir))
    return 0


# ---- server process ----------------------------------------------------------------------------------------
def start_server(estate: Estate) -> int:
    """Start ``python -m lab serve`` detached (own session, no terminal), wait for every port, record the pid."""
    meta = estate_mod.read_meta(estate)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(estate_mod.REPO_ROOT), env.get("PYTHONPATH")]))
    with open(estate.path / "server.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lab", "serve", "--dir", str(estate.path)],
            cwd=estate_mod.REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    meta["server"]["pid"] = proc.pid
    estate_mod.write_meta(estate, meta)
    ports = estate_mod.ports(meta)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the lab server exited with {proc.returncode}; see {estate.path / 'server.log'}")
        if all(port_open(p) for p in ports):
            return proc.pid
        time.sleep(0.1)
    proc.terminate()
    raise RuntimeError(f"the lab server did not open its ports within {START_TIMEOUT_S}s; see server.log")


def stop_server(estate: Estate) -> bool:
    """Stop the estate's server (SIGTERM, then SIGKILL) and wait until its ports are closed."""
    meta = estate_mod.read_meta(estate)
    pid = meta["server"].get("pid")
    stopped = False
    if pid and server_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while server_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if server_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while server_alive(pid):
                time.sleep(0.05)
        stopped = True
    ports = estate_mod.ports(meta)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while any(port_open(p) for p in ports) and time.monotonic() < deadline:
        time.sleep(0.05)
    meta["server"]["pid"] = None
    estate_mod.write_meta(estate, meta)
    return stopped


def server_alive(pid: int) -> bool:
    """True when ``pid`` is a live ``lab serve`` process (a recycled pid or a zombie does not count)."""
    try:
        cmdline = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    if any(line.startswith("State:") and "Z" in line.split()[1] for line in status.splitlines()):
        # reap it if it is our own child (e.g. `up` and `down` called in one process)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return False
    return b"lab" in cmdline and b"serve" in cmdline


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", int(port))) == 0


# ---- helpers -----------------------------------------------------------------------------------------------
def parse_value(text: str) -> Any:
    """``200`` -> 200, ``true`` -> True, ``["a","b"]`` -> list; anything else stays a string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _print_hosts(estate: Estate, rows: dict[str, dict[str, Any]] | None = None) -> None:
    meta = estate_mod.read_meta(estate)
    print(f"{'host':<8} {'role':<22} {'lab ip':<12} {'port':>6}  {'user':<14} extra")
    for name, host in sorted(meta["hosts"].items()):
        extra = ""
        if rows:
            row = rows[name]
            extra = f"{'listening' if row['listening'] else 'closed'}, {row['calls']} calls"
        else:
            extra = f"password {host['password']}"
        print(f"{name:<8} {host['role']:<22} {host['ip']:<12} {host['port']:>6}  {host['username']:<14} {extra}")
