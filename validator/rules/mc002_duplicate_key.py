"""A key appears twice in the same mapping.

YAML readers such as PyYAML silently keep the last value, so the first one is dead text that a reviewer
may believe in. Both places are shown: the finding sits on the second key and names the first.

Emitted by the loader (`validator/loader.py`, `_Parser._duplicate`).

Fails:

    smtp:
      - id: outgoing
        host: smtp.example.com
        encryption: starttls
        host: mail.example.com

Passes:

    smtp:
      - id: outgoing
        host: mail.example.com
        encryption: starttls
"""

from validator.finding import Severity

ID = "MC002"
SEVERITY = Severity.ERROR
TITLE = "duplicate key in a mapping"
