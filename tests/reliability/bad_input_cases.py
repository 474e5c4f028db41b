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


P = "http://proxy.corp.example"
LOAD = {"protected_machines": 10, "daily_churn_gb": 50}
CASES: list[Case] = [
    # ---- install: addresses, ports, paths, versions, secrets, combinations ---------------------------------
    _c(
        "install-cs-ip-octet-300",
        "module:install",
        {"configuration_server_ip": "10.0.0.300"},
        "configuration_server_ip",
        "IPv4",
    ),
    _c(
        "install-cs-ip-ipv6",
        "module:install",
        {"configuration_server_ip": "fe80::1"},
        "configuration_server_ip",
        "IPv4",
    ),
    _c(
        "install-cs-ip-hostname",
        "module:install",
        {"configuration_server_ip": "cs01.corp"},
        "configuration_server_ip",
        "IPv4",
    ),
    _c(
        "install-cs-ip-three-octets",
        "module:install",
        {"configuration_server_ip": "10.0.11"},
        "configuration_server_ip",
        "IPv4",
    ),
    _c(
        "install-cs-ip-missing",
        "module:install",
        {"configuration_server_ip": None},
        "configuration_server_ip",
        "required",
    ),
    _c("install-ps-ip-octet-300", "module:install", {"process_server_ip": "300.1.1.1"}, "process_server_ip", "IPv4"),
    _c("install-data-port-443", "module:install", {"data_port": 443}, "data_port", "443"),
    _c("install-data-port-0", "module:install", {"data_port": 0}, "data_port", "1 to 65535"),
    _c("install-data-port-65536", "module:install", {"data_port": 65536}, "data_port", "1 to 65535"),
    _c("install-data-port-string", "module:install", {"data_port": "ninety"}, "data_port", "int"),
    _c(
        "install-location-system-drive",
        "module:install",
        {"install_location": "C:\\ASR"},
        "install_location",
        "system drive",
    ),
    _c("install-location-relative", "module:install", {"install_location": "ASR\\bin"}, "install_location", "absolute"),
    _c("install-location-unc", "module:install", {"install_location": "\\\\fs01\\share\\ASR"}, "install_location"),
    _c("install-location-missing", "module:install", {"install_location": None}, "install_location", "required"),
    _c("install-env-type-unknown", "module:install", {"env_type": "vmware-ish"}, "env_type", "VMware or NonVMware"),
    _c(
        "install-env-type-hyper-v",
        "module:install",
        {"env_type": "Hyper-V"},
        "env_type",
        "VMware or NonVMware, in any capitalisation",
    ),
    _c("install-env-type-empty", "module:install", {"env_type": ""}, "env_type", "empty"),
    _c("install-passphrase-missing", "module:install", {"passphrase": None}, "passphrase", "passphrase_file"),
    _c(
        "install-passphrase-and-file",
        "module:install",
        {"passphrase_file": "D:\\p.txt"},
        "passphrase",
        "mutually exclusive",
    ),
    _c("install-passphrase-two-lines", "module:install", {"passphrase": "two\nlines"}, "passphrase", "one line"),
    _c(
        "install-passphrase-file-relative",
        "module:install",
        {"passphrase": None, "passphrase_file": "p.txt"},
        "passphrase_file",
    ),
    _c(
        "install-installer-and-remote",
        "module:install",
        {"installer_remote_path": "D:\\s.exe"},
        "installer",
        "mutually exclusive",
    ),
    _c("install-installer-missing", "module:install", {"installer": None}, "installer", "installer_remote_path"),
    _c(
        "install-installer-not-found",
        "module:install",
        {"installer": "/nonexistent/setup.exe"},
        "installer",
        "existing",
    ),
    _c(
        "install-remote-path-relative",
        "module:install",
        {"installer": None, "installer_remote_path": "setup.exe"},
        "installer_remote_path",
    ),
    _c(
        "install-checksum-short",
        "module:install",
        {"installer_checksum": "abc"},
        "installer_checksum",
        "64 hexadecimal",
    ),
    _c(
        "install-checksum-mismatch", "module:install", {"installer_checksum": "0" * 64}, "installer_checksum", "SHA-256"
    ),
    _c("install-version-9.x", "module:install", {"installer_version": "9.x"}, "installer_version", "dot-separated"),
    _c("install-version-abc", "module:install", {"installer_version": "abc"}, "installer_version", "dot-separated"),
    _c(
        "install-cs-version-nine",
        "module:install",
        {"configuration_server_version": "nine"},
        "configuration_server_version",
        "dot-separated",
    ),
    _c(
        "install-ps-above-cs",
        "module:install",
        {"installer_version": "9.56.1.1", "configuration_server_version": CURRENT},
        "configuration_server_version",
        "newer than the configuration server",
    ),
    _c(
        "install-proxy-no-scheme",
        "module:install",
        {"proxy": {"address": "proxy.corp", "port": 3128}},
        "proxy_address",
        "http://",
    ),
    _c(
        "install-proxy-password-equals",
        "module:install",
        {"proxy": {"address": P, "port": 3128, "username": "u", "password": "a=b"}},
        "proxy_password",
        "=",
    ),
    _c(
        "install-proxy-password-quote",
        "module:install",
        {"proxy": {"address": P, "port": 3128, "username": "u", "password": 'a"b'}},
        "proxy_password",
    ),
    _c("install-proxy-port-0", "module:install", {"proxy": {"address": P, "port": 0}}, "proxy_port", "1 to 65535"),
    _c(
        "install-proxy-port-65536",
        "module:install",
        {"proxy": {"address": P, "port": 65536}},
        "proxy_port",
        "1 to 65535",
    ),
    _c("install-proxy-port-missing", "module:install", {"proxy": {"address": P}}, "port", "required"),
    _c(
        "install-proxy-unknown-key",
        "module:install",
        {"proxy": {"address": P, "port": 80, "pasword": "x"}},
        "pasword",
        "address",
    ),
    _c(
        "install-staging-with-space",
        "module:install",
        {"staging_dir": "C:\\Staging Area"},
        "staging_dir",
        "without spaces",
    ),
    _c("install-staging-relative", "module:install", {"staging_dir": "staging"}, "staging_dir"),
    _c("install-staging-unc", "module:install", {"staging_dir": "\\\\fs01\\stage"}, "staging_dir"),
    _c("install-setup-timeout-10", "module:install", {"setup_timeout": 10}, "setup_timeout", "at least 60"),
    _c("install-poll-interval-0", "module:install", {"poll_interval": 0}, "poll_interval", "1 to 600"),
    _c("install-reboot-not-bool", "module:install", {"reboot": "perhaps"}, "reboot", "bool"),
    _c("install-unknown-option", "module:install", {"bogus": 1}, "bogus", "Supported parameters"),
    _c("install-skip-space-list", "module:install", {"skip_space_check": [1]}, "skip_space_check", "bool"),
    # ---- upgrade --------------------------------------------------------------------------------------------
    _c("upgrade-installers-no-version", "module:upgrade", {"installers": [{"path": "x.exe"}]}, "version", "required"),
    _c(
        "upgrade-installers-bad-version",
        "module:upgrade",
        {"installers": [{"remote_path": "D:\\a.exe", "version": "v9"}]},
        "installers[0].version",
        "dot-separated",
    ),
    _c(
        "upgrade-installers-no-path", "module:upgrade", {"installers": [{"version": "9.51.1.1"}]}, "path", "remote_path"
    ),
    _c("upgrade-checksum-bad", "module:upgrade", {"installer_checksum": "xyz"}, "installer_checksum", "64 hexadecimal"),
    _c("upgrade-reboot-timeout-5", "module:upgrade", {"reboot_timeout": 5}, "reboot_timeout", "at least 60"),
    _c("upgrade-version-9.x", "module:upgrade", {"installer_version": "9.x"}, "installer_version", "dot-separated"),
    _c(
        "upgrade-ps-above-cs",
        "module:upgrade",
        {"installer_version": "9.56.1.1", "configuration_server_version": CURRENT},
        "configuration_server_version",
        "newer than the configuration server",
    ),
    _c("upgrade-server-role-unknown", "module:upgrade", {"server_role": "master_target"}, "server_role", "auto"),
    _c(
        "upgrade-eula-on-process-server",
        "module:upgrade",
        {"server_role": "process_server", "accept_third_party_eula": True},
        "accept_third_party_eula",
        "configuration server",
    ),
    _c(
        "upgrade-unknown-option",
        "module:upgrade",
        {"install_location": "D:\\"},
        "install_location",
        "Supported parameters",
    ),
    # ---- proxy ----------------------------------------------------------------------------------------------
    _c("proxy-state-unknown", "module:proxy", {"state": "gone"}, "state", "present, absent"),
    _c(
        "proxy-update-password-unknown",
        "module:proxy",
        {"update_password": "sometimes"},
        "update_password",
        "always, on_change",
    ),
    _c("proxy-address-no-scheme", "module:proxy", {"proxy_address": "proxy.corp"}, "proxy_address", "http://"),
    _c("proxy-port-0", "module:proxy", {"proxy_port": 0}, "proxy_port", "1 to 65535"),
    _c("proxy-port-65536", "module:proxy", {"proxy_port": 65536}, "proxy_port", "1 to 65535"),
    _c("proxy-port-string", "module:proxy", {"proxy_port": "eighty"}, "proxy_port", "int"),
    _c("proxy-port-missing", "module:proxy", {"proxy_port": None}, "proxy_port"),
    _c("proxy-username-without-password", "module:proxy", {"proxy_username": "u"}, "proxy_password"),
    _c(
        "proxy-password-quote",
        "module:proxy",
        {"proxy_username": "u", "proxy_password": 'a"b'},
        "proxy_password",
        "without",
    ),
    _c(
        "proxy-password-equals", "module:proxy", {"proxy_username": "u", "proxy_password": "p=q"}, "proxy_password", "="
    ),
    _c(
        "proxy-absent-with-port",
        "module:proxy",
        {"state": "absent", "proxy_address": None},
        "proxy_port",
        "state=absent",
    ),
    _c(
        "proxy-settings-file-relative",
        "module:proxy",
        {"settings_file": "p.conf"},
        "settings_file",
        "absolute Windows path",
    ),
    _c("proxy-settings-file-unc", "module:proxy", {"settings_file": "\\\\fs01\\p.conf"}, "settings_file"),
    # ---- registration / uninstall / unregister ------------------------------------------------------------------
    _c(
        "registration-cs-ip-octet-300",
        "module:registration",
        {"configuration_server_ip": "10.0.0.300"},
        "configuration_server_ip",
        "IPv4",
    ),
    _c("registration-force-not-bool", "module:registration", {"force": "perhaps"}, "force", "bool"),
    _c("ps-passphrase-missing", "module:process_server", {"passphrase": None}, "passphrase", "passphrase_file"),
    _c("upgrade-installer-missing", "module:upgrade", {"installer": None}, "installer", "installer_remote_path"),
    _c(
        "registration-cs-port-string",
        "module:registration",
        {"configuration_server_port": "https"},
        "configuration_server_port",
        "int",
    ),
    _c("uninstall-workload-moved-not-bool", "module:uninstall", {"workload_moved": "maybe"}, "workload_moved", "bool"),
    _c("uninstall-keep-mars-list", "module:uninstall", {"keep_mars_agent": [1]}, "keep_mars_agent", "bool"),
    _c("unregister-ip-missing", "module:unregister", {"ip_address": None}, "ip_address", "required"),
    _c("unregister-ip-hostname", "module:unregister", {"ip_address": "ps01.corp"}, "ip_address", "IPv4"),
    _c("unregister-force-not-bool", "module:unregister", {"force": "no way"}, "force", "bool"),
    _c(  # removed: a purge module never lists (issue 10 item 1); registration_info reads the heartbeats
        "unregister-ip-addresses-removed",
        "module:unregister",
        {"ip_addresses": ["10.0.0.101"]},
        "ip_addresses",
        "Supported parameters",
    ),
    _c(
        "unregister-db-user-without-password",
        "module:unregister",
        {"database_user": "asr_ro"},
        "database_user",
        "database_password",
        "together",
    ),
    _c("reginfo-ip-hostname", "module:registration_info", {"ip_addresses": ["ps01.corp"]}, "ip_addresses", "IPv4"),
    _c("reginfo-ips-empty", "module:registration_info", {"ip_addresses": []}, "ip_addresses", "empty"),
    _c(
        "reginfo-db-user-empty",
        "module:registration_info",
        {"database_user": "", "database_password": "Ro-Pw#1"},
        "database_user",
        "empty",
    ),
    # ---- where the package comes from (issue 12): installer_url, a UNC installer_remote_path, the checksum ----------
    _c(
        "install-url-ftp",
        "module:install",
        {"installer": None, "installer_url": "ftp://files.corp.example/asr/setup.exe", "installer_checksum": SHA},
        "installer_url",
        "http:// or https://",
    ),
    _c(
        "install-url-credentials",
        "module:install",
        {"installer": None, "installer_url": "https://svc:Url-Pw-1@files.corp/x.exe", "installer_checksum": SHA},
        "installer_url",
        "without user name or password",
    ),
    _c(
        "install-url-no-checksum",
        "module:install",
        {"installer": None, "installer_url": "https://files.corp.example/asr/setup.exe"},
        "installer_checksum",
        "installer_url makes the host fetch",
        "asr_installer_checksum",
    ),
    _c(
        "install-url-checksum-short",
        "module:install",
        {"installer": None, "installer_url": "https://files.corp.example/a.exe", "installer_checksum": "ab" * 31},
        "installer_checksum",
        "64 hexadecimal",
    ),
    _c("install-url-empty", "module:install", {"installer": None, "installer_url": ""}, "installer_url", "empty"),
    _c(
        "install-url-and-installer",
        "module:install",
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
    _c(
        "install-unc-no-file",
        "module:install",
        {"installer": None, "installer_remote_path": "\\\\server\\share", "installer_checksum": SHA},
        "installer_remote_path",
        "the file",
    ),
    _c(
        "install-unc-no-checksum",
        "module:install",
        {"installer": None, "installer_remote_path": "\\\\server\\share\\setup.exe"},
        "installer_checksum",
        "copy from a file share",
    ),
    _c(
        "upgrade-url-https-only",
        "module:upgrade",
        {"installer": None, "installer_url": "file:///C:/setup.exe", "installer_checksum": SHA},
        "installer_url",
        "http:// or https://",
    ),
    _c(
        "upgrade-hop-url-no-checksum",
        "module:upgrade",
        {"installers": [{"url": "https://files.corp.example/9.53.exe", "version": "9.53.6904.1"}]},
        "installers[0].checksum",
        "required",
    ),
    _c(
        "ps-staged-local-path",
        "module:process_server",
        {"state": "staged", "installer": None, "installer_remote_path": "D:\\Media\\setup.exe"},
        "installer_remote_path",
        "nothing to stage",
    ),
    _c(
        "ps-staged-no-source",
        "module:process_server",
        {"state": "staged", "installer": None},
        "installer_url",
        "state is staged",
    ),
    # ---- process_server: mutually exclusive / conditional options --------------------------------------------
    _c("ps-state-unknown", "module:process_server", {"state": "installed"}, "state", "present, latest, absent"),
    _c(
        "ps-present-without-cs-ip",
        "module:process_server",
        {"configuration_server_ip": None},
        "configuration_server_ip",
        "present",
    ),
    _c(
        "ps-installer-and-remote",
        "module:process_server",
        {"installer_remote_path": "D:\\s.exe"},
        "installer",
        "mutually exclusive",
    ),
    _c(
        "ps-installers-without-latest",
        "module:process_server",
        {"installers": [{"remote_path": "D:\\a.exe", "version": "9.51.6712.1"}]},
        "installers",
        "latest",
    ),
    _c(
        "ps-absent-with-proxy",
        "module:process_server",
        {"state": "absent", "proxy": {"address": P, "port": 3128}},
        "proxy",
        "absent",
    ),
    _c(
        "ps-absent-with-force-reregister",
        "module:process_server",
        {"state": "absent", "force_reregister": True},
        "force_reregister",
        "absent",
    ),
    _c("ps-data-port-443", "module:process_server", {"data_port": 443}, "data_port", "443"),
    _c("ps-env-type-physical", "module:process_server", {"env_type": "Physical"}, "env_type", "VMware or NonVMware"),
    _c(
        "ps-proxy-password-quote",
        "module:process_server",
        {"proxy": {"address": P, "port": 80, "username": "u", "password": 'x"y'}},
        "proxy.password",
    ),
    # ---- info -------------------------------------------------------------------------------------------------
    _c("info-cs-port-0", "module:info", {"configuration_server_port": 0}, "configuration_server_port", "1 to 65535"),
    _c(
        "info-cs-port-65536",
        "module:info",
        {"configuration_server_port": 65536},
        "configuration_server_port",
        "1 to 65535",
    ),
    _c("info-connect-timeout-string", "module:info", {"connect_timeout": "soon"}, "connect_timeout", "int"),
    _c("info-log-tail-negative", "module:info", {"log_tail_lines": -1}, "log_tail_lines"),
    _c("info-cs-ip-bad", "module:info", {"configuration_server_ip": "10.0.0.256"}, "configuration_server_ip", "IPv4"),
    _c(
        "info-diagnose-package-relative",
        "module:info",
        {"diagnose": True, "installer_path": "Media\\setup.exe"},
        "installer_path",
        "absolute path on a drive letter",
    ),
    _c("info-diagnose-not-bool", "module:info", {"diagnose": "sometimes"}, "diagnose", "bool"),
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
    _b(
        "plan-negative-churn",
        "playbook:plan.yml",
        {"asr_planned_load": {"protected_machines": 10, "daily_churn_gb": -5}},
        "daily_churn_gb",
        "at least 0",
    ),
    _b(
        "plan-negative-machines",
        "playbook:plan.yml",
        {"asr_planned_load": {"protected_machines": -3, "daily_churn_gb": 5}},
        "protected_machines",
    ),
    # plan.yml refuses a bad planning variable before any remote call (and writes no report): a plan made from
    # a bad input is not a plan
    _b(
        "plan-utilisation-zero",
        "playbook:plan.yml",
        {"asr_planned_load": LOAD, "asr_max_utilisation": 0},
        "asr_max_utilisation",
        "greater than 0",
    ),
    _b(
        "plan-unknown-tier",
        "playbook:plan.yml",
        {"asr_planned_load": LOAD, "asr_new_server_tier": "huge"},
        "asr_new_server_tier",
        "'small', 'medium', 'large'",
    ),
    _b(
        "plan-unknown-tier-no-load",
        "playbook:plan.yml",
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
    _b(
        "diagnose-package-relative",
        "playbook:diagnose.yml",
        {"asr_installer_remote_path": "Media\\setup.exe"},
        "asr_installer_remote_path",
        "absolute path on a drive letter",
    ),
    _b("diagnose-dir-empty", "playbook:diagnose.yml", {"asr_diagnostics_dir": ""}, "asr_diagnostics_dir", "empty"),
    _b(
        "preflight-location-relative",
        "playbook:preflight.yml",
        {"asr_install_location": "ASR"},
        "asr_install_location",
        "an absolute path on a local fixed drive",
        "Relative",
    ),
    _b(
        "preflight-location-unc",
        "playbook:preflight.yml",
        {"asr_install_location": "\\\\fs01\\share\\ASR"},
        "asr_install_location",
        "UNC",
    ),
    _b(
        "preflight-installer-version-9.x",
        "playbook:preflight.yml",
        {"asr_installer_version": "9.x"},
        "asr_installer_version",
        "dot-separated numbers, such as 9.55.7123.1",
    ),
    _b(
        "preflight-env-type-hyper-v",
        "playbook:preflight.yml",
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
    _b("site-serial-zero-percent", "playbook:site.yml", {"asr_serial": "0%"}, "asr_serial", "1% to 100%"),
    _b("site-serial-zero", "playbook:site.yml", {"asr_serial": 0}, "asr_serial", "every host at once"),
    _b("site-serial-abc", "playbook:site.yml", {"asr_serial": "abc"}, "asr_serial", "a positive integer"),
    _b("site-serial-empty", "playbook:site.yml", {"asr_serial": ""}, "asr_serial", "empty"),
    _b("site-serial-list-with-zero", "playbook:site.yml", {"asr_serial": [1, 0]}, "asr_serial[1]", "a list of those"),
    _b("site-serial-101-percent", "playbook:site.yml", {"asr_serial": "101%"}, "asr_serial", "1% to 100%"),
    _b(
        "site-max-fail-101",
        "playbook:site.yml",
        {"asr_max_fail_percentage": 101},
        "asr_max_fail_percentage",
        "0 to 100",
    ),
    _b(
        "site-max-fail-abc",
        "playbook:site.yml",
        {"asr_max_fail_percentage": "abc"},
        "asr_max_fail_percentage",
        "0 to 100",
    ),
    _b(
        "site-data-port-443",
        "playbook:site.yml",
        {"asr_data_port": 443},
        "asr_data_port",
        "other than 443",
        "data_port",
    ),
    _b(
        "site-env-type-unknown",
        "playbook:site.yml",
        {"asr_env_type": "vmware-ish"},
        "asr_env_type",
        "VMware or NonVMware",
    ),
    _b(
        "site-cs-ip-octet-300",
        "playbook:site.yml",
        {"asr_configuration_server_ip": "10.0.0.300"},
        "asr_configuration_server_ip",
        "IPv4",
    ),
    _b(
        "site-cs-ip-empty",
        "playbook:site.yml",
        {"asr_configuration_server_ip": ""},
        "asr_configuration_server_ip",
        "empty",
    ),
    _b(
        "site-install-location-system-drive",
        "playbook:site.yml",
        {"asr_install_location": "C:\\ASR"},
        "asr_install_location",
        "system drive",
    ),
    _b(
        "site-proxy-no-scheme",
        "playbook:site.yml",
        {"asr_proxy": {"address": "proxy.corp", "port": 3128}},
        "asr_proxy.address",
        "http://",
    ),
    _b(
        "site-proxy-unknown-key",
        "playbook:site.yml",
        {"asr_proxy": {"address": P, "port": 80, "pasword": "x"}},
        "asr_proxy.pasword",
        "address, port",
    ),
    _b(
        "site-installers-bad-version",
        "playbook:site.yml",
        {"asr_installers": [{"remote_path": "D:\\a.exe", "version": "v9"}]},
        "asr_installers[0].version",
        "dot-separated",
    ),
    _b(
        "site-installer-and-remote",
        "playbook:site.yml",
        {"asr_installer": "files/setup.exe", "asr_installer_remote_path": "D:\\s.exe"},
        "asr_installer",
        "asr_installer_remote_path",
        "Both are set",
    ),
    _b("site-poll-interval-0", "playbook:site.yml", {"asr_poll_interval": 0}, "asr_poll_interval", "1 to 600"),
    _b(
        "site-installer-url-ftp",
        "playbook:site.yml",
        {"asr_installer_url": "ftp://files.corp.example/a.exe", "asr_installer_checksum": SHA},
        "asr_installer_url",
        "http:// or https://",
    ),
    _b(
        "site-installer-url-no-checksum",
        "playbook:site.yml",
        {"asr_installer_url": "https://files.corp.example/a.exe"},
        "asr_installer_checksum",
        "fetch the package itself",
    ),
    _b(
        "site-installer-url-credentials",
        "playbook:site.yml",
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
    _b("site-stage-batch-0", "playbook:site.yml", {"asr_stage_batch": 0}, "asr_stage_batch", "every host at once"),
    _b("site-setup-timeout-10", "playbook:site.yml", {"asr_setup_timeout": 10}, "asr_setup_timeout", "at least 60"),
    _b("site-state-unknown", "playbook:site.yml", {"asr_state": "installed"}, "asr_state", "present, latest, absent"),
    _b(
        "site-verify-heartbeat-unknown",
        "playbook:site.yml",
        {"asr_verify_heartbeat": "sometimes"},
        "asr_verify_heartbeat",
        "always, changed, never",
    ),
    _b("site-reboot-not-bool", "playbook:site.yml", {"asr_reboot": "perhaps"}, "asr_reboot", "true or false"),
    _b(
        "site-passphrase-two-lines", "playbook:site.yml", {"asr_passphrase": "two\nlines"}, "asr_passphrase", "one line"
    ),
    _b(
        "site-checksum-short",
        "playbook:site.yml",
        {"asr_installer_checksum": "abc"},
        "asr_installer_checksum",
        "64 hexadecimal",
    ),
    _b("site-ip-hostname", "playbook:site.yml", {"asr_ip": "ps01.corp"}, "asr_ip", "IPv4"),
    _b(
        "site-installer-version-float",
        "playbook:site.yml",
        {"asr_installer_version": 9.55},
        "asr_installer_version",
        "Quote it",
    ),
    _b("upgrade-serial-abc", "playbook:upgrade.yml", {"asr_serial": "abc"}, "asr_serial", "a positive integer"),
    _b(
        "upgrade-eula-not-bool",
        "playbook:upgrade.yml",
        {"asr_accept_third_party_eula": "maybe"},
        "asr_accept_third_party_eula",
        "true or false",
    ),
    _b(
        "upgrade-playbook-installers-no-path",
        "playbook:upgrade.yml",
        {"asr_installers": [{"version": "9.51.6712.1"}]},
        "asr_installers[0]",
        "exactly one of path, url and remote_path",
    ),
    _b("proxy-serial-zero-percent", "playbook:proxy.yml", {"asr_serial": "0%"}, "asr_serial", "1% to 100%"),
    _b(
        "proxy-update-password-unknown-variable",
        "playbook:proxy.yml",
        {"asr_proxy_update_password": "sometimes"},
        "asr_proxy_update_password",
        "always, on_change",
    ),
    _b(
        "proxy-settings-file-relative-variable",
        "playbook:proxy.yml",
        {"asr_proxy_settings_file": "p.conf"},
        "asr_proxy_settings_file",
        "Relative",
    ),
    _b("reregister-serial-zero", "playbook:reregister.yml", {"asr_serial": 0}, "asr_serial", "a positive integer"),
    _b(
        "reregister-force-not-bool",
        "playbook:reregister.yml",
        {"asr_force_reregister": "perhaps"},
        "asr_force_reregister",
        "true or false",
    ),
    _b(
        "decommission-hosts-empty",
        "playbook:decommission.yml",
        {"asr_decommission_hosts": ""},
        "asr_decommission_hosts",
        "empty",
    ),
    _b(
        "decommission-workload-moved-not-bool",
        "playbook:decommission.yml",
        {"asr_workload_moved": "maybe"},
        "asr_workload_moved",
        "true or false",
    ),
    _b("plan-report-dir-empty", "playbook:plan.yml", {"asr_report_dir": ""}, "asr_report_dir", "empty"),
    _b(
        "preflight-cs-ip-hostname",
        "playbook:preflight.yml",
        {"asr_configuration_server_ip": "cs01.corp"},
        "asr_configuration_server_ip",
        "IPv4",
    ),
    _b(
        "preflight-fail-on-block-not-bool",
        "playbook:preflight.yml",
        {"asr_preflight_fail_on_block": "maybe"},
        "asr_preflight_fail_on_block",
        "true or false",
    ),
    # ---- rebalance.yml (the lab's vault): the moves are checked when cut (no call to Azure), then every batch
    # against one read of the vault before the first Switch; tests/integration/test_rebalance_lab.py checks that
    # no Switch was sent and nothing moved
    _b(
        "rebalance-source-is-target",
        "playbook:rebalance.yml",
        {"asr_rebalance_moves": [{"machine": "VM1", "from_server": "ps02", "to_server": "PS02"}]},
        "asr_rebalance_moves[0].to_server",
        "a process server other than from_server",
    ),
    _b(
        "rebalance-move-machine-empty",
        "playbook:rebalance.yml",
        {"asr_rebalance_moves": [{"machine": "", "from_server": "ps02", "to_server": "ps03"}]},
        "asr_rebalance_moves[0].machine",
        "It is empty",
    ),
    _b(
        "rebalance-batch-size-zero",
        "playbook:rebalance.yml",
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
    # ---- the Azure modules: refused before any request to Azure -------------------------------------------
    _c("switch-same-target", "module:switch_process_server", {"target": "ps01"}, "target", "other than the source"),
    _c("switch-source-empty", "module:switch_process_server", {"source": " "}, "source", "It is empty"),
    _c("switch-machines-empty", "module:switch_process_server", {"machines": []}, "machines", "non-empty list"),
    _c("switch-machine-empty", "module:switch_process_server", {"machines": ["VM1", ""]}, "machines[1]", "empty"),
    _c("switch-tier-unknown", "module:switch_process_server", {"target_tier": "huge"}, "target_tier", "large"),
    _c(
        "switch-tier-and-limit",
        "module:switch_process_server",
        {"target_tier": "small", "target_max_machines": 50},
        "target_tier",
        "target_max_machines",
    ),
    _c(
        "switch-limit-zero",
        "module:switch_process_server",
        {"target_max_machines": 0},
        "target_max_machines",
        "at least 1",
    ),
    _c("switch-health", "module:switch_process_server", {"target_health": "Critical"}, "target_health", "Warning"),
    _c("switch-timeout-zero", "module:switch_process_server", {"wait_timeout": 0}, "wait_timeout", "at least 1"),
    _c("switch-no-vault", "module:switch_process_server", {"vault": None}, "vault", "required"),
    _c("vault-fabric-empty", "module:vault_info", {"fabric": ""}, "fabric", "It is empty"),
    _c("switch-target-empty", "module:switch_process_server", {"target": ""}, "target", "It is empty"),
    _c(
        "switch-cs-empty",
        "module:switch_process_server",
        {"configuration_server": " "},
        "configuration_server",
        "It is empty",
    ),
    _c("vault-auth-source", "module:vault_info", {"auth_source": "token"}, "auth_source", "credential_file"),
    _c("vault-cloud", "module:vault_info", {"cloud_environment": "AzureMars"}, "cloud_environment", "AzureChinaCloud"),
    _c(
        "vault-no-subscription",
        "module:vault_info",
        {"subscription_id": None, "auth_source": "cli"},
        "subscription_id",
        "empty",
    ),
]
