# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shared base of the modules that talk to Azure Resource Manager instead of a Windows host.

FOR INTERNAL COLLECTION USE ONLY: this may change in any release.

They run on the controller (no WinRM call): the options are checked first, then the credential is found the way
``azure.azcollection`` finds it (plugin_utils/domain/azure_auth.py), then the vault is read
(plugin_utils/operations/azure_vault.py). A failure of Azure becomes a task failure that says what to do; one that
comes before any change is a refusal (``refused: true``). ``azure`` in every result counts the Resource Manager
requests made, the throttled ones and the sign-ins.
"""

from __future__ import annotations

import os
from typing import Any

from ..domain import azure_auth
from ..domain.argument_specs import AZURE_AUTH
from .action_base import ActionFailure, AsrActionBase
from .azure_vault import AzureFailure, VaultSession, read_credentials_file, require_sdk

AZURE_GROUP = "azure"


class AzureActionBase(AsrActionBase):
    """Validate, read the vault, decide (domain core), act through Resource Manager, verify."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session: VaultSession | None = None
        self.azure_changed = False  # a change-making request (reassociateGateway) was sent

    @property
    def argument_spec(self) -> dict[str, Any]:
        """Only the module's own options: the WinRM modules' shared options are not this group's."""
        return dict(self.ARGUMENT_SPEC)

    def _warn_ignored_options(self) -> None:
        return None

    def open_session(self, args: dict[str, Any], poll_interval: float = 30) -> VaultSession:
        """Sign-in settings from the options, the environment or ~/.azure/credentials; no request yet."""
        require_sdk(self.fqcn)
        auth = {k: args.get(k) for k in AZURE_AUTH}
        settings = azure_auth.resolve(auth, os.environ, read_credentials_file())
        for value in (settings.secret, settings.client_id, settings.tenant):
            if value:
                self.secrets.add(str(value))
        self.session = VaultSession(settings, args["resource_group"], args["vault"], poll_interval=poll_interval)
        return self.session

    def azure_summary(self) -> dict[str, Any]:
        if self.session is None:
            return {"calls": 0, "throttled": 0, "token_refreshes": 0}
        return {**self.session.counters.to_dict(), "signed_in_with": self.session.settings.describe()}

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        try:
            result = self.run_azure(args, task_vars)
        except AzureFailure as exc:
            detail = {"status": exc.status, "code": exc.code, **exc.detail, "azure": self.azure_summary()}
            raise ActionFailure(f"{self.fqcn}: {exc.msg}", refusal=not self.azure_changed, **detail) from exc
        except ActionFailure as exc:
            exc.detail.setdefault("azure", self.azure_summary())
            if self.azure_changed:
                exc.refusal = False
            raise
        result["azure"] = self.azure_summary()
        return result

    def run_azure(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _mark_refused(self, result: dict[str, Any], refusal: bool) -> None:
        if refusal and not self.azure_changed:
            result["refused"] = True
            result["changed"] = False
        elif self.azure_changed:
            result["changed"] = True  # something may have moved: never report a failed Switch as unchanged
