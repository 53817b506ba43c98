"""Suppressions in three layers: inline comments, the configuration file, the command line.

A suppressed finding is not dropped: it moves to ``Result.suppressed`` with a :class:`Suppression` saying
which layer took it and why, so JSON and SARIF can show it. Precedence, most specific first: an inline
comment, then the configuration file (``severity: off``, ``ignore``, ``per-path-ignores``, ``select``),
then the command line (``--ignore``, ``--select``). An inline comment that suppresses nothing is MC007.

Some findings no layer may take out (the engine keeps them away from this module): a file that could not
be read (MC001, MC004) may hold anything, a plaintext password included, and a live check withheld by the
run's trust settings (MC511) verified nothing. A plaintext secret (MC301) cannot be suppressed inline, where
one comment in the same pull request would carry it past the gate; the configuration file may still
suppress it, and then says so in a warning.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from validator.finding import Finding, Location, Severity, Suppression
from validator.loader import LINE_BREAKS
from validator.registry import RULES, finding

# `# mailcfg: ignore[MC403, MC402] reason`; the `#` must start a comment (line start or after blank).
_INLINE = re.compile(r"(?:^|(?<=\s))#\s*mailcfg:\s*ignore\[([^\]]*)\][ \t]*(.*?)\s*$", re.IGNORECASE)
_COMMENT_ONLY = re.compile(r"\s*#")
# Rules no suppression layer may take out (the engine never passes their findings here).
NEVER = frozenset({"MC001", "MC004", "MC511"})
# Rules an inline comment may not suppress (the configuration file may, and is then reported).
NOT_INLINE = frozenset({"MC301"})


@dataclass
class _Comment:
    location: Location
    rules: tuple[str, ...]
    reason: str | None
    targets: tuple[int, ...]
    used: bool = False


@dataclass(frozen=True)
class Layers:
    """What the configuration file and the command line ask to leave out."""

    config_source: str | None = None
    config_root: Path | None = None
    config_select: tuple[str, ...] = ()
    config_ignore: tuple[str, ...] = ()
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    off: frozenset[str] = frozenset()
    cli_select: tuple[str, ...] = ()
    cli_ignore: tuple[str, ...] = ()
    inline: bool = True


def comments(name: str, text: str) -> list[_Comment]:
    """The suppression comments of one file, each with the lines it covers (1-based)."""
    if "mailcfg" not in text:  # the common case: nothing to scan
        return []
    lines = LINE_BREAKS.split(text)
    found: list[_Comment] = []
    for index, line in enumerate(lines):
        match = _INLINE.search(line)
        if not match:
            continue
        rules = tuple(part.strip().upper() for part in match[1].split(",") if part.strip())
        location = Location(name, index + 1, match.start() + 1)
        if _COMMENT_ONLY.match(line):
            # A comment line covers the next line that holds content (other comments may sit between).
            target = index + 1
            while target < len(lines) and (not lines[target].strip() or _COMMENT_ONLY.match(lines[target])):
                target += 1
            targets: tuple[int, ...] = (target + 1,) if target < len(lines) else ()
        else:
            targets = (index + 1,)
        found.append(_Comment(location, rules, match[2] or None, targets))
    return found


def apply(
    findings: Iterable[Finding], texts: dict[str, str], layers: Layers, paths: dict[str, str] | None = None
) -> tuple[list[Finding], list[Finding]]:
    """Split ``findings`` into (active, suppressed); unused inline comments add MC007 to the active ones."""
    by_file: dict[str, list[_Comment]] = {}
    if layers.inline:
        by_file = {name: comments(name, text) for name, text in texts.items()}
    index: dict[tuple[str, int], list[_Comment]] = {}
    for name, found in by_file.items():
        for comment in found:
            for line in comment.targets:
                index.setdefault((name, line), []).append(comment)
    active: list[Finding] = []
    suppressed: list[Finding] = []
    for item in findings:
        reason = _inline(item, index) or _external(item, layers, paths)
        if reason is None:
            active.append(item)
        else:
            suppressed.append(replace(item, suppression=reason))
    active.extend(_reported_secrets(suppressed, layers))
    for found in by_file.values():
        for comment in found:
            unknown = [rule for rule in comment.rules if rule not in RULES]
            refused = [rule for rule in comment.rules if rule in NEVER | NOT_INLINE]
            if refused:
                extra = finding(
                    "MC007",
                    f"{', '.join(refused)} cannot be suppressed by a comment; this one suppresses nothing",
                    comment.location,
                    hint=(
                        "remove the plaintext secret, or (if you must) suppress MC301 in the configuration file"
                        if refused == ["MC301"]
                        else "fix the problem: an unreadable file or a withheld check always fails the run"
                    ),
                )
            elif unknown or not comment.rules:
                names = ", ".join(unknown) or "no rule"
                extra = finding(
                    "MC007",
                    f"suppression comment names {names}; it suppresses nothing",
                    comment.location,
                    hint="name rule ids, e.g. # mailcfg: ignore[MC403] reason",
                )
            elif not comment.used:
                extra = finding(
                    "MC007",
                    f"suppression of {', '.join(comment.rules)} matches no finding here",
                    comment.location,
                    hint="remove the comment",
                )
            else:
                continue
            reason = _external(extra, layers)
            (active if reason is None else suppressed).append(
                extra if reason is None else replace(extra, suppression=reason)
            )
    return active, suppressed


def _reported_secrets(suppressed: list[Finding], layers: Layers) -> list[Finding]:
    """A warning for plaintext secrets the configuration suppresses: allowed, but never silent."""
    secrets = [item for item in suppressed if item.rule == "MC301" and item.suppression is not None
               and item.suppression.kind == "config"]
    if not secrets or layers.config_source is None:
        return []
    places = ", ".join(str(item.location) for item in secrets[:5]) + (", …" if len(secrets) > 5 else "")
    warning = finding(
        "MC006",
        f"the configuration suppresses {len(secrets)} plaintext secret finding(s) (MC301): {places}",
        Location(layers.config_source, 1, 1),
        hint="move the secrets to environment variables ({env: NAME}) and drop the suppression",
    )
    return [replace(warning, severity=Severity.WARNING)]


def _inline(item: Finding, index: dict[tuple[str, int], list[_Comment]]) -> Suppression | None:
    if item.rule in NOT_INLINE:
        return None
    for comment in index.get((item.file, item.line), ()):
        if item.rule in comment.rules:
            comment.used = True
            return Suppression("inline", comment.reason, comment.location)
    return None


def _external(item: Finding, layers: Layers, paths: dict[str, str] | None = None) -> Suppression | None:
    rule = item.rule
    config_location = Location(layers.config_source, 1, 1) if layers.config_source else None
    if rule in layers.off:
        return Suppression("config", f"{rule} is off in the configuration", config_location)
    if layers.config_ignore and rule.startswith(layers.config_ignore):
        return Suppression("config", "ignored in the configuration", config_location)
    for pattern, rules in layers.per_path_ignores:
        if rule.startswith(rules) and _matches((paths or {}).get(item.file, item.file), pattern, layers.config_root):
            return Suppression("config", f"ignored for {pattern} in the configuration", config_location)
    if layers.cli_ignore and rule.startswith(layers.cli_ignore):
        return Suppression("cli", "--ignore on the command line", None)
    selected = layers.config_select + layers.cli_select
    if selected and not rule.startswith(selected):
        kind = "cli" if layers.cli_select else "config"
        return Suppression(kind, "not selected", None if kind == "cli" else config_location)
    return None


def _matches(file: str, pattern: str, root: Path | None) -> bool:
    path = Path(file)
    if root is not None:
        try:
            path = path.resolve().relative_to(root.resolve())
        except ValueError:
            return False
    text = path.as_posix()
    return (
        fnmatch.fnmatch(text, pattern)
        or fnmatch.fnmatch(text, pattern.rstrip("/") + "/*")
        or (os.sep != "/" and fnmatch.fnmatch(str(path), pattern))
    )
