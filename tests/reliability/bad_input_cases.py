"""The bad-input matrix as data: every row is one case test_bad_inputs.py runs (docs/reliability.md counts them).

A row is ``Case(id, target, args, expect)``:

* ``target``  ``module:<name>`` (an asr.process_server module task run by real ansible-playbook against the lab;
  the failure must come before ANY remote call), ``probe:<name>@<host>`` (a refusal that needs the host's
  installed version: the only remote call allowed is the read-only probe), ``filter:<name>`` (a playbook
  variable fed to the filter the playbooks use, run by ansible-playbook on localhost) or ``playbook:<file>``
  (the playbook itself run against the lab with the bad variable in ``-e``).
* ``args``    the module's arguments over its valid baseline (``None`` as a value removes the baseline
  option), the filter's input and arguments, or the playbook's extra variables.
* ``expect``  substrings the failure message must contain: the option's name and what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PASSPHRASE = "LabPassphrase0001"
CURRENT = "9.55.7123.1"
OLD = "9.53.6904.1"  # ps03 in the mixed seed
CS_IP = "10.0.0.11"
SHA = "ab" * 32  # a well-formed SHA-256

AZURE = {
    "resource_group": "rg-dr",
    "vault": "vault-dr",
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "tenant": "00000000-0000-0000-0000-000000000002",
    "client_id": "00000000-0000-0000-0000-000000000003",
    "secret": PASSPHRASE,  # kept out of every result like the passphrase
}

BASELINES: dict[str, dict[str, Any]] = {
    "install": {
        "configuration_server_ip": CS_IP,
        "passphrase": PASSPHRASE,
        "installer": "@INSTALLER@",
        "installer_version": CURRENT,
        "install_location": "D:\\",
        "env_type": "VMware",
    },
    "process_server": {
        "configuration_server_ip": CS_IP,
        "passphrase": PASSPHRASE,
        "installer": "@INSTALLER@",
        "installer_version": CURRENT,
        "install_location": "D:\\",
        "env_type": "VMware",
    },
    "upgrade": {"installer": "@INSTALLER@", "installer_version": CURRENT},
    "proxy": {"proxy_address": "http://proxy.corp.example", "proxy_port": 3128},
    "registration": {"configuration_server_ip": CS_IP, "passphrase": PASSPHRASE},
    "uninstall": {"workload_moved": True},
    "unregister": {"ip_address": "10.0.0.101"},
    "registration_info": {"ip_addresses": ["10.0.0.101"]},
    "info": {},
    # The Azure modules (lab/azure.py): these rows are refused before any request to Azure, so the credentials
    # are never used; tests/integration/test_azure_lab.py covers the refusals that need the vault read first.
    "switch_process_server": {**AZURE, "source": "PS01", "target": "PS03"},
    "vault_info": dict(AZURE),
}


@dataclass(frozen=True)
class Case:
    id: str
    target: str
    args: dict[str, Any]
    expect: tuple[str, ...]
    host: str = field(default="")
    must_fail: bool = True  # False: a report playbook that shows the error in its summary and exits 0
    known_issue: str = ""  # non-empty: the collection does not (yet) meet the expectation; run as xfail, reported
    before_survey: bool = False  # playbook case: refused before the playbook's survey task (no remote call)

    @property
    def kind(self) -> str:
        return self.target.split(":", 1)[0]

    @property
    def name(self) -> str:
        return self.target.split(":", 1)[1].split("@", 1)[0]


def _c(id_: str, target: str, args: dict[str, Any], *expect: str) -> Case:
    return Case(id_, target, args, tuple(expect))


def _b(id_: str, target: str, args: dict[str, Any], *expect: str) -> Case:
    """A playbook case refused before the playbook's first remote call (its survey task never starts)."""
    return Case(id_, target, args, tuple(expect), before_survey=True)


def _module(name: str) -> Callable[..., Case]:
    """Rows for ``module:<name>``: ``row(id, args, *expect)``."""
    return lambda id_, args, *expect: _c(id_, f"module:{name}", args, *expect)


def _playbook(name: str) -> Callable[..., Case]:
    """Rows for ``playbook:<name>`` refused before its survey task: ``row(id, extra_vars, *expect)``."""
    return lambda id_, extra_vars, *expect: _b(id_, f"playbook:{name}", extra_vars, *expect)


_install, _upgrade, _process_server = _module("install"), _module("upgrade"), _module("process_server")
_proxy, _registration, _uninstall = _module("proxy"), _module("registration"), _module("uninstall")
_unregister, _registration_info, _info = _module("unregister"), _module("registration_info"), _module("info")
_switch_process_server, _vault_info = _module("switch_process_server"), _module("vault_info")
_site_yml, _upgrade_yml, _proxy_yml = _playbook("site.yml"), _playbook("upgrade.yml"), _playbook("proxy.yml")
_reregister_yml, _decommission_yml = _playbook("reregister.yml"), _playbook("decommission.yml")
_plan_yml, _preflight_yml, _diagnose_yml = _playbook("plan.yml"), _playbook("preflight.yml"), _playbook("diagnose.yml")
_rebalance_yml = _playbook("rebalance.yml")


P = "http://proxy.corp.example"
LOAD = {"protected_machines": 10, "daily_churn_gb": 50}
CASES: list[Case] = [
    # ---- install: addresses, ports, paths, versions, secrets, combinations ---------------------------------
    _install("install-cs-ip-octet-300", {"configuration_server_ip": "10.0.0.300"}, "configuration_server_ip", "IPv4"),
    _install("install-cs-ip-ipv6", {"configuration_server_ip": "fe80::1"}, "configuration_server_ip", "IPv4"),
    _install("install-cs-ip-hostname", {"configuration_server_ip": "cs01.corp"}, "configuration_server_ip", "IPv4"),
    _install("install-cs-ip-three-octets", {"configuration_server_ip": "10.0.11"}, "configuration_server_ip", "IPv4"),
    _install("install-cs-ip-missing", {"configuration_server_ip": None}, "configuration_server_ip", "required"),
    _install("install-ps-ip-octet-300", {"process_server_ip": "300.1.1.1"}, "process_server_ip", "IPv4"),
    _install("install-data-port-443", {"data_port": 443}, "data_port", "443"),
    _install("install-data-port-0", {"data_port": 0}, "data_port", "1 to 65535"),
    _install("install-data-port-65536", {"data_port": 65536}, "data_port", "1 to 65535"),
    _install("install-data-port-string", {"data_port": "ninety"}, "data_port", "int"),
    _install("install-location-system-drive", {"install_location": "C:\\ASR"}, "install_location", "system drive"),
    _install("install-location-relative", {"install_location": "ASR\\bin"}, "install_location", "absolute"),
    _install("install-location-unc", {"install_location": "\\\\fs01\\share\\ASR"}, "install_location"),
    _install("install-location-missing", {"install_location": None}, "install_location", "required"),
    _install("install-env-type-unknown", {"env_type": "vmware-ish"}, "env_type", "VMware or NonVMware"),
    _install(
        "install-env-type-hyper-v", {"env_type": "Hyper-V"}, "env_type", "VMware or NonVMware, in any capitalisation"
    ),
    _install("install-env-type-empty", {"env_type": ""}, "env_type", "empty"),
    _install("install-passphrase-missing", {"passphrase": None}, "passphrase", "passphrase_file"),
    _install("install-passphrase-and-file", {"passphrase_file": "D:\\p.txt"}, "passphrase", "mutually exclusive"),
    _install("install-passphrase-two-lines", {"passphrase": "two\nlines"}, "passphrase", "one line"),
    _install("install-passphrase-file-relative", {"passphrase": None, "passphrase_file": "p.txt"}, "passphrase_file"),
    _install("install-installer-and-remote", {"installer_remote_path": "D:\\s.exe"}, "installer", "mutually exclusive"),
    _install("install-installer-missing", {"installer": None}, "installer", "installer_remote_path"),
    _install("install-installer-not-found", {"installer": "/nonexistent/setup.exe"}, "installer", "existing"),
    _install(
        "install-remote-path-relative",
        {"installer": None, "installer_remote_path": "setup.exe"},
        "installer_remote_path",
    ),
    _install("install-checksum-short", {"installer_checksum": "abc"}, "installer_checksum", "64 hexadecimal"),
    _install("install-checksum-mismatch", {"installer_checksum": "0" * 64}, "installer_checksum", "SHA-256"),
    _install("install-version-9.x", {"installer_version": "9.x"}, "installer_version", "dot-separated"),
    _install("install-version-abc", {"installer_version": "abc"}, "installer_version", "dot-separated"),
    _install(
        "install-cs-version-nine",
        {"configuration_server_version": "nine"},
        "configuration_server_version",
        "dot-separated",
    ),
    _install(
        "install-ps-above-cs",
        {"installer_version": "9.56.1.1", "configuration_server_version": CURRENT},
        "configuration_server_version",
        "newer than the configuration server",
    ),
    _install("install-proxy-no-scheme", {"proxy": {"address": "proxy.corp", "port": 3128}}, "proxy_address", "http://"),
    _install(
        "install-proxy-password-equals",
        {"proxy": {"address": P, "port": 3128, "username": "u", "password": "a=b"}},
        "proxy_password",
        "=",
    ),
    _install(
        "install-proxy-password-quote",
        {"proxy": {"address": P, "port": 3128, "username": "u", "password": 'a"b'}},
        "proxy_password",
    ),
    _install("install-proxy-port-0", {"proxy": {"address": P, "port": 0}}, "proxy_port", "1 to 65535"),
    _install("install-proxy-port-65536", {"proxy": {"address": P, "port": 65536}}, "proxy_port", "1 to 65535"),
    _install("install-proxy-port-missing", {"proxy": {"address": P}}, "port", "required"),
    _install("install-proxy-unknown-key", {"proxy": {"address": P, "port": 80, "pasword": "x"}}, "pasword", "address"),
    _install("install-staging-with-space", {"staging_dir": "C:\\Staging Area"}, "staging_dir", "without spaces"),
    _install("install-staging-relative", {"staging_dir": "staging"}, "staging_dir"),
    _install("install-staging-unc", {"staging_dir": "\\\\fs01\\stage"}, "staging_dir"),
    _install("install-setup-timeout-10", {"setup_timeout": 10}, "setup_timeout", "at least 60"),
    _install("install-poll-interval-0", {"poll_interval": 0}, "poll_interval", "1 to 600"),
    _install("install-reboot-not-bool", {"reboot": "perhaps"}, "reboot", "bool"),
    _install("install-unknown-option", {"bogus": 1}, "bogus", "Supported parameters"),
    _install("install-skip-space-list", {"skip_space_check": [1]}, "skip_space_check", "bool"),
    # ---- upgrade --------------------------------------------------------------------------------------------
    _upgrade("upgrade-installers-no-version", {"installers": [{"path": "x.exe"}]}, "version", "required"),
    _upgrade(
        "upgrade-installers-bad-version",
        {"installers": [{"remote_path": "D:\\a.exe", "version": "v9"}]},
        "installers[0].version",
        "dot-separated",
    ),
    _upgrade("upgrade-installers-no-path", {"installers": [{"version": "9.51.1.1"}]}, "path", "remote_path"),
    _upgrade("upgrade-checksum-bad", {"installer_checksum": "xyz"}, "installer_checksum", "64 hexadecimal"),
    _upgrade("upgrade-reboot-timeout-5", {"reboot_timeout": 5}, "reboot_timeout", "at least 60"),
    _upgrade("upgrade-version-9.x", {"installer_version": "9.x"}, "installer_version", "dot-separated"),
    _upgrade(
        "upgrade-ps-above-cs",
        {"installer_version": "9.56.1.1", "configuration_server_version": CURRENT},
        "configuration_server_version",
        "newer than the configuration server",
    ),
    _upgrade("upgrade-server-role-unknown", {"server_role": "master_target"}, "server_role", "auto"),
    _upgrade(
        "upgrade-eula-on-process-server",
        {"server_role": "process_server", "accept_third_party_eula": True},
        "accept_third_party_eula",
        "configuration server",
    ),
    _upgrade("upgrade-unknown-option", {"install_location": "D:\\"}, "install_location", "Supported parameters"),
    # ---- proxy ----------------------------------------------------------------------------------------------
    _proxy("proxy-state-unknown", {"state": "gone"}, "state", "present, absent"),
    _proxy("proxy-update-password-unknown", {"update_password": "sometimes"}, "update_password", "always, on_change"),
    _proxy("proxy-address-no-scheme", {"proxy_address": "proxy.corp"}, "proxy_address", "http://"),
    _proxy("proxy-port-0", {"proxy_port": 0}, "proxy_port", "1 to 65535"),
    _proxy("proxy-port-65536", {"proxy_port": 65536}, "proxy_port", "1 to 65535"),
    _proxy("proxy-port-string", {"proxy_port": "eighty"}, "proxy_port", "int"),
    _proxy("proxy-port-missing", {"proxy_port": None}, "proxy_port"),
    _proxy("proxy-username-without-password", {"proxy_username": "u"}, "proxy_password"),
    _proxy("proxy-password-quote", {"proxy_username": "u", "proxy_password": 'a"b'}, "proxy_password", "without"),
    _proxy("proxy-password-equals", {"proxy_username": "u", "proxy_password": "p=q"}, "proxy_password", "="),
    _proxy("proxy-absent-with-port", {"state": "absent", "proxy_address": None}, "proxy_port", "state=absent"),
    _proxy("proxy-settings-file-relative", {"settings_file": "p.conf"}, "settings_file", "absolute Windows path"),
    _proxy("proxy-settings-file-unc", {"settings_file": "\\\\fs01\\p.conf"}, "settings_file"),
    # ---- registration / uninstall / unregister ------------------------------------------------------------------
    _registration(
        "registration-cs-ip-octet-300", {"configuration_server_ip": "10.0.0.300"}, "configuration_server_ip", "IPv4"
    ),
    _registration("registration-force-not-bool", {"force": "perhaps"}, "force", "bool"),
    _process_server("ps-passphrase-missing", {"passphrase": None}, "passphrase", "passphrase_file"),
    _upgrade("upgrade-installer-missing", {"installer": None}, "installer", "installer_remote_path"),
    _registration(
        "registration-cs-port-string", {"configuration_server_port": "https"}, "configuration_server_port", "int"
    ),
    _uninstall("uninstall-workload-moved-not-bool", {"workload_moved": "maybe"}, "workload_moved", "bool"),
    _uninstall("uninstall-keep-mars-list", {"keep_mars_agent": [1]}, "keep_mars_agent", "bool"),
    _unregister("unregister-ip-missing", {"ip_address": None}, "ip_address", "required"),
    _unregister("unregister-ip-hostname", {"ip_address": "ps01.corp"}, "ip_address", "IPv4"),
    _unregister("unregister-force-not-bool", {"force": "no way"}, "force", "bool"),
    _c(  # removed: a purge module never lists (issue 10 item 1); registration_info reads the heartbeats
        "unregister-ip-addresses-removed",
        "module:unregister",
        {"ip_addresses": ["10.0.0.101"]},
        "ip_addresses",
        "Supported parameters",
    ),
    _unregister(
        "unregister-db-user-without-password",
        {"database_user": "asr_ro"},
        "database_user",
        "database_password",
        "together",
    ),
    _registration_info("reginfo-ip-hostname", {"ip_addresses": ["ps01.corp"]}, "ip_addresses", "IPv4"),
    _registration_info("reginfo-ips-empty", {"ip_addresses": []}, "ip_addresses", "empty"),
    _registration_info(
        "reginfo-db-user-empty", {"database_user": "", "database_password": "Ro-Pw#1"}, "database_user", "empty"
    ),
    # ---- where the package comes from (issue 12): installer_url, a UNC installer_remote_path, the checksum ----------
    _install(
        "install-url-ftp",
        {"installer": None, "installer_url": "ftp://files.corp.example/asr/setup.exe", "installer_checksum": SHA},
        "installer_url",
        "http:// or https://",
    ),
    _install(
        "install-url-credentials",
        {"installer": None, "installer_url": "https://svc:Url-Pw-1@files.corp/x.exe", "installer_checksum": SHA},
        "installer_url",
        "without user name or password",
    ),
    _install(
        "install-url-no-checksum",
        {"installer": None, "installer_url": "https://files.corp.example/asr/setup.exe"},
        "installer_checksum",
        "installer_url makes the host fetch",
        "asr_installer_checksum",
    ),
    _install(
        "install-url-checksum-short",
        {"installer": None, "installer_url": "https://files.corp.example/a.exe", "installer_checksum": "ab" * 31},
        "installer_checksum",
        "64 hexadecimal",
    ),
    _install("install-url-empty", {"installer": None, "installer_url": ""}, "installer_url", "empty"),
    _install(
        "install-url-and-installer",
        {"installer_url": "https://files.corp.example/a.exe"},
        "installer_url",
        "mutually exclusive",
    ),
    _c(
        "install-unc-relative",
        "module:install",
        {"installer": None, "installer_remote_path": "\\server\\share\\setup.exe"},  # one backslash: not UNC
        "installer_remote_path",
        "UNC path",
    ),
    _install(
        "install-unc-no-file",
        {"installer": None, "installer_remote_path": "\\\\server\\share", "installer_checksum": SHA},
        "installer_remote_path",
        "the file",
    ),
    _install(
        "install-unc-no-checksum",
        {"installer": None, "installer_remote_path": "\\\\server\\share\\setup.exe"},
        "installer_checksum",
        "copy from a file share",
    ),
    _upgrade(
        "upgrade-url-https-only",
        {"installer": None, "installer_url": "file:///C:/setup.exe", "installer_checksum": SHA},
        "installer_url",
        "http:// or https://",
    ),
    _upgrade(
        "upgrade-hop-url-no-checksum",
        {"installers": [{"url": "https://files.corp.example/9.53.exe", "version": "9.53.6904.1"}]},
        "installers[0].checksum",
        "required",
    ),
    _process_server(
        "ps-staged-local-path",
        {"state": "staged", "installer": None, "installer_remote_path": "D:\\Media\\setup.exe"},
        "installer_remote_path",
        "nothing to stage",
    ),
    _process_server("ps-staged-no-source", {"state": "staged", "installer": None}, "installer_url", "state is staged"),
    # ---- process_server: mutually exclusive / conditional options --------------------------------------------
    _process_server("ps-state-unknown", {"state": "installed"}, "state", "present, latest, absent"),
    _process_server(
        "ps-present-without-cs-ip", {"configuration_server_ip": None}, "configuration_server_ip", "present"
    ),
    _process_server(
        "ps-installer-and-remote", {"installer_remote_path": "D:\\s.exe"}, "installer", "mutually exclusive"
    ),
    _process_server(
        "ps-installers-without-latest",
        {"installers": [{"remote_path": "D:\\a.exe", "version": "9.51.6712.1"}]},
        "installers",
        "latest",
    ),
    _process_server(
        "ps-absent-with-proxy", {"state": "absent", "proxy": {"address": P, "port": 3128}}, "proxy", "absent"
    ),
    _process_server(
        "ps-absent-with-force-reregister", {"state": "absent", "force_reregister": True}, "force_reregister", "absent"
    ),
    _process_server("ps-data-port-443", {"data_port": 443}, "data_port", "443"),
    _process_server("ps-env-type-physical", {"env_type": "Physical"}, "env_type", "VMware or NonVMware"),
    _process_server(
        "ps-proxy-password-quote",
        {"proxy": {"address": P, "port": 80, "username": "u", "password": 'x"y'}},
        "proxy.password",
    ),
    # ---- info -------------------------------------------------------------------------------------------------
    _info("info-cs-port-0", {"configuration_server_port": 0}, "configuration_server_port", "1 to 65535"),
    _info("info-cs-port-65536", {"configuration_server_port": 65536}, "configuration_server_port", "1 to 65535"),
    _info("info-connect-timeout-string", {"connect_timeout": "soon"}, "connect_timeout", "int"),
    _info("info-log-tail-negative", {"log_tail_lines": -1}, "log_tail_lines"),
    _info("info-cs-ip-bad", {"configuration_server_ip": "10.0.0.256"}, "configuration_server_ip", "IPv4"),
    _info(
        "info-diagnose-package-relative",
        {"diagnose": True, "installer_path": "Media\\setup.exe"},
        "installer_path",
        "absolute path on a drive letter",
    ),
    _info("info-diagnose-not-bool", {"diagnose": "sometimes"}, "diagnose", "bool"),
    # ---- refusals that need the installed version: only the read-only probe may run -----------------------------
    Case("upgrade-downgrade", "probe:upgrade", {"installer_version": OLD}, ("downgrade",), host="ps02"),
    Case(
        "upgrade-n-minus-4",
        "probe:upgrade",
        {"installer_version": "9.58.1.1", "configuration_server_version": "9.58.1.1"},
        ("N-4",),
        host="ps03",
    ),
    Case(
        "ps-latest-n-minus-4",
        "probe:process_server",
        {"state": "latest", "installer_version": "9.58.1.1", "configuration_server_version": "9.58.1.1"},
        ("N-4",),
        host="ps03",
    ),
    # ---- playbook variables through the filters the playbooks use (controller side) ----------------------------
    _c(
        "sizing-zero-vcpu",
        "filter:process_server_sizing",
        {"facts": {"vcpus": 0, "memory_gb": 16, "cache_disk_gb": 600, "cache_free_gb": 600, "retention_free_gb": 600}},
        "vcpus",
    ),
    _c(
        "sizing-negative-memory",
        "filter:process_server_sizing",
        {"facts": {"vcpus": 8, "memory_gb": -1, "cache_disk_gb": 600, "cache_free_gb": 600, "retention_free_gb": 600}},
        "memory_gb",
    ),
    _c(
        "sizing-negative-churn",
        "filter:process_server_sizing",
        {
            "facts": {
                "vcpus": 8,
                "memory_gb": 16,
                "cache_disk_gb": 600,
                "cache_free_gb": 600,
                "retention_free_gb": 600,
            },
            "load": {"protected_machines": 10, "daily_churn_gb": -5},
        },
        "daily_churn_gb",
    ),
    _c(
        "sizing-negative-machines",
        "filter:process_server_sizing",
        {
            "facts": {
                "vcpus": 8,
                "memory_gb": 16,
                "cache_disk_gb": 600,
                "cache_free_gb": 600,
                "retention_free_gb": 600,
            },
            "load": {"protected_machines": -1, "daily_churn_gb": 5},
        },
        "protected_machines",
    ),
    _c("sizing-unknown-key", "filter:process_server_sizing", {"facts": {"cpus": 8}}, "cpus", "vcpus"),
    _c("sizing-facts-not-dict", "filter:process_server_sizing", {"facts": "big"}, "facts", "dictionary"),
    _c(
        "fleet-plan-machine-on-another-cs",
        "filter:fleet_plan",
        {
            "machines": [
                {
                    "name": "vm1",
                    "daily_churn_gb": 5,
                    "current_process_server": "ps01",
                    "configuration_server": "10.0.0.12",
                }
            ],
            "servers": [{"name": "ps01", "tier": "large", "configuration_server": "10.0.0.11"}],
        },
        "configuration_server",
        "10.0.0.11, the configuration server of its current process server",
    ),
    _c(
        "fleet-plan-server-cs-empty",
        "filter:fleet_plan",
        {"machines": [], "servers": [{"name": "ps01", "tier": "large", "configuration_server": ""}]},
        "configuration_server",
        "non-empty",
    ),
    _c(
        "fleet-plan-negative-churn",
        "filter:fleet_plan",
        {"machines": [{"name": "m1", "daily_churn_gb": -1}], "servers": []},
        "daily_churn_gb",
    ),
    _c(
        "fleet-plan-utilisation-above-1",
        "filter:fleet_plan",
        {"machines": [], "servers": [], "max_utilisation": 1.5},
        "max_utilisation",
    ),
    _c(
        "fleet-plan-unknown-tier",
        "filter:fleet_plan",
        {"machines": [], "servers": [], "new_server_tier": "huge"},
        "tier",
        "'small', 'medium', 'large'",
    ),
    _c(
        "fleet-plan-unknown-option",
        "filter:fleet_plan",
        {"machines": [], "servers": [], "max_utilization": 0.5},
        "max_utilization",
        "max_utilisation",
    ),
    # ---- the playbooks themselves, with the bad variable in -e -------------------------------------------------
    _plan_yml(
        "plan-negative-churn",
        {"asr_planned_load": {"protected_machines": 10, "daily_churn_gb": -5}},
        "daily_churn_gb",
        "at least 0",
    ),
    _plan_yml(
        "plan-negative-machines",
        {"asr_planned_load": {"protected_machines": -3, "daily_churn_gb": 5}},
        "protected_machines",
    ),
    # plan.yml refuses a bad planning variable before any remote call (and writes no report): a plan made from
    # a bad input is not a plan
    _plan_yml(
        "plan-utilisation-zero",
        {"asr_planned_load": LOAD, "asr_max_utilisation": 0},
        "asr_max_utilisation",
        "greater than 0",
    ),
    _plan_yml(
        "plan-unknown-tier",
        {"asr_planned_load": LOAD, "asr_new_server_tier": "huge"},
        "asr_new_server_tier",
        "'small', 'medium', 'large'",
    ),
    _plan_yml(
        "plan-unknown-tier-no-load",
        {"asr_new_server_tier": "huge"},
        "asr_new_server_tier",
        "'small', 'medium', 'large'",
    ),
    # valid inputs the fleet cannot be planned from: the report is written (its summary shows the error), then
    # the playbook fails with the planner's message
    _c(
        "plan-machine-over-2tb",
        "playbook:plan.yml",
        {"asr_source_machines": [{"name": "bigvm", "daily_churn_gb": 3000}]},
        "fleet plan: daily_churn_gb: source machine 'bigvm' (3000 GB/day) cannot be protected",
        "No fleet plan: daily_churn_gb",
        "at most 2048 GB/day",
        ".json (and .html) shows what was surveyed",
    ),
    _c(
        "preflight-location-system-drive",
        "playbook:preflight.yml",
        {"asr_install_location": "C:\\ASR"},
        "install location",
        "system drive",
    ),
    _diagnose_yml(
        "diagnose-package-relative",
        {"asr_installer_remote_path": "Media\\setup.exe"},
        "asr_installer_remote_path",
        "absolute path on a drive letter",
    ),
    _diagnose_yml("diagnose-dir-empty", {"asr_diagnostics_dir": ""}, "asr_diagnostics_dir", "empty"),
    _preflight_yml(
        "preflight-location-relative",
        {"asr_install_location": "ASR"},
        "asr_install_location",
        "an absolute path on a local fixed drive",
        "Relative",
    ),
    _preflight_yml(
        "preflight-location-unc", {"asr_install_location": "\\\\fs01\\share\\ASR"}, "asr_install_location", "UNC"
    ),
    _preflight_yml(
        "preflight-installer-version-9.x",
        {"asr_installer_version": "9.x"},
        "asr_installer_version",
        "dot-separated numbers, such as 9.55.7123.1",
    ),
    _preflight_yml(
        "preflight-env-type-hyper-v",
        {"asr_env_type": "Hyper-V"},
        "asr_env_type",
        "VMware or NonVMware, in any capitalisation",
    ),
    # Microsoft's own spelling passes the variable check (the survey runs); the system drive is what blocks.
    _c(
        "preflight-env-type-microsoft-spelling",
        "playbook:preflight.yml",
        {"asr_env_type": "VMWare", "asr_install_location": "C:\\ASR"},
        "TASK [Survey the host",
        "system drive",
    ),
    # ---- every fleet playbook checks the asr_* variables it reads before any remote call (issue 10, item 3) --------
    # (playbooks/check_variables.yml, imported first; these rows run with cleared journals that must stay empty)
    _site_yml("site-serial-zero-percent", {"asr_serial": "0%"}, "asr_serial", "1% to 100%"),
    _site_yml("site-serial-zero", {"asr_serial": 0}, "asr_serial", "every host at once"),
    _site_yml("site-serial-abc", {"asr_serial": "abc"}, "asr_serial", "a positive integer"),
    _site_yml("site-serial-empty", {"asr_serial": ""}, "asr_serial", "empty"),
    _site_yml("site-serial-list-with-zero", {"asr_serial": [1, 0]}, "asr_serial[1]", "a list of those"),
    _site_yml("site-serial-101-percent", {"asr_serial": "101%"}, "asr_serial", "1% to 100%"),
    _site_yml("site-max-fail-101", {"asr_max_fail_percentage": 101}, "asr_max_fail_percentage", "0 to 100"),
    _site_yml("site-max-fail-abc", {"asr_max_fail_percentage": "abc"}, "asr_max_fail_percentage", "0 to 100"),
    _site_yml("site-data-port-443", {"asr_data_port": 443}, "asr_data_port", "other than 443", "data_port"),
    _site_yml("site-env-type-unknown", {"asr_env_type": "vmware-ish"}, "asr_env_type", "VMware or NonVMware"),
    _site_yml(
        "site-cs-ip-octet-300", {"asr_configuration_server_ip": "10.0.0.300"}, "asr_configuration_server_ip", "IPv4"
    ),
    _site_yml("site-cs-ip-empty", {"asr_configuration_server_ip": ""}, "asr_configuration_server_ip", "empty"),
    _site_yml(
        "site-install-location-system-drive",
        {"asr_install_location": "C:\\ASR"},
        "asr_install_location",
        "system drive",
    ),
    _site_yml(
        "site-proxy-no-scheme", {"asr_proxy": {"address": "proxy.corp", "port": 3128}}, "asr_proxy.address", "http://"
    ),
    _site_yml(
        "site-proxy-unknown-key",
        {"asr_proxy": {"address": P, "port": 80, "pasword": "x"}},
        "asr_proxy.pasword",
        "address, port",
    ),
    _site_yml(
        "site-installers-bad-version",
        {"asr_installers": [{"remote_path": "D:\\a.exe", "version": "v9"}]},
        "asr_installers[0].version",
        "dot-separated",
    ),
    _site_yml(
        "site-installer-and-remote",
        {"asr_installer": "files/setup.exe", "asr_installer_remote_path": "D:\\s.exe"},
        "asr_installer",
        "asr_installer_remote_path",
        "Both are set",
    ),
    _site_yml("site-poll-interval-0", {"asr_poll_interval": 0}, "asr_poll_interval", "1 to 600"),
    _site_yml(
        "site-installer-url-ftp",
        {"asr_installer_url": "ftp://files.corp.example/a.exe", "asr_installer_checksum": SHA},
        "asr_installer_url",
        "http:// or https://",
    ),
    _site_yml(
        "site-installer-url-no-checksum",
        {"asr_installer_url": "https://files.corp.example/a.exe"},
        "asr_installer_checksum",
        "fetch the package itself",
    ),
    _site_yml(
        "site-installer-url-credentials",
        {"asr_installer_url": "https://svc:Url-Pw-1@files.corp/x.exe", "asr_installer_checksum": SHA},
        "asr_installer_url",
        "without user name or password",
    ),
    _b(
        "site-remote-path-relative-unc",
        "playbook:site.yml",
        {"asr_installer_remote_path": "\\server\\share\\setup.exe", "asr_installer_checksum": SHA},  # one backslash
        "asr_installer_remote_path",
        "UNC path",
    ),
    _site_yml("site-stage-batch-0", {"asr_stage_batch": 0}, "asr_stage_batch", "every host at once"),
    _site_yml("site-setup-timeout-10", {"asr_setup_timeout": 10}, "asr_setup_timeout", "at least 60"),
    _site_yml("site-state-unknown", {"asr_state": "installed"}, "asr_state", "present, latest, absent"),
    _site_yml(
        "site-verify-heartbeat-unknown",
        {"asr_verify_heartbeat": "sometimes"},
        "asr_verify_heartbeat",
        "always, changed, never",
    ),
    _site_yml("site-reboot-not-bool", {"asr_reboot": "perhaps"}, "asr_reboot", "true or false"),
    _site_yml("site-passphrase-two-lines", {"asr_passphrase": "two\nlines"}, "asr_passphrase", "one line"),
    _site_yml("site-checksum-short", {"asr_installer_checksum": "abc"}, "asr_installer_checksum", "64 hexadecimal"),
    _site_yml("site-ip-hostname", {"asr_ip": "ps01.corp"}, "asr_ip", "IPv4"),
    _site_yml("site-installer-version-float", {"asr_installer_version": 9.55}, "asr_installer_version", "Quote it"),
    _upgrade_yml("upgrade-serial-abc", {"asr_serial": "abc"}, "asr_serial", "a positive integer"),
    _upgrade_yml(
        "upgrade-eula-not-bool",
        {"asr_accept_third_party_eula": "maybe"},
        "asr_accept_third_party_eula",
        "true or false",
    ),
    _upgrade_yml(
        "upgrade-playbook-installers-no-path",
        {"asr_installers": [{"version": "9.51.6712.1"}]},
        "asr_installers[0]",
        "exactly one of path, url and remote_path",
    ),
    _proxy_yml("proxy-serial-zero-percent", {"asr_serial": "0%"}, "asr_serial", "1% to 100%"),
    _proxy_yml(
        "proxy-update-password-unknown-variable",
        {"asr_proxy_update_password": "sometimes"},
        "asr_proxy_update_password",
        "always, on_change",
    ),
    _proxy_yml(
        "proxy-settings-file-relative-variable",
        {"asr_proxy_settings_file": "p.conf"},
        "asr_proxy_settings_file",
        "Relative",
    ),
    _reregister_yml("reregister-serial-zero", {"asr_serial": 0}, "asr_serial", "a positive integer"),
    _reregister_yml(
        "reregister-force-not-bool", {"asr_force_reregister": "perhaps"}, "asr_force_reregister", "true or false"
    ),
    _decommission_yml("decommission-hosts-empty", {"asr_decommission_hosts": ""}, "asr_decommission_hosts", "empty"),
    _decommission_yml(
        "decommission-workload-moved-not-bool", {"asr_workload_moved": "maybe"}, "asr_workload_moved", "true or false"
    ),
    _plan_yml("plan-report-dir-empty", {"asr_report_dir": ""}, "asr_report_dir", "empty"),
    _preflight_yml(
        "preflight-cs-ip-hostname", {"asr_configuration_server_ip": "cs01.corp"}, "asr_configuration_server_ip", "IPv4"
    ),
    _preflight_yml(
        "preflight-fail-on-block-not-bool",
        {"asr_preflight_fail_on_block": "maybe"},
        "asr_preflight_fail_on_block",
        "true or false",
    ),
    # ---- rebalance.yml (the lab's vault): the moves are checked when cut (no call to Azure), then every batch
    # against one read of the vault before the first Switch; tests/integration/test_rebalance_lab.py checks that
    # no Switch was sent and nothing moved
    _rebalance_yml(
        "rebalance-source-is-target",
        {"asr_rebalance_moves": [{"machine": "VM1", "from_server": "ps02", "to_server": "PS02"}]},
        "asr_rebalance_moves[0].to_server",
        "a process server other than from_server",
    ),
    _rebalance_yml(
        "rebalance-move-machine-empty",
        {"asr_rebalance_moves": [{"machine": "", "from_server": "ps02", "to_server": "ps03"}]},
        "asr_rebalance_moves[0]",
        "a list of moves, each a mapping with machine, from_server, to_server",
    ),
    _rebalance_yml(
        "rebalance-batch-size-zero",
        {"asr_rebalance_moves": [], "asr_rebalance_batch_size": 0},
        "asr_rebalance_batch_size",
        "at least 1",
    ),
    _c(
        "rebalance-machine-not-protected",
        "playbook:rebalance.yml",
        {"asr_rebalance_moves": [{"machine": "NOSUCHVM", "from_server": "ps02", "to_server": "ps03"}]},
        "Nothing was moved",
        "batch 1 (ps02 -> ps03)",
        "'NOSUCHVM' is not a protected machine of CS01",
    ),
    _c(
        "rebalance-unknown-process-server",
        "playbook:rebalance.yml",
        {"asr_rebalance_moves": [{"machine": "VM1", "from_server": "ps02", "to_server": "ps09"}]},
        "Nothing was moved",
        "target: configuration server CS01 has no process server 'ps09'",
    ),
    _c(
        "rebalance-unknown-configuration-server",
        "playbook:rebalance.yml",
        {
            "asr_rebalance_moves": [{"machine": "VM1", "from_server": "ps02", "to_server": "ps03"}],
            "asr_rebalance_configuration_server": "CS09",
        },
        "asr_rebalance_configuration_server",
        "the vault has no configuration server 'CS09'",
    ),
    _b(
        "decommission-drain-to-itself",
        "playbook:decommission.yml",
        {"asr_decommission_hosts": "ps01", "asr_drain_to": "PS01"},
        "asr_drain_to: ps01 is not allowed",
        "a process server that stays",
    ),
    _b(
        "decommission-drain-tier-unknown",
        "playbook:decommission.yml",
        {"asr_decommission_hosts": "ps01", "asr_drain_to": "ps02", "asr_drain_target_tier": "huge"},
        "asr_drain_target_tier",
        "small, medium, large",
    ),
    _b(
        "plan-load-source-unknown",
        "playbook:plan.yml",
        {"asr_load_source": "portal"},
        "asr_load_source",
        "inventory, vault",
    ),
    # ---- the Azure modules: refused before any request to Azure -------------------------------------------
    _switch_process_server("switch-same-target", {"target": "ps01"}, "target", "other than the source"),
    _switch_process_server("switch-source-empty", {"source": " "}, "source", "It is empty"),
    _switch_process_server("switch-machines-empty", {"machines": []}, "machines", "non-empty list"),
    _switch_process_server("switch-machine-empty", {"machines": ["VM1", ""]}, "machines[1]", "empty"),
    _switch_process_server("switch-tier-unknown", {"target_tier": "huge"}, "target_tier", "large"),
    _switch_process_server(
        "switch-tier-and-limit",
        {"target_tier": "small", "target_max_machines": 50},
        "target_tier",
        "target_max_machines",
    ),
    _switch_process_server("switch-limit-zero", {"target_max_machines": 0}, "target_max_machines", "at least 1"),
    _switch_process_server("switch-health", {"target_health": "Critical"}, "target_health", "Warning"),
    _switch_process_server("switch-timeout-zero", {"wait_timeout": 0}, "wait_timeout", "at least 1"),
    _switch_process_server("switch-no-vault", {"vault": None}, "vault", "required"),
    _vault_info("vault-fabric-empty", {"fabric": ""}, "fabric", "It is empty"),
    _switch_process_server("switch-target-empty", {"target": ""}, "target", "It is empty"),
    _switch_process_server("switch-cs-empty", {"configuration_server": " "}, "configuration_server", "It is empty"),
    _vault_info("vault-auth-source", {"auth_source": "token"}, "auth_source", "credential_file"),
    _vault_info("vault-cloud", {"cloud_environment": "AzureMars"}, "cloud_environment", "AzureChinaCloud"),
    _vault_info("vault-no-subscription", {"subscription_id": None, "auth_source": "cli"}, "subscription_id", "empty"),
]
