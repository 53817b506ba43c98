"""A required key is missing.

smtp entries need `id`, `host` and `encryption`; imap accounts need `id`, `scope`, `address`, `host`,
`encryption`, `outgoing` and `credentials`; credentials need `username` and `password`. The finding sits
on the mapping that lacks the key.

Emitted by the schema stage (`validator/schema.py`, `_findings`).

Fails:

    smtp:
      - id: outgoing
        encryption: starttls     # no host

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC101"
SEVERITY = Severity.ERROR
TITLE = "required key missing"
