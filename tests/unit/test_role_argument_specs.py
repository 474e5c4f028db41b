"""The roles' argument specs accept what the modules behind them accept (validated as ansible-core does at
role entry, with ``ArgumentSpecValidator``)."""

from __future__ import annotations

import pathlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO = pathlib.Path(__file__).resolve().parents[2]


def role_spec(role: str) -> dict:
    specs = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text(encoding="utf-8"))
    options = specs["argument_specs"]["main"]["options"]
    return {name: {k: v for k, v in option.items() if k != "description"} for name, option in options.items()}


@pytest.mark.parametrize("value", ["VMware", "VMWare", "vmware", "NonVMware", "NonVMWare", "NONVMWARE"])
def test_process_server_role_accepts_env_type_in_any_capitalisation(value):
    """[1.1, 1.3] Microsoft's command lines write VMWare; the role must not refuse what the module accepts."""
    result = ArgumentSpecValidator(role_spec("process_server")).validate({"asr_env_type": value})
    assert result.error_messages == []
    assert result.validated_parameters["asr_env_type"] == value  # the module normalises it
