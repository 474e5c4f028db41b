# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""asr.process_server.info: probe an ASR configuration/process server in one read-only remote call.

The result is the probe as read once (``asr``) and as a survey file a lab seed imports (``survey``). With
``diagnose: true`` that one call is diagnose.ps1 instead of probe.ps1: the same probe plus what no document
settles, returned as ``diagnostics`` (the file playbooks/diagnose.yml writes; plugin_utils/domain/diagnostics.py).
"""

from __future__ import annotations

import datetime
from typing import Any

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import (
    argument_specs,
    diagnostics,
    package_source,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.probe import (
    ProbeRequest,
    read_probe,
    to_survey,
)
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import check_optional_ipv4
from ansible_collections.asr.process_server.plugins.plugin_utils.operations.action_base import (
    ActionFailure,
    AsrActionBase,
)


def _check_ranges(args: dict[str, Any]) -> None:
    """Rules the spec cannot say, checked before any remote call."""
    check_optional_ipv4("configuration_server_ip", args.get("configuration_server_ip"))
    if args.get("installer_path"):  # a path the host reads: relative would mean the WinRM session's current folder
        package_source.check_host_path("installer_path", args["installer_path"])
    for option, low, high in (
        ("configuration_server_port", 1, 65535),
        ("connect_timeout", 1, 60),
        ("log_tail_lines", 1, 1000),
    ):
        if not low <= args[option] <= high:
            raise InvalidOption(option, args[option], f"an integer from {low} to {high}")


class ActionModule(AsrActionBase):
    ARGUMENT_SPEC = argument_specs.INFO

    def run_asr(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        _check_ranges(args)
        # Only info's own options: the group's shared options (passphrase...) mean nothing to the probe.
        request = ProbeRequest(**{name: args[name] for name in argument_specs.INFO_PROBE_OPTIONS})
        if args["diagnose"]:
            return self._diagnose(args, request, task_vars)
        probe = self.run_script("probe", task_vars, request.script_parameters())
        return self._probe_result(args, probe)

    def _probe_result(self, args: dict[str, Any], probe: dict[str, Any]) -> dict[str, Any]:
        asr = read_probe(probe).asr
        if not args["include_log_tail"]:
            asr["setup_log"].pop("tail", None)
        return {"changed": False, "asr": asr, "survey": to_survey(probe, self.secrets)}

    def _diagnose(self, args: dict[str, Any], request: ProbeRequest, task_vars: dict[str, Any]) -> dict[str, Any]:
        """diagnose.ps1 (one read-only call): the probe's results plus ``diagnostics``, the file's content."""
        raw = self.run_script("diagnose", task_vars, diagnostics.diagnose_parameters(request))
        generated = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        document = diagnostics.document(raw, generated=generated, secrets=self.secrets)
        probe = diagnostics.survey_part(raw)
        if probe is None:
            raise ActionFailure(
                f"The survey part of the diagnosis failed on the host: {document['survey_error']}. The rest of the "
                "diagnosis is in 'diagnostics': save it and attach it to a bug report (playbooks/diagnose.yml does).",
                diagnostics=document,
            )
        return {**self._probe_result(args, probe), "diagnostics": document}
