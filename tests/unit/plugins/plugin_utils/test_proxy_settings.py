from __future__ import annotations

import pytest
from _refusals import assert_refused, bad_input_table
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.proxy_settings import (
    ProxySettings,
    parse_proxy_settings,
    render_proxy_settings,
)

# Characters a value may hold: anything but '=', '"' and line breaks; no surrounding whitespace.
_INNER = st.characters(blacklist_characters='="\r\n', blacklist_categories=("Cs",))
_value = st.text(_INNER, min_size=1, max_size=24).filter(lambda s: s == s.strip())
_host = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,30}", fullmatch=True)


@st.composite
def proxy_settings(draw) -> ProxySettings:
    address = "http://" + draw(_host) + draw(st.sampled_from(["", "/"]))
    port = draw(st.integers(1, 65535))
    if draw(st.booleans()):
        return ProxySettings(address, port, draw(_value), draw(_value))
    return ProxySettings(address, port)


# --- Golden -----------------------------------------------------------------------------------------------


def test_render_with_authentication():
    text = render_proxy_settings(ProxySettings("http://proxy.contoso.com", 3128, r"CONTOSO\svc-asr", "S3cret!"))
    assert text.split("\r\n") == [
        "[ProxySettings]",
        'ProxyAuthentication = "Yes"',
        'ProxyIP = "http://proxy.contoso.com"',
        'ProxyPort = "3128"',
        r'ProxyUserName="CONTOSO\svc-asr"',
        'ProxyPassword="S3cret!"',
        "",
    ]


def test_render_without_authentication_leaves_credentials_empty():
    text = render_proxy_settings(ProxySettings("http://10.0.0.8", 8080))
    assert 'ProxyAuthentication = "No"' in text
    assert 'ProxyUserName=""\r\nProxyPassword=""\r\n' in text


def test_parse_accepts_what_the_validator_accepts():
    # Blank lines dropped, LF endings, tabs around '=', spaces inside quotes trimmed by the installer.
    text = (
        "\n[ProxySettings]\n\n"
        'ProxyAuthentication\t=\t"Yes"\n'
        'ProxyIP=" http://p.local "\n'
        'ProxyPort =  "+8080"\n'
        'ProxyUserName = "u"\n'
        'ProxyPassword="p"\n   \n'
    )
    assert parse_proxy_settings(text) == ProxySettings("http://p.local", 8080, "u", "p")


def test_parse_without_authentication_ignores_credentials_like_the_installer():
    text = render_proxy_settings(ProxySettings("http://p", 80)).replace('ProxyUserName=""', 'ProxyUserName="x"')
    assert parse_proxy_settings(text) == ProxySettings("http://p", 80)


def test_parse_reads_values_the_way_the_installer_does():
    # GrepUtils splits on '=' and keeps the second piece: "a=b" becomes "a". Render refuses such values.
    text = render_proxy_settings(ProxySettings("http://p", 80, "u", "a")).replace('"a"', '"a=b"')
    assert parse_proxy_settings(text).password == "a"


def test_repr_hides_the_password():
    settings = ProxySettings("http://p", 80, "user", "hunter2")
    assert "hunter2" not in repr(settings)
    assert "<hidden>" in repr(settings)
    assert "user" in repr(settings)


# --- Properties -------------------------------------------------------------------------------------------


@given(proxy_settings())
def test_render_then_parse_is_identity(settings):
    assert parse_proxy_settings(render_proxy_settings(settings)) == settings


def _corrupt(lines: list[str], index: int, kind: str) -> list[str]:
    line = lines[index]
    if kind == "drop":
        return lines[:index] + lines[index + 1 :]
    if kind == "duplicate":
        return [*lines[: index + 1], line, *lines[index + 1 :]]
    if kind == "space in key":  # the docs' "Proxy IP" mistake, for any line
        changed = "[Proxy Settings]" if index == 0 else line[:5] + " " + line[5:]
    elif kind == "lower-case key":
        changed = line.lower() if index == 0 else line[0].lower() + line[1:]
    else:  # "unterminated": the closing quote (or bracket) is gone
        changed = line[:-1]
    return [*lines[:index], changed, *lines[index + 1 :]]


@given(
    proxy_settings(),
    st.integers(0, 5),
    st.sampled_from(["drop", "duplicate", "space in key", "lower-case key", "unterminated"]),
)
def test_parse_rejects_any_single_line_corruption(settings, index, kind):
    lines = render_proxy_settings(settings).split("\r\n")[:6]
    with pytest.raises(InvalidOption) as caught:
        parse_proxy_settings("\r\n".join(_corrupt(lines, index, kind)))
    assert caught.value.option == "proxy_settings_file"
    # Only a line reference is reported, never the line itself (line 6 holds the password).
    assert caught.value.value in {f"line {n}" for n in range(1, 7)} | {"5 non-blank lines", "7 non-blank lines"}


# --- Bad inputs -------------------------------------------------------------------------------------------

_GOOD = render_proxy_settings(ProxySettings("http://p", 80, "u", "pw"))


def _parse_edited(old: str, new: str):
    """Parsing the good file with ``old`` replaced by ``new``."""
    return lambda: parse_proxy_settings(_GOOD.replace(old, new))


BAD = [
    ("no scheme", lambda: ProxySettings("proxy.local", 80), "proxy_address", "http://"),
    ("https", lambda: ProxySettings("https://proxy.local", 80), "proxy_address", "http://"),
    ("scheme only", lambda: ProxySettings("http://", 80), "proxy_address", "http://"),
    ("space in address", lambda: ProxySettings("http://a b", 80), "proxy_address", "without spaces"),
    ("equals in address", lambda: ProxySettings("http://a?x=1", 80), "proxy_address", 'without "="'),
    ("port zero", lambda: ProxySettings("http://p", 0), "proxy_port", "1 to 65535"),
    ("port too big", lambda: ProxySettings("http://p", 70000), "proxy_port", "1 to 65535"),
    ("port text", lambda: ProxySettings("http://p", "80"), "proxy_port", "1 to 65535"),
    ("equals in password", lambda: ProxySettings("http://p", 80, "u", "a=b"), "proxy_password", 'without "="'),
    ("quote in password", lambda: ProxySettings("http://p", 80, "u", 'a"b'), "proxy_password", 'without "="'),
    ("newline in user", lambda: ProxySettings("http://p", 80, "u\nv", "p"), "proxy_username", "line breaks"),
    ("padded user", lambda: ProxySettings("http://p", 80, " u", "p"), "proxy_username", "spaces at either end"),
    ("user without password", lambda: ProxySettings("http://p", 80, "u"), "proxy_password", "non-empty password"),
    ("password without user", lambda: ProxySettings("http://p", 80, "", "p"), "proxy_username", "non-empty user"),
    ("doc spelling Proxy IP", _parse_edited("ProxyIP", "Proxy IP"), "proxy_settings_file", 'ProxyIP = "<value>"'),
    ("auth lower-case", _parse_edited('"Yes"', '"yes"'), "proxy_settings_file", '"Yes" or "No"'),
    (
        "auth yes without user",
        _parse_edited('ProxyUserName="u"', 'ProxyUserName=""'),
        "proxy_username",
        "non-empty value",
    ),
    ("empty port", _parse_edited('"80"', '""'), "proxy_port", "1 to 65535"),
    ("five lines", lambda: parse_proxy_settings("\n".join(_GOOD.splitlines()[:5])), "proxy_settings_file", "exactly 6"),
    (
        "section trailing space",
        _parse_edited("[ProxySettings]", "[ProxySettings] "),
        "proxy_settings_file",
        "exactly [ProxySettings]",
    ),
]


@bad_input_table(BAD)
def test_bad_input_names_option_and_allowed(call, option, allowed):
    assert_refused(call, option, allowed)


def test_doc_spelling_error_cites_the_discrepancy():
    with pytest.raises(InvalidOption, match="docs write 'Proxy IP'"):
        parse_proxy_settings(_GOOD.replace("ProxyIP", "Proxy IP"))


def test_password_never_appears_in_errors():
    with pytest.raises(InvalidOption) as caught:
        ProxySettings("http://p", 80, "u", "hunter2=x")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidOption) as caught:
        parse_proxy_settings(_GOOD.replace('ProxyPassword="pw"', 'ProxyPassword="pw'))
    assert "pw" not in str(caught.value).replace("ProxyPassword", "")
