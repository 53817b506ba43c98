"""A key that the format does not know.

Unknown keys are errors rather than ignored, because a typo (`hots:` for `host:`) would otherwise leave
the real setting at its default without anyone noticing. The hint suggests the closest known key.

Fails:

    imap:
      - id: info
        hots: imap.example.com

Passes:

    imap:
      - id: info
        host: imap.example.com
"""

from validator.finding import Severity

ID = "MC102"
SEVERITY = Severity.ERROR
TITLE = "unknown key"
