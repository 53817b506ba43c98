"""GitHub workflow commands round-trip through the runner's unescaping; the job summary is sound Markdown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import VALID, Cli

from validator import engine
from validator.finding import Finding, Location, Severity
from validator.outcome import Result
from validator.reporters import ReportOptions, render
from validator.reporters.github import MAX_ROWS, job_summary

# Everything the runner treats specially, plus text that looks like an escape already.
NASTY = "50% done: a,b\r\nsecond line\rthird\n::error::not a command %0A %25 ,: end"


def unescape_data(text: str) -> str:
    # The Actions runner (ActionCommand.cs) replaces each escape in this order, `%25` last.
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse(line: str) -> tuple[str, dict[str, str], str]:
    """A workflow command line, parsed as the runner does: ``::name k=v,k=v::data``."""
    assert line.startswith("::")
    end = line.index("::", 2)
    info, data = line[2:end], line[end + 2 :]
    name, _, raw = info.partition(" ")
    properties = {}
    for pair in raw.split(","):
        key, _, value = pair.partition("=")
        properties[key] = unescape_property(value)
    return name, properties, unescape_data(data)


def commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    return [parse(line) for line in output.splitlines() if line.startswith("::")]


def result_of(*findings: Finding) -> Result:
    return Result(files=(), findings=findings, accounts=1)


def test_message_and_properties_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    path = "odd,dir:x/50%,acc:ounts.yaml"
    item = Finding("MC201", Severity.ERROR, NASTY, Location(path, 12, 7, "/imap/0/outgoing"), hint="use 100%,\n: ok")
    output = render("github", result_of(item), ReportOptions())
    # No raw line break of the message leaks: one command line plus the summary line.
    lines = output.splitlines()
    assert len(lines) == 2
    assert lines[1] == "mailcfg: 0 files, 1 account: 1 error, 0 warnings, 0 infos"
    [(name, properties, message)] = commands(output)
    assert name == "error"
    assert properties == {"file": path, "line": "12", "col": "7", "title": "MC201"}
    assert message == NASTY + "\nhint: use 100%,\n: ok"


def test_escaping_is_exactly_githubs() -> None:
    item = Finding("MC104", Severity.WARNING, "a%b\rc\nd:e,f", Location("x,y:z.yaml", 1, 2))
    [line] = [line for line in render("github", result_of(item), ReportOptions()).splitlines() if line[:2] == "::"]
    assert line == "::warning file=x%2Cy%3Az.yaml,line=1,col=2,title=MC104::a%25b%0Dc%0Ad:e,f"


@pytest.mark.parametrize(
    ("severity", "command"), [(Severity.ERROR, "error"), (Severity.WARNING, "warning"), (Severity.INFO, "notice")]
)
def test_severity_names_the_command(severity: Severity, command: str) -> None:
    item = Finding("MC305", severity, "m", Location("a.yaml", 3, 4))
    [(name, _, message)] = commands(render("github", result_of(item), ReportOptions()))
    assert name == command
    assert message == "m"


def test_paths_are_relative_to_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = tmp_path / "ws"
    (workspace / "config" / "mail").mkdir(parents=True)
    # The step runs in a subdirectory; the runner resolves `file=` against the workspace.
    monkeypatch.chdir(workspace / "config")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    inside = Finding("MC001", Severity.ERROR, "m", Location("mail/accounts.yaml", 1, 1))
    outside = Finding("MC001", Severity.ERROR, "m", Location(str(tmp_path / "other.yaml"), 1, 1))
    found = commands(render("github", result_of(inside, outside), ReportOptions()))
    assert [properties["file"] for _, properties, _ in found] == [
        "config/mail/accounts.yaml",
        (tmp_path / "other.yaml").as_posix(),
    ]
    monkeypatch.delenv("GITHUB_WORKSPACE")
    found = commands(render("github", result_of(inside), ReportOptions()))
    assert found[0][1]["file"] == "mail/accounts.yaml"


def test_suppressed_findings_are_not_annotated(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID.replace("      contact: IT desk\n", ""), encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(path),), ignore=("MC305",)))
    assert result.suppressed
    assert not result.findings
    output = render("github", result, ReportOptions())
    assert commands(output) == []
    assert output.endswith(f"({len(result.suppressed)} suppressed)\n")


def cells(row: str) -> list[str]:
    """The cells of a GFM table row: split at pipes that are not escaped."""
    assert row.startswith("| ")
    assert row.endswith(" |")
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", row[1:-1])]


def test_job_summary_table() -> None:
    findings = (
        Finding("MC201", Severity.ERROR, "a | b\nc <script> & d", Location("acc|ounts.yaml", 9, 15)),
        Finding("MC403", Severity.WARNING, "role address", Location("people.yaml", 4, 12)),
        Finding("MC305", Severity.INFO, "no contact", Location("people.yaml", 10, 5)),
    )
    suppressed = (Finding("MC404", Severity.INFO, "no test", Location("people.yaml", 1, 1)),)
    summary = job_summary(Result(files=(), findings=findings, accounts=3, suppressed=suppressed))
    lines = summary.splitlines()
    assert lines[0] == "### mailcfg"
    assert "0 files, 3 accounts: 1 error, 1 warning, 1 info (1 suppressed)" in summary
    rows = [line for line in lines if line.startswith("|")]
    assert cells(rows[0]) == ["Rule", "Severity", "Location", "Message"]
    assert cells(rows[2]) == ["MC201", "error", "acc\\|ounts.yaml:9:15", "a \\| b c &lt;script&gt; &amp; d"]
    assert cells(rows[3]) == ["MC403", "warning", "people.yaml:4:12", "role address"]
    assert cells(rows[4]) == ["MC305", "info", "people.yaml:10:5", "no contact"]
    assert len(rows) == 2 + len(findings)
    assert "MC404" not in summary
    assert summary.endswith("\n")


def test_job_summary_of_a_clean_run_has_no_table() -> None:
    summary = job_summary(Result(files=(), findings=(), accounts=4))
    assert "|" not in summary
    assert "0 errors, 0 warnings, 0 infos" in summary


def test_job_summary_is_capped() -> None:
    findings = tuple(
        Finding("MC305", Severity.INFO, f"n{index}", Location("a.yaml", index + 1, 1)) for index in range(MAX_ROWS + 5)
    )
    summary = job_summary(Result(files=(), findings=findings, accounts=1))
    assert sum(line.startswith("| MC305") for line in summary.splitlines()) == MAX_ROWS
    assert "and 5 more" in summary


def test_cli_github_format_and_step_summary(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    (tmp_path / "accounts.yaml").write_text(VALID.replace("outgoing: outgoing", "outgoing: outgoin"), encoding="utf-8")
    code, out, err = cli("check", "--format", "github", "accounts.yaml")
    assert code == 1
    assert err == ""
    found = {properties["title"]: (name, properties, message) for name, properties, message in commands(out)}
    assert set(found) == {"MC201", "MC206"}  # the smtp entry is now unused, too
    name, properties, message = found["MC201"]
    assert (name, properties["file"], properties["line"]) == ("error", "accounts.yaml", "19")
    assert found["MC206"][0] == "warning"
    assert "\nhint: did you mean 'outgoing'" in message

    step_summary = tmp_path / "summary.md"
    step_summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    code, out, _ = cli("check", "accounts.yaml")
    assert code == 1
    text = step_summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n### mailcfg\n")
    assert "| MC201 | error | accounts.yaml:" in text
