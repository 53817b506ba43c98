"""MC302: credentials would travel unencrypted.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc302_insecure.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import NO_CONTACT, edit
from conftest import Check, assert_fires_once, assert_passes, only, where

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC302", edit(("encryption: ssl", "encryption: none")), {}, 18, 17, "/imap/0/encryption", id="MC302-imap"
    ),
    pytest.param(
        "MC302",
        edit(("encryption: starttls", "encryption: none")),
        {},
        7,
        17,
        "/smtp/0/encryption",
        id="MC302-smtp",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param(
        "MC302",
        edit(("    encryption: ssl\n", "    encryption: none\n    allow_insecure: true\n")),
        {},
        id="MC302-allow-insecure",
    ),
    pytest.param(
        "MC302",
        edit(
            ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
            (
                "    credentials:\n      username: mailer@example.com\n      password: {env: SMTP_PASSWORD}\n"
                "      contact: IT desk\n",
                "",
            ),
        ),
        {},
        id="MC302-smtp-without-authentication",
    ),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc302_on_smtp_only_when_it_logs_in(check: Check) -> None:
    source = edit(
        ("    encryption: starttls\n", "    encryption: none\n    authentication: none\n"),
        NO_CONTACT,
    )
    result = check(source)
    assert only(result, "MC302") == []
    assert where(result, "MC304") == [("warning", 10, 5)]
