"""MC103: wrong type.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc103_type.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID, insert_after
from conftest import Check, assert_fires_once, only, where

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC103", SMTP_HEAD + '    port: "587"\n', 6, 11, id="MC103-quoted-port"),
    pytest.param("MC103", "version: 1\nsmtp: {id: outgoing}\n", 2, 7, id="MC103-section-not-list"),
    pytest.param("MC103", "version: 1\nusers: [anna]\n", 2, 9, id="MC103-entry-not-mapping"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc103_quoted_number_hint(check: Check) -> None:
    [wrong] = only(check(SMTP_HEAD + '    port: "587"\n'), "MC103")
    assert "without quotes" in (wrong.hint or "")
    assert wrong.pointer == "/smtp/0/port"


def test_mc103_passes_on_an_integer_port(check: Check) -> None:
    assert only(check(SMTP_HEAD + "    port: 587\n"), "MC103") == []


def test_mc103_credentials_not_a_mapping(check: Check) -> None:
    source = SMTP_HEAD + "    credentials: mailer@example.com\n"
    [wrong] = only(check(source), "MC103")
    assert wrong.message == (
        "`credentials` of smtp entry 'outgoing' must be a mapping (username, password or oauth2, contact)"
    )
    assert (wrong.line, wrong.column) == (6, 18)


def test_quoted_octal_port_hint_does_not_steer_into_the_octal_trap(check: Check) -> None:
    result = check(insert_after(7, "    port: '0465'\n"))
    assert where(result, "MC103") == [("error", 8, 11)]
    assert only(result, "MC003") == []
    hint = only(result, "MC103")[0].hint or ""
    # Unquoted, 0465 is the octal 309 (MC003): the hint must not suggest writing exactly that.
    assert "write 0465 without quotes" not in hint


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    port: true", "not a boolean"),
        ("    port: ~", "not empty"),
        ("    port: null", "not empty"),
        ("    port: 5.5", "not a number"),
        ("    name: 123", "not a number"),
        ("    allow_insecure: 1", "not a number"),
        ("    allow_insecure: null", "not empty"),
    ],
)
def test_wrong_typed_scalar_reported_at_the_value(check: Check, line: str, message: str) -> None:
    result = check(insert_after(5, line + "\n"))
    column = line.index(":") + 3
    assert where(result, "MC103") == [("error", 6, column)]
    assert message in only(result, "MC103")[0].message


def test_wrong_typed_value_in_a_flow_mapping(check: Check) -> None:
    result = check("version: 1\nsmtp: [{id: o, host: smtp.example.com, encryption: ssl, port: false}]\n")
    assert where(result, "MC103") == [("error", 2, 63)]


@pytest.mark.parametrize(
    ("reference", "column", "words", "form"),
    [
        ("{command: op read x}", 27, "'command' of the credentials of imap account 'info' must be a list", "{comm"),
        ("{file: [a, b]}", 24, "'file' of the credentials of imap account 'info' must be a string", "{file: PATH}"),
        ("{credential: 7}", 30, "'credential' of the credentials of imap account 'info' must be a string", "{cred"),
        ("{command: [op, [x]]}", 32, "'item' of the credentials of imap account 'info' must be a string", "{command"),
    ],
)
def test_mc103_a_secret_source_of_the_wrong_type(
    check: Check, tmp_path: Path, reference: str, column: int, words: str, form: str
) -> None:
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", reference)
    found = assert_fires_once(check(source), "MC103", tmp_path / "accounts.yaml", 22, column)
    assert found.message == words
    assert f"`password: {form}" in (found.hint or "")
