"""An invalid e-mail address in `address` or `test_recipient`.

Checked for syntax only (no DNS lookups), with the email-validator library: one `@`, a valid local
part, a domain with a dot. Internationalised addresses are fine; display names (`Anna <a@example.com>`)
are not, since the field holds the bare address. The hint gives the reason.

Emitted by the schema stage (`validator/schema.py`, `_findings`); the address itself is checked by
`email_problem` in `validator/formats.py`.

Fails:

    imap:
      - id: info
        address: info.example.com

Passes:

    imap:
      - id: info
        address: info@example.com
"""

from validator.finding import Severity

ID = "MC105"
SEVERITY = Severity.ERROR
TITLE = "invalid e-mail address"
