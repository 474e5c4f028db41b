"""installer_url and a UNC installer_remote_path (the host fetches the package, package_stage), and
process_server state=staged, replaying recorded win_powershell results: which calls, which parameters, the URL only
ever as a sensitive parameter, bad inputs refused before any remote call."""

from __future__ import annotations

import json

import pytest
from test_install import CLEANUP, CONTENT, SHA, STAGED, START, UPLOAD, base_args, poll, ps, run, scripts

from ansible_collections.asr.process_server.plugins.action import process_server, upgrade
from ansible_collections.asr.process_server.plugins.plugin_utils.domain import argument_specs
from ansible_collections.asr.process_server.plugins.plugin_utils.operations import stage as _op_stage
from tests.unit.setup_probes import fresh, installed, installer_facts

TOKEN = "sv=2024-05-04&sig=Zz9%2BSecretToken"
URL = f"https://files.corp.example/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe?{TOKEN}"
SHOWN = "https://files.corp.example/asr/MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
UNC = r"\\files.corp.example\media\asr\MicrosoftAzureSiteRecoveryUnifiedSetup.exe"
VERSION = "9.55.7123.1"


def url_args(**extra):
    args = base_args(None, installer_url=URL, installer_checksum=SHA, installer_version=VERSION, **extra)
    args.pop("installer")
    return args


def stage_reply(state, *, changed=False, transfer=None, upload_path=None, note=None):
    package = installer_facts(STAGED, sha256=SHA) if state == "staged" else installer_facts(STAGED, exists=False)
    return ps({"state": state, "package": package, "transfer": transfer, "upload_path": upload_path, "note": note,
               "changed": changed}, changed=changed)  # fmt: skip


RUNNING = {"state": "running", "kind": "url", "source": SHOWN, "attempts": 1, "bytes_done": 10, "bytes_total": 100}
DONE = {**RUNNING, "state": "staged", "bytes_done": 100, "resumed_from": 40, "sha256": SHA}


@pytest.fixture(autouse=True)
def no_stage_waiting(monkeypatch):
    monkeypatch.setattr(_op_stage.time, "sleep", lambda _s: None)


def test_install_from_a_url_stages_through_the_host_and_never_shows_the_token(monkeypatch):
    replies = [ps(fresh()), stage_reply("running", changed=True, transfer=RUNNING),
               stage_reply("staged", transfer=DONE), START, poll(), CLEANUP]  # fmt: skip
    plugin, execute, result = run(monkeypatch, url_args(), replies)
    assert "failed" not in result, result
    assert scripts(execute) == ["probe v1", "package_stage v1", "package_stage v1", "setup_start v1", "setup_poll v1",
                                "setup_cleanup v1"]  # fmt: skip
    plugin._connection.put_file.assert_not_called()  # nothing of the package through the controller
    assert result["remote_calls"] == 6 and result["steps"][0]["name"] == "stage installer"
    probe = execute.call_args_list[0].kwargs["module_args"]["parameters"]
    assert probe["InstallerPath"] == STAGED and probe["InstallerSha256"] is True
    assert not probe.get("InstallerUploadName")
    for call in execute.call_args_list[1:3]:
        module_args = call.kwargs["module_args"]
        assert module_args["parameters"] | {} == {
            "PackagePath": STAGED, "ExpectedSha256": SHA, "SourceKind": "url", "SourceShown": SHOWN,
            "WaitSeconds": _op_stage.WAIT_SECONDS, "MaxAttempts": _op_stage.MAX_ATTEMPTS,
        }  # fmt: skip
        assert module_args["sensitive_parameters"] == [{"name": "Url", "value": URL}]
    start = execute.call_args_list[3].kwargs["module_args"]["parameters"]
    assert start["PackagePath"] == STAGED and start["ExpectedSha256"] == SHA and start["ExpectedVersion"] == VERSION
    for call in execute.call_args_list:
        assert "SecretToken" not in json.dumps(call.kwargs["module_args"].get("parameters"))
    text = json.dumps(result)
    assert "SecretToken" not in text and URL not in text
    assert result["invocation"]["module_args"]["installer_url"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_a_package_already_staged_from_the_url_is_not_fetched_again(monkeypatch):
    probe = fresh(installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, url_args(), [ps(probe), START, poll(), CLEANUP])
    assert "failed" not in result, result
    assert scripts(execute) == ["probe v1", "setup_start v1", "setup_poll v1", "setup_cleanup v1"]
    converged = installed(installer=installer_facts(STAGED, sha256=SHA))
    _plugin, execute, result = run(monkeypatch, url_args(), [ps(converged)])
    assert result["remote_calls"] == 1 and result["changed"] is False


def test_install_from_a_share_copies_it_on_the_host(monkeypatch):
    args = base_args(None, installer_remote_path=UNC, installer_checksum=SHA, installer_version=VERSION)
    args.pop("installer")
    replies = [ps(fresh()), stage_reply("staged", changed=True, transfer={**DONE, "kind": "share", "source": UNC}),
               START, poll(), CLEANUP]  # fmt: skip
    _plugin, execute, result = run(monkeypatch, args, replies)
    assert "failed" not in result, result
    stage = execute.call_args_list[1].kwargs["module_args"]
    assert stage["parameters"]["SourceKind"] == "share" and stage["parameters"]["SourcePath"] == UNC
    assert "sensitive_parameters" not in stage and stage["parameters"]["PackagePath"] == STAGED


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        ("the package from x has SHA-256 00, not the expected ab; it was deleted", "correct installer_checksum"),
        ("The remote server returned an error: (404) Not Found.", "check installer_url"),
        ("The remote server returned an error: (403) Forbidden.", "token"),
        ("Unable to connect to the remote server", "resumes from what arrived"),
    ],
)  # fmt: skip
def test_a_failed_transfer_fails_before_setup_saying_what_to_do(monkeypatch, error, advice):
    failed = {**RUNNING, "state": "failed", "attempts": 5, "error": error}
    _plugin, execute, result = run(monkeypatch, url_args(), [ps(fresh()), stage_reply("failed", transfer=failed)])
    assert result["failed"] and "setup_start v1" not in scripts(execute)
    assert f"from {SHOWN}" in result["msg"] and advice in result["msg"] and "after 5 attempt(s)" in result["msg"]
    assert "SecretToken" not in json.dumps(result)


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"installer_url": "ftp://files.corp/setup.exe"}, ("installer_url", "http:// or https://")),
        ({"installer_url": "https://svc:Pw-Secret-1@files.corp/a.exe"}, ("installer_url", "without user name")),
        ({"installer_checksum": None},
         ("installer_checksum", "installer_url makes the host fetch", "asr_installer_checksum")),
        ({"installer_checksum": "ab" * 20}, ("installer_checksum", "64 hexadecimal")),
        ({"installer_url": None, "installer_remote_path": r"\server\share\x.exe"},
         ("installer_remote_path", "UNC path")),
        ({"installer_url": None, "installer_remote_path": r"\\server\share"}, ("installer_remote_path", "the file")),
        ({"installer_url": None, "installer_remote_path": r"\\srv\share\x.exe", "installer_checksum": None},
         ("installer_checksum", "copy from a file share")),
    ],
)  # fmt: skip
def test_bad_sources_are_refused_before_any_remote_call(monkeypatch, extra, words):
    args = url_args()
    for key, value in extra.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    _plugin, execute, result = run(monkeypatch, args, [])
    assert result["failed"] and execute.call_count == 0 and result.get("remote_calls", 0) == 0
    for word in words:
        assert word in result["msg"], result["msg"]
    assert "Pw-Secret-1" not in json.dumps(result) and "SecretToken" not in json.dumps(result)


def test_the_package_options_exclude_each_other(monkeypatch):
    args = url_args(installer_remote_path=UNC)
    _plugin, execute, result = run(monkeypatch, args, [])
    assert result["failed"] and execute.call_count == 0
    assert "mutually exclusive" in result["msg"] and "installer_url" in result["msg"]


def test_upgrade_hops_may_come_from_urls(monkeypatch):
    hop = {"url": URL.replace("Setup.exe", "Setup-9.53.exe"), "version": "9.53.6904.1", "checksum": "cd" * 32}
    args = {"installer_url": URL, "installer_checksum": SHA, "installer_version": VERSION, "installers": [hop]}
    _plugin, execute, result = run(monkeypatch, args, [ps(installed("9.50.6601.1"))], module=upgrade, check_mode=True)
    assert "failed" not in result, result
    assert result["hops"] == ["9.53.6904.1", VERSION] and "SecretToken" not in json.dumps(result)
    bad = {**args, "installers": [{**hop, "checksum": None}]}
    bad["installers"][0].pop("checksum")
    _plugin, execute, result = run(monkeypatch, bad, [], module=upgrade)
    assert result["failed"] and execute.call_count == 0 and "installers[0].checksum" in result["msg"]


# ---- process_server state=staged -------------------------------------------------------------------------------
def staged_args(**extra):
    return {"state": "staged", "installer_url": URL, "installer_checksum": SHA, "installer_version": VERSION, **extra}


def test_staged_starts_the_transfer_and_does_not_wait_for_it(monkeypatch):
    _plugin, execute, result = run(monkeypatch, staged_args(), [stage_reply("running", changed=True, transfer=RUNNING)],
                                  module=process_server)  # fmt: skip
    assert "failed" not in result, result
    assert scripts(execute) == ["package_stage v1"] and result["remote_calls"] == 1
    assert result["staged"] is False and result["changed"] is True and result["source"] == SHOWN
    assert result["operations"]["stage"]["msg"].startswith("the host is transferring the package from " + SHOWN)
    assert "SecretToken" not in json.dumps(result)


def test_staged_again_reports_the_staged_package_and_its_resumed_transfer(monkeypatch):
    _plugin, _execute, result = run(monkeypatch, staged_args(), [stage_reply("staged", transfer=DONE)],
                                  module=process_server)  # fmt: skip
    assert result["staged"] is True and result["changed"] is False and result["remote_calls"] == 1
    assert result["transfer"]["resumed_from"] == 40 and "resumed at byte 40" in result["operations"]["stage"]["msg"]
    assert result["package"]["sha256"] == SHA


def test_staged_from_the_controller_sends_one_copy_checks_it_and_moves_it(monkeypatch, tmp_path):
    package = tmp_path / "setup.exe"
    package.write_bytes(CONTENT)
    args = {"state": "staged", "installer": str(package), "installer_version": VERSION}
    replies = [stage_reply("missing", upload_path=UPLOAD), stage_reply("staged", changed=True)]
    plugin, execute, result = run(monkeypatch, args, replies, module=process_server)
    assert "failed" not in result, result
    assert plugin.script_calls == ["package_stage v1", "put_file", "package_stage v1"]
    plugin._connection.put_file.assert_called_once_with(str(package), UPLOAD)
    assert result["staged"] is True and result["changed"] is True
    assert execute.call_args_list[0].kwargs["module_args"]["parameters"]["SourceKind"] == "upload"
    again = run(monkeypatch, args, [stage_reply("staged")], module=process_server)
    assert again[0]._connection.put_file.call_count == 0 and again[2]["remote_calls"] == 1


def test_staged_in_check_mode_predicts_and_changes_nothing(monkeypatch):
    _plugin, _execute, result = run(monkeypatch, staged_args(), [stage_reply("would transfer")], module=process_server,
                                  check_mode=True)  # fmt: skip
    assert result["changed"] is True and result["staged"] is False
    assert "would be staged" in result["operations"]["stage"]["msg"]


def test_staged_refuses_a_package_of_another_version(monkeypatch):
    other = stage_reply("staged")
    body = json.loads(other["result"])
    body["package"]["file_version"] = "9.54.1.1"
    other["result"] = json.dumps(body)
    _plugin, _execute, result = run(monkeypatch, staged_args(), [other], module=process_server)
    assert result["failed"] and "9.54.1.1, not 9.55.7123.1" in result["msg"]


def test_staged_needs_a_source_to_transfer(monkeypatch):
    args = {"state": "staged", "installer_remote_path": r"D:\Media\setup.exe"}
    _plugin, execute, result = run(monkeypatch, args, [], module=process_server)
    assert result["failed"] and execute.call_count == 0 and "nothing to stage" in result["msg"]
    _plugin, execute, result = run(monkeypatch, {"state": "staged"}, [], module=process_server)
    assert result["failed"] and execute.call_count == 0 and "installer_url" in result["msg"]


def test_install_still_accepts_its_old_sources(monkeypatch, tmp_path):
    assert argument_specs.PACKAGE_OPTIONS == ["installer", "installer_remote_path", "installer_url"]


def test_staged_from_the_controller_in_check_mode_sends_nothing(monkeypatch, tmp_path):
    package = tmp_path / "setup.exe"
    package.write_bytes(CONTENT)
    args = {"state": "staged", "installer": str(package), "installer_version": VERSION}
    plugin, execute, result = run(monkeypatch, args, [stage_reply("missing", upload_path=UPLOAD)],
                                  module=process_server, check_mode=True)  # fmt: skip
    assert plugin._connection.put_file.call_count == 0 and execute.call_count == 1
    assert result["changed"] is True and result["staged"] is False
