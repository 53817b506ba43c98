"""docs/reference.md stays true to the code: its rules table, its exit codes and its JSON report example."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from builders import VALID, Cli
from conftest import SPEC_SEVERITY, Check
from jsonschema import Draft202012Validator

from validator import cli as cli_module
from validator.finding import Finding, Location, Severity
from validator.live.hostlimit import BackOff, HostReport
from validator.live.result import LiveResult
from validator.outcome import Result
from validator.registry import RULES
from validator.reporters import ReportOptions, render

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference.md"
README = ROOT / "README.md"
REPORT_SCHEMA = json.loads((Path(__file__).parent / "data" / "report.schema.json").read_text(encoding="utf-8"))


def _section(heading: str) -> str:
    """The text under ``heading`` (``## Rules``, ``### diff``) up to the next heading of that level or above."""
    text = REFERENCE.read_text(encoding="utf-8")
    assert f"\n{heading}\n" in text, heading
    level = heading.split(" ", 1)[0]
    body = text.split(f"\n{heading}\n", 1)[1]
    return re.split(rf"(?m)^#{{1,{len(level)}}} ", body, maxsplit=1)[0]


def _tables(section: str) -> list[list[list[str]]]:
    """The markdown tables of ``section``: each a list of rows (header and separator left out) of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in section.splitlines():
        if not line.startswith("|"):
            current = None
            continue
        if current is None:  # the header row; the separator row follows
            current = []
            tables.append(current)
            continue
        if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", line):
            continue
        current.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return tables


def _code_blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"(?ms)^```{language}\n(.*?)^```$", section)


# --- rules ------------------------------------------------------------------------------------------------


def _rules_table() -> list[list[str]]:
    tables = [table for table in _tables(_section("## Rules")) if table and re.fullmatch(r"MC\d{3}", table[0][0])]
    assert len(tables) == 1, "one rules table under '## Rules'"
    return tables[0]


def test_rules_table_lists_every_registered_rule_with_its_severity_and_title() -> None:
    rows = _rules_table()
    documented = [(cells[0], cells[1], cells[2]) for cells in rows]
    registered = [(rule.id, rule.severity.value, rule.title) for rule in RULES.values()]
    assert documented == registered  # in id order, nothing missing, nothing extra


def test_rules_table_matches_mailcfg_rules(cli: Cli) -> None:
    code, out, err = cli("rules")
    assert (code, err) == (0, "")
    listed = [tuple(re.split(r"\s{2,}", line, maxsplit=2)) for line in out.splitlines()]
    assert listed == [(cells[0], cells[1], cells[2]) for cells in _rules_table()]


def test_conftest_severities_agree_with_the_reference() -> None:
    """The tests' table of static rule severities (tests/conftest.py) is a part of the reference's table."""
    documented = {cells[0]: cells[1] for cells in _rules_table()}
    assert {rule: documented[rule] for rule in SPEC_SEVERITY} == SPEC_SEVERITY


# --- exit codes -------------------------------------------------------------------------------------------

# What the row of each exit code of `check`/`verify` must say, by the constant of validator/cli.py.
MEANINGS = {
    "EXIT_OK": "clean",
    "EXIT_FINDINGS": "findings that fail the run",
    "EXIT_USAGE": "usage error",
    "EXIT_INTERNAL": "internal error",
    "EXIT_INTERRUPTED": "interrupted",
}


def _exit_table(heading: str) -> dict[int, str]:
    tables = _tables(_section(heading))
    assert len(tables) == 1, heading
    return {int(cells[0]): cells[1] for cells in tables[0]}


def _live_failed_code() -> int:
    """What ``verify`` exits with when only a live check failed (decided by the engine, not a cli constant)."""
    from validator.live.result import FAILED, LiveResult

    failed = Finding("MC502", Severity.ERROR, "connection refused", Location("accounts.yaml", 3, 11, "/smtp/0/host"))
    check = LiveResult("outgoing", "smtp", "smtp.example.com", 587, FAILED, "connect", "connection refused", 0.1)
    return Result(files=(), findings=(failed,), accounts=1, live=(check,)).exit_code()


def test_exit_code_table_matches_the_cli_constants() -> None:
    constants = {name: value for name, value in vars(cli_module).items() if re.fullmatch(r"EXIT_[A-Z]+", name)}
    assert set(constants) == set(MEANINGS), "a new exit code: document it in docs/reference.md and here"
    table = _exit_table("### check and verify")
    live = _live_failed_code()
    assert set(table) == set(constants.values()) | {live}
    for name, value in constants.items():
        assert table[value].startswith(MEANINGS[name]), (name, value, table[value])
    assert "live checks failed" in table[live]


def test_exit_code_tables_of_diff_and_export_use_the_cli_constants() -> None:
    constants = {value for name, value in vars(cli_module).items() if re.fullmatch(r"EXIT_[A-Z]+", name)}
    for heading in ("### diff", "### export"):
        assert set(_exit_table(heading)) == {cli_module.EXIT_OK, cli_module.EXIT_FINDINGS, cli_module.EXIT_USAGE}
        assert set(_exit_table(heading)) <= constants


# --- JSON report ------------------------------------------------------------------------------------------


def _key_paths(value: Any, path: str = "") -> Iterator[str]:
    """Every key of a JSON value as a path (``findings[].rule``); list items all count."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else key
            yield from _key_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _key_paths(item, f"{path}[]")


def _example() -> dict[str, Any]:
    blocks = _code_blocks(_section("## JSON report"), "json")
    assert len(blocks) == 1, "one JSON example under '## JSON report'"
    document: dict[str, Any] = json.loads(blocks[0])
    return document


def _reported(check: Check) -> dict[str, Any]:
    """The JSON reporter's output for a small set with a finding, a suppressed finding and a live result."""
    source = VALID.replace("    outgoing: outgoing\n", "    outgoing: outgoin\n")  # MC201, MC206
    source = source.replace("      contact: IT desk\n", "", 2)  # MC305 twice; the imap one is suppressed inline
    source = source.replace("    credentials:\n      username: info@", "    credentials:  # mailcfg: ignore[MC305]\n"
                            "      username: info@")
    result = check(source)
    assert result.findings
    assert result.suppressed
    live = LiveResult("info", "imap", "imap.example.com", 993, "ok", "folders", "all stages passed", 0.2)
    backoff = BackOff(0.5, 8, 4, "greeting: the server refused the session before the login (* BYE)", "info")
    host = HostReport("imap.example.com", 16, 4, 8, 8, 13, 1, (backoff,))
    document: dict[str, Any] = json.loads(render("json", replace(result, live=(live,), hosts=(host,)), ReportOptions()))
    return document


def test_json_example_has_the_keys_the_reporter_produces(check: Check) -> None:
    example, reported = _example(), _reported(check)
    assert set(_key_paths(example)) == set(_key_paths(reported))
    for name in ("findings", "suppressed", "live", "hosts"):  # every item, not only their union, has all the keys
        assert example[name], name
        for item in example[name]:
            assert set(_key_paths(item)) == set(_key_paths(reported[name][0])), (name, item)
    assert list(example) == list(reported)  # the same order of the top-level keys


def test_json_example_is_a_valid_report() -> None:
    example = _example()
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in
              Draft202012Validator(REPORT_SCHEMA).iter_errors(example)]
    assert errors == []
    counts = [item["severity"] for item in example["findings"]]
    summary = example["summary"]
    assert (summary["errors"], summary["warnings"], summary["infos"]) == (
        counts.count("error"), counts.count("warning"), counts.count("info")
    )
    assert summary["files"] == len(example["files"])
    assert {item["rule"] for item in example["findings"] + example["suppressed"]} <= set(RULES)


# --- the README points here -------------------------------------------------------------------------------


def test_readme_links_the_reference() -> None:
    assert "(docs/reference.md)" in README.read_text(encoding="utf-8")
