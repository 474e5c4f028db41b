"""The single entry point the WinRM server calls (lab/DESIGN.md, ``lab/dispatch.py``).

``handle(estate, host_name, request)`` opens the host (locked, fresh from disk, saved when changed) and
routes a ``ModuleRequest`` to its module emulation, a ``FileRequest`` to ``lab.fileops`` and a ``RawRequest``
to ``lab.rawps``. It never raises for a host-side failure: it answers what Windows would (a module's
``{"failed": true, "msg": ...}`` JSON with rc 1, or PowerShell error text on stderr with rc 1). Anything the
lab does not emulate fails loudly, naming the module or the script's first line.
"""

from __future__ import annotations

import contextlib
import json
import random
import traceback
from typing import Any

from lab import argspec, fileops, pshost, rawps
from lab.argspec import ModuleFailure, ModuleSkipped, Validated
from lab.requests import FileRequest, ModuleRequest, RawRequest, Reply
from lab.state import Estate, Host
from lab.winmodules import MODULES
from lab.winmodules._common import Context, environment, join_path, scripts_module
from lab.winmodules.basic import async_jobs, settle_async_jobs

# Names under which ansible-core may send the modules the lab emulates (winrm-wire.md: params.Script names
# the module; ansible.builtin setup/async_status resolve to the ansible.windows .ps1 on Windows hosts)
_NAMESPACES = ("ansible.windows.", "ansible.builtin.", "ansible.legacy.")


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str) + "\r\n"


def connection_user(host: Host) -> str:
    return str(host.data.get("credentials", {}).get("username", "Administrator"))


def handle(estate: Estate, host_name: str, request: ModuleRequest | FileRequest | RawRequest) -> Reply:
    try:
        # a collection script needs a pwsh worker: taken before the host's lock (see lab.pshost.reserved)
        uses_pwsh = isinstance(request, ModuleRequest) and _short(request.module) == "win_powershell"
        with pshost.reserved() if uses_pwsh else contextlib.nullcontext(), estate.open_host(host_name) as host:
            return route(host, request)
    except Exception as exc:  # a lab defect: fail loudly, and leave the host state unsaved
        identity = request.module if isinstance(request, ModuleRequest) else type(request).__name__
        message = f"lab: internal error while emulating {identity}: {type(exc).__name__}: {exc}"
        if isinstance(request, ModuleRequest):
            return Reply(
                stdout=_json({"failed": True, "msg": message, "exception": traceback.format_exc()}),
                rc=1,
                identity=request.module,
                journal_args=journal_args(request),
            )
        return Reply(stdout="", stderr=message + "\r\n" + traceback.format_exc(), rc=1, identity=identity)


def route(host: Host, request: ModuleRequest | FileRequest | RawRequest) -> Reply:
    """Answer one request against an already opened host."""
    if isinstance(request, ModuleRequest):
        return module_reply(host, request)
    user = connection_user(host)
    if isinstance(request, FileRequest):
        reply = fileops.handle(host, request, user)
        reply.identity = request.action
        reply.journal_args = {k: v for k, v in request.params.items()}
        return reply
    if isinstance(request, RawRequest):
        return rawps.handle(host, request, user)
    raise TypeError(f"unknown request type {type(request).__name__}")


# ---- modules ------------------------------------------------------------------------------------------------
def _short(module: str) -> str | None:
    for prefix in _NAMESPACES:
        if module.startswith(prefix):
            return module[len(prefix) :]
    return None if "." in module else module


def _no_log_values(module: str, args: dict[str, Any]) -> set[str]:
    """Values of the module's no_log options in ``args`` (aliases and list-of-dict sub-options included)."""
    values: set[str] = set()
    try:
        spec = argspec.module_spec(module)
    except KeyError:
        return values

    def walk(options: dict[str, argspec.Option], params: dict[str, Any]) -> None:
        for option in options.values():
            for key in (option.name, *option.aliases):
                if key not in params or params[key] in (None, ""):
                    continue
                value = params[key]
                if option.no_log:
                    values.add(argspec.parse_str(value))
                if option.options:
                    for element in value if isinstance(value, list) else [value]:
                        if isinstance(element, dict):
                            walk(option.options, element)

    walk(spec.options, args)
    return values


def journal_args(request: ModuleRequest) -> dict[str, Any]:
    """The arguments as the journal may show them: no_log values become VALUE_SPECIFIED_IN_NO_LOG_PARAMETER."""
    secrets = _no_log_values(request.module, request.args)
    return argspec.remove_no_log_values(dict(request.args), secrets) if secrets else dict(request.args)


def _identity(request: ModuleRequest) -> str:
    if _short(request.module) == "win_powershell" and isinstance(request.args.get("script"), str):
        found = scripts_module().identify(request.args["script"])
        if found:
            return f"{found[0]} v{found[1]}"
    return request.module


def module_reply(host: Host, request: ModuleRequest) -> Reply:
    identity = _identity(request)
    redacted = journal_args(request)
    result, rc, duration = run_module(host, request)
    if request.async_jid is not None:
        started = start_async(host, request, result, duration)
        return Reply(stdout=_json(started), identity=identity, journal_args=redacted)
    return Reply(stdout=_json(result), rc=rc, identity=identity, journal_args=redacted)


def run_module(host: Host, request: ModuleRequest) -> tuple[dict[str, Any], int, float]:
    """(result, rc, seconds the module's programs took)."""
    short = _short(request.module)
    if short is None or short not in MODULES:
        msg = f"lab: module '{request.module}' is not emulated by the lab (emulated: {', '.join(sorted(MODULES))})"
        return {"failed": True, "changed": False, "msg": msg}, 1, 0.0
    user = request.become_user or connection_user(host)
    env = environment(host, user)
    spec = argspec.module_spec(short)
    internal = dict(request.internal)
    internal.setdefault("_ansible_check_mode", request.check_mode)
    internal.setdefault("_ansible_diff", request.diff)
    try:
        validated = argspec.validate(short, request.args, internal, env=env)
    except ModuleSkipped as skipped:
        return skipped.result, 0, 0.0
    except ModuleFailure as failure:
        return _failed(spec.style, failure, None), 1, 0.0
    ctx = Context(
        host=host,
        request=request,
        validated=validated,
        user=user,
        become=request.become_user is not None,
        env=env,
    )
    try:
        result = MODULES[short](ctx)
    except ModuleFailure as failure:
        return _failed(spec.style, failure, validated), 1, ctx.duration_s
    if validated.invocation is not None:  # Ansible.Basic: invocation is set when the module is created
        result = {"changed": result.get("changed", False), "invocation": validated.invocation, **result}
    return result, 0, ctx.duration_s


def _failed(style: str, failure: ModuleFailure, validated: Validated | None) -> dict[str, Any]:
    result = dict(failure.result)
    result.setdefault("changed", False)
    if style == argspec.BASIC:
        # Ansible.Basic FailJson: Result + failed + msg (no_log values removed) + invocation
        secrets = validated.no_log_values if validated else set()
        result["failed"] = True
        result["msg"] = argspec.remove_no_log_values(failure.msg, secrets)
        if validated is not None:
            result.setdefault("invocation", validated.invocation)
        return result
    # Legacy.psm1 Fail-Json: obj + msg + failed (+ changed $false when absent)
    result["msg"] = failure.msg
    result["failed"] = True
    return result


# ---- async (async_wrapper.ps1 + async_watchdog.ps1) ----------------------------------------------------------
def start_async(host: Host, request: ModuleRequest, result: dict[str, Any], duration: float) -> dict[str, Any]:
    """Write the job's results file and return what async_wrapper.ps1 prints; the module's own result becomes
    visible to async_status once ``duration`` seconds have passed on the host clock."""
    user = request.become_user or connection_user(host)
    env = environment(host, user)
    # module_manifest.py: AsyncDir = ANSIBLE_ASYNC_DIR (the powershell shell's async_dir, default below);
    # async_wrapper.ps1 expands environment variables in it.
    async_dir = str(request.internal.get("_ansible_async_dir") or "%USERPROFILE%\\.ansible_async")
    async_dir = argspec.expand_environment(async_dir, env)
    pid = random.randint(1000, 65000)
    local_jid = f"{request.async_jid}.{pid}"  # async_wrapper.ps1: $localJid = "$AsyncJid.$pid"
    results_file = join_path(async_dir, local_jid)
    started = {
        "started": True,
        "finished": False,
        "results_file": results_file,
        "ansible_job_id": local_jid,
        "_ansible_suppress_tmpdir_delete": True,
        "ansible_async_watchdog_pid": pid + 4,
    }
    host.mkdir(async_dir)
    host.write_file(results_file, json.dumps(started, separators=(",", ":")))
    timeout = request.async_timeout or 0
    if timeout and duration > timeout:
        final = {
            **started,
            "finished": True,
            "failed": True,
            "msg": "failure during async watchdog: timed out waiting for module completion",
            "stdout": None,
            "stderr": "",
        }
        duration = float(timeout)
    else:
        final = {**started, **result, "finished": True}
    async_jobs(host)[local_jid] = {"results_file": results_file, "finish_at": host.now() + duration, "result": final}
    settle_async_jobs(host)
    return started
