"""Secret leak scan: every playbook and every module task at -vvvv against the lab, with recognisable secret
values, in normal mode, check mode and with faults injected; then every place a secret could end up is searched.

Collection secrets (must appear ZERO times, also as base64 of UTF-8 and of UTF-16LE):
  the configuration server passphrase, the MARS proxy password, a MySQL password given to registration_info
  (database_password), the configuration server's own database password (amethyst.conf DB_PASSWD, which the
  heartbeat read uses on the configuration server and must never bring back) and the token in an installer_url's
  query (a storage SAS: the host downloads the package with it from the lab's file server, which requires it).
The WinRM password is the connection's (ansible's), not the collection's: where ansible itself shows it is
recorded as a fact in docs/reliability.md, honestly, not asserted away.

Places searched: console output (stdout + stderr), ANSIBLE_LOG_PATH, the ansible.builtin.tree callback's
files, the ansible.posix.json callback output (check-mode runs), the lab journal, the process log's command
lines, every file left on every emulated host (decoded) and every registry value, the rest of each host's
state JSON, and the files the playbooks write on the controller (plan.yml's reports, diagnose.yml's diagnostics).
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
import shutil
import time
from typing import Any

import pytest
import registry
import rel_helpers as rh

from lab import fileserver, link
from lab.asr import constants as lab_constants
from lab.asr import products as lab_products
from lab.asr.installer import package_bytes

pytestmark = pytest.mark.lab

SECTION = "secret-leaks"
registry.section(
    SECTION,
    "Secret leak scan",
    "Every playbook and every module task run at `-vvvv` against the lab with recognisable secret values "
    "(configuration server passphrase, MARS proxy password, a MySQL password given to a module, the configuration "
    "server's own database password, the token of an installer_url), in normal mode, check mode and with faults "
    "injected. A case is one secret x one run x one place searched (in three encodings: plain, base64 of "
    "UTF-8, base64 of UTF-16LE); every case must find zero occurrences.",
    order=20,
)

PASSPHRASE = "Pz7-LEAKCANARY-Passphrase-41"
PROXY_PASSWORD = "Xq3-LEAKCANARY-ProxyPw-58"
DATABASE_PASSWORD = "Dq5-LEAKCANARY-DbPw-77"
CS_DATABASE_PASSWORD = "Cs9#LEAKCANARY"  # amethyst.conf DB_PASSWD of the configuration server ([8] password rule)
URL_TOKEN = "Tk4-LEAKCANARY-SasSig-93"  # the sig= of an installer_url (the lab's file server requires it)
PACKAGE_PATH = "asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
# not the controller's package: staged by no other task, so the staged task really downloads it
URL_PACKAGE = package_bytes(rh.CURRENT, 4096)
SECRETS = {
    "passphrase": PASSPHRASE,
    "proxy_password": PROXY_PASSWORD,
    "database_password": DATABASE_PASSWORD,
    "cs_database_password": CS_DATABASE_PASSWORD,
    "installer_url_token": URL_TOKEN,
}
PLAYBOOKS = [
    "site.yml",
    "proxy.yml",
    "reregister.yml",
    "upgrade.yml",
    "decommission.yml",
    "plan.yml",
    "preflight.yml",
    "diagnose.yml",
]
PROXY = {"address": "http://proxy.corp.example", "port": 3128, "username": "CORP\\svc-asr", "password": PROXY_PASSWORD}


def encodings(secret: str) -> dict[str, str]:
    return {
        "plain": secret,
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64-utf16le": base64.b64encode(secret.encode("utf-16-le")).decode(),
    }


def module_tasks(installer: str) -> list[dict[str, Any]]:
    """Every module of the collection, each given the secrets it can take, on hosts where it does real work."""
    common = {"configuration_server_ip": "10.0.0.11", "passphrase": PASSPHRASE}
    inst = {**common, "installer": installer, "installer_version": rh.CURRENT, "poll_interval": 1}
    return [
        {
            "hosts": "ps01",
            "module": "install",
            "args": {**inst, "install_location": "D:\\", "env_type": "VMware", "proxy": PROXY},
        },
        {
            "hosts": "ps03",
            "module": "upgrade",
            "args": {**common, "installer": installer, "installer_version": rh.CURRENT, "poll_interval": 1},
        },
        {
            "hosts": "ps04",
            "module": "proxy",
            "args": {
                **common,
                "proxy_address": PROXY["address"],
                "proxy_port": 3128,
                "proxy_username": PROXY["username"],
                "proxy_password": PROXY_PASSWORD,
                "update_password": "always",
            },
        },
        {"hosts": "ps02", "module": "registration", "args": {**common, "force": True}},
        {
            "hosts": "ps02",
            "module": "process_server",
            "args": {
                **inst,
                "install_location": "D:\\",
                "env_type": "VMware",
                "proxy": {**PROXY, "update_password": "always"},
                "force_reregister": True,
            },
        },
        {"hosts": "ps02", "module": "info", "args": {**common, "include_log_tail": True}},
        # the diagnosis reads the CS's database with its own account (amethyst.conf DB_PASSWD) and MARS's settings
        {"hosts": "cs01,ps02", "module": "info", "args": {**common, "diagnose": True}},
        {  # the host downloads the package from the lab's file server with a token in the URL's query
            "hosts": "ps01",
            "module": "process_server",
            "args": {
                "state": "staged",
                "installer_url": "{{ asr_lab_files_url }}/" + PACKAGE_PATH + "?sv=2024-05-04&sig=" + URL_TOKEN,
                "installer_checksum": hashlib.sha256(URL_PACKAGE).hexdigest(),
                "installer_version": rh.CURRENT,
            },
        },
        {"hosts": "ps04", "module": "uninstall", "args": {**common, "workload_moved": True}},
        {"hosts": "cs01", "module": "unregister", "args": {**common, "ip_address": "10.0.0.104", "force": True}},
        {
            "hosts": "cs01",
            "module": "registration_info",
            "args": {**common, "database_user": "asr_ro", "database_password": DATABASE_PASSWORD},
        },
    ]


def module_playbook(path: pathlib.Path, installer: str) -> pathlib.Path:
    plays = []
    for item in module_tasks(installer):
        task = {
            "name": f"asr.process_server.{item['module']}",
            f"asr.process_server.{item['module']}": item["args"],
            "ignore_errors": True,
            "ignore_unreachable": True,
        }
        if item["module"] in ("install", "upgrade", "process_server", "uninstall", "proxy", "registration"):
            task.update({"become": True, "become_method": "runas", "become_user": "SYSTEM"})
        plays.append({"name": item["module"], "hosts": item["hosts"], "gather_facts": False, "tasks": [task]})
    return rh.write_playbook(path, plays)


# The configuration server's own passphrase file (the product's, written by the lab's seed so Unified Setup's live
# passphrase check accepts the canary) is the one place the passphrase legitimately lives, and its amethyst.conf
# and the lab's MySQL accounts (lab/asr/mysql.py) the places its database passwords live; they are not searched.
AMETHYST_FILE = r"d:\home\svsystems\etc\amethyst.conf"  # the file's key in the lab state (lower-case)
CS_OWN_FILES = {("cs01", lab_constants.CS_PASSPHRASE_FILE.lower()), ("cs01", AMETHYST_FILE)}


def host_places(estate) -> dict[str, str]:
    """Per host: files left (decoded), registry values, the rest of the state; journal; process command lines."""
    places: dict[str, str] = {}
    for host in estate.host_names():
        data = json.loads(estate.host_path(host).read_text(encoding="utf-8"))
        files = []
        for key, entry in data.get("files", {}).items():
            if (host, key.lower()) in CS_OWN_FILES or (host, str(entry.get("path", "")).lower()) in CS_OWN_FILES:
                continue
            raw = base64.b64decode(entry["content_b64"]) if entry.get("content_b64") else b""
            files.append(key + "\n" + raw.decode("utf-8", "replace") + "\n" + raw.decode("utf-16-le", "replace"))
        places[f"host files:{host}"] = "\n".join(files)
        places[f"registry values:{host}"] = json.dumps(data.get("registry", {}))
        rest = {k: v for k, v in data.items() if k not in ("files", "registry")}
        ((rest.get("asr") or {}).get("mysql") or {}).pop("accounts", None)  # the CS's own MySQL accounts
        places[f"host state (other):{host}"] = json.dumps(rest)
        journal_path = estate.journal_path(host)
        places[f"journal:{host}"] = journal_path.read_text(encoding="utf-8") if journal_path.exists() else ""
        wire_path = link.wire_path(estate, host)  # the lab's network log (lab/link.py): paths, never queries
        places[f"wire log:{host}"] = wire_path.read_text(encoding="utf-8") if wire_path.exists() else ""
        places[f"process command lines:{host}"] = "\n".join(rh.command_lines(estate, host))
    return places


def set_fault(estate, host: str, knob: str, value: Any) -> None:
    with estate.open_host(host) as state:
        state.faults[knob] = value


def clear_faults(estate) -> None:
    for host in estate.host_names():
        with estate.open_host(host) as state:
            state.faults.clear()


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("leaks")
    installer = tmp / "MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    installer.write_bytes(package_bytes(rh.CURRENT))
    present = [p for p in PLAYBOOKS if (rh.ROOT / "playbooks" / p).exists()]
    missing = [p for p in PLAYBOOKS if p not in present]
    extra_vars = {
        "asr_configuration_server_ip": "10.0.0.11",
        "asr_passphrase": PASSPHRASE,
        "asr_proxy": PROXY,
        "asr_proxy_update_password": "always",
        "asr_installer": str(installer),
        "asr_installer_version": rh.CURRENT,
        "asr_install_location": "D:\\",
        "asr_env_type": "VMware",
        "asr_ip": "{{ asr_lab_ip }}",
        "asr_poll_interval": 1,
        "asr_report_dir": str(tmp / "reports"),
        "asr_diagnostics_dir": str(tmp / "diagnostics"),
        "asr_force_reregister": True,
        "asr_workload_moved": True,
        "asr_decommission_hosts": "ps04",
        "asr_purge_from_configuration_server": True,
        "asr_preflight_fail_on_block": False,
        "asr_serial": 0,
    }
    vars_file = tmp / "secrets.json"
    vars_file.write_text(json.dumps(extra_vars), encoding="utf-8")
    runs: list[dict[str, Any]] = []
    mod_book = module_playbook(tmp / "modules.yml", str(installer))
    t0 = time.monotonic()
    with rh.served(tmp / "estate", "mixed", ps=4) as estate:
        inventory = estate.path / "inventory.yml"
        fileserver.publish(estate, PACKAGE_PATH, URL_PACKAGE)  # installer_url's file, behind a token
        fileserver.set_token(estate, URL_TOKEN)
        with estate.open_host("cs01") as cs:  # Unified Setup validates the passphrase live against the CS
            lab_products.set_cs_passphrase(cs, PASSPHRASE)
            # the configuration server's own database account (amethyst.conf DB_PASSWD), and a read-only account
            # given to registration_info with database_user/database_password
            lab_products.mysql_accounts(cs).update({"svsystems": CS_DATABASE_PASSWORD, "asr_ro": DATABASE_PASSWORD})
            lab_products.install_mysql(cs, lab_products.svsystems("D:\\"), None)
        winrm_passwords = sorted(
            {
                h["password"]
                for h in json.loads((estate.path / "estate.json").read_text())["hosts"].values()
                if isinstance(h, dict) and h.get("password")
            }
        )

        # One ANSIBLE_LOG_PATH and tree directory for every run, each run's share moved under its label when it ends
        # (the runs are one after the other): the log path is read when ansible-core is imported, so a path per run
        # would start an import server (tests/playbook_runner.py) per run. The log is opened for appending, so
        # emptying it after a run makes the next run's lines start at its beginning.
        log_path, tree_path = tmp / "logs" / "ansible.log", tmp / "tree" / "current"
        (tmp / "logs").mkdir(exist_ok=True)

        def keep_run_files(label: str) -> None:
            if log_path.exists():
                shutil.copyfile(log_path, tmp / "logs" / f"{label}.log")
                log_path.write_bytes(b"")
            if tree_path.exists():
                tree_path.rename(tmp / "tree" / label)

        def run(label: str, book: pathlib.Path, mode: str, *extra: str, fault: tuple | None = None) -> None:
            clear_faults(estate)
            if fault:
                set_fault(estate, *fault)
            env = rh.ansible_env(
                ANSIBLE_LOG_PATH=str(log_path),
                ANSIBLE_CALLBACKS_ENABLED="ansible.builtin.tree",
                ANSIBLE_CALLBACK_TREE_DIR=str(tree_path),
            )
            if mode == "check":  # the machine-readable view too: the json stdout callback
                env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
            args = ["-vvvv", "-e", f"@{vars_file}", *extra]
            if mode == "check":
                args += ["--check", "--diff"]
            proc = rh.playbook(book, inventory, *args, env=env)
            keep_run_files(label)
            runs.append(
                {
                    "label": label,
                    "book": book.name,
                    "mode": mode,
                    "rc": proc.returncode,
                    "fault": fault,
                    "console": proc.stdout + proc.stderr,
                }
            )

        # check mode first (the estate still has work to do), then faulted runs, then the real runs
        for name in present:
            run(f"{name}-check", rh.ROOT / "playbooks" / name, "check")
        run("modules-check", mod_book, "check")
        run(  # ps01 only: the other hosts keep their work for the playbook runs
            "modules-fault-installer-exit-1",
            mod_book,
            "fault",
            "--limit",
            "ps01",
            fault=("ps01", "installer_exit_code", 1),
        )
        run(
            "modules-fault-cs-unreachable", mod_book, "fault", "--limit", "ps02", fault=("ps02", "cs_unreachable", True)
        )
        # faults before the real runs, so setup and the procedures really run into them
        faults = {
            "site.yml": ("ps01", "installer_exit_code", 1),
            "reregister.yml": ("ps02", "cs_unreachable", True),
            "proxy.yml": ("ps02", "service_fails_to_start", "obengine"),
            "upgrade.yml": ("ps03", "installer_exit_code", 1),
        }
        for name, fault in faults.items():
            if name in present:
                extra = ("-e", "asr_proxy_update_password=always") if name == "proxy.yml" else ()
                run(f"{name}-fault-{fault[1]}", rh.ROOT / "playbooks" / name, "fault", *extra, fault=fault)
        for name in present:
            run(name, rh.ROOT / "playbooks" / name, "normal")
        run("modules", mod_book, "normal")
        clear_faults(estate)
        places = host_places(estate)
    for item in runs:
        places[f"console:{item['label']}"] = item["console"]
        log = tmp / "logs" / f"{item['label']}.log"
        places[f"ansible log:{item['label']}"] = (
            log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        )
        tree = tmp / "tree" / item["label"]
        places[f"tree callback:{item['label']}"] = (
            "\n".join(p.read_text(errors="replace") for p in sorted(tree.glob("*"))) if tree.exists() else ""
        )
    for name, folder in (("plan reports", tmp / "reports"), ("diagnostics files", tmp / "diagnostics")):
        places[name] = (
            "\n".join(p.read_text(errors="replace") for p in sorted(folder.glob("*"))) if folder.exists() else ""
        )
    return {
        "runs": runs,
        "places": places,
        "present": present,
        "missing": missing,
        "winrm": winrm_passwords,
        "seconds": time.monotonic() - t0,
    }


def test_every_playbook_and_mode_ran(scan):
    labels = {r["label"] for r in scan["runs"]}
    for name in scan["present"]:
        assert {name, f"{name}-check"} <= labels
    assert {"modules", "modules-check"} <= labels
    for r in scan["runs"]:  # each run reached its hosts (a recap, or the json callback's stats)
        assert "PLAY RECAP" in r["console"] or '"stats"' in r["console"], r["console"][-2000:]
        # and its own ansible log and tree callback files were kept to be searched (its playbook is named in its log)
        assert r["book"] in scan["places"][f"ansible log:{r['label']}"], r["label"]
        assert scan["places"][f"tree callback:{r['label']}"], r["label"]
    # diagnose.yml wrote its files, and the configuration server's read answered with its own database account
    assert '"answered": true' in scan["places"]["diagnostics files"], scan["places"]["diagnostics files"][-2000:]
    # the token reached the file server (it refuses a request without it): the staged download really used it
    assert '"token": "ok"' in scan["places"]["wire log:ps01"] and '"status": 200' in scan["places"]["wire log:ps01"]
    registry.fact(SECTION, "Playbooks scanned", ", ".join(scan["present"]) or "none")
    registry.fact(SECTION, "Playbooks missing", ", ".join(scan["missing"]) or "none")
    registry.fact(SECTION, "Modules run directly", ", ".join(sorted({t["module"] for t in module_tasks("x")})))
    modes: dict[str, int] = {}
    for r in scan["runs"]:
        modes[r["mode"]] = modes.get(r["mode"], 0) + 1
    registry.fact(SECTION, "Runs (ansible-playbook -vvvv)", ", ".join(f"{k}: {v}" for k, v in sorted(modes.items())))
    registry.fact(
        SECTION,
        "Faults injected",
        "; ".join(sorted({f"{r['fault'][1]}={r['fault'][2]} on {r['fault'][0]}" for r in scan["runs"] if r["fault"]})),
    )
    registry.fact(SECTION, "Exit code per run", ", ".join(f"{r['label']}={r['rc']}" for r in scan["runs"]))
    kinds = sorted({p.split(":", 1)[0] for p in scan["places"]})
    registry.fact(SECTION, "Places searched", ", ".join(kinds))


@pytest.mark.parametrize("secret_name", sorted(SECRETS))
def test_collection_secret_never_appears(scan, secret_name):
    secret = SECRETS[secret_name]
    found = []
    for place, text in scan["places"].items():
        kind = place.split(":", 1)[0]
        run_label = place.split(":", 1)[1] if ":" in place else "-"
        hits = [enc for enc, needle in encodings(secret).items() if needle in text]
        outcome = "failed" if hits else "passed"
        registry.record(SECTION, f"{secret_name} | {place}", outcome, group=f"{secret_name} in {kind}")
        if hits:
            found.append((place, hits, run_label))
    assert not found, found


def test_winrm_password_where_ansible_shows_it(scan):
    """The connection password is ansible's: record where ansible-core prints it (a finding, not a failure)."""
    shown = sorted(
        {place.split(":", 1)[0] for place, text in scan["places"].items() if any(pw in text for pw in scan["winrm"])}
    )
    registry.fact(
        SECTION,
        "WinRM password (ansible's own connection secret) seen in",
        (", ".join(shown) or "nowhere") + " ('host state (other)' is the lab's own record of its accounts)",
    )
    assert scan["winrm"], "the lab has no WinRM passwords to look for"
