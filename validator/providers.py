"""What mailcfg knows of the large providers that take OAuth2: token endpoints, scopes, password retirement.

Sources (read 2026-12-01; the administrator's guide, docs/oauth2.md, cites each in full):
- Microsoft: "Authenticate an IMAP, POP or SMTP connection using OAuth" (learn.microsoft.com, Exchange client
  developer docs) for the scopes and the token endpoint; the Exchange team's "Updated Exchange Online SMTP AUTH
  Basic Authentication Deprecation Timeline" (techcommunity, 2026-01-27): SMTP AUTH with Basic authentication is
  disabled by default for existing tenants at the end of December 2026; "Deprecation of Basic authentication in
  Exchange Online" for IMAP (off since October 2022).
- Google: "Transition from less secure apps to OAuth" (support.google.com/a/answer/14114704): Google Workspace
  turned IMAP, SMTP and POP with passwords off in autumn 2024 (no exact day on the page); "Less secure apps"
  (support.google.com/accounts/answer/6010255): personal accounts since 2022-05-30; app passwords (2-Step
  Verification) still log in; "Using OAuth 2.0 for Server to Server Applications" and the XOAUTH2 protocol
  page for the token endpoint and the scope `https://mail.google.com/`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Delegated (a user's consent, refresh token): one scope per protocol, plus offline_access for a refresh token.
MICROSOFT_DELEGATED = {
    "imap": "https://outlook.office.com/IMAP.AccessAsUser.All",
    "smtp": "https://outlook.office.com/SMTP.Send",
}
MICROSOFT_OFFLINE = "offline_access"
# App-only (client credentials): the resource's `.default` scope carries the granted application permissions
# (IMAP.AccessAsApp, SMTP.SendAsApp).
MICROSOFT_APP_ONLY = "https://outlook.office365.com/.default"
GOOGLE_MAIL = "https://mail.google.com/"


def token_url(provider: str, tenant: str | None, given: str | None) -> str | None:
    """The token endpoint: the YAML's `token_url` always wins, else the provider's (None: not known here)."""
    if given:
        return given
    if provider == "microsoft" and tenant:
        return MICROSOFT_TOKEN_URL.format(tenant=tenant)
    if provider == "google":
        return GOOGLE_TOKEN_URL
    return None


def default_scopes(provider: str, grant: str, protocols: set[str]) -> list[str]:
    """The scopes to request when the YAML names none, for the protocols the token is used with."""
    if provider == "microsoft":
        if grant == "client_credentials":
            return [MICROSOFT_APP_ONLY]
        return [MICROSOFT_DELEGATED[protocol] for protocol in sorted(protocols)] + [MICROSOFT_OFFLINE]
    if provider == "google":
        return [GOOGLE_MAIL]
    return []


@dataclass(frozen=True)
class Retirement:
    """A provider's end of password logins for some hosts: when, said how the provider says it."""

    provider: str
    protocols: frozenset[str]
    hosts: frozenset[str]
    suffixes: tuple[str, ...]
    starts: datetime.date  # the first day password login is off (by default)
    when: str  # the provider's own words for that time, after "from"/"since"
    what: str
    app_password: bool  # whether an app password still logs in (`app_password: true` answers the rule)

    def applies(self, protocol: str, host: str) -> bool:
        return protocol in self.protocols and (host in self.hosts or host.endswith(self.suffixes))


RETIREMENTS = (
    Retirement(
        "Microsoft 365",
        frozenset({"smtp"}),
        # Client submission only: `*.mail.protection.outlook.com` receives mail (no AUTH), and the consumer
        # hosts (smtp-mail.outlook.com, imap-mail.outlook.com) follow Outlook.com's own schedule, not this one.
        frozenset({"smtp.office365.com"}),
        (),
        datetime.date(2027, 1, 1),
        "the end of December 2026",
        "Exchange Online disables SMTP AUTH with a password (Basic authentication) by default for existing tenants",
        False,
    ),
    Retirement(
        "Microsoft 365",
        frozenset({"imap"}),
        frozenset({"outlook.office365.com", "outlook.office.com"}),
        (),
        datetime.date(2022, 10, 1),
        "October 2022",
        "Exchange Online refuses IMAP login with a password (Basic authentication)",
        False,
    ),
    Retirement(
        "Google",
        frozenset({"smtp", "imap"}),
        frozenset({"smtp.gmail.com", "imap.gmail.com", "smtp-relay.gmail.com", "smtp.googlemail.com"}),
        (),
        datetime.date(2024, 10, 1),
        "autumn 2024 (Google Workspace; personal accounts since 30 May 2022)",
        "Google refuses IMAP and SMTP login with the account password",
        True,
    ),
)


def retirement(protocol: str, host: str) -> Retirement | None:
    """The retirement of password logins that covers ``host`` (normalised) for ``protocol``, if any."""
    return next((r for r in RETIREMENTS if r.applies(protocol, host)), None)
