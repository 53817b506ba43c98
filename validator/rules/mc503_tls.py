"""The TLS handshake failed, typically because the port speaks another mode.

`encryption: ssl` expects TLS from the first byte (ports 465/993). Against a port that starts in plain
text (587/143) the server's greeting arrives where the TLS handshake should, which fails at once; the
hint suggests `starttls`. mailcfg never falls back to an unencrypted connection.

The other way round, `encryption: starttls` (or `none`) on an implicit-TLS port, the server says nothing: it
waits for the client's TLS hello. When no greeting has come after a short while (3 s, or a third of
`--timeout` if that is less), mailcfg tries a TLS handshake on a second connection to the same address,
sending nothing else; when the port answers it, the check fails here at once, with the hint
`encryption: ssl`, instead of waiting out the deadline. A server that answers neither way is still
reported as silent (MC502) at the deadline.

Emitted by the live checks of `mailcfg verify`, for a failed `tls` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`), and for a plain-text mode on an implicit-TLS port (`validator/live/smtp.py`,
`_greet`; `validator/live/imap.py`, `_refuse_implicit_tls_port`).

Fails:

    port: 587
    encryption: ssl

    port: 465
    encryption: starttls

Passes:

    port: 587
    encryption: starttls
"""

from validator.finding import Severity

ID = "MC503"
SEVERITY = Severity.ERROR
TITLE = "TLS handshake failed or wrong TLS mode"
