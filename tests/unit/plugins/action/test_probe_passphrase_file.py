"""probe.ps1's passphrase file check (Get-PassphraseFileFact), run as its real text under pwsh.

The function is taken from the script as load_script sends it (fragments spliced), with the helpers it calls, and
run against real files: it reports existence, readability and line counts, whether the path lies under the user
profiles folder, and never the passphrase itself. The lab runs the whole script against the emulated host
(tests/lab/test_probe_script.py).
"""

from __future__ import annotations

import json
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from tests.unit.pwsh_session import PwshSession

SECRET = "Probe-Passphrase-5521"
FUNCTIONS = ("Get-RegistryValue", "Open-SharedFile", "Read-SharedText", "Split-Line", "Get-PassphraseFileFact")


def function_text(script: str, name: str) -> str:
    match = re.search(rf"^function {re.escape(name)} \{{\n.*?^\}}\n", script, re.MULTILINE | re.DOTALL)
    assert match, f"probe.ps1 has no function {name}"
    return match.group(0)


@pytest.fixture(scope="module")
def pwsh():
    session = PwshSession()
    yield session
    session.close()


def facts(session: PwshSession, path: str, profiles: str | None = None, *, denied: bool = False) -> dict:
    script = loader.load_script("probe").text
    body = "\n".join(function_text(script, name) for name in FUNCTIONS)
    if profiles is not None:  # the ProfileList value Windows keeps (HKLM\...\ProfileList ProfilesDirectory)
        body += f"\nfunction Get-RegistryValue {{ param ([string]$Path, [string]$Name) return '{profiles}' }}\n"
    if denied:  # the Windows seam that opens the file, as an ACL without read access for this session answers
        body += (
            "\nfunction Open-SharedFile { param ([string]$Path) "
            "throw (New-Object -TypeName System.UnauthorizedAccessException -ArgumentList "
            "\"Access to the path '$Path' is denied.\") }\n"
        )
    command = (
        "$ErrorActionPreference = 'Stop'\n$env:SystemDrive = 'C:'\n"
        + body
        + f"\nGet-PassphraseFileFact -Path '{path}' | ConvertTo-Json -Compress\n"
    )
    # each case in a fresh runspace of the module's one pwsh (tests/powershell/tools/session.ps1): starting pwsh per
    # case cost ~1 s of CPU each
    return json.loads(session.request("run_script", text=command))


@pytest.mark.parametrize(
    ("text", "lines", "non_empty"),
    [
        (f"{SECRET}\r\n", 1, 1),  # genpassphrase.exe -v > file [3.2]
        (SECRET, 1, 1),
        ("", 0, 0),
        ("  \r\n", 1, 0),
        (f"{SECRET}\r\nsecond\r\n", 2, 2),
        (f"{SECRET}\r\n\r\n", 2, 1),
    ],
)
def test_lines_are_counted_and_the_text_never_returned(pwsh, tmp_path, text, lines, non_empty):
    path = tmp_path / "Passphrase.txt"
    path.write_bytes(text.encode("utf-8"))
    got = facts(pwsh, str(path))
    assert got["exists"] is True and got["readable"] is True and got["error"] is None
    assert (got["lines"], got["non_empty_lines"]) == (lines, non_empty)
    assert SECRET not in json.dumps(got)


def test_a_missing_file_and_one_that_cannot_be_read(pwsh, tmp_path):
    missing = facts(pwsh, str(tmp_path / "nope.txt"))
    assert missing["exists"] is False and missing["readable"] is False and missing["lines"] is None
    locked = tmp_path / "locked.txt"
    locked.write_text(SECRET, encoding="utf-8")
    got = facts(pwsh, str(locked), denied=True)
    assert got["exists"] is True and got["readable"] is False and got["lines"] is None
    assert "is denied" in got["error"] and SECRET not in json.dumps(got)


@pytest.mark.parametrize(
    ("path", "profiles", "under"),
    [
        (r"C:\Users\Administrator\Desktop\Passphrase.txt", None, True),  # the seed's example, default folder
        (r"c:\users\svc\passphrase.txt", None, True),
        (r"C:\ProgramData\ASR\passphrase.txt", None, False),
        (r"C:\UsersData\passphrase.txt", None, False),
        (r"D:\Profiles\admin\pass.txt", r"D:\Profiles", True),  # ProfileList ProfilesDirectory moved to D:
        (r"C:\Users\admin\pass.txt", r"D:\Profiles", False),
    ],
)
def test_a_file_under_a_user_profile_is_recognised(pwsh, path, profiles, under):
    got = facts(pwsh, path, profiles)
    assert got["under_user_profile"] is under
    assert got["profiles_directory"] == (profiles or r"C:\Users")
