"""Reporters turn a :class:`~validator.engine.Result` into text; they return strings and never print."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validator.engine import Result


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False
    # With --strict, warnings fail the run; reports that mark failures (JUnit) follow suit.
    strict: bool = False


def render(name: str, result: Result, options: ReportOptions) -> str:
    """The report called ``name`` (see :data:`FORMATS`)."""
    return _reporter(name)(result, options)


FORMATS = ("text", "json", "sarif", "github", "junit")


def _reporter(name: str) -> Callable[[Result, ReportOptions], str]:
    # Imported on demand: a run pays only for the formats it writes.
    module = importlib.import_module(f"validator.reporters.{name}")
    render_function: Callable[[Result, ReportOptions], str] = module.render
    return render_function
