"""The SARIF report: valid against the official SARIF 2.1.0 schema, consistent, with stable fingerprints."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from builders import VALID, Cli
from jsonschema import Draft4Validator

from validator import __version__, engine
from validator.finding import Finding, Location, Severity, Suppression
from validator.live.result import LiveResult
from validator.loader import SourceFile
from validator.outcome import Result
from validator.registry import RULES
from validator.reporters import ReportOptions, render
from validator.reporters import sarif as sarif_reporter
from validator.reporters.sarif import MAX_RESULTS, token_end

SARIF_SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
# The schema declares draft-04 (`"$schema": "http://json-schema.org/draft-04/schema#"`).
VALIDATOR = Draft4Validator(SARIF_SCHEMA)
LEVELS = {"error": "error", "warning": "warning", "info": "note"}

# Written out, not built from tests/builders.py: the tests count on its line numbers and line 4's own text.
PEOPLE = (
    "version: 1\n"
    "imap:\n"
    "  - id: anna-mail\n"
    "    scope: user  # mailcfg: ignore[MC403] Anna reads info@ herself\n"  # line 4: MC403, suppressed inline
    "    user: anna\n"
    "    address: info@example.com\n"  # line 6: MC205 warning (also in shared.yaml)
    "    host: imap.example.com\n"
    "    encryption: ssl\n"
    "    outgoing: outgoin\n"  # line 9: MC201 error
    "    credentials:\n"  # line 10: MC305 info, suppressed by --ignore MC305
    "      username: anna@example.com\n"
    "      password: {env: IMAP_ANNA_PASSWORD}\n"
    "  - id: info\n"  # line 13: MC202 error, `info` is also in shared.yaml
    "    scope: system\n"
    "    address: info2@example.com\n"
    "    host: imap.example.com\n"
    "    encryption: ssl\n"
    "    outgoing: outgoing\n"
    "    credentials:\n"
    "      username: info2@example.com\n"
    "      password: {env: IMAP_INFO2_PASSWORD}\n"
    "      contact: IT desk\n"
)


def sarif(result: Result) -> dict[str, Any]:
    """Render ``result`` as SARIF and check it against the official schema."""
    log: dict[str, Any] = json.loads(render("sarif", result, ReportOptions()))
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in VALIDATOR.iter_errors(log)]
    assert errors == [], errors
    return log


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository directory as the current directory, holding three account files."""
    root = tmp_path / "repo"
    (root / "team").mkdir(parents=True)
    (root / "shared.yaml").write_text(VALID, encoding="utf-8")
    (root / "team" / "people.yaml").write_text(PEOPLE, encoding="utf-8")
    (root / "broken.yaml").write_text("version: 1\nusers: [\n", encoding="utf-8")
    monkeypatch.chdir(root)
    return root


def run(*paths: str, ignore: tuple[str, ...] = ("MC305",)) -> Result:
    return engine.run(engine.CheckOptions(paths=paths, ignore=ignore))


def results_by_rule(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["ruleId"]: item for item in log["runs"][0]["results"]}


def test_the_schema_copy_is_the_official_draft_04_schema() -> None:
    Draft4Validator.check_schema(SARIF_SCHEMA)
    assert SARIF_SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert "sarif-schema-2.1.0.json" in SARIF_SCHEMA["id"]


def test_multi_file_run_is_valid_and_consistent(repo: Path) -> None:
    result = run("shared.yaml", "team/people.yaml", "broken.yaml")
    assert result.suppressed, "the run must include suppressed findings"
    log = sarif(result)
    assert log["version"] == "2.1.0"
    [sarif_run] = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("mailcfg", __version__)
    assert driver["informationUri"].startswith("https://")

    # The full rule table, in registry order, documented from the rule modules.
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == list(RULES)
    for descriptor in rules:
        rule = RULES[descriptor["id"]]
        assert descriptor["shortDescription"]["text"] == rule.title
        assert descriptor["help"]["text"] == rule.doc
        assert descriptor["help"]["markdown"] == rule.doc
        assert descriptor["fullDescription"]["text"] == rule.doc.split("\n\n")[0].replace("\n", " ")
        assert descriptor["defaultConfiguration"]["level"] == LEVELS[rule.severity.value]

    # One result per finding, active and suppressed alike, each pointing into the rule table.
    findings = {(item.rule, item.line, item.column) for item in (*result.findings, *result.suppressed)}
    results = sarif_run["results"]
    assert len(results) == len(result.findings) + len(result.suppressed)
    # MC201 stays quiet: broken.yaml may hold the smtp entry it would miss.
    assert {"MC001", "MC202", "MC205", "MC305", "MC403"} <= {item["ruleId"] for item in results}
    for item in results:
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        assert item["level"] in {"error", "warning", "note"}
        [location] = item["locations"]
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1
        assert region["startColumn"] >= 1
        assert (item["ruleId"], region["startLine"], region["startColumn"]) in findings
    assert sarif_run["columnKind"] == "unicodeCodePoints"

    by_rule = results_by_rule(log)
    duplicate = by_rule["MC202"]
    assert duplicate["level"] == "error"
    # The region ends after the token (`info`); endColumn is exclusive.
    assert duplicate["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 13, "startColumn": 9, "endLine": 13, "endColumn": 13
    }
    assert duplicate["properties"] == {"pointer": "/imap/1/id", "account": "info"}
    assert "suppressions" not in duplicate
    assert by_rule["MC205"]["level"] == "warning"
    assert by_rule["MC305"]["level"] == "note"
    assert by_rule["MC001"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "broken.yaml"


def test_message_carries_the_hint(repo: Path) -> None:
    outgoing = results_by_rule(sarif(run("shared.yaml", "team/people.yaml")))["MC201"]
    assert outgoing["level"] == "error"
    assert outgoing["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 9, "startColumn": 15, "endLine": 9, "endColumn": 22  # `outgoin`
    }
    message, hint = outgoing["message"]["text"].split("\nhint: ")
    assert message.startswith("imap account 'anna-mail' sends through 'outgoin'")
    assert "outgoing" in hint
    assert outgoing["properties"] == {"pointer": "/imap/0/outgoing", "account": "anna-mail"}


def test_suppressed_findings_carry_their_suppression(repo: Path) -> None:
    comment_line = PEOPLE.split("\n")[3]
    log = sarif(run("shared.yaml", "team/people.yaml"))
    by_rule = results_by_rule(log)
    inline = by_rule["MC403"]
    assert inline["suppressions"] == [
        {
            "kind": "inSource",
            "justification": "Anna reads info@ herself",
            "location": {
                "physicalLocation": {
                    "artifactLocation": {"uri": "team/people.yaml", "uriBaseId": "%SRCROOT%", "index": 1},
                    # The comment, to the end of its line.
                    "region": {"startLine": 4, "startColumn": 18, "endLine": 4, "endColumn": len(comment_line) + 1},
                }
            },
        }
    ]
    [external] = by_rule["MC305"]["suppressions"]
    assert external["kind"] == "external"
    assert external["justification"] == "--ignore on the command line"
    active = [item for item in log["runs"][0]["results"] if "suppressions" not in item]
    assert {item["ruleId"] for item in active} >= {"MC201", "MC202", "MC205"}


def test_uris_outside_a_repository_are_relative_to_the_current_directory(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere dir" / "other,accounts.yaml"
    outside.parent.mkdir()
    outside.write_text("version: 1\nimap: [\n", encoding="utf-8")
    odd = repo / "team" / "a b#c.yaml"
    odd.write_text("version: 2\n", encoding="utf-8")
    log = sarif(run(str(repo / "shared.yaml"), "team/people.yaml", str(odd), str(outside)))
    sarif_run = log["runs"][0]
    root = sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == Path.cwd().as_uri() + "/"
    assert root.endswith("/repo/")

    artifacts = [item["location"] for item in sarif_run["artifacts"]]
    # An absolute path below the current directory is made relative too.
    assert artifacts[0] == {"uri": "shared.yaml", "uriBaseId": "%SRCROOT%"}
    assert artifacts[1] == {"uri": "team/people.yaml", "uriBaseId": "%SRCROOT%"}
    # Special characters are percent-encoded: `#` would otherwise start a fragment.
    assert artifacts[2]["uriBaseId"] == "%SRCROOT%"
    assert "#" not in artifacts[2]["uri"]
    assert " " not in artifacts[2]["uri"]
    assert unquote(artifacts[2]["uri"]) == "team/a b#c.yaml"
    # A file outside gets an absolute file URI of its own.
    assert "uriBaseId" not in artifacts[3]
    parsed = urlparse(artifacts[3]["uri"])
    assert parsed.scheme == "file"
    assert unquote(parsed.path) == outside.as_posix()

    for item in sarif_run["results"]:
        location = item["locations"][0]["physicalLocation"]["artifactLocation"]
        assert sarif_run["artifacts"][location["index"]]["location"] == {
            key: value for key, value in location.items() if key != "index"
        }
    outside_results = [
        item
        for item in sarif_run["results"]
        if item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == artifacts[3]["uri"]
    ]
    assert [item["ruleId"] for item in outside_results] == ["MC001"]


def fingerprints(log: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(ruleId, uri) -> the fingerprints of those results, in order."""
    out: dict[tuple[str, str], list[str]] = {}
    for item in log["runs"][0]["results"]:
        uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        out.setdefault((item["ruleId"], uri), []).append(item["partialFingerprints"]["mailcfg/v1"])
    return out


def lines(log: dict[str, Any]) -> dict[str, int]:
    return {
        item["ruleId"]: item["locations"][0]["physicalLocation"]["region"]["startLine"]
        for item in log["runs"][0]["results"]
    }


def test_fingerprints_survive_lines_moving(repo: Path) -> None:
    paths = ("shared.yaml", "team/people.yaml", "broken.yaml")
    before = sarif(run(*paths))
    every = [value for values in fingerprints(before).values() for value in values]
    assert len(every) == len(set(every)), "fingerprints must tell results apart"
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in every)

    people = repo / "team" / "people.yaml"
    people.write_text("\n\n\n# accounts of the team\n" + people.read_text(encoding="utf-8"), encoding="utf-8")
    broken = repo / "broken.yaml"
    broken.write_text("\n\n" + broken.read_text(encoding="utf-8"), encoding="utf-8")
    after = sarif(run(*paths))

    # The findings did move, and their fingerprints did not.
    assert lines(after)["MC202"] == lines(before)["MC202"] + 4
    assert lines(after)["MC205"] == lines(before)["MC205"] + 4
    assert lines(after)["MC001"] == lines(before)["MC001"] + 2
    assert fingerprints(after) == fingerprints(before)


def test_fingerprints_follow_what_a_finding_is_about(repo: Path) -> None:
    before = fingerprints(sarif(run("shared.yaml", "team/people.yaml")))
    people = repo / "team" / "people.yaml"
    people.write_text(people.read_text(encoding="utf-8").replace("anna-mail", "anna-inbox"), encoding="utf-8")
    after = fingerprints(sarif(run("shared.yaml", "team/people.yaml")))
    # The MC201 finding is now about another account: a new alert. MC202 (about `info`) stays the same.
    assert after[("MC201", "team/people.yaml")] != before[("MC201", "team/people.yaml")]
    assert after[("MC202", "team/people.yaml")] == before[("MC202", "team/people.yaml")]


def test_results_that_agree_on_everything_still_differ_in_fingerprint() -> None:
    item = Finding("MC001", Severity.ERROR, "m", Location("a.yaml", 1, 1))
    twin = Finding("MC001", Severity.ERROR, "m", Location("a.yaml", 9, 1))
    log = sarif(Result(files=(), findings=(item, twin), accounts=0))
    [first, second] = log["runs"][0]["results"]
    assert first["partialFingerprints"] != second["partialFingerprints"]


def test_a_rule_outside_the_registry_gets_a_descriptor() -> None:
    live = Finding("MC599", Severity.WARNING, "certificate expires in 9 days", Location("a.yaml", 3, 5), account="info")
    log = sarif(Result(files=(), findings=(live,), accounts=1))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    [result] = log["runs"][0]["results"]
    assert rules[result["ruleIndex"]]["id"] == "MC599"
    assert rules[result["ruleIndex"]]["defaultConfiguration"] == {"level": "warning"}
    assert len(rules) == len(RULES) + 1


def test_clean_run_has_no_results(repo: Path) -> None:
    log = sarif(run("shared.yaml"))
    assert log["runs"][0]["results"] == []
    assert [item["location"]["uri"] for item in log["runs"][0]["artifacts"]] == ["shared.yaml"]


def test_the_schema_check_rejects_a_broken_log(repo: Path) -> None:
    log = sarif(run("team/people.yaml", "shared.yaml"))
    result = log["runs"][0]["results"][0]
    broken = [
        {**log, "version": "2.0.0"},
        {**log, "runs": [{**log["runs"][0], "results": [{**result, "level": "info"}]}]},
        {**log, "runs": [{**log["runs"][0], "results": [{**result, "ruleIndex": -2}]}]},
        {**log, "runs": [{**log["runs"][0], "results": [{**result, "suppressions": [{"kind": "inline"}]}]}]},
    ]
    for item in broken:
        assert not VALIDATOR.is_valid(item)


def test_no_secret_reaches_the_report(repo: Path) -> None:
    (repo / "leak.yaml").write_text(VALID.replace("{env: SMTP_PASSWORD}", "hunter2-very-secret"), encoding="utf-8")
    result = run("leak.yaml")
    assert "MC301" in {item.rule for item in result.findings}
    text = render("sarif", result, ReportOptions())
    assert "hunter2-very-secret" not in text
    # Nor its length: the region of a secret is one character, whatever its width.
    [secret] = [item for item in json.loads(text)["runs"][0]["results"] if item["ruleId"] == "MC301"]
    region = secret["locations"][0]["physicalLocation"]["region"]
    assert region["endColumn"] == region["startColumn"] + 1


def test_cli_writes_sarif_to_a_file_and_text_to_stdout(cli: Cli, repo: Path) -> None:
    out = repo / "out.sarif"
    code, stdout, stderr = cli(
        "check", "--format", f"sarif:{out}", "--format", "text", "shared.yaml", "team/people.yaml"
    )
    assert code == 1
    assert stderr == ""
    assert "error[MC201]" in stdout
    assert stdout.rstrip().splitlines()[-1].startswith("mailcfg: 2 files")
    log = json.loads(out.read_text(encoding="utf-8"))
    assert VALIDATOR.is_valid(log)
    assert "MC201" in {item["ruleId"] for item in log["runs"][0]["results"]}


def test_cli_sarif_to_stdout_of_a_clean_run(cli: Cli, repo: Path) -> None:
    code, stdout, _ = cli("check", "--format", "sarif", "shared.yaml")
    assert code == 0
    log = json.loads(stdout)
    assert VALIDATOR.is_valid(log)
    assert log["runs"][0]["results"] == []
    assert os.path.isabs(unquote(urlparse(log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]).path))


# --- the invocation: interrupted runs ----------------------------------------------------------------------


def test_a_whole_run_is_a_successful_invocation(repo: Path) -> None:
    [invocation] = sarif(run("shared.yaml", "team/people.yaml"))["runs"][0]["invocations"]
    assert invocation == {"executionSuccessful": True}


def test_an_interrupted_verify_is_an_unsuccessful_invocation() -> None:
    finished = LiveResult("outgoing", "smtp", "smtp.example.com", 587, "ok", "auth", "all stages passed", 0.4)
    result = Result(files=(), findings=(), accounts=2, live=(finished, finished), interrupted=True)
    [invocation] = sarif(result)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    [note] = invocation["toolExecutionNotifications"]
    assert note == {"level": "error", "message": {"text": "verify was interrupted; 2 checks had finished"}}


# --- GitHub's limit of 25,000 results a run ----------------------------------------------------------------


def test_results_are_capped_keeping_the_most_severe() -> None:
    # 30,000 findings, severities interleaved (info, warning, error, ...), plus one suppressed error.
    severities = (Severity.INFO, Severity.WARNING, Severity.ERROR)
    findings = tuple(
        Finding("MC999", severities[index % 3], f"m{index}", Location("a.yaml", index + 1, 1))
        for index in range(30_000)
    )
    dismissed = Finding("MC998", Severity.ERROR, "d", Location("a.yaml", 1, 1), suppression=Suppression("cli"))
    result = Result(files=(), findings=findings, accounts=1, suppressed=(dismissed,))
    log = json.loads(render("sarif", result, ReportOptions()))
    [sarif_run] = log["runs"]
    results = sarif_run["results"]
    assert len(results) == MAX_RESULTS == 25_000
    # Every error and warning, then the first infos in file order; the suppressed error counts least of all.
    levels = [item["level"] for item in results]
    assert (levels.count("error"), levels.count("warning"), levels.count("note")) == (10_000, 10_000, 5_000)
    kept_infos = [int(item["message"]["text"][1:]) for item in results if item["level"] == "note"]
    assert kept_infos == list(range(0, 15_000, 3))
    assert "MC998" not in {item["ruleId"] for item in results}
    # Written in the usual order: by position.
    lines = [item["locations"][0]["physicalLocation"]["region"]["startLine"] for item in results]
    assert lines == sorted(lines)
    [invocation] = sarif_run["invocations"]
    assert invocation["executionSuccessful"] is True
    [note] = invocation["toolExecutionNotifications"]
    assert note["level"] == "warning"
    assert "30,001 results, 25,000 written" in note["message"]["text"]
    assert "5,001 least severe were left out" in note["message"]["text"]
    # The log is valid (checked on a few results: the schema check of 25,000 takes long).
    trimmed = {**log, "runs": [{**sarif_run, "results": results[:20] + results[-20:]}]}
    assert VALIDATOR.is_valid(trimmed)
    # Fingerprints do not depend on the cap: the first results are the same as in an uncapped log.
    small = json.loads(render("sarif", Result(files=(), findings=findings[:9], accounts=1), ReportOptions()))
    assert [item["partialFingerprints"] for item in small["runs"][0]["results"]] == [
        item["partialFingerprints"] for item in results[:9]
    ]


def test_a_run_at_the_limit_is_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_reporter, "MAX_RESULTS", 5)  # the boundary, without rendering 25,000 results
    findings = tuple(Finding("MC999", Severity.INFO, "m", Location("a.yaml", index + 1, 1)) for index in range(6))
    log = sarif(Result(files=(), findings=findings[:5], accounts=1))
    assert len(log["runs"][0]["results"]) == 5
    assert log["runs"][0]["invocations"] == [{"executionSuccessful": True}]
    log = sarif(Result(files=(), findings=findings, accounts=1))
    assert len(log["runs"][0]["results"]) == 5
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("6 results, 5 written")


# --- URIs relative to the repository root ------------------------------------------------------------------


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git repository with account files in `accounts/`, the current directory."""
    root = tmp_path / "checkout"
    (root / "accounts").mkdir(parents=True)
    subprocess.run(["git", "init", "--quiet", str(root)], check=True)
    (root / "accounts" / "a.yaml").write_text("version: 2\n", encoding="utf-8")
    monkeypatch.chdir(root / "accounts")
    return root


def test_uris_are_relative_to_the_repository_root(git_repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("version: 2\n", encoding="utf-8")
    log = sarif(run("a.yaml", str(git_repo / "accounts" / "a.yaml"), str(outside)))
    sarif_run = log["runs"][0]
    # GitHub resolves a uri against the repository root and ignores originalUriBaseIds.
    assert sarif_run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == git_repo.as_uri() + "/"
    artifacts = [item["location"] for item in sarif_run["artifacts"]]
    assert artifacts[0] == {"uri": "accounts/a.yaml", "uriBaseId": "%SRCROOT%"}
    # A file outside the repository keeps its absolute file URI.
    assert artifacts[-1] == {"uri": outside.as_uri()}
    uris = {item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for item in sarif_run["results"]}
    assert uris == {"accounts/a.yaml", outside.as_uri()}


def test_a_git_file_marks_the_root_too(git_repo: Path) -> None:
    # A worktree or submodule has a `.git` file, not a directory.
    inner = git_repo / "accounts" / "module"
    (inner / "sub").mkdir(parents=True)
    (inner / ".git").write_text("gitdir: ../../.git/modules/module\n", encoding="utf-8")
    (inner / "sub" / "b.yaml").write_text("version: 2\n", encoding="utf-8")
    os.chdir(inner / "sub")
    log = sarif(run("b.yaml"))
    assert log["runs"][0]["artifacts"] == [{"location": {"uri": "sub/b.yaml", "uriBaseId": "%SRCROOT%"}}]
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == inner.as_uri() + "/"


# --- security severity ------------------------------------------------------------------------------------


def test_secret_and_tls_rules_are_rated_security_alerts(repo: Path) -> None:
    rules = {rule["id"]: rule for rule in sarif(run("shared.yaml"))["runs"][0]["tool"]["driver"]["rules"]}
    rated = {key: rule["properties"] for key, rule in rules.items() if "properties" in rule}
    assert {key: value["security-severity"] for key, value in rated.items()} == {
        "MC301": "8.0", "MC302": "7.0", "MC303": "5.0"
    }
    for properties in rated.values():
        assert properties["tags"] == ["security"]
    # A missing contact, an unset variable, unused credentials: upkeep, not security alerts.
    for rule_id in ("MC304", "MC305", "MC306"):
        assert "properties" not in rules[rule_id]


# --- regions ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "token"),
    [
        ("    encryption: tls  # why", 16, "tls"),
        ("  - id: anna-mail", 8, "anna-mail"),
        ("    outgoing: outgoing", 4, "outgoing"),  # a key ends before its colon
        ("      password: {env: SMTP_PASSWORD}", 16, "{env: SMTP_PASSWORD}"),
        ("      password: {env: SMTP_PASSWORD}", 22, "SMTP_PASSWORD"),  # a plain scalar inside a flow mapping
        ("    name: 'it''s: #1'  # c", 10, "'it''s: #1'"),
        ('    name: "a \\" b" x', 10, '"a \\" b"'),
        ("    name: 'not closed", 10, "'not closed"),
        ("    scope: user  # mailcfg: ignore[MC403] reason  ", 17, "# mailcfg: ignore[MC403] reason"),
        ("    url: http://x:8080/a b", 9, "http://x:8080/a b"),
    ],
)
def test_token_end(line: str, column: int, token: str) -> None:
    assert line[column : token_end(line, column)] == token


@pytest.mark.parametrize(("line", "column"), [("abc", 3), ("abc", 9), ("a  b", 1), ("", 0)])
def test_token_end_without_a_token_is_one_character(line: str, column: int) -> None:
    assert token_end(line, column) == column + 1


def test_every_region_ends_after_it_starts(repo: Path) -> None:
    log = sarif(run("shared.yaml", "team/people.yaml", "broken.yaml"))
    for item in log["runs"][0]["results"]:
        region = item["locations"][0]["physicalLocation"]["region"]
        assert region["endLine"] == region["startLine"]
        assert region["endColumn"] > region["startColumn"]


def test_a_finding_without_a_column_spans_its_line() -> None:
    item = Finding("MC999", Severity.ERROR, "m", Location("a.yaml", 3, 0))
    [result] = sarif(Result(files=(), findings=(item,), accounts=0))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "endLine": 3}


def test_a_password_the_loader_never_read_is_not_measured_either() -> None:
    # A syntax error on a password line: no mask was recorded, the password-like key still hides the length.
    source = SourceFile("a.yaml", text="version: 1\nsmtp:\n  - password: hunter2-secret [\n")
    item = Finding("MC001", Severity.ERROR, "syntax error", Location("a.yaml", 3, 17))
    [result] = sarif(Result(files=(source,), findings=(item,), accounts=0))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["endColumn"] == 18


def test_a_very_long_line_is_not_measured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sarif_reporter, "MEASURED_LINE", 20)
    source = SourceFile("a.yaml", text="version: 1\nusers: [{id: a}, {id: b}, {id: c}]\n")
    item = Finding("MC999", Severity.ERROR, "m", Location("a.yaml", 2, 9))  # at `{id: a}`
    [result] = sarif(Result(files=(source,), findings=(item,), accounts=0))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["endColumn"] == 10
    monkeypatch.setattr(sarif_reporter, "MEASURED_LINE", 4096)
    [result] = sarif(Result(files=(source,), findings=(item,), accounts=0))["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["region"]["endColumn"] == 9 + len("{id: a}")
