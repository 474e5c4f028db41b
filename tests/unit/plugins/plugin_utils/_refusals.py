"""The domain's refusal contract, shared by the bad-input tables of the domain tests.

A refusal is an ``InvalidOption`` whose ``option`` is the option's name and whose message starts with ``<option>:``
and says what is allowed. ``BAD`` rows are ``(id, call, option, allowed)``.
"""

from __future__ import annotations

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption


def bad_input_table(rows):
    """Parametrise a test over ``(id, call, option, allowed)`` rows, one case per row named by its id."""
    return pytest.mark.parametrize(("call", "option", "allowed"), [r[1:] for r in rows], ids=[r[0] for r in rows])


def assert_refused(call, option, allowed):
    """``call()`` refuses with an InvalidOption that names ``option`` first and says ``allowed``."""
    with pytest.raises(InvalidOption) as caught:
        call()
    assert caught.value.option == option
    assert str(caught.value).startswith(option + ":")
    assert allowed in str(caught.value)
