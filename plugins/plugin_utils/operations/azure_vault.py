# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Recovery Services vault through Azure Resource Manager (ARCHITECTURE.md decision 10): Microsoft's
``azure-mgmt-recoveryservicessiterecovery`` client and ``azure-identity`` credentials, an optional extra.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

The Azure packages are imported only when a task needs them, so every WinRM module and filter of the collection
works without them; a task that needs them and lacks them fails saying which packages to install
(:func:`require_sdk`). The SDK operations used (API version 2025-08-01):

* ``replication_fabrics.list`` -- every fabric of the vault (a configuration server is one of ``instanceType``
  VMware, with its process servers: plugin_utils/domain/vault.py);
* ``replication_protection_containers.list_by_replication_fabrics`` and
  ``replication_protected_items.list_by_replication_protection_containers`` -- which process server each protected
  machine uses (paged; the SDK follows ``nextLink``);
* ``replication_fabrics.begin_reassociate_gateway`` -- the Switch (plugin_utils/domain/switch_plan.py), a long-running
  operation: ``202`` with ``Azure-AsyncOperation`` and ``Retry-After``, polled until it succeeds or fails.

Failures it survives: throttling (``429`` with ``Retry-After``, retried by azure-core's retry policy, which honours
the header, up to :data:`STATUS_RETRIES` times and counted in ``throttled``); a token that expires during a run
(``401 ExpiredAuthenticationToken``: a fresh credential signs in again and the call is repeated once, the wait for a
running operation resumes from its continuation token). A wait that outlasts ``wait_timeout`` fails with the
operation's id; the operation goes on in Azure, and the next run reads where every machine is and moves only those
still on the source.
"""

from __future__ import annotations

import datetime
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..domain import vault as vault_mod
from ..domain.azure_auth import AZURE_CLI, CERTIFICATE, CREDENTIALS_FILE, MANAGED_IDENTITY, AuthSettings
from ..domain.switch_plan import SwitchPlan

API_VERSION = "2025-08-01"
PACKAGES = ("azure-mgmt-recoveryservicessiterecovery", "azure-identity")
PIP_SPEC = "'azure-mgmt-recoveryservicessiterecovery>=2.0.0,<3' 'azure-identity>=1.19,<2'"
STATUS_RETRIES = 6  # azure-core's default is 3; ARM asks throttled clients to wait and retry
EXPIRED_TOKEN_CODES = ("ExpiredAuthenticationToken",)


class AzureFailure(Exception):
    """A call to Azure failed; ``msg`` says what to do. ``status``/``code`` from Resource Manager when it answered."""

    def __init__(self, msg: str, *, status: int | None = None, code: str | None = None, **detail: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.status = status
        self.code = code
        self.detail = detail


def missing_packages() -> list[str]:
    missing = []
    for module, package in (("azure.mgmt.recoveryservicessiterecovery", PACKAGES[0]), ("azure.identity", PACKAGES[1])):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    return missing


def require_sdk(fqcn: str) -> None:
    """Fail naming the pip packages when the optional Azure extra is not installed on the controller."""
    missing = missing_packages()
    if missing:
        raise AzureFailure(
            f"{fqcn} needs the Python package(s) {', '.join(missing)} on the Ansible controller (the Python that runs "
            f"ansible-playbook): pip install {PIP_SPEC} (the collection's requirements/azure.txt pins them). The "
            "collection's WinRM modules do not need them."
        )


def read_credentials_file() -> str | None:
    path = os.path.expanduser(CREDENTIALS_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None


@dataclass
class Counters:
    """Resource Manager requests made (every attempt, throttled ones included), 429s and fresh sign-ins."""

    calls: int = 0
    throttled: int = 0
    sign_ins: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"calls": self.calls, "throttled": self.throttled, "token_refreshes": self.sign_ins}


@dataclass(frozen=True)
class Outcome:
    """How a Switch operation ended: ``Succeeded``, ``Failed`` or ``TimedOut`` (still running in Azure)."""

    status: str
    operation_id: str
    seconds: float
    error: str = ""


class VaultSession:
    """One vault, signed in once (again after a token expired), every request counted."""

    def __init__(self, settings: AuthSettings, resource_group: str, vault: str, *, poll_interval: float = 30) -> None:
        self.settings = settings
        self.resource_group = resource_group
        self.vault = vault
        self.poll_interval = poll_interval
        self.counters = Counters()
        self._client: Any = None

    # -- plumbing ----------------------------------------------------------------------------------------------
    def _credential(self) -> Any:
        from azure import identity

        s = self.settings
        common: dict[str, Any] = {"connection_verify": s.verify}
        if s.kind == MANAGED_IDENTITY:
            return identity.ManagedIdentityCredential(client_id=s.client_id, **common)
        if s.kind == AZURE_CLI:
            return identity.AzureCliCredential(tenant_id=s.tenant)
        signin = {"authority": s.authority, "disable_instance_discovery": s.disable_instance_discovery, **common}
        if s.kind == CERTIFICATE:
            return identity.CertificateCredential(s.tenant, s.client_id, certificate_path=s.certificate_path, **signin)
        return identity.ClientSecretCredential(s.tenant, s.client_id, s.secret, **signin)

    def client(self) -> Any:
        if self._client is None:
            from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

            self.counters.sign_ins += 1
            self._client = SiteRecoveryManagementClient(
                self._credential(),
                self.settings.subscription_id,
                base_url=self.settings.resource_manager,
                credential_scopes=[self.settings.scope],
                connection_verify=self.settings.verify,
                retry_status=STATUS_RETRIES,
                polling_interval=self.poll_interval,
                raw_response_hook=self._count,
                api_version=API_VERSION,
            )
        return self._client

    def _count(self, pipeline_response: Any) -> None:
        self.counters.calls += 1
        if pipeline_response.http_response.status_code == 429:
            self.counters.throttled += 1

    def call(self, what: str, fn: Callable[[Any], Any]) -> Any:
        """``fn(client)``; once more with a fresh sign-in when Resource Manager says the token expired."""
        try:
            return self._translate(what, fn)
        except AzureFailure as exc:
            if exc.code not in EXPIRED_TOKEN_CODES:
                raise
        self._client = None
        return self._translate(what, fn)

    def _translate(self, what: str, fn: Callable[[Any], Any]) -> Any:
        from azure.core import exceptions as az

        try:
            return fn(self.client())
        except az.ClientAuthenticationError as exc:
            raise self._failure(what, exc, "Check the credentials (and the identity's role on the vault).") from exc
        except az.ResourceNotFoundError as exc:
            raise self._failure(
                what,
                exc,
                f"Check resource_group {self.resource_group!r} and vault {self.vault!r} (subscription "
                f"{self.settings.subscription_id}).",
            ) from exc
        except az.HttpResponseError as exc:
            hint = "Azure throttled the requests; wait a few minutes and run again." if exc.status_code == 429 else ""
            raise self._failure(what, exc, hint or "Read Azure's message; run again once it is fixed.") from exc
        except az.ServiceRequestError as exc:
            raise AzureFailure(
                f"{what}: cannot reach Azure at {self.settings.resource_manager} or {self.settings.authority}: {exc}. "
                "Check the controller's network, proxy and CA bundle (ca_path)."
            ) from exc
        except az.AzureError as exc:  # azure-identity: no token (wrong secret, unknown tenant, CLI not logged in)
            raise AzureFailure(f"{what}: could not sign in to Azure ({self.settings.describe()}): {exc}") from exc

    def _failure(self, what: str, exc: Any, hint: str) -> AzureFailure:
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None)
        message = getattr(error, "message", None) or str(exc).splitlines()[0]
        status = getattr(exc, "status_code", None)
        return AzureFailure(f"{what}: Azure answered {status} {code or ''}: {message} {hint}".replace("  ", " "),
                            status=status, code=code)  # fmt: skip

    # -- reads -------------------------------------------------------------------------------------------------
    def fabrics(self) -> list[dict[str, Any]]:
        rg, vault = self.resource_group, self.vault
        return self.call(
            "list the vault's fabrics", lambda c: [f.as_dict() for f in c.replication_fabrics.list(rg, vault)]
        )

    def containers(self, fabric: str) -> list[str]:
        rg, vault = self.resource_group, self.vault
        return self.call(
            "list the fabric's protection containers",
            lambda c: [
                x.name for x in c.replication_protection_containers.list_by_replication_fabrics(rg, vault, fabric)
            ],
        )

    def protected_items(self, fabric: str, container: str) -> list[dict[str, Any]]:
        rg, vault = self.resource_group, self.vault
        ops = "replication_protected_items"
        return self.call(
            "list the protected items",
            lambda c: [
                i.as_dict()
                for i in getattr(c, ops).list_by_replication_protection_containers(rg, vault, fabric, container)
            ],
        )

    def read(self, fabric_ref: str | None = None, machines: bool = True) -> list[vault_mod.FabricView]:
        """The vault's configuration servers (only ``fabric_ref``'s protected items are read when it is given)."""
        now = datetime.datetime.now(datetime.UTC)
        views = vault_mod.configuration_servers(vault_mod.parse_fabric(f, now) for f in self.fabrics())
        wanted = [vault_mod.find_fabric(views, fabric_ref)] if fabric_ref else views
        if not machines:
            return views
        out = []
        for view in views:
            if any(view.name == w.name for w in wanted):
                containers = self.containers(view.name)
                view = vault_mod.with_machines(
                    view, containers, {c: self.protected_items(view.name, c) for c in containers}
                )
            out.append(view)
        return out

    # -- the Switch -------------------------------------------------------------------------------------------
    def switch(self, plan: SwitchPlan, timeout_s: float) -> Outcome:
        """Start ``reassociateGateway`` for ``plan`` and wait for it (resuming after a token expired)."""
        rg, vault, body = self.resource_group, self.vault, plan.request()
        started = time.monotonic()
        poller = self.call(
            "start the Switch (reassociateGateway)",
            lambda c: c.replication_fabrics.begin_reassociate_gateway(rg, vault, plan.fabric, body),
        )
        token = poller.continuation_token()
        operation = _operation_id(poller)
        while True:
            try:
                return self._wait(poller, operation, started, timeout_s)
            except AzureFailure as exc:
                if exc.code not in EXPIRED_TOKEN_CODES:
                    raise
            self._client = None  # sign in again and go on waiting for the same operation
            poller = self._translate(
                "resume waiting for the Switch",
                lambda c: c.replication_fabrics.begin_reassociate_gateway(
                    rg, vault, plan.fabric, body, continuation_token=token
                ),
            )

    def _wait(self, poller: Any, operation: str, started: float, timeout_s: float) -> Outcome:
        from azure.core import exceptions as az

        left = max(0.0, timeout_s - (time.monotonic() - started))
        try:
            poller.wait(timeout=left)
            if not poller.done():
                return Outcome("TimedOut", operation, round(time.monotonic() - started, 2))
            poller.result()
        except az.ClientAuthenticationError as exc:
            raise self._failure("wait for the Switch", exc, "") from exc
        except az.HttpResponseError as exc:
            if exc.status_code == 401:
                raise self._failure("wait for the Switch", exc, "") from exc
            return Outcome("Failed", operation, round(time.monotonic() - started, 2), _operation_error(exc))
        return Outcome("Succeeded", operation, round(time.monotonic() - started, 2))


def _operation_id(poller: Any) -> str:
    """The id of the operation (last segment of its Azure-AsyncOperation URL), for the portal's jobs and support."""
    try:
        url = poller.polling_method()._operation.get_polling_url()  # no public accessor
    except (AttributeError, TypeError):
        return ""
    return str(url).split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _operation_error(exc: Any) -> str:
    """The operation's own error (code and message of its status resource), else the exception's first line."""
    response = getattr(exc, "response", None)
    try:
        error = response.json().get("error") or {}
    except (AttributeError, ValueError, TypeError):
        error = {}
    if error.get("message"):
        return f"{error.get('code', '')}: {error['message']}".lstrip(": ")
    return str(exc).splitlines()[0]


def machine_names(views: Sequence[vault_mod.FabricView]) -> list[str]:
    return [m.name for view in views for m in view.machines]
