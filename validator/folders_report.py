"""The reports of `mailcfg folders`: each imap account's folders, as text or as a small JSON object.

Both return strings and never print. Folder names and flags come from a server and arrive scrubbed of every
secret the check knew (validator/live/folders.py); the text report makes each one printable line, the JSON report
keeps them exact with every control character escaped. The findings (a failed login, a withheld account, static
errors) are the text and JSON reports' own.

JSON (``--format json``)::

    {
      "tool": {"name": "mailcfg", "version": "…"},
      "accounts": [
        {"id": "info", "host": "imap.example.com", "port": 993, "status": "ok", "message": "all stages passed",
         "sent_folder": "Sent", "server_sent": ["Sent"], "cut": 0, "listed_by": null,
         "folders": [{"name": "Sent", "flags": ["\\HasNoChildren", "\\Sent"], "special_use": "\\Sent",
                      "sent_folder": true}, …],
         "error": null}
      ],
      "findings": [{"rule": "MC507", "severity": "error", "message": "…", "hint": "…", "file": "…", "line": 3,
                    "column": 3, "pointer": "/imap/0/credentials", "account": "ben"}],
      "summary": {"files": 1, "accounts": 2, "errors": 1, "warnings": 0, "infos": 0}
    }

``error`` is null, or ``{"stage", "rule", "message"}`` when the account could not be listed (``folders`` is then
empty); ``server_sent`` lists the folders the server flags ``\\Sent``; ``listed_by`` names the account whose
identical login listed the folders (each login is made once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from validator import __version__
from validator.finding import Finding, Severity
from validator.reporters import ReportOptions, json_text, plain, render
from validator.reporters.json import finding_json, summary_json
from validator.sanitize import report_line

if TYPE_CHECKING:
    from validator.live.folders import Listing
    from validator.live.result import LiveResult
    from validator.outcome import Result

_MARKS = {"ok": "✓", "warning": "!", "failed": "✗"}
_TINTS = {"ok": "\x1b[32m", "warning": "\x1b[33m", "failed": "\x1b[31m"}
_RESET = "\x1b[0m"
# Names wider than this do not widen the column of flags.
_NAME_COLUMN = 32


def render_text(result: Result, listings: Mapping[str, Listing], color: bool = False) -> str:
    """Each account's folders, then the findings and the summary line of the text report."""
    out: list[str] = []
    for live in result.live:
        out.extend(_account_text(live, listings.get(live.account), color))
        out.append("")
    # The findings and the summary line as `check` and `verify` print them; the accounts' lines are the ones above.
    report = render("text", replace(result, live=()), ReportOptions(color=color))
    return "\n".join(map(report_line, out)) + ("\n" if out else "") + report


def _account_text(live: LiveResult, listing: Listing | None, color: bool) -> list[str]:
    mark = _MARKS.get(live.status, "-")
    where = f"{live.protocol} {plain(live.account)}  {plain(live.host)}:{live.port}"
    if listing is None:
        head = f"{mark} {where}  {plain(live.stage)}: {plain(live.message)}"
        return [f"{_TINTS.get(live.status, '')}{head}{_RESET}" if color else head]
    count = f"{len(listing.folders) + listing.cut} folder{'s' if len(listing.folders) + listing.cut != 1 else ''}"
    via = f" (listed with the same login as '{plain(listing.listed_by)}')" if listing.listed_by else ""
    head = f"{mark} {where}  {count}{via}"
    lines = [f"{_TINTS.get(live.status, '')}{head}{_RESET}" if color else head]
    if live.status == "warning":
        lines.append(f"      {plain(live.stage)}: {plain(live.message)}")
    names = [plain(folder.name) for folder in listing.folders]
    width = min(max((len(name) for name in names), default=0), _NAME_COLUMN)
    for folder, name in zip(listing.folders, names, strict=True):
        notes = [folder.special_use or ""]
        if not folder.selectable:
            notes.append("(holds no mail)")
        if folder.name == listing.sent_folder:
            notes.append("<- sent_folder")
        line = f"    {name:<{width}}  {' '.join(note for note in notes if note)}".rstrip()
        lines.append(line)
    if listing.cut:
        lines.append(f"    … {listing.cut:,} more folders not shown")
    lines.append(f"    {_sent_verdict(listing)}")
    return lines


def _sent_verdict(listing: Listing) -> str:
    """What the configured `sent_folder` and the server's ``\\Sent`` folder say together."""
    configured = plain(listing.sent_folder)
    flagged = [plain(name) for name in listing.server_sent]
    server = " and ".join(f"'{name}'" for name in flagged)
    if not listing.sent_folder_exists:
        fix = f": `sent_folder: {flagged[0]}`" if len(flagged) == 1 else ""
        where = f"; the server flags {server} \\Sent{fix}" if flagged else "; the server flags no folder \\Sent"
        return f"sent_folder '{configured}' does not exist here{where}"
    if not flagged:
        return f"sent_folder '{configured}' exists; the server flags no folder \\Sent"
    if listing.sent_folder in listing.server_sent:
        return f"sent_folder '{configured}' is the folder the server flags \\Sent"
    return f"sent_folder '{configured}' differs from the folder the server flags \\Sent: {server}"


def render_json(result: Result, listings: Mapping[str, Listing]) -> str:
    """The JSON object described in the module docstring."""
    summary = result.summary
    document: dict[str, Any] = {
        "tool": {"name": "mailcfg", "version": __version__},
        "accounts": [_account_json(live, listings.get(live.account), result.findings) for live in result.live],
        "findings": [finding_json(item) for item in result.findings],
        "interrupted": result.interrupted,
        "summary": summary_json(summary),
    }
    return json_text(document)


def _account_json(live: LiveResult, listing: Listing | None, findings: tuple[Finding, ...]) -> dict[str, Any]:
    failed = next(
        (item for item in findings if item.account == live.account and item.severity is Severity.ERROR), None
    )
    error = (
        {"stage": live.stage, "rule": failed.rule if failed else None, "message": live.message}
        if live.status == "failed"
        else None
    )
    sent = listing.sent_folder if listing is not None else None
    return {
        "id": live.account,
        "host": live.host,
        "port": live.port,
        "status": live.status,
        "message": live.message,
        "sent_folder": sent,
        "server_sent": list(listing.server_sent) if listing is not None else [],
        "cut": listing.cut if listing is not None else 0,
        "listed_by": (listing.listed_by or None) if listing is not None else None,
        "folders": [
            {
                "name": folder.name,
                "flags": list(folder.flags),
                "special_use": folder.special_use,
                "sent_folder": folder.name == sent,
            }
            for folder in (listing.folders if listing is not None else ())
        ],
        "error": error,
    }
