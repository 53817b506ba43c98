"""The same mailbox address is configured twice.

Two imap accounts for one address usually mean a copy-paste slip, or a personal and a shared account
fighting over one mailbox. Compared without regard to case. The finding sits on the second occurrence.

Fails:

    imap:
      - id: info
        address: info@example.com
        # ...
      - id: office
        address: Info@example.com
        # ...

Passes:

    imap:
      - id: info
        address: info@example.com
        # ...
      - id: office
        address: office@example.com
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Imap

ID = "MC205"
SEVERITY = Severity.WARNING
TITLE = "the same mailbox address configured twice"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    first: dict[str, Entry[Imap]] = {}
    for imap in accounts.imap:
        seen = first.setdefault(imap.model.address.lower(), imap)
        if seen is not imap:
            yield imap.report(
                ID,
                SEVERITY,
                f"address {imap.model.address} is also configured by imap account '{seen.id}' at {seen.origin}",
                "address",
            )
