"""A value that is not allowed: not one of the listed choices, not matching the id pattern, out of range.

`encryption` is one of `none`, `starttls`, `ssl`; the common `tls` gets a hint, because it is ambiguous:
STARTTLS upgrades a plain connection, `ssl` is TLS from the first byte. Ids are 1-63 lower-case letters,
digits, `-` and `_`. Ports are 1-65535. Environment variable names are letters, digits and `_`.

Fails:

    smtp:
      - id: Outgoing Server
        host: smtp.example.com
        encryption: tls

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC104"
SEVERITY = Severity.ERROR
TITLE = "value not allowed (choice, pattern, range)"
