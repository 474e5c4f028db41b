"""The Azure packages are an optional extra: every plugin of the collection imports without them, and a task that
needs them fails naming the pip packages. Plus how the credentials are found, the way azure.azcollection finds
them (plugin_utils/domain/azure_auth.py)."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import azure_auth
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption

ROOT = pathlib.Path(__file__).resolve().parents[3]

HIDDEN = textwrap.dedent(
    """
    import importlib, json, pathlib, sys

    class HideAzure:  # as if azure-* were not installed
        def find_spec(self, name, path=None, target=None):
            if name == "azure" or name.startswith(("azure.", "msal")):
                raise ModuleNotFoundError(f"No module named {name!r}")
            return None

    sys.meta_path.insert(0, HideAzure())
    sys.path.insert(0, sys.argv[1])
    from tests.conftest import _install_collection_loader
    _install_collection_loader()
    root = pathlib.Path(sys.argv[1])
    imported = []
    for kind in ("action", "modules", "filter", "plugin_utils", "doc_fragments"):
        for path in sorted((root / "plugins" / kind).rglob("*.py")):
            parts = path.relative_to(root / "plugins").with_suffix("").parts
            name = "ansible_collections.asr.process_server.plugins." + ".".join(parts)
            importlib.import_module(name)
            imported.append(name)
    from ansible_collections.asr.process_server.plugins.plugin_utils.operations import azure_vault
    try:
        azure_vault.require_sdk("asr.process_server.vault_info")
        message = ""
    except azure_vault.AzureFailure as exc:
        message = exc.msg
    print(json.dumps({"imported": imported, "message": message, "azure_loaded": "azure" in sys.modules}))
    """
)


def test_every_plugin_imports_without_the_azure_packages_and_a_task_names_them():
    done = subprocess.run(
        [sys.executable, "-c", HIDDEN, str(ROOT)], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert any(name.endswith("action.switch_process_server") for name in out["imported"])
    assert any(name.endswith("action.install") for name in out["imported"])
    assert not out["azure_loaded"]
    assert "azure-mgmt-recoveryservicessiterecovery, azure-identity" in out["message"]
    assert "pip install" in out["message"] and "WinRM modules do not need them" in out["message"]


# ---- finding the credentials (azure.azcollection's order) -----------------------------------------------------
SP = {"AZURE_SUBSCRIPTION_ID": "sub-env", "AZURE_CLIENT_ID": "app-env", "AZURE_SECRET": "s-env", "AZURE_TENANT": "t"}
FILE = "[default]\nsubscription_id = sub-file\nclient_id = app-file\nsecret = s-file\ntenant = t-file\n" + (
    "[other]\nsubscription_id = sub-other\nclient_id = app-other\nx509_certificate_path = /c.pem\ntenant = t2\n"
)


def test_task_options_come_first():
    params = {"client_id": "app-task", "secret": "s-task", "tenant": "t", "subscription_id": "sub-task"}
    got = azure_auth.resolve(params, SP, FILE)
    assert (got.kind, got.client_id, got.subscription_id, got.found_in) == (
        "secret",
        "app-task",
        "sub-task",
        "the task's options",
    )


def test_then_the_environment_then_the_default_profile_then_the_cli():
    assert azure_auth.resolve({}, SP, FILE).client_id == "app-env"
    assert azure_auth.resolve({}, {}, FILE).client_id == "app-file"
    cli = azure_auth.resolve({"subscription_id": "sub"}, {}, None)
    assert cli.kind == "cli" and cli.subscription_id == "sub"
    with pytest.raises(InvalidOption, match="No credentials were found"):
        azure_auth.resolve({}, {}, None)


def test_a_profile_by_option_or_environment_and_a_certificate():
    got = azure_auth.resolve({"profile": "other"}, SP, FILE)
    assert (got.kind, got.certificate_path, got.subscription_id) == ("certificate", "/c.pem", "sub-other")
    assert azure_auth.resolve({}, {"AZURE_PROFILE": "other"}, FILE).client_id == "app-other"
    with pytest.raises(InvalidOption, match=r"has no \[nope\]"):
        azure_auth.resolve({"profile": "nope"}, SP, FILE)


@pytest.mark.parametrize(
    ("params", "environ", "words"),
    [
        ({"auth_source": "env"}, {"AZURE_SUBSCRIPTION_ID": "s", "AZURE_CLIENT_ID": "a", "AZURE_TENANT": "t"}, "lack"),
        ({"auth_source": "env"}, {"AZURE_SUBSCRIPTION_ID": "s", "AZURE_CLIENT_ID": "a", "AZURE_SECRET": "x"}, "tenant"),
        ({"auth_source": "nope"}, {}, "auth_source"),
        ({"cloud_environment": "Mars"}, SP, "cloud_environment"),
        ({"cert_validation_mode": "maybe"}, SP, "cert_validation_mode"),
    ],
)
def test_what_is_missing_is_named(params, environ, words):
    with pytest.raises(InvalidOption, match=words):
        azure_auth.resolve(params, environ, None)


def test_sources_settings_and_endpoints():
    msi = azure_auth.resolve({"auth_source": "msi", "subscription_id": "s", "client_id": "uami"}, {}, None)
    assert (msi.kind, msi.client_id) == ("msi", "uami")
    assert (
        azure_auth.resolve({}, {"ANSIBLE_AZURE_AUTH_SOURCE": "cli", "AZURE_SUBSCRIPTION_ID": "s"}, None).kind == "cli"
    )
    china = azure_auth.resolve({"cloud_environment": "AzureChinaCloud"}, SP, None)
    assert china.resource_manager == "https://management.chinacloudapi.cn"
    assert china.authority == "https://login.chinacloudapi.cn"
    lab = azure_auth.resolve(
        {"resource_manager_endpoint": "https://127.0.0.1:1/", "adfs_authority_url": "https://127.0.0.1:1",
         "ca_path": "/ca.pem", "disable_instance_discovery": True}, SP, None)  # fmt: skip
    assert (lab.resource_manager, lab.verify, lab.disable_instance_discovery) == (
        "https://127.0.0.1:1",
        "/ca.pem",
        True,
    )
    assert lab.scope == "https://management.azure.com/.default"
    assert azure_auth.resolve({"cert_validation_mode": "ignore"}, SP, None).verify is False
    assert "s-env" not in azure_auth.resolve({}, SP, None).describe()
