"""The JUnit XML report, for CI systems that show test results (GitLab, Jenkins, Azure DevOps).

Why one testcase per account: those systems show a report as a table of tests, one row each, and track
each row across pipelines. An account is the unit a reader thinks in ("is the info mailbox right?"), as a
unit test is for code, so each file is a testsuite and each smtp/imap entry in it a testcase named
``smtp outgoing`` or ``imap info``; clean accounts are passing testcases, so the table lists the whole set
and a fixed account shows up as a test that passes again. Findings that belong to no account (a syntax
error, a missing ``version``) go to one testcase per file named after the file.

Errors are ``<failure>`` elements (warnings too with ``--strict``) listing the failing findings; the other
findings, and suppressed ones, are listed once in ``<system-out>``. An interrupted ``verify`` adds a testsuite
``mailcfg verify`` whose one testcase is an ``<error>``: a run that was stopped must not read as passed.

The XML fits Jenkins' junit-10.xsd (xunit plugin), the strictest schema in use: no ``skipped`` on
``<testsuites>``, no ``file`` on ``<testcase>`` (the file is the classname, as it is the suite's name).

The XML is built with ElementTree, which escapes every value. Characters XML 1.0 cannot carry at all, and
control characters in text from outside (a message quoting the YAML or a server, a file name, a suppression
reason), are written as ``\\xNN`` or ``\\uNNNN``; each line of a failure's text passes
:func:`~validator.sanitize.report_line`, so a report printed in a CI log can neither rewrite the terminal nor
pose as a GitHub workflow command.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.plain import CONTROL_CHARACTERS
from validator.sanitize import has_control, report_line

if TYPE_CHECKING:
    from validator.loader import SourceFile
    from validator.outcome import Result
    from validator.reporters import ReportOptions

# The sections whose entries are accounts, each a testcase: loader.SECTIONS without `users`.
SECTIONS = ("smtp", "imap")
# The suite (and classname) of the error an interrupted `verify` adds.
INTERRUPTED = "mailcfg verify"
# Everything XML 1.0 allows; the rest (control characters, lone surrogates) cannot be escaped in XML.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The above and every control character, line breaks included: what may not stand raw in one line of text.
_NOT_PLAIN = re.compile(f"{_NOT_XML.pattern}|[{CONTROL_CHARACTERS}]")


@dataclass
class _Case:
    name: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)


@dataclass
class _Suite:
    """The testcases of one file: the file itself first, then its accounts in file order."""

    name: str
    cases: dict[tuple[str, str] | None, _Case] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cases[None] = _Case(self.name)

    def add_account(self, section: str, account: str) -> None:
        self.cases.setdefault((section, account), _Case(f"{section} {account}"))

    def case_of(self, item: Finding) -> _Case:
        if item.account:
            section = _section(item)
            if section in SECTIONS:
                return self.cases[(section, item.account)]
            if not section:  # no pointer to tell the section: an account of that id in this file
                for key, case in self.cases.items():
                    if key is not None and key[1] == item.account:
                        return case
        return self.cases[None]


def _section(item: Finding) -> str:
    """``imap`` for a finding at ``/imap/0/…``; empty when the pointer names no entry."""
    parts = item.pointer.split("/")
    return parts[1] if len(parts) > 2 else ""


def render(result: Result, options: ReportOptions) -> str:
    failing = {Severity.ERROR, Severity.WARNING} if options.strict else {Severity.ERROR}
    suites = _suites(result)
    root = ET.Element("testsuites", name="mailcfg")
    total_tests = total_failures = total_errors = 0
    for suite in suites.values():
        element = ET.SubElement(root, "testsuite", name=_line(suite.name))
        failures = 0
        for case in suite.cases.values():
            failures += _testcase(element, suite.name, case, failing)
        tests = len(suite.cases)
        element.attrib.update(tests=str(tests), failures=str(failures), errors="0", skipped="0")
        total_tests += tests
        total_failures += failures
    if result.interrupted:
        _interrupted(root, len(result.live))
        total_tests += 1
        total_errors += 1
    # junit-10.xsd allows no `skipped` here (only on <testsuite>).
    root.attrib.update(tests=str(total_tests), failures=str(total_failures), errors=str(total_errors))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _suites(result: Result) -> dict[str, _Suite]:
    suites: dict[str, _Suite] = {}
    for source in result.files:
        suite = suites[source.name] = _Suite(source.name)
        for section, account in _accounts(source):
            suite.add_account(section, account)
    # Accounts the files do not list (their document could not be read whole) but findings name.
    for item in (*result.findings, *result.suppressed):
        if item.account and _section(item) in SECTIONS:
            _suite(suites, item.file).add_account(_section(item), item.account)
    for item in result.findings:
        _suite(suites, item.file).case_of(item).findings.append(item)
    for item in result.suppressed:
        _suite(suites, item.file).case_of(item).suppressed.append(item)
    return suites


def _suite(suites: dict[str, _Suite], name: str) -> _Suite:
    # A finding may name a file that is not an account file (the configuration file).
    suite = suites.get(name)
    if suite is None:
        suite = suites[name] = _Suite(name)
    return suite


def _accounts(source: SourceFile) -> list[tuple[str, str]]:
    """(section, id) of every smtp and imap entry of ``source`` that has a usable string id, in file order."""
    found: list[tuple[str, str]] = []
    for document in source.documents:
        data = document.data
        if not isinstance(data, dict):
            continue
        for section in SECTIONS:
            entries = data.get(section)
            if isinstance(entries, list):
                # An id holding a control character is an MC104 of the file, not a testcase of its own.
                found.extend(
                    (section, entry["id"])
                    for entry in entries
                    if isinstance(entry, dict) and isinstance(entry.get("id"), str) and not has_control(entry["id"])
                )
    return found


def _interrupted(root: ET.Element, finished: int) -> None:
    """The testsuite of an interrupted ``verify``: one testcase in error, saying how far the run got."""
    suite = ET.SubElement(root, "testsuite", name=INTERRUPTED, tests="1", failures="0", errors="1", skipped="0")
    case = ET.SubElement(suite, "testcase", classname=INTERRUPTED, name="verify")
    message = f"verify was interrupted; {finished} checks had finished"
    ET.SubElement(case, "error", message=message, type="interrupted").text = (
        f"{message}: the checks that had not finished verified nothing, so this run proves nothing about them"
    )


def _testcase(parent: ET.Element, file: str, case: _Case, failing: set[Severity]) -> int:
    """Add one testcase; 1 when it fails, else 0."""
    element = ET.SubElement(parent, "testcase", classname=_line(file), name=_line(case.name))
    failures = [item for item in case.findings if item.severity in failing]
    if failures:
        first = failures[0]
        # The first line that says something: a hostile message may start with a line break.
        message = next((line for line in first.message.splitlines() if line.strip()), first.rule)
        message = _line(message)
        if len(failures) > 1:
            message += f" (and {len(failures) - 1} more)"
        failure = ET.SubElement(element, "failure", message=message, type=first.rule)
        # Only what fails; the rest is in <system-out>, so no finding is listed twice.
        failure.text = _lines(_describe(item) for item in failures)
    others = [_describe(item) for item in case.findings if item.severity not in failing]
    others += [_describe(item) for item in case.suppressed]
    if others:
        ET.SubElement(element, "system-out").text = _lines(others)
    return 1 if failures else 0


def _describe(item: Finding) -> str:
    """The finding in a few lines; every piece from outside is one line of its own (see :func:`_line`)."""
    text = f"{_line(str(item.location))}: {item.severity.value}[{item.rule}] {_line(item.message)}"
    if item.hint:
        text += f"\n    hint: {_line(item.hint)}"
    if item.suppression is not None:
        reason = f": {_line(item.suppression.reason)}" if item.suppression.reason else ""
        text += f"\n    suppressed ({item.suppression.kind}{reason})"
    return text


def _lines(texts: Iterable[str]) -> str:
    """Texts made by :func:`_describe`, joined; no line may pose as a workflow command."""
    return "\n".join(report_line(line) for text in texts for line in text.split("\n"))


def _line(text: str) -> str:
    """Outside text as one line of printable XML: controls, line breaks included, become visible escapes."""
    return _NOT_PLAIN.sub(_escaped, text)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
