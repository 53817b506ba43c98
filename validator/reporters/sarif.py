"""The SARIF 2.1.0 report, the format GitHub code scanning (and most IDE viewers) read.

One run: ``tool.driver`` carries the whole rule table of the registry, so a viewer can show any rule's
documentation; each finding is a result pointing at a repository-relative ``uri`` (under ``%SRCROOT%``,
the repository root: the nearest directory from the current one upward that holds ``.git``, else the
current directory) and a 1-based region that ends where the token at the finding ends. GitHub code
scanning ignores ``originalUriBaseIds`` and resolves a ``uri`` against the repository root, so a run from
``accounts/`` must still say ``accounts/a.yaml``. Suppressed findings stay in the log as results with
``suppressions``, so code scanning shows them as dismissed rather than forgetting them.

GitHub rejects a run with more than 25,000 results: a larger run keeps the most severe (active findings
before suppressed ones, then errors, warnings, notes; file order among equals), writes them in the usual
order, and says in the invocation's ``toolExecutionNotifications`` how many were left out (the text report
says it too). An interrupted ``verify`` is an invocation with ``executionSuccessful: false``.

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
from validator.loader import LINE_BREAKS, SECRET_VALUE
from validator.outcome import order_key
from validator.registry import RULES
from validator.reporters import json_text, plain

if TYPE_CHECKING:
    from validator.loader import SourceFile
    from validator.outcome import Result
    from validator.reporters import ReportOptions

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/mailcfg/mailcfg"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "mailcfg/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_SUPPRESSION_KINDS = {"inline": "inSource", "config": "external", "cli": "external"}
# GitHub code scanning rejects a run with more results than this.
MAX_RESULTS = 25_000
# Code scanning files the results of rules tagged "security" as security alerts, rated by this score (GitHub:
# 9.0 and up critical, 7.0 high, 4.0 medium, below low). MC301: a usable password in the repository, readable by
# everyone who can read it and kept in its history: high. MC302: a password sent in cleartext, readable by
# whoever is on the network path: high, a little lower as it takes a place on that path. MC303: one password
# behind several logins, so one leak opens them all, though nothing leaks by itself: medium. The other MC3xx
# rules (unused credentials, a missing contact, an unset variable) are upkeep, not security alerts.
SECURITY_SEVERITY = {"MC301": "8.0", "MC302": "7.0", "MC303": "5.0"}
# Longer lines get one-character regions: measuring a token costs up to the line's length per finding, and a
# hostile file can put 100,000 findings on one line of megabytes.
MEASURED_LINE = 4096


def render(result: Result, options: ReportOptions) -> str:
    root = repository_root()
    rules = _rules(result)
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    artifacts = _Artifacts(root, result.files)
    for source in result.files:
        artifacts.add(source.name)
    # Active and suppressed findings in one position order, so a result's occurrence number (see
    # `fingerprint`) does not change when a suppression comment is added or removed, nor when the cap
    # leaves some results out.
    order = {source.name: position for position, source in enumerate(result.files)}
    everything = sorted(
        (*result.findings, *result.suppressed),
        key=lambda item: order_key(order, item),
    )
    numbers = _occurrences(everything, artifacts)
    kept = _kept(everything)
    results = [_result(everything[i], index[everything[i].rule], artifacts, numbers[i]) for i in kept]
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
        "invocations": [_invocation(result, len(everything) - len(kept))],
        # Columns count characters, as the loader does; SARIF's default would be UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json_text(log)


def repository_root(start: Path | None = None) -> Path:
    """The nearest directory from ``start`` (default: the current directory) upward that holds ``.git``.

    ``.git`` may be a directory or, in a worktree or submodule, a file. Outside a repository: ``start``.
    """
    here = Path(os.path.abspath(start if start is not None else Path.cwd()))
    for directory in (here, *here.parents):
        if os.path.exists(directory / ".git"):  # unlike Path.exists, False on any error (EACCES)
            return directory
    return here


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


def _kept(items: list[Finding]) -> list[int]:
    """The positions in ``items`` of the results to write: all, or the :data:`MAX_RESULTS` most severe."""
    if len(items) <= MAX_RESULTS:
        return list(range(len(items)))
    # Dismissed (suppressed) results matter least to a reviewer; `sorted` is stable, so file order decides ties.
    ranked = sorted(range(len(items)), key=lambda i: (items[i].suppression is not None, items[i].severity.rank))
    return sorted(ranked[:MAX_RESULTS])


def _invocation(result: Result, left_out: int) -> dict[str, Any]:
    """Whether the run did all it set out to do, and why not."""
    notes: list[dict[str, Any]] = []
    if result.interrupted:
        text = f"verify was interrupted; {len(result.live)} checks had finished"
        notes.append({"level": "error", "message": {"text": text}})
    if left_out:
        total = MAX_RESULTS + left_out
        text = (
            f"{total:,} results, {MAX_RESULTS:,} written: GitHub code scanning takes at most {MAX_RESULTS:,} a run,"
            f" so the {left_out:,} least severe were left out"
        )
        notes.append({"level": "warning", "message": {"text": text}})
    invocation: dict[str, Any] = {"executionSuccessful": not result.interrupted}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return invocation


def _occurrences(items: list[Finding], artifacts: _Artifacts) -> list[int]:
    """For each item, how many earlier items agree with it on everything a fingerprint hashes."""
    seen: dict[str, int] = {}
    out = []
    for item in items:
        key = partial_fingerprint(item.rule, artifacts.uri(item.file), item.pointer, item.account)
        out.append(seen.get(key, 0))
        seen[key] = out[-1] + 1
    return out


def token_end(text: str, start: int) -> int:
    """The 0-based, exclusive end of the YAML token at 0-based ``start`` of the line ``text``; ``start + 1``
    when there is none (past the end, a blank).

    A quoted scalar or a flow collection ends at its closing character (the end of the line if it goes on),
    a comment at the end of the line, a plain scalar or key before ``: ``, `` #``, the line's end, and inside
    a flow collection before ``,``, ``]`` or ``}``. Only for a region's end: an error here only widens or narrows
    a highlight.
    """
    if start >= len(text) or text[start] in " \t":
        return start + 1
    first, line_end = text[start], len(text.rstrip())
    if first == "#":
        return line_end
    if first in "\"'":
        return _quoted_end(text, start) or line_end
    if first in "{[":
        return _flow_end(text, start) or line_end
    in_flow = sum(text.count(c, 0, start) for c in "{[") > sum(text.count(c, 0, start) for c in "}]")
    stops = ",]}" if in_flow else ""
    end = start
    while end < len(text):
        char = text[end]
        if char == ":" and (end + 1 == len(text) or text[end + 1] in " \t"):
            break
        if char in stops or (char == "#" and text[end - 1] in " \t"):
            break
        end += 1
    end = start + len(text[start:end].rstrip())
    return end if end > start else start + 1


def _quoted_end(text: str, start: int) -> int | None:
    """The end just after the closing quote of the scalar quoted at ``start``; None when it is not on this line."""
    quote, index = text[start], start + 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1 : index + 2] == "'":  # '' is a quote inside single quotes
                index += 2
                continue
            return index + 1
        index += 1
    return None


def _flow_end(text: str, start: int) -> int | None:
    """The end just after the bracket closing the flow collection at ``start``; None when not on this line."""
    depth, index = 0, start
    while index < len(text):
        char = text[index]
        if char in "\"'":
            closing = _quoted_end(text, index)
            if closing is None:
                return None
            index = closing
            continue
        depth += char in "{["
        depth -= char in "}]"
        if depth == 0:
            return index + 1
        index += 1
    return None


class _Artifacts:
    """The run's ``artifacts`` table: every file of the run, plus any other file a finding names."""

    def __init__(self, root: Path, sources: tuple[SourceFile, ...] = ()) -> None:
        self.root = root
        self.table: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._sources = {source.name: source for source in sources}
        self._lines: dict[str, list[str]] = {}
        self._secrets: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self._uris: dict[str, str] = {}

    def uri(self, name: str) -> str:
        uri = self._uris.get(name)
        if uri is None:
            uri = self._uris[name] = self.location(name)["uri"]
        return uri

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
            region["endLine"] = location.line  # a token never spans lines here (see `token_end`)
            if location.column >= 1:
                region["endColumn"] = self.end_column(location)
            physical["region"] = region
        return physical

    def end_column(self, location: Location) -> int:
        """The 1-based, exclusive end column of the token at ``location``; one character when it is unknown.

        A secret is never measured: where the token touches a masked span or follows a password-like key, the
        region is one character, so its end cannot tell the secret's length.
        """
        start = location.column - 1
        fallback = location.column + 1
        source = self._sources.get(location.file)
        if source is None or not source.text:
            return fallback
        lines = self._lines.get(source.name)
        if lines is None:
            lines = self._lines[source.name] = LINE_BREAKS.split(source.text)
        if location.line > len(lines) or len(lines[location.line - 1]) > MEASURED_LINE:
            return fallback
        text = lines[location.line - 1]
        end = token_end(text, start)
        secrets = self._secrets.get((source.name, location.line))
        if secrets is None:
            secrets = self._secrets[(source.name, location.line)] = _secret_spans(text, location.line - 1, source)
        if any(low < end and start < high for low, high in secrets):
            return fallback
        return end + 1


def _secret_spans(text: str, line: int, source: SourceFile) -> list[tuple[int, int]]:
    """The 0-based column spans of ``text``, line ``line`` (0-based) of ``source``, that hold a secret."""
    spans = [
        (start_col if start_line == line else 0, end_col if end_line == line else len(text))
        for start_line, start_col, end_line, end_col in source.masks
        if start_line <= line <= end_line
    ]
    return spans + [match.span(2) for match in SECRET_VALUE.finditer(text)]


def _result(item: Finding, rule_index: int, artifacts: _Artifacts, occurrence: int) -> dict[str, Any]:
    physical = artifacts.physical(item.location)
    uri = physical["artifactLocation"]["uri"]
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
    if rule_id in SECURITY_SEVERITY:
        descriptor["properties"] = {"tags": ["security"], "security-severity": SECURITY_SEVERITY[rule_id]}
    return descriptor


def _directory_uri(root: Path) -> str:
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"
