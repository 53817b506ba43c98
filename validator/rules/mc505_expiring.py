"""The server's certificate expires within `--cert-warn-days` (default 21).

A warning while there is time to renew; it becomes MC504 once the certificate has expired.

Emitted by the live checks of `mailcfg verify`, in the `certificate` stage (`validator/live/probe.py`,
`certificate_stage`).

Fails (as a warning): a certificate valid for 5 more days.

Passes: a certificate valid for months.
"""

from validator.finding import Severity

ID = "MC505"
SEVERITY = Severity.WARNING
TITLE = "certificate expires soon"
