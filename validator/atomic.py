"""Writing a report file so that a reader sees the old whole file or the new whole file, never half of one.

node_exporter's textfile collector reads its directory whenever Prometheus scrapes, maybe while mailcfg is
writing: a half-written file is a scrape error, or worse, a missing series read as a recovered check.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_atomically(path: str, text: str) -> None:
    """Write ``text`` to a temporary file in ``path``'s folder, then move it over ``path`` (``os.replace``).

    The temporary name starts with a dot and does not end in ``.prom``, so the collector skips it. The file gets the
    mode of the file it replaces, or what the umask gives a new one: mkstemp's 0600 would lock out the collector,
    which runs as another user. Raises OSError; no temporary file is left behind.
    """
    folder, name = os.path.split(os.path.abspath(path))
    mode = _mode_for(path)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), mode)
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)  # reading the umask means setting it: put it back at once
        os.umask(umask)
        return 0o666 & ~umask
