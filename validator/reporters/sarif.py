"""The SARIF 2.1.0 report, the format GitHub code scanning (and most IDE viewers) read.

One run: ``tool.driver`` carries the whole rule table of the registry, so a viewer can show any rule's
documentation; each finding is a result pointing at a repository-relative ``uri`` (under ``%SRCROOT%``,
the current directory) and a 1-based region. Suppressed findings stay in the log as results with
``suppressions``, so code scanning shows them as dismissed rather than forgetting them.

``partialFingerprints`` identify a result across runs by what it is about (rule, file, JSON pointer,
account), never by where it sits: inserting lines above a finding must not open a new alert.

Message texts and justifications are made one printable line each (they may quote a YAML value or a
server reply, and viewers show them to reviewers); no control character stands raw in the log.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from validator import __version__
from validator.finding import Finding, Location, Severity
from validator.reporters import json_text, plain
from validator.rules import RULES

if TYPE_CHECKING:
    from validator.engine import Result
    from validator.reporters import ReportOptions

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/mailcfg/mailcfg"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "mailcfg/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SUPPRESSION_KINDS = {"inline": "inSource", "config": "external", "cli": "external"}
# Code scanning files results of rules tagged "security" as security alerts: the MC3xx secret/TLS rules.
_SECURITY = "MC3"


def render(result: Result, options: ReportOptions) -> str:
    root = Path.cwd()
    rules = _rules(result)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    artifacts = _Artifacts(root)
    for source in result.files:
        artifacts.add(source.name)
    # Active and suppressed findings in one position order, so a result's occurrence number (see
    # `fingerprint`) does not change when a suppression comment is added or removed.
    order = {source.name: position for position, source in enumerate(result.files)}
    everything = sorted(
        (*result.findings, *result.suppressed),
        key=lambda item: (order.get(item.file, len(order)), item.file, item.line, item.column, item.rule, item.message),
    )
    seen: dict[str, int] = {}
    results = [_result(item, index[item.rule], artifacts, seen) for item in everything]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "mailcfg",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(root)}},
        "artifacts": artifacts.table,
        "invocations": [{"executionSuccessful": True}],
        # Columns count characters, as the loader does; SARIF's default would be UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json_text(log)


def relative_path(name: str, root: Path | None = None) -> str | None:
    """``name`` relative to ``root`` (default: the current directory) with ``/`` separators; None outside it."""
    base = root if root is not None else Path.cwd()
    try:
        return Path(os.path.abspath(name)).relative_to(os.path.abspath(base)).as_posix()
    except ValueError:  # outside the directory, or on another drive
        return None


def partial_fingerprint(rule: str, uri: str, pointer: str, account: str | None, occurrence: int = 0) -> str:
    """What a result is about, hashed; ``occurrence`` tells apart results that agree on all the rest."""
    text = "\0".join((rule, uri, pointer, account or ""))
    if occurrence:
        text += f"\0{occurrence}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class _Artifacts:
    """The run's ``artifacts`` table: every file of the run, plus any other file a finding names."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.table: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}

    def add(self, name: str) -> int:
        position = self._index.get(name)
        if position is None:
            position = self._index[name] = len(self.table)
            self.table.append({"location": self.location(name)})
        return position

    def location(self, name: str) -> dict[str, Any]:
        relative = relative_path(name, self.root)
        if relative is None:
            return {"uri": Path(os.path.abspath(name)).as_uri()}
        return {"uri": quote(relative), "uriBaseId": SRCROOT}

    def physical(self, location: Location) -> dict[str, Any]:
        position = self.add(location.file)
        physical: dict[str, Any] = {"artifactLocation": {**self.table[position]["location"], "index": position}}
        if location.line >= 1:
            region: dict[str, int] = {"startLine": location.line}
            if location.column >= 1:
                region["startColumn"] = location.column
            physical["region"] = region
        return physical


def _result(item: Finding, rule_index: int, artifacts: _Artifacts, seen: dict[str, int]) -> dict[str, Any]:
    physical = artifacts.physical(item.location)
    uri = physical["artifactLocation"]["uri"]
    key = partial_fingerprint(item.rule, uri, item.pointer, item.account)
    occurrence = seen.get(key, 0)
    seen[key] = occurrence + 1
    # Viewers show message text to reviewers: one clean line each for the message and the hint.
    text = plain(item.message) if not item.hint else f"{plain(item.message)}\nhint: {plain(item.hint)}"
    out: dict[str, Any] = {
        "ruleId": item.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[item.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": physical}],
        "partialFingerprints": {
            FINGERPRINT: partial_fingerprint(item.rule, uri, item.pointer, item.account, occurrence)
        },
    }
    properties = {"pointer": item.pointer, "account": item.account}
    if any(properties.values()):
        out["properties"] = {name: value for name, value in properties.items() if value}
    if item.suppression is not None:
        suppression: dict[str, Any] = {"kind": _SUPPRESSION_KINDS.get(item.suppression.kind, "external")}
        if item.suppression.reason:
            suppression["justification"] = plain(item.suppression.reason)
        if item.suppression.location is not None:
            suppression["location"] = {"physicalLocation": artifacts.physical(item.suppression.location)}
        out["suppressions"] = [suppression]
    return out


def _rules(result: Result) -> list[dict[str, Any]]:
    rules = [_descriptor(rule.id, rule.title, rule.doc, rule.severity) for rule in RULES.values()]
    # A finding of a rule the registry lacks (a live check, a plug-in) still needs a descriptor to index.
    known = set(RULES)
    for item in (*result.findings, *result.suppressed):
        if item.rule not in known:
            known.add(item.rule)
            rules.append(_descriptor(item.rule, item.rule, "", item.severity))
    return rules


def _descriptor(rule_id: str, title: str, doc: str, severity: Severity) -> dict[str, Any]:
    summary = doc.split("\n\n", 1)[0].replace("\n", " ").strip() or title
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": summary},
        "help": {"text": doc or title, "markdown": doc or title},
        "defaultConfiguration": {"level": LEVELS[severity]},
    }
    if rule_id.startswith(_SECURITY):
        descriptor["properties"] = {"tags": ["security"]}
    return descriptor


def _directory_uri(root: Path) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"
