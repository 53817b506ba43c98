"""Credentials without a `contact`.

Passwords are never written down or mailed around; what matters when one is needed is *who* can enter
it. `contact` names that person or desk, so the next admin knows whom to ask.

Fails:

    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}

Passes:

    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}
      contact: "IT desk <it@example.com>"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC305"
SEVERITY = Severity.INFO
TITLE = "credentials without a `contact`"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for entry, credentials in accounts.credentials():
        if credentials.contact is None:
            yield entry.report(
                ID,
                SEVERITY,
                f"nobody is named who can enter the password of '{entry.id}'",
                "credentials",
                key=True,
                hint="add `contact:` to the credentials",
            )
