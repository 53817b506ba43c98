"""Live checks (``mailcfg verify``): log in to the real servers like a mail client's "verify settings".

The small interface the rest of mailcfg sees: :class:`VerifyOptions` in, :func:`verify` runs every check
concurrently within its limits and returns :class:`LiveResult` values, each carrying its MC5xx findings
located in the YAML. All network libraries stay inside this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from validator.live.result import Interrupted, LiveResult, Stage, VerifyOptions

if TYPE_CHECKING:
    from validator.accounts import AccountSet
    from validator.live.hostlimit import HostReport

__all__ = ["Interrupted", "LiveResult", "Stage", "VerifyOptions", "verify"]


def verify(
    accounts: AccountSet,
    options: VerifyOptions,
    env: Mapping[str, str],
    progress: Callable[[int, int], None] | None = None,
    hosts: list[HostReport] | None = None,
) -> list[LiveResult]:
    """Run every planned check the trust settings allow; the results come back in plan order. ``hosts`` receives
    what the adaptive per-host limit did at each host contacted (also when interrupted).

    Raises UsageError before any connection when the run names no trusted host or the plan is larger than
    ``options.max_checks``.
    """
    import asyncio

    from validator.live.plan import plan
    from validator.live.policy import require_budget, require_hosts, screen
    from validator.live.runner import run_all

    _known_ids(accounts, options.only)
    checks = plan(accounts, options)
    require_hosts(checks, options.trust, env)
    values = dict(env)  # the secret values: the files and credentials are read into it, the commands' join later
    finished = screen(checks, options.trust, values)
    require_budget(checks, finished, options.max_checks)
    runnable = [(index, check) for index, check in enumerate(checks) if index not in finished]
    try:
        asyncio.run(run_all(runnable, options, values, progress, finished, hosts=hosts))
    except KeyboardInterrupt:
        # The running checks were cancelled and cleaned up (round-trip messages deleted) on the way out.
        raise Interrupted([finished[index] for index in sorted(finished)]) from None
    return [finished[index] for index in range(len(checks))]


def _known_ids(accounts: AccountSet, only: tuple[str, ...]) -> None:
    """``--only`` with an id no entry has would check nothing and pass: a usage error instead."""
    from validator.errors import UsageError
    from validator.suggest import did_you_mean

    known = [entry.id for entry in accounts.smtp] + [entry.id for entry in accounts.imap]
    for name in only:
        if name not in known:
            hint = did_you_mean(name, known) or f"the ids are: {', '.join(sorted(known)[:20]) or 'none'}"
            raise UsageError(f"--only {name!r}: no smtp or imap entry has this id; {hint}")
