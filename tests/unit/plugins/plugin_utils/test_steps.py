"""plugin_utils/domain/steps.py: the one shape of ``steps``, and a script's fine steps folded into the procedure's."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import steps
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.steps import (
    REGISTER_MT,
    RESTART_OBENGINE,
    SET_PROXY,
    WRITE_SETTINGS_FILE,
)


def reported(name, rc=0, **extra):
    return {"name": name, "rc": rc, "stdout": "", "stderr": "", **extra}


def test_a_step_carries_only_what_says_something():
    assert steps.step("x") == {"name": "x", "changed": True}
    assert steps.step("x", changed=False, rc=0, msg="", failed=False) == {"name": "x", "changed": False, "rc": 0}
    assert steps.step("x", rc=3, msg="rc 3", failed=True) == {"name": "x", "changed": True, "rc": 3, "msg": "rc 3",
                                                              "failed": True}  # fmt: skip


def test_the_proxy_procedure_names_follow_the_plan():
    assert steps.proxy_step_names(set_mars_proxy=True, no_proxy=False, register_mt=True) == [
        SET_PROXY, RESTART_OBENGINE, REGISTER_MT, RESTART_OBENGINE,
    ]  # fmt: skip
    assert steps.proxy_step_names(set_mars_proxy=True, no_proxy=True, register_mt=False) == [
        steps.REMOVE_PROXY, RESTART_OBENGINE,
    ]  # fmt: skip
    only_file = steps.proxy_step_names(
        set_mars_proxy=False, no_proxy=False, register_mt=False, write_settings_file=True
    )
    assert only_file == [WRITE_SETTINGS_FILE]


def test_net_stop_and_net_start_are_one_restart():
    folded = steps.from_script(
        steps.REGISTRATION_STEPS, [reported("registermt"), reported("stop_obengine"), reported("start_obengine")]
    )
    assert folded == [
        {"name": REGISTER_MT, "changed": True, "rc": 0},
        {"name": RESTART_OBENGINE, "changed": True, "rc": 0},
    ]


def test_a_service_already_running_again_is_a_success_that_says_so():
    folded = steps.from_script([RESTART_OBENGINE], [reported("start_obengine", 2, already_running=True)])
    said = "rc 2, the service was already running"
    assert folded == [{"name": RESTART_OBENGINE, "changed": True, "rc": 2, "msg": said}]


def test_a_step_the_script_did_not_report_is_left_out_and_an_unknown_one_is_kept():
    assert steps.from_script(steps.REGISTRATION_STEPS, [reported("registermt")]) == [
        {"name": REGISTER_MT, "changed": True, "rc": 0}
    ]
    assert steps.from_script([], [reported("something_new", 1)]) == [
        {"name": "something_new", "changed": True, "rc": 1, "msg": "rc 1"}
    ]


def test_a_time_out_and_a_step_that_did_not_complete_say_why():
    timed_out = steps.from_script([REGISTER_MT], [reported("registermt", None, timed_out=True)])
    assert timed_out == [{"name": REGISTER_MT, "changed": False, "msg": "timed out (the program and what it started "
                          "were stopped)", "failed": True}]  # fmt: skip
    broken = steps.from_script([SET_PROXY], [reported("set_ob_machine_setting", None, stderr="boom", error=True)])
    assert broken == [{"name": SET_PROXY, "changed": False, "msg": "did not complete: boom", "failed": True}]


# A run of proxy_apply.ps1 as the script does it [8]: each procedure step is one or more programs (net stop only when
# obengine runs), in order, ending at the first failure.
SCRIPT_NAMES = {
    SET_PROXY: [["set_ob_machine_setting"]],
    RESTART_OBENGINE: [["stop_obengine", "start_obengine"], ["start_obengine"]],
    REGISTER_MT: [["registermt"]],
    WRITE_SETTINGS_FILE: [["write_settings_file"]],
}


@st.composite
def script_runs(draw):
    register = draw(st.booleans())
    names = steps.proxy_step_names(
        set_mars_proxy=True, no_proxy=False, register_mt=register, write_settings_file=draw(st.booleans())
    )
    run, after_registermt = [], False
    for name in names:
        programs = draw(st.sampled_from(SCRIPT_NAMES[name]))
        suffix = "_after_registermt" if after_registermt and name == RESTART_OBENGINE else ""
        for program in programs:
            rc = draw(st.sampled_from([0, 0, 0, 2, 1060, None]))
            run.append(reported(program + suffix, rc))
            if rc != 0:
                return names, run
        after_registermt = after_registermt or name == REGISTER_MT
    return names, run


@given(script_runs())
def test_folding_a_script_run_gives_a_prefix_of_the_plan_in_the_shared_shape(case):
    names, run = case
    folded = steps.from_script(names, run)
    assert [s["name"] for s in folded] == names[: len(folded)]
    failures = [s for s in folded if s.get("failed")]
    failed_in_run = any(r["rc"] != 0 for r in run)
    assert len(failures) == int(failed_in_run)
    if failed_in_run:
        assert folded[-1].get("failed") and "msg" in folded[-1]
    else:
        assert len(folded) == len(names) and all(s["changed"] and s["rc"] == 0 for s in folded)
    assert all(set(s) <= {"name", "changed", "rc", "msg", "failed"} for s in folded)
