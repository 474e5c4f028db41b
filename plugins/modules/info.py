#!/usr/bin/python
# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# Documentation only: the module is the action plugin plugins/action/info.py (ARCHITECTURE.md decision 2).

DOCUMENTATION = r"""
---
module: info
short_description: Probe an Azure Site Recovery configuration or process server
version_added: 0.1.0
description:
  - Reads, in one read-only remote call, what an Azure Site Recovery (classic) configuration server or
    scale-out process server has installed and how it is configured, and evaluates its health and
    sizing on the controller.
  - Reports the installed components and their versions, the role (C(CX_TYPE)), the install location, the
    configuration server the process server is registered to and its data port, the services and their
    state and start mode, the proxy settings of setup and of the Microsoft Azure Recovery Services (MARS)
    agent (never a password), the cache drive, CPU and memory, the operating system, whether a reboot is
    pending and the result of the last Unified Setup run.
  - Health follows the portal's process server alerts, limited to what one probe can know (services
    running, cache drive free space); CPU and memory utilisation, upload backlog and heartbeat are not
    measured and are listed as such.
  - Also returns RV(survey), the probe's raw result, redacted, as a survey file that the collection's lab can
    import as the starting state of an emulated host.
  - With O(diagnose=true) the one read-only call also records what no document settles and the collection
    depends on, and returns it as RV(diagnostics), the content of the file the C(diagnose.yml) playbook writes
    for a bug report (see O(diagnose)).
  - The probe runs as a PowerShell script through M(ansible.windows.win_powershell); the connection user
    must be a local administrator (or use C(become)).
extends_documentation_fragment:
  - asr.process_server.common
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - ansible.builtin.action_common_attributes.actiongroups
options:
  configuration_server_ip:
    description:
      - IPv4 address of a configuration server. When set, the probe tests whether the host can open a
        TCP connection to it on O(configuration_server_port).
    type: str
  configuration_server_port:
    description:
      - TCP port tested with O(configuration_server_ip). Process servers reach the configuration server
        on 443.
    type: int
    default: 443
  connect_timeout:
    description:
      - Seconds (1 to 60) to wait for the TCP connection to the configuration server.
    type: int
    default: 3
  installer_path:
    description:
      - Path the host reads of a Unified Setup installer to check (existence, size, file and product version and,
        with O(installer_checksum), its SHA256) - an absolute path on a drive letter or a UNC path; a relative or
        drive-relative path is refused before any remote call.
      - With O(diagnose=true), RV(diagnostics) also records the package's version text and its four fixed
        version parts.
    type: str
  installer_checksum:
    description:
      - Compute the SHA256 of O(installer_path). The installer is about 1.5 GB; reading it takes a few
        seconds.
    type: bool
    default: true
  include_log_tail:
    description:
      - Return the last O(log_tail_lines) lines of C(C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log) in
        C(asr.setup_log.tail).
    type: bool
    default: false
  log_tail_lines:
    description:
      - How many lines (1 to 1000) of the setup log O(include_log_tail) returns.
    type: int
    default: 40
  diagnose:
    description:
      - Make the probe's one read-only call the diagnosis of a first real host, and return RV(diagnostics).
      - It records, besides the probe, what no document settles - the shape of C(Get-OBMachineSetting)'s result
        (property names and types, never a value) and the registry values whose names mention a MARS proxy; with
        O(installer_path) the package's version text and fixed version parts; the FIPS policy; the execution
        policy of every scope and the group policy behind it; the .NET Framework release; Microsoft Defender's
        attack surface reduction rules; PowerShell version, edition and CLR; OS build and locale; the
        Add/Remove Programs entries of the ASR products as they are; the InMage C(Installed Products) keys; the
        services; where C(drscout.conf) is; the key names (never values) of C(amethyst.conf) and C(cxps.conf);
        the setup logs present; on a configuration server whether the documented C(svsdb1) read answers with the
        configuration server's own account (the read M(asr.process_server.registration_info) makes, in a read-only
        transaction).
      - It starts no program except, on a configuration server, the MySQL client for that read; never the purge
        script. No secret is returned - passwords in C(amethyst.conf) or the proxy settings are reported by name
        only and scrubbed from every text.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: The probe is read-only and runs the same way in check mode.
  diff_mode:
    support: none
notes:
  - Where the MARS agent keeps its proxy is not documented; the module reads it back with
    C(Get-OBMachineSetting) from the agent's C(MSOnlineBackup) PowerShell module and reports
    C(asr.proxy.mars.source=unknown) when that module is not installed.
  - The cache drive is the volume of the install location (the target of the C(C:\ProgramData\ASR)
    junction). On a host without the process server it is the largest volume other than the system drive,
    as a candidate.
  - Sizes are in GB where 1 TB = 1024 GB, as Windows reports them.
  - O(diagnose=true) reads more than the probe and takes a few seconds longer; use it once per host (the
    C(diagnose.yml) playbook), not in every play.
seealso:
  - module: ansible.windows.win_powershell
"""

EXAMPLES = r"""
- name: Probe every process server
  asr.process_server.info:
  register: ps

- name: Fail when a process server is unhealthy
  ansible.builtin.assert:
    that: ps.asr.health.status == 'healthy'
    fail_msg: "{{ ps.asr.health.alerts | map(attribute='message') | join(' ') }}"

- name: Check reachability of the configuration server and the staged installer before an upgrade
  asr.process_server.info:
    configuration_server_ip: 10.150.24.119
    installer_path: D:\Media\UnifiedSetup\MicrosoftAzureSiteRecoveryUnifiedSetup.exe
    include_log_tail: true
  register: before

- name: Diagnose a first real process server (read-only) and keep the file for a bug report
  asr.process_server.info:
    diagnose: true
    installer_path: D:\Media\UnifiedSetup\MicrosoftAzureSiteRecoveryUnifiedSetup.exe
  register: diagnosis

- name: Write the diagnostics file on the controller
  ansible.builtin.copy:
    content: "{{ diagnosis.diagnostics | to_nice_json }}"
    dest: "diagnostics/{{ inventory_hostname }}.json"
    mode: "0600"
  delegate_to: localhost

- name: Save the survey as a lab seed
  ansible.builtin.copy:
    content: "{{ before.survey | to_nice_json }}"
    dest: "surveys/{{ inventory_hostname }}.json"
    mode: "0644"
  delegate_to: localhost
"""

RETURN = r"""
asr:
  description: What the probe found, read on the controller.
  returned: success
  type: dict
  contains:
    installed:
      description: Whether the Configuration/Process Server is installed (C(Installed Products\9) exists).
      type: bool
      sample: true
    role:
      description:
        - V(process_server) for a scale-out process server (C(CX_TYPE=2)), V(configuration_server) for
          C(CX_TYPE) 1 or 3; null when not installed.
      type: str
      sample: process_server
    cx_type:
      description: The C(CX_TYPE) registry value (1 configuration server only, 2 process server only, 3 both).
      type: int
      sample: 2
    cx_type_name:
      description: C(CX_TYPE) in words.
      type: str
      sample: process server only
    build_version:
      description: C(Build_Version) of the Configuration/Process Server.
      type: str
      sample: 9.55.7123.1
    dependencies_version:
      description: C(Build_Version) of the Configuration/Process Server Dependencies.
      type: str
      sample: 9.55.7123.1
    components:
      description:
        - One entry per known product (keys C(configuration_process_server),
          C(configuration_process_server_dependencies), C(mobility_service_master_target),
          C(recovery_services_agent), C(site_recovery_provider), C(mysql_server)), from the
          Add/Remove Programs entries matched by display name.
        - Each has C(installed), C(display_name), C(version), C(registry_key) and C(uninstall_string).
      type: dict
      sample:
        recovery_services_agent:
          installed: true
          display_name: Microsoft Azure Recovery Services Agent
          version: 2.0.9250.0
          registry_key: HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\{...}
          uninstall_string: MsiExec.exe /X{...}
    install_location:
      description: Where the process server is installed (target of C(C:\ProgramData\ASR), else C(InstallDirectory)).
      type: str
      sample: D:\Program Files (x86)\Microsoft Azure Site Recovery
    registration:
      description: The configuration server this server reports to, from C(amethyst.conf).
      type: dict
      contains:
        registered:
          description: Whether C(PS_CS_IP) is set.
          type: bool
        configuration_server_ip:
          description: C(PS_CS_IP).
          type: str
        configuration_server_port:
          description: C(PS_CS_PORT).
          type: int
        secured_communication:
          description: C(PS_CS_SECURED_COMMUNICATION) as a boolean.
          type: bool
        process_server_ip:
          description: C(PS_IP), the address this process server registered with.
          type: str
        source:
          description: The path of C(amethyst.conf) that was read.
          type: str
        error:
          description:
            - Why C(amethyst.conf) could not be read although it exists (locked, or replaced while it was read);
              then C(registered) is null. Null when it was read or is absent.
          type: str
    data_port:
      description: The replication data port (C(ssl_port) in C(cxps.conf)); 9443 unless changed at install.
      type: int
      sample: 9443
    services:
      description:
        - Every process server and configuration server service with C(name), C(display_name), C(present),
          C(state) (V(running), V(stopped), ...) and C(start_mode) (V(auto), V(delayed), V(manual), V(disabled)).
      type: list
      elements: dict
    services_not_running:
      description: Services the installed role needs that are not running (missing ones included).
      type: list
      elements: str
    services_wrong_start_mode:
      description: Services the role needs whose start mode is not automatic (C(obengine) may be manual).
      type: list
      elements: str
    proxy:
      description: Proxy settings; never a password.
      type: dict
      contains:
        setup:
          description:
            - The proxy setup and registration use; C(proxy_type) (V(Bypass) or V(Custom)) from the registry,
              C(present), C(registry_key) and C(values) of C(HKLM\SOFTWARE\Microsoft\Azure Site Recovery\ProxySettings)
              without any value whose name contains C(pass).
          type: dict
        mars:
          description:
            - The MARS agent's proxy read back with C(Get-OBMachineSetting); C(source) is V(unknown) when the
              agent's PowerShell module is not present, else C(enabled), C(address), C(port), C(username).
            - C(error) holds the message when the read-back failed.
          type: dict
    cache_drive:
      description:
        - The cache volume with C(drive), C(source) (V(install_location) or V(largest_data_volume)),
          C(filesystem), C(size_gb), C(free_gb) and C(free_percent); null when the host reports no volume.
      type: dict
    cpu:
      description: C(logical_processors), C(sockets) and C(cores).
      type: dict
    memory_gb:
      description: Physical memory in GB.
      type: float
    os:
      description: C(caption), C(version) and C(system_drive).
      type: dict
    dotnet_framework:
      description:
        - The .NET Framework 4.x C(release) (the C(Release) value under C(NDP\v4\Full)), the C(version) it means
          (for example V(4.8)) and C(meets_setup_minimum) - whether Unified Setup can run (it needs 4.6.2, release
          394802); null values when the host reports no release.
        - The modules that run setup refuse a host below 4.6.2 before anything is changed.
      type: dict
      sample: {release: 528449, version: "4.8", meets_setup_minimum: true}
    computer_name:
      description: The host's computer name.
      type: str
    pending_reboot:
      description:
        - C(pending) and C(reasons) (V(PendingFileRenameOperations), V(CBS RebootPending), V(WU RebootRequired)).
      type: dict
    setup_log:
      description:
        - The Unified Setup log, C(path), C(present), C(modified) (UTC), C(result) (V(succeeded), V(failed),
          V(unknown) or V(absent)) and C(result_line); C(tail) with O(include_log_tail); C(error) when it exists
          but could not be read (then C(result) is V(unknown)).
      type: dict
    health:
      description:
        - C(status) (V(healthy), V(warning), V(critical), or V(not_installed)), C(alerts), C(green_for_new_load),
          C(not_green_because) and C(not_measured) (the metrics one survey cannot measure).
      type: dict
    sizing:
      description:
        - C(host_facts) (C(vcpus), C(memory_gb), C(cache_disk_gb), C(cache_free_gb), C(retention_free_gb)),
          the C(role) sized as, and the host's one sizing verdict for that role, judged by the C(table) it
          names (V([7.1]) scale-out process server sizing, V([7.2]) configuration server sizing)
        - C(ok) (the host meets a row of that table), C(verdict) (one sentence), the highest C(tier) it meets
          (V(small), V(medium), V(large) or null) with C(tier_detail) (its C(source) is the table) and
          C(shortfalls) (each naming the row and table it was measured against).
        - C(notes) say what the sizing rows do not, when this host is short of it, without changing C(ok) --
          Unified Setup's 600 GB free-space check of the install drive (skip it with C(skip_space_check), as a
          host built to the small tier's 300 GB cache disk must) and the 600 GB retention drive of the
          requirements page.
      type: dict
    checks:
      description:
        - C(configuration_server) (C(address), C(port), C(reachable), C(error)) when O(configuration_server_ip) is set;
          C(installer) (C(path), C(exists), C(size_bytes), C(file_version), C(product_version), C(sha256)) when
          O(installer_path) is set; null otherwise.
      type: dict
survey:
  description:
    - The probe's raw result as a survey file, redacted (no log tail, no per-run checks, no value of a no_log
      option), in the format C(asr.process_server.survey/v1) the lab imports as a seed.
  returned: success
  type: dict
  contains:
    format:
      description: C(asr.process_server.survey/v1).
      type: str
    probe:
      description: Identity of the probe script that produced it.
      type: str
      sample: probe v1
    host:
      description: The probe script's result without C(checks) and without C(setup_log.tail).
      type: dict
diagnostics:
  description:
    - With O(diagnose=true), the diagnosis in the format C(asr.process_server.diagnostics/v1), which the lab imports
      as a seed (C(python -m lab import)). No value is a secret.
  returned: when O(diagnose=true)
  type: dict
  contains:
    format:
      description: C(asr.process_server.diagnostics/v1).
      type: str
    generated:
      description: When the controller received it (UTC, ISO 8601).
      type: str
    diagnose:
      description: Identity of the script that made it.
      type: str
      sample: diagnose v1
    survey:
      description: The redacted survey, as RV(survey); null when the survey part failed on the host.
      type: dict
    survey_error:
      description: Why the survey part failed on the host; null when it did not.
      type: str
    diagnostics:
      description:
        - One entry per part - C(powershell), C(os), C(fips), C(execution_policy), C(dotnet_framework), C(defender),
          C(mars), C(package), C(uninstall), C(registry), C(services), C(amethyst_conf), C(cxps_conf),
          C(drscout_conf), C(setup_logs), C(configuration_server_database) and C(products) (which known product each
          recorded Add/Remove Programs key is). A part that could not be read is C({error - <message>}).
        - C(configuration_server_database) says whether the documented read C(answered), the C(problem) (what to do)
          when it did not, the C(columns), the number of C(rows) and the C(process_servers) rows.
      type: dict
    findings:
      description:
        - What in the diagnosis the requirements or the collection say matters, each with C(code), C(severity)
          (V(block), V(warning) or V(info)), C(message) and the C(reference) it comes from (for example the FIPS
          policy on, a group policy execution policy, .NET Framework below 4.6.2, Defender's rule that blocks process
          creation through WMI, a part that could not be read).
      type: list
      elements: dict
refused:
  description: V(true) when the module refused to act, before any change (see the notes on refusals).
  returned: when the module refused
  type: bool
  sample: true
"""
