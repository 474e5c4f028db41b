# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.process_server: one task for the converged state of a scale-out process server.

validate every option (no remote call) -> ONE probe with the union of what the operations the state needs must
check (``ProbeRequest.union``), read once (``ProbedHost``) -> compose the operations in order, each planning from
the host as the one before left it (its ``OperationOutcome.after``: setup's is read again by setup's cleanup call,
the proxy's and the registration's follow from their verified results, check mode's are predicted):

* ``present``/``latest``: install (``_op_install.ensure_installed``) or, for ``latest``, upgrade -> MARS proxy
  (``_op_proxy.ensure_proxy``) -> registration (``_op_register.ensure_registered``);
* ``absent``: the ordered uninstall (``_op_uninstall.ensure_decommissioned``);
* ``staged``: only the Unified Setup package, put at its staging path and checked there (``_op_stage``), nothing of
  the product changed: what a fleet rollout does on every host before the canary. It does not wait for a transfer
  the host makes itself (URL, share): the result says ``staged`` or not, so a play can start every host's download
  at once and then wait with ``until`` (playbooks/site.yml).

A host already in the desired state costs exactly the probe (ARCHITECTURE.md decision 4). The option set is
composed from the other modules' specs (install's options under their own names, the proxy module's
``update_password`` inside ``proxy``, register's ``force`` as ``force_reregister``, uninstall's options), so
there is one source of truth and a playbook can switch between this module and the single-purpose ones.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    argument_specs,
    install_plan,
    proxy_plan,
    registration_plan,
    steps,
    unified_setup,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError, InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.playbook_variables import describe
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import ProbedHost, ProbeRequest
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.versions import parse_version
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import install as _op_install
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import proxy as _op_proxy
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import registration as _op_register
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import stage as _op_stage
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import uninstall as _op_uninstall
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import upgrade as _op_upgrade
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import (
    ActionFailure,
    AsrActionBase,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.installers import (
    intermediate_installer,
    resolve_installer,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.probe import probe_host


def _view(host: ProbedHost) -> dict[str, Any]:
    """The ``diff`` view of a host: component versions, MARS proxy (never a password), registration."""
    asr = host.asr
    mars_installed = bool(((asr.get("components") or {}).get("recovery_services_agent") or {}).get("installed"))
    registration = asr.get("registration") or {}
    return {
        "components": {key: host.components.get(key) for key in install_plan.PS_COMPONENTS},
        "proxy": proxy_plan.current_mars_proxy(asr) if mars_installed else None,
        "registration": {
            "registered": bool(registration.get("registered")) and bool(asr.get("installed")),
            "configuration_server_ip": registration.get("configuration_server_ip"),
        },
    }


def _same_version(text: str, version: Any) -> bool:
    """A file version (maybe with text after the number) equals ``version``."""
    try:
        return parse_version(text.split()[0], "file_version") == version
    except (InvalidOption, IndexError):
        return True  # an unreadable version resource is not refused (setup_start reads it again)


def _stage_message(installer: Any, outcome: dict[str, Any]) -> str:
    state = outcome.get("state")
    transfer = outcome.get("transfer") or {}
    if state == _op_stage.STAGED:
        resumed = transfer.get("resumed_from")
        return f"the package from {installer.shown} is staged at {installer.remote_path} (SHA-256 checked)" + (
            f"; its transfer resumed at byte {resumed}" if resumed else ""
        )
    if state == _op_stage.RUNNING:
        done, total = transfer.get("bytes_done"), transfer.get("bytes_total")
        return f"the host is transferring the package from {installer.shown} ({done} of {total or '?'} bytes)"
    return f"check mode: the package from {installer.shown} would be staged at {installer.remote_path}"


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.PROCESS_SERVER
    REPORTS_STEPS = True
    ARGUMENT_RULES = argument_specs.PROCESS_SERVER_RULES

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        # Each operation's own result (``operations``) and every step, in order, in the shared shape (``steps``).
        self.operations: dict[str, dict[str, Any]] = {}
        self.steps: list[dict[str, Any]] = []
        self.reboot_required = False
        if args["state"] == "absent":
            return self._absent(args, task_vars)
        if args["state"] == "staged":
            return self._staged(args, task_vars)
        return self._converge(args, task_vars)

    # -- validation (no remote call) -----------------------------------------------------------------------
    @staticmethod
    def _proxy_request(args: dict[str, Any]) -> proxy_plan.ProxyRequest | None:
        """The wanted MARS proxy, checked once here, before any remote call (None: proxy not managed)."""
        proxy = args.get("proxy")
        if proxy is None:
            return None
        proxy_args = {
            "state": proxy["state"],
            "proxy_address": proxy.get("address"),
            "proxy_port": proxy.get("port"),
            "proxy_username": proxy.get("username"),
            "proxy_password": proxy.get("password"),
            "update_password": proxy["update_password"],
        }
        try:
            return proxy_plan.proxy_request(proxy_args)
        except InvalidOption as exc:
            name = argument_specs.PROXY_OPTION_NAMES.get(exc.option, exc.option)
            allowed = exc.allowed.replace("state=", "proxy.state=")
            raise InvalidOption(name, exc.value, allowed, exc.why) from exc

    @staticmethod
    def _check_absent(args: dict[str, Any]) -> None:
        if args.get("proxy") is not None:
            raise InvalidOption(
                "proxy",
                "(a proxy)",
                "nothing with state=absent",
                "state=absent removes the process server (and the MARS agent unless keep_mars_agent).",
            )
        if args.get("force_reregister"):
            raise InvalidOption(
                "force_reregister", True, "false with state=absent", "A process server being removed is not registered."
            )

    # -- one operation ---------------------------------------------------------------------------------------
    def _record(self, name: str, entry: dict[str, Any]) -> dict[str, Any]:
        """Keep an operation's result under ``operations`` and its steps, marked with it, in ``steps``."""
        entry.pop("diff", None)
        entry.pop("invocation", None)
        self.steps += steps.in_operation(entry.pop("steps", None) or [], name)
        self.operations[name] = entry
        return entry

    def _changed(self) -> bool:
        return any(entry.get("changed") for entry in self.operations.values())

    def _failure(self, name: str, exc: Exception) -> ActionFailure:
        """A failed operation: what ran before it, the operation's own detail, and the remote calls so far."""
        if isinstance(exc, ActionFailure):
            failure = exc
            detail = dict(failure.detail)
        else:  # a domain-core refusal (InvalidOption, PlanningError): decided before that operation acted
            failure = ActionFailure(describe(exc) if isinstance(exc, InvalidOption) else str(exc), refusal=True)
            detail = {}
        done = detail.pop("steps", None) or []
        self._record(
            name, {**detail, "changed": bool(detail.get("changed")), "failed": True, "msg": failure.msg, "steps": done}
        )
        failure.msg = f"{name}: {failure.msg}"
        failure.detail = {
            **{k: v for k, v in detail.items() if k not in ("changed",)},
            "changed": self._changed(),
            "steps": self.steps,
            "operations": self.operations,
            "remote_calls": self.remote_calls,
        }
        return failure

    # -- present / latest ------------------------------------------------------------------------------------
    def _converge(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        proxy = self._proxy_request(args)
        staging = unified_setup.check_staging_dir(args["staging_dir"])
        installer = resolve_installer(self, args, staging)
        install_args = dict(args)
        # Setup gets the wanted proxy (it needs it to reach Azure and sets the MARS proxy from it [1.3]);
        # proxy.state=absent installs with a direct connection.
        install_args["proxy"] = (
            None
            if proxy is None or proxy.wanted is None
            else {k: args["proxy"].get(k) for k in ("address", "port", "username", "password")}
        )
        spec = _op_install.install_spec(install_args, installer)
        # The upgrade is validated for state=latest only (present never upgrades); installers need it.
        upgrade = None
        if args["state"] == "latest":
            intermediate = [
                intermediate_installer(self, item, index, staging) for index, item in enumerate(args["installers"])
            ]
            upgrade = _op_upgrade.upgrade_spec(args, installer, intermediate)
        elif args["installers"]:
            raise InvalidOption("installers", "(a list)", "an empty list unless state=latest (only upgrades use them)")
        # ONE probe with the union of what each operation needs: install's preflight (CS on 443, the
        # installer file), upgrade's installer file, the proxy's settings-file facts, the registration's
        # reachability of the CS.
        request = ProbeRequest().union(
            _op_proxy.probe_request(proxy),
            _op_register.probe_request(),
            _op_install.probe_request(spec),
            _op_upgrade.probe_request(upgrade) if upgrade is not None else ProbeRequest(),
        )
        probed = probe_host(self, task_vars, request)
        before = _view(probed)
        version_before = probed.asr.get("build_version")
        if probed.asr.get("role") == "configuration_server":
            raise ActionFailure(
                f"The host is a configuration server (CX_TYPE {probed.asr.get('cx_type')}); "
                f"{self.fqcn} manages scale-out process servers only.",
                refusal=True,
                remote_calls=self.remote_calls,
            )
        # Before ANY step: the proxy procedure and the re-registration run cdpcli --registermt with the configured
        # server, and /Upgrade keeps it, so a process server of another configuration server is left as it is.
        try:
            registration_plan.check_configuration_server(probed.asr, args["configuration_server_ip"])
        except AsrError as exc:
            raise ActionFailure(
                str(exc), refusal=True, steps=self.steps, operations=self.operations, remote_calls=self.remote_calls
            ) from exc

        host = self._setup_step(probed, spec, upgrade, task_vars, request)
        proxy_registered_mt = False
        if proxy is not None:
            host, proxy_registered_mt = self._proxy_step(host, proxy, task_vars)
        else:
            self._record("proxy", {"changed": False, "steps": [], "msg": "proxy not managed (no proxy option)"})
        host = self._registration_step(host, args, proxy_registered_mt, task_vars)
        return self._result(before, host, version_before)

    def _setup_step(
        self,
        probed: ProbedHost,
        spec: _op_install.InstallSpec,
        upgrade: _op_upgrade.UpgradeSpec | None,
        task_vars: dict[str, Any],
        request: ProbeRequest,
    ) -> ProbedHost:
        """Install (not complete), upgrade (``latest``), or nothing; the host as the next steps must see it (the
        operation's ``after``: read again with this task's probe after setup ran, predicted in check mode)."""
        if probed.complete and upgrade is None:
            self._record(
                "install",
                {
                    "changed": False,
                    "steps": [],
                    "msg": f"installed at {probed.version}; state=present does not upgrade (state=latest does)",
                    "version_before": str(probed.version),
                    "version_after": str(probed.version),
                },
            )
            return probed
        operation = "install" if not probed.complete else "upgrade"
        try:
            if upgrade is None or operation == "install":
                outcome = _op_install.ensure_installed(self, probed, spec, task_vars, after_probe=request)
            else:
                outcome = _op_upgrade.ensure_upgraded(self, probed, upgrade, task_vars, after_probe=request)
        except (ActionFailure, AsrError) as exc:
            raise self._failure(operation, exc) from exc
        self._record(operation, outcome.result)
        self.reboot_required = self.reboot_required or bool(outcome.result.get("reboot_required"))
        return outcome.after

    def _proxy_step(
        self, host: ProbedHost, proxy: proxy_plan.ProxyRequest, task_vars: dict[str, Any]
    ) -> tuple[ProbedHost, bool]:
        """The MARS proxy; whether its procedure re-registered the master target (``cdpcli --registermt`` [8])."""
        try:
            outcome = _op_proxy.ensure_proxy(self, host, proxy, task_vars)
        except (ActionFailure, AsrError) as exc:
            raise self._failure("proxy", exc) from exc
        self._record("proxy", outcome.result)
        return outcome.after, bool(outcome.result["changed"] and outcome.result.get("registered_mt"))

    def _registration_step(
        self, host: ProbedHost, args: dict[str, Any], proxy_registered_mt: bool, task_vars: dict[str, Any]
    ) -> ProbedHost:
        # The proxy procedure already ran cdpcli --registermt and restarted obengine [8]: that IS the documented
        # re-registration [3.3], so force_reregister is satisfied and not run twice.
        force = bool(args.get("force_reregister")) and not proxy_registered_mt
        reg_args = {"configuration_server_ip": args["configuration_server_ip"], "force": force}
        try:
            outcome = _op_register.ensure_registered(self, host, reg_args, task_vars)
        except (ActionFailure, AsrError) as exc:
            raise self._failure("registration", exc) from exc
        entry = self._record("registration", outcome.result)
        if proxy_registered_mt:
            entry["msg"] = "the proxy change re-registered the master target (cdpcli.exe --registermt) [8]"
        return outcome.after

    # -- staged ----------------------------------------------------------------------------------------------
    def _staged(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        """The package at its staging path, checked there; nothing of the product changes (safe before a canary)."""
        settings = _op_install.check_timing(args)
        installer = resolve_installer(self, args, settings.staging_dir)
        if not installer.transferred:
            raise InvalidOption(
                "installer_remote_path",
                args.get("installer_remote_path"),
                "installer, installer_url or a UNC installer_remote_path with state=staged",
                "A package on a local drive of the host is already where setup reads it: there is nothing to stage.",
            )
        stager = _op_stage.PackageStager(self, task_vars, settings.poll_interval, settings.setup_timeout)
        try:
            outcome = stager.ensure(installer, wait=False)
        except ActionFailure as exc:
            raise self._failure("stage", exc) from exc
        package = outcome.get("package") or {}
        staged = outcome.get("state") == _op_stage.STAGED
        if staged and installer.version is not None:
            found = package.get("file_version") or package.get("product_version")
            if found and not _same_version(found, installer.version):
                raise self._failure(
                    "stage",
                    ActionFailure(
                        f"The staged package from {installer.shown} is version {found}, not {installer.version} "
                        "(installer_version): correct installer_version or the package. Nothing else was changed."
                    ),
                )
        changed = stager.changed or (self.check_mode and not staged)
        entry = self._record(
            "stage",
            {
                "changed": bool(changed),
                "steps": steps.planned([install_plan.STAGE]) if changed else [],
                "msg": _stage_message(installer, outcome),
            },
        )
        return {
            "changed": entry["changed"],
            "state": "staged",
            "staged": staged,
            "source": installer.shown,
            "package": package,
            "transfer": outcome.get("transfer"),
            "steps": self.steps,
            "operations": self.operations,
            "actions": [f"stage: {install_plan.STAGE}"] if entry["changed"] else [],
            "version_before": None,
            "version_after": None,
            "reboot_required": False,
            "remote_calls": self.remote_calls,
        }

    # -- absent ----------------------------------------------------------------------------------------------
    def _absent(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        self._check_absent(args)
        probed = probe_host(self, task_vars, _op_uninstall.probe_request())
        before = _view(probed)
        try:
            outcome = _op_uninstall.ensure_decommissioned(self, probed, args, task_vars)
        except (ActionFailure, AsrError) as exc:
            raise self._failure("uninstall", exc) from exc
        self.reboot_required = bool(outcome.result.get("reboot_required"))
        self._record("uninstall", outcome.result)
        return self._result(before, outcome.after, probed.asr.get("build_version"))

    # -- the result ------------------------------------------------------------------------------------------
    def _result(self, before: dict[str, Any], host: ProbedHost, version_before: str | None) -> dict[str, Any]:
        after = _view(host)
        actions = []
        for name, entry in self.operations.items():
            if entry.get("changed"):
                names = [s["name"] for s in self.steps if s["operation"] == name]
                actions.append(f"{name}: " + ", ".join(names) if names else name)
        result: dict[str, Any] = {
            "changed": self._changed(),
            "state": self.args["state"],
            "steps": self.steps,
            "operations": self.operations,
            "actions": actions,
            "version_before": version_before,
            "version_after": after["components"]["configuration_process_server"],
            "reboot_required": self.reboot_required,
            "remote_calls": self.remote_calls,
        }
        self.set_diff(result, before, after)
        return result
