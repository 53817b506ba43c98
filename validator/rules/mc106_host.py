"""An invalid host name.

`host` is a DNS name (internationalised names are fine) or an IP literal. A URL (`smtps://…`) or a
port after a colon (`smtp.example.com:587`) is reported with a hint: the port has its own key. A URL's
`user:password@` (`imaps://info:secret@imap.example.com`, `info:secret@imap.example.com`) is masked in the
message and in the source line shown.

Emitted by the schema stage (`validator/schema.py`, `_findings`); the name itself is checked by
`host_problem` in `validator/formats.py`.

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com:587
        encryption: starttls

Passes:

    smtp:
      - id: outgoing
        host: smtp.example.com
        port: 587
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC106"
SEVERITY = Severity.ERROR
TITLE = "invalid host name"
