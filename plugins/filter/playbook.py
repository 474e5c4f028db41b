# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet playbooks' first check: every asr_* variable they read, for every host, before any remote call.

The rules live in plugin_utils/domain/playbook_variables.py (pure, unit-tested Python); playbooks/check_variables.yml
(imported first by every fleet playbook) only calls this filter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ansible.errors import AnsibleError, AnsibleFilterError
from jinja2 import Undefined

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import playbook_variables as pv
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import AsrError
from ansible_collections.asr.process_server.plugins.plugin_utils.report.filter_support import plain


def _group(host: str, groups: Mapping[str, Any]) -> str | None:
    if host in (groups.get(pv.CONFIGURATION_SERVERS) or []):
        return pv.CONFIGURATION_SERVERS
    if host in (groups.get(pv.PROCESS_SERVERS) or []):
        return pv.PROCESS_SERVERS
    return None


def playbook_variable_problems(hostvars: Any, playbook: Any, hosts: Any, groups: Any) -> list[str]:
    """One line per invalid asr_* variable of ``hosts`` for ``playbook``; see playbook_variable_problems.yml."""
    if not isinstance(hostvars, Mapping) or not isinstance(groups, Mapping):
        raise AnsibleFilterError("playbook_variable_problems: give hostvars, the playbook, the hosts and groups")
    try:
        names = pv.playbook_variable_names(str(playbook))
    except AsrError as exc:
        raise AnsibleFilterError(f"playbook_variable_problems: {exc}") from exc
    checked: dict[str, tuple[str, dict[str, Any]]] = {}
    unreadable: list[str] = []
    for host in _hosts(hosts):
        group = _group(host, groups)
        if group is None or host not in hostvars:
            continue  # a host of neither group: the playbook's own plays refuse or skip it
        values: dict[str, Any] = {}
        host_vars = hostvars[host]
        for name in names:
            if name not in host_vars:
                continue
            try:
                values[name] = _rendered(plain(host_vars[name]))
            except (AnsibleError, ValueError) as exc:  # a template in the variable that cannot be rendered
                why = getattr(exc, "message", None) or str(exc)
                unreadable.append(f"{name}: its value cannot be templated ({why}) [{host}]")
        checked[host] = (group, values)
    return unreadable + pv.check_playbook_variables(str(playbook), checked)


def _rendered(value: Any) -> Any:
    """``value`` when every part of it could be templated; an undefined part (``{{ typo }}``) raises ValueError."""
    if isinstance(value, Undefined):
        hint = getattr(value, "_undefined_message", None) or "an undefined variable"
        raise ValueError(str(hint))
    for item in value.values() if isinstance(value, dict) else value if isinstance(value, list) else ():
        _rendered(item)
    return value


def _hosts(hosts: Any) -> list[str]:
    if isinstance(hosts, str) or not isinstance(hosts, Iterable):
        raise AnsibleFilterError("playbook_variable_problems: hosts must be a list of host names")
    return [str(h) for h in hosts]


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"playbook_variable_problems": playbook_variable_problems}
