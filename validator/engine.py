"""The pure core of ``mailcfg check``: paths and options in, a :class:`~validator.outcome.Result` out; no printing,
no exit."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from validator import suppress
from validator.config import Config
from validator.errors import UsageError
from validator.finding import Finding, Location, Severity
from validator.loader import Limits, SourceFile, discover, load_file
from validator.outcome import Result, order_key
from validator.registry import RULES, is_selector
from validator.secrets import Places

if TYPE_CHECKING:
    from validator.accounts import AccountSet
    from validator.live.folders import Listing
    from validator.live.hostlimit import HostReport
    from validator.live.result import LiveResult, VerifyOptions
    from validator.loader import Document
    from validator.sops import Encryption
    from validator.trust import Trust

DEFAULT_PATH = "accounts.yaml"
# Findings no severity override or suppression layer may touch: a file that could not be read (MC001, MC004)
# may hold anything, a plaintext password included; a check withheld by the run's trust settings (MC511)
# verified nothing. A `.mailcfg.yaml` from the pull request must not turn either into a green run.
UNSUPPRESSIBLE = suppress.NEVER


@dataclass(frozen=True)
class CheckOptions:
    """Everything a check run depends on; the CLI fills it, tests build it directly."""

    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    require_env: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    config: Config = field(default_factory=Config)
    # `verify --allow-env`: which variables may be read at all (None: any).
    env_allowed: Callable[[str], bool] | None = None
    # `--env-file` as given (its variables are already in `env`): only for MC306's hint.
    env_file: str | None = None
    # Where `{file:}` and `{credential:}` secrets may be read from; checked with `require_env` (nothing is opened).
    places: Places = field(default_factory=Places)
    # Set by live_run: a secret the trust settings refuse is then the trust screen's MC511, per check.
    live: bool = False
    # `--sops`: decrypt SOPS-encrypted files with the sops program (verify, folders).
    sops: bool = False


def parse_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """Rule ids or prefixes from ``--select``/``--ignore`` (comma-separated, repeatable)."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            selector = part.strip().upper()
            if not selector:
                continue
            if not is_selector(selector):
                raise UsageError(f"unknown rule or prefix {part.strip()!r} (see `mailcfg rules`)")
            out.append(selector)
    return tuple(out)


def run(options: CheckOptions) -> Result:
    """Load, validate and check every file named by ``options``."""
    files, findings, accounts = _static(options, models=False)
    return _finish(options, files, findings, accounts)


def analyse(options: CheckOptions, files: tuple[SourceFile, ...] | None = None) -> tuple[Result, AccountSet]:
    """Like :func:`run`, also giving the account set; ``files`` already loaded (from git, say) are used as is."""
    files, findings, accounts = _static(options, files)
    return _finish(options, files, findings, accounts), accounts


def verify(options: CheckOptions, live: VerifyOptions, progress: Callable[[int, int], None] | None = None) -> Result:
    """Static checks (every referenced variable must be set), then, if no error remains, the live checks."""
    from validator.live import verify as live_verify

    hosts: list[HostReport] = []
    result = live_run(options, live.trust, lambda accounts, env: live_verify(accounts, live, env, progress, hosts))
    return replace(result, hosts=tuple(hosts))


def folders(options: CheckOptions, live: VerifyOptions) -> tuple[Result, dict[str, Listing]]:
    """`mailcfg folders`: the gate of :func:`live_run`, then the folder list of each imap account (by id)."""
    from validator.live.folders import list_folders

    listings: dict[str, Listing] = {}
    result = live_run(options, live.trust, lambda accounts, env: list_folders(accounts, live, env, listings))
    return result, listings


def live_run(
    options: CheckOptions,
    trust: Trust,
    run: Callable[[AccountSet, Mapping[str, str]], Sequence[LiveResult]],
) -> Result:
    """The gate of every live command (``verify``, ``folders``): the static checks with every referenced variable
    set (and only those ``trust`` lets the run read), then, only if no error remains, ``run`` with the account set
    and the readable variables; its MC5xx findings join the static ones."""
    from validator.live import Interrupted

    allowed = trust.env_allowed if trust.env is not None else None
    if allowed is not None:  # a variable outside --allow-env is never read, not even to test that it is set
        options = replace(options, env={name: value for name, value in options.env.items() if allowed(name)})
    options = replace(options, require_env=True, env_allowed=allowed, places=trust.places, live=True)
    files, findings, accounts = _static(options)
    static = _finish(options, files, findings, accounts)
    # `--select MC5` narrows the report, not the safety gate: a static error that is merely not selected,
    # and any missing secret (MC306), still stop the run before a connection is made.
    held_back = [
        item
        for item in static.suppressed
        if item.severity is Severity.ERROR
        and item.suppression is not None
        and (item.rule == "MC306" or item.suppression.reason == "not selected")
    ]
    if held_back:
        return replace(
            static,
            findings=static.findings + tuple(held_back),
            suppressed=tuple(item for item in static.suppressed if item not in held_back),
        )
    if static.summary.errors:
        return static
    interrupted = False
    try:
        results = tuple(run(accounts, {**options.env, **accounts.sops_values}))
    except Interrupted as stop:
        results, interrupted = tuple(stop.finished), True
    live_findings = [item for result in results for item in result.findings]
    return replace(_finish(options, files, findings + live_findings, accounts), live=results, interrupted=interrupted)


def unfit(result: Result, accounts: AccountSet) -> Literal["errors", "flawed"] | None:
    """Why a set may not be exported or be the new side of a diff: static ``errors``, or entries that failed
    the schema although their findings are suppressed (``flawed``: such entries are incomplete, so a
    suppressed error could silently drop credentials); None when it may."""
    if result.summary.errors:
        return "errors"
    return "flawed" if accounts.flawed else None


def load_side(spec: str, paths: tuple[str, ...], config: Config) -> tuple[Result, AccountSet]:
    """One side of a diff: a path on disk, or a git revision of the repository around the current directory
    (then ``paths``, the configuration's paths or ./accounts.yaml name the files in it)."""
    from validator import gitfiles

    options = CheckOptions(config=config)
    if os.path.exists(spec):
        if paths:
            raise UsageError("paths after OLD NEW restrict git revisions only; give the paths as OLD and NEW")
        return analyse(replace(options, paths=(spec,)))
    if not gitfiles.is_revision(spec):
        raise UsageError(f"{spec!r} is neither a path nor a git revision")
    chosen = paths or config_paths(config) or (DEFAULT_PATH,)
    return analyse(options, gitfiles.load_revision(spec, tuple(chosen), Limits()))


def _static(
    options: CheckOptions, files: tuple[SourceFile, ...] | None = None, *, models: bool = True
) -> tuple[tuple[SourceFile, ...], list[Finding], AccountSet]:
    """Load, schema, account set, rules. Without ``models`` (``check``, which runs on every commit) the entries the
    fast path passes are plain records, so a valid set is checked without importing pydantic; `export`, `diff` and
    the live commands hand the pydantic models on."""
    with _frozen() as freeze:
        return _checked(options, files, models, freeze)


@contextmanager
def _frozen() -> Iterator[Callable[[], None]]:
    """A run's files and account set stay until its end, so what is made of them is moved out of the cyclic garbage
    collector's view (``gc.freeze``) as it is made, and back when the run ends: otherwise each full collection walks
    everything read so far again (at 10,000 small files that cost a fifth of the run). Objects that were already
    frozen (an embedding program's) are left alone, and nothing is frozen then."""
    if gc.get_freeze_count():
        yield lambda: None
        return
    try:
        yield gc.freeze
    finally:
        gc.unfreeze()


def _checked(
    options: CheckOptions, files: tuple[SourceFile, ...] | None, models: bool, freeze: Callable[[], None]
) -> tuple[tuple[SourceFile, ...], list[Finding], AccountSet]:
    from validator.accounts import Checked, Context, build, entry_count, prevalidate

    config = options.config
    if files is None:
        paths = options.paths or config_paths(config) or (DEFAULT_PATH,)
        loaded = []
        for path, name in discover(paths):
            loaded.append(load_file(path, name, options.limits))
            freeze()
        files = tuple(loaded)
    findings: list[Finding] = list(config.findings)
    checked: list[Checked] = []
    values: dict[str, str] = {}  # decrypted by --sops
    for source in files:
        findings.extend(source.findings)
        for read in source.documents:
            document, encryption = read, None
            if isinstance(read.data, dict) and "sops" in read.data:
                document, encryption = _sops(read, options.sops, findings, values)
            root_ok, passed = prevalidate(document, encryption, models=models)
            invalid: dict[tuple[str, int], set[object]] = {}
            if not root_ok or len(passed) < entry_count(document.data):
                from validator import schema  # jsonschema's stage, only for a document with an entry that failed

                found, invalid = schema.check_document(document, root_ok, passed, encryption)
                findings.extend(found)
            checked.append(Checked(document, invalid, passed, encryption))
    accounts = build(checked, all(source.complete for source in files))
    freeze()
    accounts.sops_values.update(values)
    findings.extend(accounts.problems)
    context = Context(
        env={**options.env, **values} if values else options.env,
        sops=options.sops,
        require_env=options.require_env,
        env_allowed=options.env_allowed,
        env_file=options.env_file,
        places=options.places,
        live=options.live,
    )
    for rule in RULES.values():
        if rule.check is not None:
            findings.extend(rule.check(accounts, context))
    if options.require_env and not options.live:
        findings.extend(_refused_secrets(accounts, options.places))
    return files, findings, accounts


def _sops(
    document: Document, decrypt: bool, findings: list[Finding], values: dict[str, str]
) -> tuple[Document, Encryption | None]:
    """A SOPS document as the schema stage checks it (without its metadata; with ``decrypt``, its values decrypted
    but for the secrets, whose values go to ``values``), and what is encrypted in it; any other document as it is."""
    from dataclasses import replace as replaced

    from validator import sops

    split = sops.split(document)
    if split is None:
        return document, None
    plain, encryption = split
    if not decrypt:
        return plain, encryption
    source = document.source
    outcome = sops.decrypt(plain, encryption, str(source.path or source.name))
    if outcome.finding is not None:
        findings.append(outcome.finding)
        return plain, encryption
    values.update(outcome.values)
    return replaced(plain, data=outcome.data), replaced(encryption, decrypted=True)


def _refused_secrets(accounts: AccountSet, places: Places) -> Iterator[Finding]:
    """MC511 for each `{file:}` or `{credential:}` secret ``check --require-env`` may not look at: outside every
    --allow-secret-dir, or led out of its directory by a symlink. Located at the reference; never opened. (A live
    run refuses such a secret in its trust screen instead, for the checks that need it.)"""
    from validator import secrets
    from validator.credentials import SECRET_LABELS, secret_path

    for entry, credentials in accounts.credentials():
        for key, secret in credentials.secrets:
            ref = secrets.of(entry, secret)
            if ref.source not in ("file", "credential"):
                continue
            found = secrets.locate(ref, places)
            if isinstance(found, secrets.Problem) and found.rule == "MC511":
                message = f"{found.message} ({SECRET_LABELS[key]} of '{entry.id}')"
                yield entry.report("MC511", Severity.ERROR, message, *secret_path(key), ref.source, hint=found.hint)


def _finish(
    options: CheckOptions, files: tuple[SourceFile, ...], findings: list[Finding], accounts: AccountSet
) -> Result:
    """Severity overrides, suppression layers and a stable order."""
    config = options.config
    # MC511's own warnings (an env file's ignored line) stay ordinary findings.
    fixed: list[Finding] = []
    adjustable: list[Finding] = []
    for item in findings:
        (fixed if item.rule in UNSUPPRESSIBLE and item.severity is Severity.ERROR else adjustable).append(item)
    findings = [_severity(item, config) for item in adjustable]
    active, suppressed = suppress.apply(
        findings,
        {source.name: source.text for source in files},
        _layers(options),
        {source.name: source.path for source in files if source.path},
    )
    active += fixed
    order = {source.name: index for index, source in enumerate(files)}

    def key(item: Finding) -> tuple[int, str, int, int, str, str]:
        return order_key(order, item)

    count = sum(1 for entry in accounts.raw if entry.section != "users")
    return Result(files, tuple(sorted(active, key=key)), count, tuple(sorted(suppressed, key=key)))


def config_paths(config: Config) -> tuple[str, ...]:
    """The configuration's default paths, relative to the current directory, each confined to the
    configuration file's folder: a pull request may change that file, so no path of it, nor any symlink
    reached from one, may lead out of the folder (:class:`~validator.loader.TreePath`)."""
    from validator.loader import TreePath

    boundary = os.path.realpath(config.root)
    out = []
    for path in config.paths:
        absolute = os.path.normpath(os.path.join(config.root, path))
        try:
            out.append(TreePath(os.path.relpath(absolute), boundary))
        except ValueError:  # another drive on Windows
            out.append(TreePath(absolute, boundary))
    if not out and config.refused_paths:
        # Every entry was refused (MC006): check nothing, rather than fall back to ./accounts.yaml and stop
        # on a missing default file before the MC006 findings are reported.
        out.append(TreePath("", boundary, refused=True))
    return tuple(out)


def _severity(item: Finding, config: Config) -> Finding:
    level = config.severity.get(item.rule)
    return replace(item, severity=level) if level is not None and level is not item.severity else item


def _layers(options: CheckOptions) -> suppress.Layers:
    config = options.config
    return suppress.Layers(
        config_source=config.source,
        config_root=config.root if config.source else None,
        config_select=config.select,
        config_ignore=config.ignore,
        per_path_ignores=config.per_path_ignores,
        off=frozenset(rule for rule, level in config.severity.items() if level is None),
        cli_select=options.select,
        cli_ignore=options.ignore,
    )


def environment(base: Mapping[str, str], env_file: str | None) -> dict[str, str]:
    """The variables secrets are looked up in: ``base`` over the dotenv file (set variables win).

    The file never sets a trust setting: its ``MAILCFG_ALLOW_*`` lines are dropped (see :func:`env_file_trust`).
    A file that is not UTF-8 or has a line that is no assignment is a usage error naming the file and line,
    never a value quietly lost.
    """
    if env_file is None:
        return dict(base)
    import io

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    from validator.trust import PREFIX

    text = _env_text(env_file)
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            raise UsageError(
                f"--env-file {env_file}, line {binding.original.line}: not a NAME=value line"
                " (quote values with spaces; close every quote)"
            )
    loaded = dotenv_values(stream=io.StringIO(text))
    kept = {k: v for k, v in loaded.items() if v is not None and not k.startswith(PREFIX)}
    return {**kept, **base}


def _env_text(env_file: str) -> str:
    try:
        with open(env_file, "rb") as stream:
            raw = stream.read()
    except OSError as error:
        raise UsageError(f"--env-file {env_file}: {error.strerror or error}") from None
    # PowerShell 5 writes UTF-16 by default (`echo A=1 > .env`): a BOM, or a NUL after every ASCII letter.
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:64]:
        raise UsageError(f"--env-file {env_file} is UTF-16; save it as UTF-8")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise UsageError(f"--env-file {env_file}, line {line}: not UTF-8; save the file as UTF-8") from None


def env_file_trust(env_file: str | None) -> tuple[Finding, ...]:
    """MC511 for each ``MAILCFG_ALLOW_*`` line of the env file: a file a pull request can change sets no trust."""
    if env_file is None:
        return ()
    import re

    from validator.trust import PREFIX

    try:
        with open(env_file, encoding="utf-8", errors="replace") as stream:
            lines = stream.read().splitlines()
    except OSError:
        return ()  # environment() reports the unreadable file
    pattern = re.compile(rf"^\s*(?:export\s+)?({PREFIX}[A-Za-z0-9_]*)\s*=")
    out = []
    for number, line in enumerate(lines, 1):
        match = pattern.match(line)
        if match:
            out.append(
                Finding(
                    "MC511",
                    Severity.WARNING,
                    f"{match[1]} in an env file is ignored: trust settings come only from the command line and the"
                    " job's own environment",
                    Location(env_file, number, match.start(1) + 1),
                    f"pass it as a flag (--{match[1][len('MAILCFG_'):].lower().replace('_', '-')}) or set it in the"
                    " workflow's env:",
                )
            )
    return tuple(out)
