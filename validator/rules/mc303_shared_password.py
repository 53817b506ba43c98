"""One password variable shared by credentials with different usernames.

Two different logins rarely share a password; when two credentials name the same environment variable
but different usernames, one of them was most likely copied and not adapted. The finding sits on every
use after the first and names the `password:` line of the first.

Fails:

    imap:
      - id: info
        credentials:
          username: info@example.com
          password: {env: IMAP_INFO_PASSWORD}
      - id: office
        credentials:
          username: office@example.com
          password: {env: IMAP_INFO_PASSWORD}

Passes:

    imap:
      - id: info
        credentials:
          username: info@example.com
          password: {env: IMAP_INFO_PASSWORD}
      - id: office
        credentials:
          username: office@example.com
          password: {env: IMAP_OFFICE_PASSWORD}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Credentials, Imap, Smtp

ID = "MC303"
SEVERITY = Severity.WARNING
TITLE = "one password variable shared by different usernames"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    first: dict[str, tuple[Entry[Smtp] | Entry[Imap], Credentials]] = {}
    for entry, credentials in accounts.credentials():
        name = credentials.password.env
        seen_entry, seen = first.setdefault(name, (entry, credentials))
        if seen.username != credentials.username:
            # The other use's `password:` line, not its entry's first line: that is where the copy sits.
            other = seen_entry.origin.at("credentials", "password", key=True)
            yield entry.report(
                ID,
                SEVERITY,
                f"password variable {name} is also used for username {seen.username} "
                f"(at {other.file}:{other.line}:{other.column})",
                "credentials",
                "password",
                hint="give each login its own variable",
            )
