"""An smtp entry with `authentication: none` that still has credentials.

The credentials would never be used, so whoever maintains them is misled, and a password stays in
circulation for nothing.

Fails:

    smtp:
      - id: relay
        host: relay.example.com
        encryption: starttls
        authentication: none
        credentials:
          username: mailer@example.com
          password: {env: SMTP_PASSWORD}

Passes:

    smtp:
      - id: relay
        host: relay.example.com
        encryption: starttls
        authentication: none
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC304"
SEVERITY = Severity.WARNING
TITLE = "credentials on an smtp entry without authentication"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for smtp in accounts.smtp:
        if smtp.model.authentication == "none" and smtp.model.credentials is not None:
            yield smtp.report(
                ID,
                SEVERITY,
                f"smtp entry '{smtp.id}' has `authentication: none`, so its credentials are never used",
                "credentials",
                key=True,
                hint="remove the credentials, or set `authentication: required`",
            )
