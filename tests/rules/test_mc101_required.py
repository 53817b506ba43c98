"""MC101: required key missing.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc101_required.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID
from conftest import Check, assert_fires_once, only, where

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC101", "version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n", 3, 5, id="MC101-host"),
    pytest.param(
        "MC101",
        SMTP_HEAD + "    credentials:\n      password: {env: SMTP_PASSWORD}\n",
        7,
        7,
        id="MC101-credentials-username",
    ),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc101_names_the_missing_key(check: Check) -> None:
    [missing] = only(check("version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n"), "MC101")
    assert "'host'" in missing.message
    assert missing.pointer == "/smtp/0"
    assert missing.account == "outgoing"


def test_mc101_every_missing_key_of_an_imap_account(check: Check) -> None:
    result = check("version: 1\nimap:\n  - id: info\n")
    assert where(result, "MC101") == [("error", 3, 5)] * 6
    named = {f.message.rsplit("'", 2)[1] for f in only(result, "MC101")}
    assert named == {"scope", "address", "host", "encryption", "outgoing", "credentials"}


def test_mc101_password_without_env_names_the_password(check: Check) -> None:
    [missing] = only(check(VALID.replace("password: {env: IMAP_INFO_PASSWORD}", "password: {}")), "MC101")
    assert missing.message == "`password` of imap account 'info' must be {env: NAME}: it has no `env`"
