"""Real mail servers on loopback for the live tests: a private Dovecot 2.3 (IMAP, LMTP), aiosmtpd SMTP servers
that deliver into it, hostile fake servers, and the test certificates.

Nothing here depends on pytest: ``running_mail_servers()`` starts everything and yields a frozen
``MailServers`` description; leaving the ``with`` block stops everything again.

The address plan (all loopback; every address carries the same Dovecot ports):

============  ==================================================================================
127.0.0.1     ``hosts.trusted_loopback``: Dovecot counts a client here as secure (the client's address equals
              the server's), so cleartext LOGIN works even with ``ssl = required``. Use it only to see that.
127.0.0.2     ``hosts.remote``: behaves like a remote server (LOGINDISABLED before STARTTLS). The default.
localhost     resolves to 127.0.0.1; the good certificate names it too.
127.0.0.3     ``hosts.wrong_name``: certificate valid, but only for ``wrong.example``
127.0.0.4     ``hosts.expiring``: certificate valid for this address, expires in 5 days
127.0.0.5     ``hosts.expired``: certificate valid for this address, expired yesterday
127.0.0.6     ``hosts.untrusted``: certificate for this address, issued by a CA that ``ca_file`` does not hold
127.0.0.7     ``hosts.cleartext``: Dovecot without TLS: no STARTTLS, LOGIN in cleartext accepted
============  ==================================================================================

Dovecot's failed-login penalty is switched off for clients at 127.0.0.1 (every loopback client), so tests with
wrong passwords do not stall. Real servers keep it: a checker must budget for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime
import email
import email.message
import email.policy
import errno
import grp
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import trustme
import yaml
from aiosmtpd.smtp import ALLOWED_BEFORE_STARTTLS, SMTP, AuthResult, LoginPassword
from imapclient import IMAPClient

DOMAIN = "example.test"
SMTP_HOSTNAME = f"mail.{DOMAIN}"

#: The mailbox users and their passwords (Dovecot passdb; the SMTP servers accept the same logins).
PASSWORDS: Mapping[str, str] = MappingProxyType({
    f"info@{DOMAIN}": "Info-Secret-1",
    f"anna@{DOMAIN}": "Anna-Secret-2",
    f"ben@{DOMAIN}": "Ben-Secret-3",  # his Sent folder is "Gesendete Elemente"
    f"umlaut@{DOMAIN}": "pässwörd-ß",  # a non-ASCII password (UTF-8)
    f"mailer@{DOMAIN}": "Mailer-Secret-5",  # the shared SMTP login of a typical setup
})
#: The folder each user's client should save sent mail to (marked ``\\Sent`` by SPECIAL-USE).
SENT_FOLDERS: Mapping[str, str] = MappingProxyType(
    {user: ("Gesendete Elemente" if user == f"ben@{DOMAIN}" else "Sent") for user in PASSWORDS}
)
#: Folders every user has besides INBOX.
COMMON_FOLDERS = ("Drafts", "Trash", "Envoyés")

STARTUP_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class MailServersError(RuntimeError):
    """The servers could not be started (Dovecot missing, wrong version, no free port, …)."""


# ----------------------------------------------------------------------------------------------- addresses


@dataclass(frozen=True)
class Hosts:
    trusted_loopback: str = "127.0.0.1"
    remote: str = "127.0.0.2"
    localhost: str = "localhost"
    wrong_name: str = "127.0.0.3"
    expiring: str = "127.0.0.4"
    expired: str = "127.0.0.5"
    untrusted: str = "127.0.0.6"
    cleartext: str = "127.0.0.7"

    @property
    def dovecot_listen(self) -> tuple[str, ...]:
        return (self.trusted_loopback, self.remote, self.wrong_name, self.expiring, self.expired,
                self.untrusted, self.cleartext)


HOSTS = Hosts()


@dataclass(frozen=True)
class Endpoint:
    """Where a server listens and how it speaks TLS, in mailcfg's terms: ``ssl`` | ``starttls`` | ``none``."""

    host: str
    port: int
    encryption: str

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def at(self, host: str) -> Endpoint:
        """The same listener reached at another address (Dovecot listens on all addresses of the plan)."""
        return replace(self, host=host)


# ----------------------------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class CertFiles:
    chain: Path  # leaf certificate followed by its chain, PEM
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.chain, self.key)
        return context


@dataclass(frozen=True)
class Certificates:
    ca_file: Path  # the CA a checker is given with --ca-file
    untrusted_ca_file: Path  # the other CA (signs the "untrusted" certificate)
    good: CertFiles  # localhost, 127.0.0.1, 127.0.0.2 (and mail.example.test)
    wrong_name: CertFiles  # only wrong.example
    expiring: CertFiles  # 127.0.0.4, expires in 5 days
    expired: CertFiles  # 127.0.0.5, expired yesterday
    untrusted: CertFiles  # 127.0.0.6, from the untrusted CA


def make_certificates(directory: Path, hosts: Hosts = HOSTS) -> Certificates:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    ca = trustme.CA(organization_name="mailcfg tests")
    other_ca = trustme.CA(organization_name="mailcfg tests, untrusted")

    def write(name: str, authority: trustme.CA, *identities: str, not_before: datetime.datetime | None = None,
              not_after: datetime.datetime | None = None) -> CertFiles:
        leaf = authority.issue_cert(*identities, common_name=identities[0], not_before=not_before,
                                    not_after=not_after)
        files = CertFiles(directory / f"{name}.pem", directory / f"{name}.key")
        files.chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        files.key.write_bytes(leaf.private_key_pem.bytes())
        files.key.chmod(0o600)
        return files

    certificates = Certificates(
        ca_file=directory / "ca.pem",
        untrusted_ca_file=directory / "untrusted-ca.pem",
        good=write("good", ca, hosts.localhost, SMTP_HOSTNAME, hosts.trusted_loopback, hosts.remote),
        wrong_name=write("wrong-name", ca, "wrong.example"),
        expiring=write("expiring", ca, hosts.expiring, not_before=now - datetime.timedelta(days=85),
                       not_after=now + datetime.timedelta(days=5)),
        expired=write("expired", ca, hosts.expired, not_before=now - datetime.timedelta(days=90),
                      not_after=now - datetime.timedelta(days=1)),
        untrusted=write("untrusted", other_ca, hosts.untrusted),
    )
    ca.cert_pem.write_to_path(str(certificates.ca_file))
    other_ca.cert_pem.write_to_path(str(certificates.untrusted_ca_file))
    return certificates


# ----------------------------------------------------------------------------------------------- ports


def free_ports(count: int) -> list[int]:
    """Distinct ports that nothing listens on at any address (the kernel picks them from the ephemeral range)."""
    with contextlib.ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def bind_same_port(hosts: Sequence[str], attempts: int = 50) -> list[socket.socket]:
    """Listening sockets on one port at each of ``hosts``."""
    for _ in range(attempts):
        sockets: list[socket.socket] = []
        try:
            for host in hosts:
                sock = socket.socket()
                sockets.append(sock)
                sock.bind((host, sockets[0].getsockname()[1] if len(sockets) > 1 else 0))
                sock.listen(128)
                sock.setblocking(False)
        except OSError as error:
            for sock in sockets:
                sock.close()
            if error.errno != errno.EADDRINUSE:
                raise
            continue
        return sockets
    raise MailServersError(f"no port free on all of {', '.join(hosts)}")


def closed_port(host: str) -> int:
    """A port that refuses connections: bound, then closed again."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


# ----------------------------------------------------------------------------------------------- Dovecot


def find_dovecot() -> str:
    found = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        raise MailServersError(
            "Dovecot is not installed, but the live tests (tests/live) need it: run "
            "`sudo .ci/install-mail-servers` (Debian/Ubuntu packages dovecot-imapd dovecot-lmtpd)")
    return found


def dovecot_version(binary: str) -> str:
    """Dovecot's version, checked: the configuration written here is Dovecot 2.3 syntax."""
    run = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=10)
    version = run.stdout.strip()
    match = re.match(r"(\d+)\.(\d+)", version)
    if run.returncode != 0 or not match:
        raise MailServersError(f"`{binary} --version` failed: {(run.stdout + run.stderr).strip()!r}")
    if (int(match[1]), int(match[2])) != (2, 3):
        raise MailServersError(
            f"Dovecot {version} is installed, but the live tests need Dovecot 2.3: 2.4 changed the configuration "
            "syntax (Debian 12 and Ubuntu 22.04/24.04 ship 2.3)")
    return version


@dataclass(frozen=True)
class DovecotPorts:
    imap: int
    imaps: int
    lmtp: int


@dataclass(frozen=True)
class _MailOwner:
    uid: int
    gid: int
    user: str  # the user and group the Dovecot services run as when not started by root
    group: str
    as_root: bool


def _mail_owner() -> _MailOwner:
    if os.geteuid() != 0:
        return _MailOwner(os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name,
                          grp.getgrgid(os.getgid()).gr_name, as_root=False)
    for name in ("vmail", "nobody"):  # vmail comes from .ci/install-mail-servers
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return _MailOwner(entry.pw_uid, entry.pw_gid, name, grp.getgrgid(entry.pw_gid).gr_name, as_root=True)
    raise MailServersError("running as root, but there is neither a user vmail nor nobody for the mailboxes")


def _dovecot_config(root: Path, certificates: Certificates, ports: DovecotPorts, owner: _MailOwner,
                    hosts: Hosts) -> str:
    state = root / "dovecot"
    per_address = [
        (hosts.wrong_name, certificates.wrong_name), (hosts.expiring, certificates.expiring),
        (hosts.expired, certificates.expired), (hosts.untrusted, certificates.untrusted),
    ]
    locals_ = "\n".join(
        f"local {host} {{\n  ssl_cert = <{files.chain}\n  ssl_key = <{files.key}\n}}" for host, files in per_address
    )
    unprivileged = "" if owner.as_root else f"""
# Started by an ordinary user: every service runs as that user, nothing is chrooted.
default_internal_user = {owner.user}
default_internal_group = {owner.group}
default_login_user = {owner.user}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
    mailbox_blocks = "\n".join(
        f'  mailbox "{name}" {{\n    special_use = {use}\n    auto = {auto}\n  }}'
        for name, use, auto in [
            ("Sent", "\\Sent", "subscribe"), ("Gesendete Elemente", "\\Sent", "no"),
            ("Drafts", "\\Drafts", "subscribe"), ("Trash", "\\Trash", "subscribe"),
        ]
    )
    return f"""# Generated by tests/live/servers.py for one test session (Dovecot 2.3 syntax).
base_dir = {state}/run
state_dir = {state}/state
log_path = {state}/dovecot.log
instance_name = mailcfg-tests-{os.getpid()}
protocols = imap lmtp
listen = {", ".join(hosts.dovecot_listen)}

ssl = required
ssl_cert = <{certificates.good.chain}
ssl_key = <{certificates.good.key}
ssl_min_protocol = TLSv1.2
{locals_}
# No TLS here at all: STARTTLS is not offered and cleartext LOGIN is accepted.
local {hosts.cleartext} {{
  ssl = no
  disable_plaintext_auth = no
}}

auth_mechanisms = plain login
auth_verbose = yes
first_valid_uid = {min(owner.uid, 500)}
first_valid_gid = {min(owner.gid, 1)}
mail_location = maildir:~/Maildir
{unprivileged}
# The failed-login penalty (up to 15 s per login from an address after one wrong password) is switched off for
# loopback clients only: this passdb never authenticates, it adds nodelay=yes for the client address.
passdb {{
  driver = passwd-file
  args = username_format=%r {state}/nodelay
  default_fields = noauthenticate=y
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {state}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {state}/users
  default_fields = uid={owner.uid} gid={owner.gid} home={root}/mail/%d/%n
}}

namespace inbox {{
  inbox = yes
  separator = /
{mailbox_blocks}
  mailbox "Envoyés" {{
    auto = subscribe
  }}
}}

service imap-login {{
  inet_listener imap {{
    port = {ports.imap}
  }}
  inet_listener imaps {{
    port = {ports.imaps}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {ports.lmtp}
  }}
}}
"""


def _users_file() -> str:
    lines = []
    for user, password in PASSWORDS.items():
        if ":" in password or "\n" in password:
            raise MailServersError(f"password of {user} cannot be written to a passwd-file")
        # ben has no "Sent": his \\Sent folder is "Gesendete Elemente" (created at start-up).
        extra = "userdb_namespace/inbox/mailbox/Sent/auto=no" if SENT_FOLDERS[user] != "Sent" else ""
        lines.append(f"{user}:{{PLAIN}}{password}::::::{extra}")
    return "\n".join(lines) + "\n"


def _set_parent_death_signal() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Dovecot gets SIGTERM if the test process dies without tearing down (Linux only)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _read_banner(address: tuple[str, int], timeout: float) -> bytes:
    with socket.create_connection(address, timeout=timeout) as sock:
        data = b""
        while b"\n" not in data:
            chunk = sock.recv(512)
            if not chunk:
                break
            data += chunk
        return data


class Dovecot:
    """One private Dovecot instance: ``dovecot -F -c <root>/dovecot/dovecot.conf`` in its own process group."""

    def __init__(self, root: Path, certificates: Certificates, hosts: Hosts = HOSTS) -> None:
        self.binary = find_dovecot()
        self.version = dovecot_version(self.binary)
        self.root = root
        self.hosts = hosts
        self.certificates = certificates
        self.directory = root / "dovecot"
        self.config = self.directory / "dovecot.conf"
        self.log = self.directory / "dovecot.log"
        self.stderr = self.directory / "stderr.log"
        self.owner = _mail_owner()
        self.process: subprocess.Popen[bytes] | None = None
        self.ports = DovecotPorts(0, 0, 0)

    def log_tail(self, lines: int = 30) -> str:
        """The end of Dovecot's stderr and log (start-up errors appear in both: each shown once)."""
        texts = []
        for path in (self.stderr, self.log):
            with contextlib.suppress(OSError):
                texts.append(path.read_text(errors="replace").splitlines())
        early = texts[0] if texts else []
        later = [line for text in texts[1:] for line in text if not any(line.endswith(e) for e in early if e)]
        return "\n".join((early + later)[-lines:])

    def start(self, attempts: int = 3) -> None:
        self.directory.mkdir(exist_ok=True)
        self.directory.chmod(0o755)
        mail = self.root / "mail"
        mail.mkdir(mode=0o700, exist_ok=True)
        if self.owner.as_root:
            os.chown(mail, self.owner.uid, self.owner.gid)
        # Read by the auth process, which runs as Dovecot's unprivileged internal user: test passwords only.
        for name, text in (("users", _users_file()), ("nodelay", "127.0.0.1:::::::nodelay=yes\n")):
            (self.directory / name).write_text(text, encoding="utf-8")
            (self.directory / name).chmod(0o644)
        for attempt in range(attempts):
            self.ports = DovecotPorts(*free_ports(3))
            self.config.write_text(
                _dovecot_config(self.root, self.certificates, self.ports, self.owner, self.hosts), encoding="utf-8")
            try:
                self._launch()
                return
            except MailServersError:
                if attempt == attempts - 1 or "Address already in use" not in self.log_tail():
                    raise
                self.stop()

    def _launch(self) -> None:
        with self.stderr.open("wb") as stderr:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)], stdin=subprocess.DEVNULL, stdout=stderr,
                stderr=stderr, start_new_session=True, preexec_fn=_set_parent_death_signal)  # noqa: PLW1509
        # Ready = the new process answers with its banner (an open port alone could be someone else's).
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise MailServersError(
                    f"Dovecot exited at start-up with code {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if _read_banner((self.hosts.trusted_loopback, self.ports.imap), 1.0).startswith(b"* OK"):
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise MailServersError(f"Dovecot did not greet within {STARTUP_TIMEOUT:.0f} s:\n{self.log_tail()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM, then wait until the master process is gone (a new instance must not see it running)."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(STOP_TIMEOUT)
        # Children outlive the master only if something went wrong; they are in its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


# ----------------------------------------------------------------------------------------------- SMTP


@dataclass(frozen=True)
class AuthAttempt:
    """One AUTH command a server received. Never holds a password."""

    mechanism: str
    tls: bool  # the connection was encrypted when AUTH arrived
    credentials_sent: bool  # the client sent a username/password (even if the server then refused it)
    username: str | None  # the login, when the client got as far as sending it
    success: bool


@dataclass(frozen=True)
class Delivery:
    """One recipient of one message, handed on to Dovecot over LMTP, with LMTP's answer."""

    mail_from: str
    recipient: str
    code: int
    reply: str
    subject: str | None
    message_id: str | None

    @property
    def delivered(self) -> bool:
        return 200 <= self.code < 300


@dataclass
class SmtpRecord:
    """What one SMTP server saw. Updated by the server thread; read with the properties (copies)."""

    name: str
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _connections: int = 0
    _starttls: int = 0
    _auth: list[AuthAttempt] = field(default_factory=list)
    _rejected_recipients: list[tuple[str, int, str]] = field(default_factory=list)
    _deliveries: list[Delivery] = field(default_factory=list)

    @property
    def connections(self) -> int:
        """SMTP sessions that reached the greeting (an implicit-TLS client that rejects the certificate never
        gets there)."""
        return self._connections

    @property
    def starttls(self) -> int:
        return self._starttls

    @property
    def auth_attempts(self) -> tuple[AuthAttempt, ...]:
        with self._lock:
            return tuple(self._auth)

    @property
    def credentials_received(self) -> tuple[AuthAttempt, ...]:
        """AUTH commands that carried a username or password to this server."""
        return tuple(attempt for attempt in self.auth_attempts if attempt.credentials_sent)

    @property
    def auth_before_tls(self) -> bool:
        """Was AUTH ever sent on an unencrypted connection?"""
        return any(not attempt.tls for attempt in self.auth_attempts)

    @property
    def rejected_recipients(self) -> tuple[tuple[str, int, str], ...]:
        """(recipient, code, reply) refused at RCPT TO."""
        with self._lock:
            return tuple(self._rejected_recipients)

    @property
    def deliveries(self) -> tuple[Delivery, ...]:
        with self._lock:
            return tuple(self._deliveries)

    @property
    def bounces(self) -> tuple[Delivery, ...]:
        """Messages accepted with 250 whose delivery then failed."""
        return tuple(delivery for delivery in self.deliveries if not delivery.delivered)

    def reset(self) -> None:
        with self._lock:
            self._connections = self._starttls = 0
            self._auth.clear()
            self._rejected_recipients.clear()
            self._deliveries.clear()

    def summary(self) -> str:
        """One line for assertion messages (usernames, mechanisms and counts only)."""
        attempts = ", ".join(
            f"{a.mechanism}:{a.username or '?'}:{'ok' if a.success else 'fail'}{'' if a.tls else ':CLEARTEXT'}"
            for a in self.auth_attempts)
        return (f"{self.name}: {self.connections} connections, {self.starttls} STARTTLS, AUTH [{attempts}], "
                f"{len(self.deliveries)} deliveries, {len(self.rejected_recipients)} rejected recipients")

    # Called from the server thread.
    def _add(self, what: str, item: Any = None) -> None:
        with self._lock:
            if what == "connection":
                self._connections += 1
            elif what == "starttls":
                self._starttls += 1
            elif what == "auth":
                self._auth.append(item)
            elif what == "rejected":
                self._rejected_recipients.append(item)
            elif what == "delivery":
                self._deliveries.append(item)


@dataclass(frozen=True)
class SmtpServer:
    name: str
    host: str
    port: int
    encryption: str  # ssl | starttls | none
    record: SmtpRecord = field(compare=False)

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(self.host, self.port, self.encryption)

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)


def _lmtp_exchange(lmtp: tuple[str, int], mail_from: str, recipient: str, content: bytes | None) -> tuple[int, str]:
    """One LMTP transaction for one recipient: only RCPT when ``content`` is None, else the delivery."""
    try:
        with smtplib.LMTP(lmtp[0], lmtp[1], timeout=10) as client:
            client.ehlo()  # LHLO
            code, reply = client.mail(mail_from)
            if code >= 300:
                return code, reply.decode(errors="replace")
            code, reply = client.rcpt(recipient)
            if code >= 300 or content is None:
                return code, reply.decode(errors="replace")
            code, reply = client.data(content)
            return code, reply.decode(errors="replace")
    except (OSError, smtplib.SMTPException) as error:
        return 451, f"4.4.0 LMTP delivery failed: {error}"


class _RelayHandler:
    """aiosmtpd handler: check each recipient with Dovecot (LMTP RCPT) and deliver each message over LMTP.

    With ``accept_unknown`` (a relay that does not know the mailboxes) every recipient is accepted with 250 and a
    failed delivery is recorded as a bounce instead.
    """

    def __init__(self, record: SmtpRecord, lmtp: tuple[str, int], accept_unknown: bool) -> None:
        self.record = record
        self.lmtp = lmtp
        self.accept_unknown = accept_unknown

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if not self.accept_unknown:
            code, reply = await asyncio.get_running_loop().run_in_executor(
                None, _lmtp_exchange, self.lmtp, envelope.mail_from or "", address, None)
            if code >= 300:
                self.record._add("rejected", (address, code, reply))
                return f"{code} {reply}"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        content: bytes = envelope.original_content or envelope.content
        headers = email.message_from_bytes(content.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n",
                                           policy=email.policy.default)
        loop = asyncio.get_running_loop()
        failure = None
        for recipient in envelope.rcpt_tos:  # one recipient per LMTP transaction: LMTP answers per recipient
            code, reply = await loop.run_in_executor(
                None, _lmtp_exchange, self.lmtp, envelope.mail_from or "", recipient, content)
            self.record._add("delivery", Delivery(
                envelope.mail_from or "", recipient, code, reply,
                str(headers["Subject"]) if headers["Subject"] is not None else None,
                str(headers["Message-ID"]) if headers["Message-ID"] is not None else None))
            if code >= 300 and failure is None:
                failure = f"{code} {reply}"
        if failure and not self.accept_unknown:
            return failure
        return "250 2.0.0 OK: delivered"


class _RecordingSMTP(SMTP):
    """aiosmtpd's SMTP server, counting connections, STARTTLS and AUTH commands into a ``SmtpRecord``.

    STARTTLS is enforced here rather than by aiosmtpd (which answers 530 before any command handler runs), so
    an AUTH sent before STARTTLS is recorded too.
    """

    def __init__(self, handler: _RelayHandler, *, record: SmtpRecord, sessions: set[_RecordingSMTP],
                 require_starttls: bool, require_auth: bool, **kwargs: Any) -> None:
        # auth_required is set afterwards: aiosmtpd warns when it is combined with auth_require_tls=False, which
        # is intended here (implicit TLS, which aiosmtpd does not count as TLS; the cleartext server).
        super().__init__(handler, hostname=SMTP_HOSTNAME, authenticator=self._authenticate_user, **kwargs)
        self._auth_required = require_auth
        self.record = record
        self.sessions = sessions  # open sessions of the loop, closed at shutdown
        self._auth_seen: tuple[str, bool] | None = None
        self._starttls_required = require_starttls and self.tls_context is not None
        for command, method in list(self._smtp_methods.items()):
            if command not in ALLOWED_BEFORE_STARTTLS:
                self._smtp_methods[command] = self._after_starttls(command, method)

    def _after_starttls(self, command: str, method: Any) -> Any:
        async def gated(arg: str | None) -> None:
            if self._starttls_required and self._tls_protocol is None:
                if command == "AUTH":
                    self._note_auth(arg or "", tls=False)
                await self.push("530 5.7.0 Must issue a STARTTLS command first")
                return
            await method(arg)
        return gated

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._original_transport is None:  # not the second call after STARTTLS
            self.record._add("connection")
            self.sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.sessions.discard(self)
        super().connection_lost(error)

    async def smtp_STARTTLS(self, arg: str) -> None:
        self.record._add("starttls")
        await super().smtp_STARTTLS(arg)

    async def smtp_AUTH(self, arg: str) -> None:
        tls = self.transport is not None and self.transport.get_extra_info("ssl_object") is not None
        self._auth_seen = None
        try:
            await super().smtp_AUTH(arg)
        finally:
            self._note_auth(arg or "", tls=tls)

    def _note_auth(self, arg: str, tls: bool) -> None:
        words = arg.split()
        if words:
            username, success = self._auth_seen or (None, False)
            self.record._add("auth", AuthAttempt(
                mechanism=words[0].upper(), tls=tls, credentials_sent=len(words) > 1 or self._auth_seen is not None,
                username=username, success=success))
        self._auth_seen = None

    @staticmethod
    def _authenticate_user(server: SMTP, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        assert isinstance(server, _RecordingSMTP)
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        username = auth_data.login.decode("utf-8", errors="replace")
        expected = PASSWORDS.get(username)
        success = expected is not None and auth_data.password == expected.encode("utf-8")
        server._auth_seen = (username, success)
        if success:
            return AuthResult(success=True, auth_data=username)
        return AuthResult(success=False, handled=False)  # aiosmtpd answers 535


class _SilentProtocol(asyncio.Protocol):
    """Accepts the connection and never says anything."""

    def __init__(self, transports: set[asyncio.BaseTransport]) -> None:
        self.transports = transports
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.transports.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.transports.discard(self.transport)


class _TrickleProtocol(asyncio.Protocol):
    """Sends its greeting one byte per ``interval`` seconds, forever, and never ends the line."""

    def __init__(self, transports: set[asyncio.BaseTransport], greeting: bytes, interval: float) -> None:
        self.transports = transports
        self.greeting = greeting
        self.interval = interval
        self.sent = 0
        self.transport: asyncio.Transport | None = None
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.transports.add(transport)
        self._next()

    def _next(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        byte = self.greeting[self.sent:self.sent + 1] or b"."
        self.transport.write(byte)
        self.sent += 1
        self.timer = asyncio.get_running_loop().call_later(self.interval, self._next)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer:
            self.timer.cancel()
        if self.transport is not None:
            self.transports.discard(self.transport)
        self.transport = None


class ServerLoop:
    """An asyncio loop in a daemon thread that runs the SMTP and the fake servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="mail-test-servers", daemon=True)
        self.servers: list[asyncio.AbstractServer] = []
        self.transports: set[asyncio.BaseTransport] = set()
        self.smtp_sessions: set[_RecordingSMTP] = set()
        self.thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def smtp(self, name: str, hosts: Sequence[str], *, encryption: str, context: ssl.SSLContext | None,
             lmtp: tuple[str, int], accept_unknown: bool = False, require_auth: bool = True,
             handler_factory: Callable[[SmtpRecord, tuple[str, int], bool], _RelayHandler] = _RelayHandler,
             ) -> SmtpServer:
        """An SMTP server that requires AUTH (PLAIN, LOGIN). ``starttls``: STARTTLS required before AUTH and
        MAIL; ``ssl``: implicit TLS; ``none``: no STARTTLS offered, AUTH accepted in cleartext.
        ``require_auth=False``: AUTH neither required nor offered (a relay's next hop, like an MX);
        ``handler_factory`` builds the relay handler from (record, lmtp, accept_unknown)."""
        record = SmtpRecord(name)
        handler = handler_factory(record, lmtp, accept_unknown)
        sessions = self.smtp_sessions

        def factory() -> _RecordingSMTP:
            return _RecordingSMTP(
                handler, record=record, sessions=sessions, require_auth=require_auth, loop=self.loop,
                tls_context=context if encryption == "starttls" else None,
                require_starttls=encryption == "starttls",
                auth_require_tls=encryption == "starttls" or not require_auth)

        sockets = bind_same_port(hosts)
        for sock in sockets:
            self.servers.append(self.call(self.loop.create_server(
                factory, sock=sock, ssl=context if encryption == "ssl" else None)))
        return SmtpServer(name, hosts[-1], sockets[0].getsockname()[1], encryption, record)

    def silent(self, host: str) -> Endpoint:
        return self._fake(host, lambda: _SilentProtocol(self.transports))

    def trickle(self, host: str, greeting: bytes, interval: float = 1.0) -> Endpoint:
        return self._fake(host, lambda: _TrickleProtocol(self.transports, greeting, interval))

    def _fake(self, host: str, factory: Any) -> Endpoint:
        (sock,) = bind_same_port([host])
        self.servers.append(self.call(self.loop.create_server(factory, sock=sock)))
        return Endpoint(host, sock.getsockname()[1], "none")

    def stop(self) -> None:
        async def close() -> None:
            for server in self.servers:
                server.close()
            for session in list(self.smtp_sessions):
                if session.transport is not None:
                    session.transport.close()
                if session._original_transport is not None:
                    session._original_transport.close()
            for transport in list(self.transports):
                transport.close()
            await asyncio.sleep(0)
            for server in self.servers:
                await server.wait_closed()

        with contextlib.suppress(Exception):
            self.call(close())
        with contextlib.suppress(Exception):
            self.call(self.loop.shutdown_default_executor())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(STOP_TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()


# ----------------------------------------------------------------------------------------------- the description


@dataclass(frozen=True)
class ImapEndpoints:
    """Dovecot's listeners. ``starttls``/``ssl`` are at ``hosts.remote``; the certificate cases use implicit TLS
    (``.at(host)`` gives any other combination: every address of the plan has both ports)."""

    starttls: Endpoint
    ssl: Endpoint
    wrong_name: Endpoint
    expiring: Endpoint
    expired: Endpoint
    untrusted: Endpoint
    cleartext: Endpoint  # no STARTTLS offered, LOGIN accepted in cleartext (hosts.cleartext, imap port)


@dataclass(frozen=True)
class SmtpServers:
    starttls: SmtpServer  # STARTTLS required, then AUTH; at 127.0.0.1 and 127.0.0.2 (host: remote)
    ssl: SmtpServer  # implicit TLS + AUTH; at 127.0.0.1 and 127.0.0.2
    cleartext: SmtpServer  # no STARTTLS offered, AUTH accepted in cleartext: credentials must never go here
    bounce: SmtpServer  # like starttls, but accepts unknown recipients with 250 and records the bounce
    wrong_name: SmtpServer  # STARTTLS with the certificate for wrong.example
    expiring: SmtpServer  # STARTTLS with the certificate that expires in 5 days
    expired: SmtpServer  # STARTTLS with the expired certificate
    untrusted: SmtpServer  # STARTTLS with the certificate of the untrusted CA

    def all(self) -> tuple[SmtpServer, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class HostileEndpoints:
    silent: Endpoint  # accepts, never speaks
    trickle_smtp: Endpoint  # "220 mail.example.test ESMTP…" one byte per second, forever, no line end
    trickle_imap: Endpoint  # "* OK …" the same way
    closed: Endpoint  # nothing listens: connection refused


@dataclass(frozen=True)
class Secret:
    """A password for ``accounts_yaml``: written as ``{env: NAME}``, its value returned in the env dict."""

    name: str
    value: str


@dataclass(frozen=True)
class MailMessage:
    folder: str
    uid: int
    subject: str | None
    message_id: str | None
    headers: email.message.EmailMessage
    raw: bytes


class _AccountsDumper(yaml.SafeDumper):
    pass


_AccountsDumper.add_representer(
    Secret, lambda dumper, secret: dumper.represent_mapping("tag:yaml.org,2002:map", {"env": secret.name},
                                                            flow_style=True))


def env_name(account_id: str, kind: str) -> str:
    return "MAILCFG_TEST_" + re.sub(r"[^A-Z0-9]+", "_", f"{kind}_{account_id}".upper()).strip("_") + "_PASSWORD"


@dataclass(frozen=True)
class MailServers:
    """Everything a live test needs. Usernames are full addresses (``info@example.test``)."""

    root: Path
    ca_file: Path  # the CA that signed every certificate except the "untrusted" one: give it to --ca-file
    untrusted_ca_file: Path
    certificates: Certificates
    hosts: Hosts
    passwords: Mapping[str, str]  # user -> password
    sent_folders: Mapping[str, str]  # user -> name of the folder marked \Sent
    imap: ImapEndpoints
    lmtp: Endpoint
    smtp: SmtpServers
    hostile: HostileEndpoints
    dovecot_version: str
    dovecot_log: Path
    startup_seconds: float = 0.0  # how long running_mail_servers() took to get everything ready

    # -- TLS and IMAP

    def client_context(self, ca_file: Path | None = None) -> ssl.SSLContext:
        """A verifying client context that trusts ``ca_file`` (default: the test CA)."""
        return ssl.create_default_context(cafile=str(ca_file or self.ca_file))

    @contextlib.contextmanager
    def imap_client(self, user: str, endpoint: Endpoint | None = None, *, timeout: float = 10.0
                    ) -> Iterator[IMAPClient]:
        """A logged-in IMAPClient (AUTHENTICATE PLAIN, so UTF-8 passwords work), logged out afterwards."""
        endpoint = endpoint or self.imap.ssl
        client = IMAPClient(endpoint.host, endpoint.port, ssl=endpoint.encryption == "ssl",
                            ssl_context=self.client_context(), timeout=timeout)
        try:
            if endpoint.encryption == "starttls":
                client.starttls(self.client_context())
            client.plain_login(user, self.passwords[user])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def list_folders(self, user: str) -> list[tuple[tuple[bytes, ...], str]]:
        """(flags, decoded name) of every folder the user has."""
        with self.imap_client(user) as client:
            return [(tuple(flags), name) for flags, _delimiter, name in client.list_folders()]

    def mailbox_messages(self, user: str, folder: str = "INBOX") -> list[MailMessage]:
        with self.imap_client(user) as client:
            return self._fetch(client, folder)

    @staticmethod
    def _fetch(client: IMAPClient, folder: str) -> list[MailMessage]:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        messages = []
        for uid, data in sorted(client.fetch(uids, [b"BODY.PEEK[]"]).items()):
            raw = data[b"BODY[]"]
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, email.message.EmailMessage)
            messages.append(MailMessage(
                folder, uid, None if parsed["Subject"] is None else str(parsed["Subject"]),
                None if parsed["Message-ID"] is None else str(parsed["Message-ID"]), parsed, raw))
        return messages

    def wait_for_message(self, user: str, subject: str | None = None, *, header: tuple[str, str] | None = None,
                         folder: str = "INBOX", timeout: float = 10.0) -> MailMessage:
        """The first message in ``folder`` whose subject is ``subject`` and/or whose header ``name`` has the
        value ``value``; polls until ``timeout``, then raises ``TimeoutError`` listing what is there."""
        if subject is None and header is None:
            raise ValueError("give a subject or a header to wait for")

        def matches(message: MailMessage) -> bool:
            if subject is not None and message.subject != subject:
                return False
            if header is not None:
                values = message.headers.get_all(header[0]) or []
                return any(str(value).strip() == header[1] for value in values)
            return True

        deadline = time.monotonic() + timeout
        with self.imap_client(user) as client:
            while True:
                messages = self._fetch(client, folder)
                for message in messages:
                    if matches(message):
                        return message
                if time.monotonic() > deadline:
                    seen = [message.subject for message in messages]
                    raise TimeoutError(f"no message with subject={subject!r} header={header!r} in {user} {folder} "
                                       f"after {timeout} s; subjects there: {seen}")
                time.sleep(0.05)

    def clear_folder(self, user: str, folder: str = "INBOX") -> int:
        """Delete every message in the folder; returns how many there were."""
        with self.imap_client(user) as client:
            client.select_folder(folder)
            uids = client.search("ALL")
            if uids:
                client.delete_messages(uids)
                client.expunge()
            return len(uids)

    def deliver(self, recipient: str, message: bytes | str, mail_from: str = f"sender@{DOMAIN}") -> tuple[int, str]:
        """Put a message straight into a mailbox over LMTP; returns LMTP's (code, reply)."""
        content = message.encode("utf-8") if isinstance(message, str) else message
        content = content.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        return _lmtp_exchange(self.lmtp.address, mail_from, recipient, content)

    # -- more users

    def add_users(self, users: Mapping[str, str], fields: Sequence[str] = ()) -> None:
        """Add mailbox users to the running Dovecot, for tests and benchmarks that need many distinct logins or a
        per-user setting. ``fields``: passwd-file extra fields for each (``userdb_rawlog_dir=DIR``,
        ``userdb_imap_capability=IMAP4rev1``; a value holds no space). Users already there are left as they are.
        Only Dovecot knows them: the SMTP servers accept the fixed users (send with ``mailer@``)."""
        path = self.root / "dovecot" / "users"
        known = {line.split(":", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()}
        extra = " ".join(fields)
        lines = []
        for user, password in users.items():
            if any(character in user + password for character in ":\n") or any(" " in f or "\n" in f for f in fields):
                raise ValueError(f"{user}: a passwd-file line holds no ':' in names or passwords, no spaces in fields")
            if user not in known:
                lines.append(f"{user}:{{PLAIN}}{password}::::::{extra}\n")
        before = path.stat().st_mtime
        with path.open("a", encoding="utf-8") as file:
            file.writelines(lines)
        # Dovecot rereads a passwd-file when its modification time (whole seconds) or size changed, but looks at
        # most once a second (db-passwd-file.c: not again within the same ioloop second): make sure the time changed,
        # then let the second turn, so the next login reads the new file.
        stamp = max(int(before) + 1, int(time.time()))
        os.utime(path, (stamp, stamp))
        time.sleep(1.02 - time.time() % 1)

    # -- SMTP records

    def reset_records(self) -> None:
        for server in self.smtp.all():
            server.record.reset()

    # -- mailcfg YAML

    def smtp_entry(self, server: SmtpServer | Endpoint | None = None, *, id: str = "outgoing",
                   username: str | None = f"mailer@{DOMAIN}", password: str | None = None, **extra: Any
                   ) -> dict[str, Any]:
        """An ``smtp:`` entry for ``server`` (default: the STARTTLS server). ``username=None``: no credentials;
        ``password`` defaults to the user's real one. ``extra`` keys are added or override."""
        endpoint = (server or self.smtp.starttls)
        endpoint = endpoint.endpoint if isinstance(endpoint, SmtpServer) else endpoint
        entry: dict[str, Any] = {"id": id, "host": endpoint.host, "port": endpoint.port,
                                 "encryption": endpoint.encryption}
        if username is not None:
            entry["credentials"] = {"username": username, "password": Secret(
                env_name(id, "smtp"), self.passwords.get(username, "") if password is None else password)}
        entry.update(extra)
        return entry

    def imap_entry(self, user: str, endpoint: Endpoint | None = None, *, id: str | None = None,
                   outgoing: str = "outgoing", password: str | None = None, scope: str = "system", **extra: Any
                   ) -> dict[str, Any]:
        """An ``imap:`` entry for ``user``'s mailbox (default endpoint: implicit TLS at ``hosts.remote``)."""
        endpoint = endpoint or self.imap.ssl
        account_id = id or user.split("@", maxsplit=1)[0]
        entry: dict[str, Any] = {
            "id": account_id, "scope": scope, "address": user, "host": endpoint.host, "port": endpoint.port,
            "encryption": endpoint.encryption, "outgoing": outgoing,
            "credentials": {"username": user, "password": Secret(
                env_name(account_id, "imap"), self.passwords.get(user, "") if password is None else password)},
        }
        entry.update(extra)
        return entry

    def accounts_yaml(self, *, smtp: Sequence[Mapping[str, Any]] = (), imap: Sequence[Mapping[str, Any]] = (),
                      users: Sequence[Mapping[str, Any]] = (), directory: Path | None = None,
                      filename: str = "accounts.yaml") -> tuple[Path, dict[str, str]]:
        """Write a mailcfg file (version 1) from ``smtp_entry``/``imap_entry`` dicts (or any dicts; ``Secret``
        values become ``{env: NAME}``). Returns the path and the environment variables the passwords need."""
        env: dict[str, str] = {}

        def collect(value: Any) -> None:
            if isinstance(value, Secret):
                env[value.name] = value.value
            elif isinstance(value, Mapping):
                for item in value.values():
                    collect(item)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    collect(item)

        document: dict[str, Any] = {"version": 1}
        for key, entries in (("users", users), ("smtp", smtp), ("imap", imap)):
            if entries:
                document[key] = [dict(entry) for entry in entries]
        collect(document)
        if directory is None:
            (self.root / "yaml").mkdir(exist_ok=True)
            directory = Path(tempfile.mkdtemp(dir=self.root / "yaml"))
        path = directory / filename
        text = yaml.dump(document, Dumper=_AccountsDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False)
        path.write_text(text, encoding="utf-8")
        return path, env


def numbered_users(count: int, prefix: str = "bench") -> dict[str, str]:
    """``count`` distinct users and passwords for :meth:`MailServers.add_users`: bench001@example.test … with
    Bench-Secret-001 …"""
    return {f"{prefix}{number:03d}@{DOMAIN}": f"{prefix.title()}-Secret-{number:03d}" for number in range(1, count + 1)}


# ----------------------------------------------------------------------------------------------- start and stop


def _create_sent_folders(servers: MailServers) -> None:
    """Users whose \\Sent folder has another name get it created (Dovecot only marks it by name)."""
    for user, folder in servers.sent_folders.items():
        if folder != "Sent":
            with servers.imap_client(user, servers.imap.ssl.at(servers.hosts.trusted_loopback)) as client:
                if not client.folder_exists(folder):
                    client.create_folder(folder)
                client.subscribe_folder(folder)


@contextlib.contextmanager
def running_mail_servers(root: Path | None = None, hosts: Hosts = HOSTS) -> Iterator[MailServers]:
    """Start Dovecot, the SMTP servers and the fake servers; stop them all when the block ends.

    ``root`` (default: a new temporary directory, removed afterwards unless the environment variable
    ``MAILCFG_LIVE_KEEP`` is set) holds certificates, configuration, Dovecot's log and the mailboxes. Raises
    ``MailServersError`` with a readable reason when something cannot start.
    """
    started = time.monotonic()
    own_root = root is None and not os.environ.get("MAILCFG_LIVE_KEEP")
    root = Path(tempfile.mkdtemp(prefix="mailcfg-live-")) if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # Dovecot's unprivileged processes reach their files and the mailboxes below
    dovecot: Dovecot | None = None
    loop: ServerLoop | None = None
    try:
        certificates = make_certificates(root / "certs", hosts)
        dovecot = Dovecot(root, certificates, hosts)
        loop = ServerLoop()
        dovecot.start()
        lmtp = Endpoint(hosts.trusted_loopback, dovecot.ports.lmtp, "none")
        good, both = certificates.good.server_context(), [hosts.trusted_loopback, hosts.remote]

        def smtp(name: str, where: Sequence[str], encryption: str, files: CertFiles | None = None,
                 accept_unknown: bool = False) -> SmtpServer:
            context = files.server_context() if files else good
            assert loop is not None
            return loop.smtp(name, where, encryption=encryption, context=context, lmtp=lmtp.address,
                             accept_unknown=accept_unknown)

        imap_port, imaps_port = dovecot.ports.imap, dovecot.ports.imaps
        servers = MailServers(
            root=root, ca_file=certificates.ca_file, untrusted_ca_file=certificates.untrusted_ca_file,
            certificates=certificates, hosts=hosts, passwords=PASSWORDS, sent_folders=SENT_FOLDERS,
            imap=ImapEndpoints(
                starttls=Endpoint(hosts.remote, imap_port, "starttls"),
                ssl=Endpoint(hosts.remote, imaps_port, "ssl"),
                wrong_name=Endpoint(hosts.wrong_name, imaps_port, "ssl"),
                expiring=Endpoint(hosts.expiring, imaps_port, "ssl"),
                expired=Endpoint(hosts.expired, imaps_port, "ssl"),
                untrusted=Endpoint(hosts.untrusted, imaps_port, "ssl"),
                cleartext=Endpoint(hosts.cleartext, imap_port, "none"),
            ),
            lmtp=lmtp,
            smtp=SmtpServers(
                starttls=smtp("starttls", both, "starttls"),
                ssl=smtp("ssl", both, "ssl"),
                cleartext=smtp("cleartext", [hosts.cleartext], "none"),
                bounce=smtp("bounce", both, "starttls", accept_unknown=True),
                wrong_name=smtp("wrong_name", [hosts.wrong_name], "starttls", certificates.wrong_name),
                expiring=smtp("expiring", [hosts.expiring], "starttls", certificates.expiring),
                expired=smtp("expired", [hosts.expired], "starttls", certificates.expired),
                untrusted=smtp("untrusted", [hosts.untrusted], "starttls", certificates.untrusted),
            ),
            hostile=HostileEndpoints(
                silent=loop.silent(hosts.remote),
                trickle_smtp=loop.trickle(hosts.remote, f"220 {SMTP_HOSTNAME} ESMTP slowly ".encode()),
                trickle_imap=loop.trickle(hosts.remote, b"* OK [CAPABILITY IMAP4rev1] slowly "),
                closed=Endpoint(hosts.remote, closed_port(hosts.remote), "none"),
            ),
            dovecot_version=dovecot.version,
            dovecot_log=dovecot.log,
        )
        _create_sent_folders(servers)
        yield replace(servers, startup_seconds=time.monotonic() - started)
    finally:
        stopper = None
        if dovecot is not None:  # Dovecot takes about a second to stop: meanwhile stop the rest
            stopper = threading.Thread(target=dovecot.stop, name="stop-dovecot")
            stopper.start()
        if loop is not None:
            loop.stop()
        if stopper is not None:
            stopper.join()
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


__all__ = [
    "COMMON_FOLDERS", "DOMAIN", "HOSTS", "PASSWORDS", "SENT_FOLDERS", "AuthAttempt", "Delivery", "Endpoint",
    "Hosts", "MailMessage", "MailServers", "MailServersError", "Secret", "SmtpRecord", "SmtpServer",
    "numbered_users", "running_mail_servers",
]
