"""The loader's mechanics: documents, folders, encodings, line ends and merge keys, each at exact 1-based positions.

What each of its rules finds (MC001-MC005: syntax, duplicate keys, YAML 1.1 surprises, refused input, version)
is tested in that rule's file in tests/rules/. Line numbers below refer to ``VALID`` (tests/builders.py): line 6
is the smtp ``host``, 7 its ``encryption``, 11 its ``password``, 14-23 the imap entry ``info``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from builders import VALID, Cli, insert_after, replace_line
from conftest import Check, only, run_bytes, where

from validator import engine
from validator.errors import PathError


def test_valid_base_is_clean(check: Check) -> None:
    assert check(VALID).findings == ()


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


def test_non_existent_path_is_a_path_error(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "nope" / "accounts.yaml"
    with pytest.raises(PathError, match="nope"):
        engine.run(engine.CheckOptions(paths=(str(missing),)))
    code, out, err = cli("check", str(missing))
    assert code == 2
    assert out == ""
    assert "no such file" in err
