"""Handlers for the collection's own PowerShell scripts, one module per script (``lab.scripts.register``).

Importing this package registers them all; ``lab.scripts`` imports it before answering a script. Each handler
computes from the emulated host's state what the real script (``plugins/plugin_utils/powershell/<name>.ps1``)
computes on Windows, and says which part of the script each piece mirrors.
"""

import importlib
import pkgutil

# Every module of this package registers its handlers when imported (files starting with "_" are helpers).
# Discovered rather than listed, so modules added by different people do not clash on this file.
for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
