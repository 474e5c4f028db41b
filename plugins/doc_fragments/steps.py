# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# The one shape of the ``steps`` return value of every module that changes a host (plugins/plugin_utils/domain/steps.py
# builds it). Ansible has no fragments for RETURN, so the shape is described here, once, as a note; each module's
# RETURN only says that ``steps`` is a list of such dictionaries (tests/unit/plugins/test_steps_shape.py checks both).


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}  # ansible-core requires options or attributes in a fragment; this one only adds a note
notes:
  - B(Steps) - RV(steps) lists, in order, what the task did or, in check mode, would do, with the same step names
    in both, so a check run shows what a real run will report. An empty list means nothing was (or would be) done.
    Each step is a dictionary - C(name) (what the step does), C(changed) (it changed the host; in check mode, would),
    C(rc) (exit code of the program the step ran, when one ran), C(msg) (how the step ended, when that needs words -
    a failure, a time-out, an uninstaller's exit code), and C(failed) (V(true) on the step that failed, absent
    otherwise). M(asr.process_server.process_server) adds C(operation), the operation the step belongs to.
"""
