"""MC402: non-standard port for the encryption.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc402_port_nonstandard.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed
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
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: starttls\n    port: 2525\n")),
        {},
        8,
        11,
        "/smtp/0/port",
        id="MC402",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param(
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: starttls\n    port: 587\n")),
        {},
        id="MC402",
    ),
    # a contradicting port is MC401, not also MC402
    pytest.param(
        "MC402",
        edit(("    encryption: starttls\n", "    encryption: ssl\n    port: 587\n")),
        {},
        id="MC402-not-on-contradiction",
    ),
    # a known provider's host: MC406 compares the port with what the provider publishes instead
    pytest.param(
        "MC402",
        edit(
            ("    host: smtp.example.com\n", "    host: mail.gmx.net\n"),
            ("    encryption: starttls\n", "    encryption: starttls\n    port: 2525\n"),
        ),
        {},
        id="MC402-known-provider-host-is-MC406",
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
