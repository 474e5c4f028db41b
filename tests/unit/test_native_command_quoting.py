"""Both command-line builders against the same generated arguments, split back by Windows' rules.

The Python builder (plugins/plugin_utils/domain/unified_setup.py to_command_line: Unified Setup's arguments) and the
PowerShell one (fragments/native_command.ps1 ConvertTo-ArgumentText, joined as Invoke-NativeCommand joins them, run
in ONE persistent pwsh) must each produce a command line that CommandLineToArgvW's documented rules
(tests/unit/windows_argv.py) split back into exactly the arguments given: backslashes, quotes, whitespace of every
kind and line ends included.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.unified_setup import to_command_line
from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from tests.unit.pwsh_session import PwshSession
from tests.unit.windows_argv import split_arguments

# the characters quoting is about, then anything else (no NUL: a command line cannot hold one; no lone surrogates)
SPECIAL = ["\\", '"', " ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\xa0", "\x85", "\u2028", "\u3000", "a", "Z", ":", "'"]
ARGUMENT = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
    max_size=12,
).map("".join)
ARGV = st.lists(ARGUMENT, max_size=6)


@pytest.fixture(scope="module")
def pwsh():
    session = PwshSession(many_calls=True)  # hypothesis puts hundreds of argument lists through it
    yield session
    session.close()


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        ("plain", ["plain"]),
        ("a b", ["a", "b"]),
        ('"a b" c', ["a b", "c"]),
        ('a\\\\"b c"', ["a\\b c"]),
        ('a\\\\\\"b', ['a\\"b']),
        ("a\\b\\", ["a\\b\\"]),
        ('""', [""]),
        ('"a""b"', ['a"b']),
        ("a\nb\tc", ["a\nb", "c"]),
        ('"C:\\Program Files\\\\" next', ["C:\\Program Files\\", "next"]),
    ],
)
def test_the_helper_follows_microsofts_documented_examples(arg, expected):
    assert split_arguments(arg) == expected


def test_the_session_gives_the_native_command_fragment_as_sent(pwsh):
    text = loader.load_script("register_apply").text
    assert pwsh.request("argument_text", argv=["x"]) == {"quoted": ["x"], "arguments": "x"}
    assert "function ConvertTo-ArgumentText {" in text  # the function the session defined is the one scripts carry


@settings(max_examples=300, deadline=None)
@given(ARGV)
@example(["trailing\\\n", 'ends in \\"', "", "\\\\", "C:\\Program Files\\"])
def test_both_builders_round_trip_through_windows_rules(pwsh, argv):
    python_line = to_command_line(argv)
    assert split_arguments(python_line) == argv, python_line
    answer = pwsh.request("argument_text", argv=argv)
    assert split_arguments(answer["arguments"]) == argv, answer["arguments"]
    for one, quoted in zip(argv, answer["quoted"], strict=True):
        assert split_arguments(quoted) == [one], quoted


def test_a_backslash_before_a_final_line_end_stays_single(pwsh):
    """'$' in .NET regex also matches before a final \\n: the old text doubled such a backslash (a literal one)."""
    answer = pwsh.request("argument_text", argv=["trailing\\\n"])
    assert answer["quoted"] == ['"trailing\\\n"']
    assert split_arguments(answer["arguments"]) == ["trailing\\\n"]
