"""Text from outside (server replies, YAML strings) made safe to print: one line, no control characters.

A server reply or a YAML string may hold newlines, terminal escapes (ESC ] … BEL) or a line that starts
with ``::`` (a GitHub workflow command); printed raw, they forge annotations or rewrite the terminal. Every
message built from such text passes through :func:`one_line` where it is created, and every line the text
report writes through :func:`report_line`.
"""

from __future__ import annotations

import re

# About one terminal line and a half: enough for any server's reason, too short to smuggle a page.
LIMIT = 300
# Every character that breaks a line for someone (str.splitlines, a terminal, a log viewer), runs of them at
# once: wider on purpose than loader.LINE_BREAKS, which counts lines as libyaml does to place findings.
_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a reader sees.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
REPLACEMENT = "\ufffd"


def one_line(text: str, limit: int = LIMIT) -> str:
    """``text`` on one line: line breaks become spaces, tabs spaces, other controls U+FFFD; at most ``limit``."""
    text = _BREAKS.sub(" ", text).replace("\t", " ")
    text = _CONTROLS.sub(REPLACEMENT, text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character :func:`one_line` would change (a line break or a control)."""
    return bool(_BREAKS.search(text) or _CONTROLS.search(text) or "\t" in text)


def report_line(line: str) -> str:
    """A report line that cannot be read as a GitHub workflow command (those start with ``::``)."""
    # A visible mark, not a space: runners may trim leading whitespace before they look for ``::``.
    return "» " + line if line.lstrip().startswith("::") else line
