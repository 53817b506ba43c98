"""An smtp entry that no imap account sends through.

An unused outgoing server is often a leftover, or a sign that an imap account's `outgoing` points at
the wrong entry.

Fails:

    smtp:
      - id: outgoing
        # ...
      - id: old-server
        # ... and no imap account has `outgoing: old-server`

Passes:

    smtp:
      - id: outgoing
        # ...
    imap:
      - id: info
        outgoing: outgoing
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC206"
SEVERITY = Severity.WARNING
TITLE = "smtp entry that no imap account sends through"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not accounts.complete:
        return
    used = {
        outgoing
        for entry in accounts.raw
        if entry.section == "imap" and isinstance(outgoing := entry.data.get("outgoing"), str)
    }
    for smtp in accounts.smtp:
        if smtp.id not in used:
            yield smtp.report(
                ID,
                SEVERITY,
                f"no imap account sends through smtp entry '{smtp.id}'",
                "id",
                hint="remove it, or point an imap account's `outgoing` at it",
            )
