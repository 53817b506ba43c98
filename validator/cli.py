"""The thin command line: click fills an options object, the core runs, this module prints and exits.

Only this module and ``__main__`` print or decide exit codes. Heavy modules (jsonschema, pydantic) are
imported by the commands that need them, so ``--version`` and ``--help`` start fast.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from validator import __version__
from validator.errors import MailcfgError, PathError, UsageError
from validator.limits import DEFAULT_MAX_CHECKS, MAX_FILE_SIZE_MIB, MAX_TIMEOUT
from validator.reporters import FORMATS

if TYPE_CHECKING:
    from validator.config import Config
    from validator.engine import CheckOptions
    from validator.outcome import Result

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_INTERNAL = 0, 1, 2, 130, 70


def _finite(value: float, option: str) -> float:
    if math.isnan(value):  # NaN passes every range comparison
        raise click.BadParameter(f"{option} must be a number of seconds, not NaN")
    return value


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="mailcfg", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, hidden=True, help="Show the traceback of an internal error.")
def cli(debug: bool) -> None:
    """Keep e-mail account configuration as code: check SMTP and IMAP accounts kept in YAML."""


# Options several commands share, defined once (the live commands' trust settings among them).
_ALLOW_HOST = click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="PATTERN",
    help="Contact only these hosts: a name, *.domain or an IP/CIDR range (repeatable; also MAILCFG_ALLOW_HOST).",
)
_ALLOW_ANY_HOST = click.option(
    "--allow-any-host",
    is_flag=True,
    help="Contact any host the YAML names: only for YAML you wrote yourself (also MAILCFG_ALLOW_ANY_HOST=1).",
)
_ALLOW_ENV = click.option(
    "--allow-env",
    "allow_env",
    multiple=True,
    metavar="PATTERN",
    help="Read only password variables matching this glob, e.g. 'MAILCFG_*' (repeatable; also MAILCFG_ALLOW_ENV).",
)
_ALLOW_INSECURE = click.option(
    "--allow-insecure",
    "allow_insecure",
    multiple=True,
    metavar="PATTERN",
    help="Confirm cleartext logins (encryption: none) to these hosts (also MAILCFG_ALLOW_INSECURE).",
)
_ALLOW_COMMAND = click.option(
    "--allow-command",
    "allow_commands",
    multiple=True,
    metavar="PROGRAM",
    help="An oauth2 `command` may run this program (exact first element; repeatable; also MAILCFG_ALLOW_COMMAND).",
)
_ALLOW_SECRET_DIR = click.option(
    "--allow-secret-dir",
    "allow_secret_dirs",
    multiple=True,
    metavar="DIR",
    help="`{file:}` secrets may be read only inside these directories (repeatable; also MAILCFG_ALLOW_SECRET_DIR).",
)
_SOPS = click.option(
    "--sops",
    is_flag=True,
    help="Decrypt SOPS-encrypted account files with the sops program (age or PGP keys only).",
)
_CA_FILE = click.option("--ca-file", type=click.Path(dir_okay=False, exists=True), help="Also trust this CA (PEM).")
_ENV_FILE = click.option(
    "--env-file", type=click.Path(dir_okay=False), help="Load a dotenv file first; set variables win."
)
_CONFIG = click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Use this configuration file.")
_NO_CONFIG = click.option("--no-config", is_flag=True, help="Use no configuration file.")
_NO_COLOR = click.option("--no-color", is_flag=True, help="No colour, even on a terminal (NO_COLOR works too).")


_COMMON = (
    click.argument("paths", nargs=-1, type=click.Path(readable=False)),
    click.option(
        "--format",
        "formats",
        multiple=True,
        metavar="FORMAT[:FILE]",
        help=f"Report format, repeatable: {', '.join(FORMATS)} (default text). FORMAT:FILE writes it to FILE.",
    ),
    click.option("--output", "-o", type=click.Path(), help="Write the first report without a FILE here."),
    click.option("--strict", is_flag=True, default=None, help="Warnings fail the run too."),
    click.option("--select", multiple=True, metavar="RULES", help="Only these rule ids or prefixes (MC2,MC301)."),
    click.option("--ignore", multiple=True, metavar="RULES", help="Skip these rule ids or prefixes."),
    click.option(
        "--require-env",
        "--require-secrets",
        "require_env",
        is_flag=True,
        default=None,
        help="Every referenced secret must be there: variables set, files and credentials readable (MC306).",
    ),
    _ALLOW_SECRET_DIR,
    _ENV_FILE,
    _CONFIG,
    _NO_CONFIG,
    _NO_COLOR,
    click.option(
        "--max-file-size",
        type=click.IntRange(min=1, max=MAX_FILE_SIZE_MIB),
        metavar="MIB",
        help="Refuse larger files (default 32).",
    ),
    click.option("--max-findings", type=click.IntRange(min=0), metavar="N", help="Report at most N findings."),
    click.option("--max-list-items", type=click.IntRange(min=1), metavar="N", help="Refuse longer lists (200,000)."),
)


def _common(command: Callable[..., int]) -> Callable[..., int]:
    for decorator in reversed(_COMMON):
        command = decorator(command)
    return command


@cli.command()
@_common
def check(
    formats: tuple[str, ...],
    output: str | None,
    strict: bool | None,
    no_color: bool,
    max_findings: int | None,
    **common: Any,
) -> int:
    """Static checks (schema and rules) of PATHS: files or directories (*.yaml, *.yml).

    Without PATHS, the configuration's `paths` or ./accounts.yaml are checked. Exit codes: 0 clean,
    1 findings that fail the run, 2 usage error or unreadable path.
    """
    from validator import engine

    started = time.monotonic()
    targets = _targets(formats, output)
    options = _check_options(**common)
    result = engine.run(options)
    strict = bool(strict if strict is not None else options.config.strict)
    _report(result.limited(max_findings), targets, strict=strict, no_color=no_color, started=started)
    return _exit_code(result, targets, strict)


@cli.command()
@_common
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=MAX_TIMEOUT),
    callback=lambda _ctx, _param, value: _finite(value, "--timeout"),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Deadline for each whole check.",
)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=16, show_default=True, help="Checks at once.")
@click.option(
    "--per-host",
    type=click.IntRange(min=1),
    default=None,
    help="Checks at once per host, lowered while the server pushes back [default: adapts from 4 up to 16].",
)
@click.option("--only", multiple=True, metavar="ID", help="Only these account ids (repeatable).")
@_CA_FILE
@click.option("--send-test", is_flag=True, help="Send a test message to each smtp entry's test_recipient.")
@click.option("--round-trip", is_flag=True, help="Send to each imap address, wait for it, then delete it.")
@_ALLOW_HOST
@_ALLOW_ANY_HOST
@_ALLOW_ENV
@click.option(
    "--allow-recipient",
    "allow_recipients",
    multiple=True,
    metavar="PATTERN",
    help="--send-test/--round-trip may send to addresses matching this glob (also MAILCFG_ALLOW_RECIPIENT).",
)
@_ALLOW_INSECURE
@_ALLOW_COMMAND
@_SOPS
@click.option(
    "--max-checks",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_CHECKS,
    show_default=True,
    help="Refuse to start a larger run (checks after duplicates are folded).",
)
@click.option(
    "--cert-warn-days",
    type=click.IntRange(min=0),
    default=21,
    show_default=True,
    help="Warn (MC505) when a certificate expires sooner.",
)
@click.option("--no-progress", is_flag=True, help="No progress line on a terminal.")
def verify(
    formats: tuple[str, ...],
    output: str | None,
    strict: bool | None,
    no_color: bool,
    timeout: float,
    jobs: int,
    per_host: int | None,
    only: tuple[str, ...],
    ca_file: str | None,
    send_test: bool,
    round_trip: bool,
    allow_hosts: tuple[str, ...],
    allow_any_host: bool,
    allow_env: tuple[str, ...],
    allow_recipients: tuple[str, ...],
    allow_insecure: tuple[str, ...],
    allow_commands: tuple[str, ...],
    sops: bool,
    max_checks: int,
    cert_warn_days: int,
    no_progress: bool,
    max_findings: int | None,
    **common: Any,
) -> int:
    """Static checks, then live checks against the servers (like a mail client's "verify settings").

    Every referenced environment variable must be set. Exit codes: 0 clean, 1 static findings (no live
    check runs then), 2 usage error, 3 live checks failed.
    """
    from validator import engine, trust
    from validator.live import VerifyOptions

    started = time.monotonic()
    targets = _targets(formats, output)
    if ca_file is not None:
        _check_ca_file(ca_file)
    trusted = trust.from_settings(
        hosts=allow_hosts,
        any_host=allow_any_host,
        env=allow_env,
        recipients=allow_recipients,
        insecure=allow_insecure,
        commands=allow_commands,
        secret_dirs=common["allow_secret_dirs"],
        environ=os.environ,
    )
    if trusted.env is None and os.environ.get("CI"):
        click.echo(
            "mailcfg: warning: CI is set but --allow-env is not: the YAML may name any environment variable as a"
            " password; pass --allow-env 'MAILCFG_*' (or set MAILCFG_ALLOW_ENV)",
            err=True,
        )
    options = replace(_check_options(**common), sops=sops)
    live = VerifyOptions(
        timeout=timeout,
        jobs=jobs,
        per_host=per_host,
        only=only,
        ca_file=ca_file,
        send_test=send_test,
        round_trip=round_trip,
        trust=trusted,
        max_checks=max_checks,
        cert_warn_days=cert_warn_days,
    )
    show = not no_progress and sys.stderr.isatty()
    result = engine.verify(options, live, _progress if show else None)
    if show:
        click.echo("\r\x1b[K", nl=False, err=True)
    strict = bool(strict if strict is not None else options.config.strict)
    _report(
        result.limited(max_findings),
        targets,
        strict=strict,
        no_color=no_color,
        started=started,
        cert_warn_days=cert_warn_days,
    )
    if result.interrupted:
        click.echo(f"mailcfg: interrupted; {len(result.live)} checks had finished", err=True)
        if _NAGIOS_ON_STDOUT in targets:
            from validator.reporters import nagios

            return nagios.UNKNOWN
        return EXIT_INTERRUPTED
    return _exit_code(result, targets, strict)


@cli.command(name="folders")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--only", multiple=True, metavar="ID", help="Only these imap account ids (repeatable).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=MAX_TIMEOUT),
    callback=lambda _ctx, _param, value: _finite(value, "--timeout"),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Deadline for each account's whole session.",
)
@_CA_FILE
@_ALLOW_HOST
@_ALLOW_ANY_HOST
@_ALLOW_ENV
@_ALLOW_INSECURE
@_ALLOW_COMMAND
@_ALLOW_SECRET_DIR
@_SOPS
@click.option(
    "--max-checks",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_CHECKS,
    show_default=True,
    help="Refuse to start with more logins.",
)
@_ENV_FILE
@_CONFIG
@_NO_CONFIG
@_NO_COLOR
def folders_command(
    paths: tuple[str, ...],
    fmt: str,
    only: tuple[str, ...],
    timeout: float,
    ca_file: str | None,
    allow_hosts: tuple[str, ...],
    allow_any_host: bool,
    allow_env: tuple[str, ...],
    allow_insecure: tuple[str, ...],
    allow_commands: tuple[str, ...],
    allow_secret_dirs: tuple[str, ...],
    sops: bool,
    max_checks: int,
    env_file: str | None,
    config_file: str | None,
    no_config: bool,
    no_color: bool,
) -> int:
    """List each imap account's folders, to choose `sent_folder` (logs in like verify, with its trust settings).

    Folder names are decoded, with their special-use flags (\\Sent, \\Drafts, ...); the configured sent_folder
    and the folder the server flags \\Sent are marked. Exit codes: 0 listed, 1 static errors (nothing contacted),
    2 usage error, 3 an account could not be listed.
    """
    from validator import engine, folders_report, trust
    from validator.live import VerifyOptions

    if ca_file is not None:
        _check_ca_file(ca_file)
    trusted = trust.from_settings(
        hosts=allow_hosts,
        any_host=allow_any_host,
        env=allow_env,
        recipients=(),
        insecure=allow_insecure,
        commands=allow_commands,
        secret_dirs=allow_secret_dirs,
        environ=os.environ,
    )
    if trusted.env is None and os.environ.get("CI"):
        click.echo("mailcfg: warning: CI is set but --allow-env is not; pass --allow-env 'MAILCFG_*'", err=True)
    options = _check_options(
        paths, (), (), None, env_file, config_file, no_config, None, None, allow_secret_dirs=allow_secret_dirs
    )
    options = replace(options, sops=sops)
    live = VerifyOptions(timeout=timeout, only=only, ca_file=ca_file, trust=trusted, max_checks=max_checks)
    result, listings = engine.folders(options, live)
    if fmt == "json":
        _emit(folders_report.render_json(result, listings), None)
    else:
        _emit(folders_report.render_text(result, listings, color=_color_wanted(no_color)), None)
    if result.interrupted:
        click.echo(f"mailcfg: interrupted; {len(result.live)} accounts had finished", err=True)
        return EXIT_INTERRUPTED
    return result.exit_code()


@cli.command(name="secrets")
@click.argument("paths", nargs=-1, type=click.Path(readable=False))
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json", "markdown")), default="text", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the sheet to FILE.")
@click.option(
    "--require-env", is_flag=True, default=None, help="Exit 1 unless every variable is set (and allowed) here."
)
@_ENV_FILE
@click.option(
    "--allow-env",
    "allow_env",
    multiple=True,
    metavar="PATTERN",
    help="Look up only variables matching this glob, as verify reads them (repeatable; also MAILCFG_ALLOW_ENV).",
)
@click.option(
    "--allow-command",
    "allow_commands",
    multiple=True,
    metavar="PROGRAM",
    help="Programs verify may run, for the sheet's column (never run here; also MAILCFG_ALLOW_COMMAND).",
)
@_ALLOW_SECRET_DIR
@_CONFIG
@_NO_CONFIG
def secrets_command(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    require_env: bool | None,
    env_file: str | None,
    allow_env: tuple[str, ...],
    allow_commands: tuple[str, ...],
    allow_secret_dirs: tuple[str, ...],
    config_file: str | None,
    no_config: bool,
) -> int:
    """The hand-off sheet: every secret the accounts need, who uses it, its contact, whether it is set here.

    No secret is read: for a variable, only whether it is set (and only if --allow-env allows it); for a file or
    credential, whether it is there and readable (never opened; a file only inside --allow-secret-dir); commands
    are never run. Static checks run first. Exit codes: 0 sheet written, 1 static errors (shown on stderr, no
    sheet) or, with --require-env, a secret missing or not allowed here, 2 usage error.
    """
    from validator import handoff, trust
    from validator.reporters import ReportOptions, render, secrets_sheet

    trusted = trust.from_settings(
        env=allow_env, commands=allow_commands, secret_dirs=allow_secret_dirs, environ=os.environ
    )
    options = _check_options(paths, (), (), require_env, env_file, config_file, no_config, None, None)
    result, sheet = handoff.run(options, trusted)
    if sheet is None:
        click.echo(render("text", result, ReportOptions()), nl=False, err=True)
        click.echo("mailcfg secrets: no sheet: the set has static errors (shown above)", err=True)
        return EXIT_FINDINGS
    renderer = {
        "text": secrets_sheet.render_text,
        "json": secrets_sheet.render_json,
        "markdown": secrets_sheet.render_markdown,
    }[fmt]
    _emit(renderer(sheet), output)
    return EXIT_FINDINGS if options.require_env and sheet.unavailable else EXIT_OK


@cli.command(name="init")
@click.argument("addresses", nargs=-1, metavar="ADDRESS...")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the file here (not to stdout).")
@click.option("--force", is_flag=True, help="Overwrite the --output file if it exists.")
@click.option(
    "--online", is_flag=True, help="Look up domains the bundled data lacks: their autoconfig file, then their MX."
)
@click.option("--dns-server", metavar="HOST:PORT", help="--online: resolve every name through this DNS server (IP).")
@click.option(
    "--autoconfig-port", type=click.IntRange(1, 65535), metavar="PORT", help="--online: HTTPS port (default 443)."
)
@click.option("--ca-file", type=click.Path(dir_okay=False, exists=True), help="--online: also trust this CA (PEM).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1, max=MAX_TIMEOUT),
    callback=lambda _ctx, _param, value: None if value is None else _finite(value, "--timeout"),
    metavar="SECONDS",
    help="--online: deadline for the lookup of each domain (default 20).",
)
def init_command(
    addresses: tuple[str, ...],
    output: str | None,
    force: bool,
    online: bool,
    dns_server: str | None,
    autoconfig_port: int | None,
    ca_file: str | None,
    timeout: float | None,
) -> int:
    """Write a first account file for ADDRESS... from the settings their providers publish.

    One smtp entry per provider, one imap account per address, passwords as MAILCFG_* variables, OAuth2 where
    the provider refuses passwords; what cannot be known is a <CHANGE ME: ...> placeholder (MC407 until
    replaced). --online looks up unknown domains as Thunderbird does (contacting only hosts derived from the
    addresses; no credential is sent). Exit codes: 0 written, 2 usage error or no settings found.
    """
    import datetime

    from validator import init

    lookup = None
    today = datetime.date.today()
    if online:
        from validator import autoconfig_lookup

        if ca_file is not None:
            _check_ca_file(ca_file)
        settings = autoconfig_lookup.OnlineOptions(
            dns_server=autoconfig_lookup.parse_dns_server(dns_server) if dns_server is not None else None,
            port=autoconfig_port or 443,
            ca_file=ca_file,
            timeout=timeout or 20.0,
        )

        def lookup(address: init.Address) -> init.Settings:
            return autoconfig_lookup.lookup(address, settings, today)

    else:
        options = {"--dns-server": dns_server, "--autoconfig-port": autoconfig_port, "--ca-file": ca_file}
        given = [name for name, value in {**options, "--timeout": timeout}.items() if value is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: {'applies' if len(given) == 1 else 'apply'} only with --online")
    text = init.build(addresses, online=lookup, today=today)
    if output is None:
        click.echo(text, nl=False)
        return EXIT_OK
    try:
        with open(output, "w" if force else "x", encoding="utf-8") as stream:
            stream.write(text)
    except FileExistsError:
        raise UsageError(f"--output {output} exists; pass --force to overwrite it") from None
    except OSError as error:
        raise PathError(f"--output {output}: {error.strerror or error}") from None
    click.echo(f"mailcfg init: wrote {output}; `mailcfg check {output}` lists the placeholders left (MC407)", err=True)
    return EXIT_OK


def _check_ca_file(path: str) -> None:
    """One clear usage error before any connection, instead of one TLS failure per check."""
    import ssl

    try:
        ssl.create_default_context().load_verify_locations(cafile=path)
    except (ssl.SSLError, ValueError):
        raise UsageError(f"--ca-file {path}: holds no PEM certificate") from None
    except OSError as error:
        raise PathError(f"--ca-file {path}: {error.strerror or error}") from None


def _progress(done: int, total: int) -> None:
    click.echo(f"\r\x1b[Kmailcfg verify: {done}/{total} checks done", nl=False, err=True)


def _check_options(
    paths: tuple[str, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    require_env: bool | None,
    env_file: str | None,
    config_file: str | None,
    no_config: bool,
    max_file_size: int | None,
    max_list_items: int | None,
    allow_secret_dirs: tuple[str, ...] = (),
) -> CheckOptions:
    from validator import engine, secrets
    from validator.loader import DEFAULT_MAX_LIST_ITEMS, Limits, MiB

    config = _config(config_file, no_config)
    trust_lines = engine.env_file_trust(env_file)
    if trust_lines:
        config = replace(config, findings=config.findings + trust_lines)
    return engine.CheckOptions(
        paths=paths,
        select=engine.parse_selectors(select),
        ignore=engine.parse_selectors(ignore),
        require_env=bool(require_env if require_env is not None else config.require_env),
        env=engine.environment(os.environ, env_file),
        env_file=env_file,
        limits=Limits(
            max_file_size=(max_file_size or config.max_file_size or 32) * MiB,
            max_list_items=max_list_items or DEFAULT_MAX_LIST_ITEMS,
        ),
        config=config,
        # Trust settings: only the command line and the process environment, never the env file or the config file.
        places=secrets.Places(
            secrets.allowed_dirs(allow_secret_dirs, os.environ), os.environ.get(secrets.CREDENTIALS_DIRECTORY) or None
        ),
    )


def _targets(formats: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    """(format, file or None for stdout) pairs; ``--output`` goes with the first format naming no file."""
    targets: list[tuple[str, str | None]] = []
    for value in formats or ("text",):
        name, _, path = value.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            raise UsageError(f"--format {value!r}: choose from {', '.join(FORMATS)}")
        targets.append((name, path or None))
    if output is not None:
        for index, (format_name, destination) in enumerate(targets):
            if destination is None:
                targets[index] = (format_name, output)
                break
        else:
            raise UsageError("--output names a file, but every --format already has one")
    if sum(destination is None for _, destination in targets) > 1:
        raise UsageError("only one report can go to standard output; give the others a file: --format sarif:FILE")
    return targets


def _config(config_file: str | None, no_config: bool) -> Config:
    from validator import config

    if no_config:
        return config.Config()
    path = Path(config_file) if config_file else config.discover(Path.cwd())
    if path is None:
        return config.Config()
    try:
        return config.load(path, config_file or os.path.relpath(path))
    except OSError as error:
        raise PathError(f"--config {path}: {error.strerror or error}") from None


def _report(
    result: Result,
    targets: list[tuple[str, str | None]],
    *,
    strict: bool,
    no_color: bool,
    started: float | None = None,
    cert_warn_days: int | None = None,
) -> None:
    from validator.reporters import ReportOptions, render

    seconds = round(time.monotonic() - started, 3) if started is not None else None
    # A plugin's first line of output is its status: the nagios report goes last, after anything that could still
    # fail (a report file, the step summary), so such a failure's UNKNOWN is not preceded by an OK line.
    plugin = _NAGIOS_ON_STDOUT in targets
    for name, path in [target for target in targets if target != _NAGIOS_ON_STDOUT]:
        color = name == "text" and path is None and _color_wanted(no_color)
        options = ReportOptions(color=color, strict=strict, seconds=seconds, cert_warn_days=cert_warn_days)
        # The textfile collector may read the file at any moment: replaced whole, never written in place.
        _emit(render(name, result, options), path, atomic=name == "prometheus")
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and summary_file:
        from validator.reporters.github import job_summary

        try:
            with open(summary_file, "a", encoding="utf-8") as stream:
                stream.write(job_summary(result))
        except OSError as error:
            raise PathError(f"GITHUB_STEP_SUMMARY {summary_file}: {error.strerror or error}") from None
    if plugin:
        options = ReportOptions(strict=strict, seconds=seconds, cert_warn_days=cert_warn_days)
        _emit(render("nagios", result, options), None)


# `--format nagios` on standard output: the run is a monitoring plugin, and exits with the plugin's codes.
_NAGIOS_ON_STDOUT: tuple[str, str | None] = ("nagios", None)


def _exit_code(result: Result, targets: list[tuple[str, str | None]], strict: bool) -> int:
    if _NAGIOS_ON_STDOUT in targets:
        from validator.reporters import nagios

        return nagios.exit_code(result)
    return result.exit_code(strict)


def _plugin_run(args: Sequence[str]) -> bool:
    """Whether the command line asks for `check` or `verify` with the nagios report on standard output.

    Read from the raw arguments, as a usage error may come before click has parsed them. When the --format and
    --output values themselves are the usage error, a `--format nagios` without a file decides.
    """
    commands = [arg for arg in args if not arg.startswith("-")]
    if not commands or commands[0] not in ("check", "verify"):
        return False
    formats: list[str] = []
    output: str | None = None
    rest = list(args[: args.index("--")] if "--" in args else args)
    while rest:
        arg = rest.pop(0)
        name, equals, value = arg.partition("=")
        if name in ("--format", "--output", "-o"):
            if not equals:
                value = rest.pop(0) if rest else ""
        elif arg.startswith("-o") and not arg.startswith("--"):  # -oFILE
            name, value = "-o", arg[2:]
        else:
            continue
        if name == "--format":
            formats.append(value)
        else:
            output = value
    try:
        return _NAGIOS_ON_STDOUT in _targets(tuple(formats), output)
    except UsageError:
        return any(value.strip().lower() == "nagios" for value in formats)


_CONFIG_OPTIONS = (
    _CONFIG,
    _NO_CONFIG,
)


def _with_config(command: Callable[..., int]) -> Callable[..., int]:
    for decorator in reversed(_CONFIG_OPTIONS):
        command = decorator(command)
    return command


@cli.command(name="diff")
@click.argument("old")
@click.argument("new")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("text", "markdown", "json")), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the diff to FILE.")
@_with_config
def diff_command(
    old: str, new: str, paths: tuple[str, ...], fmt: str, output: str | None, config_file: str | None, no_config: bool
) -> int:
    """Compare two account sets: OLD and NEW are paths, or git revisions (mailcfg diff origin/main HEAD -- accounts/).

    Accounts are compared by id after defaults are applied; renames, field changes and their effect on
    references are shown, secrets by variable name only. A side without account files counts as an empty
    set; an old side with static errors is compared as far as it could be read (the errors are shown).
    Exit codes: 0 no change, 1 changes, 2 error (static errors on the new side, which are shown).
    """
    from validator import diff, engine, export
    from validator.reporters import ReportOptions, render

    config = _config(config_file, no_config)
    documents = []
    for role, spec in (("old", old), ("new", new)):  # both sides are checked, so the errors of each are shown
        result, accounts = engine.load_side(spec, paths, config)
        flaw = engine.unfit(result, accounts)
        if not result.files:
            click.echo(f"mailcfg diff: {spec} has no account files; compared against an empty set", err=True)
        elif flaw is not None:
            click.echo(render("text", result, ReportOptions()), nl=False, err=True)
            if role == "new":
                what = "static errors (shown above)" if flaw == "errors" else (
                    "entries that fail the schema (their findings are suppressed by the configuration)"
                )
                raise UsageError(f"{spec} has {what}; fix them before comparing")
            # The pull request that removes a plaintext password is exactly the one whose old side is broken.
            click.echo(
                f"mailcfg diff: {spec} (the old side) has static errors (shown above); compared the entries"
                " that could be read",
                err=True,
            )
        documents.append(export.canonical(accounts))
    changes = diff.compare(documents[0], documents[1])
    renderer = {"text": diff.render_text, "markdown": diff.render_markdown, "json": diff.render_json}[fmt]
    _emit(renderer(changes), output)
    return EXIT_FINDINGS if changes.changed else EXIT_OK


@cli.command(name="export")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("json", "yaml", "autoconfig")), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write json/yaml to FILE.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Directory for --format autoconfig.")
@_with_config
def export_command(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    out_dir: str | None,
    config_file: str | None,
    no_config: bool,
) -> int:
    """Export the validated set: one canonical document (json, yaml) or Mozilla autoconfig files.

    Defaults are filled in and entries sorted; secrets stay references. A set with static errors is not
    exported (exit 1, the errors are shown).
    """
    from validator import engine, export
    from validator.reporters import ReportOptions, render

    if fmt == "autoconfig" and out_dir is None:
        raise UsageError("--format autoconfig needs --out DIR")
    result, accounts = engine.analyse(engine.CheckOptions(paths=paths, config=_config(config_file, no_config)))
    flaw = engine.unfit(result, accounts)
    if flaw is not None:
        click.echo(render("text", result, ReportOptions()), nl=False, err=True)
        reason = (
            "the set has static errors"
            if flaw == "errors"
            else (
                f"{len(accounts.flawed)} entries fail the schema (their findings are suppressed by the configuration)"
            )
        )
        click.echo(f"mailcfg: not exported: {reason}", err=True)
        return EXIT_FINDINGS
    if fmt != "autoconfig":
        document = export.canonical(accounts)
        _emit(export.to_json(document) if fmt == "json" else export.to_yaml(document), output)
        return EXIT_OK
    assert out_dir is not None
    for item in export.autoconfig(accounts):
        if item.xml is None:
            click.echo(f"skipped {item.domain}: {item.skipped}")
            continue
        target = Path(out_dir) / item.domain / "mail" / "config-v1.1.xml"
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(item.xml, encoding="utf-8")
        except OSError as error:
            raise PathError(f"--out {out_dir}: {error.strerror or error}") from None
        click.echo(f"wrote {target}")
    return EXIT_OK


@cli.command()
def schema() -> int:
    """Print the JSON Schema of the account format."""
    from validator.schema import schema_text

    click.echo(schema_text(), nl=False)
    return EXIT_OK


@cli.command()
def rules() -> int:
    """List the rules: id, default severity, title."""
    from validator.registry import RULES

    for rule in RULES.values():
        click.echo(f"{rule.id}  {rule.severity.value:<7}  {rule.title}")
    return EXIT_OK


@cli.command()
@click.argument("rule_id")
def explain(rule_id: str) -> int:
    """Show the documentation of one rule (e.g. mailcfg explain MC201)."""
    from validator.registry import RULES
    from validator.suggest import did_you_mean

    rule = RULES.get(rule_id.strip().upper())
    if rule is None:
        hint = did_you_mean(rule_id.upper(), RULES) or "see `mailcfg rules`"
        raise UsageError(f"no rule {rule_id!r}; {hint}")
    click.echo(f"{rule.id} ({rule.severity.value}): {rule.title}\n\n{rule.doc}")
    return EXIT_OK


def _color_wanted(no_color: bool) -> bool:
    return not no_color and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _emit(report: str, output: str | None, atomic: bool = False) -> None:
    if output is None:
        click.echo(report, nl=False)
        return
    try:
        if atomic:
            from validator.atomic import write_atomically

            write_atomically(output, report)
            return
        with open(output, "w", encoding="utf-8") as stream:
            stream.write(report)
    except OSError as error:
        raise PathError(f"--output {output}: {error.strerror or error}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the CLI and map every outcome to one exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # `--debug` works before or after the command name, as the internal-error message says to add it.
    end = args.index("--") if "--" in args else len(args)
    debug = "--debug" in args[:end] or bool(os.environ.get("MAILCFG_DEBUG"))
    args = [arg for arg in args[:end] if arg != "--debug"] + args[end:]
    # With the nagios report on stdout, mailcfg is a monitoring plugin: whatever ends the run early is UNKNOWN (3).
    plugin = _plugin_run(args)
    try:
        code = cli.main(args=args, prog_name="mailcfg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("mailcfg: interrupted", err=True)
        return _unknown("interrupted") if plugin else EXIT_INTERRUPTED
    except click.ClickException as error:
        error.show()
        return _unknown(f"usage error: {error.format_message()}") if plugin else EXIT_USAGE
    except MailcfgError as error:
        click.echo(f"mailcfg: error: {error}", err=True)
        return _unknown(f"error: {error}") if plugin else EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("mailcfg: interrupted", err=True)
        return _unknown("interrupted") if plugin else EXIT_INTERRUPTED
    except Exception as error:  # one clear line for a bug; the traceback only when asked for
        if debug:
            import traceback

            traceback.print_exc()
        what = f"internal error ({type(error).__name__}{_where(error)})"
        click.echo(f"mailcfg: {what}; this is a bug. Run with --debug for the traceback.", err=True)
        return _unknown(f"{what}; see stderr") if plugin else EXIT_INTERNAL
    return code if isinstance(code, int) else EXIT_OK


def _unknown(reason: str) -> int:
    """A plugin run ended before its report: the UNKNOWN line monitoring shows (it reads stdout only), and 3."""
    from validator.reporters import nagios

    click.echo(nagios.unknown(reason), nl=False)
    return nagios.UNKNOWN


def _where(error: BaseException) -> str:
    # The innermost frame's place, not the message: a message could quote a value from the user's files.
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return ""
    return f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
