"""`user` given on a system account, or missing on a user account.

A personal mailbox (scope `user`) belongs to one application user; a shared mailbox (scope `system`,
like info@) belongs to none. A missing `user` is reported on the account's mapping, a superfluous one
on the `user` key.

Fails:

    imap:
      - id: info
        scope: system
        user: anna
        # ...
      - id: anna-mail
        scope: user
        # no user
        # ...

Passes:

    imap:
      - id: info
        scope: system
        # ...
      - id: anna-mail
        scope: user
        user: anna
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC204"
SEVERITY = Severity.ERROR
TITLE = "`user` on a system account, or missing on a user account"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for imap in accounts.imap:
        model = imap.model
        if model.scope == "system" and model.user is not None:
            yield imap.report(
                ID,
                SEVERITY,
                f"system account '{imap.id}' names a user; shared mailboxes belong to no user",
                "user",
                key=True,
                hint="remove `user`, or set `scope: user` for a personal mailbox",
            )
        elif model.scope == "user" and model.user is None:
            yield imap.report(
                ID,
                SEVERITY,
                f"user account '{imap.id}' names no `user`",
                hint="add `user: <id of the owning user>`, or set `scope: system`",
            )
