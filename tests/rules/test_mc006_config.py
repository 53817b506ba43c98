"""MC006: invalid configuration file.

Where it fires (at which place, in which words) and where it stays quiet. Its findings are made by the configuration
reader (validator/config.py); validator/rules/mc006_config.py documents it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from builders import MINIMAL, VALID, Cli
from conftest import write

from validator import config


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("ignroe: [MC305]\n", 1, 1, "did you mean 'ignore'"),
        ("ignore: [MC305]\nseverity:\n  MC999: error\n", 3, 3, "MC999"),
        ("severity:\n  MC305: loud\n", 2, 10, "error, warning, info or off"),
        ("strict: yes please\n", 1, 9, "true or false"),
        ("select: [XY1]\n", 1, 9, "XY1"),
        ("ignore: [MC305\n", 2, 1, "YAML syntax error"),
    ],
)
def test_invalid_yaml_config_is_a_located_mc006(tmp_path: Path, text: str, line: int, column: int, words: str) -> None:
    cfg = config.load(write(tmp_path / ".mailcfg.yaml", text))
    (problem,) = cfg.findings
    assert (problem.rule, problem.severity.value, problem.file, problem.line, problem.column) == (
        "MC006",
        "error",
        str(tmp_path / ".mailcfg.yaml"),
        line,
        column,
    )
    assert words in (problem.message + " " + (problem.hint or ""))


def test_invalid_toml_config_is_located(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.mailcfg]\nignore = ["MC305"]\nstirct = true\n'
    )
    (problem,) = config.load(path).findings
    assert (problem.rule, problem.line, problem.column) == ("MC006", 6, 1)
    assert "stirct" in problem.message
    assert problem.hint == "did you mean 'strict'?"
    broken = write(tmp_path / "b" / "pyproject.toml", "[tool.mailcfg]\nignore = [\n")
    (syntax,) = config.load(broken).findings
    assert syntax.rule == "MC006"
    assert syntax.line >= 2


def test_config_problem_fails_the_run_through_the_cli(
    tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "accounts.yaml", VALID)
    write(tmp_path / ".mailcfg.yaml", "ignroe: [MC305]\n")
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("check", "--format", "json")
    report = json.loads(out)
    assert code == 1
    assert [(f["rule"], f["file"], f["line"]) for f in report["findings"]] == [("MC006", ".mailcfg.yaml", 1)]
    code, out, _ = cli("check", "--no-config")
    assert code == 0


def test_invalid_pyproject_toml_is_mc006_not_ignored(in_tmp: Path, cli: Cli) -> None:
    """A broken `[tool.mailcfg` header made the whole file invisible: `strict` and the rest silently lost."""
    (in_tmp / "pyproject.toml").write_text("[tool.mailcfg\nstrict = true\n", encoding="utf-8")
    (in_tmp / "accounts.yaml").write_text(MINIMAL, encoding="utf-8")
    code, out, _ = cli("check", "--no-color")
    assert code == 1
    assert "pyproject.toml:1:14: error[MC006] configuration file: invalid TOML" in out


@pytest.mark.parametrize(("name", "text"), [
    (".mailcfg.yaml", "max-file-size: 9999999999999\n"),
    ("pyproject.toml", "[tool.mailcfg]\nmax-file-size = 9999999999999\n"),
])
def test_max_file_size_out_of_range_in_a_config_file(in_tmp: Path, cli: Cli,
                                                      name: str, text: str) -> None:
    """It crashed with OverflowError (exit 70)."""
    (in_tmp / name).write_text(text, encoding="utf-8")
    (in_tmp / "accounts.yaml").write_text(MINIMAL, encoding="utf-8")
    code, out, err = cli("check", "--no-color")
    assert code == 1, err
    assert "error[MC006] configuration file: 'max-file-size' must be a number of MiB from 1 to 16384" in out
