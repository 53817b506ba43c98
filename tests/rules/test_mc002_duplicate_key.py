"""MC002: duplicate key in a mapping.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the loader
(validator/loader.py); validator/rules/mc002_duplicate_key.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import SMTP_HEAD, insert_after, replace_line
from conftest import Check, assert_fires_once, only, where

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param("MC002", SMTP_HEAD + "    host: mail.example.com\n", 6, 5, id="MC002"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc002_names_the_first_key_and_keeps_the_last_value(check: Check) -> None:
    result = check(SMTP_HEAD + "    host: mail.example.com\n")
    [duplicate] = only(result, "MC002")
    assert "'host'" in duplicate.message
    assert "line 4, column 5" in duplicate.message
    assert result.files[0].documents[0].data["smtp"][0]["host"] == "mail.example.com"


def test_mc002_passes_without_duplicate(check: Check) -> None:
    assert only(check(SMTP_HEAD), "MC002") == []


def test_mc002_in_a_flow_mapping(check: Check) -> None:
    result = check("version: 1\nusers:\n  - {id: anna, name: A, name: B}\n")
    assert where(result, "MC002") == [("error", 3, 25)]


def test_duplicate_key_reported_at_second_key_and_last_value_kept(check: Check) -> None:
    result = check(insert_after(6, "    host: mail.example.com\n"))
    assert where(result, "MC002") == [("error", 7, 5)]
    (item,) = only(result, "MC002")
    assert "'host'" in item.message
    assert "first at line 6, column 5" in item.message
    document = result.files[0].documents[0]
    assert document.data["smtp"][0]["host"] == "mail.example.com"
    # The kept value also keeps the later position.
    location = document.location(("smtp", 0, "host"))
    assert (location.line, location.column) == (7, 11)


def test_duplicate_top_level_key(check: Check) -> None:
    result = check("version: 1\nusers: []\nversion: 1\n")
    assert where(result, "MC002") == [("error", 3, 1)]
    assert "first at line 1, column 1" in only(result, "MC002")[0].message


def test_duplicate_key_in_flow_mapping(check: Check) -> None:
    result = check(replace_line(11, "      password: {env: FIRST, env: SMTP_PASSWORD}"))
    assert where(result, "MC002") == [("error", 11, 30)]
    assert "first at line 11, column 18" in only(result, "MC002")[0].message
    assert result.files[0].documents[0].data["smtp"][0]["credentials"]["password"] == {"env": "SMTP_PASSWORD"}


def test_duplicate_key_finding_has_the_pointer_of_the_key(check: Check) -> None:
    # docs/reference.md: every finding has a JSON pointer; the duplicated key has a definite one.
    result = check(insert_after(6, "    host: mail.example.com\n"))
    assert [item.pointer for item in only(result, "MC002")] == ["/smtp/0/host"]
