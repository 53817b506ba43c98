"""MC005: missing or unsupported `version`.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the loader
(validator/loader.py); validator/rules/mc005_version.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, VALID, replace_line
from conftest import Check, assert_fires_once, only, where

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC005", SMTP_HEAD.replace("version: 1\n", ""), 1, 1, id="MC005-missing"),
    pytest.param("MC005", SMTP_HEAD.replace("version: 1", "version: 2"), 1, 10, id="MC005-unsupported"),
    pytest.param("MC005", "", 1, 1, id="MC005-empty-file"),
    pytest.param("MC005", VALID + "---\nsmtp: []\n", 25, 1, id="MC005-second-document"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


@pytest.mark.parametrize(("value", "column"), [("'1'", 10), ("yes", 10), ("2", 10), ("{v: 1}", 10)])
def test_mc005_only_the_integer_1(check: Check, value: str, column: int) -> None:
    result = check(SMTP_HEAD.replace("version: 1", f"version: {value}"))
    assert where(result, "MC005") == [("error", 1, column)]


def test_mc005_passes_with_version_1(check: Check) -> None:
    assert only(check(SMTP_HEAD), "MC005") == []


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n# and another\n", "   \n# x\n"])
def test_empty_or_comment_only_file_is_mc005(check: Check, content: str) -> None:
    result = check(content)
    assert where(result, "MC005") == [("error", 1, 1)]
    assert result.findings == tuple(only(result, "MC005"))


def test_missing_version_is_mc005(check: Check) -> None:
    result = check(VALID.replace("version: 1\n", "", 1))
    assert where(result, "MC005") == [("error", 1, 1)]


@pytest.mark.parametrize(("text", "shown"), [("2", "2"), ("'1'", "'1'")])
def test_unsupported_version_is_one_mc005(check: Check, text: str, shown: str) -> None:
    result = check(replace_line(1, f"version: {text}"))
    assert where(result, "MC005") == [("error", 1, 10)]
    assert shown in only(result, "MC005")[0].message
