"""The port contradicts the encryption.

Ports 465 (SMTP) and 993 (IMAP) speak TLS from the first byte; 25, 587 and 143 start in plain text and
upgrade with STARTTLS. `encryption: ssl` on 587 or `starttls` on 993 cannot connect: the client and the
server wait for each other, or the TLS handshake fails.

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        port: 587
        encryption: ssl

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        port: 465
        encryption: ssl
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity
from validator.rules._common import contradicts

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC401"
SEVERITY = Severity.ERROR
TITLE = "port contradicts encryption"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for kind, entries in (("smtp", accounts.smtp), ("imap", accounts.imap)):
        for entry in entries:
            model = entry.model
            if contradicts(model.port, model.encryption):
                want = "starttls" if model.encryption == "ssl" else "ssl"
                yield entry.report(
                    ID,
                    SEVERITY,
                    f"{kind} port {model.port} does not speak `encryption: {model.encryption}`",
                    "port",
                    hint=f"use `encryption: {want}` on port {model.port}, or the port that "
                    f"goes with {model.encryption}",
                )
