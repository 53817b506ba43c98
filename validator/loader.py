"""All YAML reading: files → plain data, a position for every key and value, and MC001–MC005 findings.

Why events and not ``yaml.compose``: the compose tree costs a Python object (plus two marks) per node,
recurses in C (a 100,000-deep flow list segfaults the interpreter) and was measured here 1.9× slower
than building plain data straight from libyaml's event stream. Walking the events ourselves also lets us
enforce the depth and alias limits *while* parsing, see duplicate keys PyYAML would silently drop, and
notice YAML 1.1 surprises (``off`` → False, ``0465`` → 309) as they are resolved.
"""

from __future__ import annotations

import math
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from sys import intern
from typing import Any

import yaml
from yaml import events as ev

from validator.errors import PathError
from validator.finding import Finding, Location, pointer_of

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the PyYAML build
    raise ImportError("mailcfg needs PyYAML built with libyaml (yaml.CSafeLoader); reinstall PyYAML")

_CLoader = yaml.CSafeLoader

MiB = 1024 * 1024
DEFAULT_MAX_LIST_ITEMS = 200_000
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# The sections of a document, each a list of entries, in the format's order.
SECTIONS = ("users", "smtp", "imap")
# Keys whose scalar values are secrets: masked in every snippet, never echoed in a message. The one list of
# secret key names: every pattern below that looks for a secret's key (_SECRET_LIKE, NO_SPACE_SECRET,
# _UNREAD_SECRET, SECRET_VALUE) is built from it, each widened as its comment says.
SENSITIVE_KEYS = frozenset(
    {
        "password", "passwd", "secret", "token", "api_key", "apikey",
        # OAuth2's secret keys (their own words: `client_secret` holds `secret` in the middle of a word).
        "client_secret", "refresh_token", "access_token", "service_account",
    }
)  # fmt: skip
# The same as regex alternatives (none holds a metacharacter), in a fixed order.
_SENSITIVE = "|".join(sorted(SENSITIVE_KEYS))

_Y = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = _Y + "str", _Y + "int", _Y + "float", _Y + "bool", _Y + "null"
_MERGE, _TIMESTAMP, _VALUE, _YAML = _Y + "merge", _Y + "timestamp", _Y + "value", _Y + "yaml"
# `0587`: a leading zero with an 8 or 9 is no octal number, so YAML 1.1 reads a string (YAML 1.2: 587).
_DECIMAL_WITH_ZERO = re.compile(r"[-+]?0[0-9_]*[89][0-9_]*\Z")
_AS_TEXT = frozenset({_STR, _TIMESTAMP, _VALUE, _YAML, _MERGE})
_SCALAR_TAGS = frozenset({_STR, _INT, _FLOAT, _BOOL, _NULL, _TIMESTAMP, _VALUE, _YAML, _MERGE})
_RESOLVERS: dict[str, list[tuple[str, re.Pattern[str]]]] = yaml.resolver.Resolver.yaml_implicit_resolvers


def _finding(rule: str, message: str, location: Location, *, hint: str | None = None) -> Finding:
    """A finding of ``rule`` at its registered severity.

    The registry is imported here, when a finding is made, not with this module: the registry's types name the
    account set, which is built on this module's documents (an import cycle otherwise).
    """
    from validator.registry import finding

    return finding(rule, message, location, hint=hint)


@dataclass(frozen=True, slots=True)
class Limits:
    """Input limits; each MC004 finding names the one it hit and the option that raises it."""

    max_file_size: int = 32 * MiB
    max_depth: int = 64
    # Aliases may add at most this many nodes, or as many as the document itself has, whichever is more.
    alias_budget: int = 10_000
    # Items in one list: 100,000 accounts fit; a million-item list is refused before it costs seconds.
    max_list_items: int = DEFAULT_MAX_LIST_ITEMS


# A position (0-based line and column) packed into one int: ``line << 32 | column``; a key's entry packs the key's
# position and its value's, ``key << 64 | value``. One int per node, where tuples of ints cost three to five objects:
# at 100,000 accounts the positions were the largest part of the memory a run holds.
_BITS = 32
_LOW = (1 << _BITS) - 1
_POSITION = (1 << 2 * _BITS) - 1


def _unpack(position: int) -> tuple[int, int]:
    return position >> _BITS, position & _LOW


class Marks:
    """Positions of one document's nodes, looked up by path only when a finding needs one.

    The table maps ``id(container)`` to the positions of its children: a dict ``key -> key position << 64 | value
    position`` or a list ``[position, …]``, each position ``line << 32 | column`` (0-based). Keyed by identity so
    building it costs one int per node and no path strings.
    """

    __slots__ = ("_root", "_root_pos", "_table")

    def __init__(self, root: object, root_pos: tuple[int, int], table: dict[int, Any]) -> None:
        self._root = root
        self._root_pos = root_pos
        self._table = table

    def value(self, path: Iterable[object]) -> tuple[int, int]:
        """1-based position of the value at ``path``, or of its deepest existing ancestor."""
        obj, pos = self._root, self._root_pos
        for part in path:
            children = self._table.get(id(obj))
            if children is None:
                break
            if isinstance(children, dict):
                if part not in children:
                    break
                pos = _unpack(children[part] & _POSITION)
            else:
                if not isinstance(part, int) or not 0 <= part < len(children):
                    break
                pos = _unpack(children[part])
            obj = obj[part]  # type: ignore[index]
        return pos[0] + 1, pos[1] + 1

    def key(self, path: tuple[object, ...]) -> tuple[int, int]:
        """1-based position of the *key* that ends ``path`` (the value's position for list items)."""
        if not path:
            return self.value(path)
        parent = self._resolve(path[:-1])
        entry = self._table.get(id(parent)) if parent is not _MISSING else None
        if isinstance(entry, dict) and path[-1] in entry:
            kl, kc = _unpack(entry[path[-1]] >> 2 * _BITS)
            return kl + 1, kc + 1
        return self.value(path)

    def _resolve(self, path: Iterable[object]) -> object:
        obj = self._root
        for part in path:
            try:
                obj = obj[part]  # type: ignore[index]
            except (KeyError, IndexError, TypeError):
                return _MISSING
        return obj


_MISSING = object()


@dataclass(slots=True)
class Document:
    """One YAML document: its plain data and where each node came from."""

    source: SourceFile
    index: int
    data: Any
    marks: Marks

    def location(self, path: tuple[object, ...], *, key: bool = False) -> Location:
        line, column = self.marks.key(path) if key else self.marks.value(path)
        return Location(self.source.name, line, column, pointer_of(path))


@dataclass(slots=True)
class SourceFile:
    """A file of the run: its text (for snippets), documents, loader findings and secret spans."""

    name: str
    text: str = ""
    documents: list[Document] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # (start_line, start_col, end_line, end_col), 0-based: plaintext secrets to mask in any snippet.
    masks: list[tuple[int, int, int, int]] = field(default_factory=list)
    # False when the file could not be read whole (syntax error, refused): its accounts are unknown.
    complete: bool = True
    # The file's path in the work tree when `name` is something else (`HEAD:accounts/a.yaml` from git).
    path: str | None = None


class _Stop(Exception):
    """Parsing of this file ends here with one finding.

    ``ours``: raised by mailcfg's own checks on the events, not made from a libyaml error. ``cut``: set when
    libyaml refused to nest any deeper, at this offset of the text (see :meth:`_Parser.run`).
    """

    def __init__(
        self,
        rule: str,
        message: str,
        line: int,
        column: int,
        hint: str | None = None,
        *,
        ours: bool = True,
        cut: int | None = None,
    ) -> None:
        super().__init__(message)
        self.rule, self.message, self.line, self.column, self.hint = rule, message, line, column, hint
        self.ours, self.cut = ours, cut
        self.lines: tuple[int, ...] = ()  # other 0-based lines of the error, whose secrets are masked too


# ---------------------------------------------------------------------------------------------- files

# Kernel-made trees: their files claim to be regular (procfs ones with size 0, so no size limit ever
# triggers) yet hold the machine's state, /proc/self/environ the job's secrets. Nothing there is an account file.
SYSTEM_TREES = ("/proc", "/sys", "/dev")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CHUNK = 1 << 16
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class TreePath(str):
    """A path that, symlinks resolved, must stay inside ``boundary`` (a real path), else it is not read.

    A ``str`` so that code which only passes paths along (``engine._static``, ``gitfiles``) needs no change:
    :func:`discover` and :func:`load_file` read the boundary. ``refused`` marks a configuration entry already
    reported as MC006: it names nothing to read, and stands in for the paths a configuration gave so that
    a run does not fall back to ``./accounts.yaml`` when all of them were refused.
    """

    boundary: str
    refused: bool

    def __new__(cls, path: str, boundary: str, *, refused: bool = False) -> TreePath:
        self = super().__new__(cls, path)
        self.boundary = boundary
        self.refused = refused
        return self


class Refused(Exception):
    """A file mailcfg will not open; the message says why and never holds the file's content."""


def inside(real: str, boundary: str) -> bool:
    """Whether the resolved path ``real`` is ``boundary`` or below it (both already real paths)."""
    real, boundary = os.path.normcase(real), os.path.normcase(boundary)
    return real == boundary or real.startswith(boundary.rstrip(os.sep) + os.sep)


def discover(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Files named on the command line, directories expanded to ``*.yaml``/``*.yml`` (sorted, once each).

    A plain path is a trusted root (whoever runs mailcfg chose it, a symlink included): files found below
    it are :class:`TreePath` confined to it. A :class:`TreePath` (from a configuration file) is confined to
    its own boundary. The confinement is enforced by :func:`load_file`, which refuses what leaves.
    """
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    for raw in paths:
        for path, known in _expand(raw):
            # By real path: `a.yaml link.yaml` (a symlink to it) is one file, not two with duplicate ids.
            key = known or os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                out.append((path, str(path)))
    return out


def _expand(raw: str) -> list[tuple[str, str | None]]:
    """The candidate files of one path (a directory leaving its boundary is one candidate, to be refused), each
    with its real path where the walk knows it (a file that is no symlink in a directory it walked)."""
    boundary = raw.boundary if isinstance(raw, TreePath) else None
    if isinstance(raw, TreePath) and raw.refused:
        return []
    if os.path.isdir(raw):
        real = os.path.realpath(raw)
        if boundary is not None and not inside(real, boundary):
            return [(raw, None)]
        root = boundary if boundary is not None else real
        found: list[tuple[str, str | None]] = [
            (TreePath(os.path.normpath(path), root), known) for path, known in _walk(raw, root, real)
        ]
        if not found:  # `check empty-dir/` checked nothing and passed: a CI gate that was green by accident
            raise PathError(f"{raw}: no *.yaml or *.yml file under it")
        return found
    if os.path.lexists(raw):
        return [(raw, None)]
    raise PathError(f"{raw}: no such file or directory")


def _walk(top: str, boundary: str, real: str) -> list[tuple[str, str | None]]:
    """``*.yaml``/``*.yml`` below ``top`` in sorted order, hidden entries skipped; an explicit stack, so no
    depth limit. Directory symlinks are not followed (a loop could make the walk endless; a target inside
    the tree is walked anyway); one leaving ``boundary`` is listed, so that its refusal is reported.

    Each file comes with its real path when it is no symlink: ``real`` (the real path of ``top``) joined with its
    path below ``top``, since no directory symlink is followed. That is only :func:`discover`'s key for files named
    twice, not the path read (:func:`checked_status` resolves every file again); ``os.path.realpath`` costs more per
    file than reading a small one."""
    found: list[tuple[str, str | None]] = []
    skip = len(top)
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
        except OSError as error:
            raise PathError(f"{directory}: {error.strerror}") from None
        subdirectories = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.name.endswith((".yaml", ".yml")) and not entry.is_dir(follow_symlinks=False):
                link = entry.is_symlink()
                found.append((entry.path, None if link else os.path.join(real, entry.path[skip:].lstrip(os.sep))))
            elif entry.is_symlink():
                if not inside(os.path.realpath(entry.path), boundary) and entry.is_dir():
                    found.append((entry.path, None))
            elif entry.is_dir(follow_symlinks=False):
                subdirectories.append(entry.path)
        pending.extend(reversed(subdirectories))
    return found


def load_file(path: str | os.PathLike[str], name: str, limits: Limits = Limits()) -> SourceFile:
    """Read one file; problems with its content are findings, an unreadable path is a PathError.

    A file that must not be read (see :func:`checked_status`) is an MC004 finding at its first line,
    decided before it is opened. A file holding a NUL byte is not text: an MC001 finding, and the
    source keeps no text, so no report can show any of it.
    """
    source = SourceFile(name)
    try:
        real, status = checked_status(path)
        if status.st_size > limits.max_file_size:
            source.complete = False
            source.findings.append(_refused_size(name, status.st_size, limits))
            return source
        raw = read_checked(real, status, limits.max_file_size + 1)
    except Refused as refused:
        return _refused(source, str(refused))
    except OSError as error:
        raise PathError(f"{name}: {error.strerror or error}") from None
    if b"\0" in raw and not raw.startswith(_UTF16_BOMS):  # UTF-16 has NULs; load_bytes names it better
        return _binary(source)
    return load_bytes(raw, name, limits, source)


def checked_status(path: str | os.PathLike[str]) -> tuple[str, os.stat_result]:
    """The real path ``path`` leads to and its ``os.stat``, once it is known that it may be opened; else Refused.

    Refused: a :class:`TreePath` whose resolved target leaves its boundary, anything resolving under
    /proc, /sys or /dev, and anything not a regular file (a FIFO would block, a device never end). The
    resolved target is not named: it is no part of the checked content.
    """
    real = os.path.realpath(path)
    if isinstance(path, TreePath) and not inside(real, path.boundary):
        raise Refused("symlink leaves the checked tree; not read")
    system = next((tree for tree in SYSTEM_TREES if inside(real, tree)), None)
    if system is not None:
        raise Refused(f"file resolves under {system}, which holds no account files; not read")
    status = os.stat(real)
    if not stat.S_ISREG(status.st_mode):
        kind = next((what for test, what in _KINDS if test(status.st_mode)), "a special file")
        raise Refused(f"file is {kind}, not a regular file; not read")
    return real, status


def read_checked(real: str, status: os.stat_result, size: int) -> bytes:
    """At most ``size`` bytes of the file :func:`checked_status` approved as ``real`` and ``status``.

    The real path is opened, not following a link and not blocking, and must still be the same file: a
    link switched after the check cannot make this read something else, nor a FIFO swapped in make it wait.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    descriptor = os.open(real, flags)
    try:
        opened = os.fstat(descriptor)
        if (opened.st_dev, opened.st_ino) != (status.st_dev, status.st_ino) or not stat.S_ISREG(opened.st_mode):
            raise Refused("file changed while it was being checked; not read")
        # Straight from the descriptor, in reads the size of the file (one more byte, to see its end at once):
        # `os.read(size)` would make a buffer of the whole limit for every small file. A file that grew, or claims
        # size 0 (procfs), is read on in chunks, never past ``size``.
        chunks = []
        want = min(size, opened.st_size + 1)
        while want > 0:
            chunk = os.read(descriptor, want)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
            want = min(size, _CHUNK)
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    finally:
        os.close(descriptor)


def _refused(source: SourceFile, why: str) -> SourceFile:
    source.complete = False
    source.findings.append(
        _finding(
            "MC004",
            why,
            Location(source.name, 1, 1),
            hint="only regular files inside the checked tree are read: a link out of it, or a system file, "
            "could put files of the machine running the check into the report",
        )
    )
    return source


def _binary(source: SourceFile) -> SourceFile:
    # Located at 1:1, not at the NUL: in a file like /proc/self/environ even that offset is the length of a value.
    source.complete = False
    source.findings.append(
        _finding(
            "MC001",
            "file holds a NUL byte: it is binary, not YAML text; its content is not shown",
            Location(source.name, 1, 1),
            hint="find the byte with `grep -naP '\\x00' FILE`; save the file as UTF-8 text",
        )
    )
    return source


def _refused_size(name: str, size: int, limits: Limits) -> Finding:
    return _finding(
        "MC004",
        f"file is {size / MiB:.1f} MiB, over the {limits.max_file_size / MiB:g} MiB limit",
        Location(name, 1, 1),
        hint="raise the limit with --max-file-size if this file is genuine",
    )


def load_bytes(raw: bytes, name: str, limits: Limits = Limits(), source: SourceFile | None = None) -> SourceFile:
    """Decode and parse one file's bytes."""
    source = source or SourceFile(name)
    if len(raw) > limits.max_file_size:
        source.complete = False
        source.findings.append(_refused_size(name, len(raw), limits))
        return source
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        source.complete = False
        source.findings.append(
            _finding(
                "MC001",
                "file is UTF-16 encoded; mailcfg reads UTF-8",
                Location(name, 1, 1),
                hint="save the file as UTF-8",
            )
        )
        return source
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        line, column = _line_col(body[: error.start].decode("utf-8", "replace"))
        source.complete = False
        source.findings.append(
            _finding(
                "MC001",
                f"file is not valid UTF-8 (byte 0x{body[error.start]:02x})",
                Location(name, line, column),
                hint="save the file as UTF-8",
            )
        )
        return source
    source.text = text
    _Parser(source, limits).run()
    if source.complete and not source.documents and not source.findings:
        source.findings.append(
            _finding(
                "MC005",
                "file is empty: it holds no document with `version: 1`",
                Location(name, 1, 1),
                hint="start the file with `version: 1`",
            )
        )
    return source


# --------------------------------------------------------------------------------------------- events


_NOKEY = object()
_MERGEKEY = object()
_COLLECTION_TAGS = frozenset({None, "!", _Y + "map", _Y + "seq"})
# Keys that may hold a secret even though the format has no such key (typos of `password`, say): wider than
# SENSITIVE_KEYS, as it looks for these names anywhere in a key (`smtp_password`) and takes `pasw`/`passw`,
# `pwd` and the German `kennwort` too.
_SECRET_LIKE = re.compile("|".join(("pas?sw", "pwd", "kennwort", _SENSITIVE)), re.IGNORECASE)
# Inside `credentials` and its `oauth2`, every key but these may be a mistyped secret key (its value masked).
_PLAIN_IN_CREDENTIALS = frozenset({"username", "contact", "oauth2"})
_PLAIN_IN_OAUTH2 = frozenset(
    {"provider", "tenant", "token_url", "client_id", "subject", "scopes", "command", "mechanism"}
)
# The keys `credentials` and `oauth2` know; any other key there may be a secret pasted as a key: masked, never
# echoed.
CREDENTIAL_KEYS = frozenset({"username", "password", "app_password", "oauth2", "contact"})
OAUTH2_KEYS = _PLAIN_IN_OAUTH2 | {"client_secret", "refresh_token", "service_account"}


def _guarded(path: tuple[object, ...]) -> tuple[frozenset[str] | None, frozenset[str]]:
    """For `credentials` and its `oauth2`: the keys the mapping knows and those with plain values."""
    if path and path[-1] == "credentials":
        return CREDENTIAL_KEYS, _PLAIN_IN_CREDENTIALS
    if path[-2:] == ("credentials", "oauth2"):
        return OAUTH2_KEYS, _PLAIN_IN_OAUTH2
    return None, frozenset()
# The sources of a secret reference that say where the secret is (a path, a systemd credential's name): their
# values are shown, like an `env` variable's name. A `command`'s arguments may hold anything and stay masked.
_WHERE_KEYS = frozenset({"file", "credential"})
# Keys the format does not know that hold a secret when written flat in an account entry (`pass: …`,
# `pin: 1234`), compared in lower case. None is a key the format knows.
FLAT_SECRET_KEYS = frozenset(
    {"pass", "pw", "pin", "key", "auth", "credential", "cred", "creds", "passphrase", "passcode", "private_key"}
)
# Keys the format does not know whose value, written `user:password`, is a login with its password.
LOGIN_KEYS = frozenset({"login", "logon", "username", "userpass", "user_pass"})
# `password:secret`: with no space after the colon YAML reads the whole as text (a plain scalar, or a
# continuation of the value above), so the password sits in a value or a key that is not masked as one.
# Searched in text, so only whole words count: SENSITIVE_KEYS and `passwort`, `kennwort`, `pwd`.
NO_SPACE_SECRET = re.compile(r"(?<![^\s{\[,])(" + _SENSITIVE + r"|passwort|kennwort|pwd):(?=\S)", re.IGNORECASE)
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# The same on a line parsing stopped at (see _Parser._mask_unread): a value after a secret-like key, a
# scalar after `credentials:` or `login:` (a mapping or list there starts with `{`/`[` and is not masked),
# the `user:password@` of a URL with or without a scheme. The secret-like keys are SENSITIVE_KEYS, any word
# starting with `pasw`/`passw`, `kennwort`, `pwd`, and of FLAT_SECRET_KEYS the words `pass`, `pw`, `pin`,
# `key`, `auth`, `credential`. (Not the rest of FLAT_SECRET_KEYS: taking those in would mask more of such a
# line in every report, a change of output.)
_UNREAD_SECRET = re.compile(
    r"""(?:^|[\s{,\[])["']?(?:""" + _SENSITIVE + r"""|pas?sw\w*|kennwort|pwd|pass|pw|pin|key|auth|credential)"""
    r"""["']?[ \t]*:[ \t]*(?!\{\s*env\s*:)(\S.*)"""
    r"""|(?:^|[\s{,\[])["']?(?:credentials|login|logon)["']?[ \t]*:[ \t]*(?![\s{\[#&*!|>])(\S.*)""",
    re.IGNORECASE,
)
_UNREAD_USERINFO = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://([^\s'"]+)@|(?<![^\s'"{\[,])([^\s'"@:/{\[,]+:[^\s'"]*)@""")
# The reports' own defence in depth, for lines the loader never turned into values (a syntax error on a
# password line): whatever follows a secret key is a secret unless it is an `{env: NAME}` reference (or a
# `{file: PATH}` or `{credential: NAME}`, which say where the secret is, as the messages about them do). The text
# report masks it; SARIF does not measure it (a region's end would tell the secret's length). It runs on every
# line a report shows, parsed or not, so it keeps to SENSITIVE_KEYS themselves; _UNREAD_SECRET, for the line
# parsing stopped at, takes the wider words too.
SECRET_VALUE = re.compile(
    r"""((?:^|[\s{,])["']?(?:""" + _SENSITIVE + r""")["']?\s*:[ \t]*)(?!\{\s*(?:env|file|credential)\s*:)(\S.*)""",
    re.IGNORECASE,
)


@lru_cache(maxsize=1024)
def secret_key(key: object) -> bool:
    """Whether values under ``key`` may be secrets (``password``, ``passwort``, ``api_key``, …)."""
    return isinstance(key, str) and (key.lower() in SENSITIVE_KEYS or bool(_SECRET_LIKE.search(key)))


def userinfo(text: str) -> tuple[int, int] | None:
    """The span of the ``user:password`` part of a URL (``imaps://info:pw@host``, ``info:pw@host``), if any.

    With a scheme, all between ``://`` and the last ``@``; without one, only when it holds a ``:`` (a plain
    address, ``info@example.com``, names no password; ``mailto:`` neither).
    """
    at = text.rfind("@")
    if at < 0:
        return None
    scheme = _URL_SCHEME.match(text)
    start = scheme.end() if scheme else 0
    if at <= start or (scheme is None and (":" not in text[:at] or text[:7].lower() == "mailto:")):
        return None
    return start, at


def hide_userinfo(text: str) -> str:
    """``text`` with the ``user:password`` part of a URL masked, for a message that quotes a value."""
    span = userinfo(text)
    return text if span is None else text[: span[0]] + "****" + text[span[1] :]


class _Frame:
    """An open mapping or list while its events arrive."""

    __slots__ = (
        "account",
        "anchor",
        "credentials",
        "is_map",
        "kc",
        "key",
        "key_sensitive",
        "kl",
        "known",
        "merges",
        "obj",
        "path",
        "plain",
        "positions",
        "sensitive",
        "start",
    )

    def __init__(
        self, obj: Any, positions: Any, path: tuple[object, ...], sensitive: bool, anchor: str | None, start: int
    ) -> None:
        self.obj = obj
        self.is_map = isinstance(obj, dict)
        self.positions = positions
        self.path = path
        self.sensitive = sensitive
        # `credentials` and its `oauth2` (guarded mappings): the keys they know, and those whose values are plain.
        self.known, self.plain = _guarded(path)
        self.credentials = self.known is not None
        # An entry of users, smtp or imap: unknown keys that name a secret (`pass:`, `pin:`) are masked.
        self.account = len(path) == 2 and path[0] in SECTIONS and type(path[1]) is int
        self.anchor = anchor
        self.start = start
        self.key: Any = _NOKEY
        self.kl = self.kc = 0
        self.key_sensitive = False
        self.merges: list[tuple[Any, int, int]] = []

    def child_path(self) -> tuple[object, ...]:
        """Path of the node that arrives next in this container."""
        if self.is_map:
            return (*self.path, self.key if self.key is not _NOKEY and self.key is not _MERGEKEY else "<<")
        return (*self.path, len(self.obj))

    def set_key(self, key: Any, line: int, column: int) -> None:
        self.key, self.kl, self.kc = key, line, column
        self.key_sensitive = self.sensitive if self.plain and key in self.plain else (
            self.sensitive
            or secret_key(key)
            or (self.credentials and key not in self.plain)
            or (self.account and isinstance(key, str) and key.lower() in FLAT_SECRET_KEYS)
        )

    def names_source(self, key: Any) -> bool:
        """Whether ``key`` is a `file` or `credential` of a secret reference (`password: {file: PATH}`): its value
        says where the secret is, as a variable's name does, and is shown."""
        return key in _WHERE_KEYS and bool(self.path) and secret_key(self.path[-1])

    def hides_key(self, key: Any) -> bool:
        """Whether ``key`` itself may be a secret: any key of a password mapping but `env`, an unknown key
        of `credentials` (a password pasted as a key), a key holding `password:secret`."""
        if self.sensitive:
            return not (isinstance(key, str) and (key.lower() == "env" or self.names_source(key)))
        if self.known is not None and key not in self.known:
            return True
        return isinstance(key, str) and ":" in key and NO_SPACE_SECRET.search(key) is not None


# The libyaml bundled with PyYAML 6.0.4 refuses more than 1,000 nested flow levels itself, while scanning
# ahead of the events that would hit our own limit: that error means what our depth limit means (MC004).
_LIBYAML_DEPTH = "exceeded maximum nesting depth"
_LIBYAML_MAX_DEPTH = 1000
# Tries at finding our own depth finding below libyaml's limit: one per block level above the deep part.
_LIBYAML_RETRIES = 8
_DEPTH_HINT = "account files need a handful of levels; this looks like hostile input"


class _Parser:
    """Builds the documents of one file from libyaml's events."""

    def __init__(self, source: SourceFile, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.findings = source.findings
        self._lines: list[str] | None = None  # the source's lines, split when a mask needs a column

    def run(self) -> None:
        findings, masks = len(self.findings), len(self.source.masks)
        stop = self._parse(self.source.text)
        if stop is not None and stop.cut is not None:
            stop = self._without_libyaml_limit(stop, stop.cut, findings, masks)
        if stop is not None:
            self._stopped(stop.rule, stop.message, stop.line, stop.column, stop.hint)
            for number in {stop.line - 1, *stop.lines}:
                self._mask_unread(number)

    def _parse(self, text: str) -> _Stop | None:
        """Build the documents of ``text``; the finding that ends parsing early, if any (not yet recorded)."""
        loader = _CLoader(text)
        try:
            self._events(loader)
        except _Stop as stop:
            return stop
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            if mark is not None and _LIBYAML_DEPTH in (error.problem or ""):
                return _Stop("MC004", self._too_deep(), line, column, _DEPTH_HINT, ours=False, cut=mark.index)
            message = " ".join(p for p in (error.context, error.problem) if p) or "YAML syntax error"
            secret = self._secret_without_space(error)
            hint = None
            if secret is not None:  # libyaml points past it, at the next line: point at the password's line
                line, column, word = secret
                hint = f"a space is needed after `{word}:`; without it YAML reads the line as text, not as a key"
            broken = _Stop("MC001", f"YAML syntax error: {message}", line, column, hint, ours=False)
            if error.context_mark is not None:
                broken.lines = (error.context_mark.line,)
            return broken
        except yaml.reader.ReaderError as error:
            # libyaml counts this position in bytes of the UTF-8 text, not in characters.
            line, column = _line_col(text.encode("utf-8")[: error.position].decode("utf-8", "replace"))
            message = f"YAML syntax error: {error.reason} (character {error.character!r})"
            return _Stop("MC001", message, line, column, ours=False)
        except RecursionError:  # pragma: no cover - libyaml's own parser is iterative; belt and braces
            return _Stop("MC004", "nesting too deep to read", 1, 1, ours=False)
        finally:
            loader.dispose()
        return None

    def _secret_without_space(self, error: yaml.MarkedYAMLError) -> tuple[int, int, str] | None:
        """1-based position and word of a `password:secret` between a syntax error's context and its problem
        (a line YAML cannot read as a key); what follows it is masked."""
        context, problem = error.context_mark, error.problem_mark
        if context is None or problem is None or problem.line - context.line > 2:
            return None
        for number in range(context.line, problem.line + 1):
            text = self._line(number)
            match = NO_SPACE_SECRET.search(text, context.column if number == context.line else 0)
            if match is not None:
                if text[match.end()] != "{":
                    self.source.masks.append((number, match.end(), number, len(text)))
                return number + 1, match.start() + 1, match[1].lower()
        return None

    def _without_libyaml_limit(self, stop: _Stop, cut: int, findings: int, masks: int) -> _Stop:
        """The finding a libyaml without its own depth limit gives, so that PyYAML's version does not matter.

        PyYAML 6.0.4's libyaml refuses 1,000 nested levels while scanning ahead, before the events that
        reach our limit arrive. The text before the level it refused nests less: parsed again, our checks
        stop it where they stop the whole text under an older libyaml. Block levels count towards libyaml's
        limit too, so each of a few more tries cuts before the level refused in the try before. When none
        of our checks stops a try (``Limits.max_depth`` raised past 1,000, say), libyaml's own stop stands.
        """
        first = self.findings[findings:], self.source.masks[masks:]
        for _ in range(_LIBYAML_RETRIES):
            del self.findings[findings:], self.source.masks[masks:]
            self.source.documents.clear()
            again = self._parse(self.source.text[:cut])
            if again is not None and again.ours:
                return again
            if again is None or again.cut is None or again.cut >= cut:
                break
            cut = again.cut
        self.findings[findings:], self.source.masks[masks:] = first
        return stop

    def _too_deep(self) -> str:
        # libyaml stops at its own limit, which is above ours unless Limits.max_depth was raised past it.
        if self.limits.max_depth < _LIBYAML_MAX_DEPTH:
            return f"nesting deeper than {self.limits.max_depth} levels"
        return f"nesting deeper than {_LIBYAML_MAX_DEPTH:,} levels, the YAML parser's own limit"

    def _stopped(self, rule: str, message: str, line: int, column: int, hint: str | None) -> None:
        self.source.complete = False
        self.source.documents.clear()
        self.findings.append(_finding(rule, message, Location(self.source.name, line, column), hint=hint))

    def _location(self, line: int, column: int, path: tuple[object, ...]) -> Location:
        return Location(self.source.name, line + 1, column + 1, pointer_of(path))

    def _events(self, loader: Any) -> None:  # one loop for speed; branches are event kinds
        get = loader.get_event
        scalar_event, alias_event = ev.ScalarEvent, ev.AliasEvent
        mstart, sstart = ev.MappingStartEvent, ev.SequenceStartEvent
        mend, send = ev.MappingEndEvent, ev.SequenceEndEvent
        dstart, dend = ev.DocumentStartEvent, ev.DocumentEndEvent
        limits = self.limits
        masks = self.source.masks
        stack: list[_Frame] = []
        table: dict[int, Any] = {}
        anchors: dict[str, tuple[Any, int]] = {}
        root: Any = None
        root_pos = (0, 0)
        nodes = 0  # nodes written in the document
        expanded = 0  # nodes added by aliases; an anchor's size counts both
        event = get()
        while event is not None:
            kind = type(event)
            if kind is scalar_event:
                mark = event.start_mark
                line, column = mark.line, mark.column
                frame = stack[-1] if stack else None
                if frame is not None and frame.is_map and frame.key is _NOKEY:
                    self._scalar_key(frame, event, line, column)
                    colon = ":" in event.value
                    if (frame.sensitive or frame.credentials or colon) and frame.hides_key(frame.key):
                        masks.append((line, column, event.end_mark.line, event.end_mark.column))
                    if colon:
                        self._no_space(event, frame.path, True)
                    if event.anchor:  # `&a key: value`: the anchor names the key (YAML suite E76Z, HMQ5)
                        anchors[event.anchor] = (frame.key, 1)
                else:
                    # A scalar under `credentials` (`credentials: "user:password"`) is masked too.
                    sensitive = frame is not None and (
                        (frame.key_sensitive or frame.key == "credentials") if frame.is_map else frame.sensitive
                    )
                    value = self._scalar_value(event, line, column, sensitive, frame, False)
                    if frame is not None and value is not None:
                        self._mask_value(frame, event, value, sensitive)
                    if frame is None:
                        root = value
                        if event.value:  # an empty document keeps the position of its `---`
                            root_pos = (line, column)
                    else:
                        self._add(frame, value, line, column)
                    if event.anchor:
                        anchors[event.anchor] = (value, 1)
                nodes += 1
            elif kind is mstart or kind is sstart:
                mark = event.start_mark
                line, column = mark.line, mark.column
                frame = stack[-1] if stack else None
                sensitive = frame is not None and (
                    (frame.key_sensitive or (kind is sstart and frame.key == "credentials"))
                    if frame.is_map
                    else frame.sensitive
                )
                if event.tag not in _COLLECTION_TAGS:
                    raise _unsupported_tag(event.tag, sensitive, line, column)
                if len(stack) >= limits.max_depth:
                    raise _Stop(
                        "MC004", f"nesting deeper than {limits.max_depth} levels", line + 1, column + 1, _DEPTH_HINT
                    )
                if frame is not None and frame.is_map and frame.key is _NOKEY:
                    raise _Stop(
                        "MC001", "a mapping or list used as a mapping key is not supported", line + 1, column + 1
                    )
                obj: Any = {} if kind is mstart else []
                positions: Any = {} if kind is mstart else []
                table[id(obj)] = positions
                path = frame.child_path() if frame is not None else ()
                if frame is None:
                    root, root_pos = obj, (line, column)
                else:
                    self._add(frame, obj, line, column)
                stack.append(_Frame(obj, positions, path, sensitive, event.anchor, nodes + expanded))
                nodes += 1
            elif kind is mend or kind is send:
                frame = stack.pop()
                if frame.merges:
                    self._merge(frame, table)
                if frame.anchor:
                    anchors[frame.anchor] = (frame.obj, nodes + expanded - frame.start)
            elif kind is alias_event:
                mark = event.start_mark
                line, column = mark.line, mark.column
                frame = stack[-1] if stack else None
                sensitive = frame is not None and (frame.key_sensitive if frame.is_map else frame.sensitive)
                if any(open_frame.anchor == event.anchor for open_frame in stack):
                    raise _Stop(
                        "MC004",
                        "recursive alias: it refers to a list or mapping that contains it",
                        line + 1,
                        column + 1,
                        "account files rarely need aliases; expand them by hand",
                    )
                if event.anchor not in anchors:
                    shown = "an alias" if sensitive else f"alias *{event.anchor}"
                    raise _Stop("MC001", f"{shown} refers to no anchor defined before it", line + 1, column + 1)
                value, size = anchors[event.anchor]
                expanded += size
                if expanded > max(limits.alias_budget, nodes):
                    raise _Stop(
                        "MC004",
                        f"aliases expand to more than {max(limits.alias_budget, nodes):,} nodes (an alias bomb?)",
                        line + 1,
                        column + 1,
                        "account files rarely need aliases; expand them by hand",
                    )
                if frame is None:
                    root, root_pos = value, (line, column)
                elif frame.is_map and frame.key is _NOKEY:
                    if isinstance(value, (dict, list)):
                        raise _Stop(
                            "MC001", "a mapping or list used as a mapping key is not supported", line + 1, column + 1
                        )
                    frame.set_key(value, line, column)
                else:
                    self._add(frame, value, line, column)
            elif kind is dstart:
                anchors = {}
                root, root_pos = None, (event.start_mark.line, event.start_mark.column)
                table = {}
                nodes = expanded = 0
            elif kind is dend:
                docs = self.source.documents
                docs.append(Document(self.source, len(docs), root, Marks(root, root_pos, table)))
            event = get()

    def _scalar_key(self, frame: _Frame, event: Any, line: int, column: int) -> None:
        if event.tag is None and event.implicit[0] and event.value == "<<":
            frame.set_key(_MERGEKEY, line, column)
        else:
            # Any key of `credentials` may be a password pasted as a key: a YAML 1.1 surprise does not quote it.
            hidden = frame.sensitive or frame.credentials
            key = self._scalar_value(event, line, column, hidden, frame, True)
            # Every entry repeats the same few keys: one string each, not one per occurrence.
            frame.set_key(intern(key) if type(key) is str else key, line, column)

    # ------------------------------------------------------------------------------------ secret masks

    def _mask_value(self, frame: _Frame, event: Any, value: Any, sensitive: bool) -> None:
        """Record the secret parts of a scalar value: all of it under a secret key (but a variable name
        under `env`, and the path or credential name of a `file` or `credential` reference), a `login:
        user:password` of an entry, the `user:password@` of a URL anywhere."""
        start, end = event.start_mark, event.end_mark
        masks = self.source.masks
        if sensitive:
            if not (
                frame.is_map
                and isinstance(frame.key, str)
                and isinstance(value, str)
                and ((frame.key.lower() == "env" and ENV_NAME.match(value)) or frame.names_source(frame.key))
            ):
                masks.append((start.line, start.column, end.line, end.column))
        elif type(value) is str:
            if frame.account and frame.key in LOGIN_KEYS and ":" in value:
                masks.append((start.line, start.column, end.line, end.column))
            elif "@" in value:
                span = userinfo(event.value)
                if span is not None:
                    masks.append(self._part(event, *span))
        if ":" in event.value:
            # A `password:` value reports its own MC301 (schema stage); elsewhere this one is the only word.
            self._no_space(event, frame.child_path(), not (frame.is_map and frame.key == "password"))

    def _no_space(self, event: Any, path: tuple[object, ...], report: bool) -> None:
        """Mask what follows each `password:` with no space in a scalar; MC301 at the first one.

        Written so in a plain scalar, the password is text: of the value above (a continuation line), of a
        key, of a value. The scalar's lines are searched in the source, so the mask covers what is written.
        """
        start, end = event.start_mark, event.end_mark
        if NO_SPACE_SECRET.search(event.value) is None:
            return
        first: tuple[int, int, str] | None = None
        for number in range(start.line, end.line + 1):
            text = self._line(number)
            stop = end.column if number == end.line else len(text)
            for match in NO_SPACE_SECRET.finditer(text, start.column if number == start.line else 0, stop):
                if text[match.end()] != "{":  # `password:{env: X}` names a variable: nothing to hide
                    first = first or (number, match.start(), match[1].lower())
                    self.source.masks.append((number, match.end(), number, stop))
        if report and first is not None:
            number, column, word = first
            self.findings.append(
                _finding(
                    "MC301",
                    f"plaintext {word} in the YAML: with no space after `{word}:` it is read as part of the text",
                    self._location(number, column, path),
                    hint=f"a space is needed after `{word}:`; and name an environment variable, not the "
                    f"{word} itself: `{word}: {{env: SOME_VARIABLE}}`",
                )
            )

    def _mask_unread(self, number: int) -> None:
        """Mask the secrets of a line parsing stopped at, which never became values: what follows a secret-like
        key (but an `{env: NAME}`), a scalar after `credentials:` or `login:`, the `user:password@` of a URL."""
        text = self._line(number)
        masks = self.source.masks
        for match in _UNREAD_SECRET.finditer(text):
            group = 1 if match[1] is not None else 2
            masks.append((number, match.start(group), number, match.end(group)))
        for match in _UNREAD_USERINFO.finditer(text):
            group = 1 if match[1] is not None else 2
            masks.append((number, match.start(group), number, match.end(group)))

    def _part(self, event: Any, first: int, last: int) -> tuple[int, int, int, int]:
        """The text span of characters ``first:last`` of a scalar's value; all of it when they cannot be told
        apart (a value over several lines, or with escapes)."""
        start, end = event.start_mark, event.end_mark
        if start.line == end.line:
            raw = self._line(start.line)[start.column : end.column]
            quote = 0 if not event.style else 1 if event.style in ("'", '"') else -1
            if quote >= 0 and raw[quote : len(raw) - quote] == event.value:
                offset = start.column + quote
                return start.line, offset + first, start.line, offset + last
        return start.line, start.column, end.line, end.column

    def _line(self, number: int) -> str:
        if self._lines is None:
            self._lines = LINE_BREAKS.split(self.source.text)
        return self._lines[number] if number < len(self._lines) else ""

    def _add(self, frame: _Frame, value: Any, line: int, column: int) -> None:
        if frame.is_map:
            key = frame.key
            if key is _MERGEKEY:
                frame.merges.append((value, line, column))
            else:
                positions = frame.positions
                if key in positions:
                    self._duplicate(frame, key, positions[key])
                    del frame.obj[key]  # re-insert so the kept value also takes the later position
                frame.obj[key] = value
                positions[key] = ((frame.kl << _BITS | frame.kc) << _BITS | line) << _BITS | column
            frame.key = _NOKEY
            frame.key_sensitive = False
        else:
            frame.obj.append(value)
            frame.positions.append(line << _BITS | column)
            if len(frame.obj) > self.limits.max_list_items:
                raise _Stop(
                    "MC004",
                    f"a list with more than {self.limits.max_list_items:,} items",
                    line + 1,
                    column + 1,
                    "raise the limit with --max-list-items if this file is genuine",
                )

    def _duplicate(self, frame: _Frame, key: Any, packed: int) -> None:
        first = (*_unpack(packed >> 2 * _BITS), *_unpack(packed & _POSITION))
        hidden = frame.hides_key(key)
        path = frame.path if hidden else (*frame.path, key)
        shown = "key" if hidden else f"key {_show(key)}"
        self.findings.append(
            _finding(
                "MC002",
                f"duplicate {shown} (first at line {first[0] + 1}, column {first[1] + 1}); "
                "YAML readers keep only the last one",
                self._location(frame.kl, frame.kc, path),
                hint="remove one of the two",
            )
        )
        dropped = frame.obj[key]
        if frame.key_sensitive and dropped is not None and not isinstance(dropped, (dict, list)):
            # The schema never sees the dropped value, but it still sits in the file for anyone to read.
            self.findings.append(
                _finding(
                    "MC301",
                    "plaintext secret in the YAML (in a value a duplicate key overrides)",
                    self._location(first[2], first[3], path),
                    hint="delete it; name an environment variable instead: `password: {env: SOME_VARIABLE}`",
                )
            )

    def _merge(self, frame: _Frame, table: dict[int, Any]) -> None:
        # PyYAML semantics: explicit keys win, and among merged mappings the earlier one wins.
        obj, positions = frame.obj, frame.positions
        for value, line, column in frame.merges:
            sources = value if isinstance(value, list) else [value]
            for source in sources:
                entry = table.get(id(source))
                if not isinstance(source, dict) or entry is None:
                    raise _Stop("MC001", "the merge key << needs a mapping or a list of mappings", line + 1, column + 1)
                for key, item in source.items():
                    if key not in obj:
                        obj[key] = item
                        positions[key] = entry[key]

    def _scalar_value(
        self, event: Any, line: int, column: int, sensitive: bool, frame: _Frame | None, key: bool
    ) -> Any:
        tag, text = event.tag, event.value
        if tag is None or tag == "!":
            if not event.implicit[0] or tag == "!" or text[:1] not in _RESOLVERS:
                return text  # quoted, tagged "!", or plain text no resolver can turn into anything else
            tag = _resolve(text)
        elif tag not in _SCALAR_TAGS:
            raise _unsupported_tag(tag, sensitive, line, column)
        try:
            value, surprise, hint = _construct(tag, text, event.tag is None)
        except ValueError:
            raise _Stop("MC001", f"value cannot be read as {tag.rsplit(':', 1)[-1]}", line + 1, column + 1) from None
        if surprise:
            if sensitive:
                surprise = "this plain value is not read as written (YAML 1.1 rules)"
                hint = "quote it"
            # Not the path of a value under a key that may be a secret: a JSON pointer would quote the key.
            hidden = frame is not None and (key or frame.hides_key(frame.key))
            path = (frame.path if hidden else frame.child_path()) if frame is not None else ()
            self.findings.append(_finding("MC003", surprise, self._location(line, column, path), hint=hint))
        return value


def _unsupported_tag(tag: str, sensitive: bool, line: int, column: int) -> _Stop:
    # Under a password key even the tag may be the secret mistyped: it is not repeated there.
    shown = "this YAML tag" if sensitive else f"YAML tag {tag}"
    return _Stop(
        "MC004", f"{shown} is not supported: mailcfg reads plain data only", line + 1, column + 1, "remove the tag"
    )


def _resolve(text: str) -> str:
    for tag, regexp in _RESOLVERS.get(text[:1], ()):
        if regexp.match(text):
            return tag
    return _STR


def _construct(tag: str, text: str, implicit: bool) -> tuple[Any, str | None, str | None]:
    """The value PyYAML would produce, and a YAML 1.1 surprise message when a plain scalar misleads."""
    if tag in _AS_TEXT:
        if implicit and tag == _STR and _DECIMAL_WITH_ZERO.match(text):
            number = int(text.replace("_", ""), 10)
            return (
                text,
                f"plain `{text}` is read as a string (YAML 1.1), not as the number {number}",
                f"write {number} for a number, or quote it ('{text}') for the string",
            )
        # Timestamps stay strings: YAML 1.2 reads them so, and no field of ours holds a date.
        return text, None, None
    if tag == _NULL:
        return None, None, None
    if tag == _BOOL:
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no", "on", "off"):
            raise ValueError(text)
        value = lowered in ("true", "yes", "on")
        if implicit and lowered not in ("true", "false"):
            return (
                value,
                f"plain `{text}` is read as the boolean {str(value).lower()} (YAML 1.1)",
                f"write {str(value).lower()} for a boolean, or quote it ('{text}') for the string",
            )
        return value, None, None
    if tag == _INT:
        number, how = _int(text)
        if implicit and how:
            hint = f"write {number} if that is meant, or quote it ('{text}') for the string"
            if how == "the octal number":
                hint = f"drop the leading zero for the decimal {int(text.replace('_', ''), 10)}, or quote it"
            return number, f"plain `{text}` is read as {how} {number} (YAML 1.1)", hint
        return number, None, None
    if tag == _FLOAT:
        value_f, how = _float(text)
        if implicit and how:
            return (
                value_f,
                f"plain `{text}` is read as {how} {value_f} (YAML 1.1)",
                f"quote it ('{text}') if you mean the string",
            )
        return value_f, None, None
    raise ValueError(text)  # pragma: no cover - _SCALAR_TAGS lists every tag handled above


def _int(text: str) -> tuple[int, str | None]:
    digits = text.replace("_", "")
    how = "the number" if "_" in text else None
    sign = -1 if digits[:1] == "-" else 1
    if digits[:1] in "+-":
        digits = digits[1:]
    if digits == "0":
        return 0, how
    if digits.startswith("0b"):
        return sign * int(digits[2:], 2), "the binary number"
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16), "the hexadecimal number"
    if digits.startswith("0"):
        return sign * int(digits, 8), "the octal number"
    if ":" in digits:
        value = 0
        for part in digits.split(":"):
            value = value * 60 + int(part)
        return sign * value, "the sexagesimal number"
    return sign * int(digits), how


def _float(text: str) -> tuple[float, str | None]:
    digits = text.replace("_", "").lower()
    how = "the number" if "_" in text else None
    sign = -1.0 if digits[:1] == "-" else 1.0
    if digits[:1] in "+-":
        digits = digits[1:]
    if digits == ".inf":
        return sign * math.inf, how
    if digits == ".nan":
        return math.nan, how
    if ":" in digits:
        value = 0.0
        for part in digits.split(":"):
            value = value * 60 + float(part)
        return sign * value, "the sexagesimal number"
    return sign * float(digits), how


# The line breaks libyaml counts (CR LF, CR, LF, NEL, LS, PS): positions must agree with its marks. Whatever
# finds a finding's line in a file's text (suppression comments, the text and SARIF reports) splits with this.
LINE_BREAKS = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _line_col(before: str) -> tuple[int, int]:
    """1-based line and column of the character that follows ``before``."""
    lines = LINE_BREAKS.split(before)
    return len(lines), len(lines[-1]) + 1


def _show(key: object) -> str:
    return repr(key) if isinstance(key, str) else str(key).lower() if isinstance(key, bool) else str(key)
