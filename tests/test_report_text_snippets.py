"""The text report's source lines: a long line is cut around the caret, after masking (hardening issue §6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from validator.cli import main
from validator.reporters.text import SNIPPET


def report(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> list[str]:
    path = tmp_path / "a.yaml"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    main(["check", str(path), "--no-config", "--no-color"])
    return capsys.readouterr().out.splitlines()


def test_a_megabyte_line_is_not_printed_whole(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = report(tmp_path, capsys, "version: 1\nusers:\n  - {id: anna, name: " + "x" * 1_000_000 + ", bogus: 1}\n")
    snippet = next(index for index, line in enumerate(lines) if line.startswith("    3 | "))
    source, caret = lines[snippet], lines[snippet + 1]
    assert len(source) < SNIPPET + 20, len(source)
    assert source.endswith("bogus: 1}")
    assert source[caret.index("^")] == "b"  # the caret still points at the key


def test_the_cut_never_shows_part_of_a_secret(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "Pw-" + "q" * 400 + "-end"
    text = "version: 1\nusers:\n  - {id: anna, bogus: 1, " + "x" * 300 + ": 1, password: " + secret + "}\n"
    out = "\n".join(report(tmp_path, capsys, text))
    assert "qqqq" not in out
    assert "-end" not in out
