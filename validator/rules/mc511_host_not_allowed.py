"""A live check was withheld by the run's trust settings; the message names the flag that would allow it.

In a pull-request check the YAML comes from the pull request while the job holds real secrets, so what a run
trusts comes only from its command line and the `MAILCFG_ALLOW_*` variables of the job, never from a file the
pull request can change. A withheld check is not contacted at all (not even resolved in DNS):

- its host (or the smtp host a `--round-trip` sends through) matches no `--allow-host` pattern (exact names,
  `*.domain`, IP addresses and CIDR ranges); a run that names no host at all stops with exit 2 instead;
- its password variable matches no `--allow-env` pattern (the variable is not even read);
- a `{file: PATH}` secret lies outside every `--allow-secret-dir` directory once symlinks are resolved (the file
  is not opened; `check --require-env` reports it too), or a `{command: [...]}` secret's program is not named
  by `--allow-command` (it is not started);
- it would log in over `encryption: none`: `allow_insecure: true` in the YAML also needs `--allow-insecure HOST`;
- `--send-test` or `--round-trip` would send to an address no `--allow-recipient` pattern matches.

A `MAILCFG_ALLOW_*` line in an `--env-file` is reported here too (as a warning) and ignored.

Emitted by the live checks' trust screen (`validator/live/policy.py`, `withheld`), and for a
`MAILCFG_ALLOW_*` line in an `--env-file` and a secret file outside `--allow-secret-dir` under
`check --require-env` by the engine (`validator/engine.py`, `env_file_trust`, `_refused_secrets`).

Fails (with `--allow-host '*.example.com' --allow-env 'MAILCFG_*'`):

    host: mail.attacker.example.net
    credentials:
      username: info@example.com
      password: {env: GITHUB_TOKEN}

Passes:

    host: mail.example.com
    credentials:
      username: info@example.com
      password: {env: MAILCFG_IMAP_INFO_PASSWORD}
"""

from validator.finding import Severity

ID = "MC511"
SEVERITY = Severity.ERROR
TITLE = "withheld by the run's trust settings"
