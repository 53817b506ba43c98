"""A referenced environment variable is not set.

Checked with `--require-env` (for a deployment pipeline that must have every secret at hand) and always
before `mailcfg verify` logs in anywhere. Every missing variable is reported at once; the value of a set
variable is never shown. `--env-file FILE` loads a dotenv file first (variables already set win).

Fails (with IMAP_INFO_PASSWORD unset):

    password: {env: IMAP_INFO_PASSWORD}

Passes:

    IMAP_INFO_PASSWORD=… mailcfg check --require-env accounts.yaml
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.model import AccountSet, Context

ID = "MC306"
SEVERITY = Severity.ERROR
TITLE = "referenced environment variable is not set"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not context.require_env:
        return
    for entry, credentials in accounts.credentials():
        name = credentials.password.env
        if context.env_allowed is not None and not context.env_allowed(name):
            continue  # withheld by `--allow-env`: the live stage reports MC511 and never reads it
        if not context.env.get(name):
            yield entry.report(
                ID,
                SEVERITY,
                f"environment variable {name} is not set (password of '{entry.id}')",
                "credentials",
                "password",
                "env",
                hint="export it, or pass --env-file",
            )
