"""A non-standard port for the encryption.

Standard are SMTP 25 and 587 (plain or STARTTLS) and 465 (implicit TLS), IMAP 143 (plain or STARTTLS)
and 993 (implicit TLS). Other ports work when the server really listens there; this note only makes the
choice visible. On the host of a provider mailcfg knows, MC406 compares the port with what that provider
publishes instead, and this note stays quiet.

Fails (reported as info):

    smtp:
      - id: outgoing
        host: smtp.example.com
        port: 2525
        encryption: starttls

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        port: 587
        encryption: starttls
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.provider_data import by_host
from validator.rules._common import contradicts, usual_ports
from validator.trust import normalize_host

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC402"
SEVERITY = Severity.INFO
TITLE = "non-standard port for the encryption"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for kind, entries in (("smtp", accounts.smtp), ("imap", accounts.imap)):
        for entry in entries:
            model = entry.model
            port, encryption = model.port, model.encryption
            if port is None or contradicts(port, encryption) or port in usual_ports(kind, encryption):
                continue
            if by_host(kind, normalize_host(model.host)) is not None:
                continue  # a known provider's host: MC406 checks the port against what the provider publishes
            usual = " or ".join(map(str, sorted(usual_ports(kind, encryption))))
            yield entry.report(
                ID,
                SEVERITY,
                f"{kind} port {port} is not the usual port for `encryption: {encryption}` ({usual})",
                "port",
            )
