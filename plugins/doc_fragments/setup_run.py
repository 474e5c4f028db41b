# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# What every module that runs Unified Setup (install, upgrade, process_server) shares: the options - the package and
# its version, where it is staged, how it is verified, reboots, and how long a run may take (a module that means more
# by one says so in its own options: upgrade's configuration_server_version, process_server's state-dependent
# installer) - and the contract of the values a run returns (notes; each module's RETURN documents those keys in short
# and points here). The same names with the same rules in each module (plugins/plugin_utils/operations/setup.py and
# setup_executor.py run setup for all three; domain/setup_outcome.py failure_detail() builds the failure values).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  installer:
    description:
      - Path on the controller of C(MicrosoftAzureSiteRecoveryUnifiedSetup.exe); relative paths are looked up
        like a role's C(files/). Sent in one transfer into the host's C($env:SystemRoot\Temp) and moved to
        O(staging_dir) when setup starts, unless already in either place with the same SHA-256.
      - A process server must not be newer than its configuration server (O(configuration_server_version)).
      - Exactly one of O(installer), O(installer_url) and O(installer_remote_path) is required.
    type: path
  installer_version:
    description:
      - The installer's version (for example V(9.55.7123.1)), for a package whose version the controller cannot
        read from the file. Normally read from the file's version resource; compared with the staged file.
    type: str
  configuration_server_version:
    description:
      - The configuration server's version. When set, an installer newer than it is refused (before any remote
        call when the installer's version is known on the controller) - a process server is never newer than its
        configuration server.
    type: str
  installer_remote_path:
    description:
      - Where the host reads the Unified Setup package itself; an alternative to O(installer) and O(installer_url).
      - An absolute path on a drive of the host (such as V(D:\\Media\\MicrosoftAzureSiteRecoveryUnifiedSetup.exe)) is
        used where it is.
      - A UNC path (such as V(\\\\files.corp.example\\media\\MicrosoftAzureSiteRecoveryUnifiedSetup.exe)) is copied
        by the host from the share into O(staging_dir) (detached, resumed after an interruption) and its SHA-256 checked
        there; O(installer_checksum) is then required.
      - The copy runs as the account the task runs as. With C(become) (SYSTEM, as the playbooks run) that is the
        host's computer account, which the share must let read the file. Without C(become) a WinRM logon (NTLM, or
        Kerberos without delegation) cannot pass its credentials on to the file server (the double hop) and the copy
        fails with access denied; use C(become), CredSSP or Kerberos delegation. See the runbook on distributing the
        package (docs/runbooks/package-distribution.md).
    type: str
  installer_url:
    description:
      - HTTP or HTTPS URL of the Unified Setup package that the host downloads itself (an internal web server, or an
        Azure storage URL with a SAS token); an alternative to O(installer) and O(installer_remote_path). Nothing of
        the package passes through the controller.
      - The host downloads it with .NET through the proxy settings of the account the task runs as, detached (a
        dropped WinRM connection does not stop it), resumes after a dropped download (HTTP Range requests, up to 5
        attempts per run), checks its SHA-256 against O(installer_checksum) (required) and keeps it in O(staging_dir)
        under a folder named by that checksum, so a host that has it does not download it again.
      - The URL is treated as a secret (its query may be a token); it is not logged, travels to the host as a
        SecureString, never appears on a command line, and results and messages show it as
        C(scheme://host/path) only. A URL with a user name or password in it is refused (they would travel in clear
        text); schemes other than C(http) and C(https) are refused.
    type: str
  installer_checksum:
    description:
      - Expected SHA-256 of the installer (64 hexadecimal digits, optionally prefixed with C(sha256:)). A
        controller file that does not match is refused before any remote call; the host verifies the staged file
        again right before extracting it.
      - Required with O(installer_url) and with a UNC O(installer_remote_path); the host checks the package it fetched
        against it before it stages it (a package that differs is deleted, never run).
    type: str
  staging_dir:
    description:
      - Folder on the host (without spaces) for staged packages, their extracted files and the run folder of the
        detached setup. A package from the controller is transferred into the host's C($env:SystemRoot\Temp) (the
        connection cannot create a folder) and moved here, one folder per SHA-256, when setup starts. The extracted
        files and the run folder are removed after every run; the packages stay, so a later run does not copy them
        again (nor one that an interrupted run left in C($env:SystemRoot\Temp)).
    type: str
    default: C:\ProgramData\ASRSetupStaging
  reboot:
    description:
      - Reboot when a reboot is pending before setup and when a Unified Setup run exits with 3010, then verify the
        result and go on. Without it a pending reboot is refused and 3010 ends the task with RV(reboot_required).
    type: bool
    default: false
  reboot_timeout:
    description: Seconds to wait for the host to come back from each reboot (at least 60).
    type: int
    default: 1200
  setup_timeout:
    description:
      - Hard limit in seconds (at least 60) for each Unified Setup run; setup usually takes 20 to 60 minutes. On
        timeout the task fails and setup is left running (unless O(stop_setup_on_timeout)); any secret file written
        for it is removed.
    type: int
    default: 5400
  stop_setup_on_timeout:
    description:
      - When a Unified Setup run is still running after O(setup_timeout), stop it - the detached runner the module
        started and every process it started (Unified Setup and its helpers), the deepest first, then remove its
        files. The failure then lists what was stopped (RV(stopped_processes)).
      - A setup that shows a message box (invisible in the non-interactive session it runs in, for example when
        .NET Framework 4.6.2 is missing) never exits, and holds setup's single-instance lock, so every later run is
        refused until it is stopped.
      - A process is stopped only when its process id AND its start time are those recorded when it started (or,
        for a process the runner started, when it was created after its parent); Windows reuses process ids.
      - Stopping setup half-way may leave components partly installed; the next run of the task continues from
        what it finds. With the default V(false) setup is left running and the failure says how to stop it.
    type: bool
    default: false
  poll_interval:
    description: Seconds between two polls of the running setup (1 to 600, at most O(setup_timeout)).
    type: int
    default: 15
notes:
  - B(What a Unified Setup run returns) - the result is verified from the run's last poll. RV(version_before) and
    RV(version_after) are the installed build before and after the task (after - as predicted, in check mode), and
    RV(reboot_required) says that setup (exit code 3010) asked for a reboot that O(reboot) did not allow.
    RV(remote_calls) counts every WinRM round trip the task made (script calls, a package transfer, each reboot as
    one), on success and on failure.
  - B(A failed run) returns RV(rc) (setup's exit code; null when the run ended without one, for example when its
    runner disappeared), RV(stdout) (the end of setup's console output), RV(log_tail) (the last lines of
    C(C:\ProgramData\ASRSetupLogs\ASRUnifiedSetup.log)), RV(log_path) (the path of that log) and, when the exit code
    is known, RV(exit_code_name) (its name in Unified Setup's table) and RV(remediation) (what to do about it).
  - B(A run that outlives its time limit) (O(setup_timeout)) fails with RV(rc) null and RV(stdout). It is left
    running and the message says how to stop it, or, with O(stop_setup_on_timeout), it is stopped and
    RV(stopped_processes) lists the processes stopped (the detached runner and what it started), each with C(pid),
    C(name) and C(parent_pid).
"""
