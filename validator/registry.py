"""The rule registry: which rules exist, their default severities, titles and documentation, and their checks.

A leaf: at import time it needs only :mod:`validator.finding`. The rule modules (the plug-ins, one per rule
in :mod:`validator.rules`) are imported on first use of :data:`RULES`, inside :func:`_load`, so importing a
stage that makes findings (the loader, the schema stage, the configuration reader) imports no rule module,
and a rule module may import :mod:`validator.model` or :mod:`validator.accounts` at run time.

Each rule module is typed by a ``Protocol`` that mypy checks the module object against:
:class:`CatalogueRule` (``ID``, ``SEVERITY``, ``TITLE``; its findings are made by a stage: the loader, the
schema stage, the configuration, the suppression layer or the live checks) or :class:`CheckedRule` (adding
``check(accounts, context)``, run by the engine over the account set). :func:`_load` imports every rule
module by name and puts it in the list of its kind, so a module listed as checked without a ``check`` of
that signature is a type error.

A check that silently never runs, the other way round, is caught by ``tests/test_structure.py``: a rule
module defines no public function but ``check``, and defines ``check`` exactly when it is listed as checked.
A misnamed ``chek``, a ``check`` on a module listed as catalogue-only, a ``check`` missing from a module
listed as checked: each fails that test (helpers are private or live in ``validator/rules/_common.py``).

A new rule is one module plus two lines here: its import and its entry in the list of its kind.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Protocol

from validator.finding import Finding, Location, Severity

if TYPE_CHECKING:
    from validator.accounts import AccountSet, Context

    Check = Callable[[AccountSet, Context], Iterable[Finding]]


class CatalogueRule(Protocol):
    """A rule module whose findings a stage makes; the module documents the rule (its docstring)."""

    @property
    def ID(self) -> str: ...

    @property
    def SEVERITY(self) -> Severity: ...

    @property
    def TITLE(self) -> str: ...


class CheckedRule(CatalogueRule, Protocol):
    """A rule module that also checks the account set."""

    def check(self, accounts: AccountSet, context: Context) -> Iterable[Finding]: ...


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as the rest of mailcfg sees it."""

    id: str
    severity: Severity
    title: str
    doc: str
    check: Check | None


@cache
def _load() -> dict[str, Rule]:
    """Every rule, in id order; the rule modules are imported here, on first use."""
    from validator.rules import (
        mc001_syntax,
        mc002_duplicate_key,
        mc003_yaml11,
        mc004_refused,
        mc005_version,
        mc006_config,
        mc007_unused_suppression,
        mc101_required,
        mc102_unknown_key,
        mc103_type,
        mc104_value,
        mc105_email,
        mc106_host,
        mc201_outgoing,
        mc202_duplicate_id,
        mc203_user_ref,
        mc204_user_scope,
        mc205_duplicate_address,
        mc206_unused_smtp,
        mc301_plaintext_secret,
        mc302_insecure,
        mc303_shared_password,
        mc304_unused_credentials,
        mc305_contact,
        mc306_env_unset,
        mc307_password_retired,
        mc308_secret_file_mode,
        mc309_sops_scope,
        mc401_port_mismatch,
        mc402_port_nonstandard,
        mc403_role_address,
        mc404_test_recipient,
        mc405_several_smtp,
        mc406_provider_settings,
        mc407_placeholder,
        mc501_dns,
        mc502_connect,
        mc503_tls,
        mc504_certificate,
        mc505_expiring,
        mc506_starttls,
        mc507_auth,
        mc508_send,
        mc509_sent_folder,
        mc510_round_trip,
        mc511_host_not_allowed,
        mc512_token,
    )

    # Lists, not tuples: mypy then names the module that does not match and the member that differs.
    # Rules made by a stage, in id order.
    catalogue: list[CatalogueRule] = [
        mc001_syntax,
        mc002_duplicate_key,
        mc003_yaml11,
        mc004_refused,
        mc005_version,
        mc006_config,
        mc007_unused_suppression,
        mc101_required,
        mc102_unknown_key,
        mc103_type,
        mc104_value,
        mc105_email,
        mc106_host,
        mc301_plaintext_secret,
        mc501_dns,
        mc502_connect,
        mc503_tls,
        mc504_certificate,
        mc505_expiring,
        mc506_starttls,
        mc507_auth,
        mc508_send,
        mc509_sent_folder,
        mc510_round_trip,
        mc511_host_not_allowed,
        mc512_token,
    ]
    # Rules that check the account set, in id order.
    checked: list[CheckedRule] = [
        mc201_outgoing,
        mc202_duplicate_id,
        mc203_user_ref,
        mc204_user_scope,
        mc205_duplicate_address,
        mc206_unused_smtp,
        mc302_insecure,
        mc303_shared_password,
        mc304_unused_credentials,
        mc305_contact,
        mc306_env_unset,
        mc307_password_retired,
        mc308_secret_file_mode,
        mc309_sops_scope,
        mc401_port_mismatch,
        mc402_port_nonstandard,
        mc403_role_address,
        mc404_test_recipient,
        mc405_several_smtp,
        mc406_provider_settings,
        mc407_placeholder,
    ]
    rules = [_rule(module, None) for module in catalogue] + [_rule(module, module.check) for module in checked]
    return {rule.id: rule for rule in sorted(rules, key=lambda rule: rule.id)}


def _rule(module: CatalogueRule, check: Check | None) -> Rule:
    return Rule(module.ID, module.SEVERITY, module.TITLE, inspect.cleandoc(module.__doc__ or ""), check)


class _Registry(Mapping[str, Rule]):
    """The rules by id, in id order; the rule modules are imported on first use, not with this module."""

    def __getitem__(self, rule: str) -> Rule:
        return _load()[rule]

    def __iter__(self) -> Iterator[str]:
        return iter(_load())

    def __len__(self) -> int:
        return len(_load())

    def __contains__(self, rule: object) -> bool:
        return rule in _load()


RULES: Mapping[str, Rule] = _Registry()

_SELECTOR = re.compile(r"MC\d{0,3}\Z")


def is_selector(text: str) -> bool:
    """Whether ``text`` (upper case) is a rule id or a prefix of one (``MC3``, ``MC30``, ``MC301``)."""
    return bool(_SELECTOR.match(text)) and any(rule.startswith(text) for rule in RULES)


def finding(
    rule: str, message: str, location: Location, *, hint: str | None = None, account: str | None = None
) -> Finding:
    """A finding of ``rule`` at its default severity."""
    return Finding(rule, RULES[rule].severity, message, location, hint, account)
