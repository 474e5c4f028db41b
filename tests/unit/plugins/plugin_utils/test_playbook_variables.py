"""Messages a playbook run reaches name the module option and the asr_* variable behind it (issue 10, item 10a)."""

from __future__ import annotations

import pathlib
import re

import pytest

from ansible_collections.asr.process_server.plugins.plugin_utils.errors import InvalidOption
from ansible_collections.asr.process_server.plugins.plugin_utils.playbook_variables import (
    OPTION_VARIABLES,
    both,
    describe,
    playbook_variable,
)

ROOT = pathlib.Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(
    ("option", "variable"),
    [
        ("installers", "asr_installers"),
        ("installers[0].version", "asr_installers[0].version"),
        ("proxy.address", "asr_proxy.address"),
        ("process_server_ip", "asr_ip"),
        ("staging_dir", None),
    ],
)
def test_the_variable_behind_an_option(option, variable):
    assert playbook_variable(option) == variable
    assert both(option) == (option if variable is None else f"{option} ({variable} in the playbooks)")


def test_a_refusal_names_both_and_hides_secrets_as_before():
    text = describe(InvalidOption("installers[1].version", "v9", "dot-separated numbers"))
    assert text.startswith("installers[1].version: 'v9' is not allowed") and text.endswith("asr_installers[1].version.")
    secret = describe(InvalidOption("passphrase", "S3cret-Value", "one line"))
    assert "S3cret-Value" not in secret and "asr_passphrase" in secret
    assert describe(InvalidOption("staging_dir", "x", "a folder")) == str(InvalidOption("staging_dir", "x", "a folder"))


def test_every_variable_named_is_one_the_roles_or_playbooks_read():
    # the table must not invent variable names: each one is read by a role default or a playbook
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in (*ROOT.glob("roles/*/defaults/*.yml"), *ROOT.glob("playbooks/*.yml"))
    )
    read = set(re.findall(r"\basr_[a-z_0-9]+", text))
    assert set(OPTION_VARIABLES.values()) <= read, set(OPTION_VARIABLES.values()) - read
