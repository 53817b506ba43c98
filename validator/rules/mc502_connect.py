"""The server cannot be reached: connection refused, timed out, or it never sent its greeting.

Refused means nothing listens on that port (wrong `port`, server down, firewall rejecting). A timeout or
a missing greeting means packets are dropped, the server is overloaded, or the port expects TLS from the
first byte while the account says `starttls`/`none`. Every check has a deadline (`--timeout`, default
30 s) for the whole conversation, so a server that trickles its greeting cannot hold a run.

Emitted by the live checks of `mailcfg verify`, for a failed `connect`, `greeting` or `ehlo` stage and for a
timeout or an unexpected error in a stage without a rule of its own (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`, `Probe.close_with_timeout`, `Probe.unexpected`), and for an unexpected answer
around IMAP STARTTLS (`validator/live/imap.py`, `open_session`).

Fails:

    port: 2525        # nothing listens there

Passes:

    port: 587
"""

from validator.finding import Severity

ID = "MC502"
SEVERITY = Severity.ERROR
TITLE = "cannot connect, or no greeting"
