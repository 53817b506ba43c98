"""Hostile text (a pull request's YAML, a server's reply) can neither forge output nor hide in it.

A value holding a line break, a terminal escape or a bidirectional override is MC104, located at the value
and described by its code point, never echoed. Whatever a finding's message holds, no report has a line
that starts with ``::`` other than mailcfg's own GitHub annotations, and no raw control character except
the line breaks the report itself writes.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from validator import accounts, engine, loader, schema
from validator.cli import main
from validator.finding import Finding, Location, Severity, Suppression
from validator.live.result import LiveResult
from validator.model import CONTROL_CHARACTERS
from validator.outcome import Result
from validator.reporters import ReportOptions, render
from validator.reporters.github import job_summary
from validator.sanitize import has_control

FORMATS = ("text", "github", "junit", "sarif", "json")
FORGED = "::error file=x"
# An id that would forge a command and colour the terminal if any report printed it raw.
BAD_ID = r"dup\u2028::error file=x::pwned\x1b[31m\x07"
HOSTILE = rf"""version: 1
users:
  - id: "anna\n"
    name: "Anna \u202Eevil"
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: starttls
    test_recipient: it@example.com
    credentials:
      username: "mailer\x1b]0;title\x07@example.com"
      password: {{env: SMTP_PASSWORD}}
      contact: IT desk
  - id: "{BAD_ID}"
    host: smtp2.example.com
    encryption: ssl
  - id: "{BAD_ID}"
    host: smtp3.example.com
    encryption: ssl
imap:
  - id: info
    scope: system
    address: info@example.com
    host: imap.example.com
    encryption: ssl
    outgoing: outgoing
    sent_folder: "Sent\r\n::error file=x::pwned"
    credentials:
      username: info@example.com
      password: {{env: IMAP_INFO_PASSWORD}}
      contact: IT desk
"""
# What a hostile server might answer, and what a finding quoting it would then hold.
SERVER_REPLY = "\n::error file=a::b\x1b[31m"
OWN_COMMAND = re.compile(r"::(error|warning|notice) file=[^,:]*,line=\d+,col=\d+,title=MC\d{3}::")


def value_at(source: str, marker: str) -> tuple[int, int]:
    """1-based (line, column) of the quoted value on the first line holding ``marker``."""
    for number, line in enumerate(source.splitlines(), start=1):
        if marker in line:
            return number, line.index('"') + 1
    raise AssertionError(marker)


def assert_clean(output: str, fmt: str) -> None:
    """No forged command, no raw control character but the report's own line breaks."""
    raw = sorted({f"U+{ord(c):04X}" for c in output if has_control(c) and c != "\n"})
    assert raw == [], f"{fmt}: raw control characters {raw}"
    for line in output.splitlines():
        assert not line.lstrip().startswith(FORGED), f"{fmt}: forged command {line!r}"
        if line.lstrip().startswith("::"):
            assert fmt == "github", f"{fmt}: a line poses as a workflow command: {line!r}"
            assert OWN_COMMAND.match(line), f"not one of mailcfg's annotations: {line!r}"


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    path = tmp_path / "accounts.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ MC104 at the value


@pytest.mark.parametrize(
    ("marker", "code"),
    [
        ('sent_folder: "Sent', "U+000D"),
        ('username: "mailer', "U+001B"),
        ('name: "Anna', "U+202E"),
        ('id: "anna', "U+000A"),
        ('id: "dup', "U+2028"),
    ],
)
def test_control_character_is_mc104_at_the_value(hostile: Path, marker: str, code: str) -> None:
    result = engine.run(engine.CheckOptions(paths=(str(hostile),)))
    line, column = value_at(HOSTILE, marker)
    found = [f for f in result.findings if f.rule == "MC104" and (f.line, f.column) == (line, column)]
    assert len(found) == 1, [(f.rule, f.line, f.column, f.message) for f in result.findings]
    assert found[0].message.endswith(f"contains a control character ({code})")
    assert found[0].severity is Severity.ERROR
    assert found[0].hint


def test_no_finding_repeats_a_hostile_value(hostile: Path) -> None:
    result = engine.run(engine.CheckOptions(paths=(str(hostile),)))
    for item in result.findings:
        for text in (item.message, item.hint or "", item.account or ""):
            assert not has_control(text), item
            assert "pwned" not in text, item
            assert "title" not in text, item
    # The ids that hold control characters name nothing: no duplicate-id finding repeats them.
    assert not [f for f in result.findings if f.rule == "MC202"]


@pytest.mark.parametrize("code", sorted({ord(c) for c in map(chr, range(0x10000)) if has_control(c)}))
def test_fast_path_and_jsonschema_agree_on_every_control_character(code: int) -> None:
    # Each character the reports strip is refused by the schema's patterns on both paths, also at the end
    # of a value, where Python's `$` (but not ECMAScript's or Rust's) would let a "\n" through.
    value = f"a{chr(code)}"
    data = {"version": 1, "users": [{"id": "anna", "name": value}], "smtp": [], "imap": []}
    document = loader.load_bytes(json.dumps(data).encode(), "one.json").documents[0]
    _, fast = accounts.prevalidate(document)
    assert ("users", 0) not in fast
    found, invalid = schema.check_document(document)
    assert [(f.rule, f.pointer) for f in found] == [("MC104", "/users/0/name")]
    assert found[0].message.endswith(f"(U+{code:04X})")
    assert invalid == {("users", 0): {"name"}}


def test_schema_forbids_exactly_what_the_reports_strip() -> None:
    forbidden = re.compile(f"[{CONTROL_CHARACTERS}]")
    differ = [hex(code) for code in range(0x110000) if bool(forbidden.match(chr(code))) != has_control(chr(code))]
    assert differ == []


def test_every_free_string_of_the_schema_has_the_pattern() -> None:
    loaded = schema.load_schema()
    strings = {
        f"{name}.{key}": node
        for name, definition in loaded["$defs"].items()
        for key, node in definition["properties"].items()
        if node.get("type") == "string" and "enum" not in node
    }
    assert {"Imap.sent_folder", "Credentials.username", "User.name", "Imap.id", "Smtp.host"} <= set(strings)
    for where, node in strings.items():
        assert "pattern" in node, where
        assert re.search(node["pattern"], "a\x1b") is None, where


# ------------------------------------------------------------------------------ every format, whole run


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_format_carries_a_forged_command_or_a_raw_control(
    hostile: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", str(hostile), "--no-config", "--format", fmt])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err == ""
    assert_clean(captured.out, fmt)


def test_github_run_prints_only_mailcfgs_own_commands(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["check", str(hostile), "--no-config", "--format", "github"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("mailcfg: ")
    assert all(OWN_COMMAND.match(line) for line in lines[:-1]), lines
    assert len(lines) > 5


# ------------------------------------------------------------------------------ each reporter, one finding


def hostile_result() -> Result:
    """One finding and one live result quoting a hostile server, one suppressed finding quoting the YAML."""
    item = Finding(
        "MC507",
        Severity.ERROR,
        f"authentication rejected: {SERVER_REPLY}",
        Location("accounts.yaml", 3, 5, "/imap/0"),
        hint=f"the server said\u2028{SERVER_REPLY}\x07",
        account="info",
    )
    suppressed = Finding(
        "MC305",
        Severity.INFO,
        "nobody is named",
        Location("accounts.yaml", 4, 5, "/imap/0/credentials"),
        account="info",
        suppression=Suppression("inline", f"because{SERVER_REPLY}\x9b31m"),
    )
    live = LiveResult(
        account="info",
        protocol="imap",
        host="imap.example.com",
        port=993,
        status="failed",
        stage="auth",
        message=f"rejected{SERVER_REPLY}",
        seconds=0.1,
    )
    return Result(files=(), findings=(item,), accounts=1, suppressed=(suppressed,), live=(live,))


@pytest.mark.parametrize("fmt", FORMATS)
def test_reporter_fed_a_hostile_message(fmt: str) -> None:
    output = render(fmt, hostile_result(), ReportOptions(strict=True))
    assert_clean(output, fmt)
    assert "::error file=a::b" in output  # the reply is shown, made harmless, not dropped


def test_json_keeps_the_message_exact() -> None:
    # Structured output is for programs: the value survives, only its escaping differs.
    document = json.loads(render("json", hostile_result(), ReportOptions()))
    assert document["findings"][0]["message"] == f"authentication rejected: {SERVER_REPLY}"
    assert document["live"][0]["message"] == f"rejected{SERVER_REPLY}"


def test_sarif_message_is_one_clean_line_plus_the_hint() -> None:
    log = json.loads(render("sarif", hostile_result(), ReportOptions()))
    text = log["runs"][0]["results"][0]["message"]["text"]
    message, hint = text.split("\nhint: ")
    assert not has_control(message)
    assert not has_control(hint)
    assert "::error file=a::b" in message


def test_junit_is_well_formed_and_shows_the_escapes() -> None:
    root = ET.fromstring(render("junit", hostile_result(), ReportOptions()))
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None
    assert failure.text is not None
    assert "authentication rejected: \\x0a::error file=a::b\\x1b[31m" in failure.text
    assert failure.get("message") == "authentication rejected: "  # the first line
    out = root.find("./testsuite/testcase/system-out")
    assert out is not None
    assert out.text is not None
    assert "because\\x0a::error file=a::b\\x1b[31m\\x9b31m" in out.text


def test_github_annotation_keeps_line_breaks_escaped_and_drops_the_escape() -> None:
    output = render("github", hostile_result(), ReportOptions())
    [annotation] = [line for line in output.splitlines() if line.startswith("::")]
    assert annotation.endswith(
        "::authentication rejected: %0A::error file=a::b\ufffd[31m"
        "%0Ahint: the server said %0A::error file=a::b\ufffd[31m\ufffd"
    )


def test_text_report_has_one_line_per_piece() -> None:
    lines = render("text", hostile_result(), ReportOptions()).splitlines()
    assert "      auth: rejected ::error file=a::b\ufffd[31m" in lines
    assert "accounts.yaml:3:5: error[MC507] authentication rejected:  ::error file=a::b\ufffd[31m" in lines


def test_step_summary_is_clean_markdown() -> None:
    result = Result(
        files=(),
        findings=(
            Finding("MC102", Severity.ERROR, f"key ![x](https://t.example/p.png){SERVER_REPLY}", Location("a", 1, 1)),
        ),
        accounts=1,
    )
    summary = job_summary(result)
    assert_clean(summary, "markdown")
    row = next(line for line in summary.splitlines() if line.startswith("| MC102"))
    assert "\\!\\[x\\](https://t.example/p.png) ::error file=a::b\ufffd\\[31m" in row


def test_a_file_named_like_a_command_is_no_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    item = Finding("MC001", Severity.ERROR, "m", Location("::error file=x::pwned\x1b.yaml", 1, 1))
    result = Result(files=(), findings=(item,), accounts=0)
    for fmt in FORMATS:
        assert_clean(render(fmt, result, ReportOptions()), fmt)


# ------------------------------------------------------------------------------ the source line


def test_snippet_replaces_controls_and_keeps_the_caret_under_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Raw tab and U+202E are legal inside a quoted YAML scalar; the bad id sits after them on the line.
    entry = '  - {name: "\t\u202eA\u2066", id: Bad Id}'
    path = tmp_path / "accounts.yaml"
    path.write_text(f"version: 1\nusers:\n{entry}\n", encoding="utf-8")
    main(["check", str(path), "--no-config"])
    out = capsys.readouterr().out
    assert_clean(out, "text")
    lines = out.splitlines()
    gutter = len("    3 | ")
    shown = [index for index, line in enumerate(lines) if line.startswith("    3 | ")]
    assert [lines[index][gutter:] for index in shown] == ['  - {name: " \ufffdA\ufffd", id: Bad Id}'] * 2
    carets = [lines[index + 1].index("^") - gutter for index in shown]
    assert carets == [entry.index('"'), entry.index("Bad Id")]
