"""package_stage's detached runner AS SENT (plugins/plugin_utils/powershell/package_stage.ps1, fragments spliced) run
under pwsh against the lab's real file server: .NET's HttpWebRequest downloads the package, resumes a cut download
with a Range request, refuses a wrong file by its SHA-256, stops at once on a 404, and a share copy resumes by seeking.

The runner only touches files (its own folder, the package) and the network, so it runs here for real on the test's
temporary folder; the Windows-only parts of package_stage (the protected folder, Win32_Process.Create) are the call
script's, emulated by the lab (lab/collection_scripts/package_stage.py) until the lab runs the scripts under pwsh.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import pathlib
import re
import subprocess

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.powershell import loader
from lab import estate as estate_mod
from lab import fileserver, link, pwsh, wsman
from lab.asr.installer import package_bytes

pytestmark = pytest.mark.lab

PACKAGE = package_bytes("9.55.7123.1", 400_000)
SHA = hashlib.sha256(PACKAGE).hexdigest()
RUNNER_RE = re.compile(r"\$RunnerText = @'\r?\n(.*?)^'@", re.MULTILINE | re.DOTALL)


@pytest.fixture(scope="module")
def pwsh_path():
    try:
        return pwsh.find().path
    except pwsh.PwshNotFound as exc:
        pytest.skip(str(exc))


@pytest.fixture
def files(tmp_path):
    estate = estate_mod.create(tmp_path / "estate", cs=0, ps=1, http=True)
    fileserver.publish(estate, "asr/setup.exe", PACKAGE)
    lab = wsman.serve(estate, handler=lambda *_: None)
    try:
        yield estate, estate_mod.read_meta(estate)
    finally:
        lab.shutdown()


def runner_text() -> str:
    text = loader.load_script("package_stage").text
    match = RUNNER_RE.search(text)
    assert match, "package_stage holds its runner in $RunnerText"
    return match.group(1)


def run_runner(pwsh_path, tmp_path, spec: dict) -> dict:
    transfer = tmp_path / "transfer"
    transfer.mkdir(exist_ok=True)
    (transfer / "spec.json").write_text(json.dumps(spec), encoding="utf-8")
    runner = transfer / "runner.ps1"
    runner.write_text(runner_text(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    # as Get-RunnerCommandLine starts it: -EncodedCommand running the runner file's text as a script block (the file's
    # functions, here .NET's own file calls on the test's real folder, not the lab's shim)
    command = (
        "# asr.process_server package transfer runner start\n"
        f"& ([scriptblock]::Create((Get-Content -LiteralPath '{runner}' -Raw))) -TransferDir '{transfer}'"
    )
    encoded = base64.b64encode(command.encode("utf-16-le")).decode("ascii")
    done = subprocess.run(
        [str(pwsh_path), "-NoProfile", "-NonInteractive", "-EncodedCommand", encoded],
        capture_output=True, text=True, timeout=180, env=env, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (transfer / "spec.json").exists()  # the URL's file is removed when the transfer ends
    return json.loads((transfer / "status.json").read_text(encoding="utf-8-sig"))


def spec_for(tmp_path, url: str, **extra) -> dict:
    return {"kind": "url", "url": url, "path": "", "shown": url.split("?")[0], "package": str(tmp_path / "staged" /
            "setup.exe"), "sha256": SHA, "max_attempts": 3, **extra}  # fmt: skip


def test_a_download_cut_in_the_middle_resumes_with_a_range_request(pwsh_path, files, tmp_path):
    estate, meta = files
    with estate.open_host("ps01") as host:
        host.faults["http_cut_at"] = 0.5
    url = fileserver.url(meta, "ps01", "asr/setup.exe")
    status = run_runner(pwsh_path, tmp_path, spec_for(tmp_path, url))
    assert status["state"] == "staged", status
    assert status["attempts"] == 2 and status["resumed_from"] > 0 and status["sha256"] == SHA
    assert (tmp_path / "staged" / "setup.exe").read_bytes() == PACKAGE
    requests = [e for e in link.read(estate, "ps01") if e["channel"] == "http" and e["what"].startswith("GET")]
    assert [r.get("range") for r in requests] == [None, f"bytes={status['resumed_from']}-"]
    bodies = [e["bytes_in"] for e in link.read(estate, "ps01") if e["what"] == "body"]
    # the second request fetched only what the host had not received (bytes in flight when the connection was reset
    # are lost, as on a real network: the host resumes from what reached its file, not from what the server sent)
    assert bodies[1] == len(PACKAGE) - status["resumed_from"] and bodies[0] >= status["resumed_from"]


def test_a_wrong_file_is_deleted_and_never_staged(pwsh_path, files, tmp_path):
    estate, meta = files
    with estate.open_host("ps01") as host:
        host.faults["http_wrong_content"] = True
    status = run_runner(pwsh_path, tmp_path, spec_for(tmp_path, fileserver.url(meta, "ps01", "asr/setup.exe")))
    assert status["state"] == "failed" and "not the expected" in status["error"] and SHA in status["error"]
    assert not (tmp_path / "staged" / "setup.exe").exists()
    assert not (tmp_path / "transfer" / "package.partial").exists()


def test_not_found_stops_at_once_and_the_token_is_not_in_the_status(pwsh_path, files, tmp_path):
    _estate, meta = files
    url = fileserver.url(meta, "ps01", "asr/missing.exe", token="Pwsh-Secret-Sig-1")
    status = run_runner(pwsh_path, tmp_path, spec_for(tmp_path, url))
    assert status["state"] == "failed" and status["attempts"] == 1 and "404" in status["error"]
    assert "Pwsh-Secret-Sig-1" not in json.dumps(status)


def test_a_share_copy_resumes_from_what_arrived(pwsh_path, tmp_path):
    source = tmp_path / "share" / "setup.exe"
    source.parent.mkdir()
    source.write_bytes(PACKAGE)
    (tmp_path / "transfer").mkdir()
    (tmp_path / "transfer" / "package.partial").write_bytes(PACKAGE[:123_456])
    spec = spec_for(tmp_path, "", kind="share", path=str(source), shown=str(source))
    status = run_runner(pwsh_path, tmp_path, spec)
    assert status["state"] == "staged" and status["resumed_from"] == 123_456, status
    assert pathlib.Path(spec["package"]).read_bytes() == PACKAGE
