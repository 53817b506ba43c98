"""More than one smtp entry.

The usual setup has one outgoing server shared by every account (the "system account"). A second one is
sometimes right (a separate relay for a subsidiary), often a leftover; the finding sits on each entry
after the first.

Fails:

    smtp:
      - id: outgoing
        # ...
      - id: outgoing-old
        # ...

Passes:

    smtp:
      - id: outgoing
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC405"
SEVERITY = Severity.WARNING
TITLE = "more than one smtp entry"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    entries = [entry for entry in accounts.raw if entry.section == "smtp"]
    for entry in entries[1:]:
        yield Finding(
            ID,
            SEVERITY,
            f"{len(entries)} smtp entries; the usual setup has one shared "
            f"outgoing server (the first is at {entries[0].origin})",
            entry.origin.at(),
            "several are fine when intended: ignore MC405 then",
            entry.id,
        )
