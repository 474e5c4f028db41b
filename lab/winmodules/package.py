"""win_package: installed-state lookup (creates_* or the product_id under the Uninstall hives, as the
registry and msi providers do), then the installer runs through ``lab.programs``."""

from __future__ import annotations

from typing import Any

from lab.argspec import ModuleFailure
from lab.programs import quote_argument
from lab.winmodules._common import Context, checksum, join_path

_CHECKSUM_ALGORITHMS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}


def _escape(arg: str) -> str:
    # Process.psm1 ConvertTo-EscapedArgument (C argv rules); it quotes on newline and vertical tab as well
    return quote_argument(arg, whitespace=" \t\n\v")


def uninstall_key(ctx: Context, product_id: str) -> str | None:
    # win_package.ps1 registry/msi providers: HKLM then HKCU; SOFTWARE then SOFTWARE\Wow6432Node
    for hive in ("HKLM", "HKCU"):
        for key in ("SOFTWARE", "SOFTWARE\\Wow6432Node"):
            path = f"{hive}:\\{key}\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\{product_id}"
            if ctx.host.reg_key_exists(path):
                return path
    return None


def win_package(ctx: Context) -> dict[str, Any]:
    params = ctx.params
    host = ctx.host
    state = params["state"]
    path = params.get("path")
    product_id = params.get("product_id")
    arguments = params.get("arguments")
    if isinstance(arguments, list):
        arguments = " ".join(_escape(str(a)) for a in arguments)
    result = ctx.result(reboot_required=False)
    if path and path.lower().startswith("http"):
        raise ModuleFailure("lab: win_package from a URL is not emulated (the emulated hosts have no web access)")
    if path and not host.exists(path) and not ctx.check_mode:
        raise ModuleFailure(f"the file at the path '{path}' cannot be reached", **result)
    is_msi = bool(path and path.lower().endswith(".msi"))
    registry_path = None
    if params.get("creates_path") or params.get("creates_service"):
        installed = True
        if params.get("creates_path"):
            installed = host.exists(params["creates_path"])
        if params.get("creates_service"):
            installed = installed and host.service(params["creates_service"]) is not None
        if product_id:
            registry_path = uninstall_key(ctx, product_id)
    elif product_id:
        registry_path = uninstall_key(ctx, product_id)
        installed = registry_path is not None
    else:
        raise ModuleFailure(
            "lab: win_package needs product_id or creates_path/creates_service here; reading an installer's "
            f"ProductCode from '{path}' is not emulated",
            **result,
        )
    changed = (state == "present") != installed
    result["rc"] = 0
    if changed and not ctx.check_mode:
        if state == "present" and path and params.get("checksum_algorithm"):
            result["checksum"] = checksum(host.read_bytes(path), params["checksum_algorithm"]).upper()
            if params.get("checksum") and params["checksum"] != result["checksum"]:
                raise ModuleFailure(
                    f"The checksum for {path} did not match '{params['checksum']}', it was '{result['checksum']}'",
                    **result,
                )
        log_path = params.get("log_path")
        if is_msi or (state == "absent" and product_id and not path and registry_path is None):
            actions = ["/i", path] if state == "present" else ["/x", product_id]
            log_path = log_path or join_path(ctx.env["TEMP"], "msiexec.log")
            cmd = [f"{ctx.env['SystemRoot']}\\System32\\msiexec.exe", *actions, "/L*V", log_path, "/qn", "/norestart"]
            command_line = " ".join(_escape(c) for c in cmd)
        elif state == "present" or path:
            command_line = _escape(path)
        else:
            values = host.reg_values(registry_path)
            lowered = {k.lower(): v for k, v in values.items()}
            command_line = lowered.get("quietuninstallstring") or lowered.get("uninstallstring")
            if not command_line:
                raise ModuleFailure(
                    f"Failed to find registry uninstall string at registry path '{registry_path}'", **result
                )
        if arguments:
            command_line += f" {arguments}"
        proc = ctx.run_program(command_line, cwd=params.get("chdir"))
        rc = proc.rc if proc.rc < 2**31 else proc.rc - 2**32
        result["rc"] = rc
        if rc not in params["expected_return_code"]:
            result["stdout"] = proc.stdout
            result["stderr"] = proc.stderr
            if log_path and host.is_file(log_path):
                result["log"] = host.read_text(log_path)
            raise ModuleFailure(
                f"unexpected rc from '{command_line}': see rc, stdout, and stderr for more details", **result
            )
        if rc == 3010:
            result["reboot_required"] = True
    result["changed"] = changed
    return result
