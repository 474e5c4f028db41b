"""lab.scripts: identity header, registry, win_powershell-shaped results."""

from __future__ import annotations

import pytest

from lab import scripts
from lab.state import new_host


def test_identify_first_line_and_within_first_lines():
    assert scripts.identify("# asr.process_server script: probe v1\nparam()\n") == ("probe", 1)
    text = "\ufeff\n#Requires -Version 5.1\n\n# asr.process_server script: start_setup v12\nparam($x)\n"
    assert scripts.identify(text) == ("start_setup", 12)
    assert scripts.identify("param()\n# something else\n") is None
    late = "\n".join(["$x = 1"] * 20 + ["# asr.process_server script: late v1"])
    assert scripts.identify(late) is None


def test_unknown_identity_raises_naming_it():
    with pytest.raises(scripts.UnknownScriptError, match="nope v3"):
        scripts.run(new_host("h", "1.1.1.1"), "nope", 3, {}, {}, check_mode=False, user="a", become=False)


def test_registered_handler_result_shape_and_failure():
    @scripts.register("lab_test_echo", 1)
    def _echo(ctx):
        ctx.write_host("hello")
        ctx.write_output(ctx.param("Value"))
        ctx.changed = False
        if ctx.secret("Password") != "pw":
            raise scripts.ScriptFailure("bad password")
        return {"svc": ctx.service("nosuch")}

    try:
        host = new_host("h", "1.1.1.1")
        r = scripts.run(
            host, "lab_test_echo", 1, {"value": 5}, {"Password": "pw"}, check_mode=False, user="a", become=True
        )
        assert r["changed"] is False
        assert r["output"] == [5]
        assert r["result"] == {"svc": None}
        assert r["host_out"] == "hello\r\n"
        assert r["error"] == []
        assert "failed" not in r
        r = scripts.run(host, "lab_test_echo", 1, {}, {"Password": "x"}, check_mode=False, user="a", become=True)
        assert r["failed"] is True
        assert r["msg"] == "bad password"
        assert r["error"][0]["exception"]["message"] == "bad password"
    finally:
        scripts.unregister("lab_test_echo", 1)
