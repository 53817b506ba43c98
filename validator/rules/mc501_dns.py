"""The server's host name does not resolve in DNS.

`mailcfg verify` looks the name up before connecting. A typo in `host`, a name that only exists in
another network (VPN, internal DNS) or a missing DNS record all end here.

Emitted by the live checks of `mailcfg verify`, for a failed `dns` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    host: smtp.exmaple.com

Passes:

    host: smtp.example.com
"""

from validator.finding import Severity

ID = "MC501"
SEVERITY = Severity.ERROR
TITLE = "host name does not resolve"
