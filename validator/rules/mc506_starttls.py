"""`encryption: starttls`, but the server does not offer STARTTLS.

mailcfg never continues without TLS: the next step would send the password in clear text. The server
must offer STARTTLS on that port, or the account should use the implicit-TLS port with `encryption: ssl`.

Emitted by the live checks of `mailcfg verify`, for a failed `starttls` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    port: 25
    encryption: starttls      # the server offers no STARTTLS

Passes:

    port: 465
    encryption: ssl
"""

from validator.finding import Severity

ID = "MC506"
SEVERITY = Severity.ERROR
TITLE = "STARTTLS not offered"
