"""SOPS encrypted more than the secrets of an account file.

SOPS encrypts every value of a file unless `encrypted_regex` says otherwise. Keys stay readable, so mailcfg can
still check the file's structure, and an encrypted `password`, `client_secret`, `refresh_token` or
`service_account` is a secret kept safely in the file (no MC301). But an encrypted host, port, address or id is
opaque: its format goes unchecked, a reference to an encrypted id cannot resolve, and every review of the file in a
pull request sees only ciphertext. One finding per file, at the first such value, says how many there are and
gives the `encrypted_regex` that encrypts exactly the secrets.

Fails (every value encrypted, the default of `sops encrypt`):

    imap:
      - id: ENC[AES256_GCM,data:aW5mbw==,iv:…,tag:…,type:str]
    sops:
      age: [...]

Passes (with `encrypted_regex: ^(password|client_secret|refresh_token|service_account)$` in `.sops.yaml`):

    imap:
      - id: info
        credentials:
          password: ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity, pointer_of

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC309"
SEVERITY = Severity.INFO
TITLE = "SOPS encrypts more than the secrets"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not accounts.encrypted:
        return  # before the import: a plain set's start-up needs nothing of validator.sops
    from validator.sops import SECRETS_ONLY

    for document, encryption in accounts.encrypted:
        if not encryption.opaque:
            continue
        first = encryption.opaque[0]
        count = len(encryption.opaque)
        values = "value" if count == 1 else "values"
        yield Finding(
            ID,
            SEVERITY,
            f"SOPS encrypted {count} {values} besides the secrets (the first at {pointer_of(first)}): "
            "mailcfg cannot check them, and reviews see only ciphertext",
            document.location(first),
            f"encrypt the secrets only: encrypted_regex: {SECRETS_ONLY} in .sops.yaml, then "
            "sops decrypt --in-place FILE && sops encrypt --in-place FILE",
        )
