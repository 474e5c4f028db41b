"""Make ``ansible_collections.asr.process_server`` importable through Ansible's collection loader.

The repository root is the collection; ``collections/ansible_collections/asr/process_server`` is a
symlink to it, so the loader finds it exactly as ``ansible-playbook`` does from a checkout.
"""

from __future__ import annotations

import pathlib

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
COLLECTIONS_DIR = REPO_ROOT / "collections"


def _install_collection_loader() -> None:
    import sys

    if any(type(f).__name__ == "_AnsibleCollectionFinder" for f in sys.meta_path):
        return
    # ansible.windows lives in site-packages (from the "ansible" package); keep that path too.
    site_paths = [p for p in sys.path if p.endswith("site-packages")]
    finder = _AnsibleCollectionFinder(paths=[str(COLLECTIONS_DIR), *site_paths], scan_sys_paths=False)
    finder._install()


_install_collection_loader()
