"""With `--round-trip`, a message sent through the linked smtp entry to the account's own address did
not arrive in its INBOX within the deadline, or was refused (bounced).

This is the only check that proves the whole path: submission, routing, delivery. A server that
accepts a message and bounces it later shows up here as "did not arrive". When the message arrives,
mailcfg reports the delivery time and deletes exactly that message.

Fails: an address the mail server does not deliver to.

Passes: a mailbox that receives what the smtp entry sends.
"""

from validator.finding import Severity

ID = "MC510"
SEVERITY = Severity.ERROR
TITLE = "round-trip message did not arrive"
