"""A role address (info@, office@, support@, kontakt@, …) configured with scope user.

Role addresses are shared by a team; as a personal account they end up readable by one person only, and
the mailbox disappears with that person. Make it a system account.

Fails:

    imap:
      - id: info
        scope: user
        user: anna
        address: info@example.com
        # ...

Passes:

    imap:
      - id: info
        scope: system
        address: info@example.com
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC403"
SEVERITY = Severity.WARNING
TITLE = "role address configured with scope user"
ROLE_NAMES = frozenset(
    {
        "abuse",
        "accounting",
        "admin",
        "administrator",
        "anfrage",
        "bestellung",
        "billing",
        "bewerbung",
        "buchhaltung",
        "contact",
        "customerservice",
        "datenschutz",
        "empfang",
        "finance",
        "hello",
        "help",
        "helpdesk",
        "hostmaster",
        "hr",
        "info",
        "invoice",
        "invoices",
        "it",
        "jobs",
        "kontakt",
        "kundenservice",
        "mail",
        "marketing",
        "no-reply",
        "noreply",
        "office",
        "order",
        "orders",
        "personal",
        "post",
        "postmaster",
        "presse",
        "press",
        "privacy",
        "rechnung",
        "rechnungen",
        "sales",
        "security",
        "service",
        "support",
        "team",
        "verkauf",
        "vertrieb",
        "verwaltung",
        "webmaster",
        "zentrale",
    }
)


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for imap in accounts.imap:
        local = imap.model.address.rsplit("@", 1)[0].split("+", 1)[0].lower()
        if imap.model.scope == "user" and local in ROLE_NAMES:
            yield imap.report(
                ID,
                SEVERITY,
                f"{imap.model.address} is a role address but imap account '{imap.id}' has scope user",
                "scope",
                hint="shared addresses are system accounts: `scope: system`, no `user`",
            )
