"""The TLS handshake failed, typically because the port speaks another mode.

`encryption: ssl` expects TLS from the first byte (ports 465/993). Against a port that starts in plain
text (587/143) the server's greeting arrives where the TLS handshake should, which fails at once; the
hint suggests `starttls`. mailcfg never falls back to an unencrypted connection.

Fails:

    port: 587
    encryption: ssl

Passes:

    port: 587
    encryption: starttls
"""

from validator.finding import Severity

ID = "MC503"
SEVERITY = Severity.ERROR
TITLE = "TLS handshake failed or wrong TLS mode"
