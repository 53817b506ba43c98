"""A placeholder left in the file: `<CHANGE ME: …>` or `change-me.invalid`.

`mailcfg init` writes what it cannot know as a placeholder: who can enter a password (`contact`), a Microsoft
tenant, an OAuth2 client id. The placeholders are valid values, so the fresh file passes the schema and can be
checked at once; this rule then points at each one until it is replaced with the real value. Any string of
an entry counts (a contact, a tenant, a client id, an address, a host, a username, a name), except the secret
keys, which hold only `{env: NAME}` references. Two forms are recognised (`validator/placeholders.py`):
`<CHANGE ME: what to write>` for text, and a name under `change-me.invalid` where the value must be a DNS
name (the tenant's schema pattern takes no `<` or spaces; `.invalid` never resolves).

Fails:

    credentials:
      username: info@gmx.de
      password: {env: MAILCFG_INFO_GMX_DE_PASSWORD}
      contact: "<CHANGE ME: who can enter this password>"

Passes:

    credentials:
      username: info@gmx.de
      password: {env: MAILCFG_INFO_GMX_DE_PASSWORD}
      contact: "IT desk <it@example.com>"
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from validator.credentials import SECRET_FIELDS
from validator.finding import Finding, Severity
from validator.placeholders import DOMAIN_PLACEHOLDER, find
from validator.sanitize import one_line

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

ID = "MC407"
SEVERITY = Severity.WARNING
TITLE = "placeholder left in the file"
_WHAT = {"users": "user", "smtp": "smtp entry", "imap": "imap account"}


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    for entry in accounts.raw:
        for path, placeholder in _placeholders(entry.data, ()):
            where = ".".join(str(part) for part in path)
            name = f" '{entry.id}'" if entry.id is not None else ""
            domain = placeholder.casefold().endswith(DOMAIN_PLACEHOLDER)
            yield Finding(
                ID,
                SEVERITY,
                f"`{where}` of {_WHAT.get(entry.section, entry.section)}{name} is still a placeholder: "
                f"{one_line(placeholder, 120)}",
                entry.origin.at(*path),
                "write the real "
                + ("name (what belongs there is in the comment beside it)" if domain else "value it asks for"),
                entry.id,
            )


def _placeholders(value: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, placeholder) of every string under ``value`` that holds one; secret keys are not looked into."""
    if isinstance(value, str):
        found = find(value)
        if found is not None:
            yield path, found
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key not in SECRET_FIELDS:
                yield from _placeholders(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _placeholders(item, (*path, index))
