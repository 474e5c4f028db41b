"""Where the package comes from: installer_url and UNC installer_remote_path checked before any remote call
(plugin_utils/domain/package_source.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.asr.process_server.plugins.plugin_utils.domain import package_source as ps
from ansible_collections.asr.process_server.plugins.plugin_utils.domain.errors import InvalidOption

SAS = "https://acct.blob.core.windows.net/media/MicrosoftAzureSiteRecoveryUnifiedSetup.exe?sv=2024-05-04&sig=AbC%2Bd"
tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789%+=", min_size=6, max_size=40)


def test_a_sas_url_is_shown_without_its_token():
    assert ps.redact_url(SAS) == "https://acct.blob.core.windows.net/media/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
    assert ps.redact_url("http://user:pw@files.corp:8080/a/b.exe#frag") == "http://files.corp:8080/a/b.exe"
    assert ps.redact_url("HTTPS://[fe80::1]:443/x.exe?t=1") == "https://[fe80::1]:443/x.exe"


@given(tokens, tokens)
def test_the_shown_url_never_holds_the_query_or_the_credentials(token, password):
    url = f"https://svc:{password}@files.corp.example/asr/setup.exe?sig={token}"
    shown = ps.redact_url(url)
    assert token not in shown.split("/")[-1].replace("setup.exe", "") and "sig=" not in shown
    assert password not in shown and "@" not in shown


def test_a_good_url_is_accepted_and_kept_whole():
    source = ps.check_url("installer_url", SAS)
    assert (source.kind, source.location, source.secret) == (ps.URL, SAS, True)
    assert "sig=" not in source.shown
    assert ps.check_url("installer_url", " http://10.0.0.5/asr/setup.exe ").location == "http://10.0.0.5/asr/setup.exe"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("ftp://files.corp/setup.exe", ("http:// or https://", "ftp is not one of them", "UNC")),
        ("file:///C:/setup.exe", ("http:// or https://",)),
        ("files.corp/setup.exe", ("http:// or https://",)),
        ("https://svc:Secret-Pw-7@files.corp/setup.exe", ("without user name or password", "logs")),
        ("https://svc@files.corp/setup.exe", ("without user name or password",)),
        ("", ("empty",)),
        ("   ", ("empty",)),
        ("https://files.corp/my setup.exe", ("%20",)),
        ("https:///setup.exe", ("names no server",)),
        ("https://files.corp/asr/", ("not a folder",)),
        ("https://files.corp", ("not a folder",)),
        ("https://files.corp:99999/setup.exe", ("cannot be read",)),
    ],
)
def test_a_bad_url_is_refused_naming_the_option_and_never_showing_a_secret(value, words):
    with pytest.raises(InvalidOption) as caught:
        ps.check_url("installer_url", value)
    message = str(caught.value)
    assert message.startswith("installer_url: ")
    for word in words:
        assert word in message
    assert "Secret-Pw-7" not in message


def test_unc_paths():
    source = ps.check_unc("installer_remote_path", r"\\files.corp\media\asr\setup.exe")
    assert (source.kind, source.location, source.secret) == (ps.SHARE, r"\\files.corp\media\asr\setup.exe", False)
    assert ps.check_unc("installer_remote_path", "//files/media/setup.exe").location == r"\\files\media\setup.exe"
    assert ps.is_unc(r"\\files\media\x.exe") and ps.is_unc("//files/media/x.exe")
    assert not ps.is_unc(r"\\?\C:\x.exe") and not ps.is_unc(r"\server\share\x.exe") and not ps.is_unc("D:\\x.exe")


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (r"\\files\media", "server, a share and the file"),
        (r"\\files\\setup.exe", "server, a share and the file"),
        (r"\\files\media\..\secret\setup.exe", "'..'"),
        (r"\\files\media\a|b.exe", "cannot contain"),
        (r"\\?\UNC\files\media\setup.exe", "Device paths"),
        (r"\\bad_server!\media\setup.exe", "not a server name"),
    ],
)
def test_a_bad_unc_path_is_refused(value, why):
    with pytest.raises(InvalidOption) as caught:
        ps.check_unc("installer_remote_path", value)
    assert str(caught.value).startswith("installer_remote_path: ") and why in str(caught.value)
    assert r"\\server\share\folder\file.exe" in str(caught.value)


def test_checksums():
    assert ps.check_checksum("installer_checksum", None) is None
    assert ps.check_checksum("installer_checksum", "SHA256:" + "AB" * 32) == "ab" * 32
    for bad, why in (("ab" * 31, "62 characters"), ("xy" * 32, "not only hexadecimal"), ("", "empty")):
        with pytest.raises(InvalidOption, match=r"installer_checksum: .*64 hexadecimal") as caught:
            ps.check_checksum("installer_checksum", bad)
        assert why in str(caught.value)


def test_a_host_fetched_package_needs_its_checksum():
    source = ps.check_url("installer_url", SAS)
    assert ps.require_checksum(source, "ab" * 32, "installer_checksum") == "ab" * 32
    with pytest.raises(InvalidOption, match=r"installer_checksum: '\(not set\)'.*installer_url makes the host fetch"):
        ps.require_checksum(source, None, "installer_checksum")
