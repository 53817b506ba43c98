"""Which planned checks may run under the run's trust settings, before anything is contacted.

A refused check never reaches the network (not even DNS): its result is an MC511 finding that names the
flag allowing it. Identical logins (host, port, username and password) are tried once, so a set that
repeats one login cannot multiply the attempts a server sees.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from validator import secrets
from validator.credentials import SECRET_LABELS, secret_path
from validator.errors import UsageError
from validator.live.plan import Check, Login
from validator.live.probe import Probe, StageFailed
from validator.live.result import SKIPPED, LiveResult, Stage
from validator.sanitize import one_line
from validator.trust import Trust, normalize_host

if TYPE_CHECKING:
    from validator.secrets import Ref


@dataclass(frozen=True)
class Refusal:
    """Why a check is withheld, the flag that would allow it, and where in the YAML the cause is."""

    message: str
    hint: str
    at: tuple[object, ...] = ("host",)
    login_entry: bool = False


def refusal(check: Check, trust: Trust, env: Mapping[str, str]) -> Refusal | None:
    """The first trust setting ``check`` falls outside of, or None when it may run."""
    target = check.round_trip
    sender = target.entry.model if target is not None else None
    for host, at, role in (
        (check.host, ("host",), ""),
        *(((sender.host, ("outgoing",), "round-trip sender "),) if sender is not None else ()),
    ):
        if not trust.host_allowed(host):
            return Refusal(
                f"{role}host {host} matches no --allow-host pattern; not contacted",
                f"if you trust it: --allow-host {host} (or MAILCFG_ALLOW_HOST)",
                at,
            )
    for login, own in ((check.login, True), (target.login if target is not None else None, False)):
        if login is None:
            continue
        for key, ref in login.refs:
            source = _source(key, ref, own, trust)
            if source is not None:
                return source
        oauth2 = _oauth2(login, own, trust, env)
        if oauth2 is not None:
            return oauth2
    insecure = _insecure(check, trust)
    if insecure is not None:
        return insecure
    if check.send_to and not trust.recipient_allowed(check.send_to):
        return _recipient(check.send_to, ("test_recipient",), "--send-test")
    if target is not None:
        address = str(getattr(check.entry.model, "address", ""))
        if not trust.recipient_allowed(address):
            return _recipient(address, ("address",), "--round-trip")
    return None


def _source(key: str, ref: Ref, own: bool, trust: Trust) -> Refusal | None:
    """A secret's source must be allowed: a variable by --allow-env, a file by --allow-secret-dir, a command's program
    by --allow-command (none of them is read or run when refused)."""
    at = (*secret_path(key), ref.source) if own else ("outgoing",)
    label = SECRET_LABELS[key]
    if ref.source == "env" and not trust.env_allowed(ref.name):
        return Refusal(
            f"{label} variable {ref.name} matches no --allow-env pattern; not read, nothing contacted",
            f"if the variable is meant for this: --allow-env {ref.name} (or MAILCFG_ALLOW_ENV)",
            at,
            login_entry=own,
        )
    if ref.source == "command" and not trust.command_allowed(ref.name):
        program = one_line(ref.name)
        return Refusal(
            f"{label} `command` program {program} is not allowed for this run; not started, nothing contacted",
            f"if the run may start it: --allow-command {program} (or MAILCFG_ALLOW_COMMAND)",
            at,
            login_entry=own,
        )
    if ref.source in ("file", "credential"):
        found = secrets.locate(ref, trust.places)
        if isinstance(found, secrets.Problem) and found.rule == "MC511":
            return Refusal(f"{label} {found.message}, nothing contacted", found.hint, at, login_entry=own)
    return None


def _read(check: Check, trust: Trust, values: dict[str, str]) -> LiveResult | None:
    """Read the files and credentials ``check`` logs in with into ``values`` (before any connection); the failed
    result of the check when one cannot be read (MC306)."""
    target = check.round_trip
    for login, own in ((check.login, True), (target.login if target is not None else None, False)):
        for key, ref in login.refs if login is not None else ():
            if ref.source not in ("file", "credential") or ref.key in values:
                continue
            try:
                values[ref.key] = secrets.read(ref, trust.places)
            except secrets.SecretError as error:
                problem = error.problem
                probe = Probe(check)
                probe.start("secret")
                with contextlib.suppress(StageFailed):
                    at = (*secret_path(key), ref.source) if own else ("outgoing",)
                    message = f"{SECRET_LABELS[key]} {problem.message}; nothing contacted"
                    probe.fail(message, problem.hint or None, at=at, rule=problem.rule, login_entry=own)
                return probe.result()
    return None


def _oauth2(login: Login, own: bool, trust: Trust, env: Mapping[str, str]) -> Refusal | None:
    """An oauth2 login's token endpoint must be a trusted host, and its `command` an allowed program."""
    from validator.live.tokens import endpoint, host_of

    oauth2 = login.oauth2
    if oauth2 is None:
        return None
    if oauth2.command is not None:
        program = oauth2.command[0]
        if not trust.command_allowed(program):
            return Refusal(
                f"oauth2 `command` program {program} is not allowed for this run; not started, nothing contacted",
                f"if the run may start it: --allow-command {program} (or MAILCFG_ALLOW_COMMAND)",
                ("credentials", "oauth2", "command") if own else ("outgoing",),
                login_entry=own,
            )
        return None
    url = endpoint(login, env)
    host = host_of(url) if url else ""
    if host and not trust.host_allowed(host):
        return Refusal(
            f"token endpoint {host} matches no --allow-host pattern; no secret sent, nothing contacted",
            f"if you trust it: --allow-host {host} (or MAILCFG_ALLOW_HOST)",
            ("credentials", "oauth2", "token_url" if oauth2.token_url else "provider") if own else ("outgoing",),
            login_entry=own,
        )
    return None


def _insecure(check: Check, trust: Trust) -> Refusal | None:
    """A login over ``encryption: none`` needs the YAML's ``allow_insecure`` and the run's ``--allow-insecure``."""
    sessions = [(check.host, check.encryption, check.allow_insecure, check.login, ("host",))]
    if check.round_trip is not None:
        model = check.round_trip.entry.model
        sessions.append((model.host, model.encryption, model.allow_insecure, check.round_trip.login, ("outgoing",)))
    for host, encryption, yaml_allows, login, at in sessions:
        # Without `allow_insecure: true` the check itself refuses at the auth stage, telling the YAML's side.
        if encryption == "none" and login is not None and yaml_allows and not trust.insecure_allowed(host):
            return Refusal(
                f"a cleartext login to {host} needs the run's confirmation; `allow_insecure: true` alone is not"
                " enough; not contacted",
                f"if a password may cross the network unencrypted there: --allow-insecure {host}",
                at,
            )
    return None


def _recipient(address: str, at: tuple[object, ...], option: str) -> Refusal:
    return Refusal(
        f"{option} would send to {address}, which matches no --allow-recipient pattern; not contacted",
        "list the addresses the run may send to: --allow-recipient '*@example.com' (or MAILCFG_ALLOW_RECIPIENT)",
        at,
    )


def withheld(check: Check, reason: Refusal) -> LiveResult:
    """The MC511 result of a refused check."""
    probe = Probe(check)
    probe.start("policy")
    with contextlib.suppress(StageFailed):
        probe.fail(reason.message, reason.hint, at=reason.at, rule="MC511", login_entry=reason.login_entry)
    return probe.result()


def duplicate(check: Check, first: Check) -> LiveResult:
    """The result of a check whose login another check already makes."""
    message = f"same login as {first.protocol} '{first.account}' (host, port, username, password): tried once"
    return LiveResult(
        check.account,
        check.protocol,
        check.host,
        check.port,
        SKIPPED,
        "plan",
        message,
        0.0,
        (Stage("plan", SKIPPED, 0.0, message),),
    )


def screen(checks: list[Check], trust: Trust, env: dict[str, str]) -> dict[int, LiveResult]:
    """Results for the checks that must not run (refused, duplicate, or with a secret file that cannot be read), by
    plan index.

    ``env`` holds the run's secret values by key (:attr:`validator.secrets.Ref.key`): the variables, and, read here
    before any connection, the files and credentials of each check the trust settings let run. A refused check's
    files are never opened and its commands never run.
    """
    out: dict[int, LiveResult] = {}
    seen: dict[tuple[str, str, int, str, str], Check] = {}
    for index, check in enumerate(checks):
        reason = refusal(check, trust, env)
        if reason is None:
            failed = _read(check, trust, env)
            if failed is not None:
                out[index] = failed
                continue
            reason = refusal(check, trust, env)  # a service-account key read from a file names its token endpoint
        if reason is not None:
            out[index] = withheld(check, reason)
            continue
        key = login_key(check, check.login, env)
        if key is None or check.send_to or check.round_trip is not None:
            continue  # a check that also sends does more than log in: never folded into another
        if key in seen:
            out[index] = duplicate(check, seen[key])
        else:
            seen[key] = check
    return out


def login_key(check: Check, login: Login | None, env: Mapping[str, str]) -> tuple[str, str, int, str, str] | None:
    """What makes two logins the same login (protocol, host, port, username, secret); None without a login."""
    if login is None:
        return None
    # An oauth2 login is the same login only with the same credentials entry (its token source).
    # A password by its value (or, for a command not yet run, by the command); an oauth2 login by its credentials.
    secret = env.get(login.env, login.env) if login.oauth2 is None else f"oauth2:{login.entry.id}"
    return (check.protocol, check.host, check.port, login.username, secret)


def require_hosts(checks: list[Check], trust: Trust, env: Mapping[str, str], command: str = "verify") -> None:
    """Deny by default: a run that names no trusted host stops before any connection, saying what to pass."""
    from validator.live.tokens import endpoint, host_of

    if trust.names_hosts or not checks:
        return
    targets: dict[tuple[str, int], list[str]] = {}
    for check in checks:
        targets.setdefault((check.host, check.port), []).append(f"{check.protocol} {check.account}")
        login = check.login
        url = endpoint(login, env) if login is not None else None
        if url and login is not None:
            port = urlsplit(url).port or 443
            targets.setdefault((normalize_host(host_of(url)), port), []).append(f"token endpoint of {login.entry.id}")
        if check.round_trip is not None:
            model = check.round_trip.entry.model
            targets.setdefault((normalize_host(model.host), model.effective_port), []).append(
                f"smtp {check.round_trip.entry.id} (round trip)"
            )
    lines = [f"  {host}:{port} ({', '.join(dict.fromkeys(who))})" for (host, port), who in sorted(targets.items())]
    hosts = sorted({host for host, _ in targets})
    flags = " ".join(f"--allow-host {host}" for host in hosts)
    raise UsageError(
        f"{command} contacts no host the run does not trust, and this run names none. It would contact:\n"
        + "\n".join(lines)
        + f"\nTo trust them, pass: {flags}\n"
        + f"  (in a workflow: MAILCFG_ALLOW_HOST='{' '.join(hosts)}'); for YAML you wrote yourself: --allow-any-host"
    )


def require_budget(
    checks: list[Check], screened: Mapping[int, LiveResult], max_checks: int, command: str = "verify"
) -> None:
    """A plan larger than ``--max-checks`` stops before any connection (a sprayed password, a mass mailing)."""
    count = len(checks) - len(screened)
    if count > max_checks:
        raise UsageError(
            f"{command} would make {count} checks, more than --max-checks {max_checks}; nothing was contacted."
            f" If the set really is that large: --max-checks {count}"
        )
