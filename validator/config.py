"""The configuration file: ``.mailcfg.yaml`` or ``[tool.mailcfg]`` in ``pyproject.toml``.

Found from the current directory upward, stopping at the repository root (the directory holding ``.git``);
``--config FILE`` names one. Problems in it are MC006 findings with a location, like any other problem in
a file the run reads; the keys at fault are left out and the run goes on.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from validator.finding import Finding, Location, Severity
from validator.limits import MAX_FILE_SIZE_MIB
from validator.registry import finding, is_selector
from validator.sanitize import one_line
from validator.suggest import did_you_mean

YAML_NAMES = (".mailcfg.yaml", ".mailcfg.yml")
KEYS = (
    "paths",
    "select",
    "ignore",
    "severity",
    "per-path-ignores",
    "strict",
    "require-env",
    "require-secrets",
    "max-file-size",
)
# Keys that are another name of a setting: `require-secrets` says what `require-env` checks today.
_ALIASES = {"require-secrets": "require-env"}
_MAILCFG_TABLE = re.compile(r"(?m)^\s*\[\s*tool\s*\.\s*[\"']?mailcfg\b")
_LEVELS = {"error": Severity.ERROR, "warning": Severity.WARNING, "info": Severity.INFO, "off": None}


@dataclass(frozen=True)
class Config:
    """Settings from one configuration file; paths in it are relative to ``root``."""

    source: str | None = None
    root: Path = field(default_factory=Path)
    paths: tuple[str, ...] = ()
    # Entries of `paths` refused as leading out of the file's folder (each an MC006 finding): not read.
    refused_paths: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    # Rule id -> severity, or None for "off".
    severity: Mapping[str, Severity | None] = field(default_factory=dict)
    per_path_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    strict: bool | None = None
    require_env: bool | None = None
    max_file_size: int | None = None
    findings: tuple[Finding, ...] = ()


def discover(start: Path) -> Path | None:
    """The nearest configuration file from ``start`` upward to the repository root."""
    start = start.resolve()
    for directory in (start, *start.parents):
        for name in YAML_NAMES:
            if (directory / name).is_file():
                return directory / name
        pyproject = directory / "pyproject.toml"
        # Loose on purpose: a table header that is not valid TOML (`[tool.mailcfg`) must still find the file,
        # so its syntax error is MC006 instead of its settings (`strict`) being silently lost.
        if pyproject.is_file() and _MAILCFG_TABLE.search(_read(pyproject)):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def load(path: Path, name: str | None = None) -> Config:
    """Read one configuration file (a missing or unreadable one raises OSError)."""
    shown = name or str(path)
    if path.name == "pyproject.toml":
        return _from_toml(path, shown)
    return _from_yaml(path, shown)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


class _Located:
    """Where a config key sits, for either file kind."""

    def __init__(self, name: str, locate: Any) -> None:
        self.name = name
        self._locate = locate

    def at(self, *path: object, key: bool = False) -> Location:
        line, column = self._locate(path, key)
        return Location(self.name, line, column, "/" + "/".join(map(str, path)) if path else "")


def _from_yaml(path: Path, name: str) -> Config:
    from validator.loader import load_file

    source = load_file(path, name)
    # YAML 1.1 notes (`off` read as false) and "empty file" are no problems in a configuration file.
    problems = [replace_rule(item) for item in source.findings if item.rule not in ("MC003", "MC005")]
    if not source.documents:
        return Config(source=name, root=path.parent, findings=tuple(problems))
    document = source.documents[0]
    located = _Located(name, lambda p, key: document.marks.key(p) if key else document.marks.value(p))
    return _build(document.data, path, name, located, problems)


def replace_rule(item: Finding) -> Finding:
    """A YAML problem in the config file is reported as MC006 (its own rule: the accounts are fine)."""
    return finding("MC006", f"configuration file: {item.message}", item.location, hint=item.hint)


def _from_toml(path: Path, name: str) -> Config:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    text = _read(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+), column (\d+)", str(error))
        if match:
            line, column = int(match[1]), int(match[2])
        else:  # "at end of document"
            line, column = max(text.count("\n"), 1), 1
        problem = finding(
            "MC006", f"configuration file: invalid TOML: {str(error).split(' (at')[0]}", Location(name, line, column)
        )
        return Config(source=name, root=path.parent, findings=(problem,))
    section = data.get("tool", {}).get("mailcfg", {})
    located = _Located(name, lambda p, key: _toml_position(text, p))
    return _build(section, path, name, located, [])


def _toml_position(text: str, path: tuple[object, ...]) -> tuple[int, int]:
    """Best-effort position of ``path`` under ``[tool.mailcfg]``: tomllib keeps none."""
    lines = text.splitlines()
    table = "tool.mailcfg"
    start = 0
    for index, line in enumerate(lines):
        if re.match(rf"\s*\[{re.escape(table)}\]\s*(#.*)?$", line):
            start = index
            break
    best = (start + 1, 1)
    if not path:
        return best
    key = str(path[0])
    nested = rf"\s*\[{re.escape(table)}\.{re.escape(key)}\]"
    pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
    for index in range(start, len(lines)):
        if re.match(nested, lines[index]) or pattern.match(lines[index]):
            best = (index + 1, len(lines[index]) - len(lines[index].lstrip()) + 1)
            break
    if len(path) > 1 and isinstance(path[1], int):
        return best  # a list item: its key's line (items may spread over lines)
    if len(path) > 1:
        inner = re.compile(rf"""\s*["']?{re.escape(str(path[1]))}["']?\s*=""")
        for index in range(best[0] - 1, len(lines)):
            found = re.search(rf"""["']?{re.escape(str(path[1]))}["']?\s*=""", lines[index])
            if inner.match(lines[index]) or found:
                column = found.start() + 1 if found else 1
                return index + 1, column
    return best


def _build(data: Any, path: Path, name: str, at: _Located, problems: list[Finding]) -> Config:
    if not isinstance(data, dict):
        problems.append(finding("MC006", "configuration file: expected a mapping of settings", at.at()))
        return Config(source=name, root=path.parent, findings=tuple(problems))
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in KEYS:
            problems.append(
                finding(
                    "MC006",
                    f"configuration file: unknown key {key!r}",
                    at.at(key, key=True),
                    hint=did_you_mean(str(key), KEYS) or f"known keys: {', '.join(KEYS)}",
                )
            )
            continue
        if key == "paths":
            checked = _paths(value, path.parent, at, problems)
            if checked is not None:
                values["paths"], values["refused_paths"] = checked
            continue
        converted = list(_convert(str(key), value, at, problems))
        if converted:
            values[_ALIASES.get(str(key), str(key)).replace("-", "_")] = converted[0]
    return Config(source=name, root=path.parent, findings=tuple(problems), **values)


def _convert(key: str, value: Any, at: _Located, problems: list[Finding]) -> Iterator[Any]:
    def bad(message: str, *sub: object, on_key: bool = False) -> None:
        problems.append(finding("MC006", f"configuration file: {message}", at.at(key, *sub, key=on_key)))

    if key in ("strict", "require-env", "require-secrets"):
        if isinstance(value, bool):
            yield value
        else:
            bad(f"'{key}' must be true or false")
    elif key == "max-file-size":
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_FILE_SIZE_MIB:
            yield value
        else:
            bad(f"'max-file-size' must be a number of MiB from 1 to {MAX_FILE_SIZE_MIB}")
    elif key in ("select", "ignore"):
        selectors = _selectors(key, value, (), bad)
        if selectors is not None:
            yield selectors
    elif key == "severity":
        if not isinstance(value, dict):
            bad("'severity' must map rule ids to error, warning, info or off")
            return
        levels: dict[str, Severity | None] = {}
        for rule, level in value.items():
            rule_id = str(rule).upper()
            # YAML 1.1 reads a plain `off` as false: take it as meant.
            level_name = "off" if level is False else str(level).lower()
            if not is_selector(rule_id) or len(rule_id) != 5:
                bad(f"'severity' names no rule {rule!r}", rule, on_key=True)
            elif level_name not in _LEVELS:
                bad(f"severity of {rule_id} must be error, warning, info or off", rule)
            else:
                levels[rule_id] = _LEVELS[level_name]
        yield levels
    elif key == "per-path-ignores":
        if not isinstance(value, dict):
            bad("'per-path-ignores' must map path patterns to lists of rules")
            return
        pairs = []
        for pattern, rules in value.items():
            selectors = _selectors(key, rules, (pattern,), bad)
            if selectors is not None:
                pairs.append((str(pattern), selectors))
        yield tuple(pairs)


def _paths(
    value: Any, root: Path, at: _Located, problems: list[Finding]
) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """``paths`` split into entries kept and entries refused, an MC006 finding at each refused one.

    In a pull-request check this file comes from the pull request, so its paths may only name what is
    inside its own folder: an absolute path or one climbing out (``..``, or a symlink along the way)
    could make the report show any file of the machine running the check, /proc/self/environ included.
    """
    items = _strings(value)
    if items is None:
        problems.append(
            finding("MC006", "configuration file: 'paths' must be a list of files or directories", at.at("paths"))
        )
        return None
    kept, refused = [], []
    for index, item in enumerate(items):
        why = _leaves_folder(item, root)
        if why is None:
            kept.append(item)
            continue
        refused.append(item)
        problems.append(
            finding(
                "MC006",
                f"configuration file: paths entry {one_line(item)!r} {why}; it is not read",
                at.at("paths", index) if isinstance(value, list) else at.at("paths"),
                hint="name files and directories inside the configuration file's folder; "
                "a path elsewhere can be given on the command line",
            )
        )
    return tuple(kept), tuple(refused)


def _leaves_folder(item: str, root: Path) -> str | None:
    """Why the ``paths`` entry ``item`` leads out of ``root``, or None when it stays inside."""
    from validator.loader import inside

    if os.path.isabs(item) or Path(item).anchor:  # the anchor: a Windows drive, as in `C:accounts`
        return "is absolute"
    if os.path.normpath(item).split(os.sep)[0] == os.pardir:
        return "climbs out of the configuration file's folder"
    if not inside(os.path.realpath(root / item), os.path.realpath(root)):
        return "leads out of the configuration file's folder through a symlink"
    return None


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return None


def _selectors(key: str, value: Any, sub: tuple[object, ...], bad: Any) -> tuple[str, ...] | None:
    items = _strings(value)
    if items is None:
        bad(f"'{key}' must be a list of rule ids or prefixes", *sub)
        return None
    kept = []
    for item in items:
        selector = item.strip().upper()
        if is_selector(selector):
            kept.append(selector)
        else:
            bad(f"'{key}' names no rule or prefix {item!r}", *sub)
    return tuple(kept)
