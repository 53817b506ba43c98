"""Secret sources: where a secret reference's value comes from, whether it is there, and reading it.

A reference is one of ``{env: NAME}``, ``{file: PATH}``, ``{credential: NAME}`` (systemd's
``$CREDENTIALS_DIRECTORY/NAME``) or ``{command: [PROGRAM, ARG...]}``. This module is the one place that looks at
them, for ``check --require-env`` (MC306, MC308, MC511: nothing is opened and no command runs) and for the live
commands (their trust screen refuses before anything is opened or run; files and credentials are read before
any connection; a command runs when its check starts).

Trust, as for hosts: the YAML may come from a pull request, while the job running the check holds real secrets. A
file is read only when its resolved path (relative to the YAML file's folder, ``~`` expanded, symlinks resolved)
lies inside a directory the run names with ``--allow-secret-dir`` or ``MAILCFG_ALLOW_SECRET_DIR``: otherwise
``{file: ~/.ssh/id_rsa}`` would become a "password" sent to a server the pull request names. A credential is read
only from ``$CREDENTIALS_DIRECTORY`` of the process environment (systemd sets it; an env file never does). A
command runs only when ``--allow-command`` names its program (the rules of the oauth2 ``command``), without a
shell, with no stdin and its stderr discarded (it may print the secret while it fails).

No value read here ever reaches a message: problems name the reference (variable, path, credential, program),
never what it holds.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from validator.loader import SYSTEM_TREES, Refused, inside, read_checked
from validator.sanitize import one_line

if TYPE_CHECKING:
    from validator.model import Secret

# The sources of a secret, as the format names them (validator.model.SECRET_SOURCES), and `sops`: a value encrypted
# in the YAML file itself (validator/sops.py).
SOURCES = ("env", "file", "credential", "command", "sops")
CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"
# The trust variable naming the directories secret files may be read from (like the other MAILCFG_ALLOW_*, only
# from the process environment: an env file's MAILCFG_ALLOW_* lines are dropped).
SECRET_DIR_VAR = "MAILCFG_ALLOW_SECRET_DIR"
# Largest secret read from a file, a credential or a command: a service-account key is about 2.5 KiB.
MAX_SIZE = 64 * 1024
_KIB = MAX_SIZE // 1024


@dataclass(frozen=True)
class Ref:
    """One secret reference, resolved as far as it can be without reading: ``source`` (env, file, credential,
    command), ``name`` as written (the variable, the path, the credential, the program), a command's ``argv``, and
    a file's resolved ``path``."""

    source: str
    name: str
    argv: tuple[str, ...] = ()
    path: str = ""

    @classmethod
    def of_file(cls, name: str, folder: str) -> Ref:
        """A `{file: name}` reference written in a YAML file in ``folder``: ``~`` expanded, relative paths taken from
        ``folder``, symlinks resolved."""
        return cls("file", name, path=os.path.realpath(os.path.join(folder, os.path.expanduser(name))))

    @property
    def key(self) -> str:
        """The name of the value among the run's secret values: a variable's own name, else a name no variable can
        have (it holds a ':'), the same for every reference to the same file, credential or command."""
        if self.source == "env":
            return self.name
        if self.source == "file":
            return f"file:{self.path}"
        if self.source == "credential":
            return f"credential:{self.name}"
        if self.source == "sops":
            return f"sops:{self.path}#{self.name}"
        return "command:" + "\0".join(self.argv)

    @property
    def short(self) -> str:
        """The reference in few words: ``$NAME`` for a variable, else as :attr:`shown`."""
        return f"${self.name}" if self.source == "env" else self.shown

    @property
    def shown(self) -> str:
        """The reference in words, for messages: ``environment variable X``, ``file P``, ``credential N``,
        ``command PROGRAM`` (a command's arguments may hold anything: never shown)."""
        if self.source == "sops":
            return f"SOPS-encrypted value at {self.name}"
        words = {"env": "environment variable", "file": "file", "credential": "credential", "command": "command"}
        return f"{words[self.source]} {one_line(self.name)}"


def reference(secret: Secret, folder: str) -> Ref:
    """``secret`` as a :class:`Ref`; a relative file path is taken from ``folder`` (the YAML file's). A value SOPS
    encrypted in the YAML file is ``Ref("sops", POINTER, path=FILE)``, its key :func:`validator.sops.key`'s."""
    if secret.sops is not None:
        file, _, pointer = secret.sops.rpartition("#")
        return Ref("sops", pointer, path=file)
    if secret.env is not None:
        return Ref("env", secret.env)
    if secret.file is not None:
        return Ref.of_file(secret.file, folder)
    if secret.credential is not None:
        return Ref("credential", secret.credential)
    argv = tuple(secret.command or ())
    return Ref("command", argv[0], argv)


def at(key: str, ref: Ref) -> tuple[str, ...]:
    """Where a finding about the secret under ``key`` sits: at its source's key (`…/password/env`), or at the
    secret itself when SOPS encrypted it in the file."""
    from validator.credentials import secret_path

    return secret_path(key) if ref.source == "sops" else (*secret_path(key), ref.source)


def of(entry: Any, secret: Secret) -> Ref:
    """The :class:`Ref` of ``secret`` written in ``entry`` (a :class:`validator.accounts.Entry`; not named as a type:
    the account set's modules import this one)."""
    return reference(secret, folder(entry))


def folder(entry: Any) -> str:
    """The folder of the YAML file ``entry`` is written in (where relative secret files are looked up)."""
    source = entry.origin.document.source
    return os.path.dirname(os.path.abspath(str(source.path or source.name)))


@dataclass(frozen=True)
class Places:
    """Where the run may read secrets besides variables: ``dirs``, the real paths of its ``--allow-secret-dir``
    directories, and ``credentials``, the process's ``$CREDENTIALS_DIRECTORY`` (None when unset)."""

    dirs: tuple[str, ...] = ()
    credentials: str | None = None


def allowed_dirs(values: tuple[str, ...] | list[str], environ: Mapping[str, str]) -> tuple[str, ...]:
    """The real paths of ``--allow-secret-dir`` values (one directory each) and of ``MAILCFG_ALLOW_SECRET_DIR``
    (``environ``'s: the process environment, never an env file), which lists directories separated by commas or
    whitespace like every ``MAILCFG_ALLOW_*`` variable. A directory that does not exist is a usage error: a typo
    would only make every file "outside"."""
    import re

    from validator.errors import UsageError

    listed = [*values, *re.split(r"[\s,]+", environ.get(SECRET_DIR_VAR, ""))]
    out: list[str] = []
    for item in (value.strip() for value in listed):
        if not item:
            continue
        real = os.path.realpath(os.path.expanduser(item))
        if not os.path.isdir(real):
            raise UsageError(f"--allow-secret-dir {item}: no such directory")
        if real not in out:
            out.append(real)
    return tuple(out)


@dataclass(frozen=True)
class Problem:
    """Why a file or credential cannot be had: ``rule`` MC511 when the run's trust settings refuse it (nothing
    opened), MC306 when it is missing or unreadable; a message naming the reference (never its content), a hint."""

    rule: str
    message: str
    hint: str


def locate(ref: Ref, places: Places) -> str | Problem:
    """The real path a file or credential reference may be read from, or why it may not be: nothing is opened,
    and a file outside the allowed directories is not even looked at."""
    if ref.source == "file":
        if not any(inside(ref.path, directory) for directory in places.dirs):
            where = f" ({one_line(ref.path)})" if ref.path != ref.name else ""
            return Problem(
                "MC511",
                f"{ref.shown}{where} is outside every --allow-secret-dir; not read",
                f"if the run may read it: --allow-secret-dir {one_line(os.path.dirname(ref.path))} "
                f"(or {SECRET_DIR_VAR})",
            )
        real = ref.path
    else:
        if not places.credentials:
            return Problem(
                "MC306",
                f"{ref.shown}: {CREDENTIALS_DIRECTORY} is not set",
                "systemd sets it for a unit with LoadCredential= (or SetCredentialEncrypted=); run mailcfg there",
            )
        directory = os.path.realpath(places.credentials)
        real = os.path.realpath(os.path.join(directory, ref.name))
        if not inside(real, directory):
            return Problem(
                "MC511", f"{ref.shown} leads out of {CREDENTIALS_DIRECTORY} through a symlink; not read", _LINK_HINT
            )
    system = next((tree for tree in SYSTEM_TREES if inside(real, tree)), None)
    if system is not None:
        return Problem("MC511", f"{ref.shown} resolves under {system}, which holds no secrets; not read", _LINK_HINT)
    return real


_LINK_HINT = "name the file that holds the secret itself"


def status(ref: Ref, places: Places) -> tuple[str, os.stat_result] | Problem:
    """The real path and ``os.stat`` of a file or credential that may be read and looks readable (a regular file,
    not empty, within the size limit, readable by this user), or the problem; the file is not opened."""
    real = locate(ref, places)
    if isinstance(real, Problem):
        return real
    try:
        found = os.stat(real)
    except FileNotFoundError:
        return Problem("MC306", f"{ref.shown} does not exist", _missing_hint(ref))
    except OSError as error:
        return Problem("MC306", f"{ref.shown} cannot be read ({error.strerror})", _missing_hint(ref))
    if not stat.S_ISREG(found.st_mode):
        return Problem("MC306", f"{ref.shown} is not a regular file", "name the file that holds the secret")
    if found.st_size == 0:
        return Problem("MC306", f"{ref.shown} is empty", "write the secret into it")
    if found.st_size > MAX_SIZE:
        return Problem("MC306", f"{ref.shown} is larger than {_KIB} KiB", "the file must hold the secret alone")
    if not os.access(real, os.R_OK):
        return Problem("MC306", f"{ref.shown} is not readable by this user", "let the user running mailcfg read it")
    return real, found


def _missing_hint(ref: Ref) -> str:
    if ref.source == "credential":
        return f"load it in the unit: LoadCredential={ref.name}:/path/to/the/secret"
    return "create it, or correct the path (relative paths start at the YAML file's folder)"


def open_to_others(ref: Ref, places: Places) -> tuple[str, int] | None:
    """(real path, mode) of a file or credential that others than its owner may read or change (any mode but
    0400/0600, the owner's execute bit aside), when it may be read at all; None otherwise. Not opened."""
    found = status(ref, places)
    if isinstance(found, Problem):
        return None
    real, result = found
    mode = stat.S_IMODE(result.st_mode)
    return (real, mode) if mode & 0o077 else None


class SecretError(Exception):
    """A secret could not be had; the problem names the reference, never a value."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def read(ref: Ref, places: Places) -> str:
    """The value of a file or credential reference: UTF-8, one trailing newline dropped; SecretError otherwise.

    The checks of :func:`status` come first (a file outside the allowed directories is never opened), then the
    file is opened without following a link and without blocking, and must still be the file checked.
    """
    found = status(ref, places)
    if isinstance(found, Problem):
        raise SecretError(found)
    real, checked = found
    try:
        raw = read_checked(real, checked, MAX_SIZE + 1)
    except Refused as refused:
        raise SecretError(Problem("MC306", f"{ref.shown}: {refused}", _LINK_HINT)) from None
    except OSError as error:
        raise SecretError(Problem("MC306", f"{ref.shown} cannot be read ({error.strerror})", "")) from None
    if len(raw) > MAX_SIZE:
        raise SecretError(Problem("MC306", f"{ref.shown} is larger than {_KIB} KiB", "it must hold the secret alone"))
    return value(raw, ref)


def value(raw: bytes, ref: Ref) -> str:
    """A secret's bytes as text: UTF-8, one trailing newline dropped, not empty; SecretError otherwise."""
    rule = "MC512" if ref.source == "command" else "MC306"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SecretError(Problem(rule, f"{ref.shown} gave no UTF-8 text", "a secret is UTF-8 text")) from None
    text = text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text
    if not text:
        what = "printed nothing" if ref.source == "command" else "holds nothing but a line break"
        raise SecretError(Problem(rule, f"{ref.shown} {what}", "it must give the secret"))
    return text


def program_path(program: str) -> str | None:
    """Where ``program`` is: an absolute path as it is, else looked up on the absolute entries of PATH.

    The process's own PATH, never the env file's; relative entries (`.`, `bin`) are skipped, so a program of the
    checked-out tree is never what runs.
    """
    import shutil

    if program.startswith("/"):
        return program if os.access(program, os.X_OK) else None
    path = os.pathsep.join(p for p in os.environ.get("PATH", os.defpath).split(os.pathsep) if p.startswith("/"))
    return shutil.which(program, path=path)


async def run(argv: tuple[str, ...] | list[str], timeout: float, limit: int = MAX_SIZE) -> bytes:
    """Run an allowed command (no shell, no stdin, stderr discarded, in its own session) and return its standard
    output, at most ``limit`` + 1 bytes of it; SecretError (MC512) when it cannot start, outlives ``timeout`` or
    exits non-zero. The caller has checked the program against ``--allow-command``."""
    import asyncio
    import contextlib

    name = one_line(argv[0])

    def failed(message: str, hint: str) -> SecretError:
        return SecretError(Problem("MC512", message, hint))

    path = program_path(argv[0])
    if path is None:
        raise failed(f"`command` program {name} is not on PATH", "install it, or name it by its absolute path")
    try:
        process = await asyncio.create_subprocess_exec(
            path,
            *argv[1:],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,  # it may print the secret while it fails
            start_new_session=True,
        )
    except OSError as error:
        raise failed(f"`command` {name} could not start ({error.strerror})", "run it by hand to see why") from None

    def kill() -> None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()

    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except asyncio.TimeoutError:
        kill()
        await process.wait()
        raise failed(f"`command` {name} did not finish within {timeout:g} s", "--timeout waits longer") from None
    except asyncio.CancelledError:  # Ctrl-C: the program must not outlive the run
        kill()
        raise
    if process.returncode:
        raise failed(
            f"`command` {name} exited with status {process.returncode}",
            "run it by hand to see why; mailcfg never shows its error output (it may hold a secret)",
        )
    return output[: limit + 1]
