"""The layers of plugins/plugin_utils, as docs/dev/layers.md states them, read from every import the plugins make.

* ``domain/``: pure Python -- the standard library and other domain modules only (no Ansible, no Jinja2);
* ``powershell/``: the scripts and their loader -- the standard library only;
* ``report/``: what the filter plugins render -- domain, Jinja2 and MarkupSafe, never Ansible;
* ``operations/``: the remote calls, through the action base -- the only part of plugin_utils that imports Ansible;
* action plugins compose operations; they never import one another (a shared option or helper lives in plugin_utils);
* no plugin imports another collection's private module (a ``_name``: changeable in any release of that collection).
"""

from __future__ import annotations

import ast
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
PLUGINS = ROOT / "plugins"
PLUGIN_UTILS = PLUGINS / "plugin_utils"
COLLECTION = "ansible_collections.asr.process_server"
PACKAGE = f"{COLLECTION}.plugins.plugin_utils"
LAYERS = ("domain", "operations", "powershell", "report")
THIRD_PARTY = {"report": {"jinja2", "markupsafe"}}


def module_name(path: pathlib.Path) -> str:
    return ".".join((COLLECTION, *path.relative_to(ROOT).with_suffix("").parts))


def imports(path: pathlib.Path) -> list[str]:
    """Every module ``path`` imports (relative imports resolved), at any depth of the file."""
    package = module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # ``from package import module`` imports that module
            found += [f"{base}.{alias.name}" for alias in node.names] if not node.module or node.level else [base]
    return found


def python_files(folder: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def layer_of(path: pathlib.Path) -> str | None:
    rel = path.relative_to(PLUGIN_UTILS)
    return rel.parts[0] if len(rel.parts) > 1 else None


def imported_layer(module: str) -> str | None:
    """The plugin_utils layer an imported module belongs to (None outside plugin_utils)."""
    if not module.startswith(PACKAGE + "."):
        return None
    return module[len(PACKAGE) + 1 :].split(".", 1)[0]


def is_standard_library(module: str) -> bool:
    return module.split(".", 1)[0] in sys.stdlib_module_names or module == "__future__"


ALLOWED_LAYERS = {
    "domain": {"domain"},
    "powershell": {"powershell"},
    "report": {"report", "domain"},
    "operations": {"operations", "domain", "powershell"},
}


def test_every_plugin_utils_module_lives_in_a_layer():
    loose = [p.name for p in PLUGIN_UTILS.glob("*.py")]
    assert loose == [], f"put these in one of {LAYERS}: {loose}"
    assert {p.name for p in PLUGIN_UTILS.iterdir() if p.is_dir() and p.name != "__pycache__"} == set(LAYERS)


@pytest.mark.parametrize("path", python_files(PLUGIN_UTILS), ids=lambda p: str(p.relative_to(PLUGIN_UTILS)))
def test_a_layer_imports_only_what_it_may(path):
    layer = layer_of(path)
    wrong = []
    for module in imports(path):
        target = imported_layer(module)
        if target is not None:
            if target not in ALLOWED_LAYERS[layer]:
                wrong.append(f"{module} (layer {target})")
        elif layer == "operations":
            continue  # Ansible, pywinrm, requests: the operations are where the plugins meet them
        elif module.startswith("ansible_collections.") or module.split(".", 1)[0] == "ansible":
            wrong.append(f"{module} (Ansible: only operations/ imports it)")
        elif not is_standard_library(module) and module.split(".", 1)[0] not in THIRD_PARTY.get(layer, set()):
            wrong.append(f"{module} (not the standard library)")
    assert wrong == [], f"{layer}/ may import {sorted(ALLOWED_LAYERS[layer])}; {path.name} imports {wrong}"


@pytest.mark.parametrize("path", python_files(PLUGINS / "action"), ids=lambda p: p.name)
def test_action_plugins_do_not_import_one_another(path):
    siblings = [m for m in imports(path) if m.startswith(f"{COLLECTION}.plugins.action")]
    assert siblings == [], f"{path.name} imports {siblings}: share it through plugin_utils instead"


def private_module(module: str) -> bool:
    """``ansible_collections.<ns>.<name>...`` of another collection with a ``_`` part: internal to it."""
    parts = module.split(".")
    if parts[0] != "ansible_collections" or len(parts) < 4 or ".".join(parts[:3]) == COLLECTION:
        return False
    return any(part.startswith("_") for part in parts[3:])


@pytest.mark.parametrize("path", python_files(PLUGINS), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_no_plugin_imports_another_collections_private_module(path):
    private = [m for m in imports(path) if private_module(m)]
    assert private == [], f"{path.relative_to(ROOT)} imports {private}; keep an own copy (see operations/reboot.py)"


@pytest.mark.parametrize(
    ("module", "private"),
    [
        ("ansible_collections.ansible.windows.plugins.plugin_utils._reboot.reboot_host", True),
        ("ansible_collections.microsoft.ad.plugins.module_utils._ldap", True),
        ("ansible_collections.ansible.windows.plugins.modules.win_reboot", False),
        (f"{PACKAGE}.operations.action_base", False),
    ],
)
def test_a_private_module_is_recognised(module, private):
    assert private_module(module) is private


def test_the_import_reader_resolves_relative_imports(tmp_path):
    layer = tmp_path / "plugins" / "plugin_utils" / "operations"
    layer.mkdir(parents=True)
    source = layer / "demo.py"
    source.write_text("from . import probe\nfrom ..domain.versions import Version\nimport ansible.errors\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = imports(source)
    finally:
        ROOT = saved
    assert found == [f"{PACKAGE}.operations.probe", f"{PACKAGE}.domain.versions.Version", "ansible.errors"]
