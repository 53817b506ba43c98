"""Account files encrypted with SOPS: recognising them, what is encrypted where, and decrypting them for `--sops`.

SOPS keeps a file's keys in clear and replaces values with ``ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]``; a top-level
``sops:`` mapping holds its metadata (the recipients, a MAC). So the structure of an encrypted account file can still
be checked. An encrypted value under a secret key (`password`, and the oauth2 `client_secret`, `refresh_token`,
`service_account`) is a secret kept in the file, not a plaintext one: its source is ``sops``. Any other encrypted
value is opaque: it is not format-checked, and MC309 recommends encrypting the secrets only.

``--sops`` (verify, folders) runs ``sops --decrypt`` on the file: that is a program the run was told to run, on a
file of the checked tree. SOPS finds the key to decrypt with from the file's own metadata; a pull request may
write that metadata, so only local keys (age, PGP) are used: a key service the file names (AWS or GCP KMS, Azure Key
Vault, HashiCorp Vault) is a host of the pull request's choosing that would receive the job's cloud credentials,
and is refused (MC511). The decrypted secret values never enter the document's data: they go to the run's secret
values, by :attr:`validator.secrets.Ref.key`, like a variable's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from validator.credentials import SECRET_FIELDS, secret_path
from validator.finding import Finding, Location, Severity, pointer_of
from validator.loader import SECTIONS, Document

_B64 = "[A-Za-z0-9+/=]"
ENCRYPTED = re.compile(rf"ENC\[AES256_GCM,data:{_B64}*,iv:{_B64}+,tag:{_B64}+,type:[a-z]+\]\Z")
METADATA_KEY = "sops"
# Key groups SOPS decrypts with locally, and those that send a request to a key service.
LOCAL_KEYS = ("age", "pgp")
KEY_SERVICES = ("kms", "gcp_kms", "azure_kv", "hc_vault")
# The `encrypted_regex` that encrypts exactly the secrets of the account format.
SECRETS_ONLY = "^(password|client_secret|refresh_token|service_account)$"
DECRYPT_SECONDS = 30.0


@dataclass(frozen=True)
class Encryption:
    """What SOPS encrypted in one document: the paths of encrypted secrets and of other (opaque) encrypted values,
    in document order, and the key services its metadata names."""

    secrets: frozenset[tuple[object, ...]]
    opaque: tuple[tuple[object, ...], ...]
    services: tuple[str, ...]
    # True once `--sops` decrypted the file: its other values are then checked like any others.
    decrypted: bool = False

    def covers(self, path: tuple[object, ...]) -> tuple[object, ...] | None:
        """The encrypted path ``path`` lies at or under, when it is exempt from the schema's checks, else None."""
        opaque = frozenset(() if self.decrypted else self.opaque)
        for length in range(len(path), 0, -1):
            head = path[:length]
            if head in self.secrets or head in opaque:
                return head
        return None


def is_encrypted(value: object) -> bool:
    return isinstance(value, str) and ENCRYPTED.match(value) is not None


def metadata(data: Any) -> Mapping[str, Any] | None:
    """The SOPS metadata of a document's data (a top-level `sops` mapping with a `mac` or `lastmodified`), else None."""
    if not isinstance(data, dict):
        return None
    meta = data.get(METADATA_KEY)
    if isinstance(meta, dict) and ("mac" in meta or "lastmodified" in meta):
        return meta
    return None


def split(document: Document) -> tuple[Document, Encryption] | None:
    """For a SOPS document: the document without its metadata key (what the schema stage checks) and what is
    encrypted in it; None for any other document."""
    meta = metadata(document.data)
    if meta is None:
        return None
    data = {key: value for key, value in document.data.items() if key != METADATA_KEY}
    secrets: set[tuple[object, ...]] = set()
    opaque: list[tuple[object, ...]] = []
    for path in _encrypted_paths(data, ()):
        (secrets.add(path) if _secret_place(path) else opaque.append(path))
    services = tuple(kind for kind in KEY_SERVICES if meta.get(kind))
    return replace(document, data=data), Encryption(frozenset(secrets), tuple(opaque), services)


def _encrypted_paths(value: Any, path: tuple[object, ...]) -> Iterator[tuple[object, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _encrypted_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _encrypted_paths(item, (*path, index))
    elif is_encrypted(value):
        yield path


def _secret_place(path: tuple[object, ...]) -> bool:
    """Whether ``path`` is where an entry keeps a secret: `<section>/<n>/credentials/password` or
    `…/credentials/oauth2/<grant key>`."""
    if len(path) < 4 or path[0] not in SECTIONS or not isinstance(path[1], int):
        return False
    key = path[-1]
    return isinstance(key, str) and key in SECRET_FIELDS and path[2:] == secret_path(key)


def with_secrets(item: dict[str, Any], entry: tuple[object, ...], encryption: Encryption, file: str) -> dict[str, Any]:
    """A copy of an entry's ``item`` (at ``entry``, `("imap", 0)`) whose encrypted secrets are secrets of source
    ``sops``, for the models; the item itself when none is encrypted."""
    from validator.model import Secret

    found = [path for path in encryption.secrets if path[:2] == entry]
    if not found:
        return item
    out = dict(item)
    for path in found:
        holder = out
        for key in path[2:-1]:
            inner = holder.get(str(key))
            if not isinstance(inner, dict):
                break
            holder[str(key)] = holder = dict(inner)
        else:
            holder[str(path[-1])] = Secret.encrypted(file, pointer_of(path))
    return out


def recipients(meta: Mapping[str, Any]) -> tuple[str, ...]:
    """The local key groups the metadata names (age, pgp)."""
    return tuple(kind for kind in LOCAL_KEYS if meta.get(kind))


@dataclass(frozen=True)
class Decrypted:
    """``sops --decrypt``'s outcome for one file: the values of its encrypted secrets (by reference key) and the
    decrypted data of its other values; or the finding saying why not."""

    values: dict[str, str]
    data: Any = None
    finding: Finding | None = None


def decrypt(document: Document, encryption: Encryption, path: str) -> Decrypted:
    """Decrypt the file at ``path`` (``document`` is its only document) with the `sops` program."""
    import json
    import subprocess

    from validator.secrets import program_path

    at = document.location((METADATA_KEY,), key=True)
    if encryption.services:
        kinds = ", ".join(encryption.services)
        return Decrypted({}, finding=Finding(
            "MC511", Severity.ERROR,
            f"the file's SOPS metadata names a key service ({kinds}); --sops decrypts with age and PGP keys only",
            at,
            "a key service named by the file is a host the file chose, and would receive this job's credentials: "
            "decrypt in a step you trust (sops exec-env on a file of your own), or use age keys",
        ))
    if len(document.source.documents) != 1:
        return Decrypted({}, finding=_failed(at, "a SOPS file with several YAML documents is not supported"))
    program = program_path("sops")
    if program is None:
        return Decrypted({}, finding=_failed(at, "--sops needs the sops program on PATH", "install sops"))
    try:
        done = subprocess.run(
            [program, "--decrypt", "--input-type", "yaml", "--output-type", "json", path],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=DECRYPT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Decrypted({}, finding=_failed(at, f"sops did not finish within {DECRYPT_SECONDS:g} s"))
    except OSError as error:
        return Decrypted({}, finding=_failed(at, f"sops could not start ({error.strerror})"))
    if done.returncode:
        # Its error output is not shown: it may quote the file's values.
        return Decrypted({}, finding=_failed(at, f"sops --decrypt exited with status {done.returncode}"))
    try:
        data = json.loads(done.stdout)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Decrypted({}, finding=_failed(at, "sops --decrypt gave no mapping"))
    values: dict[str, str] = {}
    name = document.source.name
    for secret in encryption.secrets:
        value = _get(data, secret)
        if isinstance(value, str) and value:
            values[key(name, pointer_of(secret))] = value
            _set(data, secret, _get(document.data, secret))  # the plaintext never enters the document's data
    return Decrypted(values, data)


def key(file: str, pointer: str) -> str:
    """The name of a SOPS secret's value among the run's secret values (see validator.secrets.Ref.key)."""
    return f"sops:{file}#{pointer}"


def _failed(at: Location, message: str, hint: str | None = None) -> Finding:
    return Finding(
        "MC306", Severity.ERROR, f"cannot decrypt this SOPS file: {message}", at,
        hint or "run `sops --decrypt FILE` by hand to see why (mailcfg never shows its output: it may hold values)",
    )


def _get(data: Any, path: tuple[object, ...]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _set(data: Any, path: tuple[object, ...], value: Any) -> None:
    holder = _get(data, path[:-1])
    if isinstance(holder, dict):
        holder[path[-1]] = value
