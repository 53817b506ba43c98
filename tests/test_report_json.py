"""The JSON report has exactly the shape docs/reference.md gives (tests/data/report.schema.json)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from builders import VALID, Cli, imap_entry
from jsonschema import Draft202012Validator

from validator import __version__
from validator.finding import Finding, Location, Severity
from validator.live.result import LiveResult
from validator.outcome import Result
from validator.reporters import ReportOptions, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"
REPORT_SCHEMA = json.loads((Path(__file__).parent / "data" / "report.schema.json").read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(REPORT_SCHEMA)


def report(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("check", "--format", "json", *args)
    assert err == ""
    document = json.loads(out)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(document)]
    assert errors == [], errors
    return code, document


def assert_summary_matches(document: dict[str, Any]) -> None:
    counts = Counter(item["severity"] for item in document["findings"])
    summary = document["summary"]
    assert (summary["errors"], summary["warnings"], summary["infos"]) == (
        counts["error"], counts["warning"], counts["info"]
    )
    assert summary["files"] == len(document["files"])
    assert set(counts) <= {"error", "warning", "info"}


def test_report_schema_is_valid_2020_12() -> None:
    Draft202012Validator.check_schema(REPORT_SCHEMA)


def test_clean_run(cli: Cli) -> None:
    code, document = report(cli, str(EXAMPLE))
    assert code == 0
    assert document["tool"] == {"name": "mailcfg", "version": __version__}
    assert document["files"] == [str(EXAMPLE)]
    assert document["findings"] == []
    assert document["live"] == []
    assert document["interrupted"] is False
    assert document["summary"] == {"files": 1, "accounts": 4, "errors": 0, "warnings": 0, "infos": 0}
    assert_summary_matches(document)


def test_multi_file_failing_run(cli: Cli, tmp_path: Path) -> None:
    shared = tmp_path / "shared.yaml"
    shared.write_text(VALID, encoding="utf-8")
    people = tmp_path / "people.yaml"
    people.write_text(
        "version: 1\n"
        "imap:\n"
        # anna-mail on a role address: MC205 warning (also configured in shared.yaml), MC403;
        # `outgoing: outgoin`: MC201 error, did you mean 'outgoing'; no contact: MC305 info
        + imap_entry(address="info@example.com", username="anna@example.com", outgoing="outgoin", contact=None)
        # MC202 error: `info` is defined in shared.yaml
        + imap_entry(id="info", scope="system", user=None, address="info2@example.com", password="IMAP_INFO2_PASSWORD"),
        encoding="utf-8",
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nusers: [\n", encoding="utf-8")  # MC001
    code, document = report(cli, str(shared), str(people), str(broken))
    assert code == 1
    assert document["files"] == [str(shared), str(people), str(broken)]
    rules = {item["rule"] for item in document["findings"]}
    assert {"MC001", "MC202", "MC205", "MC305"} <= rules
    assert {item["severity"] for item in document["findings"]} == {"error", "warning", "info"}
    assert {item["file"] for item in document["findings"]} <= set(document["files"])
    assert {item["file"] for item in document["findings"]} >= {str(people), str(broken)}
    # Findings come in file order, then by position.
    order = {name: index for index, name in enumerate(document["files"])}
    keys = [(order[item["file"]], item["line"], item["column"]) for item in document["findings"]]
    assert keys == sorted(keys)
    # Both kinds of `hint` and `account` occur, and the schema accepted them.
    assert {type(item["hint"]) for item in document["findings"]} == {str, type(None)}
    assert {type(item["account"]) for item in document["findings"]} == {str, type(None)}
    duplicate = next(item for item in document["findings"] if item["rule"] == "MC202")
    assert (duplicate["file"], duplicate["line"], duplicate["column"]) == (str(people), 13, 9)
    assert duplicate["pointer"] == "/imap/1/id"
    assert duplicate["account"] == "info"
    assert document["summary"]["files"] == 3
    assert_summary_matches(document)


def test_summary_counts_under_select_and_ignore(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID.replace("      contact: IT desk\n", "").replace("encryption: starttls", "encryption: tls"),
                    encoding="utf-8")
    _, everything = report(cli, str(path))
    assert_summary_matches(everything)
    assert everything["summary"]["errors"] >= 1
    assert everything["summary"]["infos"] >= 1
    code, infos_only = report(cli, "--ignore", "MC104", str(path))
    assert code == 0
    assert_summary_matches(infos_only)
    assert infos_only["summary"]["errors"] == 0
    assert infos_only["summary"]["infos"] == everything["summary"]["infos"]


@pytest.mark.parametrize(
    "source",
    [
        "",
        "version: 1\nusers: [\n",
        "version: 1\nsmtp: !!python/object:os.system ls\n",
        "\ufeffversion: 2\n",
    ],
    ids=["empty", "syntax-error", "refused", "bom-version"],
)
def test_loader_findings_fit_the_report_shape(cli: Cli, tmp_path: Path, source: str) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(source, encoding="utf-8")
    code, document = report(cli, str(path))
    assert code == 1
    assert document["findings"]
    assert_summary_matches(document)


def test_the_report_schema_rejects_a_wrong_shape(cli: Cli) -> None:
    _, document = report(cli, str(EXAMPLE))
    finding = {
        "rule": "MC201", "severity": "error", "message": "m", "hint": None, "file": "a.yaml",
        "line": 1, "column": 1, "pointer": "/imap/0/outgoing", "account": "info",
    }
    good = {**copy.deepcopy(document), "findings": [finding]}
    assert VALIDATOR.is_valid(good)
    broken = [
        {**good, "extra": 1},
        {**good, "tool": {"name": "mailcfg"}},
        {**good, "findings": [{**finding, "line": 0}]},
        {**good, "findings": [{**finding, "column": 0}]},
        {**good, "findings": [{**finding, "severity": "fatal"}]},
        {**good, "findings": [{**finding, "hint": 3}]},
        {**good, "findings": [{**finding, "extra": True}]},
        {**good, "findings": [{k: v for k, v in finding.items() if k != "account"}]},
        {**good, "summary": {**good["summary"], "extra": 0}},
        {key: value for key, value in good.items() if key != "interrupted"},
        {**good, "interrupted": None},
    ]
    for item in broken:
        assert not VALIDATOR.is_valid(item), item


def test_an_interrupted_verify_says_so() -> None:
    """Ctrl-C during `verify`: `live` holds only the checks that finished, and the report must say so."""
    finished = LiveResult("outgoing", "smtp", "smtp.example.com", 587, "ok", "auth", "all stages passed", 0.4)
    result = Result(files=(), findings=(), accounts=2, live=(finished,), interrupted=True)
    document = json.loads(render("json", result, ReportOptions()))
    assert VALIDATOR.is_valid(document)
    assert document["interrupted"] is True
    assert [item["account"] for item in document["live"]] == ["outgoing"]
    # Always present: a whole run says false, so a consumer need not guess from a missing key.
    whole = json.loads(render("json", Result(files=(), findings=(), accounts=2), ReportOptions()))
    assert whole["interrupted"] is False
    assert list(document) == list(whole)


def test_max_findings_zero_keeps_the_counts() -> None:
    error = Finding("MC201", Severity.ERROR, "no smtp entry 'outgoin'", Location("a.yaml", 9, 15, "/imap/0/outgoing"))
    document = json.loads(render("json", Result(files=(), findings=(error,), accounts=1).limited(0),
                                 ReportOptions()))
    assert VALIDATOR.is_valid(document)
    assert document["findings"] == []
    assert document["summary"]["errors"] == 1
