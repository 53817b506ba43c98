"""A known provider's server with settings the provider does not publish.

mailcfg knows what many mail providers publish (Thunderbird's provider database, ISPDB, plus a small overlay
of its own: `validator/provider_data.py`). When an smtp entry's or imap account's host is a server a provider
publishes, the port and encryption should be one of the pairs the provider publishes for that host and
protocol (`mail.gmx.net` takes 465 with `ssl` and 587 with `starttls`, not 25), and the login should have the
provider's form: for an imap account the username the provider's template gives for its address (GMX:
the full address), for an smtp entry with credentials of its own at least an e-mail address where the
provider logs in with one.

The hint lists the published settings (host, port, encryption) and the date of the data they come from:
providers change their servers and the data ages, so this is a warning, never an error. Where the server
itself disagrees, `mailcfg verify` tells. For a known provider's host this rule replaces MC402 (one finding
about the port, not two); a port that contradicts its encryption stays MC401's. Unknown hosts are not
checked.

Fails:

    smtp:
      - id: outgoing
        host: mail.gmx.net
        port: 25
        encryption: starttls

Passes:

    smtp:
      - id: outgoing
        host: mail.gmx.net
        port: 587
        encryption: starttls
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.provider_data import PLACEHOLDERS, Provider, by_host, username_for
from validator.rules._common import contradicts
from validator.trust import normalize_host

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context, Entry
    from validator.model import Imap, Smtp

ID = "MC406"
SEVERITY = Severity.WARNING
TITLE = "settings a known provider does not publish"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    entries: list[tuple[str, Entry[Smtp] | Entry[Imap]]] = [("smtp", entry) for entry in accounts.smtp]
    entries += [("imap", entry) for entry in accounts.imap]
    for kind, entry in entries:
        model = entry.model
        host = normalize_host(model.host)
        provider = by_host(kind, host)
        if provider is None:
            continue
        published = provider.published(kind, host)
        port, encryption = model.effective_port, model.encryption
        if not contradicts(model.port, encryption) and all(
            (server.port, server.encryption) != (port, encryption) for server in published
        ):
            if model.port is not None:
                setting = f"port {port} with `encryption: {encryption}`"
            else:
                setting = f"`encryption: {encryption}` (port {port} by default)"
            yield entry.report(
                ID,
                SEVERITY,
                f"{kind} {setting} is not a setting {provider.name} publishes for {host}",
                "port" if model.port is not None else "encryption",
                hint=f"published: {', '.join(server.setting for server in published)} ({_data(provider)})",
            )
        credentials = model.credentials
        if credentials is None:
            continue  # an smtp entry that logs in with its senders' credentials: checked at each imap account
        templates = sorted({server.username for server in published if _fillable(server.username)})
        if not templates:
            continue
        username = credentials.username
        address = getattr(model, "address", None)
        if isinstance(address, str):
            expected = [username_for(template, address) for template in templates]
            if username.casefold() not in {name.casefold() for name in expected}:
                yield entry.report(
                    ID,
                    SEVERITY,
                    f"imap account '{entry.id}' logs in as '{username}', but {provider.name}'s login for "
                    f"{address} at {host} is {' or '.join(repr(name) for name in expected)}",
                    "credentials",
                    "username",
                    hint=f"the login form {provider.name} publishes is {' or '.join(templates)} "
                    f"({_data(provider)}): `username: {expected[0]}`",
                )
        elif templates == ["%EMAILADDRESS%"] and "@" not in username:
            yield entry.report(
                ID,
                SEVERITY,
                f"smtp entry '{entry.id}' logs in as '{username}', which is no e-mail address; "
                f"{provider.name} logs in with the full address at {host}",
                "credentials",
                "username",
                hint=f"write the mailbox's address as `username` (the login form {provider.name} publishes is "
                f"%EMAILADDRESS%, {_data(provider)})",
            )


def _fillable(template: str) -> bool:
    """Whether ``template`` is a login form to compare with: it names the address and no unknown placeholder."""
    rest = template
    for placeholder in PLACEHOLDERS:
        rest = rest.replace(placeholder, "")
    return rest != template and "%" not in rest


def _data(provider: Provider) -> str:
    """Where the published settings come from, and how old they are."""
    if provider.source == "ispdb":
        return f"ISPDB snapshot of {provider.date}"
    return f"mailcfg's provider overlay, checked {provider.date}"

