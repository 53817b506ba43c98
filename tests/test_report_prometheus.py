"""The Prometheus report, read back with prometheus_client's parser: families, labels, values, escaping, and the
atomic write of `--format prometheus:FILE`. Against the real servers: tests/live/test_monitoring.py."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from builders import VALID, Cli
from monitoring import prometheus_samples

from validator.finding import Finding, Location, Severity
from validator.live.result import FAILED, OK, SKIPPED, WARNING, LiveResult, Stage
from validator.outcome import Result
from validator.reporters import ReportOptions, render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "accounts.example.yaml"
NOW = float(int(time.time()))  # whole seconds: the report's values compare exactly


def live(account: str, protocol: str = "imap", status: str = OK, **extra: object) -> LiveResult:
    fields: dict[str, object] = {
        "stages": (Stage("dns", OK, 0.001), Stage("connect", OK, 0.002), Stage("auth", status, 0.2)),
        "credentials": account,
        **extra,
    }
    return LiveResult(account, protocol, "mail.example.com", 993, status, "auth", "msg", 0.25, **fields)  # type: ignore[arg-type]


def finding(rule: str, severity: Severity) -> Finding:
    return Finding(rule, severity, "message", Location("accounts.yaml", 3, 5, "/imap/0/host"), None, "info")


def samples(result: Result, seconds: float | None = 1.5) -> dict[str, list[tuple[dict[str, str], float]]]:
    return prometheus_samples(render("prometheus", result, ReportOptions(seconds=seconds)))


def test_check_writes_the_finding_counts_and_the_run_only(cli: Cli) -> None:
    code, out, err = cli("check", "--no-config", "--format", "prometheus", str(EXAMPLE))
    assert (code, err) == (0, "")
    families = prometheus_samples(out)
    assert set(families) == {
        "mailcfg_findings", "mailcfg_last_run_timestamp_seconds", "mailcfg_run_duration_seconds"}
    assert families["mailcfg_findings"] == [({"severity": s}, 0.0) for s in ("error", "warning", "info")]
    ((labels, stamp),) = families["mailcfg_last_run_timestamp_seconds"]
    assert labels == {}
    assert NOW - 60 < stamp <= time.time()
    ((_, seconds),) = families["mailcfg_run_duration_seconds"]
    assert 0 < seconds < 60


def test_check_counts_findings_by_severity_and_by_rule(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    # MC201 (error: no such smtp entry), MC206 (warning: `outgoing` is used by nobody now), MC305 (info: no contact)
    path.write_text(VALID.replace("    outgoing: outgoing\n", "    outgoing: outgoin\n").replace(
        "      contact: IT desk\n", "", 1), encoding="utf-8")
    code, out, _ = cli("check", "--no-config", "--format", "prometheus", str(path))
    assert code == 1
    families = prometheus_samples(out)
    assert families["mailcfg_findings"] == [({"severity": "error"}, 1.0), ({"severity": "warning"}, 1.0),
                                            ({"severity": "info"}, 1.0)]
    assert families["mailcfg_findings_by_rule"] == [({"rule": "MC201"}, 1.0), ({"rule": "MC206"}, 1.0),
                                                    ({"rule": "MC305"}, 1.0)]


def test_every_live_family_with_its_labels_and_values() -> None:
    stages = (Stage("dns", OK, 0.001), Stage("ehlo", OK, 0.01), Stage("starttls", OK, 0.02),
              Stage("certificate", WARNING, 0.0), Stage("ehlo", OK, 0.03), Stage("auth", OK, 0.1),
              Stage("send", SKIPPED, 0.0))
    result = Result(
        files=(), accounts=3,
        findings=(finding("MC505", Severity.WARNING), finding("MC507", Severity.ERROR)),
        live=(
            LiveResult("outgoing", "smtp", "smtp.example.com", 587, WARNING, "certificate", "expires", 0.4, stages,
                       credentials="info", certificate_expires=NOW + 86400, token_expires=(("info", NOW + 3600),)),
            live("info", certificate_expires=NOW + 5 * 86400, token_expires=(("info", NOW + 3000),)),
            live("anna", status=FAILED, certificate_expires=NOW + 6 * 86400),
            LiveResult("outgoing", "smtp", "smtp.example.com", 587, SKIPPED, "plan", "same login", 0.0,
                       credentials=None),
        ),
    )
    families = samples(result)
    assert set(families) == {
        "mailcfg_check_success", "mailcfg_check_duration_seconds", "mailcfg_stage_duration_seconds",
        "mailcfg_certificate_expiry_timestamp_seconds", "mailcfg_token_expiry_timestamp_seconds",
        "mailcfg_findings", "mailcfg_findings_by_rule", "mailcfg_last_run_timestamp_seconds",
        "mailcfg_run_duration_seconds"}

    def check(account: str, credentials: str, protocol: str, host: str, port: int) -> dict[str, str]:
        return {"account": account, "credentials": credentials, "protocol": protocol, "host": host, "port": str(port)}

    outgoing = check("outgoing", "info", "smtp", "smtp.example.com", 587)
    info = check("info", "info", "imap", "mail.example.com", 993)
    anna = check("anna", "anna", "imap", "mail.example.com", 993)
    # A warning passes, a failure is 0; the skipped duplicate login has no series (its twin has).
    assert families["mailcfg_check_success"] == [(outgoing, 1.0), (info, 1.0), (anna, 0.0)]
    assert families["mailcfg_check_duration_seconds"] == [(outgoing, 0.4), (info, 0.25), (anna, 0.25)]
    by_stage = {
        (labels["account"], labels["stage"]): value for labels, value in families["mailcfg_stage_duration_seconds"]}
    # EHLO before and after STARTTLS adds up; a skipped stage has no series.
    assert by_stage[("outgoing", "ehlo")] == pytest.approx(0.04)
    assert ("outgoing", "send") not in by_stage
    assert by_stage[("anna", "auth")] == 0.2
    assert {labels["credentials"] for labels, _ in families["mailcfg_stage_duration_seconds"]} == {"info", "anna"}
    assert all(set(labels) == {"account", "credentials", "protocol", "stage"}
               for labels, _ in families["mailcfg_stage_duration_seconds"])
    # One certificate per server, the earliest notAfter seen; one token per credentials, the earliest expiry.
    assert families["mailcfg_certificate_expiry_timestamp_seconds"] == [
        ({"host": "mail.example.com", "port": "993"}, NOW + 5 * 86400),
        ({"host": "smtp.example.com", "port": "587"}, NOW + 86400)]
    assert families["mailcfg_token_expiry_timestamp_seconds"] == [({"account": "info"}, NOW + 3000)]
    assert families["mailcfg_findings"] == [({"severity": "error"}, 1.0), ({"severity": "warning"}, 1.0),
                                            ({"severity": "info"}, 0.0)]
    assert families["mailcfg_findings_by_rule"] == [({"rule": "MC505"}, 1.0), ({"rule": "MC507"}, 1.0)]
    assert families["mailcfg_run_duration_seconds"] == [({}, 1.5)]


def test_a_check_without_a_login_has_empty_credentials() -> None:
    result = Result(files=(), findings=(), accounts=1, live=(live("relay", "smtp", credentials=None),))
    ((labels, value),) = samples(result)["mailcfg_check_success"]
    assert (labels["credentials"], value) == ("", 1.0)


def test_label_values_are_escaped_and_read_back_exactly() -> None:
    """Ids and hosts passed the schema before a live check runs; the escaping holds whatever a label gets."""
    hostile = 'a"b\\c\nd} 0\nmailcfg_check_success{account="forged"} 1'
    result = Result(files=(), findings=(), accounts=1, live=(
        LiveResult(hostile, "imap", hostile, 993, OK, "auth", "ok", 0.1, credentials=hostile),))
    text = render("prometheus", result, ReportOptions())
    families = prometheus_samples(text)
    ((labels, value),) = families["mailcfg_check_success"]
    assert (labels["account"], labels["host"], labels["credentials"], value) == (hostile, hostile, hostile, 1.0)
    assert "forged" not in {labels["account"] for labels, _ in families["mailcfg_check_success"]}
    # A line break other than LF would end the line for some readers: it becomes a space.
    result = Result(files=(), findings=(), accounts=1, live=(live("x\ry\u2028z"),))
    ((labels, _),) = samples(result)["mailcfg_check_success"]
    assert labels["account"] == "x y z"


def test_a_series_repeated_is_written_once() -> None:
    """node_exporter refuses a whole textfile that repeats a series."""
    result = Result(files=(), findings=(), accounts=1, live=(live("info"), live("info", status=FAILED)))
    assert samples(result)["mailcfg_check_success"] == [
        ({"account": "info", "credentials": "info", "protocol": "imap", "host": "mail.example.com", "port": "993"},
         1.0)]


def test_no_live_family_without_live_checks_and_no_duration_unknown() -> None:
    result = Result(files=(), findings=(finding("MC201", Severity.ERROR),), accounts=1)
    families = samples(result, seconds=None)
    assert set(families) == {"mailcfg_findings", "mailcfg_findings_by_rule", "mailcfg_last_run_timestamp_seconds"}


def test_suppressed_findings_do_not_count() -> None:
    result = Result(files=(), findings=(), accounts=1, suppressed=(finding("MC305", Severity.INFO),))
    families = samples(result)
    assert families["mailcfg_findings"][2] == ({"severity": "info"}, 0.0)
    assert "mailcfg_findings_by_rule" not in families


# --- the file: written atomically ---------------------------------------------------------------------------


def test_the_file_is_replaced_whole_and_keeps_its_mode(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "mailcfg.prom"
    target.write_text("old\n", encoding="utf-8")
    target.chmod(0o640)
    before = target.stat().st_ino
    code, out, err = cli("check", "--no-config", "--format", f"prometheus:{target}", str(EXAMPLE))
    assert (code, out, err) == (0, "", "")
    after = target.stat()
    assert after.st_ino != before  # a new file moved into place, not the old one rewritten
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert "mailcfg_findings" in prometheus_samples(target.read_text(encoding="utf-8"))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mailcfg.prom"]  # no temporary file left


def test_a_new_file_gets_the_umasks_mode_not_mkstemps(cli: Cli, tmp_path: Path) -> None:
    """The collector runs as another user: a 0600 file (mkstemp's mode) would be unreadable to it."""
    target = tmp_path / "new.prom"
    old = os.umask(0o022)
    try:
        code, _, _ = cli("check", "--no-config", "--format", f"prometheus:{target}", str(EXAMPLE))
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_an_unwritable_folder_is_a_usage_error_and_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "missing" / "mailcfg.prom"
    code, _, err = cli("check", "--no-config", "--format", f"prometheus:{target}", str(EXAMPLE))
    assert code == 2
    assert f"--output {target}: No such file or directory" in err
    occupied = tmp_path / "occupied.prom"
    occupied.mkdir()  # os.replace cannot put a file over a directory: the temporary file must go again
    code, _, err = cli("check", "--no-config", "--format", f"prometheus:{occupied}", str(EXAMPLE))
    assert code == 2, err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["occupied.prom"]
    assert list(occupied.iterdir()) == []
