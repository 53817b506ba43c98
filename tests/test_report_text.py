"""The text report's summary line states the real counts: a shortened, interrupted or huge run never reads clean."""

from __future__ import annotations

from pathlib import Path

from builders import VALID, Cli

from validator.finding import Finding, Location, Severity, Suppression
from validator.live.result import LiveResult
from validator.outcome import Result
from validator.reporters import ReportOptions, render
from validator.reporters.sarif import MAX_RESULTS

ERROR = Finding("MC201", Severity.ERROR, "no smtp entry 'outgoin'", Location("a.yaml", 9, 15, "/imap/0/outgoing"))
FINISHED = LiveResult("outgoing", "smtp", "smtp.example.com", 587, "ok", "auth", "all stages passed", 0.4)


def summary_line(result: Result) -> str:
    return render("text", result, ReportOptions()).splitlines()[-1]


def test_max_findings_zero_still_states_the_counts() -> None:
    result = Result(files=(), findings=(ERROR,), accounts=1).limited(0)
    assert result.findings == ()
    text = render("text", result, ReportOptions())
    assert "no problems" not in text
    assert text.splitlines()[-1] == "mailcfg: 0 files, 1 account: 1 error, 0 warnings, 0 infos"
    assert "... 1 more findings not reported (--max-findings)" in text


def test_cli_max_findings_zero_on_a_failing_run(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID.replace("encryption: starttls", "encryption: tls"), encoding="utf-8")
    code, out, _ = cli("check", "--no-config", "--max-findings", "0", str(path))
    assert code == 1
    assert "no problems" not in out
    assert out.splitlines()[-1].startswith("mailcfg: 1 file, 2 accounts: 1 error, ")


def test_a_clean_run_says_no_problems() -> None:
    assert summary_line(Result(files=(), findings=(), accounts=2)) == "mailcfg: 0 files, 2 accounts: no problems"


def test_an_interrupted_run_never_says_no_problems() -> None:
    result = Result(files=(), findings=(), accounts=2, live=(FINISHED,), interrupted=True)
    line = summary_line(result)
    assert "no problems" not in line
    assert line == (
        "mailcfg: 0 files, 2 accounts: 0 errors, 0 warnings, 0 infos; live checks: 1 ok; "
        "interrupted after 1 finished check"
    )


def many(count: int) -> tuple[Finding, ...]:
    severities = (Severity.ERROR, Severity.WARNING, Severity.INFO)
    return tuple(
        Finding("MC999", severities[index % 3], "m", Location("a.yaml", index + 1, 1)) for index in range(count)
    )


def test_the_sarif_cap_is_said_before_the_summary() -> None:
    findings = many(MAX_RESULTS)
    suppressed = Finding("MC998", Severity.INFO, "s", Location("a.yaml", 1, 1), suppression=Suppression("cli"))
    lines = render("text", Result(files=(), findings=findings, accounts=1), ReportOptions()).splitlines()
    assert not any(line.startswith("SARIF:") for line in lines)  # exactly the limit: nothing left out
    result = Result(files=(), findings=findings, accounts=1, suppressed=(suppressed,))
    lines = render("text", result, ReportOptions()).splitlines()
    assert lines[-2] == (
        "SARIF: 25,001 results, 25,000 kept (GitHub code scanning takes at most 25,000 a run;"
        " the least severe are left out)"
    )
    assert lines[-1].startswith("mailcfg: ")
