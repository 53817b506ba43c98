"""Suppressions in three layers (inline, configuration file, command line) and their merging.

The findings about them, MC006 (a broken configuration file) and MC007 (an inline suppression that suppresses
nothing), are tested in tests/rules/test_mc006_config.py and tests/rules/test_mc007_unused_suppression.py.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from builders import ROLE_ACCOUNT, VALID, Cli

from validator import config, engine
from validator.finding import Finding
from validator.outcome import Result

# VALID plus a personal account on a role address: MC403 on the `scope` value (line 25, column 12).
ROLE = VALID + ROLE_ACCOUNT
SCOPE_LINE = "    scope: user\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, **options: Any) -> Result:
    return engine.run(engine.CheckOptions(paths=(str(path),), **options))


def rules(findings: tuple[Finding, ...]) -> list[str]:
    return [item.rule for item in findings]


def test_role_fixture_fires_mc403_where_expected(tmp_path: Path) -> None:
    result = run(write(tmp_path, "a.yaml", ROLE))
    assert [(f.rule, f.line, f.column) for f in result.findings] == [("MC403", 25, 12)]


# ------------------------------------------------------------------------------------------------ inline


def test_inline_comment_on_the_line_suppresses_and_keeps_the_reason(tmp_path: Path) -> None:
    text = ROLE.replace(SCOPE_LINE, "    scope: user   # mailcfg: ignore[MC403] the owner insists\n")
    result = run(write(tmp_path, "a.yaml", text))
    assert result.findings == ()
    (item,) = result.suppressed
    assert item.rule == "MC403"
    assert item.suppression is not None
    assert (item.suppression.kind, item.suppression.reason) == ("inline", "the owner insists")
    assert (item.suppression.location.line, item.suppression.location.column) == (25, 19)  # type: ignore[union-attr]


def test_inline_comment_above_the_line_suppresses_without_a_reason(tmp_path: Path) -> None:
    text = ROLE.replace(SCOPE_LINE, "    # mailcfg: ignore[MC403]\n    # another comment between\n" + SCOPE_LINE)
    result = run(write(tmp_path, "a.yaml", text))
    assert rules(result.findings) == []
    assert [(f.rule, f.suppression.reason) for f in result.suppressed] == [("MC403", None)]  # type: ignore[union-attr]


def test_inline_comment_with_several_rules(tmp_path: Path) -> None:
    text = ROLE.replace(SCOPE_LINE, "    scope: user  # mailcfg: ignore[MC402, mc403] both\n")
    result = run(write(tmp_path, "a.yaml", text))
    assert rules(result.findings) == []  # one of the two rules matched: the comment is used
    assert rules(result.suppressed) == ["MC403"]


def test_hash_inside_a_value_is_not_a_comment(tmp_path: Path) -> None:
    text = ROLE.replace("    user: anna\n", "    user: anna\n    name: 'x#mailcfg: ignore[MC403]'\n")
    result = run(write(tmp_path, "a.yaml", text))
    assert rules(result.findings) == ["MC403"]


def test_inline_suppression_of_a_yaml_error(tmp_path: Path) -> None:
    text = VALID.replace(
        "    encryption: ssl\n", "    encryption: ssl\n    allow_insecure: no  # mailcfg: ignore[MC003]\n"
    )
    result = run(write(tmp_path, "a.yaml", text))
    assert rules(result.findings) == []
    assert rules(result.suppressed) == ["MC003"]


# ------------------------------------------------------------------------------------------- config file


def test_yaml_config_ignore_severity_and_per_path(tmp_path: Path) -> None:
    accounts = write(tmp_path, "accounts/role.yaml", ROLE)
    write(
        tmp_path,
        "accounts/legacy/old.yaml",
        VALID.replace("id: info", "id: info2")
        .replace("info@example.com", "info2@example.com")
        .replace("id: outgoing\n", "id: outgoing2\n")
        .replace("outgoing: outgoing", "outgoing: outgoing2")
        .replace("    encryption: ssl\n", "    encryption: ssl\n    port: 1993\n"),
    )
    cfg_path = write(
        tmp_path,
        ".mailcfg.yaml",
        textwrap.dedent(
            """\
        paths: [accounts]
        severity:
          MC405: off
          MC403: error
        per-path-ignores:
          "accounts/legacy/*": [MC402]
        """
        ),
    )
    cfg = config.load(cfg_path)
    assert cfg.findings == ()
    result = engine.run(engine.CheckOptions(config=cfg, paths=(str(accounts.parent),)))
    active = {(f.rule, f.severity.value) for f in result.findings}
    assert ("MC403", "error") in active  # severity raised by the config
    assert not any(f.rule in ("MC405", "MC402") for f in result.findings)
    kinds = {(f.rule, f.suppression.kind) for f in result.suppressed}  # type: ignore[union-attr]
    assert ("MC402", "config") in kinds
    assert ("MC405", "config") in kinds
    assert result.exit_code() == 1


def test_pyproject_config_is_discovered_upward_to_the_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.mailcfg]\nignore = ["MC403"]\nstrict = true\n')
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    found = config.discover(nested)
    assert found == tmp_path / "pyproject.toml"
    cfg = config.load(found)
    assert (cfg.ignore, cfg.strict, cfg.findings) == (("MC403",), True, ())


def test_discovery_stops_at_the_git_root(tmp_path: Path) -> None:
    write(tmp_path, ".mailcfg.yaml", "ignore: [MC403]\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert config.discover(repo) is None
    assert config.discover(tmp_path) == tmp_path / ".mailcfg.yaml"


def test_pyproject_without_the_table_is_not_a_config(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    assert config.discover(tmp_path) is None


# ---------------------------------------------------------------------------------------- merging layers


def test_cli_flags_merge_with_the_config(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    text = ROLE.replace("    encryption: ssl\n", "    encryption: ssl\n    port: 1993\n", 1)
    write(tmp_path, "accounts.yaml", text)
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".mailcfg.yaml", "ignore: [MC402]\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("check", "--format", "json")
    report = json.loads(out)
    assert [f["rule"] for f in report["findings"]] == ["MC403"]
    assert [(f["rule"], f["suppression"]["kind"]) for f in report["suppressed"]] == [("MC402", "config")]
    assert code == 0  # MC403 is a warning
    code, out, _ = cli("check", "--format", "json", "--ignore", "MC403", "--strict")
    report = json.loads(out)
    assert report["findings"] == []  # both layers apply: config's MC402 and the CLI's MC403
    kinds = sorted((f["rule"], f["suppression"]["kind"]) for f in report["suppressed"])
    assert kinds == [("MC402", "config"), ("MC403", "cli")]
    assert code == 0


def test_select_from_config_and_cli_are_united(tmp_path: Path) -> None:
    path = write(tmp_path, "a.yaml", ROLE.replace("    encryption: ssl\n", "    encryption: ssl\n    port: 1993\n", 1))
    cfg = config.Config(select=("MC402",))
    result = engine.run(engine.CheckOptions(paths=(str(path),), config=cfg, select=("MC403",)))
    assert sorted(rules(result.findings)) == ["MC402", "MC403"]
    only_config = engine.run(engine.CheckOptions(paths=(str(path),), config=cfg))
    assert rules(only_config.findings) == ["MC402"]
    assert ("MC403", "config") in {(f.rule, f.suppression.kind) for f in only_config.suppressed}  # type: ignore[union-attr]


def test_config_strict_makes_warnings_fail(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "accounts.yaml", ROLE)
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    assert cli("check")[0] == 0
    write(tmp_path, ".mailcfg.yaml", "strict: true\n")
    assert cli("check")[0] == 1


def test_config_paths_are_the_default_paths(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "mail/smtp.yaml", "version: 1\n" + VALID.split("imap:\n")[0].split("version: 1\n")[1])
    write(tmp_path, "mail/imap.yaml", "version: 1\nimap:\n" + VALID.split("imap:\n")[1])
    (tmp_path / ".git").mkdir()
    write(tmp_path, ".mailcfg.yaml", "paths: [mail]\n")
    sub = tmp_path / "deeper"
    sub.mkdir()
    monkeypatch.chdir(sub)
    code, out, _ = cli("check", "--format", "json")
    report = json.loads(out)
    assert code == 0, out
    assert report["files"] == ["../mail/imap.yaml", "../mail/smtp.yaml"]
    assert report["summary"]["accounts"] == 2


def test_explicit_config_file_and_missing_one(tmp_path: Path, cli: Cli) -> None:
    path = write(tmp_path, "a.yaml", ROLE)
    cfg = write(tmp_path, "ci.mailcfg.yaml", "ignore: [MC4]\n")
    assert cli("check", "--config", str(cfg), str(path), "--strict")[0] == 0
    code, _, err = cli("check", "--config", str(tmp_path / "nope.yaml"), str(path))
    assert code == 2
    assert "nope.yaml" in err
