r"""The imap account's `sent_folder` does not exist on the server.

Sent messages would fail to be stored, or land in a folder the user never sees. The hint names the
folder the server marks as `\Sent` (RFC 6154), which is usually the right one.

Emitted by the live checks of `mailcfg verify`, for a failed `folders` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    sent_folder: Sent          # the server's folder is "Gesendete Elemente"

Passes:

    sent_folder: Gesendete Elemente
"""

from validator.finding import Severity

ID = "MC509"
SEVERITY = Severity.ERROR
TITLE = "Sent folder missing"
