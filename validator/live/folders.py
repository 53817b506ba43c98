"""`mailcfg folders`: log in to each imap account exactly as `verify` does and list its folders.

This is the application dialog's "Gesendet" list: every folder with its RFC 6154 special-use flag, the configured
`sent_folder` marked, and the folder the server flags ``\\Sent``. The checks are `verify`'s imap checks (the same
plan, trust screen, runner, session, token stage and login); only the step after the login differs: instead of
looking for `sent_folder`, it lists the folders.

Folder names come from the server: each is decoded from modified UTF-7 on its own (one broken name does not
lose the list) and scrubbed by the check's probe, so a server that names a folder after the password shows
nothing of it. They are kept exact otherwise; the reports make them one printable line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from validator.live.plan import Check
from validator.live.probe import Probe
from validator.live.result import FAILED, SKIPPED, Interrupted, LiveResult, VerifyOptions

if TYPE_CHECKING:
    from validator.accounts import AccountSet
    from validator.live.runner import ImapStep

# RFC 6154's special-use attributes, in the spelling the reports use.
SPECIAL_USE = ("\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash")
_SPECIAL = {flag.lower(): flag for flag in SPECIAL_USE}
# Attributes that say a name holds no messages (a hierarchy level only, or a folder that is gone).
NOT_SELECTABLE = ("\\noselect", "\\nonexistent")
# Folders kept per account; a server listing more is reported as cut (no mailbox of a business has that many).
MAX_FOLDERS = 5000


@dataclass(frozen=True)
class Folder:
    """One folder: its decoded name and its LIST attributes (``\\HasNoChildren``, ``\\Sent``, …)."""

    name: str
    flags: tuple[str, ...]

    @property
    def special_use(self) -> str | None:
        """The first RFC 6154 special-use attribute among the flags (``\\Sent``), or None."""
        return next((_SPECIAL[flag.lower()] for flag in self.flags if flag.lower() in _SPECIAL), None)

    @property
    def selectable(self) -> bool:
        return not any(flag.lower() in NOT_SELECTABLE for flag in self.flags)


@dataclass(frozen=True)
class Listing:
    """The folders of one imap account, INBOX first, then by name; ``sent_folder`` is the configured one.

    ``cut``: how many folders beyond MAX_FOLDERS were left out. ``listed_by``: for an account whose login another
    account of the set shares, the id of the account whose session listed the folders ('' otherwise)."""

    sent_folder: str
    folders: tuple[Folder, ...]
    cut: int = 0
    listed_by: str = ""

    @property
    def server_sent(self) -> tuple[str, ...]:
        """The folders the server flags ``\\Sent``."""
        return tuple(folder.name for folder in self.folders if folder.special_use == "\\Sent")

    @property
    def sent_folder_exists(self) -> bool:
        return any(folder.name == self.sent_folder for folder in self.folders)


def list_folders(
    accounts: AccountSet, options: VerifyOptions, env: Mapping[str, str], listings: dict[str, Listing]
) -> list[LiveResult]:
    """Log in to every imap account the run wants and may contact; one result per account, in the set's order.

    The listing of each account that was listed lands in ``listings`` under its id. Raises UsageError before any
    connection when the run names no trusted host, ``--only`` names no imap account, or the plan is larger than
    ``options.max_checks``; Interrupted on Ctrl-C.
    """
    import asyncio

    from validator.live.plan import plan
    from validator.live.policy import require_budget, require_hosts, screen
    from validator.live.runner import run_all

    _imap_ids(accounts, options.only)
    options = replace(options, send_test=False, round_trip=False)
    checks = [check for check in plan(accounts, options) if check.protocol == "imap"]
    require_hosts(checks, options.trust, env, "folders")
    values = dict(env)  # the secret values: the files and credentials are read into it, the commands' join later
    finished = screen(checks, options.trust, values)
    require_budget(checks, finished, options.max_checks, "folders")
    runnable = [(index, check) for index, check in enumerate(checks) if index not in finished]
    found: dict[str, Listing] = {}
    try:
        asyncio.run(run_all(runnable, options, values, None, finished, lister(found)))
    except KeyboardInterrupt:
        raise Interrupted([finished[index] for index in sorted(finished)]) from None
    results = [finished[index] for index in range(len(checks))]
    for check, result in zip(checks, results, strict=True):
        # A worker cut loose by its deadline may still have listed: the result (failed) is what counts.
        if result.status != FAILED and check.account in found:
            listings[check.account] = found[check.account]
    _shared(checks, results, listings, values)
    return results


def lister(listings: dict[str, Listing]) -> ImapStep:
    """The step after the login: LIST every folder into ``listings`` (in the check's worker thread)."""

    def step(check: Check, probe: Probe, client: Any) -> None:
        listings[check.account] = _list(check, probe, client)

    return step


def _list(check: Check, probe: Probe, client: Any) -> Listing:
    from validator.live.imap import ERRORS

    probe.start("folders")
    # Raw names, decoded here one by one: IMAPClient would decode them all at once, and one name that is no valid
    # modified UTF-7 would then lose the whole list.
    client.folder_encode = False
    failures: tuple[type[Exception], ...] = (*ERRORS, ValueError)  # ValueError: a LIST answer that does not parse
    try:
        rows = client.list_folders()
    except failures as error:
        reason = probe.outside(str(error), "server reply") if str(error) else type(error).__name__
        probe.fail(f"LIST failed ({reason})")
    folders = sorted(
        (_folder(probe, flags, name) for flags, _, name in rows[:MAX_FOLDERS]),
        key=lambda folder: (folder.name.upper() != "INBOX", folder.name.casefold(), folder.name),
    )
    listing = Listing(
        probe.scrub(sent_folder(check), "sent_folder"), tuple(folders), cut=max(len(rows) - MAX_FOLDERS, 0)
    )
    probe.ok(f"{len(rows)} folders")
    return listing


def sent_folder(check: Check) -> str:
    """The account's configured `sent_folder` (the format's default when it names none)."""
    return str(getattr(check.entry.model, "sent_folder", "Sent"))


def _folder(probe: Probe, flags: Any, name: Any) -> Folder:
    shown = tuple(probe.scrub(_text(flag), "folder flag") for flag in (flags or ()))
    return Folder(probe.scrub(decode_name(name), "folder name"), shown)


def decode_name(name: Any) -> str:
    """A folder name as the server sent it, decoded from modified UTF-7 (RFC 3501 5.1.3); a name that is no valid
    modified UTF-7 (a server sending UTF-8 without being asked to) is read as UTF-8 instead."""
    from imapclient import imap_utf7

    if isinstance(name, bytes):
        try:
            return str(imap_utf7.decode(name))
        except ValueError:  # UnicodeDecodeError: a broken shift sequence
            return name.decode("utf-8", "replace")
    return _text(name)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _imap_ids(accounts: AccountSet, only: tuple[str, ...]) -> None:
    """``--only`` must name imap accounts: anything else would list nothing and pass."""
    from validator.errors import UsageError
    from validator.suggest import did_you_mean

    known = [entry.id for entry in accounts.imap]
    smtp = {entry.id for entry in accounts.smtp}
    for name in only:
        if name in known:
            continue
        if name in smtp:
            raise UsageError(f"--only {name!r} is an smtp entry; folders lists the folders of imap accounts")
        hint = did_you_mean(name, known) or f"the imap ids are: {', '.join(sorted(known)[:20]) or 'none'}"
        raise UsageError(f"--only {name!r}: no imap account has this id; {hint}")


def _shared(
    checks: list[Check], results: list[LiveResult], listings: dict[str, Listing], env: Mapping[str, str]
) -> None:
    """An account whose login another account already made (the screen tries each login once) gets that account's
    folders, with its own `sent_folder` marked."""
    from validator.live.policy import login_key

    first: dict[object, Check] = {}
    for check, result in zip(checks, results, strict=True):
        key = login_key(check, check.login, env)
        if result.status == SKIPPED and result.stage == "plan" and key in first:
            origin = first[key]
            login = check.login
            if origin.account in listings and login is not None:
                secrets = [(login.username, env.get(name, "")) for _, name in login.variables]
                own = Probe(check, secrets).scrub(sent_folder(check), "sent_folder")
                listings[check.account] = replace(listings[origin.account], sent_folder=own, listed_by=origin.account)
        elif key is not None and result.stage != "policy":  # a withheld login was never made
            first.setdefault(key, check)
