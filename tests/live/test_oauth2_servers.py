"""The OAuth2 test servers themselves (oauth2_servers.py): every grant of the token endpoint yields a token that logs
in to the real Dovecot over IMAP and submission, with both mechanisms on both ports; the endpoint's errors; what
Dovecot does with a token for another mailbox; the records tests rely on. Standard library clients and imapclient
only, so a failure here is the servers', not mailcfg's."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import json
import os
import smtplib
import socket
import ssl
import stat
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from .oauth2_servers import (
    GOOGLE_MAIL_SCOPE,
    JWT_BEARER,
    MICROSOFT_APP_SCOPE,
    MICROSOFT_IMAP_SCOPE,
    MICROSOFT_SMTP_SCOPE,
    OAuth2Servers,
    OAuth2ServersError,
    ServiceAccount,
    oauthbearer_string,
    running_oauth2_servers,
    xoauth2_string,
)
from .servers import Endpoint

ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"
MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
GRANTS = ("refresh_token", "client_credentials", JWT_BEARER)


@pytest.fixture
def servers(oauth2_servers: OAuth2Servers) -> OAuth2Servers:
    oauth2_servers.reset_records()
    return oauth2_servers


# ----------------------------------------------------------------------------------------------- helpers


def post_token(servers: OAuth2Servers, form: Mapping[str, str], *, basic: tuple[str, str] | None = None,
               url: str | None = None, ca_file: Path | None = None, content_type: str | None = None,
               timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
    """POST a token request; (HTTP status, JSON answer)."""
    request = urllib.request.Request(url or servers.token_url, data=urllib.parse.urlencode(form).encode())
    request.add_header("Content-Type", content_type or "application/x-www-form-urlencoded")
    if basic is not None:
        pair = f"{urllib.parse.quote_plus(basic[0])}:{urllib.parse.quote_plus(basic[1])}"
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    context = servers.client_context(ca_file)
    try:
        with urllib.request.urlopen(request, context=context, timeout=timeout) as response:
            return int(response.status), dict(json.load(response))
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(json.load(error))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def assertion(account: ServiceAccount, *, sub: str | None, scope: str | None = GOOGLE_MAIL_SCOPE,
              aud: str | None = None, issued: int | None = None, lifetime: int = 3600, key_pem: str | None = None,
              **extra: Any) -> str:
    """An RS256 JWT bearer assertion as Google's libraries build it from the JSON key."""
    key_info = json.loads(account.key_json)
    issued = int(time.time()) if issued is None else issued
    claims: dict[str, Any] = {"iss": key_info["client_email"], "aud": aud or key_info["token_uri"], "iat": issued,
                              "exp": issued + lifetime}
    if scope is not None:
        claims["scope"] = scope
    if sub is not None:
        claims["sub"] = sub
    claims.update(extra)
    header = {"alg": "RS256", "typ": "JWT", "kid": key_info["private_key_id"]}
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    key = serialization.load_pem_private_key((key_pem or key_info["private_key"]).encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return f"{signing_input}.{b64url(key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()))}"


def other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def token_by_grant(servers: OAuth2Servers, grant: str, mailbox: str) -> str:
    """An access token for ``mailbox`` from the token endpoint by ``grant``."""
    if grant == "refresh_token":  # client_secret_basic
        client = servers.register_client()
        assert client.client_secret is not None
        refresh = servers.issue_refresh_token(client.client_id, mailbox)
        status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": refresh},
                                    basic=(client.client_id, client.client_secret))
    elif grant == "client_credentials":  # client_secret_post
        client = servers.register_client(app_mailbox=mailbox)
        assert client.client_secret is not None
        status, answer = post_token(servers, {"grant_type": "client_credentials", "scope": MICROSOFT_APP_SCOPE,
                                              "client_id": client.client_id, "client_secret": client.client_secret})
    else:
        account = servers.create_service_account([mailbox])
        status, answer = post_token(servers, {"grant_type": JWT_BEARER, "assertion": assertion(account, sub=mailbox)})
    assert status == 200, answer
    assert answer["token_type"] == "Bearer"
    assert answer["expires_in"] == 3600
    return str(answer["access_token"])


def smtp_connect(servers: OAuth2Servers, endpoint: Endpoint) -> smtplib.SMTP:
    context = servers.client_context()
    if endpoint.encryption == "ssl":
        client: smtplib.SMTP = smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=10, context=context)
    else:
        client = smtplib.SMTP(endpoint.host, endpoint.port, timeout=10)
        client.starttls(context=context)
    client.ehlo()
    return client


@contextlib.contextmanager
def smtp_session(servers: OAuth2Servers, endpoint: Endpoint) -> Iterator[smtplib.SMTP]:
    client = smtp_connect(servers, endpoint)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.quit()


def smtp_auth(client: smtplib.SMTP, endpoint: Endpoint, mechanism: str, user: str, token: str) -> tuple[int, bytes]:
    """AUTH by ``mechanism`` with an initial response; after a failure challenge the empty answer."""
    initial = (xoauth2_string(user, token) if mechanism == "XOAUTH2"
               else oauthbearer_string(user, token, endpoint.host, endpoint.port))

    def respond(challenge: bytes | None = None) -> str:
        return initial if challenge is None else ""

    return client.auth(mechanism, respond)


def imap_login_error(servers: OAuth2Servers, user: str, token: str, endpoint: Endpoint | None = None,
                     mechanism: str = "XOAUTH2") -> str:
    """The server's refusal of this login (fails the test when it succeeds)."""
    with pytest.raises(LoginError) as refused, servers.imap_client(user, token, endpoint, mechanism=mechanism):
        pass
    return str(refused.value)


def smtp_auth_error(servers: OAuth2Servers, user: str, token: str, endpoint: Endpoint,
                    mechanism: str = "XOAUTH2") -> int:
    with smtp_session(servers, endpoint) as client, pytest.raises(smtplib.SMTPAuthenticationError) as refused:
        smtp_auth(client, endpoint, mechanism, user, token)
    return refused.value.smtp_code


# ----------------------------------------------------------------------------------------------- the chain


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("encryption", ["starttls", "ssl"])
@pytest.mark.parametrize("grant", GRANTS)
def test_each_grant_logs_in_over_imap(servers: OAuth2Servers, grant: str, encryption: str, mechanism: str) -> None:
    token = token_by_grant(servers, grant, ALICE)
    endpoint = getattr(servers.imap, encryption)
    with servers.imap_client(ALICE, token, endpoint, mechanism=mechanism) as client:
        assert client.select_folder("INBOX", readonly=True)[b"EXISTS"] >= 0
        assert client.folder_exists("Sent")
    introspected = [(i.service, i.username, i.active) for i in servers.introspections()]
    assert introspected == [("imap", ALICE, True)]


@pytest.mark.parametrize("mechanism", MECHANISMS)
@pytest.mark.parametrize("encryption", ["starttls", "ssl"])
@pytest.mark.parametrize("grant", GRANTS)
def test_each_grant_logs_in_over_submission(servers: OAuth2Servers, grant: str, encryption: str,
                                            mechanism: str) -> None:
    token = token_by_grant(servers, grant, ALICE)
    endpoint = getattr(servers.submission, encryption)
    with smtp_session(servers, endpoint) as client:
        assert mechanism in client.esmtp_features["auth"].split()
        code, reply = smtp_auth(client, endpoint, mechanism, ALICE, token)
    assert (code, reply) == (235, b"2.7.0 Logged in.")
    assert [(i.service, i.username) for i in servers.introspections()] == [("submission", ALICE)]


def test_direct_access_token_logs_in(servers: OAuth2Servers) -> None:
    """What a token ``command`` prints: minted without a token request."""
    token = servers.issue_access_token(CAROL)
    with servers.imap_client(CAROL, token) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] >= 0
    assert servers.token_requests() == ()


def test_message_sent_through_submission_arrives(servers: OAuth2Servers) -> None:
    subject = f"oauth2 round trip {uuid.uuid4()}"
    message = (f"From: {ALICE}\r\nTo: {BOB}\r\nSubject: {subject}\r\nMessage-ID: <{uuid.uuid4()}@example.test>\r\n"
               "\r\nhi\r\n")
    endpoint = servers.submission.starttls
    with smtp_session(servers, endpoint) as client:
        smtp_auth(client, endpoint, "XOAUTH2", ALICE, servers.issue_access_token(ALICE))
        assert client.sendmail(ALICE, [BOB], message.encode()) == {}
    (relayed,) = servers.relayed_messages()
    assert (relayed.mail_from, relayed.recipients, relayed.subject, relayed.delivered) == (ALICE, (BOB,), subject, True)
    assert [(d.recipient, d.subject, d.delivered) for d in servers.relay.record.deliveries] == [(BOB, subject, True)]
    arrived = servers.wait_for_message(BOB, subject)
    assert arrived.headers["From"] == ALICE
    assert b"with ESMTPSA" in arrived.raw  # Dovecot's submission service received it authenticated


def test_unknown_recipient_is_refused(servers: OAuth2Servers) -> None:
    endpoint = servers.submission.ssl
    with smtp_session(servers, endpoint) as client:
        smtp_auth(client, endpoint, "OAUTHBEARER", ALICE, servers.issue_access_token(ALICE))
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail(ALICE, ["nobody@example.test"], b"Subject: lost\r\n\r\nx\r\n")
    assert refused.value.recipients["nobody@example.test"][0] == 550
    assert servers.relayed_messages() == ()


def test_starttls_ports_need_tls_before_auth(servers: OAuth2Servers) -> None:
    """At 127.0.0.2 Dovecot behaves like a remote server: no AUTH in cleartext."""
    imap = IMAPClient(servers.imap.starttls.host, servers.imap.starttls.port, ssl=False, timeout=10)
    try:
        capabilities = imap.capabilities()
        assert b"LOGINDISABLED" in capabilities
        assert b"STARTTLS" in capabilities
        with pytest.raises(LoginError):
            imap.oauth2_login(ALICE, servers.issue_access_token(ALICE))
    finally:
        with contextlib.suppress(Exception):
            imap.logout()
    with smtplib.SMTP(servers.submission.starttls.host, servers.submission.starttls.port, timeout=10) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls")
        assert not smtp.has_extn("auth")
    assert servers.introspections() == ()


# ----------------------------------------------------------------------------------------------- refused tokens


def test_token_for_alice_does_not_log_in_as_bob(servers: OAuth2Servers) -> None:
    token = token_by_grant(servers, "refresh_token", ALICE)
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, BOB, token)
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, BOB, token, mechanism="OAUTHBEARER")
    assert smtp_auth_error(servers, BOB, token, servers.submission.starttls) == 535
    # The token itself was valid: Dovecot refused because the introspected username is not the login name.
    assert {(i.username, i.active) for i in servers.introspections()} == {(ALICE, True)}
    assert "did not match" in servers.dovecot_log.read_text()


def test_login_name_is_compared_case_insensitively(servers: OAuth2Servers) -> None:
    with servers.imap_client("Alice@EXAMPLE.test", servers.issue_access_token(ALICE)) as client:
        assert client.select_folder("INBOX")[b"EXISTS"] >= 0


@pytest.mark.parametrize("endpoint", ["imap.starttls", "imap.ssl", "submission.starttls", "submission.ssl"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_unknown_token_is_refused(servers: OAuth2Servers, endpoint: str, mechanism: str) -> None:
    protocol, encryption = endpoint.split(".")
    where = getattr(getattr(servers, protocol), encryption)
    token = "at.this-token-was-never-issued"
    if protocol == "imap":
        assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, ALICE, token, where, mechanism)
    else:
        assert smtp_auth_error(servers, ALICE, token, where, mechanism) == 535
    assert [(i.known, i.active) for i in servers.introspections()] == [(False, False)]


def test_imap_refusal_is_a_tagged_no_authenticationfailed(servers: OAuth2Servers) -> None:
    """The raw reply, read with imaplib: ``NO [AUTHENTICATIONFAILED]`` after the empty answer to the challenge."""
    client = imaplib.IMAP4_SSL(servers.imap.ssl.host, servers.imap.ssl.port, ssl_context=servers.client_context(),
                               timeout=10)
    challenges: list[bytes] = []

    def respond(challenge: bytes) -> bytes:
        challenges.append(challenge)
        return xoauth2_string(ALICE, "at.unknown").encode() if len(challenges) == 1 else b""

    try:
        with pytest.raises(imaplib.IMAP4.error, match=r"\[AUTHENTICATIONFAILED\]"):
            client.authenticate("XOAUTH2", respond)
        assert len(challenges) == 2  # the 334-like JSON error challenge was answered empty
        assert b'"status"' in challenges[1]
    finally:
        with contextlib.suppress(Exception):
            client.logout()


def test_revoked_and_expired_access_tokens_are_refused(servers: OAuth2Servers) -> None:
    revoked, expired = servers.issue_access_token(ALICE), servers.issue_access_token(ALICE)
    with servers.imap_client(ALICE, revoked):
        pass
    servers.revoke_token(revoked)
    servers.expire_token(expired)
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, ALICE, revoked)
    assert smtp_auth_error(servers, ALICE, expired, servers.submission.ssl) == 535
    assert [i.reason for i in servers.introspections()] == ["", "revoked", "expired"]


def test_scopes_decide_the_protocol(servers: OAuth2Servers) -> None:
    smtp_only = servers.issue_access_token(ALICE, [MICROSOFT_SMTP_SCOPE])
    imap_only = servers.issue_access_token(ALICE, [MICROSOFT_IMAP_SCOPE])
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, ALICE, smtp_only)
    assert smtp_auth_error(servers, ALICE, imap_only, servers.submission.ssl) == 535
    with servers.imap_client(ALICE, imap_only):
        pass
    with smtp_session(servers, servers.submission.ssl) as client:
        assert smtp_auth(client, servers.submission.ssl, "XOAUTH2", ALICE, smtp_only)[0] == 235
    assert [i.reason for i in servers.introspections()] == ["no scope for imap", "no scope for submission", "", ""]


def test_client_credentials_token_only_for_its_mailbox(servers: OAuth2Servers) -> None:
    token = token_by_grant(servers, "client_credentials", CAROL)
    with servers.imap_client(CAROL, token):
        pass
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, ALICE, token)


# ----------------------------------------------------------------------------------------------- token endpoint


def test_secret_basic_and_post_are_both_accepted_and_recorded(servers: OAuth2Servers) -> None:
    client = servers.register_client()
    assert client.client_secret is not None
    refresh = servers.issue_refresh_token(client.client_id, ALICE)
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "scope": MICROSOFT_IMAP_SCOPE}
    basic = post_token(servers, form, basic=(client.client_id, client.client_secret))
    post = post_token(servers, {**form, "client_id": client.client_id, "client_secret": client.client_secret})
    assert basic[0] == post[0] == 200
    assert basic[1]["scope"] == post[1]["scope"] == MICROSOFT_IMAP_SCOPE
    assert basic[1]["access_token"] != post[1]["access_token"]
    recorded = [(r.listener, r.method, r.path, r.grant_type, r.client_id, r.client_auth, r.scopes, r.status, r.error)
                for r in servers.token_requests()]
    assert recorded == [
        ("token", "POST", "/token", "refresh_token", client.client_id, method, (MICROSOFT_IMAP_SCOPE,), 200, None)
        for method in ("client_secret_basic", "client_secret_post")]
    assert all(abs(r.time - time.time()) < 600 for r in servers.token_requests())


@pytest.mark.parametrize("how", ["basic", "post", "missing", "unknown client"])
def test_wrong_or_missing_secret_is_invalid_client(servers: OAuth2Servers, how: str) -> None:
    client = servers.register_client()
    refresh = servers.issue_refresh_token(client.client_id, ALICE)
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    if how == "basic":
        status, answer = post_token(servers, form, basic=(client.client_id, "wrong"))
    elif how == "post":
        status, answer = post_token(servers, {**form, "client_id": client.client_id, "client_secret": "wrong"})
    elif how == "missing":
        status, answer = post_token(servers, {**form, "client_id": client.client_id})
    else:
        status, answer = post_token(servers, {**form, "client_id": "nobody", "client_secret": "wrong"})
    assert (status, answer["error"]) == (401, "invalid_client")
    assert [r.error for r in servers.token_requests()] == ["invalid_client"]


def test_rotated_and_expired_client_secrets(servers: OAuth2Servers) -> None:
    client = servers.register_client(app_mailbox=BOB)
    assert client.client_secret is not None

    def request(secret: str) -> tuple[int, dict[str, Any]]:
        return post_token(servers, {"grant_type": "client_credentials", "client_id": client.client_id,
                                    "client_secret": secret})

    new = servers.rotate_client_secret(client.client_id)
    assert request(client.client_secret)[1]["error"] == "invalid_client"
    status, answer = request(new)
    assert (status, answer["scope"]) == (200, MICROSOFT_APP_SCOPE)
    servers.expire_client_secret(client.client_id)
    status, answer = request(new)
    assert (status, answer["error"]) == (401, "invalid_client")
    assert "expired" in answer["error_description"]


@pytest.mark.parametrize("problem", ["revoked", "expired", "unknown", "other client"])
def test_bad_refresh_token_is_invalid_grant(servers: OAuth2Servers, problem: str) -> None:
    client, other = servers.register_client(), servers.register_client()
    assert client.client_secret is not None
    refresh = servers.issue_refresh_token((other if problem == "other client" else client).client_id, ALICE)
    if problem == "revoked":
        servers.revoke_token(refresh)
    elif problem == "expired":
        servers.expire_token(refresh)
    elif problem == "unknown":
        refresh = "rt.never-issued"
    status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": refresh},
                                basic=(client.client_id, client.client_secret))
    assert (status, answer["error"]) == (400, "invalid_grant")


def test_refresh_scopes(servers: OAuth2Servers) -> None:
    client = servers.register_client()
    assert client.client_secret is not None
    refresh = servers.issue_refresh_token(client.client_id, ALICE, [GOOGLE_MAIL_SCOPE])
    auth = (client.client_id, client.client_secret)
    status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": refresh}, basic=auth)
    assert (status, answer["scope"]) == (200, GOOGLE_MAIL_SCOPE)
    assert "refresh_token" not in answer  # not rotated
    status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": refresh,
                                          "scope": MICROSOFT_SMTP_SCOPE}, basic=auth)
    assert (status, answer["error"]) == (400, "invalid_scope")


def test_rotating_refresh_tokens(servers: OAuth2Servers) -> None:
    client = servers.register_client(rotate_refresh_tokens=True)
    assert client.client_secret is not None
    first = servers.issue_refresh_token(client.client_id, BOB)
    auth = (client.client_id, client.client_secret)
    status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": first}, basic=auth)
    assert status == 200
    assert answer["refresh_token"] != first
    assert post_token(servers, {"grant_type": "refresh_token", "refresh_token": first}, basic=auth)[1]["error"] == \
        "invalid_grant"
    status, answer = post_token(servers, {"grant_type": "refresh_token", "refresh_token": answer["refresh_token"]},
                                basic=auth)
    assert status == 200
    with servers.imap_client(BOB, answer["access_token"]):
        pass


def test_public_client_refreshes_without_secret(servers: OAuth2Servers) -> None:
    client = servers.register_client(public=True)
    assert client.client_secret is None
    refresh = servers.issue_refresh_token(client.client_id, CAROL)
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client.client_id}
    status, answer = post_token(servers, form)
    assert status == 200
    with servers.imap_client(CAROL, answer["access_token"]):
        pass
    assert post_token(servers, {**form, "client_secret": "any"})[1]["error"] == "invalid_client"
    assert post_token(servers, {"grant_type": "client_credentials", "client_id": client.client_id})[1]["error"] == \
        "unauthorized_client"


def test_client_credentials_errors(servers: OAuth2Servers) -> None:
    no_mailbox = servers.register_client()
    with_mailbox = servers.register_client(app_mailbox=ALICE)
    assert no_mailbox.client_secret is not None
    assert with_mailbox.client_secret is not None
    status, answer = post_token(servers, {"grant_type": "client_credentials"},
                                basic=(no_mailbox.client_id, no_mailbox.client_secret))
    assert (status, answer["error"]) == (400, "unauthorized_client")
    status, answer = post_token(servers, {"grant_type": "client_credentials", "scope": MICROSOFT_IMAP_SCOPE},
                                basic=(with_mailbox.client_id, with_mailbox.client_secret))
    assert (status, answer["error"]) == (400, "invalid_scope")


@pytest.mark.parametrize(("form", "content_type", "error"), [
    ({"grant_type": "password", "username": ALICE, "password": "x"}, None, "unsupported_grant_type"),
    ({"grant_type": "authorization_code", "code": "x"}, None, "unsupported_grant_type"),
    ({"refresh_token": "rt.x"}, None, "invalid_request"),
    ({"grant_type": "refresh_token"}, "application/json", "invalid_request"),
])
def test_malformed_requests(servers: OAuth2Servers, form: dict[str, str], content_type: str | None,
                            error: str) -> None:
    status, answer = post_token(servers, form, content_type=content_type)
    assert (status, answer["error"]) == (400, error)
    assert answer["error_description"]


def test_only_post_to_the_token_path(servers: OAuth2Servers) -> None:
    context = servers.client_context()
    with pytest.raises(urllib.error.HTTPError) as wrong_method:
        urllib.request.urlopen(servers.token_url, context=context, timeout=10)
    assert wrong_method.value.code == 405
    wrong_method.value.close()
    status, answer = post_token(servers, {"grant_type": "client_credentials"},
                                url=servers.token_url.replace("/token", "/oauth2/v2.0/token"))
    assert (status, answer["error"]) == (404, "invalid_request")
    assert [(r.method, r.path, r.status) for r in servers.token_requests()] == [
        ("GET", "/token", 405), ("POST", "/oauth2/v2.0/token", 404)]


# ----------------------------------------------------------------------------------------------- JWT bearer


def test_service_account_key_is_google_style(servers: OAuth2Servers) -> None:
    account = servers.create_service_account([ALICE, BOB])
    key = json.loads(account.key_json)
    assert key["type"] == "service_account"
    assert key["client_email"] == account.client_email
    assert key["client_email"].endswith(".iam.gserviceaccount.com")
    assert key["private_key_id"] == account.private_key_id
    assert key["client_id"] == account.client_id
    assert key["token_uri"] == servers.token_url
    assert isinstance(serialization.load_pem_private_key(key["private_key"].encode(), None), rsa.RSAPrivateKey)
    assert account.key_file.read_text() == account.key_json
    assert stat.S_IMODE(account.key_file.stat().st_mode) == 0o600


def test_jwt_bearer_for_each_delegated_mailbox(servers: OAuth2Servers) -> None:
    account = servers.create_service_account([ALICE, BOB])
    for mailbox in (ALICE, BOB):
        status, answer = post_token(servers, {"grant_type": JWT_BEARER, "assertion": assertion(account, sub=mailbox)})
        assert (status, answer["scope"]) == (200, GOOGLE_MAIL_SCOPE)
        with servers.imap_client(mailbox, answer["access_token"]):
            pass
    assert [(r.grant_type, r.subject, r.client_auth, r.scopes) for r in servers.token_requests()] == [
        (JWT_BEARER, ALICE, "none", (GOOGLE_MAIL_SCOPE,)), (JWT_BEARER, BOB, "none", (GOOGLE_MAIL_SCOPE,))]


def tampered(account: ServiceAccount) -> str:
    """A validly signed assertion for alice whose claims were then changed to bob."""
    header, claims, signature = assertion(account, sub=ALICE).split(".")
    changed = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    changed["sub"] = BOB
    return f"{header}.{b64url(json.dumps(changed).encode())}.{signature}"


BAD_ASSERTIONS: dict[str, tuple[Callable[[ServiceAccount], str], str]] = {
    "signed by another key": (lambda a: assertion(a, sub=ALICE, key_pem=other_key_pem()), "invalid_grant"),
    "claims changed after signing": (tampered, "invalid_grant"),
    "unsigned": (lambda a: ".".join(assertion(a, sub=ALICE).split(".")[:2]) + ".", "invalid_grant"),
    "wrong audience": (lambda a: assertion(a, sub=ALICE, aud="https://oauth2.googleapis.com/token"), "invalid_grant"),
    "expired": (lambda a: assertion(a, sub=ALICE, issued=int(time.time()) - 7200), "invalid_grant"),
    "lives too long": (lambda a: assertion(a, sub=ALICE, lifetime=7200), "invalid_grant"),
    "unknown issuer": (lambda a: assertion(a, sub=ALICE, iss="nobody@x.iam.gserviceaccount.com"), "invalid_grant"),
    "not a JWT": (lambda a: "not-a-jwt", "invalid_grant"),
    "no scope": (lambda a: assertion(a, sub=ALICE, scope=None), "invalid_scope"),
    "scope not delegated": (lambda a: assertion(a, sub=ALICE, scope=MICROSOFT_IMAP_SCOPE), "unauthorized_client"),
    "mailbox not delegated": (lambda a: assertion(a, sub=CAROL), "unauthorized_client"),
}


@pytest.mark.parametrize("case", list(BAD_ASSERTIONS))
def test_bad_assertion_is_refused(servers: OAuth2Servers, case: str) -> None:
    account = servers.create_service_account([ALICE, BOB])
    build, error = BAD_ASSERTIONS[case]
    status, answer = post_token(servers, {"grant_type": JWT_BEARER, "assertion": build(account)})
    assert (status, answer["error"]) == (400, error)
    assert [(r.status, r.error) for r in servers.token_requests()] == [(400, error)]


def test_assertion_without_subject_gets_no_mailbox(servers: OAuth2Servers) -> None:
    """Without ``sub`` the token is the service account's own, and that is no mailbox."""
    account = servers.create_service_account([ALICE])
    status, answer = post_token(servers, {"grant_type": JWT_BEARER, "assertion": assertion(account, sub=None)})
    assert status == 200
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, ALICE, answer["access_token"])
    assert "[AUTHENTICATIONFAILED]" in imap_login_error(servers, account.client_email, answer["access_token"])


# ----------------------------------------------------------------------------------------------- endpoint variants


def test_localhost_name_is_valid_for_the_token_endpoint(servers: OAuth2Servers) -> None:
    client = servers.register_client(app_mailbox=ALICE)
    assert client.client_secret is not None
    url = servers.token_url.replace("127.0.0.1", "localhost")
    status, _answer = post_token(servers, {"grant_type": "client_credentials"},
                                 basic=(client.client_id, client.client_secret), url=url)
    assert status == 200


def test_untrusted_endpoint_sees_no_request(servers: OAuth2Servers) -> None:
    client = servers.register_client(app_mailbox=ALICE)
    assert client.client_secret is not None
    form = {"grant_type": "client_credentials", "client_id": client.client_id, "client_secret": client.client_secret}
    with pytest.raises(urllib.error.URLError) as refused:
        post_token(servers, form, url=servers.untrusted_token_url)
    assert isinstance(refused.value.reason, ssl.SSLCertVerificationError)
    assert servers.token_requests() == ()
    status, _answer = post_token(servers, form, url=servers.untrusted_token_url, ca_file=servers.untrusted_ca_file)
    assert status == 200
    assert [r.listener for r in servers.token_requests()] == ["untrusted"]


def test_silent_endpoint_never_answers(servers: OAuth2Servers) -> None:
    with pytest.raises((urllib.error.URLError, TimeoutError)) as hung:
        post_token(servers, {"grant_type": "client_credentials"}, url=servers.silent_token_url, timeout=0.5)
    reason = hung.value.reason if isinstance(hung.value, urllib.error.URLError) else hung.value
    assert isinstance(reason, (TimeoutError, socket.timeout))


def test_unreachable_endpoint_refuses(servers: OAuth2Servers) -> None:
    with pytest.raises(urllib.error.URLError) as refused:
        post_token(servers, {"grant_type": "client_credentials"}, url=servers.unreachable_token_url)
    assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_registration_refuses_a_mailbox_that_does_not_exist(servers: OAuth2Servers) -> None:
    client = servers.register_client()
    with pytest.raises(ValueError, match="no mailbox"):
        servers.issue_refresh_token(client.client_id, "mallory@example.test")
    with pytest.raises(ValueError, match="no mailbox"):
        servers.register_client(app_mailbox="mallory@example.test")


def test_dovecot_other_than_2_3_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "dovecot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho '2.4.1 (fake)'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    with pytest.raises(OAuth2ServersError, match=r"(?s)Dovecot 2\.4\.1.*need Dovecot 2\.3.*oauth2"), \
            running_oauth2_servers(tmp_path / "root"):
        pass
