"""The Nagios report and the plugin exit codes, checked against the plugin guidelines' grammar (tests/monitoring.py).
Against the real servers (ok, expiring certificate, failed check): tests/live/test_monitoring.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from builders import ROLE_ACCOUNT, VALID, Cli
from monitoring import read_plugin_output

from validator import engine
from validator.finding import Finding, Location, Severity
from validator.live.result import FAILED, OK, SKIPPED, WARNING, LiveResult, Stage
from validator.outcome import Result
from validator.reporters import ReportOptions, nagios, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"


def finding(rule: str, severity: Severity, message: str = "message") -> Finding:
    return Finding(rule, severity, message, Location("accounts.yaml", 3, 5, "/imap/0/host"), None, "info")


def live(account: str, status: str = OK, **extra: object) -> LiveResult:
    return LiveResult(account, "imap", "mail.example.com", 993, status, "auth", f"{status} message", 0.25,
                      (Stage("auth", status, 0.2),), **extra)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "accounts.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- check: the exit codes follow the plugin convention -------------------------------------------------------


def test_clean_check_is_ok(cli: Cli) -> None:
    code, out, err = cli("check", "--no-config", "--format", "nagios", str(EXAMPLE))
    plugin = read_plugin_output(out)
    assert (code, plugin.code, plugin.state, err) == (0, 0, "OK", "")
    assert plugin.text == "1 file, 4 accounts: 0 errors, 0 warnings"
    assert plugin.perfdata["errors"].value == 0
    assert (plugin.perfdata["errors"].crit, plugin.perfdata["warnings"].warn) == ("0", "0")
    assert plugin.details == []


def test_warnings_only_is_warning_and_infos_never_count(cli: Cli, tmp_path: Path) -> None:
    # MC403 (a role address with scope user) is a warning; the role account has no contact: MC305, an info.
    path = write(tmp_path, VALID + ROLE_ACCOUNT)
    code, out, _ = cli("check", "--no-config", "--format", "nagios", path)
    plugin = read_plugin_output(out)
    assert (code, plugin.state) == (1, "WARNING"), out
    assert plugin.perfdata["warnings"].value >= 1
    assert all(line.startswith("WARNING: ") for line in plugin.details), out
    assert any(" MC403 " in line for line in plugin.details), out
    assert not any("MC305" in line for line in plugin.details), out
    # --strict makes a warning fail mailcfg's own run; the plugin's state is WARNING either way.
    code, out, _ = cli("check", "--no-config", "--strict", "--format", "nagios", path)
    assert (code, read_plugin_output(out).state) == (1, "WARNING")
    assert cli("check", "--no-config", "--strict", "--format", "text", path)[0] == 1


def test_an_error_is_critical(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("    outgoing: outgoing\n", "    outgoing: outgoin\n"))
    code, out, _ = cli("check", "--no-config", "--format", "nagios", path)
    plugin = read_plugin_output(out)
    assert (code, plugin.state) == (2, "CRITICAL"), out
    assert plugin.perfdata["errors"].value == 1
    (line,) = [line for line in plugin.details if line.startswith("CRITICAL: ")]
    assert line.startswith(f"CRITICAL: {path}:19:15: MC201 "), line


def test_mailcfgs_own_codes_when_nagios_goes_to_a_file(cli: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("    outgoing: outgoing\n", "    outgoing: outgoin\n"))
    report = tmp_path / "nagios.txt"
    for args in (["--format", f"nagios:{report}"], ["--format", "nagios", "--output", str(report)],
                 ["--format", "nagios", f"-o{report}", "--format", "text"]):
        code, _, _ = cli("check", "--no-config", *args, path)
        assert code == 1, args
        assert read_plugin_output(report.read_text(encoding="utf-8")).state == "CRITICAL"
        report.unlink()


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "nagios", "--bogus"],  # click's usage error
        ["--format", "nagios", "--select", "MC9"],  # mailcfg's own usage error, after parsing
        ["--format", "nagios", "--format", "text"],  # two reports on stdout
        ["--format=nagios", "--format", "nosuch"],
        ["--format", "nagios", "--max-findings", "-1"],
        ["--format", "NAGIOS", "/no/such/file.yaml"],  # an unreadable path
    ],
)
def test_a_usage_error_with_nagios_on_stdout_is_unknown(cli: Cli, args: list[str]) -> None:
    code, out, err = cli("check", "--no-config", *args, *([] if "/no/such/file.yaml" in args else [str(EXAMPLE)]))
    plugin = read_plugin_output(out)
    assert (code, plugin.state, plugin.perfdata) == (3, "UNKNOWN", {}), (out, err)
    assert "error" in plugin.text
    assert err  # the usual message is on stderr too


def test_verify_usage_errors_are_unknown_too(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP", "IMAP_INFO", "IMAP_ANNA", "IMAP_BEN"):
        monkeypatch.setenv(f"MAILCFG_{name}_PASSWORD", "not-used-1")
    # Without --allow-host verify refuses before any connection: mailcfg's 2, the plugin's 3.
    code, out, err = cli("verify", "--no-config", "--format", "nagios", str(EXAMPLE))
    plugin = read_plugin_output(out)
    assert (code, plugin.state) == (3, "UNKNOWN"), (out, err)
    assert "--allow-host" in plugin.text
    assert cli("verify", "--no-config", str(EXAMPLE))[0] == 2


def test_usage_errors_keep_exit_2_without_nagios_on_stdout(cli: Cli, tmp_path: Path) -> None:
    for args in (["--bogus"], ["--format", f"nagios:{tmp_path / 'x'}", "--bogus"], ["--format", "nagiosx"],
                 ["--format", "nagios", "--format", "text", "--bogus", "--output", str(tmp_path / "y")]):
        code, out, _ = cli("check", "--no-config", *args, str(EXAMPLE))
        assert (code, out) == (2, ""), args
    # Another command's --format nagios is just a usage error of that command.
    assert cli("diff", "--format", "nagios", "a", "b")[0] == 2


def test_an_internal_error_is_unknown(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> Result:
        raise ZeroDivisionError("quoted-value-7")

    monkeypatch.setattr(engine, "run", broken)
    code, out, err = cli("check", "--no-config", "--format", "nagios", str(EXAMPLE))
    plugin = read_plugin_output(out)
    assert (code, plugin.state) == (3, "UNKNOWN")
    assert plugin.text.startswith("internal error (ZeroDivisionError at test_report_nagios.py:")
    assert "quoted-value-7" not in out + err  # as for mailcfg's 70: the exception's text could quote a file's values
    assert cli("check", "--no-config", str(EXAMPLE))[0] == 70


def test_ctrl_c_is_unknown(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_: object) -> Result:
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "run", interrupted)
    code, out, _ = cli("check", "--no-config", "--format", "nagios", str(EXAMPLE))
    assert (code, read_plugin_output(out).state) == (3, "UNKNOWN")
    assert cli("check", "--no-config", str(EXAMPLE))[0] == 130


def test_a_failing_report_file_is_unknown_with_no_ok_line_before_it(cli: Cli, tmp_path: Path) -> None:
    """The nagios report is written last: a report file that cannot be written leaves the UNKNOWN line alone."""
    code, out, _ = cli("check", "--no-config", "--format", "nagios", "--format", f"json:{tmp_path}/no/x.json",
                       str(EXAMPLE))
    plugin = read_plugin_output(out)
    assert (code, plugin.state, plugin.details) == (3, "UNKNOWN", [])


# --- the report itself ------------------------------------------------------------------------------------------


def test_live_checks_give_perfdata_and_a_line_per_failing_or_warning_check() -> None:
    now = time.time()
    result = Result(
        files=(), accounts=3,
        findings=(finding("MC505", Severity.WARNING), finding("MC507", Severity.ERROR)),
        live=(
            live("info", WARNING, credentials="info", certificate_expires=now + 4.5 * 86400),
            LiveResult("outgoing", "smtp", "smtp.example.com", 587, FAILED, "auth", "authentication failed", 0.5,
                       credentials="anna"),
            live("anna", OK, credentials="anna", certificate_expires=now + 90 * 86400),
            LiveResult("outgoing", "smtp", "smtp.example.com", 587, SKIPPED, "plan", "same login", 0.0),
        ),
    )
    plugin = read_plugin_output(render("nagios", result, ReportOptions(cert_warn_days=21)))
    assert plugin.state == "CRITICAL"
    assert nagios.exit_code(result) == 2
    assert plugin.text == "0 files, 3 accounts: 1 error, 1 warning; live checks: 1 ok, 1 warning, 1 failed"
    assert list(plugin.perfdata) == ["errors", "warnings", "imap info time", "imap info cert days",
                                     "smtp outgoing (anna) time", "imap anna time", "imap anna cert days"]
    time_ = plugin.perfdata["smtp outgoing (anna) time"]
    assert (time_.value, time_.uom, time_.minimum) == (0.5, "s", "0")
    days = plugin.perfdata["imap info cert days"]
    assert (days.uom, days.warn, days.crit) == ("", "21:", "0:")
    assert days.value == pytest.approx(4.5, abs=0.1)
    # Live findings are told by their check's line, not once more as findings.
    assert plugin.details == [
        "WARNING: imap info mail.example.com:993 auth: warning message",
        "CRITICAL: smtp outgoing (anna) smtp.example.com:587 auth: authentication failed",
    ]


def test_an_interrupted_run_is_unknown() -> None:
    result = Result(files=(), findings=(finding("MC507", Severity.ERROR),), accounts=1, live=(live("info"),),
                    interrupted=True)
    plugin = read_plugin_output(render("nagios", result, ReportOptions()))
    assert (plugin.state, nagios.exit_code(result)) == ("UNKNOWN", 3)
    assert plugin.text.endswith("; interrupted after 1 finished check")


def test_outside_text_cannot_break_the_output() -> None:
    """A `|` would start perfdata, a line break a new line, `=` and `'` would end a perfdata label early."""
    hostile = "x | 'forged'=1;;; \n| MAILCFG OK - fine = '"
    result = Result(
        files=(), accounts=1,
        findings=(finding("MC201", Severity.ERROR, hostile),),
        live=(LiveResult(hostile, "imap", hostile, 993, FAILED, "auth", hostile, 0.1, credentials=hostile + "2"),),
    )
    out = render("nagios", result, ReportOptions())
    plugin = read_plugin_output(out)  # the grammar holds
    assert out.count("|") == 1
    assert len(out.splitlines()) == 1 + len(plugin.details) == 3
    # One label, read back whole: no `'forged'` datum split off it.
    assert list(plugin.perfdata) == ["errors", "warnings", "imap x ¦ 'forged'_1;;;  ¦ MAILCFG OK - fine _ ' "
                                     "(x ¦ 'forged'_1;;;  ¦ MAILCFG OK - fine _ '2) time"]
    assert plugin.details[0].startswith("CRITICAL: imap x ¦ 'forged'=1;;;  ¦ MAILCFG OK")


def test_a_long_list_is_cut() -> None:
    findings = tuple(finding(f"MC{index:03d}", Severity.ERROR) for index in range(80))
    plugin = read_plugin_output(render("nagios", Result(files=(), findings=findings, accounts=1), ReportOptions()))
    assert len(plugin.details) == nagios.MAX_LINES
    assert plugin.details[-1] == "... and 31 more: see the text or JSON report"
