"""MC102: unknown key.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the schema stage
(validator/schema.py); validator/rules/mc102_unknown_key.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID
from conftest import Check, assert_fires_once, only

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC102", SMTP_HEAD + "    prot: 587\n", 6, 5, id="MC102-smtp"),
    pytest.param("MC102", "version: 1\nstmp: []\n", 2, 1, id="MC102-section"),
    pytest.param(
        "MC102",
        SMTP_HEAD + "    credentials: {username: a, password: {env: SMTP_PASSWORD}, pasword: x}\n",
        6,
        64,
        id="MC102-flow-credentials",
    ),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc102_did_you_mean_host(check: Check, tmp_path: Path) -> None:
    result = check(VALID.replace("    host: imap.example.com", "    hots: imap.example.com"))
    [unknown] = only(result, "MC102")
    assert (unknown.file, unknown.line, unknown.column, unknown.pointer) == (
        str(tmp_path / "accounts.yaml"),
        17,
        5,
        "/imap/0/hots",
    )
    assert "'host'" in (unknown.hint or "")
    assert [(f.line, f.column) for f in only(result, "MC101")] == [(14, 5)]  # and host is missing


def test_mc102_without_a_close_key_lists_the_known_ones(check: Check) -> None:
    [unknown] = only(check(SMTP_HEAD + "    zzzzzz: 1\n"), "MC102")
    assert "encryption" in (unknown.hint or "")


def test_mc102_passes_on_known_keys(check: Check) -> None:
    assert only(check(SMTP_HEAD + "    port: 587\n    name: Out\n"), "MC102") == []


def test_mc102_env_written_in_capitals_names_the_password(check: Check) -> None:
    source = VALID.replace("password: {env: IMAP_INFO_PASSWORD}", "password: {ENV: IMAP_INFO_PASSWORD}")
    result = check(source)
    [wrong] = only(result, "MC102")
    assert wrong.message == "`password` of imap account 'info' must be {env: NAME}: `ENV` is not `env`"
    assert (wrong.line, wrong.column, wrong.pointer) == (22, 18, "/imap/0/credentials/password")
    assert only(result, "MC101") == []  # the missing `env` is that same mistake
    assert "credentials" not in wrong.message


@pytest.mark.parametrize(("written", "meant"), [("FILE", "{file: PATH}"), ("Command", "{command: [PROGRAM, ARG...]}")])
def test_mc102_a_source_written_in_capitals_names_the_password(check: Check, written: str, meant: str) -> None:
    result = check(VALID.replace("password: {env: IMAP_INFO_PASSWORD}", f"password: {{{written}: x}}"))
    [wrong] = only(result, "MC102")
    assert wrong.message == f"`password` of imap account 'info' must be {meant}: `{written}` is not `{written.lower()}`"
    assert only(result, "MC101") == []


def test_mc102_an_unknown_key_beside_a_source_lists_the_sources(check: Check) -> None:
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", "{file: /run/secrets/info, mode: 600}"))
    [wrong] = only(result, "MC102")
    assert wrong.message == "unexpected key in `password` of imap account 'info'"
    assert "`{credential: NAME}`" in (wrong.hint or "")
