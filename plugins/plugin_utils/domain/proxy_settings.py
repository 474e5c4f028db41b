# Copyright: asr.process_server contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``[ProxySettings]`` file that ``/ProxySettingsFilePath`` points Unified Setup to [8].

FOR INTERNAL COLLECTION USE ONLY: the domain core may change in any release.

The installer's validator (SRC ``ValidationHelper.ValidateProxySettingsFilePath``) is stricter than the docs:

* exactly 6 non-blank lines, in this order; line 1 exactly ``[ProxySettings]``;
* each other line matches ``^<Key>[ \\t]*=[ \\t]*".*"$`` with the keys ``ProxyAuthentication``, ``ProxyIP``,
  ``ProxyPort``, ``ProxyUserName``, ``ProxyPassword``. The docs spell the third key ``Proxy IP`` (with a
  space), which the installer refuses;
* values are then read by ``GrepUtils.GetKeyValueFromFile``: split the line on ``=``, take the second piece,
  delete every ``"``, trim. So a value containing ``=`` or ``"`` (or with spaces at either end) is silently
  changed, which is why :class:`ProxySettings` refuses such values;
* ``ProxyAuthentication`` is ``Yes`` or ``No`` (case-sensitive); ``ProxyIP`` starts with ``http://``;
  ``ProxyPort`` is 1-65535; user name and password must be non-empty only with ``Yes``.

:func:`parse_proxy_settings` reads a file exactly as the installer does, with one deliberate difference: the
installer's port check lets an empty ``ProxyPort`` through (SRC ``SetupHelper.IsPortValid``), this module
requires a port.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import InvalidOption

SECTION = "[ProxySettings]"
KEYS = ("ProxyAuthentication", "ProxyIP", "ProxyPort", "ProxyUserName", "ProxyPassword")
_FILE = "proxy_settings_file"
_VALUE_RULE = 'a value without "=", \'"\' or line breaks, and without spaces at either end'
_LINE_RE = {key: re.compile(key + r'[ \t]*=[ \t]*".*"') for key in KEYS}  # used with fullmatch: ^...$


@dataclass(frozen=True)
class ProxySettings:
    """A custom proxy for setup and the MARS agent. Authentication is on exactly when a user name is set."""

    address: str
    port: int
    username: str = ""
    password: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        _check_address(self.address)
        _check_port(self.port)
        _check_text("proxy_username", self.username)
        _check_text("proxy_password", self.password)
        if self.username and not self.password:
            raise InvalidOption("proxy_password", self.password, "a non-empty password when proxy_username is set")
        if self.password and not self.username:
            raise InvalidOption("proxy_username", self.username, "a non-empty user name when proxy_password is set")

    @property
    def authentication(self) -> bool:
        """``ProxyAuthentication = "Yes"``: the proxy needs credentials."""
        return bool(self.username)

    def __repr__(self) -> str:
        hidden = "<hidden>" if self.password else "''"
        shown = f"address={self.address!r}, port={self.port!r}, username={self.username!r}, password={hidden}"
        return f"ProxySettings({shown})"


def _check_text(option: str, value: object) -> str:
    """``value`` as a string the installer reads back unchanged, or :class:`InvalidOption`."""
    if not isinstance(value, str):
        raise InvalidOption(option, value, _VALUE_RULE)
    if "=" in value or '"' in value or "\r" in value or "\n" in value:
        raise InvalidOption(
            option,
            value,
            _VALUE_RULE,
            "Unified Setup splits each proxy line on '=' and deletes '\"' (SRC GrepUtils.cs), so the value "
            "would be silently truncated or changed [8].",
        )
    if value != value.strip():
        raise InvalidOption(option, value, _VALUE_RULE, "Unified Setup trims the value, so it would change [8].")
    return value


def _check_address(value: object) -> None:
    allowed = "http://<proxy host or IPv4 address>, without spaces"
    value = _check_text("proxy_address", value)
    if not value.startswith("http://") or len(value) == len("http://") or re.search(r"\s", value):
        raise InvalidOption(
            "proxy_address",
            value,
            allowed,
            "Unified Setup only accepts proxy addresses that start with http:// (SRC IsAddressHasHTTP) [8].",
        )


def _check_port(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise InvalidOption("proxy_port", value, "an integer from 1 to 65535")


def render_proxy_settings(settings: ProxySettings) -> str:
    """The six-line file, CRLF line ends, in the order and spelling the installer's validator requires."""
    auth = "Yes" if settings.authentication else "No"
    lines = [
        SECTION,
        f'ProxyAuthentication = "{auth}"',
        f'ProxyIP = "{settings.address}"',  # "ProxyIP", not the docs' "Proxy IP" [8]
        f'ProxyPort = "{settings.port}"',
        f'ProxyUserName="{settings.username}"',
        f'ProxyPassword="{settings.password}"',
    ]
    return "\r\n".join(lines) + "\r\n"


def parse_proxy_settings(text: str) -> ProxySettings:
    """Read a proxy settings file as Unified Setup would, or say which line it would refuse and why."""
    # SRC: File.ReadAllLines (splits on CR, LF, CRLF), blank lines dropped, then exactly 6 lines.
    lines = [line for line in re.split(r"\r\n|\r|\n", text) if line.strip()]
    if len(lines) != 6:
        raise InvalidOption(_FILE, f"{len(lines)} non-blank lines", f"exactly 6 non-blank lines: {SECTION}, {_keys()}")
    if lines[0] != SECTION:
        raise InvalidOption(_FILE, "line 1", f"exactly {SECTION} on the first non-blank line")
    for number, (key, line) in enumerate(zip(KEYS, lines[1:], strict=True), start=2):
        _check_line(number, key, line)
    values = dict(zip(KEYS, (_value(line) for line in lines[1:]), strict=True))
    return _settings_from(values)


def _check_line(number: int, key: str, line: str) -> None:
    if _LINE_RE[key].fullmatch(line):
        return
    why = ""
    if key == "ProxyIP" and line.startswith("Proxy IP"):
        why = "The docs write 'Proxy IP' with a space; the installer's validator only accepts 'ProxyIP' [8]."
    # The value is never shown: line 6 is the password.
    raise InvalidOption(_FILE, f"line {number}", f'{key} = "<value>" (key spelled exactly so, value in quotes)', why)


def _value(line: str) -> str:
    # SRC GrepUtils.GetKeyValueFromFile: split on '=', second piece, delete quotes, trim.
    return line.split("=")[1].replace('"', "").strip()


def _settings_from(values: dict[str, str]) -> ProxySettings:
    auth = values["ProxyAuthentication"]
    if auth not in ("Yes", "No"):
        raise InvalidOption(
            _FILE, f"ProxyAuthentication={auth!r}", 'ProxyAuthentication "Yes" or "No" (case-sensitive)'
        )
    port = values["ProxyPort"]
    if not re.fullmatch(r"\+?[0-9]{1,5}", port):
        raise InvalidOption("proxy_port", port, "an integer from 1 to 65535")
    if auth == "No":
        # SRC: user name and password are not read without authentication.
        return ProxySettings(values["ProxyIP"], int(port))
    for key, option in (("ProxyUserName", "proxy_username"), ("ProxyPassword", "proxy_password")):
        if not values[key]:
            raise InvalidOption(option, "", 'a non-empty value when ProxyAuthentication is "Yes"')
    return ProxySettings(values["ProxyIP"], int(port), values["ProxyUserName"], values["ProxyPassword"])


def _keys() -> str:
    return ", ".join(KEYS)
