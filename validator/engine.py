"""The pure core of ``mailcfg check``: paths and options in, a :class:`Result` out; no printing, no exit."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from validator.errors import UsageError
from validator.finding import Finding, Severity
from validator.loader import Limits, SourceFile, discover, load_file
from validator.rules import RULES

DEFAULT_PATH = "accounts.yaml"
_SELECTOR = re.compile(r"MC\d{0,3}\Z")


@dataclass(frozen=True)
class CheckOptions:
    """Everything a check run depends on; the CLI fills it, tests build it directly."""

    paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    require_env: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Summary:
    files: int
    accounts: int
    errors: int
    warnings: int
    infos: int


@dataclass(frozen=True)
class Result:
    """The outcome of a run, ready for any reporter."""

    files: tuple[SourceFile, ...]
    findings: tuple[Finding, ...]
    accounts: int

    @property
    def summary(self) -> Summary:
        counts = dict.fromkeys(Severity, 0)
        for item in self.findings:
            counts[item.severity] += 1
        return Summary(
            len(self.files), self.accounts, counts[Severity.ERROR], counts[Severity.WARNING], counts[Severity.INFO]
        )

    def exit_code(self, strict: bool = False) -> int:
        summary = self.summary
        return 1 if summary.errors or (strict and summary.warnings) else 0


def parse_selectors(values: Iterable[str]) -> tuple[str, ...]:
    """Rule ids or prefixes from ``--select``/``--ignore`` (comma-separated, repeatable)."""
    out: list[str] = []
    for value in values:
        for part in value.split(","):
            selector = part.strip().upper()
            if not selector:
                continue
            if not _SELECTOR.match(selector) or not any(rule.startswith(selector) for rule in RULES):
                raise UsageError(f"unknown rule or prefix {part.strip()!r} (see `mailcfg rules`)")
            out.append(selector)
    return tuple(out)


def run(options: CheckOptions) -> Result:
    """Load, validate and check every file named by ``options``."""
    from validator import model, schema

    files = [load_file(path, name, options.limits) for path, name in discover(options.paths or (DEFAULT_PATH,))]
    findings: list[Finding] = []
    documents = []
    invalid: dict[tuple[int, str, int], set[object]] = {}
    for source in files:
        findings.extend(source.findings)
        for document in source.documents:
            found, bad = schema.check_document(document)
            findings.extend(found)
            invalid.update(((id(document), section, index), keys) for (section, index), keys in bad.items())
            documents.append(document)
    accounts = model.build(documents, invalid, complete=all(source.complete for source in files))
    findings.extend(accounts.problems)
    context = model.Context(env=options.env, require_env=options.require_env)
    for rule in RULES.values():
        if rule.check is not None:
            findings.extend(rule.check(accounts, context))
    order = {source.name: index for index, source in enumerate(files)}
    kept = [item for item in findings if _wanted(item.rule, options.select, options.ignore)]
    kept.sort(key=lambda f: (order.get(f.file, len(order)), f.line, f.column, f.rule, f.message))
    count = sum(1 for entry in accounts.raw if entry.section != "users")
    return Result(tuple(files), tuple(kept), count)


def _wanted(rule: str, select: tuple[str, ...], ignore: tuple[str, ...]) -> bool:
    if select and not rule.startswith(select):
        return False
    return not (ignore and rule.startswith(ignore))


def environment(base: Mapping[str, str], env_file: str | None) -> dict[str, str]:
    """The variables secrets are looked up in: ``base`` over the dotenv file (set variables win)."""
    if env_file is None:
        return dict(base)
    from dotenv import dotenv_values

    try:
        with open(env_file, encoding="utf-8") as stream:
            loaded = dotenv_values(stream=stream)
    except OSError as error:
        raise UsageError(f"--env-file {env_file}: {error.strerror or error}") from None
    return {**{k: v for k, v in loaded.items() if v is not None}, **base}
