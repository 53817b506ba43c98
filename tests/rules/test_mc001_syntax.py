"""MC001: file is not readable as UTF-8 YAML.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the loader
(validator/loader.py); validator/rules/mc001_syntax.py documents it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from builders import SMTP_HEAD, VALID, replace_line
from conftest import Check, assert_fires_once, only, rules_of, run_bytes, where

from validator import engine

# (rule, YAML source, expected line, expected column), counted by hand from the snippet (1-based: a missing key is
# reported on the mapping that lacks it, an unknown key on the key, a bad value on the value): one finding of the
# rule is expected, nothing more.
FIRES = [
    pytest.param(
        "MC001",
        """\
        version: 1
        smtp:
          - id: outgoing
            host: smtp.example.com
           encryption: starttls
        """,
        5,
        4,
        id="MC001-indentation",
    ),
    pytest.param("MC001", "version: 1\nsmtp: [*nope]\n", 2, 8, id="MC001-undefined-alias"),
    pytest.param("MC001", "version: 1\nsmtp:\n\t- id: outgoing\n", 3, 1, id="MC001-tab"),
    pytest.param("MC001", "version: 1\n? {a: 1}\n: x\n", 2, 3, id="MC001-mapping-as-key"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc001_invalid_utf8_names_the_byte(check: Check, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_bytes(b"version: 1\nusers:\n  - id: Zo\xeb\n")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 3, 11)]
    assert "0xeb" in only(result, "MC001")[0].message


def test_mc001_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_bytes(SMTP_HEAD.encode("utf-16"))
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 1, 1)]
    assert "UTF-16" in only(result, "MC001")[0].message


def test_mc001_invalid_utf8_after_a_bom_points_at_the_bad_byte(tmp_path: Path) -> None:
    # The byte 0xe9 is on line 3 after "  - id: " (8 characters): column 9. The BOM is not a column.
    path = tmp_path / "accounts.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\nusers:\n  - id: \xe9\n")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 3, 9)]
    assert "0xe9" in only(result, "MC001")[0].message


def test_mc001_control_character_column_counts_characters(check: Check) -> None:
    # "  - name: Müller" is 16 characters; the forbidden U+0080 follows at column 17 of line 3.
    result = check("version: 1\nusers:\n  - name: Müller\x80\n")
    assert where(result, "MC001") == [("error", 3, 17)]


def test_mc001_control_character_line_after_non_ascii_lines(check: Check) -> None:
    # Multi-byte characters on earlier lines must not move the reported position further down the file.
    result = check("version: 1\nusers:\n  - name: Zoë Müller Ørsted Ñandú\n  - name: a\x80\n  - name: b\n")
    assert where(result, "MC001") == [("error", 4, 12)]


def test_mc001_syntax_error_column_counts_characters(check: Check) -> None:
    # "    name: Zoë" is 13 characters; the stray ':' is at column 14.
    result = check("version: 1\nusers:\n  - id: anna\n    name: Zoë: x\n")
    assert where(result, "MC001") == [("error", 4, 14)]


def test_mc001_syntax_error_in_one_file_keeps_the_others_checked(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nsmtp:\n  - id: x\n   host: y\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(SMTP_HEAD + "    port: 70000\n", encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(tmp_path),)))
    assert [(f.file, f.line, f.column) for f in only(result, "MC001")] == [(str(tmp_path / "a.yaml"), 4, 4)]
    assert [(f.file, f.line, f.column) for f in only(result, "MC104")] == [(str(tmp_path / "b.yaml"), 6, 11)]


def test_mc001_passes_on_the_corrected_file(check: Check) -> None:
    result = check(SMTP_HEAD)
    assert only(result, "MC001") == []
    assert result.files[0].complete


def test_syntax_error_at_the_parsers_position(check: Check) -> None:
    source = replace_line(7, "   encryption: starttls")  # one space short: breaks the mapping
    result = check(source)
    with pytest.raises(yaml.MarkedYAMLError) as error:
        yaml.safe_load(source)
    mark = error.value.problem_mark
    assert mark is not None
    assert where(result, "MC001") == [("error", mark.line + 1, mark.column + 1)]
    assert where(result, "MC001") == [("error", 7, 4)]
    assert result.findings == tuple(only(result, "MC001"))
    assert result.exit_code() == 1


def test_unclosed_flow_sequence(check: Check) -> None:
    result = check("version: 1\nusers: [{id: anna}\nsmtp: []\n")
    with pytest.raises(yaml.MarkedYAMLError) as error:
        yaml.safe_load("version: 1\nusers: [{id: anna}\nsmtp: []\n")
    mark = error.value.problem_mark
    assert mark is not None
    assert where(result, "MC001") == [("error", mark.line + 1, mark.column + 1)]


def test_undefined_alias_is_mc001(check: Check) -> None:
    result = check(replace_line(19, "    outgoing: *smtp_id"))
    assert where(result, "MC001") == [("error", 19, 15)]
    assert "smtp_id" in only(result, "MC001")[0].message


def test_non_utf8_byte_position(tmp_path: Path) -> None:
    result = run_bytes(tmp_path, b"version: 1\nusers:\n  - id: an\xffna\n")
    assert where(result, "MC001") == [("error", 3, 11)]
    assert "0xff" in only(result, "MC001")[0].message


def test_non_utf8_byte_after_multibyte_characters(tmp_path: Path) -> None:
    result = run_bytes(tmp_path, "version: 1\nusers:\n  - name: Jürgen ".encode() + b"\xfe\n")
    assert where(result, "MC001") == [("error", 3, 18)]
    assert "0xfe" in only(result, "MC001")[0].message


def test_non_utf8_byte_position_with_a_bom(tmp_path: Path) -> None:
    result = run_bytes(tmp_path, b"\xef\xbb\xbfversion: 1\nusers:\n  - id: an\xffna\n")
    assert where(result, "MC001") == [("error", 3, 11)]
    assert "0xff" in only(result, "MC001")[0].message


def test_utf16_file_is_mc001(tmp_path: Path) -> None:
    result = run_bytes(tmp_path, VALID.encode("utf-16"))
    assert where(result, "MC001") == [("error", 1, 1)]
    assert "UTF-16" in only(result, "MC001")[0].message


def test_merge_key_needs_a_mapping(check: Check) -> None:
    result = check("version: 1\nusers:\n  - <<: just a string\n    id: anna\n")
    assert where(result, "MC001") == [("error", 3, 9)]


def test_an_alias_before_its_anchor_is_still_mc001() -> None:
    found = rules_of("version: 1\nsmtp: [*s]\nimap: &s []\n")
    assert [rule for rule, _ in found] == ["MC001"]
