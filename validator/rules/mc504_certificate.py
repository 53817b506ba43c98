"""The server's certificate does not verify: untrusted chain, issued for another host name, or expired.

Mail clients refuse such a server or teach users to click warnings away; either is worse than fixing the
certificate. A private CA can be trusted for the run with `--ca-file PEM`. A certificate for another name
usually means `host` should be the name the certificate was issued for.

Emitted by the live checks of `mailcfg verify`, for a failed `certificate` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    host: 203.0.113.10            # certificate names mail.example.com

Passes:

    host: mail.example.com
"""

from validator.finding import Severity

ID = "MC504"
SEVERITY = Severity.ERROR
TITLE = "certificate not trusted, wrong host or expired"
