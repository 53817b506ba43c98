"""Credentials would travel unencrypted.

With `encryption: none` the username and password cross the network in clear text, readable by anyone
on the path. That is refused unless the entry says so explicitly with `allow_insecure: true` (for a
server on the same host, say). An imap account always logs in; an smtp entry sends credentials when it
requires authentication.

Fails:

    imap:
      - id: info
        host: imap.example.com
        encryption: none
        # ...

Passes:

    imap:
      - id: info
        host: imap.example.com
        encryption: ssl
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC302"
SEVERITY = Severity.ERROR
TITLE = "credentials would travel unencrypted"
_HINT = "use `encryption: starttls` or `ssl`, or set `allow_insecure: true` if this link is trusted"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for smtp in accounts.smtp:
        model = smtp.model
        if model.encryption == "none" and model.authentication == "required" and not model.allow_insecure:
            yield smtp.report(
                ID, SEVERITY, f"smtp entry '{smtp.id}' logs in without encryption", "encryption", hint=_HINT
            )
    for imap in accounts.imap:
        if imap.model.encryption == "none" and not imap.model.allow_insecure:
            yield imap.report(
                ID, SEVERITY, f"imap account '{imap.id}' logs in without encryption", "encryption", hint=_HINT
            )
