"""An imap account's `outgoing` names no smtp entry.

Every imap account sends through an smtp entry; `outgoing` holds that entry's id. References resolve
across all files of the run, so the smtp entry may live in a shared file. The hint suggests the closest
existing id.

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
    imap:
      - id: info
        outgoing: outgoin
        # ...

Passes:

    imap:
      - id: info
        outgoing: outgoing
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.suggest import did_you_mean

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC201"
SEVERITY = Severity.ERROR
TITLE = "`outgoing` names no smtp entry"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not accounts.complete:
        return
    known = accounts.raw_ids("smtp")
    for imap in accounts.imap:
        target = imap.model.outgoing
        if target not in known:
            hint = did_you_mean(target, known) or (
                f"known smtp ids: {', '.join(sorted(known))}" if known else "no smtp entry is defined"
            )
            yield imap.report(
                ID,
                SEVERITY,
                f"imap account '{imap.id}' sends through '{target}', but no smtp entry has that id",
                "outgoing",
                hint=hint,
            )
