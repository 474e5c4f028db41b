"""The ``ansible.windows`` modules the lab emulates, by short name (lab/DESIGN.md, ``lab/winmodules``).

Each takes a :class:`lab.winmodules._common.Context` (arguments already validated by ``lab.argspec`` as the
real module validates them) and returns the module's result dict, or raises ``lab.argspec.ModuleFailure``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lab.winmodules import basic, command, files, package, powershell, registry, services
from lab.winmodules._common import Context

Module = Callable[[Context], dict[str, Any]]

MODULES: dict[str, Module] = {
    "win_ping": basic.win_ping,
    "setup": basic.setup,
    "async_status": basic.async_status,
    "win_command": command.win_command,
    "win_shell": command.win_shell,
    "win_powershell": powershell.win_powershell,
    "win_copy": files.win_copy,
    "win_file": files.win_file,
    "win_stat": files.win_stat,
    "win_service": services.win_service,
    "win_service_info": services.win_service_info,
    "win_reg_stat": registry.win_reg_stat,
    "win_package": package.win_package,
}
