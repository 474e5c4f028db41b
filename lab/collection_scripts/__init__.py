"""Handlers for the collection's own PowerShell scripts, one module per script (``lab.scripts.register``).

Importing this package registers them all; ``lab.scripts`` imports it before answering a script. Each handler
computes from the emulated host's state what the real script (``plugins/plugin_utils/powershell/<name>.ps1``)
computes on Windows, and says which part of the script each piece mirrors.
"""

from lab.collection_scripts import probe  # noqa: F401
from lab.collection_scripts import proxy_apply, register_apply  # noqa: F401
from lab.collection_scripts import uninstall_step, unregister_list  # noqa: F401
