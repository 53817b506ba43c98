"""A secret file or systemd credential others than its owner may read (or change).

A password kept in a file is only as safe as the file's mode: with `0644` every user and every service on the
machine can read it. systemd calls any credential mode but `0400` or `0600` insecure; the same holds for a
`{file: PATH}` secret. The finding sits at the reference and its hint is the `chmod` to run. Only the mode is
looked at (`stat`); the file is not opened, and a file outside every `--allow-secret-dir` is not looked at.

Checked with `--require-env` (alias `--require-secrets`) and at `verify` and `folders` time, like MC306.

Fails (with `/run/secrets/info_pw` at mode 0644):

    password: {file: /run/secrets/info_pw}

Passes (after `chmod 600 /run/secrets/info_pw`):

    password: {file: /run/secrets/info_pw}
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator import secrets
from validator.credentials import SECRET_LABELS, secret_path
from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC308"
SEVERITY = Severity.WARNING
TITLE = "secret file readable by others"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not context.require_env:
        return
    for entry, credentials in accounts.credentials():
        for key, secret in credentials.secrets:
            ref = secrets.of(entry, secret)
            if ref.source not in ("file", "credential"):
                continue
            found = secrets.open_to_others(ref, context.places)
            if found is None:
                continue
            path, mode = found
            who = "group" if not mode & 0o007 else "others" if not mode & 0o070 else "group and others"
            can = "read" if mode & 0o044 else "change"
            yield entry.report(
                ID,
                SEVERITY,
                f"{ref.shown} has mode {mode:04o}: {who} can {can} it ({SECRET_LABELS[key]} of '{entry.id}')",
                *secret_path(key),
                ref.source,
                hint=f"chmod 600 {shlex.quote(path)}",
            )
