"""A referenced secret is not available: a variable not set, a file or systemd credential missing or unreadable.

Checked with `--require-env` (alias `--require-secrets`, for a deployment pipeline that must have every secret at
hand) and always before `mailcfg verify` or `mailcfg folders` logs in anywhere. Every missing secret is reported at
once, located at its reference; no value is ever shown, and no file is opened: a `{file: PATH}` or
`{credential: NAME}` must exist, be a regular file that is not empty, at most 64 KiB, and readable by the user
running mailcfg. `--env-file FILE` loads a dotenv file first (variables already set win); when one was given, the
hint says the variable is not in it either rather than suggesting the flag.

A file is looked at only inside a directory the run allows (`--allow-secret-dir`); one outside them is MC511 and
not even looked at. A credential is looked for in `$CREDENTIALS_DIRECTORY`, which systemd sets for a unit with
`LoadCredential=`. A `{command: [...]}` is never run by `check`: `verify` runs it when its check starts (MC512
when it fails).

Every secret reference counts: `password`, and an `oauth2` block's `client_secret`, `refresh_token` and
`service_account`.

A file encrypted with SOPS keeps its secrets in the file (`password: ENC[AES256_GCM,…]`): `check` takes them as
present. `verify` and `folders` need them decrypted: without `--sops` the file is reported once, at its `sops` key,
with what to do; with `--sops` a file `sops --decrypt` cannot decrypt is reported there, and a secret that
decrypts to no text at the secret.

Fails (with IMAP_INFO_PASSWORD unset, or no file /run/secrets/info_pw):

    password: {env: IMAP_INFO_PASSWORD}
    password: {file: /run/secrets/info_pw}

Passes:

    IMAP_INFO_PASSWORD=… mailcfg check --require-env accounts.yaml
    mailcfg check --require-env --allow-secret-dir /run/secrets accounts.yaml
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator import secrets
from validator.contacts import with_contact
from validator.credentials import SECRET_LABELS, secret_path
from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC306"
SEVERITY = Severity.ERROR
TITLE = "referenced secret is not available"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    if not context.require_env:
        return
    if context.live and not context.sops:
        yield from _encrypted_files(accounts)
    decrypted = {document.source.name for document, encryption in accounts.encrypted if encryption.decrypted}
    for entry, credentials in accounts.credentials():
        for key, secret in credentials.secrets:
            ref = secrets.of(entry, secret)
            if ref.source == "sops":
                if context.live and ref.path in decrypted and not context.env.get(ref.key):
                    yield entry.report(
                        ID,
                        SEVERITY,
                        f"the SOPS-encrypted {SECRET_LABELS[key]} of '{entry.id}' decrypts to no text",
                        *secrets.at(key, ref),
                        hint=with_contact("write the secret as a string: sops edit FILE", credentials),
                    )
                continue
            if ref.source in ("file", "credential"):
                found = secrets.status(ref, context.places)
                # MC511 (outside --allow-secret-dir) is the trust screen's in a live run, else the engine's.
                if isinstance(found, secrets.Problem) and found.rule == ID:
                    yield entry.report(
                        ID,
                        SEVERITY,
                        f"{found.message} ({SECRET_LABELS[key]} of '{entry.id}')",
                        *secret_path(key),
                        ref.source,
                        hint=with_contact(found.hint, credentials),
                    )
                continue
            name = secret.env
            if name is None:
                continue  # a command: never run by a check; verify runs it (MC512 when it fails)
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


def _encrypted_files(accounts: AccountSet) -> Iterator[Finding]:
    for document, _ in accounts.encrypted:
        yield Finding(
            ID,
            SEVERITY,
            "this file is encrypted with SOPS: its encrypted values are not available to a live run",
            document.location(("sops",), key=True),
            "decrypt it for the run: --sops (runs `sops --decrypt` with your age or PGP key), or keep the secrets in "
            "a SOPS-encrypted env file and reference them as {env: NAME}: sops exec-env secrets.env 'mailcfg verify …'",
        )


def _hint(env_file: str | None) -> str:
    # Someone who passed --env-file needs to hear where the variable is missing, not to pass the flag again.
    if env_file is None:
        return "export it, or pass --env-file"
    return f"export it; it is not in {env_file} either"
