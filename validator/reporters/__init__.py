"""Reporters turn a :class:`~validator.engine.Result` into text; they return strings and never print."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from validator.engine import Result


@dataclass(frozen=True)
class ReportOptions:
    color: bool = False


def render(name: str, result: Result, options: ReportOptions) -> str:
    """The report called ``name`` (see :data:`FORMATS`)."""
    return _reporter(name)(result, options)


FORMATS = ("text", "json")


def _reporter(name: str) -> Callable[[Result, ReportOptions], str]:
    if name == "json":
        from validator.reporters.json import render as json_render

        return json_render
    from validator.reporters.text import render as text_render

    return text_render
