"""The reports of `mailcfg secrets`: the hand-off sheet (:mod:`validator.handoff`) as text, JSON or markdown.

Each returns a string and never prints. No secret value is in the sheet to begin with: references, usernames,
contacts and whether a variable is set. Those strings come from the YAML, so the text report makes each one
printable line (cut to a column's width), the JSON report keeps them exact with every control character escaped,
and the markdown report (for a pull-request comment or a wiki page) escapes everything that would format, link
or open HTML: a contact such as ``a | b <script>`` stays the text it is, in its own cell. No raw HTML is written.

JSON (``--format json``; docs/reference.md has the table)::

    {
      "tool": {"name": "mailcfg", "version": "…"},
      "files": ["accounts.yaml"],
      "trust": {"allow_env": null, "allow_command": []},
      "secrets": [
        {"reference": {"kind": "env", "value": "IMAP_INFO_PASSWORD", "text": "env IMAP_INFO_PASSWORD"},
         "what": ["password"],
         "used_by": [{"section": "imap", "account": "info", "username": "info@example.com", "key": "password",
                      "via": null, "contact": "IT desk", "file": "accounts.yaml", "line": 22, "column": 17,
                      "pointer": "/imap/0/credentials/password"}],
         "contacts": ["IT desk"], "without_contact": [],
         "available": {"status": "available", "set": true, "allowed": true}}
      ],
      "summary": {"secrets": 1, "available": 1, "missing": 0, "withheld": 0, "not_checked": 0, "without_contact": 0}
    }
"""

from __future__ import annotations

import re
from typing import Any

from validator import __version__
from validator.handoff import AVAILABLE, MISSING, NOT_CHECKED, WITHHELD, Row, Sheet, Use
from validator.reporters import json_text
from validator.sanitize import one_line, report_line

HEADERS = ("secret", "what", "used by", "contact", "available here")
# The widest a text column grows; longer values are cut (the JSON report has them whole). The last column, the
# sheet's own words, is never cut.
COLUMN = 64
# Markdown that would turn a cell into a link, an image, code or emphasis (`\\` first: it escapes the rest).
_MARKDOWN = re.compile(r"([\\`*_\[\]~!])")


def render_text(sheet: Sheet) -> str:
    """A table, one block of lines per secret, then the summary line."""
    rows = [[[heading] for heading in HEADERS]]
    rows += [_cells(row, sheet) for row in sheet.rows]
    widths = [max(len(line) for cells in rows for line in cells[index]) for index in range(len(HEADERS))]
    widths = [min(COLUMN, width) for width in widths[:-1]] + widths[-1:]
    out: list[str] = []
    for cells in rows if sheet.rows else []:
        for number in range(max(len(cell) for cell in cells)):
            parts = [
                _cut(cell[number] if number < len(cell) else "", width).ljust(width)
                for cell, width in zip(cells, widths, strict=True)
            ]
            out.append("  ".join(parts).rstrip())
    out.append(summary(sheet))
    return "\n".join(map(report_line, out)) + "\n"


def render_markdown(sheet: Sheet) -> str:
    """A summary line and a table, ready for a pull-request comment or a wiki page."""
    lines = [f"**mailcfg secrets**: {_cell(summary(sheet))}"]
    if not sheet.rows:
        return lines[0] + "\n"
    lines += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in sheet.rows:
        reference = f"{row.reference.kind} {_code(row.reference.shown)}"
        used = ", ".join(_markdown_use(use) for use in row.uses)
        contact = "; ".join([*map(_cell, row.contacts), *(_cell(text) for text in _no_contact(row))])
        cells = (reference, _cell(", ".join(row.what)), used, contact, _cell(availability(row, sheet)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def render_json(sheet: Sheet) -> str:
    document: dict[str, Any] = {
        "tool": {"name": "mailcfg", "version": __version__},
        "files": list(sheet.files),
        "trust": {
            "allow_env": list(sheet.allow_env) if sheet.allow_env is not None else None,
            "allow_command": list(sheet.allow_command),
        },
        "secrets": [_json_row(row) for row in sheet.rows],
        "summary": {
            "secrets": len(sheet.rows),
            "available": sheet.count(AVAILABLE),
            "missing": sheet.count(MISSING),
            "withheld": sheet.count(WITHHELD),
            "not_checked": sheet.count(NOT_CHECKED),
            "without_contact": sum(1 for row in sheet.rows if row.without_contact),
        },
    }
    return json_text(document)


def summary(sheet: Sheet) -> str:
    """``3 secrets: 1 set, 1 not set, 1 not checked here; 1 without a contact (MC305)``. A file or credential counts
    as set when it is there and readable."""
    total = len(sheet.rows)
    head = f"{total} secret{'' if total == 1 else 's'}"
    if not total:
        return f"{head}: the set names no credentials"
    counts = (
        (sheet.count(AVAILABLE), "set"),
        (sheet.count(MISSING), "not set"),
        (sheet.count(WITHHELD), "not allowed here"),
        (sheet.count(NOT_CHECKED), "not checked here"),
    )
    text = f"{head}: " + ", ".join(f"{count} {words}" for count, words in counts if count)
    orphans = sum(1 for row in sheet.rows if row.without_contact)
    if orphans:
        text += f"; {orphans} without a contact (MC305)"
    return text


def availability(row: Row, sheet: Sheet) -> str:
    """Whether the secret is available here, in words (never its value)."""
    status = row.availability.status
    if row.reference.kind in ("file", "credential"):
        flag = "--allow-secret-dir" if row.reference.kind == "file" else "$CREDENTIALS_DIRECTORY"
        words = {AVAILABLE: "readable", MISSING: "missing or unreadable", WITHHELD: f"not read: outside {flag}"}
        return words.get(status, "not checked")
    if row.reference.kind == "sops":
        return "encrypted in the file; verify --sops decrypts it"
    allowed = "; allowed by --allow-env" if sheet.allow_env is not None else ""
    if status == AVAILABLE:
        return "set" + allowed
    if status == MISSING:
        return "not set" + allowed
    if status == WITHHELD:
        return "not read: outside --allow-env"
    program = row.reference.program
    if row.reference.kind == "command" and program is not None:
        if row.availability.allowed:
            return "not run here; allowed by --allow-command"
        return f"not run here; runs only with --allow-command {one_line(program)}"
    return "not checked"


def _cells(row: Row, sheet: Sheet) -> list[list[str]]:
    return [
        [one_line(row.reference.text)],
        [", ".join(row.what)],
        [one_line(_use(use)) for use in row.uses],
        [*(one_line(contact) for contact in row.contacts), *_no_contact(row)],
        [availability(row, sheet)],
    ]


def _use(use: Use) -> str:
    borrowed = f" (credentials of '{use.via}')" if use.via is not None else ""
    return f"{use.section} {use.account}: {use.username}{borrowed}"


def _markdown_use(use: Use) -> str:
    borrowed = f" (credentials of {_code(use.via)})" if use.via is not None else ""
    return f"{use.section} {_code(use.account)}: {_code(use.username)}{borrowed}"


def _no_contact(row: Row) -> list[str]:
    owners = row.without_contact
    if not owners:
        return []
    if not row.contacts:
        return ["no contact: MC305"]
    # Some credentials using the secret name a contact, these do not (MC303 warns about a shared password).
    named = ", ".join(f"'{owner}'" for owner in owners)
    return [f"no contact for {named}: MC305"]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(text: str) -> str:
    """Text in a table cell: one line, nothing that formats (emphasis, links, images, code), no HTML, no `|`."""
    text = _MARKDOWN.sub(r"\\\1", one_line(text, 2000))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|")


def _code(text: str) -> str:
    """A code span in a table cell: its text is shown as it is (no HTML, no formatting); `|` is escaped for the
    table, and the fence is longer than any run of backticks inside."""
    text = one_line(text, 2000).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _json_row(row: Row) -> dict[str, Any]:
    value = row.reference.value
    return {
        "reference": {
            "kind": row.reference.kind,
            "value": list(value) if isinstance(value, tuple) else value,
            "text": row.reference.text,
        },
        "what": list(row.what),
        "used_by": [
            {
                "section": use.section,
                "account": use.account,
                "username": use.username,
                "key": use.key,
                "via": use.via,
                "contact": use.contact,
                "file": use.location.file,
                "line": use.location.line,
                "column": use.location.column,
                "pointer": use.location.pointer,
            }
            for use in row.uses
        ],
        "contacts": list(row.contacts),
        "without_contact": list(row.without_contact),
        "available": {
            "status": row.availability.status,
            "set": row.availability.set,
            "allowed": row.availability.allowed,
        },
    }
