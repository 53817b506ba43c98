"""An inline suppression comment that suppresses nothing.

`# mailcfg: ignore[MC403] reason` on a line (or on comment lines directly above it) suppresses the named
rules' findings on that line. When the finding goes away, the comment stays behind and would silently
swallow a future, unrelated finding; this note asks for it to be cleaned up. A comment naming a rule id
that does not exist is reported here too.

Emitted by the suppression layer (`validator/suppress.py`, `apply`).

Fails (reported as info):

    imap:
      - id: info
        scope: system   # mailcfg: ignore[MC403] nothing here to ignore

Passes:

    imap:
      - id: info
        scope: user     # mailcfg: ignore[MC403] the owner wants it personal
        user: anna
        address: info@example.com
"""

from validator.finding import Severity

ID = "MC007"
SEVERITY = Severity.INFO
TITLE = "inline suppression that suppresses nothing"
