"""The placeholders `mailcfg init` writes for what it cannot know, and how MC407 finds those left in a file.

Two forms, both valid where they stand, so a fresh file passes the schema and `mailcfg check` can point at each
one (MC407) until it is replaced:

- ``<CHANGE ME: what to write>`` for free text: a `contact`, an OAuth2 `client_id`, a display name. The angle
  brackets and the words make it plain in an editor and in a diff; it is valid text for the schema.
- ``change-me.invalid`` where the value must be a DNS name: a Microsoft `tenant`, whose schema pattern takes
  letters, digits, dots and hyphens only (no ``<``, no spaces). `.invalid` is reserved (RFC 2606/6761): such a
  name never resolves, so a forgotten placeholder can reach no real host; `mailcfg init` writes what belongs
  there in a comment beside it.

A leaf module: the writer (:mod:`validator.init`) and the rule (MC407) import it, nothing else.
"""

from __future__ import annotations

import re

# What `mailcfg init` writes where a domain name must stand.
DOMAIN_PLACEHOLDER = "change-me.invalid"
# The free-text form, found anywhere in a string (any case, with or without its description).
_TEXT = re.compile(r"<\s*change[ -]?me\b[^<>]*>", re.IGNORECASE)
# The domain-name form: a label `change-me` anywhere in a name under `.invalid` (`change-me.invalid`,
# `tenant.change-me.invalid`, or in a URL: `https://change-me.invalid/token`).
_DOMAIN = re.compile(r"(?<![a-z0-9-])change-me(?:\.[a-z0-9-]+)*\.invalid(?!\.?[a-z0-9-])", re.IGNORECASE)


def text(what: str) -> str:
    """The free-text placeholder describing ``what`` (no angle brackets in it: they would end it early)."""
    return f"<CHANGE ME: {what.replace('<', '(').replace('>', ')')}>"


def find(value: str) -> str | None:
    """The first placeholder ``value`` holds, as written there, or None."""
    found = [match for match in (_TEXT.search(value), _DOMAIN.search(value)) if match is not None]
    if not found:
        return None
    return min(found, key=lambda match: match.start()).group(0)
