"""A secret or an OAuth2 access token could not be obtained, so the login was not attempted.

An `oauth2` login first gets its access token: from the token endpoint (the refresh-token, client-credentials
or JWT bearer grant), or from the `command` the run allowed. When that fails nothing is sent to the mail
server. The finding says why, with the token endpoint's OAuth2 error code and what it usually means:

- `invalid_client`: the client id or secret is wrong, or the client secret has expired (Entra client secrets
  last at most 24 months);
- `invalid_grant`: the refresh token expired or was revoked (a password change, an admin's revocation; Google
  refresh tokens of an app in "Testing" status expire seven days after consent), or the service account's
  assertion was refused; the user has to consent again;
- `unauthorized_client`: the application may not use this grant, or is not granted this mailbox;
- `invalid_scope`: the scopes are not granted or not known to the provider.

A `{command: [...]}` secret (a password, or an oauth2 client secret, refresh token or key, from a password
manager's CLI) is run when the first check that needs it starts; a non-zero exit, no output, more than 64 KiB or
the timeout is reported here too (stage `secret`), and nothing is sent to the server.

An HTTP or TLS failure at the token endpoint (unreachable, silent until `--timeout`, an untrusted certificate:
`--ca-file` applies to it too) is reported at the same stage with its cause. A `command` that exits non-zero,
prints nothing or outlives the timeout is reported here too; its stderr is never shown (it may hold a secret).

One token is requested per credentials and run; every check that uses those credentials reports the same
failure, and the run's other accounts are unaffected.

Emitted by the live checks' secret and token stages (`validator/live/tokens.py`).

Fails (the refresh token was revoked):

    credentials:
      username: info@example.com
      oauth2:
        provider: microsoft
        tenant: contoso.onmicrosoft.com
        client_id: 00000000-0000-0000-0000-000000000000
        refresh_token: {env: MAILCFG_INFO_REFRESH_TOKEN}

Passes: the same with a refresh token the provider still honours.
"""

from validator.finding import Severity

ID = "MC512"
SEVERITY = Severity.ERROR
TITLE = "secret or OAuth2 token could not be obtained"
