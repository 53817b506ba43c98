"""The command line: exit codes, commands, the text report's shape, colour, default path, internal errors."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from builders import VALID, Cli

from validator import __version__
from validator.registry import RULES

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEAD = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning|info)\[(?P<rule>MC\d{3})\] \S")
SUMMARY = re.compile(
    r"^mailcfg: \d+ files?, \d+ accounts?: "
    r"(no problems|\d+ errors?, \d+ warnings?, \d+ infos?)$"
)

# The smtp entry's encryption (line 7 of VALID) set to the ambiguous `tls`: one MC104 error with a hint.
BROKEN = VALID.replace("    encryption: starttls\n", "    encryption: tls\n", 1)
# A second, unused smtp entry: warnings only (MC405 several smtp entries, MC206 unused smtp).
WARNINGS_ONLY = VALID.replace(
    "imap:\n",
    "  - id: backup\n    host: backup.example.com\n    encryption: ssl\n    test_recipient: it@example.com\n"
    "    authentication: none\nimap:\n",
    1,
)
# Credentials without `contact`: an info (MC305) and nothing else.
INFO_ONLY = VALID.replace("      contact: IT desk\n", "", 1)


def write(tmp_path: Path, source: str, name: str = "accounts.yaml") -> Path:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


def severities(cli: Cli, path: Path) -> set[str]:
    _, out, _ = cli("check", "--format", "json", str(path))
    return {item["severity"] for item in json.loads(out)["findings"]}


# ----------------------------------------------------------------------------------------- exit codes


def test_clean_example_exits_0(cli: Cli) -> None:
    code, out, err = cli("check", str(EXAMPLE))
    assert code == 0
    assert out.endswith("no problems\n")
    assert err == ""
    assert cli("check", "--strict", str(EXAMPLE))[0] == 0


def test_warnings_exit_0_without_strict_and_1_with_it(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, WARNINGS_ONLY)
    assert severities(cli, path) == {"warning"}
    assert cli("check", str(path))[0] == 0
    assert cli("check", "--strict", str(path))[0] == 1


def test_infos_never_fail_the_run(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, INFO_ONLY)
    assert severities(cli, path) == {"info"}
    assert cli("check", "--strict", str(path))[0] == 0


def test_errors_exit_1(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("check", str(write(tmp_path, BROKEN)))
    assert code == 1
    assert "error[MC104]" in out


def test_yaml_syntax_error_exits_1(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("check", str(write(tmp_path, "version: 1\nusers: [\n")))
    assert code == 1
    assert "error[MC001]" in out


def test_ignored_error_no_longer_fails(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    assert cli("check", "--ignore", "MC104", str(path))[0] == 0
    code, out, _ = cli("check", "--select", "MC1", "--format", "json", str(path))
    assert code == 1
    assert {item["rule"] for item in json.loads(out)["findings"]} == {"MC104"}
    assert cli("check", "--select", "MC3", str(path))[0] == 0


def test_missing_path_exits_2(cli: Cli, tmp_path: Path) -> None:
    code, out, err = cli("check", str(tmp_path / "missing.yaml"))
    assert code == 2
    assert out == ""
    assert "missing.yaml" in err


def test_unknown_option_exits_2(cli: Cli) -> None:
    code, _, err = cli("check", "--no-such-option", str(EXAMPLE))
    assert code == 2
    assert "no-such-option" in err


def test_unknown_command_exits_2(cli: Cli) -> None:
    assert cli("chekc")[0] == 2


@pytest.mark.parametrize("option", ["--select", "--ignore"])
@pytest.mark.parametrize("value", ["MC999", "XX", "MC1,MC99999", "MC7"])
def test_unknown_rule_selector_exits_2(cli: Cli, option: str, value: str) -> None:
    code, out, err = cli("check", option, value, str(EXAMPLE))
    assert code == 2
    assert out == ""
    assert "unknown rule" in err


def test_unwritable_output_exits_2(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "report.json"
    code, out, err = cli("check", "--output", str(target), str(EXAMPLE))
    assert code == 2
    assert out == ""
    assert str(target) in err
    assert not target.exists()


def test_explain_unknown_rule_exits_2(cli: Cli) -> None:
    code, out, err = cli("explain", "MC999")
    assert code == 2
    assert out == ""
    assert "MC999" in err


# ------------------------------------------------------------------------------------------- commands


def test_version(cli: Cli) -> None:
    assert cli("--version") == (0, f"mailcfg {__version__}\n", "")
    assert cli("-V")[1] == f"mailcfg {__version__}\n"


def test_rules_lists_every_rule(cli: Cli) -> None:
    code, out, _ = cli("rules")
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines() if line.strip()]
    assert listed == list(RULES)
    for rule in RULES.values():
        assert re.search(rf"^{rule.id}\s+{rule.severity.value}\s+", out, re.MULTILINE), rule.id


@pytest.mark.parametrize("rule_id", list(RULES))
def test_explain_every_rule(cli: Cli, rule_id: str) -> None:
    rule = RULES[rule_id]
    code, out, _ = cli("explain", rule_id)
    assert code == 0
    assert out.startswith(f"{rule_id} ({rule.severity.value}): {rule.title}\n")
    assert rule.doc.strip()
    assert rule.doc in out
    assert re.search(r"^Fails\b", rule.doc, re.MULTILINE), f"{rule_id} documents no failing example"
    assert re.search(r"^Passes\b", rule.doc, re.MULTILINE), f"{rule_id} documents no passing example"
    # Case does not matter.
    assert cli("explain", rule_id.lower())[1] == out


def test_schema_prints_the_committed_schema(cli: Cli) -> None:
    code, out, _ = cli("schema")
    assert code == 0
    committed = (ROOT / "schema" / "accounts.schema.json").read_text(encoding="utf-8")
    assert json.loads(out) == json.loads(committed)
    assert out == committed


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_output_file_gets_the_report_and_stdout_nothing(cli: Cli, tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path, BROKEN)
    code, expected, _ = cli("check", "--format", fmt, "--no-color", str(path))
    report = tmp_path / "report.out"
    code_to_file, out, err = cli("check", "--format", fmt, "--output", str(report), str(path))
    assert code == code_to_file == 1
    assert out == ""
    assert err == ""
    assert report.read_text(encoding="utf-8") == expected
    assert "MC104" in expected


# ---------------------------------------------------------------------------------------- text report


def test_text_report_shape(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    code, out, _ = cli("check", "--no-color", str(path))
    assert code == 1
    lines = out.splitlines()
    head = HEAD.match(lines[0])
    assert head, lines[0]
    assert (head["path"], head["line"], head["col"], head["severity"], head["rule"]) == (
        str(path), "7", "17", "error", "MC104"
    )
    source_line = "    encryption: tls"
    assert lines[1].endswith(" | " + source_line)
    assert lines[1].split("|")[0].strip() == "7"
    bar = lines[1].index("| ")
    assert lines[2].index("|") == bar
    assert lines[2].index("^") == bar + 2 + (17 - 1)
    assert lines[2] == " " * bar + "| " + " " * 16 + "^"
    assert lines[3].lstrip().startswith(("hint:", "= hint:"))
    assert "starttls" in lines[3]
    assert SUMMARY.match(lines[-1]), lines[-1]
    assert lines[-1] == "mailcfg: 1 file, 2 accounts: 1 error, 0 warnings, 0 infos"
    assert len(lines) == 5


def test_text_report_every_finding_has_a_head_line(cli: Cli, tmp_path: Path) -> None:
    source = BROKEN.replace("    outgoing: outgoing\n", "    outgoing: outgoin\n")
    path = write(tmp_path, source.replace("scope: system", "scpoe: system"))
    _, out, _ = cli("check", "--format", "json", str(path))
    findings = json.loads(out)["findings"]
    assert len(findings) >= 3
    code, out, _ = cli("check", str(path))
    assert code == 1
    heads = [line for line in out.splitlines() if HEAD.match(line)]
    assert [HEAD.match(line)["rule"] for line in heads] == [item["rule"] for item in findings]  # type: ignore[index]
    assert [f"{item['file']}:{item['line']}:{item['column']}" for item in findings] == [
        line.split(": ")[0] for line in heads
    ]
    assert SUMMARY.match(out.splitlines()[-1])


def test_clean_run_prints_only_the_summary(cli: Cli) -> None:
    code, out, _ = cli("check", str(EXAMPLE))
    assert code == 0
    assert out == "mailcfg: 1 file, 4 accounts: no problems\n"


# --------------------------------------------------------------------------------------------- colour


def test_colour_on_a_terminal(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, BROKEN)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, _ = cli("check", str(path))
    assert code == 1
    assert ANSI.search(out)  # the control case: colour is on for a terminal
    plain = ANSI.sub("", out)
    assert HEAD.match(plain.splitlines()[0])


def test_no_colour_when_not_a_terminal(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, err = cli("check", str(write(tmp_path, BROKEN)))
    assert code == 1
    assert "\x1b" not in out + err


@pytest.mark.parametrize("no_color", ["1", "true", "yes"])
def test_no_color_variable(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_color: str) -> None:
    monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli("check", str(write(tmp_path, BROKEN)))
    assert code == 1
    assert "\x1b" not in out + err


def test_no_color_option(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    code, out, err = cli("check", "--no-color", str(write(tmp_path, BROKEN)))
    assert code == 1
    assert "\x1b" not in out + err


def test_output_file_never_coloured(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    report = tmp_path / "report.txt"
    code, _, _ = cli("check", "--output", str(report), str(write(tmp_path, BROKEN)))
    assert code == 1
    assert "\x1b" not in report.read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------- default path


def test_default_path_is_accounts_yaml(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, BROKEN)
    write(tmp_path, "not: [valid", "other.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = cli("check")
    assert code == 1
    assert out.startswith("accounts.yaml:7:17: error[MC104]")
    assert "other.yaml" not in out
    assert out.splitlines()[-1].startswith("mailcfg: 1 file,")


def test_default_path_missing_exits_2(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = cli("check")
    assert code == 2
    assert out == ""
    assert "accounts.yaml" in err


# ------------------------------------------------------------------------------------- internal error


def _boom(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom: value-from-the-users-file")


def test_internal_error_is_one_line(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAILCFG_DEBUG", raising=False)
    monkeypatch.setattr("validator.engine.run", _boom)
    code, out, err = cli("check", str(write(tmp_path, VALID)))
    assert code == 70  # EX_SOFTWARE, README: "Internal errors exit 70"
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "internal error" in err
    assert "RuntimeError" in err
    assert "Traceback" not in err
    assert "value-from-the-users-file" not in err


@pytest.mark.parametrize("how", ["option", "environment"])
def test_internal_error_traceback_with_debug(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setattr("validator.engine.run", _boom)
    args = ["check", str(write(tmp_path, VALID))]
    if how == "option":
        monkeypatch.delenv("MAILCFG_DEBUG", raising=False)
        args.insert(0, "--debug")
    else:
        monkeypatch.setenv("MAILCFG_DEBUG", "1")
    code, _, err = cli(*args)
    assert code == 70  # EX_SOFTWARE, README: "Internal errors exit 70"
    assert "Traceback" in err
    assert "RuntimeError: boom" in err
    assert "internal error" in err
