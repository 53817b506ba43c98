"""Credentials without a `contact`.

Passwords are never written down or mailed around; what matters when one is needed is *who* can enter
it. `contact` names that person or desk, so the next admin knows whom to ask. An `oauth2` login needs the
same: someone renews a client secret before it expires, or consents again when a refresh token is revoked.
`mailcfg secrets` lists every secret of the set with its contact (the hand-off sheet), and the hints of a
missing secret (MC306), a rejected login (MC507) and a failed token request (MC512) name it.

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
            what = "enter the password" if credentials.oauth2 is None else "renew the OAuth2 login"
            yield entry.report(
                ID,
                SEVERITY,
                f"nobody is named who can {what} of '{entry.id}'",
                "credentials",
                key=True,
                hint="add `contact:` to the credentials; `mailcfg secrets` lists who can enter each secret",
            )
