"""The run's trust settings: which hosts a live run may contact, which secrets it may read, where it may send.

In a pull-request check the YAML comes from the pull request, while the job holds real secrets. So what the
run trusts never comes from a file the pull request can change (``.mailcfg.yaml``, ``pyproject.toml``, an
``--env-file``): only from the command line and the ``MAILCFG_ALLOW_*`` variables the workflow sets. Every
refusal they cause is MC511 and names the flag that would allow it.

Host names are normalised once (UTS-46 to A-labels, lower case, no trailing dot) and that one form is used
for matching, DNS, SNI and the per-host limits, so the name checked is the name connected to.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from validator.errors import UsageError

if TYPE_CHECKING:
    from validator.secrets import Places

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The variables a workflow sets instead of flags (the env file is never read for these).
HOST_VAR, ANY_HOST_VAR = "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST"
ENV_VAR, RECIPIENT_VAR, INSECURE_VAR = "MAILCFG_ALLOW_ENV", "MAILCFG_ALLOW_RECIPIENT", "MAILCFG_ALLOW_INSECURE"
COMMAND_VAR = "MAILCFG_ALLOW_COMMAND"
PREFIX = "MAILCFG_ALLOW_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_SPLIT = re.compile(r"[\s,]+")
_IPV4ISH = re.compile(r"^[\d*]+(\.[\d*]+){1,3}$")


def normalize_host(host: str) -> str:
    """The one form of ``host`` used for matching, DNS, SNI and limits; unchanged if it is no valid name.

    An IP literal is written canonically (brackets dropped); a name goes to A-labels by UTS-46
    (non-transitional, so ``straße`` stays ``xn--strae-oqa`` and is never silently ``strasse``).
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text).compressed
    except ValueError:
        pass
    text = text.rstrip(".")
    if text.isascii():
        return text.lower()
    import idna

    try:
        return idna.encode(text, uts46=True, transitional=False).decode("ascii").lower()
    except idna.IDNAError:
        return text.lower()


@dataclass(frozen=True)
class HostPattern:
    """An exact name, ``*.domain`` (any name below it), or an IP address or CIDR range (never a name)."""

    text: str
    name: str | None = None
    wildcard: bool = False
    network: Network | None = None

    def matches(self, host: str) -> bool:
        if self.network is not None:
            try:
                return ipaddress.ip_address(host) in self.network
            except ValueError:
                return False  # an IP range never admits a DNS name, whatever it resolves to
        assert self.name is not None
        return host.endswith("." + self.name) if self.wildcard else host == self.name


def host_pattern(text: str, flag: str = "--allow-host") -> HostPattern:
    """Parse one host pattern; anything that is not one of the three forms is a usage error."""
    value = text.strip()
    if not value:
        raise UsageError(f"{flag}: empty pattern")
    try:
        return HostPattern(value, network=ipaddress.ip_network(value.strip("[]"), strict=False))
    except ValueError:
        pass
    if "/" in value or (_IPV4ISH.match(value) and "*" in value):
        raise UsageError(
            f"{flag} {value!r}: write an IP range in CIDR form, for example {_cidr_example(value)!r};"
            " a name pattern never matches an IP address"
        )
    wildcard = value.startswith("*.")
    rest = value[2:] if wildcard else value
    if any(c in rest for c in "*?[]") or not rest.strip("."):
        raise UsageError(
            f"{flag} {value!r}: give an exact host name or '*.domain' ('*' only as a whole leftmost label,"
            " for example '*.example.com')"
        )
    from validator.formats import host_problem

    problem = host_problem(rest)
    if problem is not None:
        raise UsageError(f"{flag} {value!r}: {problem}")
    return HostPattern(value, normalize_host(rest), wildcard)


def _cidr_example(value: str) -> str:
    parts = value.split("/", maxsplit=1)[0].split(".")
    fixed = [part for part in parts if part != "*" and part.isdigit()]
    octets = (fixed + ["0"] * 4)[:4]
    return f"{'.'.join(octets)}/{8 * len(fixed) if len(fixed) < 4 else 32}"


@dataclass(frozen=True)
class Trust:
    """What one live run may do; the default trusts no host at all."""

    hosts: tuple[HostPattern, ...] = ()
    any_host: bool = False
    env: tuple[str, ...] | None = None  # None: --allow-env not given, any variable may be named
    recipients: tuple[str, ...] = ()
    insecure: tuple[HostPattern, ...] = ()
    commands: tuple[str, ...] = ()  # programs an oauth2 `command` or a `{command:}` secret may start, exactly
    secret_dirs: tuple[str, ...] = ()  # real paths of the directories `{file:}` secrets may be read from
    credentials_directory: str | None = None  # the process's $CREDENTIALS_DIRECTORY (systemd), for `{credential:}`

    @property
    def places(self) -> Places:
        """Where secrets other than variables may be read from (validator.secrets)."""
        from validator.secrets import Places

        return Places(self.secret_dirs, self.credentials_directory)

    @property
    def names_hosts(self) -> bool:
        """Whether the run said which hosts it trusts (otherwise it may contact none)."""
        return self.any_host or bool(self.hosts)

    def host_allowed(self, host: str) -> bool:
        name = normalize_host(host)
        return self.any_host or any(pattern.matches(name) for pattern in self.hosts)

    def env_allowed(self, name: str) -> bool:
        return self.env is None or any(fnmatch.fnmatchcase(name, pattern) for pattern in self.env)

    def recipient_allowed(self, address: str) -> bool:
        """``--send-test``/``--round-trip`` recipients: listed ones, or any for ``--allow-any-host``."""
        if self.recipients:
            return any(fnmatch.fnmatchcase(address.lower(), pattern.lower()) for pattern in self.recipients)
        return self.any_host

    def insecure_allowed(self, host: str) -> bool:
        name = normalize_host(host)
        return any(pattern.matches(name) for pattern in self.insecure)

    def command_allowed(self, program: str) -> bool:
        """Whether an oauth2 `command` may start ``program`` (its first element, exactly as the run named it).

        An on/off switch would let every later pull request run anything; a program the run names is what the
        workflow's author chose to run. `--allow-any-host` does not imply it.
        """
        return program in self.commands


def split(values: Iterable[str]) -> list[str]:
    """Comma- or whitespace-separated items of every value."""
    return [item for value in values for item in _SPLIT.split(value) if item]


def from_settings(
    *,
    hosts: Iterable[str] = (),
    any_host: bool = False,
    env: Iterable[str] = (),
    recipients: Iterable[str] = (),
    insecure: Iterable[str] = (),
    commands: Iterable[str] = (),
    secret_dirs: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Trust:
    """Combine the command line with the ``MAILCFG_ALLOW_*`` variables of the process environment (and its
    ``$CREDENTIALS_DIRECTORY``, which systemd sets for `{credential:}` secrets)."""
    from validator.secrets import CREDENTIALS_DIRECTORY, allowed_dirs

    environ = environ or {}

    def listed(cli: Iterable[str], variable: str) -> list[str]:
        return split([*cli, environ.get(variable, "")])

    env_patterns = listed(env, ENV_VAR)
    given_env = bool(env_patterns) or bool(tuple(env)) or ENV_VAR in environ
    return Trust(
        hosts=tuple(host_pattern(item) for item in listed(hosts, HOST_VAR)),
        any_host=any_host or environ.get(ANY_HOST_VAR, "").strip().lower() in _TRUE,
        env=tuple(env_patterns) if given_env else None,
        recipients=tuple(listed(recipients, RECIPIENT_VAR)),
        insecure=tuple(host_pattern(item, "--allow-insecure") for item in listed(insecure, INSECURE_VAR)),
        commands=tuple(_program(item) for item in listed(commands, COMMAND_VAR)),
        secret_dirs=allowed_dirs(tuple(secret_dirs), environ),
        credentials_directory=environ.get(CREDENTIALS_DIRECTORY) or None,
    )


def _program(text: str) -> str:
    """An `--allow-command` value: a program name looked up on PATH, or an absolute path; never relative."""
    if "/" in text and not text.startswith("/"):
        raise UsageError(
            f"--allow-command {text!r}: give a program name found on PATH (oama) or an absolute path"
            " (/usr/local/bin/oama); a relative path would run whatever the checked-out tree puts there"
        )
    return text
