"""A key that the format does not know.

Unknown keys are errors rather than ignored, because a typo (`hots:` for `host:`) would otherwise leave
the real setting at its default without anyone noticing. The hint suggests the closest known key.

An unknown key of `credentials` is not named in the message (it may be a password pasted as a key) and is
masked in the source line shown. A password-like key of an account (`pass:`, `pw:`, `pin:`, `key:`, `auth:`,
`credential:`, …) with a value is a plaintext secret too: masked, and MC301 as well. `password: {ENV: X}`
is told that the key is `env`, in lower case.

Emitted by the schema stage (`validator/schema.py`, `_findings`).

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
