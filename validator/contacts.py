"""Who can enter a secret: the `contact` of the credentials, named in the hints of the findings where it matters.

A missing secret (MC306), a rejected login (MC507) and a failed token request (MC512) are the moments someone
has to call the person who can enter the password or renew the login; their hints end with that person.
`mailcfg secrets` (:mod:`validator.handoff`) lists every secret with its contact. A leaf module: the rules and
the live stages import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validator.model import Credentials


def with_contact(hint: str | None, credentials: Credentials | None, verb: str = "enter") -> str | None:
    """``hint`` followed by who can ``verb`` (enter, renew) the secret: the credentials' `contact`, if any."""
    contact = credentials.contact if credentials is not None else None
    if contact is None:
        return hint
    who = f"who can {verb} it: {contact}"
    return f"{hint}; {who}" if hint else who
