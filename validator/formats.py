"""Format checks shared by the schema stage: e-mail addresses (MC105) and host names (MC106).

Each returns ``None`` when the value is fine, else a short reason that never repeats the value.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")


# The everyday address, which email-validator certainly accepts: checked here without importing it.
# Anything else (quoting, non-ASCII, reserved domains, `--` in a label, …) goes to the library.
_PLAIN_EMAIL = re.compile(
    r"(?=[^@]{1,64}@)[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z"
)
_RESERVED_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion"})


def email_problem(address: str) -> str | None:
    """Why ``address`` is not a usable mailbox address (syntax only; no DNS lookups)."""
    if (
        len(address) <= 254
        and _PLAIN_EMAIL.match(address)
        and "--" not in address.rpartition("@")[2]
        and address.rpartition(".")[2].lower() not in _RESERVED_TLDS
    ):
        return None
    return _library_email_problem(address)


@lru_cache(maxsize=4096)
def _library_email_problem(address: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    try:
        # test_environment: accepts the reserved .test domain used by test setups; no deliverability check.
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError as error:
        return str(error)
    return None


@lru_cache(maxsize=4096)
def host_problem(host: str) -> str | None:
    """Why ``host`` is neither a DNS name (IDNA allowed) nor an IP literal."""
    if "://" in host:
        return "give the bare host name, without a URL scheme"
    if host.startswith("[") and host.endswith("]"):
        # Brackets belong to URLs (`[::1]:993`); a socket connects to the bare address, so verify would fail.
        return "write the IPv6 address without brackets: " + host[1:-1]
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    if ":" in host:
        return "a host name has no port; put the port in `port`"
    name = host[:-1] if host.endswith(".") else host
    if not name:
        return "the host name is empty"
    if not name.isascii():
        import idna

        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            return "not a valid internationalised domain name"
    if len(name) > 253:
        return "a host name has at most 253 characters"
    if any(c.isspace() for c in name):
        return "a host name has no spaces"
    if not all(_LABEL.match(label) for label in name.split(".")):
        return "each dot-separated label needs 1-63 letters, digits or hyphens, not starting or ending with '-'"
    if name.rsplit(".", 1)[-1].isdigit():
        return "not a valid IP address, and a host name cannot end in a number"
    return None
