"""Real OAuth2 servers on loopback for the live tests: a private Dovecot 2.3 that takes only XOAUTH2 and OAUTHBEARER
(IMAP and Dovecot's submission service), the token introspection endpoint it asks, and an HTTPS token endpoint
(RFC 6749 refresh-token and client-credentials grants, RFC 7523 JWT bearer with Google-style service accounts)
that issues exactly the tokens the introspection endpoint accepts. The chain is real: token request -> SASL ->
Dovecot -> introspection.

Nothing here depends on pytest: ``running_oauth2_servers()`` starts everything and yields a frozen
``OAuth2Servers`` description with a thread-safe registration API (clients, refresh tokens, service accounts);
leaving the ``with`` block stops everything again. It reuses servers.py (certificates, ports, the Dovecot process,
the aiosmtpd loop and its LMTP relay handler) and is independent of ``running_mail_servers()``.

What Dovecot 2.3 does with the introspected username (src/auth/db-oauth2.c, ``db_oauth2_validate_username``, and
measured here): it expands ``username_format`` (default ``%Lu``, lower case) once with the SASL login name (XOAUTH2
``user=``, OAUTHBEARER ``a=``) and once with the introspected ``username``; when they differ the login fails
(``Username '…' did not match '…'``, IMAP ``NO [AUTHENTICATIONFAILED]``, SMTP ``535``). So a token only works for
the mailbox it was issued for (case-insensitively). Dovecot POSTs only ``token=…`` (and, with ``send_auth_headers``,
the headers ``X-Dovecot-Auth-Service``/``-Local``/``-Remote``): the introspection endpoint never sees the login
name.

How app-only (client-credentials) tokens reach a mailbox: such a token carries no user, but Dovecot needs one
username back from the introspection, without knowing the login name. So a confidential client is registered with
at most one ``app_mailbox``: its client-credentials tokens introspect as that mailbox and log in only there (like
an Exchange application access policy scoped to one mailbox). A client without one gets ``unauthorized_client``.
Logging in to any other mailbox with the token fails in Dovecot, which is what a real server does when the
application has no permission on that mailbox. Register one client per mailbox for more.

Scopes count as on the real services: the introspection answers ``active: false`` when the token has no scope
that grants the protocol Dovecot names in ``X-Dovecot-Auth-Service`` (``SERVICE_SCOPES``: IMAP needs
``IMAP.AccessAsUser.All``, ``.default`` or ``https://mail.google.com/``; submission ``SMTP.Send``, ``.default`` or
``https://mail.google.com/``). Expired, revoked and unknown tokens, and tokens for a user that is no mailbox here,
are inactive too. Dovecot has no auth cache here: a revocation takes effect at the next login.

Addresses and certificates (all from the trustme CA of ``make_certificates``: ``ca_file`` covers Dovecot and the
token endpoint; the certificate ``good`` names localhost, mail.example.test, 127.0.0.1 and 127.0.0.2):

=====================  ===================================================================================
IMAP, submission       ``hosts.remote`` 127.0.0.2 (Dovecot treats a client whose address equals its own, as
                       at 127.0.0.1, as secure; at 127.0.0.2 it requires TLS before AUTH like a remote server)
token endpoint         ``https://127.0.0.1:<port>/token`` (``good``: also valid as ``localhost``)
untrusted endpoint     ``https://127.0.0.6:<port>/token``: the same endpoint, certificate ``untrusted`` from the
                       CA ``ca_file`` does not hold (``untrusted_ca_file`` does)
silent endpoint        ``https://127.0.0.1:<port>/token``: accepts TCP, never answers (not even TLS)
unreachable endpoint   ``https://127.0.0.1:<port>/token``: nothing listens, connection refused
introspection          ``http://127.0.0.1:<port>/introspect`` (plain HTTP: Dovecot's private backend)
relay sink             ``127.0.0.1:<port>``: submission relays here (no TLS, no AUTH); it delivers into this
                       Dovecot's mailboxes over LMTP and records what it received
=====================  ===================================================================================

Dovecot 2.4 replaced the ``passdb oauth2`` args file by ``oauth2 { … }`` settings: any version but 2.3 fails
with ``OAuth2ServersError``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import email
import email.policy
import hmac
import json
import os
import secrets
import shutil
import socketserver
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qs, unquote_plus

from aiosmtpd.smtp import SMTP
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from imapclient import IMAPClient

from .servers import (
    DOMAIN,
    HOSTS,
    SMTP_HOSTNAME,
    Certificates,
    Dovecot,
    DovecotPorts,
    Endpoint,
    Hosts,
    MailMessage,
    MailServers,
    MailServersError,
    ServerLoop,
    SmtpRecord,
    SmtpServer,
    _RelayHandler,
    closed_port,
    free_ports,
    make_certificates,
)

#: The mailboxes of the OAuth2 Dovecot (no passwords: only XOAUTH2 and OAUTHBEARER log in).
MAILBOXES: tuple[str, ...] = (f"alice@{DOMAIN}", f"bob@{DOMAIN}", f"carol@{DOMAIN}")

MICROSOFT_IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All"
MICROSOFT_SMTP_SCOPE = "https://outlook.office.com/SMTP.Send"
MICROSOFT_APP_SCOPE = "https://outlook.office365.com/.default"  # app-only (client credentials)
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
OFFLINE_ACCESS = "offline_access"

#: Scopes granted by a refresh token or minted access token when none are given: enough for IMAP and SMTP.
DEFAULT_DELEGATED_SCOPES: tuple[str, ...] = (MICROSOFT_IMAP_SCOPE, MICROSOFT_SMTP_SCOPE, OFFLINE_ACCESS)
#: Scopes a confidential client may request with client credentials unless registered otherwise.
DEFAULT_APP_SCOPES: tuple[str, ...] = (MICROSOFT_APP_SCOPE,)
#: Scopes a service account is delegated unless created otherwise.
DEFAULT_SERVICE_ACCOUNT_SCOPES: tuple[str, ...] = (GOOGLE_MAIL_SCOPE,)
#: A token logs in to a Dovecot service (X-Dovecot-Auth-Service) only with one of these scopes.
SERVICE_SCOPES: Mapping[str, frozenset[str]] = {
    "imap": frozenset({MICROSOFT_IMAP_SCOPE, MICROSOFT_APP_SCOPE, GOOGLE_MAIL_SCOPE}),
    "submission": frozenset({MICROSOFT_SMTP_SCOPE, MICROSOFT_APP_SCOPE, GOOGLE_MAIL_SCOPE}),
}

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ACCESS_TOKEN_LIFETIME = 3600
JWT_MAX_LIFETIME = 3600  # Google: an assertion may be valid for at most an hour
CLOCK_SKEW = 300  # seconds an assertion's iat may lie in the future
HTTP_TIMEOUT = 10.0
MAX_BODY = 64 * 1024


class OAuth2ServersError(MailServersError):
    """The OAuth2 servers could not be started (Dovecot missing or not 2.3, submission service missing, …)."""


class OAuth2Error(ValueError):
    """An RFC 6749 §5.2 error answer: ``error`` code, ``description``, HTTP ``status`` (400 or 401)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


# ----------------------------------------------------------------------------------------------- records

T = TypeVar("T")


class _Log(Generic[T]):
    """A list that several threads append to; read as a tuple (a copy)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[T] = []

    def add(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def items(self) -> tuple[T, ...]:
        with self._lock:
            return tuple(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@dataclass(frozen=True)
class TokenRequest:
    """One HTTP request the token endpoint received (never holds a secret, token or assertion)."""

    listener: str  # "token" (the trusted URL) or "untrusted"
    method: str
    path: str
    grant_type: str | None
    client_id: str | None  # from Basic authentication or the form
    client_auth: str  # client_secret_basic | client_secret_post | none
    scopes: tuple[str, ...]  # the scopes requested (form ``scope`` or the assertion's ``scope`` claim)
    subject: str | None  # JWT bearer: the assertion's ``sub`` (read before the signature was checked)
    status: int
    error: str | None  # the RFC 6749 error code answered, None on success
    time: float  # time.time() when it arrived


@dataclass(frozen=True)
class Introspection:
    """One token introspection Dovecot made (the token itself is not kept)."""

    service: str | None  # X-Dovecot-Auth-Service: imap | submission
    known: bool  # the token was issued here
    active: bool  # the answer
    username: str | None  # the mailbox answered (when active)
    reason: str  # why inactive ("" when active)
    time: float


@dataclass(frozen=True)
class RelayedMessage:
    """One message Dovecot's submission service relayed to the sink, and the sink's answer."""

    mail_from: str
    recipients: tuple[str, ...]
    content: bytes
    reply: str  # what the sink answered to DATA (LMTP's verdict: 250 when every recipient got it)
    time: float

    @property
    def headers(self) -> email.message.Message:
        return email.message_from_bytes(self.content, policy=email.policy.default)

    @property
    def subject(self) -> str | None:
        value = self.headers["Subject"]
        return None if value is None else str(value)

    @property
    def delivered(self) -> bool:
        return self.reply.startswith("250")


# ----------------------------------------------------------------------------------------------- registrations


@dataclass(frozen=True)
class OAuth2Client:
    """A registered client. ``client_secret`` None: a public client (refresh grant without a secret)."""

    client_id: str
    client_secret: str | None
    app_mailbox: str | None  # the mailbox its client-credentials tokens are for (None: no app-only access)
    app_scopes: tuple[str, ...]  # what it may request with client credentials
    rotate_refresh_tokens: bool  # each refresh answers a new refresh token and revokes the old one


@dataclass(frozen=True)
class ServiceAccount:
    """A Google-style service account: ``key_json`` is the JSON key file's text (also written to ``key_file``)."""

    client_email: str
    client_id: str
    private_key_id: str
    mailboxes: tuple[str, ...]  # domain-wide delegation: the ``sub`` values it may act for
    scopes: tuple[str, ...]  # the scopes delegated to it
    key_json: str
    key_file: Path


@dataclass
class _Client:
    client_id: str
    secret: str | None
    secret_expired: bool
    app_mailbox: str | None
    app_scopes: tuple[str, ...]
    rotate_refresh_tokens: bool


@dataclass
class _Token:
    kind: str  # refresh | access
    mailbox: str
    scopes: tuple[str, ...]
    client_id: str | None
    expires_at: float | None
    revoked: bool = False

    def problem(self, now: float) -> str:
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return ""


@dataclass
class _ServiceAccount:
    client_email: str
    client_id: str
    private_key_id: str
    public_key: rsa.RSAPublicKey
    mailboxes: tuple[str, ...]
    scopes: tuple[str, ...]
    token_uri: str


def _split_scopes(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(text.split())) if text else ()


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise OAuth2Error("invalid_grant", f"Invalid JWT: not base64url ({error})") from error


class TokenAuthority:
    """The state behind the token and introspection endpoints: clients, tokens, service accounts, records.

    Thread-safe: the HTTP servers' threads and the test call it concurrently.
    """

    def __init__(self, mailboxes: Sequence[str], key_directory: Path) -> None:
        self.mailboxes = tuple(mailboxes)
        self.key_directory = key_directory
        self.token_url = ""  # set once the token endpoint listens
        self._lock = threading.Lock()
        self._clients: dict[str, _Client] = {}
        self._tokens: dict[str, _Token] = {}
        self._service_accounts: dict[str, _ServiceAccount] = {}
        self.token_requests: _Log[TokenRequest] = _Log()
        self.introspections: _Log[Introspection] = _Log()

    # -- registration (the test's side)

    def _mailbox(self, mailbox: str) -> str:
        if mailbox.lower() not in {box.lower() for box in self.mailboxes}:
            raise ValueError(f"{mailbox!r} is no mailbox of the OAuth2 Dovecot ({', '.join(self.mailboxes)})")
        return mailbox

    def register_client(self, client_id: str | None = None, *, client_secret: str | None = None,
                        public: bool = False, app_mailbox: str | None = None,
                        app_scopes: Sequence[str] = DEFAULT_APP_SCOPES, rotate_refresh_tokens: bool = False
                        ) -> OAuth2Client:
        if public and client_secret is not None:
            raise ValueError("a public client has no secret")
        if app_mailbox is not None:
            self._mailbox(app_mailbox)
            if public:
                raise ValueError("only a confidential client may use client credentials")
        client = _Client(client_id or str(uuid.uuid4()), None if public else client_secret or _new_secret(),
                         False, app_mailbox, tuple(app_scopes), rotate_refresh_tokens)
        with self._lock:
            if client.client_id in self._clients:
                raise ValueError(f"client {client.client_id!r} is registered already")
            self._clients[client.client_id] = client
        return OAuth2Client(client.client_id, client.secret, client.app_mailbox, client.app_scopes,
                            client.rotate_refresh_tokens)

    def _client(self, client_id: str) -> _Client:
        try:
            return self._clients[client_id]
        except KeyError:
            raise ValueError(f"no client {client_id!r} is registered") from None

    def rotate_client_secret(self, client_id: str, new_secret: str | None = None) -> str:
        with self._lock:
            client = self._client(client_id)
            if client.secret is None:
                raise ValueError(f"{client_id!r} is a public client: it has no secret")
            client.secret, client.secret_expired = new_secret or _new_secret(), False
            return client.secret

    def expire_client_secret(self, client_id: str) -> None:
        with self._lock:
            client = self._client(client_id)
            if client.secret is None:
                raise ValueError(f"{client_id!r} is a public client: it has no secret")
            client.secret_expired = True

    def issue_refresh_token(self, client_id: str, mailbox: str, scopes: Sequence[str] = DEFAULT_DELEGATED_SCOPES,
                            *, expires_in: float | None = None) -> str:
        self._mailbox(mailbox)
        with self._lock:
            self._client(client_id)
            return self._new_token("refresh", mailbox, tuple(scopes), client_id, expires_in)

    def issue_access_token(self, mailbox: str, scopes: Sequence[str] = DEFAULT_DELEGATED_SCOPES, *,
                           expires_in: float = ACCESS_TOKEN_LIFETIME, client_id: str | None = None) -> str:
        self._mailbox(mailbox)
        with self._lock:
            return self._new_token("access", mailbox, tuple(scopes), client_id, expires_in)

    def _new_token(self, kind: str, mailbox: str, scopes: tuple[str, ...], client_id: str | None,
                   expires_in: float | None) -> str:
        token = f"{'rt' if kind == 'refresh' else 'at'}.{secrets.token_urlsafe(32)}"
        self._tokens[token] = _Token(kind, mailbox, scopes, client_id,
                                     None if expires_in is None else time.time() + expires_in)
        return token

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._token(token).revoked = True

    def issued(self, kind: str = "access") -> tuple[str, ...]:
        """Every token of ``kind`` (access | refresh) issued so far: what a canary test must never see printed."""
        with self._lock:
            return tuple(token for token, record in self._tokens.items() if record.kind == kind)

    def expire_token(self, token: str) -> None:
        with self._lock:
            self._token(token).expires_at = time.time() - 1

    def _token(self, token: str) -> _Token:
        try:
            return self._tokens[token]
        except KeyError:
            raise ValueError("no such token was issued here") from None

    def create_service_account(self, mailboxes: Sequence[str], *,
                               scopes: Sequence[str] = DEFAULT_SERVICE_ACCOUNT_SCOPES, name: str | None = None
                               ) -> ServiceAccount:
        for mailbox in mailboxes:
            self._mailbox(mailbox)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = name or f"mailcfg-{secrets.token_hex(4)}"
        client_email = f"{name}@mailcfg-tests.iam.gserviceaccount.com"
        account = _ServiceAccount(client_email, str(secrets.randbelow(10**21 - 10**20) + 10**20),
                                  secrets.token_hex(20), key.public_key(), tuple(mailboxes), tuple(scopes),
                                  self.token_url)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
        key_json = json.dumps({
            "type": "service_account",
            "project_id": "mailcfg-tests",
            "private_key_id": account.private_key_id,
            "private_key": pem,
            "client_email": client_email,
            "client_id": account.client_id,
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": self.token_url,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{client_email}",
            "universe_domain": "googleapis.com",
        }, indent=2) + "\n"
        with self._lock:
            if client_email in self._service_accounts:
                raise ValueError(f"service account {client_email!r} exists already")
            self._service_accounts[client_email] = account
        self.key_directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key_file = self.key_directory / f"{name}.json"
        key_file.touch(mode=0o600)
        key_file.write_text(key_json, encoding="utf-8")
        return ServiceAccount(client_email, account.client_id, account.private_key_id, account.mailboxes,
                              account.scopes, key_json, key_file)

    # -- the token endpoint

    def token_request(self, form: Mapping[str, str], basic: tuple[str, str] | None, scopes: tuple[str, ...]
                      ) -> dict[str, Any]:
        """Answer one token request (a successful JSON answer), or raise ``OAuth2Error``."""
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuth2Error("invalid_request", "grant_type is missing")
        if grant_type == JWT_BEARER:  # Google: the signed assertion is the client's proof; no client secret
            return self._jwt_bearer(form.get("assertion"))
        if grant_type not in ("refresh_token", "client_credentials"):
            raise OAuth2Error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported here")
        with self._lock:
            client = self._authenticate(form, basic)
            if grant_type == "refresh_token":
                return self._refresh(client, form.get("refresh_token"), scopes if "scope" in form else None)
            return self._client_credentials(client, scopes if "scope" in form else None)

    def _authenticate(self, form: Mapping[str, str], basic: tuple[str, str] | None) -> _Client:
        if basic is not None and "client_secret" in form:
            raise OAuth2Error("invalid_request", "more than one client authentication method (Basic and the form)")
        secret: str | None
        if basic is not None:
            client_id, secret = basic
            if "client_id" in form and form["client_id"] != client_id:
                raise OAuth2Error("invalid_client", "client_id in the form differs from Basic authentication", 401)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret")
        if not client_id:
            raise OAuth2Error("invalid_client", "no client authentication (client_id is missing)", 401)
        client = self._clients.get(client_id)
        if client is None:
            raise OAuth2Error("invalid_client", f"unknown client {client_id!r}", 401)
        if client.secret is None:
            if secret:
                raise OAuth2Error("invalid_client", "the client is public: it must not present a secret", 401)
            return client
        if not secret:
            raise OAuth2Error("invalid_client", "client authentication required (no client_secret)", 401)
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise OAuth2Error("invalid_client", "invalid client secret", 401)
        if client.secret_expired:
            raise OAuth2Error("invalid_client", "the client secret has expired", 401)
        return client

    def _answer(self, token: str, scopes: tuple[str, ...], refresh_token: str | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = {"access_token": token, "token_type": "Bearer",
                                  "expires_in": ACCESS_TOKEN_LIFETIME, "scope": " ".join(scopes)}
        if refresh_token is not None:
            answer["refresh_token"] = refresh_token
        return answer

    def _refresh(self, client: _Client, refresh_token: str | None, scopes: tuple[str, ...] | None
                 ) -> dict[str, Any]:
        if not refresh_token:
            raise OAuth2Error("invalid_request", "refresh_token is missing")
        grant = self._tokens.get(refresh_token)
        if grant is None or grant.kind != "refresh":
            raise OAuth2Error("invalid_grant", "unknown refresh token")
        if grant.client_id != client.client_id:
            raise OAuth2Error("invalid_grant", "the refresh token was issued to another client")
        problem = grant.problem(time.time())
        if problem:
            raise OAuth2Error("invalid_grant", f"the refresh token is {problem}")
        if scopes is not None and not scopes:
            raise OAuth2Error("invalid_scope", "empty scope")
        if scopes is not None and set(scopes) - set(grant.scopes):
            raise OAuth2Error("invalid_scope", f"not granted: {' '.join(sorted(set(scopes) - set(grant.scopes)))}")
        scopes = grant.scopes if scopes is None else scopes
        access = self._new_token("access", grant.mailbox, scopes, client.client_id, ACCESS_TOKEN_LIFETIME)
        rotated = None
        if client.rotate_refresh_tokens:
            grant.revoked = True
            rotated = self._new_token("refresh", grant.mailbox, grant.scopes, client.client_id, None)
        return self._answer(access, scopes, rotated)

    def _client_credentials(self, client: _Client, scopes: tuple[str, ...] | None) -> dict[str, Any]:
        if client.secret is None:
            raise OAuth2Error("unauthorized_client", "a public client cannot use client credentials")
        if client.app_mailbox is None:
            raise OAuth2Error("unauthorized_client", "the client has no app-only access to any mailbox")
        if scopes is not None and not scopes:
            raise OAuth2Error("invalid_scope", "empty scope")
        if scopes is not None and set(scopes) - set(client.app_scopes):
            raise OAuth2Error("invalid_scope", f"not allowed for client credentials: {' '.join(scopes)}")
        scopes = client.app_scopes if scopes is None else scopes
        access = self._new_token("access", client.app_mailbox, scopes, client.client_id, ACCESS_TOKEN_LIFETIME)
        return self._answer(access, scopes)

    def _jwt_bearer(self, assertion: str | None) -> dict[str, Any]:
        if not assertion:
            raise OAuth2Error("invalid_request", "assertion is missing")
        parts = assertion.split(".")
        if len(parts) != 3:
            raise OAuth2Error("invalid_grant", "Invalid JWT: not three dot-separated parts")
        try:
            header, claims = (json.loads(_b64url_decode(part)) for part in parts[:2])
        except (ValueError, UnicodeDecodeError) as error:
            raise OAuth2Error("invalid_grant", f"Invalid JWT: not JSON ({error})") from error
        if not isinstance(header, dict) or not isinstance(claims, dict):
            raise OAuth2Error("invalid_grant", "Invalid JWT: header and claims must be JSON objects")
        if header.get("alg") != "RS256":
            raise OAuth2Error("invalid_grant", f"Invalid JWT: alg {header.get('alg')!r}, expected RS256")
        with self._lock:
            account = self._service_accounts.get(str(claims.get("iss")))
        if account is None:
            raise OAuth2Error("invalid_grant", f"Invalid JWT: unknown issuer {claims.get('iss')!r}")
        if "kid" in header and header["kid"] != account.private_key_id:
            raise OAuth2Error("invalid_grant", "Invalid JWT Signature: unknown key id")
        try:
            account.public_key.verify(_b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"),
                                      padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, UnicodeEncodeError) as error:
            raise OAuth2Error("invalid_grant", "Invalid JWT Signature.") from error
        if claims.get("aud") != account.token_uri:
            raise OAuth2Error("invalid_grant", f"Invalid JWT: aud {claims.get('aud')!r}, expected the token URL")
        issued, expires = claims.get("iat"), claims.get("exp")
        if type(issued) is not int or type(expires) is not int:
            raise OAuth2Error("invalid_grant", "Invalid JWT: iat and exp must be integers")
        now = time.time()
        if issued > now + CLOCK_SKEW or expires <= now or expires <= issued or expires - issued > JWT_MAX_LIFETIME:
            raise OAuth2Error("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in "
                                               "a reasonable timeframe. Check your iat and exp values.")
        scopes = _split_scopes(claims.get("scope") if isinstance(claims.get("scope"), str) else None)
        if not scopes:
            raise OAuth2Error("invalid_scope", "Empty or missing scope not allowed.")
        subject = claims.get("sub")
        if subject is None:  # a token for the service account itself, which is no mailbox: Dovecot refuses it
            mailbox = account.client_email
        elif not isinstance(subject, str) or subject.lower() not in {box.lower() for box in account.mailboxes}:
            raise OAuth2Error("unauthorized_client", f"not delegated to act for {subject!r}")
        else:
            mailbox = subject
        if set(scopes) - set(account.scopes):
            raise OAuth2Error("unauthorized_client", "Client is unauthorized to retrieve access tokens using this "
                                                     "method, or client not authorized for any of the scopes "
                                                     "requested.")
        with self._lock:
            access = self._new_token("access", mailbox, scopes, account.client_id, ACCESS_TOKEN_LIFETIME)
        return self._answer(access, scopes)

    # -- the introspection endpoint

    def introspect(self, token: str, service: str | None) -> dict[str, str]:
        now = time.time()
        with self._lock:
            issued = self._tokens.get(token)
            reason = "unknown token" if issued is None or issued.kind != "access" else issued.problem(now)
            if issued is not None and not reason:
                if issued.mailbox.lower() not in {box.lower() for box in self.mailboxes}:
                    reason = f"{issued.mailbox} is no mailbox here"
                elif service is not None and not SERVICE_SCOPES.get(service, set(issued.scopes)) & set(issued.scopes):
                    reason = f"no scope for {service}"
        active = issued is not None and not reason
        self.introspections.add(Introspection(service, issued is not None and issued.kind == "access", active,
                                              issued.mailbox if active and issued else None, reason, now))
        if not active or issued is None:
            return {"active": "false"}
        return {"active": "true", "username": issued.mailbox, "scope": " ".join(issued.scopes),
                "client_id": issued.client_id or ""}


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


# ----------------------------------------------------------------------------------------------- HTTP servers


class _HttpServer(ThreadingHTTPServer):
    """A threading HTTP(S) server; with ``context`` the TLS handshake happens in the request's thread (a client
    that never completes it blocks nobody)."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], authority: TokenAuthority,
                 listener: str, context: ssl.SSLContext | None = None) -> None:
        self.authority = authority
        self.listener = listener
        self.context = context
        super().__init__(address, handler)

    def server_bind(self) -> None:  # no socket.getfqdn(): a reverse lookup of 127.0.0.x may wait for DNS
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.context is None:
            super().finish_request(request, client_address)
            return
        request.settimeout(HTTP_TIMEOUT)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except OSError:  # the client refused the certificate, or never finished the handshake
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away: nothing to report on stderr

    @property
    def url(self) -> str:
        return f"{'https' if self.context else 'http'}://{self.server_name}:{self.server_port}"

    def serve(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                  name=f"oauth2-{self.listener}", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    timeout = HTTP_TIMEOUT
    server_version = "mailcfg-tests-oauth2"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def http_server(self) -> _HttpServer:
        assert isinstance(self.server, _HttpServer)
        return self.server

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            raise OAuth2Error("invalid_request", "request body too large")
        return self.rfile.read(length) if length else b""

    def _form(self) -> dict[str, str]:
        body = self._body()  # read first: a body left unread makes the close a reset that loses the answer
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise OAuth2Error("invalid_request", f"Content-Type must be application/x-www-form-urlencoded, "
                                                 f"not {content_type or 'missing'!r}")
        try:
            fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError as error:
            raise OAuth2Error("invalid_request", "the form is not UTF-8") from error
        repeated = sorted(name for name, values in fields.items() if len(values) > 1)
        if repeated:
            raise OAuth2Error("invalid_request", f"parameters given more than once: {', '.join(repeated)}")
        return {name: values[0] for name, values in fields.items()}

    def _send_json(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        body = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _TokenHandler(_Handler):
    def do_GET(self) -> None:
        self._record(None, None, "none", (), 405, "invalid_request")
        self._send_json(405, {"error": "invalid_request", "error_description": "use POST"}, {"Allow": "POST"})

    def do_POST(self) -> None:
        form: dict[str, str] = {}
        basic: tuple[str, str] | None = None
        scopes: tuple[str, ...] = ()
        try:
            form = self._form()
            if self.path.split("?")[0] != "/token":
                raise OAuth2Error("invalid_request", f"no endpoint at {self.path}", 404)
            basic = self._basic()
            scopes = _split_scopes(form.get("scope"))
            if form.get("grant_type") == JWT_BEARER:
                scopes = _split_scopes(_claims_unverified(form.get("assertion")).get("scope"))
            answer = self.http_server.authority.token_request(form, basic, scopes)
        except OAuth2Error as error:
            self._record(form, basic, self._auth_method(form, basic), scopes, error.status, error.error)
            headers = {"WWW-Authenticate": 'Basic realm="mailcfg-tests"'} if error.status == 401 else None
            self._send_json(error.status, {"error": error.error, "error_description": error.description}, headers)
            return
        self._record(form, basic, self._auth_method(form, basic), scopes, 200, None)
        self._send_json(200, answer)

    @staticmethod
    def _auth_method(form: Mapping[str, str], basic: tuple[str, str] | None) -> str:
        if basic is not None:
            return "client_secret_basic"
        return "client_secret_post" if "client_secret" in form else "none"

    def _basic(self) -> tuple[str, str] | None:
        """client_secret_basic (RFC 6749 §2.3.1): both parts form-urlencoded, then Basic. A part that is not
        encoded (some libraries skip that) reads the same when it holds no ``%`` or ``+``."""
        value = self.headers.get("Authorization")
        if value is None:
            return None
        scheme, _, credentials = value.partition(" ")
        if scheme.lower() != "basic":
            raise OAuth2Error("invalid_client", f"unsupported authentication scheme {scheme!r}", 401)
        try:
            client_id, colon, secret = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise OAuth2Error("invalid_client", "malformed Basic authentication", 401) from error
        if not colon:
            raise OAuth2Error("invalid_client", "malformed Basic authentication (no colon)", 401)
        return unquote_plus(client_id), unquote_plus(secret)

    def _record(self, form: Mapping[str, str] | None, basic: tuple[str, str] | None, method: str,
                scopes: tuple[str, ...], status: int, error: str | None) -> None:
        form = form or {}
        subject = None
        if form.get("grant_type") == JWT_BEARER:
            sub = _claims_unverified(form.get("assertion")).get("sub")
            subject = sub if isinstance(sub, str) else None
        self.http_server.authority.token_requests.add(TokenRequest(
            self.http_server.listener, self.command, self.path, form.get("grant_type"),
            basic[0] if basic else form.get("client_id"), method, scopes, subject, status, error, time.time()))


def _claims_unverified(assertion: str | None) -> dict[str, Any]:
    """The claims of a JWT without checking anything, for the record ({} when unreadable)."""
    with contextlib.suppress(Exception):
        claims = json.loads(_b64url_decode((assertion or "").split(".")[1]))
        if isinstance(claims, dict):
            return claims
    return {}


class _IntrospectionHandler(_Handler):
    def do_POST(self) -> None:
        try:
            form = self._form()
            if self.path.split("?")[0] != "/introspect":
                raise OAuth2Error("invalid_request", f"no endpoint at {self.path}", 404)
            token = form.get("token", "")
        except OAuth2Error as error:
            self._send_json(error.status, {"error": error.error, "error_description": error.description})
            return
        self._send_json(200, self.http_server.authority.introspect(token, self.headers.get("X-Dovecot-Auth-Service")))


# ----------------------------------------------------------------------------------------------- SMTP relay sink


class _SinkHandler(_RelayHandler):
    """The relay handler of servers.py (recipients checked and messages delivered over LMTP), recording each
    relayed message whole."""

    def __init__(self, record: SmtpRecord, lmtp: tuple[str, int], accept_unknown: bool,
                 received: _Log[RelayedMessage]) -> None:
        super().__init__(record, lmtp, accept_unknown)
        self.received = received

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        reply = await super().handle_DATA(server, session, envelope)
        content: bytes = envelope.original_content or envelope.content
        self.received.add(RelayedMessage(envelope.mail_from or "", tuple(envelope.rcpt_tos), content, reply,
                                         time.time()))
        return reply


# ----------------------------------------------------------------------------------------------- Dovecot


@dataclass(frozen=True)
class _OAuth2DovecotPorts:
    imap: int
    imaps: int
    submission: int
    submissions: int
    lmtp: int


class _OAuth2Dovecot(Dovecot):
    """A second private Dovecot: XOAUTH2 and OAUTHBEARER only, passdb oauth2, IMAP, submission and LMTP."""

    def __init__(self, root: Path, certificates: Certificates, hosts: Hosts, mailboxes: Sequence[str],
                 introspection_url: str, relay_port: int) -> None:
        try:
            super().__init__(root, certificates, hosts)
        except MailServersError as error:
            raise OAuth2ServersError(
                f"{error}\n(The OAuth2 test servers write Dovecot 2.3's `passdb {{ driver = oauth2 }}` configuration "
                "with an args file; Dovecot 2.4 replaced it by `oauth2 {}` settings. They also need Dovecot's "
                "submission service: package dovecot-submissiond.)") from None
        self.mailboxes = tuple(mailboxes)
        self.introspection_url = introspection_url
        self.relay_port = relay_port
        self.all_ports = _OAuth2DovecotPorts(0, 0, 0, 0, 0)

    def start(self, attempts: int = 3) -> None:
        self.directory.mkdir(exist_ok=True)
        self.directory.chmod(0o755)
        mail = self.root / "mail"
        mail.mkdir(mode=0o700, exist_ok=True)
        if self.owner.as_root:
            os.chown(mail, self.owner.uid, self.owner.gid)
        files = {
            "users": "".join(f"{mailbox}:::::::\n" for mailbox in self.mailboxes),
            "nodelay": "127.0.0.1:::::::nodelay=yes\n",
            "dovecot-oauth2.conf.ext": _oauth2_args(self.introspection_url),
        }
        for name, text in files.items():  # read by the auth process (Dovecot's unprivileged internal user)
            (self.directory / name).write_text(text, encoding="utf-8")
            (self.directory / name).chmod(0o644)
        for attempt in range(attempts):
            self.all_ports = _OAuth2DovecotPorts(*free_ports(5))
            self.ports = DovecotPorts(self.all_ports.imap, self.all_ports.imaps, self.all_ports.lmtp)
            self.config.write_text(self._config(), encoding="utf-8")
            try:
                self._launch()
                return
            except MailServersError as error:
                tail = self.log_tail()
                if attempt == attempts - 1 or "Address already in use" not in tail:
                    if "submission" in tail and "No such file" in tail:
                        raise OAuth2ServersError(
                            f"{error}\nDovecot's submission service is missing: run `sudo .ci/install-mail-servers`"
                            " (package dovecot-submissiond)") from None
                    raise
                self.stop()

    def _config(self) -> str:
        state, hosts, owner, ports = self.directory, self.hosts, self.owner, self.all_ports
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
service submission-login {{
  chroot =
}}
"""
        return f"""# Generated by tests/live/oauth2_servers.py for one test session (Dovecot 2.3 syntax).
base_dir = {state}/run
state_dir = {state}/state
log_path = {state}/dovecot.log
instance_name = mailcfg-oauth2-tests-{os.getpid()}
protocols = imap submission lmtp
listen = {hosts.trusted_loopback}, {hosts.remote}
hostname = {SMTP_HOSTNAME}

ssl = required
ssl_cert = <{self.certificates.good.chain}
ssl_key = <{self.certificates.good.key}
ssl_min_protocol = TLSv1.2

auth_mechanisms = xoauth2 oauthbearer
auth_verbose = yes
first_valid_uid = {min(owner.uid, 100)}
first_valid_gid = {min(owner.gid, 1)}
mail_location = maildir:~/Maildir
{unprivileged}
# No failed-login penalty for loopback clients (see servers.py): this passdb only adds nodelay=yes.
passdb {{
  driver = passwd-file
  args = username_format=%r {state}/nodelay
  default_fields = noauthenticate=y
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {state}/dovecot-oauth2.conf.ext
}}
# The mailboxes: a passwd-file without passwords, so an unknown recipient is refused at RCPT TO.
userdb {{
  driver = passwd-file
  args = username_format=%u {state}/users
  default_fields = uid={owner.uid} gid={owner.gid} home={self.root}/mail/%d/%n
}}

namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = subscribe
  }}
  mailbox Drafts {{
    special_use = \\Drafts
    auto = subscribe
  }}
  mailbox Trash {{
    special_use = \\Trash
    auto = subscribe
  }}
}}

submission_relay_host = {hosts.trusted_loopback}
submission_relay_port = {self.relay_port}
submission_relay_ssl = no

service imap-login {{
  inet_listener imap {{
    port = {ports.imap}
  }}
  inet_listener imaps {{
    port = {ports.imaps}
    ssl = yes
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = {ports.submission}
  }}
  inet_listener submissions {{
    port = {ports.submissions}
    ssl = yes
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    port = {ports.lmtp}
  }}
}}
"""


def _oauth2_args(introspection_url: str) -> str:
    return f"""# passdb oauth2 (Dovecot 2.3): every token is introspected by the test suite's endpoint.
introspection_mode = post
introspection_url = {introspection_url}
username_attribute = username
active_attribute = active
active_value = true
send_auth_headers = yes
timeout_msecs = {int(HTTP_TIMEOUT * 1000)}
"""


# ----------------------------------------------------------------------------------------------- the description


@dataclass(frozen=True)
class TlsEndpoints:
    starttls: Endpoint  # cleartext port, STARTTLS required before AUTH
    ssl: Endpoint  # implicit TLS


def xoauth2_string(user: str, token: str) -> str:
    """The XOAUTH2 initial response, before base64."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def oauthbearer_string(user: str, token: str, host: str, port: int) -> str:
    """The OAUTHBEARER (RFC 7628) initial response, before base64."""
    authzid = user.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={authzid},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"


@dataclass(frozen=True)
class OAuth2Servers:
    """Everything an OAuth2 live test needs. Mailbox names are full addresses (``alice@example.test``)."""

    root: Path
    ca_file: Path  # signed Dovecot's and the token endpoint's certificates: give it to --ca-file
    untrusted_ca_file: Path  # signed only the untrusted endpoint's certificate
    certificates: Certificates
    hosts: Hosts
    mailboxes: tuple[str, ...]
    imap: TlsEndpoints  # at hosts.remote (127.0.0.2)
    submission: TlsEndpoints  # at hosts.remote: starttls is the 587-like port, ssl the 465-like one
    lmtp: Endpoint
    relay: SmtpServer  # the sink Dovecot's submission relays to; relay.record has the deliveries
    token_url: str  # https://127.0.0.1:<port>/token
    untrusted_token_url: str  # https://127.0.0.6:<port>/token: certificate from a CA ca_file does not hold
    silent_token_url: str  # accepts TCP, never answers
    unreachable_token_url: str  # connection refused
    introspection_url: str  # http://127.0.0.1:<port>/introspect (Dovecot's backend)
    dovecot_version: str
    dovecot_log: Path
    authority: TokenAuthority = field(repr=False, compare=False)
    _relayed: _Log[RelayedMessage] = field(repr=False, compare=False)
    startup_seconds: float = 0.0

    # -- registration

    def register_client(self, client_id: str | None = None, *, client_secret: str | None = None,
                        public: bool = False, app_mailbox: str | None = None,
                        app_scopes: Sequence[str] = DEFAULT_APP_SCOPES, rotate_refresh_tokens: bool = False
                        ) -> OAuth2Client:
        """Register a client (default: a new UUID as id and a random secret). ``public``: no secret (refresh
        grant only); ``app_mailbox``: the one mailbox its client-credentials tokens are for."""
        return self.authority.register_client(client_id, client_secret=client_secret, public=public,
                                              app_mailbox=app_mailbox, app_scopes=app_scopes,
                                              rotate_refresh_tokens=rotate_refresh_tokens)

    def issue_refresh_token(self, client_id: str, mailbox: str, scopes: Sequence[str] = DEFAULT_DELEGATED_SCOPES,
                            *, expires_in: float | None = None) -> str:
        """A refresh token of ``client_id`` for ``mailbox`` (as if the user had consented to ``scopes``)."""
        return self.authority.issue_refresh_token(client_id, mailbox, scopes, expires_in=expires_in)

    def issue_access_token(self, mailbox: str, scopes: Sequence[str] = DEFAULT_DELEGATED_SCOPES, *,
                           expires_in: float = ACCESS_TOKEN_LIFETIME) -> str:
        """An access token for ``mailbox`` straight away (what a token ``command`` would print)."""
        return self.authority.issue_access_token(mailbox, scopes, expires_in=expires_in)

    def revoke_token(self, token: str) -> None:
        """A refresh token then gets ``invalid_grant``; an access token stops logging in."""
        self.authority.revoke_token(token)

    def issued_tokens(self, kind: str = "access") -> tuple[str, ...]:
        """Every access (or refresh) token issued so far, by a grant or directly."""
        return self.authority.issued(kind)

    def expire_token(self, token: str) -> None:
        self.authority.expire_token(token)

    def rotate_client_secret(self, client_id: str, new_secret: str | None = None) -> str:
        """Replace the client's secret (the old one then gets ``invalid_client``); returns the new one."""
        return self.authority.rotate_client_secret(client_id, new_secret)

    def expire_client_secret(self, client_id: str) -> None:
        """The secret stays the same but is refused with ``invalid_client`` ("expired")."""
        self.authority.expire_client_secret(client_id)

    def create_service_account(self, mailboxes: Sequence[str], *,
                               scopes: Sequence[str] = DEFAULT_SERVICE_ACCOUNT_SCOPES, name: str | None = None
                               ) -> ServiceAccount:
        """A service account (new RSA key) delegated to ``mailboxes`` for ``scopes``; its JSON key names this
        token endpoint as ``token_uri``."""
        return self.authority.create_service_account(mailboxes, scopes=scopes, name=name)

    # -- records

    def token_requests(self) -> tuple[TokenRequest, ...]:
        """Every request the token endpoint (trusted and untrusted URL) received, oldest first."""
        return self.authority.token_requests.items()

    def introspections(self) -> tuple[Introspection, ...]:
        return self.authority.introspections.items()

    def relayed_messages(self) -> tuple[RelayedMessage, ...]:
        """What Dovecot's submission service relayed to the sink, oldest first."""
        return self._relayed.items()

    def reset_records(self) -> None:
        self.authority.token_requests.clear()
        self.authority.introspections.clear()
        self._relayed.clear()
        self.relay.record.reset()

    # -- clients

    def client_context(self, ca_file: Path | None = None) -> ssl.SSLContext:
        """A verifying client context that trusts ``ca_file`` (default: the test CA)."""
        return ssl.create_default_context(cafile=str(ca_file or self.ca_file))

    @contextlib.contextmanager
    def imap_client(self, user: str, token: str | None = None, endpoint: Endpoint | None = None, *,
                    mechanism: str = "XOAUTH2", timeout: float = 10.0) -> Iterator[IMAPClient]:
        """An IMAPClient logged in with ``token`` (default: a new one for ``user``) by ``mechanism`` (XOAUTH2 or
        OAUTHBEARER), logged out afterwards. A refused login raises ``imapclient.exceptions.LoginError``."""
        endpoint = endpoint or self.imap.ssl
        token = token if token is not None else self.issue_access_token(user)
        client = IMAPClient(endpoint.host, endpoint.port, ssl=endpoint.encryption == "ssl",
                            ssl_context=self.client_context(), timeout=timeout)
        try:
            if endpoint.encryption == "starttls":
                client.starttls(self.client_context())
            if mechanism.upper() == "OAUTHBEARER":
                client.oauthbearer_login(user, token)
            else:
                client.oauth2_login(user, token, mech=mechanism.upper())
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def mailbox_messages(self, user: str, folder: str = "INBOX") -> list[MailMessage]:
        with self.imap_client(user) as client:
            return MailServers._fetch(client, folder)

    def wait_for_message(self, user: str, subject: str, *, folder: str = "INBOX", timeout: float = 10.0
                         ) -> MailMessage:
        """The first message in ``folder`` with this subject; polls until ``timeout``, then ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        with self.imap_client(user) as client:
            while True:
                messages = MailServers._fetch(client, folder)
                for message in messages:
                    if message.subject == subject:
                        return message
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no message {subject!r} in {user} {folder} after {timeout} s; there: "
                                       f"{[message.subject for message in messages]}")
                time.sleep(0.05)


# ----------------------------------------------------------------------------------------------- start and stop


@contextlib.contextmanager
def running_oauth2_servers(root: Path | None = None, hosts: Hosts = HOSTS, *,
                           certificates: Certificates | None = None, mailboxes: Sequence[str] = MAILBOXES
                           ) -> Iterator[OAuth2Servers]:
    """Start the OAuth2 Dovecot, the relay sink, the token and introspection endpoints; stop all when the block
    ends.

    ``root`` (default: a new temporary directory, removed afterwards unless ``MAILCFG_LIVE_KEEP`` is set) holds
    certificates, configuration, Dovecot's log, service-account keys and the mailboxes. ``certificates``: reuse
    those of ``running_mail_servers()`` (one CA for both); default: new ones under ``root``. Raises
    ``MailServersError`` (``OAuth2ServersError``) with a readable reason when something cannot start.
    """
    started = time.monotonic()
    own_root = root is None and not os.environ.get("MAILCFG_LIVE_KEEP")
    root = Path(tempfile.mkdtemp(prefix="mailcfg-oauth2-")) if root is None else root
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # Dovecot's unprivileged processes reach their files and the mailboxes below
    http_servers: list[_HttpServer] = []
    dovecot: _OAuth2Dovecot | None = None
    loop: ServerLoop | None = None
    try:
        certificates = certificates or make_certificates(root / "certs", hosts)
        authority = TokenAuthority(mailboxes, root / "service-accounts")

        def serve(server: _HttpServer) -> _HttpServer:
            http_servers.append(server)  # stopped in the end only once serving: shutdown() waits for that
            server.serve()
            return server

        token = serve(_HttpServer((hosts.trusted_loopback, 0), _TokenHandler, authority, "token",
                                  certificates.good.server_context()))
        untrusted = serve(_HttpServer((hosts.untrusted, 0), _TokenHandler, authority, "untrusted",
                                      certificates.untrusted.server_context()))
        introspection = serve(_HttpServer((hosts.trusted_loopback, 0), _IntrospectionHandler, authority,
                                          "introspection"))
        authority.token_url = f"{token.url}/token"

        loop = ServerLoop()
        relayed: _Log[RelayedMessage] = _Log()
        sinks: list[_SinkHandler] = []

        def sink(record: SmtpRecord, lmtp: tuple[str, int], accept_unknown: bool) -> _SinkHandler:
            sinks.append(_SinkHandler(record, lmtp, accept_unknown, relayed))
            return sinks[-1]

        relay = loop.smtp("oauth2-relay", [hosts.trusted_loopback], encryption="none", context=None,
                          lmtp=(hosts.trusted_loopback, 0), require_auth=False, handler_factory=sink)
        dovecot = _OAuth2Dovecot(root, certificates, hosts, mailboxes, f"{introspection.url}/introspect",
                                 relay.port)
        dovecot.start()
        lmtp = Endpoint(hosts.trusted_loopback, dovecot.all_ports.lmtp, "none")
        for handler in sinks:
            handler.lmtp = lmtp.address
        silent = loop.silent(hosts.trusted_loopback)
        ports = dovecot.all_ports
        servers = OAuth2Servers(
            root=root, ca_file=certificates.ca_file, untrusted_ca_file=certificates.untrusted_ca_file,
            certificates=certificates, hosts=hosts, mailboxes=tuple(mailboxes),
            imap=TlsEndpoints(Endpoint(hosts.remote, ports.imap, "starttls"),
                              Endpoint(hosts.remote, ports.imaps, "ssl")),
            submission=TlsEndpoints(Endpoint(hosts.remote, ports.submission, "starttls"),
                                    Endpoint(hosts.remote, ports.submissions, "ssl")),
            lmtp=lmtp, relay=relay, token_url=authority.token_url, untrusted_token_url=f"{untrusted.url}/token",
            silent_token_url=f"https://{silent.host}:{silent.port}/token",
            unreachable_token_url=f"https://{hosts.trusted_loopback}:{closed_port(hosts.trusted_loopback)}/token",
            introspection_url=f"{introspection.url}/introspect", dovecot_version=dovecot.version,
            dovecot_log=dovecot.log, authority=authority, _relayed=relayed,
        )
        yield replace(servers, startup_seconds=time.monotonic() - started)
    finally:
        stopper = None
        if dovecot is not None:  # Dovecot takes about a second to stop: meanwhile stop the rest
            stopper = threading.Thread(target=dovecot.stop, name="stop-oauth2-dovecot")
            stopper.start()
        for server in http_servers:
            server.shutdown()
            server.server_close()
        if loop is not None:
            loop.stop()
        if stopper is not None:
            stopper.join()
        if own_root:
            shutil.rmtree(root, ignore_errors=True)


__all__ = [
    "DEFAULT_APP_SCOPES", "DEFAULT_DELEGATED_SCOPES", "DEFAULT_SERVICE_ACCOUNT_SCOPES", "GOOGLE_MAIL_SCOPE",
    "JWT_BEARER", "MAILBOXES", "MICROSOFT_APP_SCOPE", "MICROSOFT_IMAP_SCOPE", "MICROSOFT_SMTP_SCOPE",
    "OFFLINE_ACCESS", "SERVICE_SCOPES", "Introspection", "OAuth2Client", "OAuth2Error", "OAuth2Servers",
    "OAuth2ServersError", "RelayedMessage", "ServiceAccount", "TlsEndpoints", "TokenAuthority", "TokenRequest",
    "oauthbearer_string", "running_oauth2_servers", "xoauth2_string",
]
