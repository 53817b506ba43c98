"""The check was not run because its host matches no `--allow-host` pattern.

In a pull-request check the YAML comes from the pull request: without this guard, a change that points
`host:` at a server of the author's choosing would receive the real password. With `--allow-host`
(repeatable, glob patterns like `*.example.com`), mailcfg sends credentials only to matching hosts; for
any other host it does not even connect.

Fails (with `--allow-host '*.example.com'`):

    host: mail.attacker.example.net

Passes:

    host: mail.example.com
"""

from validator.finding import Severity

ID = "MC511"
SEVERITY = Severity.ERROR
TITLE = "host not allowed by --allow-host"
