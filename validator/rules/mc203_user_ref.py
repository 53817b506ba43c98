"""An imap account's `user` names no entry of `users`.

Checked only when the set has a `users` list (in any file): then every personal account must belong to
one of those users. The hint suggests the closest user id.

Fails:

    users:
      - id: anna
    imap:
      - id: anna-mail
        scope: user
        user: ana
        # ...

Passes:

    users:
      - id: anna
    imap:
      - id: anna-mail
        scope: user
        user: anna
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.suggest import did_you_mean

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC203"
SEVERITY = Severity.ERROR
TITLE = "`user` names no entry of `users`"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not accounts.has_users or not accounts.complete:
        return
    known = accounts.raw_ids("users")
    for imap in accounts.imap:
        user = imap.model.user
        if user is not None and user not in known:
            yield imap.report(
                ID,
                SEVERITY,
                f"imap account '{imap.id}' belongs to user '{user}', who is not in `users`",
                "user",
                hint=did_you_mean(user, known),
            )
