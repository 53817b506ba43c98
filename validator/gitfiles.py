"""Account files read from a git revision (``mailcfg diff origin/main HEAD``), without a checkout."""

from __future__ import annotations

import subprocess

from validator.errors import UsageError
from validator.loader import Limits, SourceFile, load_bytes


def is_revision(spec: str) -> bool:
    """Whether ``spec`` names a commit of the repository around the current directory."""
    return _git("rev-parse", "--verify", "--quiet", f"{spec}^{{commit}}", check=False) is not None


def load_revision(revision: str, paths: tuple[str, ...], limits: Limits) -> tuple[SourceFile, ...]:
    """The ``*.yaml``/``*.yml`` files under ``paths`` at ``revision`` (paths relative to the current directory)."""
    listing = _git("ls-tree", "-r", "-z", "--name-only", revision, "--", *paths)
    names = sorted(name for name in (listing or b"").decode("utf-8").split("\0") if name.endswith((".yaml", ".yml")))
    if not names:  # the pull request that adds the first accounts: the caller compares against an empty set
        return ()
    files = []
    for name in names:
        raw = _git("cat-file", "blob", f"{revision}:./{name}")
        source = load_bytes(raw or b"", f"{revision}:{name}", limits)
        source.path = name  # per-path settings match the path in the tree, not the revision-qualified name
        files.append(source)
    return tuple(files)


def _git(*args: str, check: bool = True) -> bytes | None:
    try:
        run = subprocess.run(["git", *args], capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"git {args[0]}: {error}") from None
    if run.returncode != 0:
        if not check:
            return None
        message = run.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return run.stdout
