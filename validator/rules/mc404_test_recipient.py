"""An smtp entry without `test_recipient`.

The account dialog verifies an outgoing server by sending a test message; `mailcfg verify --send-test`
does the same and needs to know where to send it.

Fails (reported as info):

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
        test_recipient: it@example.com
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC404"
SEVERITY = Severity.INFO
TITLE = "smtp entry without `test_recipient`"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for smtp in accounts.smtp:
        if smtp.model.test_recipient is None:
            yield smtp.report(
                ID,
                SEVERITY,
                f"smtp entry '{smtp.id}' has no `test_recipient` for `mailcfg verify --send-test`",
                hint="add `test_recipient: it@your-domain`",
            )
