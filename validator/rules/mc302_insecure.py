"""Credentials would travel unencrypted.

With `encryption: none` the username and password cross the network in clear text, readable by anyone
on the path. That is refused unless the entry says so explicitly with `allow_insecure: true` (for a
server on the same host, say). An imap account always logs in; an smtp entry sends credentials when it
requires authentication. An OAuth2 access token never crosses in clear text: `allow_insecure` does not cover
it (a bearer token is the login itself to anyone who reads it; RFC 6750 5.3), neither on an smtp entry whose
logins are the sending imap accounts' oauth2 credentials.

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
    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Imap

ID = "MC302"
SEVERITY = Severity.ERROR
TITLE = "credentials would travel unencrypted"
_HINT = "use `encryption: starttls` or `ssl`, or set `allow_insecure: true` if this link is trusted"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    senders: dict[str, list[Entry[Imap]]] = {}
    for imap in accounts.imap:
        senders.setdefault(imap.model.outgoing, []).append(imap)
    for smtp in accounts.smtp:
        model = smtp.model
        if model.encryption != "none" or model.authentication != "required":
            continue
        logins = (
            [model.credentials]
            if model.credentials is not None
            else [i.model.credentials for i in senders.get(smtp.id, [])]
        )
        if any(login.oauth2 is not None for login in logins):
            yield smtp.report(ID, SEVERITY, f"smtp entry '{smtp.id}' {_TOKEN}", "encryption", hint=_TOKEN_HINT)
        elif not model.allow_insecure:
            yield smtp.report(
                ID, SEVERITY, f"smtp entry '{smtp.id}' logs in without encryption", "encryption", hint=_HINT
            )
    for imap in accounts.imap:
        if imap.model.encryption != "none":
            continue
        if imap.model.credentials.oauth2 is not None:
            yield imap.report(ID, SEVERITY, f"imap account '{imap.id}' {_TOKEN}", "encryption", hint=_TOKEN_HINT)
        elif not imap.model.allow_insecure:
            yield imap.report(
                ID, SEVERITY, f"imap account '{imap.id}' logs in without encryption", "encryption", hint=_HINT
            )


# A bearer token is the login itself for as long as it lives, to anyone who reads it (RFC 6750 5.3: always TLS).
_TOKEN = "would send an OAuth2 access token without encryption"
_TOKEN_HINT = "use `encryption: starttls` or `ssl`; `allow_insecure` does not cover bearer tokens"
