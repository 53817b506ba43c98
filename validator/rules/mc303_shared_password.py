"""One password (or refresh-token) variable shared by credentials with different usernames.

Two different logins rarely share a password; when two credentials name the same environment variable (or
the same secret file, credential or command) but different usernames, one of them was most likely copied and
not adapted. The finding sits on every
use after the first and names the `password:` line of the first. An OAuth2 refresh token belongs to one
user's consent in the same way; a client secret or a service-account key serves many mailboxes by design.

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

from validator import secrets
from validator.credentials import SECRET_LABELS, secret_path
from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Credentials, Imap, Smtp

ID = "MC303"
SEVERITY = Severity.WARNING
TITLE = "one password variable shared by different usernames"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    first: dict[str, tuple[Entry[Smtp] | Entry[Imap], Credentials, str]] = {}
    for entry, credentials in accounts.credentials():
        for key, secret in credentials.secrets:
            if key not in _PER_LOGIN:
                continue  # one client secret or service account serves many mailboxes by design
            ref = secrets.of(entry, secret)
            seen_entry, seen, seen_key = first.setdefault(ref.key, (entry, credentials, key))
            if seen.username != credentials.username:
                # The other use's line, not its entry's first line: that is where the copy sits.
                other = seen_entry.origin.at(*secret_path(seen_key), key=True)
                yield entry.report(
                    ID,
                    SEVERITY,
                    f"{SECRET_LABELS[key]} {_named(ref)} is also used for username {seen.username} "
                    f"(at {other.file}:{other.line}:{other.column})",
                    *secret_path(key),
                    hint="give each login its own variable",
                )


def _named(ref: secrets.Ref) -> str:
    return f"variable {ref.name}" if ref.source == "env" else ref.shown


# The secrets that belong to one login: a password, and a refresh token (issued to one user's consent).
_PER_LOGIN = ("password", "refresh_token")
