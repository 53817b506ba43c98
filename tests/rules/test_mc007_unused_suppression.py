"""MC007: inline suppression that suppresses nothing.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the suppression
layer (validator/suppress.py); validator/rules/mc007_unused_suppression.py documents it.
"""

from __future__ import annotations

from pathlib import Path

from builders import ROLE_ACCOUNT, VALID
from conftest import check_path, write

# VALID plus a personal account on a role address: MC403 on the `scope` value (line 25, column 12).
ROLE = VALID + ROLE_ACCOUNT
SCOPE_LINE = "    scope: user\n"


def test_inline_comment_for_another_rule_suppresses_nothing_and_is_reported(tmp_path: Path) -> None:
    text = ROLE.replace(SCOPE_LINE, "    scope: user  # mailcfg: ignore[MC402]\n")
    result = check_path(write(tmp_path / "a.yaml", text))
    assert sorted(f.rule for f in result.findings) == ["MC007", "MC403"]
    unused = next(f for f in result.findings if f.rule == "MC007")
    assert (unused.severity.value, unused.line, unused.column) == ("info", 25, 18)
    assert "MC402" in unused.message


def test_unknown_rule_in_a_comment_is_reported(tmp_path: Path) -> None:
    text = VALID.replace("version: 1\n", "version: 1  # mailcfg: ignore[MC999]\n")
    result = check_path(write(tmp_path / "a.yaml", text))
    (item,) = result.findings
    assert (item.rule, item.line, item.column) == ("MC007", 1, 13)
    assert "MC999" in item.message


def test_stale_comment_anywhere_in_a_file_is_reported(tmp_path: Path) -> None:
    text = VALID + "# mailcfg: ignore[MC201] left over from last year\n"
    result = check_path(write(tmp_path / "a.yaml", text))
    assert [(f.rule, f.line) for f in result.findings] == [("MC007", VALID.count("\n") + 1)]
