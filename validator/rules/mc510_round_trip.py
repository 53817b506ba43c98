"""With `--round-trip`, a message sent through the linked smtp entry to the account's own address did
not arrive in its INBOX within the deadline, was refused (bounced), or was not sent because `address`
is not the mailbox the account logs in to.

This is the only check that proves the whole path: submission, routing, delivery. A server that
accepts a message and bounces it later shows up here as "did not arrive". When the message arrives,
mailcfg reports the delivery time and deletes exactly that message.

The message is waited for, and deleted, in the mailbox the account logs in to. So when the login is an
e-mail address that clearly names another mailbox than `address` (another local part or another
domain; case and a `+tag` sub-address do not count), nothing is sent: the probe would be delivered to
that other mailbox and left there. A login that is no e-mail address (`anna`, `DOMAIN\\anna`) cannot
be compared, and the round trip runs. An alias that really delivers into the mailbox is refused too;
log in with the address itself if the server allows it, or leave that account out of `--round-trip`
runs (`--only` the others).

Emitted by the live checks of `mailcfg verify`, for a failed `round-trip` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails: an address the mail server does not deliver to.

    address: info@example.com
    credentials:
      username: anna@example.com   # the probe would land in info@'s mailbox and stay there

Passes: a mailbox that receives what the smtp entry sends.

    address: anna@example.com
    credentials:
      username: anna@example.com
"""

from validator.finding import Severity

ID = "MC510"
SEVERITY = Severity.ERROR
TITLE = "round-trip message did not arrive"
