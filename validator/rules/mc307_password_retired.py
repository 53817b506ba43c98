"""Password login to a provider that refuses it, or is about to.

Microsoft 365 (Exchange Online) refuses IMAP login with a password since October 2022 and disables SMTP
AUTH with a password by default for existing tenants from the end of December 2026; Google refuses IMAP and
SMTP login with the account password (Google Workspace since autumn 2024, personal accounts since 30 May
2022). A password login to one of their hosts (`smtp.office365.com`, `outlook.office365.com`,
`smtp.gmail.com`, `imap.gmail.com`, …) fails there, or will: log in with `oauth2` instead (docs/oauth2.md
has the provider's set-up step by step). The message gives the provider's date in its own words, "from …"
while it lies ahead and "since …" once it has passed.

A Google app password (2-Step Verification) still logs in with a password: `app_password: true` beside
`password` says so and answers this rule for Google. Microsoft has no app passwords for IMAP or SMTP AUTH, so
there it does not.

The finding sits on the `password` key of the credentials that log in. An smtp entry without credentials of
its own logs in with those of each imap account that sends through it: then it sits on the smtp entry's
`host`, once, naming the accounts.

Fails:

    imap:
      - id: info
        host: outlook.office365.com
        encryption: ssl
        credentials:
          username: info@contoso.onmicrosoft.com
          password: {env: IMAP_INFO_PASSWORD}

Passes:

    imap:
      - id: info
        host: outlook.office365.com
        encryption: ssl
        credentials:
          username: info@contoso.onmicrosoft.com
          oauth2:
            provider: microsoft
            tenant: contoso.onmicrosoft.com
            client_id: 00000000-0000-0000-0000-000000000000
            client_secret: {env: M365_CLIENT_SECRET}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.providers import Retirement, retirement
from validator.trust import normalize_host

if TYPE_CHECKING:
    import datetime

    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Credentials, Imap

ID = "MC307"
SEVERITY = Severity.WARNING
TITLE = "password login to a provider that refuses or is retiring it"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    senders: dict[str, list[Entry[Imap]]] = {}
    for imap in accounts.imap:
        senders.setdefault(imap.model.outgoing, []).append(imap)
    for smtp in accounts.smtp:
        model = smtp.model
        if model.authentication != "required":
            continue
        host = normalize_host(model.host)
        retired = retirement("smtp", host)
        if retired is None:
            continue
        if model.credentials is not None:
            if _refused(model.credentials, retired):
                yield smtp.report(
                    ID,
                    SEVERITY,
                    f"smtp entry '{smtp.id}' logs in to {host} ({retired.provider}) with a password: "
                    f"{_when(retired, context.today)}",
                    "credentials",
                    "password",
                    key=True,
                    hint=_hint(retired, model.credentials),
                )
            continue
        logins = [imap for imap in senders.get(smtp.id, []) if _refused(imap.model.credentials, retired)]
        if logins:
            names = ", ".join(f"'{imap.id}'" for imap in logins)
            who = f"imap account {names} logs" if len(logins) == 1 else f"imap accounts {names} log"
            yield smtp.report(
                ID,
                SEVERITY,
                f"smtp entry '{smtp.id}' has no credentials of its own: {who} in to {host} "
                f"({retired.provider}) with a password: {_when(retired, context.today)}",
                "host",
                hint=_hint(retired, *(imap.model.credentials for imap in logins)),
            )
    for imap in accounts.imap:
        host = normalize_host(imap.model.host)
        retired = retirement("imap", host)
        if retired is not None and _refused(imap.model.credentials, retired):
            yield imap.report(
                ID,
                SEVERITY,
                f"imap account '{imap.id}' logs in to {host} ({retired.provider}) with a password: "
                f"{_when(retired, context.today)}",
                "credentials",
                "password",
                key=True,
                hint=_hint(retired, imap.model.credentials),
            )


def _refused(credentials: Credentials, retired: Retirement) -> bool:
    """Whether these credentials log in with a password the provider refuses (an app password it takes)."""
    if credentials.password is None:
        return False  # an oauth2 login
    return not (credentials.app_password and retired.app_password)


def _when(retired: Retirement, today: datetime.date) -> str:
    """The provider's date in its own words, "from …" while it lies ahead, "since …" once it has passed."""
    return f"{retired.what} {'from' if today < retired.starts else 'since'} {retired.when}"


def _hint(retired: Retirement, *logins: Credentials) -> str:
    hint = "log in with `oauth2` instead of `password` (docs/oauth2.md)"
    if retired.app_password:
        return hint + ", or with an app password: `app_password: true`"
    if any(login.app_password for login in logins):
        return hint + f"; `app_password` does not help: {retired.provider} takes no app password here"
    return hint
