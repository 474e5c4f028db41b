"""Registry of the collection's own PowerShell scripts (lab/DESIGN.md, layer ``lab/scripts.py``).

The collection ships its PowerShell as files that carry a stable identity header (ARCHITECTURE.md decision 5)::

    # asr.process_server script: <name> v<N>

The lab recognises a script ONLY by that line -- never by guessing from its body -- and answers it with a
handler registered here that reads and changes the emulated host's state the way the real script would on
Windows. A script whose identity has no handler is an error that names it (the lab fails loudly rather than
pretending).

``run`` returns the fields ``ansible.windows.win_powershell`` returns (``result``, ``output``, ``error``,
``host_out``, ``host_err``, ``information``, ``verbose``, ``debug``, ``warning``, ``changed``, and
``failed``/``msg`` when the script failed), so ``lab.dispatch`` can wrap it as that module's result.

Building blocks handlers use (on ``ScriptContext``): registry/service/file reads, the products installed by
DisplayName ([6.1] SRC IsSoftwareInstalledWow6432), running a program, and running a program detached and
polling it (``start_program``/``poll_program``, backed by ``lab.asr.installer.start_setup``/``poll_setup``
for Unified Setup -- the start/poll shape ansible-windows-practice.md recommends for long operations).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab import programs
from lab.state import Host

HEADER_RE = re.compile(r"^\s*#\s*asr\.process_server script:\s*(?P<name>[A-Za-z0-9_.\-]+)\s+v(?P<version>\d+)\s*$")
HEADER_SCAN_LINES = 10  # the header is the first non-empty line, or within the first lines (after #Requires...)


class UnknownScriptError(LookupError):
    """A script identity the lab has no handler for."""


class ScriptFailure(Exception):
    """Raised by a handler to end the script with a terminating error (like ``throw`` in PowerShell)."""


def identify(script_text: str) -> tuple[str, int] | None:
    """``(name, version)`` from the identity header, or None when the text carries none."""
    seen = 0
    for line in script_text.lstrip("\ufeff").splitlines():
        if not line.strip():
            continue
        m = HEADER_RE.match(line)
        if m:
            return m.group("name"), int(m.group("version"))
        seen += 1
        if seen >= HEADER_SCAN_LINES:
            break
    return None


@dataclass
class ScriptContext:
    host: Host
    name: str
    version: int
    parameters: dict[str, Any]
    sensitive_parameters: dict[str, Any]
    check_mode: bool
    user: str
    become: bool
    output: list[Any] = field(default_factory=list)
    host_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    verbose: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    changed: bool = True  # win_powershell reports changed unless the script sets $Ansible.Changed = $false
    result: Any = field(default_factory=dict)
    failed: bool = False

    # ---- parameters --------------------------------------------------------------------------------
    def param(self, name: str, default: Any = None) -> Any:
        """A (non-sensitive) parameter, case-insensitive like PowerShell's parameter binding."""
        for key, value in self.parameters.items():
            if key.lower() == name.lower():
                return value
        return default

    def secret(self, name: str, default: Any = None) -> Any:
        """A sensitive parameter (SecureString/PSCredential on Windows): the plain value for the emulation."""
        for key, value in self.sensitive_parameters.items():
            if key.lower() == name.lower():
                return value
        return default

    # ---- streams -----------------------------------------------------------------------------------
    def write_output(self, value: Any) -> None:
        self.output.append(value)

    def write_host(self, text: str) -> None:
        self.host_out.append(text)

    def write_warning(self, text: str) -> None:
        self.warnings.append(text)

    def write_error(self, message: str, category: str = "NotSpecified", error_id: str = "") -> None:
        """A non-terminating error record shaped like win_powershell's ``error`` entries."""
        self.errors.append(_error_record(self.name, message, category, error_id))

    # ---- reads -------------------------------------------------------------------------------------
    def registry_values(self, key: str) -> dict[str, Any]:
        return self.host.reg_values(key)

    def registry_value(self, key: str, name: str, default: Any = None) -> Any:
        return self.host.reg_get(key, name, default)

    def service(self, name: str) -> dict[str, Any] | None:
        return self.host.service(name)

    def file_text(self, path: str) -> str | None:
        return self.host.read_text(path) if self.host.is_file(path) else None

    def installed_products(self) -> list[dict[str, Any]]:
        from lab.asr import products

        return products.installed_products(self.host)

    # ---- programs ----------------------------------------------------------------------------------
    def run_program(self, command_line: str, cwd: str | None = None) -> programs.ProcessResult:
        return programs.run(self.host, command_line, user=self.user, become=self.become, cwd=cwd)

    def start_program(self, command_line: str, cwd: str | None = None) -> dict[str, Any]:
        """Start a program detached (Unified Setup runs are long) and return its run record."""
        from lab.asr import installer

        return installer.start_setup(self.host, command_line, self.user, self.become, cwd=cwd)

    def poll_program(self, run_id: str) -> dict[str, Any]:
        from lab.asr import installer

        return installer.poll_setup(self.host, run_id)

    def run_cmdlet(self, name: str, parameters: dict[str, Any]) -> programs.CmdletResult:
        return programs.run_cmdlet(self.host, name, parameters, user=self.user, become=self.become)


ScriptHandler = Callable[[ScriptContext], Any]
_REGISTRY: dict[tuple[str, int], ScriptHandler] = {}


def register(name: str, version: int) -> Callable[[ScriptHandler], ScriptHandler]:
    """Register the handler for the script whose header is ``# asr.process_server script: <name> v<version>``.

    The handler reads/changes ``ctx.host`` and either returns the value for ``$Ansible.Result`` (or sets
    ``ctx.result``), writes output/host/warning/error streams, sets ``ctx.changed``, or raises
    ``ScriptFailure`` for a terminating error.
    """

    def decorate(func: ScriptHandler) -> ScriptHandler:
        key = (name, int(version))
        if key in _REGISTRY and _REGISTRY[key] is not func:
            raise ValueError(f"lab: a handler for script {name} v{version} is already registered")
        _REGISTRY[key] = func
        return func

    return decorate


def unregister(name: str, version: int) -> None:
    _REGISTRY.pop((name, int(version)), None)


def registered() -> list[tuple[str, int]]:
    _load_handlers()
    return sorted(_REGISTRY)


def _load_handlers() -> None:
    """Import the modules that register handlers for the collection's scripts (they come with the modules)."""
    import importlib

    import lab.asr  # noqa: F401

    importlib.import_module("lab.collection_scripts")  # handlers of the collection's scripts (probe, ...)


def run(
    host: Host,
    name: str,
    version: int,
    parameters: dict[str, Any],
    sensitive_parameters: dict[str, Any],
    *,
    check_mode: bool,
    user: str,
    become: bool,
) -> dict[str, Any]:
    """Run a recognised collection script against ``host``; win_powershell-shaped result fields."""
    _load_handlers()
    from lab.asr.installer import settle

    settle(host)  # detached Unified Setup runs whose time has come have finished by now
    handler = _REGISTRY.get((name, int(version)))
    if handler is None:
        known = ", ".join(f"{n} v{v}" for n, v in sorted(_REGISTRY)) or "none"
        raise UnknownScriptError(
            f"lab: no emulation for collection script '{name} v{version}' "
            f"(header '# asr.process_server script: {name} v{version}'); known: {known}"
        )
    ctx = ScriptContext(
        host=host,
        name=name,
        version=int(version),
        parameters=dict(parameters or {}),
        sensitive_parameters=dict(sensitive_parameters or {}),
        check_mode=check_mode,
        user=user,
        become=become,
    )
    message = None
    try:
        returned = handler(ctx)
        if returned is not None:
            ctx.result = returned
    except ScriptFailure as exc:
        ctx.failed = True
        message = str(exc)
        ctx.errors.append(_error_record(name, message, "OperationStopped", "ScriptFailure"))
    fields: dict[str, Any] = {
        "changed": bool(ctx.changed),
        "result": ctx.result,
        "output": list(ctx.output),
        "error": list(ctx.errors),
        "host_out": "".join(line if line.endswith("\n") else line + "\r\n" for line in ctx.host_out),
        "host_err": "",
        "information": [],
        "verbose": list(ctx.verbose),
        "debug": [],
        "warning": list(ctx.warnings),
    }
    if ctx.failed:
        fields["failed"] = True
        fields["msg"] = message or "script failed"
    return fields


def _error_record(script: str, message: str, category: str, error_id: str) -> dict[str, Any]:
    """One ``error`` entry as win_powershell returns it (a subset of its documented keys)."""
    return {
        "output": f"{message}\r\n    + CategoryInfo          : {category}: (:) [], RuntimeException\r\n",
        "error_details": None,
        "exception": {
            "message": message,
            "type": "System.Management.Automation.RuntimeException",
            "help_link": None,
            "source": "System.Management.Automation",
            "hresult": -2146233087,
            "inner_exception": None,
        },
        "target_object": None,
        "category_info": {
            "category": category,
            "category_id": 0,
            "activity": "",
            "reason": "RuntimeException",
            "target_name": "",
            "target_type": "",
        },
        "fully_qualified_error_id": error_id or message,
        "script_stack_trace": f"at <ScriptBlock>, <{script}>: line 1",
        "pipeline_iteration_info": [],
    }
