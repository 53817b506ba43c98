"""Loader and path results that were wrong (hardening issue §5 and §7); each case failed before its fix.

The cases that were wrong findings of one rule (a recursive alias, an alias before its anchor, a broken or
out-of-range configuration file) are in that rule's file in tests/rules/.
"""

from __future__ import annotations

from pathlib import Path

from builders import MINIMAL, Cli

from validator import loader


def test_an_anchor_on_a_key_is_recorded() -> None:
    """YAML test suite E76Z / HMQ5: `&a a: &b b` then `*b : *a` was a false "alias refers to no anchor"."""
    source = loader.load_bytes(b"&a a: &b b\n*b : *a\n", "t.yaml")
    assert source.findings == []
    assert source.documents[0].data == {"a": "b", "b": "a"}


# These tests are about paths and configuration files: they use the smallest valid set (MINIMAL), not VALID,
# and run in the temporary folder (conftest's in_tmp).


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
