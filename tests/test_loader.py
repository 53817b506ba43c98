"""The loader's edge cases (MC001-MC005): every finding at its exact 1-based line and column.

Line numbers below refer to ``VALID`` (tests/builders.py): line 6 is the smtp ``host``, 7 its
``encryption``, 11 its ``password``, 14-23 the imap entry ``info``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from builders import VALID, Cli
from conftest import Check, only, where

from validator import engine, loader
from validator.errors import PathError
from validator.outcome import Result


def insert_after(line: int, text: str, base: str = VALID) -> str:
    """``base`` with ``text`` (one or more whole lines) inserted after its 1-based ``line``."""
    lines = base.splitlines(keepends=True)
    return "".join([*lines[:line], text, *lines[line:]])


def replace_line(line: int, text: str, base: str = VALID) -> str:
    lines = base.splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    return "".join(lines)


def run_bytes(tmp_path: Path, raw: bytes, name: str = "accounts.yaml", **options: object) -> Result:
    path = tmp_path / name
    path.write_bytes(raw)
    return engine.run(engine.CheckOptions(paths=(str(path),), **options))  # type: ignore[arg-type]


def test_valid_base_is_clean(check: Check) -> None:
    assert check(VALID).findings == ()


# ------------------------------------------------------------------------------------ duplicate keys


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


# ----------------------------------------------------------------------------- YAML 1.1 surprises


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


def test_quoted_octal_port_hint_does_not_steer_into_the_octal_trap(check: Check) -> None:
    result = check(insert_after(7, "    port: '0465'\n"))
    assert where(result, "MC103") == [("error", 8, 11)]
    assert only(result, "MC003") == []
    hint = only(result, "MC103")[0].hint or ""
    # Unquoted, 0465 is the octal 309 (MC003): the hint must not suggest writing exactly that.
    assert "write 0465 without quotes" not in hint


# ----------------------------------------------------------------------------------- syntax errors


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


# --------------------------------------------------------------------------------- refused input


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    lines = ["version: 1", "users:", "  - &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    lines += [f"  - &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_alias_bomb_refused_by_the_loader() -> None:
    # The guard counts expanded nodes, so the refusal does not depend on the machine's speed; how long it
    # takes is measured by benchmarks, not asserted here.
    source = _alias_bomb()
    loaded = loader.load_bytes(source.encode(), "bomb.yaml")
    rules = [item.rule for item in loaded.findings]
    assert rules == ["MC004"], rules
    item = loaded.findings[0]
    assert "alias" in item.message
    assert 4 <= item.line <= 11  # at one of the aliases
    assert loaded.documents == []


def test_alias_bomb_full_run_is_refused_in_a_capped_child(tmp_path: Path) -> None:
    # In a child process with a memory cap and a hang guard: an unguarded expansion must fail this
    # test, not hang or exhaust the test run.
    path = tmp_path / "bomb.yaml"
    path.write_text(_alias_bomb(), encoding="utf-8")
    warm = tmp_path / "warm.yaml"
    warm.write_text(VALID, encoding="utf-8")
    code = textwrap.dedent(
        f"""\
        import json, resource, time
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = 3 << 30 if hard == resource.RLIM_INFINITY else min(hard, 3 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        from validator import engine
        engine.run(engine.CheckOptions(paths=({str(warm)!r},)))  # imports and caches outside the timing
        start = time.perf_counter()
        result = engine.run(engine.CheckOptions(paths=({str(path)!r},)))
        print(json.dumps({{"seconds": time.perf_counter() - start,
                          "rules": [f.rule for f in result.findings]}}))
        """
    )
    try:
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=10, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail("checking a 9x9 alias bomb did not finish within 10 seconds")
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert "MC004" in report["rules"]


def test_ordinary_aliases_stay_within_the_budget(check: Check) -> None:
    source = VALID.replace("      contact: IT desk\n", "      contact: &desk IT desk\n", 1)
    source = source.replace("      contact: IT desk\n", "      contact: *desk\n")
    result = check(source)
    assert result.findings == ()
    assert result.files[0].documents[0].data["imap"][0]["credentials"]["contact"] == "IT desk"


def test_flow_nesting_over_the_limit(check: Check) -> None:
    depth = 70
    result = check("version: 1\nusers: " + "[" * depth + "]" * depth + "\n")
    # The root mapping is level 1, `users:`'s list level 2: the 64th `[` (column 8 + 63) is level 65.
    assert where(result, "MC004") == [("error", 2, 71)]
    assert "64" in only(result, "MC004")[0].message
    assert result.files[0].documents == []


def test_flow_nesting_at_the_limit_is_read(check: Check) -> None:
    depth = 63  # levels 2..64
    result = check("version: 1\nusers: " + "[" * depth + "]" * depth + "\n")
    assert only(result, "MC004") == []
    assert len(result.files[0].documents) == 1


def test_block_nesting_over_a_custom_limit(check: Check) -> None:
    # root 1, smtp list 2, entry 3, credentials 4, password mapping 5.
    assert check(VALID, limits=loader.Limits(max_depth=5)).findings == ()
    result = check(VALID, limits=loader.Limits(max_depth=4))
    assert where(result, "MC004") == [("error", 11, 17)]


def test_hundred_thousand_deep_flow_list_does_not_crash(tmp_path: Path) -> None:
    depth = 100_000
    path = tmp_path / "deep.yaml"
    path.write_text("version: 1\nusers: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "validator", "check", "--format", "json", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 1, run.stderr[-2000:]
    findings = json.loads(run.stdout)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("MC004", 2, 71)]


def test_file_over_the_size_limit(check: Check) -> None:
    padding = "# " + "x" * 1000 + "\n"
    source = VALID + padding * 1600  # about 1.5 MiB
    result = check(source, limits=loader.Limits(max_file_size=loader.MiB))
    assert where(result, "MC004") == [("error", 1, 1)]
    (item,) = result.findings
    assert "1 MiB limit" in item.message
    assert item.hint is not None
    assert "--max-file-size" in item.hint
    assert result.files[0].documents == []


def test_file_exactly_at_the_size_limit_is_read(tmp_path: Path) -> None:
    limit = 4096
    raw = VALID.encode()
    raw += b"#" * (limit - len(raw) - 1) + b"\n"
    assert len(raw) == limit
    result = run_bytes(tmp_path, raw, limits=loader.Limits(max_file_size=limit))
    assert result.findings == ()


def test_size_limit_from_the_cli(tmp_path: Path, cli: Cli) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(VALID + ("#" * 1000 + "\n") * 1100, encoding="utf-8")
    code, out, _ = cli("check", "--format", "json", "--max-file-size", "1", str(path))
    assert code == 1
    findings = json.loads(out)["findings"]
    assert [(f["rule"], f["line"], f["column"]) for f in findings] == [("MC004", 1, 1)]
    assert "1 MiB" in findings[0]["message"]
    code, out, _ = cli("check", "--max-file-size", "2", str(path))
    assert code == 0, out


def test_unsupported_tag_on_a_scalar(check: Check) -> None:
    result = check(insert_after(5, "    name: !!python/object:os.system ls\n"))
    assert where(result, "MC004") == [("error", 6, 11)]
    assert "python/object:os.system" in only(result, "MC004")[0].message
    assert result.files[0].documents == []


def test_unsupported_tag_on_a_mapping(check: Check) -> None:
    result = check(replace_line(9, "    credentials: !!python/object:os.system"))
    assert where(result, "MC004") == [("error", 9, 18)]
    assert result.files[0].documents == []


def test_unsupported_tag_on_a_sequence(check: Check) -> None:
    result = check(replace_line(2, "users: !!python/object/apply:os.system"))
    assert where(result, "MC004") == [("error", 2, 8)]
    assert result.files[0].documents == []


def test_custom_tag_on_a_scalar(check: Check) -> None:
    result = check(replace_line(6, "    host: !vault smtp.example.com"))
    assert where(result, "MC004") == [("error", 6, 11)]


# ------------------------------------------------------------------------------ files and documents


def test_two_documents_in_one_file_are_both_checked(check: Check) -> None:
    first = insert_after(3, "    nmae: Anna\n")  # MC102 at 4:5
    second = textwrap.dedent(
        """\
        version: 1
        imap:
          - id: second
            scope: system
            address: second@example.com
            host: imap.example.com
            encryption: ssl
            outgoing: outgong
            credentials:
              username: second@example.com
              password: {env: IMAP_SECOND_PASSWORD}
              contact: IT desk
            sent_foldr: Sent
          - id: info
            scope: system
            address: other@example.com
            host: imap.example.com
            encryption: ssl
            outgoing: outgoing
            credentials:
              username: other@example.com
              password: {env: IMAP_OTHER_PASSWORD}
              contact: IT desk
        """
    )
    result = check(first + "---\n" + second)
    documents = result.files[0].documents
    assert len(documents) == 2
    # The first document has 24 lines, `---` is line 25, the second document starts at line 26.
    assert where(result, "MC102") == [("error", 4, 5), ("error", 38, 5)]
    assert where(result, "MC201") == [("error", 33, 15)]
    assert where(result, "MC202") == [("error", 39, 9)]
    assert "first defined at" in only(result, "MC202")[0].message
    assert ":15:" in only(result, "MC202")[0].message  # the first `info` is on line 15 of the file
    assert result.summary.accounts == 4


def test_directory_input(tmp_path: Path) -> None:
    top = tmp_path / "accounts"
    files = {
        "b.yml": "version: 1\n",
        "a.yaml": "version: 1\n",
        "sub/deeper/d.yml": "version: 1\n",
        "sub/c.yaml": "version: 1\n",
        "notes.txt": "not yaml at all: [",
        "a.yaml.bak": "not yaml at all: [",
        "config.json": "{",
        ".hidden.yaml": "not yaml at all: [",
        ".git/x.yaml": "not yaml at all: [",
        "sub/.cache/y.yml": "not yaml at all: [",
    }
    for name in reversed(list(files)):  # creation order must not matter
        path = top / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[name], encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(top),)))
    names = [Path(source.name).relative_to(top).as_posix() for source in result.files]
    assert names == ["a.yaml", "b.yml", "sub/c.yaml", "sub/deeper/d.yml"]
    assert result.findings == ()
    assert result.summary.files == 4
    again = engine.run(engine.CheckOptions(paths=(str(top), str(top / "a.yaml"))))
    assert [source.name for source in again.files] == [source.name for source in result.files]


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


def test_utf8_bom_does_not_shift_positions(tmp_path: Path) -> None:
    source = replace_line(1, "version: 2", replace_line(7, "    encryption: tls"))
    plain = run_bytes(tmp_path, source.encode(), "plain.yaml")
    bom = run_bytes(tmp_path, b"\xef\xbb\xbf" + source.encode(), "bom.yaml")
    expected = [("MC005", 1, 10), ("MC104", 7, 17)]
    assert [(f.rule, f.line, f.column) for f in plain.findings] == expected
    assert [(f.rule, f.line, f.column) for f in bom.findings] == expected


def test_crlf_positions_equal_lf(tmp_path: Path, cli: Cli) -> None:
    source = replace_line(7, "    encryption: tls", insert_after(7, "    port: 0465\n"))
    lf = run_bytes(tmp_path, source.encode(), "lf.yaml")
    crlf_path = tmp_path / "crlf.yaml"
    crlf_path.write_bytes(source.replace("\n", "\r\n").encode())
    crlf = engine.run(engine.CheckOptions(paths=(str(crlf_path),)))
    positions = [(f.rule, f.line, f.column) for f in lf.findings]
    assert ("MC104", 7, 17) in positions
    assert ("MC003", 8, 11) in positions
    assert [(f.rule, f.line, f.column) for f in crlf.findings] == positions
    code, out, _ = cli("check", "--no-color", str(crlf_path))
    assert code == 1
    assert "\r" not in out
    assert "    7 |     encryption: tls\n" in out


def test_merge_keys(check: Check) -> None:
    source = VALID.replace("  - id: info\n", "  - &base\n    id: info\n") + (
        "  - <<: *base\n"
        "    id: info2\n"
        "    address: info2@example.com\n"
        "    sent_folder: Gesendet\n"
    )
    result = check(source)
    assert result.findings == ()
    imap = result.files[0].documents[0].data["imap"]
    first, second = imap
    assert second["id"] == "info2"  # explicit keys win
    assert second["address"] == "info2@example.com"
    assert second["host"] == first["host"] == "imap.example.com"
    assert second["credentials"] == first["credentials"]
    assert second["sent_folder"] == "Gesendet"
    assert "sent_folder" not in first
    assert result.summary.accounts == 3


def test_merge_key_list_earlier_mapping_wins(check: Check) -> None:
    result = check(
        """\
        version: 1
        users:
          - &a {id: anna, name: From A}
          - &b {id: ben, name: From B}
          - <<: [*a, *b]
            id: carl
        """
    )
    assert result.findings == ()
    users = result.files[0].documents[0].data["users"]
    assert users[2] == {"id": "carl", "name": "From A"}


def test_merge_key_needs_a_mapping(check: Check) -> None:
    result = check("version: 1\nusers:\n  - <<: just a string\n    id: anna\n")
    assert where(result, "MC001") == [("error", 3, 9)]


def test_non_existent_path_is_a_path_error(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "nope" / "accounts.yaml"
    with pytest.raises(PathError, match="nope"):
        engine.run(engine.CheckOptions(paths=(str(missing),)))
    code, out, err = cli("check", str(missing))
    assert code == 2
    assert out == ""
    assert "no such file" in err


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
