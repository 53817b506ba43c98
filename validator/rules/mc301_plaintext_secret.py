"""A plaintext secret in the YAML.

Passwords never live in the account files: they sit in git, in every clone and in CI logs. A password is
written as `{env: NAME}`, naming the environment variable that holds it at run time. The finding never
repeats the value, and the text report masks it in the source line it shows.

Fails:

    credentials:
      username: info@example.com
      password: Sommer2024!

Passes:

    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}
"""

from validator.finding import Severity

ID = "MC301"
SEVERITY = Severity.ERROR
TITLE = "plaintext secret in the YAML"
