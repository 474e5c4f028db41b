from __future__ import annotations

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption


def test_message_names_option_value_and_allowed():
    err = InvalidOption("data_port", 443, "an integer from 1 to 65535 other than 443", "443 is the control channel.")
    assert "data_port" in str(err)
    assert "443" in str(err)
    assert "1 to 65535" in str(err)
    assert "control channel" in str(err)


def test_secret_values_are_never_shown():
    err = InvalidOption("proxy_password", "hunter2=x", "a value without '=' or '\"'")
    assert "hunter2" not in str(err)
    assert "<hidden>" in str(err)
