"""The one result type every stage produces: a frozen, sortable :class:`Finding`."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):
    """How much a finding matters; ``error`` fails a run, ``warning`` only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a YAML file: 1-based line and column plus the JSON pointer of the node."""

    file: str
    line: int
    column: int
    pointer: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding was suppressed: by an ``inline`` comment, the ``config`` file or the ``cli``."""

    kind: str
    reason: str | None = None
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a set of accounts; transform with :func:`dataclasses.replace`."""

    rule: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None
    account: str | None = None
    suppression: Suppression | None = None

    @property
    def file(self) -> str:
        return self.location.file

    @property
    def line(self) -> int:
        return self.location.line

    @property
    def column(self) -> int:
        return self.location.column

    @property
    def pointer(self) -> str:
        return self.location.pointer


def pointer_of(path: tuple[object, ...]) -> str:
    """RFC 6901 JSON pointer for a path of keys and indexes."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)
