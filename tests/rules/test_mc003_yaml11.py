"""MC003: YAML 1.1 surprise (yes/no/on/off, octal, sexagesimal, underscores).

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the loader
(validator/loader.py); validator/rules/mc003_yaml11.py documents it.
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
    pytest.param("MC003", SMTP_HEAD + "    port: 0465\n", 6, 11, id="MC003-octal"),
    pytest.param("MC003", SMTP_HEAD + "    allow_insecure: no\n", 6, 21, id="MC003-no"),
    pytest.param("MC003", SMTP_HEAD + "    allow_insecure: on\n", 6, 21, id="MC003-on"),
    pytest.param("MC003", SMTP_HEAD + "    port: 1_000\n", 6, 11, id="MC003-underscore"),
    pytest.param("MC003", SMTP_HEAD + "    port: 0x24b\n", 6, 11, id="MC003-hexadecimal"),
    pytest.param("MC003", SMTP_HEAD + "    name: 1:30\n", 6, 11, id="MC003-sexagesimal"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    assert_fires_once(check(source), rule, tmp_path / "accounts.yaml", line, column)


def test_mc003_octal_is_read_as_the_application_reads_it(check: Check) -> None:
    result = check(SMTP_HEAD + "    port: 0465\n")
    [surprise] = only(result, "MC003")
    assert "309" in surprise.message
    assert "465" in (surprise.hint or "")
    # the value is taken as 309, so the port rule sees 309 (not the standard 465)
    assert where(result, "MC402") == [("info", 6, 11)]


def test_mc003_documented_example_0587(check: Check) -> None:
    # The rule's own "Fails" example: `port: 0587`. YAML 1.1 (PyYAML) reads it as the *string* "0587"
    # (8 is no octal digit) where YAML 1.2 reads 587: a plain value that is not read as it looks.
    result = check(SMTP_HEAD + "    port: 0587\n")
    assert where(result, "MC003") == [("warning", 6, 11)]


def test_mc003_never_repeats_a_password_value(check: Check) -> None:
    result = check(SMTP_HEAD + "    credentials:\n      username: a\n      password: off\n")
    [surprise] = only(result, "MC003")
    assert (surprise.line, surprise.column) == (8, 17)
    assert "off" not in surprise.message
    assert "off" not in (surprise.hint or "")


@pytest.mark.parametrize("value", ["false", "'no'", "587", "'1:30'"])
def test_mc003_passes_on_plain_values(check: Check, value: str) -> None:
    assert only(check(SMTP_HEAD + f"    name: {value}\n"), "MC003") == []


def test_mc003_hexadecimal_port(check: Check) -> None:
    # YAML 1.1 reads `0x24b` as 587, like it reads `0465` as 309: a warning, as for octal.
    result = check(SMTP_HEAD + "    port: 0x24b\n")
    [surprise] = only(result, "MC003")
    assert (surprise.severity.value, surprise.line, surprise.column) == ("warning", 6, 11)
    assert "hexadecimal number 587" in surprise.message
    assert only(result, "MC103") == []


def test_encryption_off_is_a_yaml11_boolean_then_a_type_error(check: Check) -> None:
    result = check(replace_line(7, "    encryption: off"))
    assert where(result, "MC003") == [("warning", 7, 17)]
    assert "boolean false" in only(result, "MC003")[0].message
    assert ("error", 7, 17) in where(result, "MC103")
    assert any("boolean" in item.message for item in only(result, "MC103"))
    assert result.files[0].documents[0].data["smtp"][0]["encryption"] is False


def test_leading_zero_port_is_octal(check: Check) -> None:
    result = check(insert_after(7, "    port: 0465\n"))
    assert where(result, "MC003") == [("warning", 8, 11)]
    (item,) = only(result, "MC003")
    assert "octal" in item.message
    assert "309" in item.message
    assert item.hint is not None
    assert "465" in item.hint
    assert result.files[0].documents[0].data["smtp"][0]["port"] == 309


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", True), ("no", False), ("on", True), ("off", False), ("Yes", True), ("OFF", False), ("NO", False)],
)
def test_yes_no_on_off_are_yaml11_booleans(check: Check, text: str, value: bool) -> None:
    result = check(insert_after(8, f"    allow_insecure: {text}\n"))
    assert where(result, "MC003") == [("warning", 9, 21)]
    assert f"boolean {str(value).lower()}" in only(result, "MC003")[0].message
    assert result.files[0].documents[0].data["smtp"][0]["allow_insecure"] is value


@pytest.mark.parametrize("text", ["true", "false", "True", "FALSE"])
def test_yaml12_booleans_are_no_surprise(check: Check, text: str) -> None:
    result = check(insert_after(8, f"    allow_insecure: {text}\n"))
    assert only(result, "MC003") == []


def test_underscore_number(check: Check) -> None:
    result = check(insert_after(7, "    port: 1_000\n"))
    assert where(result, "MC003") == [("warning", 8, 11)]
    assert "1000" in only(result, "MC003")[0].message
    assert result.files[0].documents[0].data["smtp"][0]["port"] == 1000


def test_sexagesimal_number(check: Check) -> None:
    result = check(insert_after(7, "    port: 1:30\n"))
    assert where(result, "MC003") == [("warning", 8, 11)]
    assert "sexagesimal" in only(result, "MC003")[0].message
    assert "90" in only(result, "MC003")[0].message
    assert result.files[0].documents[0].data["smtp"][0]["port"] == 90


@pytest.mark.parametrize("text", ["'yes'", '"off"', "'0465'", '"1_000"', "'1:30'", '"NO"', "!!str on"])
def test_quoted_or_tagged_values_are_no_surprise(check: Check, text: str) -> None:
    result = check(insert_after(5, f"    name: {text}\n"))
    assert only(result, "MC003") == []
    assert result.findings == ()
    assert isinstance(result.files[0].documents[0].data["smtp"][0]["name"], str)


def test_yaml11_surprise_finding_has_the_pointer_of_the_value(check: Check) -> None:
    # docs/reference.md: every finding has a JSON pointer; the surprising value has a definite one.
    result = check(insert_after(7, "    port: 0465\n"))
    assert [item.pointer for item in only(result, "MC003")] == ["/smtp/0/port"]
