"""MC304: credentials on an smtp entry without authentication.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc304_unused_credentials.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed
(its lines are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import edit
from conftest import Check, assert_fires_once, assert_passes

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC304",
        edit(
            (
                "    credentials:\n      username: mailer",
                "    authentication: none\n    credentials:\n      username: mailer",
            )
        ),
        {},
        10,
        5,
        "/smtp/0/credentials",
        id="MC304",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param(
        "MC304",
        edit(
            ("    credentials:\n      username: mailer@example.com\n", "    authentication: none\n"),
            ("      password: {env: SMTP_PASSWORD}\n      contact: IT desk\n", ""),
        ),
        {},
        id="MC304",
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
