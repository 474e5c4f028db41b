# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared base of the collection's action plugins (ARCHITECTURE.md decisions 2, 4, 5 and 6).

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

A subclass sets ``ARGUMENT_SPEC`` (and optionally ``ARGUMENT_RULES``: ``mutually_exclusive``, ``required_if``, ...), and
implements ``run_asr(args, task_vars)`` returning its result dict. ``module_defaults`` for the ``process_server``
action group hands the group's shared options (:data:`SHARED_OPTIONS`) to every module of the group; a module lists
the ones it uses in its own ``ARGUMENT_SPEC``. The others are still accepted, deprecated (a warning names the
modules that use the option; removed in :data:`SHARED_OPTIONS_REMOVED_IN`), so a play that sets them for the whole
group keeps working until then. The base:

* validates the task's arguments against ``ARGUMENT_SPEC`` before any remote call, and turns an error into
  a task failure naming the option and what it accepts;
* runs the collection's PowerShell scripts (``powershell/loader.py``: ``plugins/plugin_utils/powershell/<name>.ps1``,
  each starting with ``# asr.process_server script: <name> v<N>``; user values go in as parameters only) with
  ``ansible.windows.win_powershell`` and parses the one JSON document they return as ``$Ansible.Result``;
* counts remote calls (``self.remote_calls``, one per ``run_script``) and remembers which could change the host;
* marks a failure ``refused`` when the module refused before any change: the failure is a decision (a bad option,
  a plan that cannot be carried out, a probe finding that blocks) and every remote call it made was read-only;
* turns failures into ``failed``/``msg`` (with a remediation sentence)/``rc``/``stdout``/``stderr``/``log_tail``;
* scrubs every ``no_log`` value from the result and puts the user's arguments (secrets hidden) back in
  ``invocation``;
* offers check-mode and diff helpers (``self.check_mode``, ``self.set_diff``).

The layers of ``plugin_utils`` (docs/dev/layers.md; tests/unit/plugins/test_layers.py keeps them): ``domain/`` is pure
Python (no Ansible, no I/O), ``powershell/`` the scripts and their loader, ``report/`` what the filter plugins
render, and ``operations/`` (this file and the operations built on it) the only part that imports Ansible, besides
the action and filter plugins themselves.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.module_utils.common import parameters as _parameters
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ..domain.errors import AsrError, InvalidOption
from ..domain.playbook_variables import describe, playbook_variable
from ..domain.unified_setup import ENV_TYPES_ALLOWED
from ..powershell.loader import Script, ScriptFileError, load_script

display = Display()

try:  # a WinRM service that dropped the connection or restarted forgot its shells: the winrm plugin's command
    # cleanup then raises pywinrm's WSManFaultError ("the shell was not found on the server"), not an
    # AnsibleConnectionFailure. It is reported as the connection failure it is (tests/reliability/test_faults.py).
    from winrm.exceptions import WinRMError as _WinRMError
    from winrm.exceptions import WinRMTransportError as _WinRMTransportError

    WINRM_ERRORS: tuple[type[BaseException], ...] = (_WinRMError, _WinRMTransportError)
except ImportError:  # pragma: no cover - pywinrm is needed for the winrm connection only
    WINRM_ERRORS = ()

POWERSHELL_MODULE = "ansible.windows.win_powershell"
# Options whose values are checked by the domain core instead of ``choices`` (which Ansible compares
# case-sensitively), with the words a validation message shows for them.
ALLOWED_IN_WORDS = {"env_type": ENV_TYPES_ALLOWED}

# The options module_defaults for the action group may hand to any module of the group (see the module docstring),
# and the modules that use each one (tests/unit/plugins/test_shared_options.py keeps this equal to their specs).
SHARED_OPTIONS: dict[str, dict[str, Any]] = {
    "configuration_server_ip": {"type": "str"},
    "configuration_server_port": {"type": "int"},
    "passphrase": {"type": "str", "no_log": True},
    "passphrase_file": {"type": "str"},
}
SHARED_OPTION_USERS: dict[str, tuple[str, ...]] = {
    "configuration_server_ip": ("info", "install", "process_server", "proxy", "registration", "uninstall", "upgrade"),
    "configuration_server_port": ("info",),
    "passphrase": ("install", "process_server"),
    "passphrase_file": ("install", "process_server"),
}
SHARED_OPTIONS_REMOVED_IN = "1.0.0"
COLLECTION = "asr.process_server"


def deprecated_shared_options(own: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The shared options a module does not use: accepted until removal, marked deprecated in its spec."""
    return {
        name: {**spec, "removed_in_version": SHARED_OPTIONS_REMOVED_IN, "removed_from_collection": COLLECTION}
        for name, spec in SHARED_OPTIONS.items()
        if name not in own
    }


def ignored_option_warning(fqcn: str, option: str) -> str:
    """What a task that sets a shared option this module does not use is told, and what to do instead.

    Ansible appends when it goes ("This feature will be removed from collection ... version 1.0.0.").
    """
    users = ", ".join(f"{COLLECTION}.{name}" for name in SHARED_OPTION_USERS[option])
    return (
        f"{fqcn} does not use the option {option} (it is accepted only so that module_defaults for the action group "
        f"can set it). Set it only for {users} (on the task, or in module_defaults for those modules)."
    )


HIDDEN = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"  # what AnsibleModule shows for a no_log value in invocation
WIN_POWERSHELL_CHECK_MODE_SKIP = "skipped, running in check mode"
# The collection's scripts that only read (ARCHITECTURE.md decision 9): a task that ran nothing else changed nothing.
READ_ONLY_SCRIPTS = frozenset({"probe", "registration_read", "diagnose"})


# ---- failures ----------------------------------------------------------------------------------------------
class ActionFailure(Exception):
    """End the task as failed with a message (that should say what to do) and optional detail fields.

    ``refusal``: the module decided not to act (a finding of its probe blocks the change), as opposed to an action
    that failed; with no change-making call made before it, the result says ``refused: true``.
    """

    def __init__(self, msg: str, *, refusal: bool = False, **detail: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.refusal = refusal
        self.detail = {k: v for k, v in detail.items() if v is not None}

    def to_result(self) -> dict[str, Any]:
        return {"failed": True, "msg": self.msg, **self.detail}


# ---- scripts ----------------------------------------------------------------------------------------------
def parse_script_result(value: Any, identity: str) -> dict[str, Any]:
    """The script's ``$Ansible.Result``: a JSON text (preferred: no depth limit) or an already-converted dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ActionFailure(f"Script {identity} returned text that is not JSON ({exc}).", stdout=value) from exc
    if not isinstance(value, dict):
        raise ActionFailure(f"Script {identity} returned {type(value).__name__}, expected one JSON object.")
    return value


def _error_text(module_result: dict[str, Any]) -> str:
    """win_powershell's error records as the console would print them."""
    records = module_result.get("error") or []
    return "\n".join(str(r.get("output") or r.get("exception", {}).get("message", "")) for r in records).strip()


# ---- no_log ------------------------------------------------------------------------------------------------
def no_log_values(argument_spec: dict[str, Any], params: dict[str, Any]) -> set[str]:
    """Every value of a ``no_log`` option in ``params`` (public name first; private in ansible-core 2.19+)."""
    func = getattr(_parameters, "list_no_log_values", None) or getattr(_parameters, "_list_no_log_values", None)
    if func is not None:
        return set(func(argument_spec, params))
    return {str(params[k]) for k, spec in argument_spec.items() if spec.get("no_log") and params.get(k) is not None}


def hide_no_log_args(argument_spec: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with each ``no_log`` option's value replaced as AnsibleModule shows it in ``invocation``."""
    shown = {}
    for key, value in params.items():
        no_log = argument_spec.get(key, {}).get("no_log")
        shown[key] = HIDDEN if no_log and value is not None else value
    return shown


def option_hint(argument_spec: dict[str, Any], name: str) -> str:
    """What ``name`` accepts, in words: ``'state': one of present, absent (type str)``."""
    spec = argument_spec.get(name, {})
    parts = [f"type {spec.get('type', 'str')}"]
    if spec.get("choices"):
        parts.insert(0, "one of " + ", ".join(str(c) for c in spec["choices"]))
    elif name in ALLOWED_IN_WORDS:
        parts.insert(0, ALLOWED_IN_WORDS[name])
    if spec.get("required"):
        parts.append("required")
    variable = playbook_variable(name)
    fed_by = f" ({variable} in the playbooks)" if variable else ""
    return f"'{name}'{fed_by} accepts {', '.join(parts)}"


def validation_message(load_name: str, argument_spec: dict[str, Any], error: str) -> str:
    """The validator's message plus, for every option it names, what that option accepts."""
    searched = error.split("Supported parameters include", 1)[0]
    named = [n for n in argument_spec if re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", searched)]
    hints = "; ".join(option_hint(argument_spec, n) for n in named)
    msg = f"{load_name}: invalid arguments: {error.rstrip('.')}"
    if hints:
        msg += f". Allowed: {hints}"
    return msg + ". Fix the task's arguments (see ansible-doc " + load_name + ")."


# ---- the base ----------------------------------------------------------------------------------------------
class AsrActionBase(ActionBase):
    """Validate, probe, decide, act, verify -- with the plumbing every module of the collection shares."""

    ARGUMENT_SPEC: dict[str, Any] = {}
    # The rules between options, by the names validate_argument_spec takes (mutually_exclusive, required_together,
    # required_one_of, required_if, required_by): domain/argument_specs.py's <MODULE>_RULES.
    ARGUMENT_RULES: dict[str, Any] = {}
    SUPPORTS_CHECK_MODE = True
    REPORTS_REMOTE_CALLS = False  # install/upgrade document remote_calls in their results
    REPORTS_STEPS = False  # modules that change a host return ``steps`` (domain/steps.py), even on failure

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remote_calls = 0
        self.script_calls: list[str] = []
        self.secrets: set[str] = set()
        self.args: dict[str, Any] = {}
        self._deprecations: list[dict[str, Any]] = []

    # -- entry point ----------------------------------------------------------------------------------------
    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        self._supports_check_mode = self.SUPPORTS_CHECK_MODE
        self._supports_async = False
        result = super().run(tmp, task_vars)
        del tmp
        result.setdefault("changed", False)
        try:
            self.args = self.validated_args()
            result.update(self.run_asr(self.args, task_vars or {}))
            self._count_remote_calls(result)
        except ActionFailure as exc:
            result.update(exc.to_result())
            self._count_remote_calls(result)
            self._mark_refused(result, exc.refusal)
        except InvalidOption as exc:  # a domain-core rule refused an option value: no remote call was needed
            result.update({"failed": True, "msg": f"{self.fqcn}: {describe(exc)}"})
            self._mark_refused(result, True)
        except AsrError as exc:  # a plan that cannot be carried out (PlanningError), decided before acting
            result.update({"failed": True, "msg": str(exc)})
            self._mark_refused(result, True)
        except (AnsibleConnectionFailure, *WINRM_ERRORS) as exc:
            result.update({"unreachable": True, "msg": f"{exc}. Check the WinRM connection to the host and retry."})
        if self.REPORTS_STEPS:
            result.setdefault("steps", [])  # refused before any step: none
        display.vvv(f"{self.fqcn}: {self.remote_calls} remote call(s): {', '.join(self.script_calls)}")
        return self.finish(result)

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def changing_calls(self) -> list[str]:
        """The remote calls made so far that can change the host (every call but the read-only scripts)."""
        return [call for call in self.script_calls if call.split(" v", 1)[0] not in READ_ONLY_SCRIPTS]

    def _mark_refused(self, result: dict[str, Any], refusal: bool) -> None:
        """``refused: true`` on a refusal made before any change-making call (nothing was changed on the host).

        The fleet playbooks' screening (the task in check mode) relies on it: a refused host is failed in the
        rolling play with this message, and the module is not called there again (domain/health.py).
        """
        if refusal and not self.changing_calls():
            result["refused"] = True
            result["changed"] = False

    def _count_remote_calls(self, result: dict[str, Any]) -> None:
        """``remote_calls`` in the result, succeeded or failed, for the modules that document it."""
        if self.REPORTS_REMOTE_CALLS:
            result["remote_calls"] = self.remote_calls

    # -- arguments ------------------------------------------------------------------------------------------
    def validated_args(self) -> dict[str, Any]:
        """Validated, coerced args with defaults, via ``ActionBase.validate_argument_spec``; no remote call."""
        try:
            _result, args = self.validate_argument_spec(argument_spec=self.argument_spec, **self.ARGUMENT_RULES)
        except AnsibleActionFail as exc:
            self.secrets |= no_log_values(self.argument_spec, dict(self._task.args))
            error = getattr(exc, "message", None) or str(exc)
            error = error.replace(f"({self._load_name}) module", f"({self.fqcn}) module")
            # decided before any remote call: a refusal (the fleet playbooks' screening does not call it again)
            raise ActionFailure(validation_message(self.fqcn, self.argument_spec, error), refusal=True) from exc
        self.secrets |= no_log_values(self.argument_spec, args)
        self._warn_ignored_options()
        return args

    @property
    def argument_spec(self) -> dict[str, Any]:
        """The module's own options, and the group's shared options it does not use (deprecated)."""
        return {**deprecated_shared_options(self.ARGUMENT_SPEC), **self.ARGUMENT_SPEC}

    def _warn_ignored_options(self) -> None:
        """A deprecation for each shared option the task sets (module_defaults included) that this module ignores."""
        given = self._task.args
        for option in deprecated_shared_options(self.ARGUMENT_SPEC):
            if given.get(option) is not None:
                self._deprecations.append(
                    {
                        "msg": ignored_option_warning(self.fqcn, option),
                        "version": SHARED_OPTIONS_REMOVED_IN,
                        "collection_name": COLLECTION,
                    }
                )

    @property
    def fqcn(self) -> str:
        """``asr.process_server.<module>``, for messages (``_load_name`` is unset outside the plugin loader)."""
        return "asr.process_server." + type(self).__module__.rsplit(".", 1)[-1]

    @property
    def check_mode(self) -> bool:
        return bool(self._task.check_mode)

    # -- remote calls ---------------------------------------------------------------------------------------
    def run_script(
        self,
        name: str,
        task_vars: dict[str, Any],
        parameters: dict[str, Any] | None = None,
        sensitive: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run collection script ``name`` with win_powershell (one remote call); return its parsed JSON.

        ``parameters`` are bound to the script's ``param()`` block; ``sensitive`` values go as SecureStrings
        (``sensitive_parameters``) and are added to the values scrubbed from the result.
        """
        try:
            script = load_script(name)
        except ScriptFileError as exc:  # a broken installation of the collection, not a host problem
            raise AnsibleActionFail(str(exc)) from exc
        module_args: dict[str, Any] = {"script": script.text, "parameters": dict(parameters or {})}
        if sensitive:
            self.secrets |= {str(v) for v in sensitive.values() if v}
            module_args["sensitive_parameters"] = [{"name": k, "value": v} for k, v in sensitive.items()]
        self.remote_calls += 1
        self.script_calls.append(script.identity)
        module_result = self._execute_module(
            module_name=POWERSHELL_MODULE, module_args=module_args, task_vars=task_vars
        )
        return self._script_result(script, module_result)

    def _script_result(self, script: Script, module_result: dict[str, Any]) -> dict[str, Any]:
        for warning in module_result.get("warning") or module_result.get("warnings") or []:
            self._warn(f"{script.identity}: {warning}")
        if module_result.get("failed") or module_result.get("unreachable"):
            raise self._script_failure(script, module_result)
        if module_result.get("msg") == WIN_POWERSHELL_CHECK_MODE_SKIP:
            raise ActionFailure(
                f"Script {script.identity} was skipped in check mode: it must declare "
                "[CmdletBinding(SupportsShouldProcess)] (a collection bug: please report it)."
            )
        return parse_script_result(module_result.get("result"), script.identity)

    def _script_failure(self, script: Script, module_result: dict[str, Any]) -> ActionFailure:
        errors = _error_text(module_result)
        reason = module_result.get("msg") or errors or "no error message"
        return ActionFailure(
            f"Script {script.identity} failed on the host: {reason}. Check that the connection user is a local "
            "administrator (or use become) and read stderr for the PowerShell error.",
            rc=module_result.get("rc", 1),
            stdout=module_result.get("host_out", ""),
            stderr="\n".join(t for t in (module_result.get("host_err", ""), errors) if t),
        )

    # -- results --------------------------------------------------------------------------------------------
    def _warn(self, text: str) -> None:
        self._warnings = [*getattr(self, "_warnings", []), text]

    def set_diff(self, result: dict[str, Any], before: Any, after: Any) -> None:
        """Attach ``diff`` when the task runs with ``--diff``."""
        if self._task.diff:
            result["diff"] = {"before": before, "after": after}

    def finish(self, result: dict[str, Any]) -> dict[str, Any]:
        """Warnings merged, user's args (secrets hidden) in ``invocation``, every no_log value scrubbed."""
        warnings = [*result.get("warnings", []), *getattr(self, "_warnings", [])]
        if warnings:
            result["warnings"] = warnings
        deprecations = [*result.get("deprecations", []), *getattr(self, "_deprecations", [])]
        if deprecations:
            result["deprecations"] = deprecations
        shown = self.args or dict(self._task.args)
        result["invocation"] = {"module_args": hide_no_log_args(self.argument_spec, shown)}
        return remove_values(result, self.secrets) if self.secrets else result
