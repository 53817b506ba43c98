"""Loader and path results that were wrong (hardening issue §5 and §7); each case failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import Cli

from validator import loader


def rules_of(text: str) -> list[tuple[str, str]]:
    source = loader.load_bytes(text.encode(), "t.yaml")
    return [(item.rule, item.message) for item in source.findings]


def test_an_anchor_on_a_key_is_recorded() -> None:
    """YAML test suite E76Z / HMQ5: `&a a: &b b` then `*b : *a` was a false "alias refers to no anchor"."""
    source = loader.load_bytes(b"&a a: &b b\n*b : *a\n", "t.yaml")
    assert source.findings == []
    assert source.documents[0].data == {"a": "b", "b": "a"}


def test_a_recursive_alias_is_mc004() -> None:
    found = rules_of("version: 1\nsmtp: &s [*s]\n")
    assert found == [("MC004", "recursive alias: it refers to a list or mapping that contains it")]


def test_an_alias_before_its_anchor_is_still_mc001() -> None:
    found = rules_of("version: 1\nsmtp: [*s]\nimap: &s []\n")
    assert [rule for rule, _ in found] == ["MC001"]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path



# The smallest valid set, not tests/builders.py's VALID: these tests are about paths and configuration files.
MINIMAL = "version: 1\nusers:\n  - id: anna\n    name: Anna\n"


def test_a_directory_without_account_files_is_a_usage_error(in_tmp: Path,
                                                            cli: Cli) -> None:
    (in_tmp / "empty").mkdir()
    (in_tmp / "empty" / "notes.txt").write_text("no yaml here\n", encoding="utf-8")
    code, out, err = cli("check", "--no-config", "empty")
    assert (code, out) == (2, "")
    assert err == "mailcfg: error: empty: no *.yaml or *.yml file under it\n"


def test_config_paths_to_a_folder_without_yaml_too(in_tmp: Path, cli: Cli) -> None:
    (in_tmp / "accounts").mkdir()
    (in_tmp / ".mailcfg.yaml").write_text("paths: [accounts]\n", encoding="utf-8")
    code, _, err = cli("check")
    assert code == 2
    assert "accounts: no *.yaml or *.yml file under it" in err


def test_the_same_file_named_twice_is_read_once(in_tmp: Path, cli: Cli) -> None:
    (in_tmp / "a.yaml").write_text(MINIMAL, encoding="utf-8")
    (in_tmp / "link.yaml").symlink_to("a.yaml")
    code, out, _ = cli("check", "--no-config", "a.yaml", "link.yaml", "./a.yaml")
    assert code == 0, out
    assert "MC202" not in out
    assert "1 file" in out


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
