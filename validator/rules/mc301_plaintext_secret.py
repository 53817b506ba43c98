"""A plaintext secret in the YAML.

Passwords never live in the account files: they sit in git, in every clone and in CI logs. A password is
written as `{env: NAME}`, naming the environment variable that holds it at run time. So are the secrets of
an `oauth2` login: `client_secret`, `refresh_token` and `service_account` (a service-account key pasted in as
its JSON object is reported too). The finding never repeats the value, and the text report masks it in the
source line it shows.

Also reported: a password-like key the format does not know, written flat in an account (`pass:`, `pw:`,
`pin:`, `key:`, `auth:`, `credential:`, a misspelt `passwort:`), a `login: "user:password"` or a URL with
a `user:password@` (`url: imaps://info:secret@…`) under an unknown key of an account, and `password:secret`
without a space after the colon, which YAML reads as text (of the value above it, or of a key); the hint
says so. Never for a known key, nor inside an `{env: …}` reference.

Emitted by the schema stage (`validator/schema.py`, `_findings`) and, for a `password:secret` without a
space or a password a duplicate key overrides, by the loader (`validator/loader.py`, `_Parser._no_space`,
`_Parser._duplicate`).

Fails:

    credentials:
      username: info@example.com
      password: Sommer2024!

Fails too (a flat key, and no space after `password:`):

    imap:
      - id: info
        pass: Sommer2024!
        credentials:
          username: info@example.com
            password:Sommer2024!

Passes:

    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}
"""

from validator.finding import Severity

ID = "MC301"
SEVERITY = Severity.ERROR
TITLE = "plaintext secret in the YAML"
