"""MC305: credentials without a `contact`.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc305_contact.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, NO_CONTACT, VALID, edit, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only, where

CONTACT = "      contact: IT desk\n"


def without_imap_contact(source: str) -> str:
    """``source`` (VALID or a variant) without the `contact` of the imap account `info`, its last line."""
    assert source.endswith(CONTACT)
    return source.removesuffix(CONTACT)


# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC305", edit(NO_CONTACT), {}, 9, 5, "/smtp/0/credentials", id="MC305"),
    pytest.param("MC305", without_imap_contact(with_oauth2()), {}, 20, 5, "/imap/0/credentials", id="MC305-oauth2"),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param("MC305", VALID, {}, id="MC305"),
    pytest.param("MC305", with_oauth2(), {}, id="MC305-oauth2"),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc305_for_every_credentials_without_contact(check: Check) -> None:
    source = VALID.replace("      contact: IT desk\n", "")
    assert where(check(source), "MC305") == [("info", 9, 5), ("info", 19, 5)]


def test_mc305_oauth2_credentials_without_contact(check: Check) -> None:
    [finding] = only(check(without_imap_contact(with_oauth2(*GOOGLE_SERVICE_ACCOUNT))), "MC305")
    assert finding.message == "nobody is named who can renew the OAuth2 login of 'info'"
    assert finding.hint == "add `contact:` to the credentials; `mailcfg secrets` lists who can enter each secret"
    assert (finding.line, finding.column, finding.pointer) == (20, 5, "/imap/0/credentials")


def test_mc305_passes_on_oauth2_credentials_with_contact(check: Check) -> None:
    assert only(check(with_oauth2()), "MC305") == []
    assert only(check(with_oauth2(entry="smtp")), "MC305") == []
