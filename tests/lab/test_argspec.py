"""lab.argspec validates module arguments exactly as the real Windows module does (Ansible.Basic / Legacy)."""

from __future__ import annotations

import pytest

from lab import argspec
from lab.argspec import ModuleFailure, ModuleSkipped

BASIC_MODULES = ["win_ping", "win_command", "win_powershell", "win_stat", "win_service", "win_service_info", "setup"]
LEGACY_MODULES = ["win_shell", "win_copy", "win_file", "win_reg_stat", "async_status"]


@pytest.mark.parametrize("module", [*BASIC_MODULES, "win_package"])
def test_basic_modules_read_their_ps1_spec_and_documentation(module):
    spec = argspec.module_spec(f"ansible.windows.{module}")
    assert spec.style == argspec.BASIC
    documented = set(argspec._documentation(argspec._module_files(module)[1]).get("options") or {})
    # every documented option is validated, and what the .ps1 adds is internal (leading underscore)
    assert documented <= set(spec.options)
    assert all(name.startswith("_") for name in set(spec.options) - documented - _fragment_options(module))


def _fragment_options(module: str) -> set[str]:
    return set(argspec._fragment_options("ansible.windows.web_request")) if module == "win_package" else set()


def _installed_ps1(module: str) -> str:
    return argspec._module_files(module)[0].read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("module", LEGACY_MODULES)
def test_legacy_modules_are_recognised(module):
    # ansible.windows moves modules from the legacy Parse-Args style to Ansible.Basic over time (win_shell did in
    # 3.x, the version ansible 14 bundles): the lab must follow the module actually installed.
    expected = argspec.BASIC if "Ansible.Basic" in _installed_ps1(module) else argspec.LEGACY
    assert argspec.module_spec(module).style == expected


def test_unknown_option_fails_with_the_real_message_naming_the_module_as_sent():
    with pytest.raises(ModuleFailure) as err:
        argspec.validate("win_stat", {"path": "C:\\x", "get_checksumm": True}, {"_ansible_module_name": "win_stat"})
    assert err.value.msg == (
        "Unsupported parameters for (win_stat) module: get_checksumm. Supported parameters include: "
        "path, get_checksum, get_size, checksum_algorithm, follow, dest, name"
    )


def test_defaults_aliases_and_types_as_ansible_basic():
    v = argspec.validate("win_stat", {"dest": "%TEMP%\\a", "get_checksum": "no"}, env={"TEMP": "C:\\T"})
    assert v.params["path"] == "C:\\T\\a"  # path type expands environment variables
    assert v.params["dest"] == "%TEMP%\\a"  # the alias stays next to the option (GetAliases)
    assert v.params["get_checksum"] is False
    assert v.params["checksum_algorithm"] == "sha1"
    assert v.invocation == {"module_args": v.params}


def test_str_option_gets_dotnet_tostring_of_a_bool():
    assert argspec.validate("win_ping", {"data": True}).params["data"] == "True"


def test_bad_bool_and_int_messages():
    with pytest.raises(ModuleFailure, match=r"argument for get_size is of type System.String and we were unable to "):
        argspec.validate("win_stat", {"path": "C:\\", "get_size": "maybe"})
    with pytest.raises(ModuleFailure, match="unable to convert to int: Input string was not in a correct format"):
        argspec.validate("win_powershell", {"script": "x", "depth": "deep"})


def test_choices_use_the_ps1_spec_order_and_are_case_insensitive():
    with pytest.raises(ModuleFailure) as err:
        argspec.validate("win_service", {"name": "x", "state": "running"})
    assert err.value.msg == (
        "value of state must be one of: started, stopped, restarted, absent, paused. Got no match for: running"
    )
    assert argspec.validate("win_service", {"name": "x", "state": "Started"}).params["state"] == "Started"


def test_required_mutually_exclusive_required_one_of_required_if_required_by():
    with pytest.raises(ModuleFailure, match=r"^missing required arguments: name$"):
        argspec.validate("win_service", {})
    with pytest.raises(ModuleFailure, match=r"^parameters are mutually exclusive: _raw_params, argv, cmd$"):
        argspec.validate("win_command", {"cmd": "a", "argv": ["a"]})
    with pytest.raises(ModuleFailure, match=r"^one of the following is required: _raw_params, argv, cmd$"):
        argspec.validate("win_command", {})
    with pytest.raises(ModuleFailure, match=r"^state is absent but any of the following are missing: path, product_id"):
        argspec.validate("win_package", {"state": "absent"})
    with pytest.raises(ModuleFailure, match=r"^missing parameter\(s\) required by 'password': username$"):
        argspec.validate("win_service", {"name": "x", "password": "p"})


def test_sub_options_are_checked_with_their_context():
    with pytest.raises(ModuleFailure, match="parameters are mutually exclusive: value, username found in sensitive"):
        argspec.validate(
            "win_powershell",
            {"script": "x", "sensitive_parameters": [{"name": "a", "value": "v", "username": "u", "password": "p"}]},
        )


def test_no_log_options_and_invocation_redaction():
    assert argspec.no_log_options("ansible.windows.win_service") == ["password"]
    assert argspec.no_log_options("win_powershell") == ["sensitive_parameters.password", "sensitive_parameters.value"]
    v = argspec.validate(
        "win_powershell",
        {
            "script": "x",
            "parameters": {"Copy": "s3cret", "Note": "is s3cret here"},
            "sensitive_parameters": [{"name": "Pass", "value": "s3cret"}],
        },
    )
    args = v.invocation["module_args"]
    assert args["sensitive_parameters"][0]["value"] == argspec.NO_LOG_PLACEHOLDER
    assert args["parameters"] == {"Copy": argspec.NO_LOG_PLACEHOLDER, "Note": "is ******** here"}
    assert v.params["sensitive_parameters"][0]["value"] == "s3cret"  # the module itself sees the value


def test_check_mode_skip_basic_names_the_module_legacy_does_not():
    with pytest.raises(ModuleSkipped) as err:
        argspec.validate(
            "win_command", {"cmd": "x"}, {"_ansible_check_mode": True, "_ansible_module_name": "win_command"}
        )
    assert err.value.result["msg"] == "remote module (win_command) does not support check mode"
    assert err.value.result["skipped"] is True


def test_check_mode_skip_legacy_does_not_name_the_module():
    legacy_without_check_mode = [
        m
        for m in LEGACY_MODULES
        if "Ansible.Basic" not in _installed_ps1(m) and "-supports_check_mode $false" in _installed_ps1(m)
    ]
    if not legacy_without_check_mode:
        pytest.skip(
            "the installed ansible.windows has no legacy module without check mode (win_shell is Ansible.Basic)"
        )
    with pytest.raises(ModuleSkipped) as err:
        argspec.validate(legacy_without_check_mode[0], {"_raw_params": "x"}, {"_ansible_check_mode": True})
    assert err.value.result == {"skipped": True, "changed": False, "msg": "remote module does not support check mode"}


def test_legacy_modules_accept_unknown_options_like_parse_args():
    v = argspec.validate("win_file", {"path": "C:\\x", "stat": "absent"})
    assert v.invocation is None
    assert v.params == {"path": "C:\\x", "stat": "absent"}


def test_legacy_param_messages():
    with pytest.raises(ModuleFailure, match=r"^Get-AnsibleParam: Missing required argument: path$"):
        argspec.legacy_param({}, "path", failifempty=True)
    with pytest.raises(ModuleFailure, match=r"Argument state needs to be one of absent,file but was dir\."):
        argspec.legacy_param({"state": "dir"}, "state", validateset=["absent", "file"])
    assert argspec.legacy_param({"dest": "%X%\\a"}, "path", type="path", aliases=["dest"], env={"X": "C:"}) == "C:\\a"
    assert argspec.legacy_param({"f": "yes"}, "f", type="bool") is True
    assert argspec.legacy_param({"l": "a, b"}, "l", type="list") == ["a", "b"]


def test_declarations_are_read_with_pwsh_parser(tmp_path):
    # lab/powershell/argspec.ps1 on a module written for the test: constants become data, the rest stays opaque
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "win_demo.ps1").write_text(
        r'''#AnsibleRequires -CSharpUtil Ansible.Basic
function Helper { $spec = @{ options = @{ wrong = @{} } } }
$spec = @{
    options = @{
        a = @{ type = 'str'; choices = 'x', 'y' }  # comment
        b = @{ aliases = , 'bee'; default = @(0, 3010); note = "it`'s ""q""" }
        c = @{ type = $someType; choices = $h.Keys + "z"; size = [uint32]5; neg = -1; ratio = 0.5 }
    }
    required_if = @(
        @("a", "x", @("b")),
        @("a", "y", @("b", "c"), $true)
    )
    mutually_exclusive = @(
        , @('a', 'b')
    )
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
''',
        encoding="utf-8",
    )
    (modules / "win_legacy.ps1").write_text(
        "$params = Parse-Args $args -supports_check_mode $false\n$spec = $null\n", encoding="utf-8"
    )
    declared = argspec._from_json(argspec.extract_declarations(modules, None))["modules"]
    spec = declared["win_demo"]["spec"]
    assert spec["options"]["a"] == {"type": "str", "choices": ["x", "y"]}
    assert spec["options"]["b"] == {"aliases": ["bee"], "default": [0, 3010], "note": 'it\'s "q"'}
    c = spec["options"]["c"]
    assert isinstance(c["type"], argspec.Opaque) and c["type"].text == "$someType"
    assert isinstance(c["choices"], argspec.Opaque) and isinstance(c["size"], argspec.Opaque)
    assert (c["neg"], c["ratio"]) == (-1, 0.5)
    assert spec["required_if"] == [["a", "x", ["b"]], ["a", "y", ["b", "c"], True]]
    assert spec["mutually_exclusive"] == [["a", "b"]]
    assert spec["supports_check_mode"] is True
    assert declared["win_demo"]["parse_args_check_mode"] is None
    assert declared["win_legacy"] == {"spec": None, "parse_args_check_mode": False}


def test_declarations_are_cached_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv(argspec.CACHE_ENV, str(tmp_path))
    argspec._declarations.cache_clear()
    try:
        first = argspec._declarations()
        files = list(tmp_path.glob("argspec-ansible.windows-*.json"))
        assert len(files) == 1 and argspec._windows_version() in files[0].name
        argspec._declarations.cache_clear()

        def no_pwsh(*_args):
            raise AssertionError("pwsh ran although the declarations of these files are cached")

        monkeypatch.setattr(argspec, "extract_declarations", no_pwsh)
        assert argspec._declarations() == first
    finally:
        argspec._declarations.cache_clear()


def test_the_cache_name_changes_with_the_module_files(tmp_path, monkeypatch):
    monkeypatch.setenv(argspec.CACHE_ENV, str(tmp_path / "cache"))
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "win_x.ps1").write_text("$spec = @{ options = @{} }\n", encoding="utf-8")
    before = argspec._cache_file(modules)
    (modules / "win_x.ps1").write_text("$spec = @{ options = @{ a = @{} } }\n", encoding="utf-8")
    assert argspec._cache_file(modules) != before
