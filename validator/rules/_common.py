"""Helpers shared by rule modules, so that no rule imports another.

Not a rule: it defines no ``ID``, and the registry does not list it. The port tables come from
``validator.plain.DEFAULT_PORTS`` (the models' too), so that the rules, the schema stage (its hint for
``encryption: tls``) and the live checks agree on them.
"""

from __future__ import annotations

from functools import cache

from validator.plain import DEFAULT_PORTS


@cache
def usual_ports(kind: str, encryption: str) -> frozenset[int]:
    """The usual ports of ``kind`` (smtp, imap) for ``encryption``.

    For ``ssl`` the implicit-TLS port (SMTP 465, IMAP 993); for ``none`` and ``starttls`` every port of
    ``kind`` that starts in plain text (SMTP 25 and 587, IMAP 143).
    """
    ports = DEFAULT_PORTS[kind]
    if encryption == "ssl":
        return frozenset({ports["ssl"]})
    return frozenset(port for mode, port in ports.items() if mode != "ssl")


@cache
def either_protocol(encryption: str) -> frozenset[int]:
    """The usual ports of ``encryption`` for SMTP or IMAP: for ``ssl`` 465 and 993, for ``none`` and ``starttls``
    25, 587 and 143."""
    return frozenset(port for kind in DEFAULT_PORTS for port in usual_ports(kind, encryption))


def contradicts(port: int | None, encryption: str) -> bool:
    """Whether ``port`` speaks the other TLS mode than ``encryption``, for either protocol.

    A plain-text port (25, 587, 143) with ``ssl``, an implicit-TLS port (465, 993) with ``starttls`` or
    ``none``. An unset port never contradicts.
    """
    if port is None:
        return False
    return port in either_protocol("starttls") if encryption == "ssl" else port in either_protocol("ssl")
