"""The server cannot be reached: connection refused, timed out, or it never sent its greeting.

Refused means nothing listens on that port (wrong `port`, server down, firewall rejecting). A timeout or
a missing greeting means packets are dropped, the server is overloaded, or the port expects TLS from the
first byte while the account says `starttls`/`none`. Every check has a deadline (`--timeout`, default
30 s) for the whole conversation, so a server that trickles its greeting cannot hold a run.

Fails:

    port: 2525        # nothing listens there

Passes:

    port: 587
"""

from validator.finding import Severity

ID = "MC502"
SEVERITY = Severity.ERROR
TITLE = "cannot connect, or no greeting"
