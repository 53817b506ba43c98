"""The rule registry: one module per rule, listed by hand; each module's docstring is its documentation.

A rule module defines ``ID``, ``SEVERITY``, ``TITLE`` and, when it is checked over the account set rather
than by the loader or the schema stage, ``check(accounts, context) -> Iterable[Finding]``.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from validator.finding import Finding, Location, Severity

if TYPE_CHECKING:
    from validator.model import AccountSet, Context

    Check = Callable[[AccountSet, Context], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as the rest of mailcfg sees it."""

    id: str
    severity: Severity
    title: str
    doc: str
    check: Check | None


def _rule(module: ModuleType) -> Rule:
    return Rule(
        module.ID, module.SEVERITY, module.TITLE, inspect.cleandoc(module.__doc__ or ""), getattr(module, "check", None)
    )


# The rules, in id order. Listed by hand, as a plug-in registry should be: a new rule is one module plus one line.
_MODULES = (
    "mc001_syntax",
    "mc002_duplicate_key",
    "mc003_yaml11",
    "mc004_refused",
    "mc005_version",
    "mc006_config",
    "mc007_unused_suppression",
    "mc101_required",
    "mc102_unknown_key",
    "mc103_type",
    "mc104_value",
    "mc105_email",
    "mc106_host",
    "mc201_outgoing",
    "mc202_duplicate_id",
    "mc203_user_ref",
    "mc204_user_scope",
    "mc205_duplicate_address",
    "mc206_unused_smtp",
    "mc301_plaintext_secret",
    "mc302_insecure",
    "mc303_shared_password",
    "mc304_unused_credentials",
    "mc305_contact",
    "mc306_env_unset",
    "mc401_port_mismatch",
    "mc402_port_nonstandard",
    "mc403_role_address",
    "mc404_test_recipient",
    "mc405_several_smtp",
    "mc501_dns",
    "mc502_connect",
    "mc503_tls",
    "mc504_certificate",
    "mc505_expiring",
    "mc506_starttls",
    "mc507_auth",
    "mc508_send",
    "mc509_sent_folder",
    "mc510_round_trip",
    "mc511_host_not_allowed",
)

RULES: dict[str, Rule] = {
    rule.id: rule for rule in (_rule(importlib.import_module(f"validator.rules.{name}")) for name in _MODULES)
}


_SELECTOR = re.compile(r"MC\d{0,3}\Z")


def is_selector(text: str) -> bool:
    """Whether ``text`` (upper case) is a rule id or a prefix of one (``MC3``, ``MC30``, ``MC301``)."""
    return bool(_SELECTOR.match(text)) and any(rule.startswith(text) for rule in RULES)


def finding(
    rule: str, message: str, location: Location, *, hint: str | None = None, account: str | None = None
) -> Finding:
    """A finding of ``rule`` at its default severity."""
    return Finding(rule, RULES[rule].severity, message, location, hint, account)
