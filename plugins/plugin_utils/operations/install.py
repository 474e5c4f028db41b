# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Install a scale-out process server: options -> spec (no remote call), then ``ensure_installed`` on a probe.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

``install_spec`` checks every option value before anything touches the host (and refuses PS > CS when the
installer's version is known on the controller [3.1]); ``ensure_installed`` takes an already-made probe (the
action's one call, or a converged module's shared probe), plans with :func:`install_plan.plan_install` and
runs setup as one :class:`SetupHop` of the one setup path (:class:`SetupExecutor`), as upgrade does. Check mode
returns the plan's steps and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain import install_plan, proxy_plan, unified_setup
from ..domain.errors import InvalidOption
from ..domain.install_plan import CLEANUP, REBOOT_BEFORE, RUN_INSTALL, STAGE, Installer, InstallRequest
from ..domain.probe import ProbedHost, ProbeRequest
from ..domain.proxy_settings import ProxySettings, render_proxy_settings
from ..domain.steps import planned as planned_steps
from ..domain.versions import parse_version
from .action_base import ActionFailure, AsrActionBase
from .probe import OperationOutcome
from .setup import (
    PASSPHRASE_FILE,
    PROXY_SETTINGS_FILE,
    SetupSettings,
    extract_dir_for,
    host_after_setup,
    upload_name_for,
)
from .setup_executor import SetupDone, SetupExecutor, SetupHop

PROBE_CONNECT_TIMEOUT = 3


@dataclass
class InstallSpec:
    """Everything ``ensure_installed`` needs, validated."""

    request: InstallRequest
    env_type: str
    data_port: int
    process_server_ip: str | None
    passphrase: str | None
    passphrase_file: str | None
    proxy: ProxySettings | None
    settings: SetupSettings

    def argv(self, system_drive: str, run_dir: str = r"C:\ProgramData\run") -> list[str]:
        """The Unified Setup argument vector for this host; the passphrase and proxy files live in ``run_dir``."""
        installer = self.request.installer
        return unified_setup.build_ps_install(
            extract_dir=extract_dir_for(self.settings.staging_dir, installer.remote_path),
            install_location=self.request.install_location,
            env_type=self.env_type,
            configuration_server_ip=self.request.configuration_server_ip,
            passphrase_file=self.passphrase_file or f"{run_dir}\\{PASSPHRASE_FILE}",
            process_server_ip=self.process_server_ip,
            proxy_settings_file=f"{run_dir}\\{PROXY_SETTINGS_FILE}" if self.proxy else None,
            data_port=self.data_port,
            skip_space_check=self.request.skip_space_check,
            system_drive=system_drive,
        ).argv


def check_timing(args: dict[str, Any]) -> SetupSettings:
    """``staging_dir``, ``setup_timeout``, ``poll_interval``, ``reboot_timeout``, ``stop_setup_on_timeout`` (shared
    with upgrade)."""
    staging = unified_setup.check_staging_dir(args["staging_dir"])
    if len(staging) <= 2:
        raise InvalidOption("staging_dir", args["staging_dir"], "a folder (not a drive root) without spaces")
    if args["setup_timeout"] < 60:
        raise InvalidOption("setup_timeout", args["setup_timeout"], "an integer of at least 60 (seconds)")
    if not 1 <= args["poll_interval"] <= min(600, args["setup_timeout"]):
        raise InvalidOption(
            "poll_interval", args["poll_interval"], "an integer from 1 to 600 (seconds), at most setup_timeout"
        )
    if args["reboot_timeout"] < 60:
        raise InvalidOption("reboot_timeout", args["reboot_timeout"], "an integer of at least 60 (seconds)")
    return SetupSettings(
        staging_dir=staging,
        setup_timeout=args["setup_timeout"],
        poll_interval=args["poll_interval"],
        reboot=args["reboot"],
        reboot_timeout=args["reboot_timeout"],
        stop_on_timeout=bool(args.get("stop_setup_on_timeout")),
    )


def install_spec(args: dict[str, Any], installer: Installer) -> InstallSpec:
    """Validate the install options (raises :class:`InvalidOption`); no remote call."""
    settings = check_timing(args)
    cs_ip = unified_setup.check_ipv4("configuration_server_ip", args["configuration_server_ip"])
    location = unified_setup.check_install_location(args["install_location"])
    ps_ip = unified_setup.check_optional_ipv4("process_server_ip", args.get("process_server_ip"))
    data_port = unified_setup.check_data_port(args["data_port"])
    passphrase_file = args.get("passphrase_file")
    if passphrase_file is not None:
        passphrase_file = unified_setup.check_windows_path("passphrase_file", passphrase_file)
    passphrase = args.get("passphrase")
    if passphrase is not None and (not passphrase.strip() or "\n" in passphrase or "\r" in passphrase):
        raise InvalidOption("passphrase", passphrase, "the configuration server's connection passphrase on one line")
    proxy = None
    if args.get("proxy"):
        p = args["proxy"]
        proxy = ProxySettings(p["address"], p["port"], p.get("username") or "", p.get("password") or "")
    cs_version = None
    if args.get("configuration_server_version"):
        cs_version = parse_version(args["configuration_server_version"], "configuration_server_version")
    failure = install_plan.check_configuration_server_version(installer.version, cs_version, installer.option)
    if failure:  # [3.1] refused before any remote call when the installer's version is known here
        raise InvalidOption(
            "configuration_server_version",
            str(cs_version),
            f"a version at or above the installer's {installer.version}",
            failure,
        )
    spec = InstallSpec(
        request=InstallRequest(
            configuration_server_ip=cs_ip,
            install_location=location,
            installer=installer,
            skip_space_check=args["skip_space_check"],
            configuration_server_version=cs_version,
            reboot=args["reboot"],
            passphrase_file=passphrase_file,
        ),
        env_type=unified_setup.canonical_env_type(args["env_type"]),
        data_port=data_port,
        process_server_ip=ps_ip,
        passphrase=passphrase,
        passphrase_file=passphrase_file,
        proxy=proxy,
        settings=settings,
    )
    spec.argv("C:")  # every switch value checked now, before the probe
    return spec


def probe_request(spec: InstallSpec) -> ProbeRequest:
    """What the one probe call must also check for the install preflight: CS on 443, the installer file."""
    installer = spec.request.installer
    return ProbeRequest(
        configuration_server_ip=spec.request.configuration_server_ip,
        configuration_server_port=unified_setup.CONTROL_PORT,
        connect_timeout=PROBE_CONNECT_TIMEOUT,
        installer_path=installer.remote_path,
        installer_checksum=bool(installer.sha256) or installer.transferred,
        installer_upload_name=upload_name_for([installer]),
        passphrase_file=spec.passphrase_file,
    )


def _diff_after(state: ProbedHost, spec: InstallSpec, version: str | None) -> dict[str, Any]:
    after = state.summary()
    after["components"] = {k: version or "(installer version)" for k in install_plan.PS_COMPONENTS}
    after["configuration_server_ip"] = spec.request.configuration_server_ip
    after["data_port"] = spec.data_port
    return after


def ensure_installed(
    action: AsrActionBase,
    host: ProbedHost,
    spec: InstallSpec,
    task_vars: dict[str, Any],
    after_probe: ProbeRequest | None = None,
) -> OperationOutcome:
    """Bring the host to "installed and registered to the configuration server" from its probe ``host``.

    ``after`` is the host once setup ran: read again when the caller asks (``after_probe``), else as setup leaves
    it [1.3]: every component at the installer's version, registered to ``configuration_server_ip``, the MARS proxy
    from the proxy settings file, the services running.
    """
    plan = install_plan.plan_install(host, spec.request)
    for warning in plan.warnings:
        action._warn(warning)
    result: dict[str, Any] = {
        "changed": plan.changed,
        "steps": planned_steps(plan.steps),
        "version_before": plan.version_before,
        "version_after": plan.version_after if plan.changed else plan.version_before,
        "installer_version": plan.installer_version,
        "reboot_required": False,
    }
    if plan.failure:
        raise ActionFailure(plan.failure, refusal=True, **{**result, "changed": False, "steps": []})
    if not plan.changed:
        return OperationOutcome({**result, "msg": plan.reason}, host)
    action.set_diff(result, host.summary(), _diff_after(host, spec, plan.version_after))
    if action.check_mode:
        predicted = _after_install(host, spec, plan.version_after)
        return OperationOutcome({**result, "msg": "check mode: " + "; ".join(plan.steps)}, predicted)
    executor = SetupExecutor(
        action,
        task_vars,
        spec.settings,
        host,
        version_before=plan.version_before,
        configuration_server_ip=spec.request.configuration_server_ip,
        after_probe=after_probe,
    )
    done, plan = _install(executor, plan, spec)
    result.update(done.result_fields(plan))
    if done.exit_code_name is not None:
        result["msg"] = done.setup_msg or (
            f"Process server installed ({done.version_after}) and registered to {spec.request.configuration_server_ip}."
        )
    if done.reboot_required:
        action._warn("Unified Setup needs a reboot to complete (exit code 3010); set reboot: true or reboot the host.")
    expected = _after_install(host, spec, done.version_after)
    return OperationOutcome(result, host_after_setup(action, task_vars, done.read_after, after_probe, expected))


def _after_install(host: ProbedHost, spec: InstallSpec, version: str | None) -> ProbedHost:
    """What setup leaves by its contract [1.3] (check mode's prediction; the real run reads the host again)."""
    return host.after_setup(
        version, registered_to=spec.request.configuration_server_ip, mars_proxy=proxy_plan.shown(spec.proxy)
    )


def _install(
    executor: SetupExecutor, plan: install_plan.Plan, spec: InstallSpec
) -> tuple[SetupDone, install_plan.Plan]:
    """Reboot first and stage when planned, plan again with the staged package, then run setup once."""
    installer = spec.request.installer
    if REBOOT_BEFORE in plan.steps:
        executor.reboot_first()
    if STAGE in plan.steps:
        executor.stage(installer, STAGE)
        plan = install_plan.plan_install(executor.host, spec.request)  # now with the staged file's version
        if plan.failure:
            executor.refuse(plan.failure)
    if RUN_INSTALL not in plan.steps:
        version = executor.host.version
        return executor.nothing_to_run(str(version) if version else None), plan
    secrets: dict[str, str] = {}
    if spec.passphrase is not None:
        secrets[PASSPHRASE_FILE] = spec.passphrase
    if spec.proxy is not None:
        secrets[PROXY_SETTINGS_FILE] = render_proxy_settings(spec.proxy)
    run_dir = executor.new_run_dir()
    hop = SetupHop(
        installer=installer,
        argv=tuple(spec.argv(executor.host.system_drive, run_dir)),
        version=plan.installer_version,
        run_step=RUN_INSTALL,
        cleanup_step=CLEANUP,
        secrets=secrets,
        run_dir=run_dir,
        install_location=spec.request.install_location,
    )
    return executor.run([hop]), plan
