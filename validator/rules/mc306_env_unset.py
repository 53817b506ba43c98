"""A referenced environment variable is not set.

Checked with `--require-env` (for a deployment pipeline that must have every secret at hand) and always
before `mailcfg verify` logs in anywhere. Every missing variable is reported at once; the value of a set
variable is never shown. `--env-file FILE` loads a dotenv file first (variables already set win); when
one was given, the hint says the variable is not in it either rather than suggesting the flag.

Every secret reference counts: `password`, and an `oauth2` block's `client_secret`, `refresh_token` and
`service_account`.

Fails (with IMAP_INFO_PASSWORD unset):

    password: {env: IMAP_INFO_PASSWORD}

Passes:

    IMAP_INFO_PASSWORD=… mailcfg check --require-env accounts.yaml
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.contacts import with_contact
from validator.credentials import SECRET_LABELS, secret_path
from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC306"
SEVERITY = Severity.ERROR
TITLE = "referenced environment variable is not set"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not context.require_env:
        return
    for entry, credentials in accounts.credentials():
        for key, secret in credentials.secrets:
            name = secret.env
            if context.env_allowed is not None and not context.env_allowed(name):
                continue  # withheld by `--allow-env`: the live stage reports MC511 and never reads it
            if not context.env.get(name):
                yield entry.report(
                    ID,
                    SEVERITY,
                    f"environment variable {name} is not set ({SECRET_LABELS[key]} of '{entry.id}')",
                    *secret_path(key),
                    "env",
                    hint=with_contact(_hint(context.env_file), credentials),
                )


def _hint(env_file: str | None) -> str:
    # Someone who passed --env-file needs to hear where the variable is missing, not to pass the flag again.
    if env_file is None:
        return "export it, or pass --env-file"
    return f"export it; it is not in {env_file} either"
