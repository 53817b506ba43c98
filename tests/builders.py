"""Shared YAML builders: the valid base set, accounts to add to it, and edits of its text.

Fixtures (``check``, ``cli``) and result helpers (``only``, ``where``) are in tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

# The type of conftest's ``cli`` fixture: ``cli("check", path) -> (exit code, stdout, stderr)``.
Cli = Callable[..., tuple[int, str, str]]

# VALID's smtp section, lines 4-12: the one smtp account, `outgoing`. A file of its own as "version: 1\n" + SMTP.
SMTP = """\
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: starttls
    test_recipient: it@example.com
    credentials:
      username: mailer@example.com
      password: {env: SMTP_PASSWORD}
      contact: IT desk
"""

# A valid base set (user anna, smtp `outgoing`, imap `info`); tests append or alter a few lines of it and count
# on its line numbers: line 6 is the smtp `host`, 7 its `encryption`, 11 its `password`, 14-23 the imap account
# `info`. Its lines, for counting positions:
#
#      1 version: 1                       13 imap:
#      2 users:                           14   - id: info
#      3   - id: anna                     15     scope: system
#      4 smtp:                            16     address: info@example.com
#      5   - id: outgoing                 17     host: imap.example.com
#      6     host: smtp.example.com       18     encryption: ssl
#      7     encryption: starttls         19     outgoing: outgoing
#      8     test_recipient: it@ex…       20     credentials:
#      9     credentials:                 21       username: info@example.com
#     10       username: mailer@ex…       22       password: {env: IMAP_INFO_PASSWORD}
#     11       password: {env: SMTP_…}    23       contact: IT desk
#     12       contact: IT desk
VALID = (
    "version: 1\n"
    "users:\n"
    "  - id: anna\n"
    + SMTP
    + """\
imap:
  - id: info
    scope: system
    address: info@example.com
    host: imap.example.com
    encryption: ssl
    outgoing: outgoing
    credentials:
      username: info@example.com
      password: {env: IMAP_INFO_PASSWORD}
      contact: IT desk
"""
)

# The credentials of VALID's imap account `info` (lines 20-23).
IMAP_CREDENTIALS = (
    "    credentials:\n      username: info@example.com\n      password: {env: IMAP_INFO_PASSWORD}\n"
    "      contact: IT desk\n"
)
assert IMAP_CREDENTIALS in VALID
# The password lines of VALID: the smtp entry's (line 11) and the imap account's (line 22).
SMTP_PASSWORD = "      password: {env: SMTP_PASSWORD}\n"
IMAP_PASSWORD = "      password: {env: IMAP_INFO_PASSWORD}\n"


# OAuth2 logins for ``with_oauth2``: the keys of an `oauth2` block, one a line.
M365_APP_ONLY = (
    "provider: microsoft",
    "tenant: contoso.onmicrosoft.com",
    "client_id: 00000000-0000-0000-0000-000000000000",
    "client_secret: {env: M365_CLIENT_SECRET}",
)
GOOGLE_SERVICE_ACCOUNT = ("provider: google", "service_account: {env: GOOGLE_SA_KEY}")


def with_oauth2(*keys: str, base: str = VALID, entry: str = "imap") -> str:
    """``base`` (VALID) with the `password` of the imap account `info` (``entry="smtp"``: of the smtp entry
    `outgoing`) replaced by an `oauth2` block of ``keys`` (default: M365_APP_ONLY), one key a line.

    In VALID, for imap: `oauth2` on line 22, its keys from line 23 on, then `contact`; for smtp: `oauth2` on line
    11, its keys from line 12 on, then `contact`, and everything after moves down by ``len(keys)``."""
    password = {"imap": IMAP_PASSWORD, "smtp": SMTP_PASSWORD}[entry]
    assert base.count(password) == 1, password
    block = "      oauth2:\n" + "".join(f"        {key}\n" for key in keys or M365_APP_ONLY)
    return base.replace(password, block, 1)


# The head of a one-entry smtp section (lines 1-5); schema tests append a key to the entry (line 6 on).
SMTP_HEAD = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: starttls
"""

# An unused second smtp entry, for ``edit(("imap:\n", RELAY))``: inserted before VALID's `imap:`, it takes lines
# 13-16 and `imap:` moves to 17.
RELAY = """\
  - id: relay
    host: relay.example.com
    encryption: starttls
    test_recipient: it@example.com
imap:
"""

# For ``edit(NO_CONTACT)``: VALID without the `contact` of its smtp credentials (line 12).
NO_CONTACT = (
    "      password: {env: SMTP_PASSWORD}\n      contact: IT desk\n",
    "      password: {env: SMTP_PASSWORD}\n",
)

# The smallest valid set, for tests about paths and configuration files rather than accounts.
MINIMAL = "version: 1\nusers:\n  - id: anna\n    name: Anna\n"


def insert_after(line: int, text: str, base: str = VALID) -> str:
    """``base`` with ``text`` (one or more whole lines) inserted after its 1-based ``line``."""
    lines = base.splitlines(keepends=True)
    return "".join([*lines[:line], text, *lines[line:]])


def replace_line(line: int, text: str, base: str = VALID) -> str:
    """``base`` with its 1-based ``line`` replaced by ``text`` (one line, without its line break)."""
    lines = base.splitlines(keepends=True)
    lines[line - 1] = text + "\n"
    return "".join(lines)


def edit(*changes: tuple[str, str], base: str = VALID, every: bool = False) -> str:
    """``base`` with each ``old`` replaced by ``new``, in turn. ``old`` must occur exactly once; with
    ``every=True`` at least once, and every occurrence is replaced."""
    text = base
    for old, new in changes:
        if every:
            assert old in text, old
        else:
            assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def imap_entry(
    id: str = "anna-mail",
    scope: str = "user",
    user: str | None = "anna",
    address: str = "anna@example.com",
    host: str = "imap.example.com",
    encryption: str = "ssl",
    outgoing: str = "outgoing",
    password: str = "IMAP_ANNA_PASSWORD",
    username: str | None = None,
    contact: str | None = "IT desk",
) -> str:
    """One imap account, an item of an `imap:` list: appended to VALID it starts on line 24 (`id` on 24, then
    one key a line). No `user` line when ``user`` is None, no `contact` line when ``contact`` is None; the
    username is the address unless given."""
    lines = [f"  - id: {id}", f"    scope: {scope}"]
    if user is not None:
        lines.append(f"    user: {user}")
    lines += [
        f"    address: {address}",
        f"    host: {host}",
        f"    encryption: {encryption}",
        f"    outgoing: {outgoing}",
        "    credentials:",
        f"      username: {username or address}",
        f"      password: {{env: {password}}}",
    ]
    if contact is not None:
        lines.append(f"      contact: {contact}")
    return "\n".join(lines) + "\n"


# A set in two files for cross-file tests: VALID's smtp entry alone (`outgoing`, lines 1-10: `- id` on 3), and
# user anna with her imap account (`id` on 5, its `outgoing` on 11).
SMTP_FILE = "version: 1\n" + SMTP
ANNA_FILE = "version: 1\nusers:\n  - id: anna\nimap:\n" + imap_entry(address="anna.muster@example.com")

# A personal account (scope user) on a role address: MC403, on the `scope` value. After VALID: line 25, column 12.
ROLE_ACCOUNT = imap_entry(id="office", address="office@example.com", password="IMAP_OFFICE_PASSWORD")


def with_host(value: str) -> str:
    """VALID with the imap account's host written as ``value``."""
    return VALID.replace("    host: imap.example.com\n", f"    host: {value}\n", 1)


def with_credentials(value: str) -> str:
    """VALID with the imap account's credentials written as the one scalar or flow value ``value``."""
    return VALID.replace(IMAP_CREDENTIALS, f"    credentials: {value}\n", 1)


def in_account(*lines: str) -> str:
    """VALID with ``lines`` added to the imap account `info` (from line 20 on), at its keys' indentation."""
    added = "".join(f"    {line}\n" for line in lines)
    return VALID.replace("    outgoing: outgoing\n", "    outgoing: outgoing\n" + added, 1)
