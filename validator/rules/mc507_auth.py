"""The login was rejected, or the server offers no usable way to log in.

mailcfg makes exactly one attempt with one mechanism (AUTH PLAIN when offered, which carries UTF-8
passwords, else LOGIN): a wrong password is never retried, so servers do not lock the account or delay
the next attempts. The finding points at the credentials that were used.

Emitted by the live checks of `mailcfg verify`, for a failed `auth` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}     # holds an outdated password

Passes: the same, with the current password in IMAP_INFO_PASSWORD.
"""

from validator.finding import Severity

ID = "MC507"
SEVERITY = Severity.ERROR
TITLE = "authentication rejected or not offered"
