"""With `--send-test`, the server refused the test message to `test_recipient`.

The account logged in, but the server will not relay or accept mail from it to that recipient: a
relay restriction, a sender address the login may not use, or an unknown recipient.

Emitted by the live checks of `mailcfg verify`, for a failed `send` stage (`validator/live/probe.py`,
`STAGE_RULES`, `Probe.fail`).

Fails:

    test_recipient: nobody@example.com      # unknown at the server

Passes:

    test_recipient: it@example.com
"""

from validator.finding import Severity

ID = "MC508"
SEVERITY = Severity.ERROR
TITLE = "test message refused"
