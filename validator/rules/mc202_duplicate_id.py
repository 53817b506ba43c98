"""An id is used twice.

smtp and imap ids share one namespace across all files of the run (`mailcfg verify --only ID` names
either), users have their own. The finding sits on the second occurrence and names the first.

Fails:

    imap:
      - id: info
        # ...
      - id: info
        # ...

Passes:

    imap:
      - id: info
        # ...
      - id: office
        # ...
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from validator.finding import Finding, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context, RawEntry

ID = "MC202"
SEVERITY = Severity.ERROR
TITLE = "duplicate id"


def check(accounts: AccountSet, context: Context) -> Iterator[Finding]:
    first: dict[tuple[str, str], RawEntry] = {}
    for entry in accounts.raw:
        if entry.id is None:
            continue
        namespace = "users" if entry.section == "users" else "accounts"
        seen = first.setdefault((namespace, entry.id), entry)
        if seen is not entry:
            what = "user" if namespace == "users" else "account"
            yield Finding(
                ID,
                SEVERITY,
                f"duplicate {what} id '{entry.id}', first defined at {seen.origin}",
                entry.origin.at("id"),
                "ids must be unique across all files",
                entry.id,
            )
