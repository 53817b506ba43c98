"""The token stage: the OAuth2 access token an `oauth2` login sends, one per credentials and run.

A token comes from the token endpoint (authlib over httpx: the refresh-token, client-credentials and RFC 7523
JWT bearer grants) or from the `command` the run allowed. The first check that needs a credentials' token starts
the request, with the union of the scopes every protocol using those credentials needs; every other check
waits for the same answer, so a run makes one request per credentials, and a failure (MC512) is reported by
each check that needed the token without asking again. authlib and httpx are imported only here, only when a
token is needed (they cost about 0.3 s of start-up).

The trust screen (validator/live/policy.py) ran before: the endpoint's host is allowed, the command's program
is allowed, every variable is allowed. Nothing here echoes a secret: the probe learns each secret before the
request, and the command's stderr is never read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from validator import providers
from validator.contacts import with_contact
from validator.live import tls
from validator.live.plan import Check, Login
from validator.live.probe import Probe
from validator.live.result import VerifyOptions
from validator.sanitize import one_line

if TYPE_CHECKING:
    from validator.secrets import Ref

# Largest answer read from a command or taken as a token: access tokens are a few KiB at most (JWTs).
MAX_TOKEN = 64 * 1024
_HINTS = {
    "invalid_client": "the client id or secret is wrong, or the client secret has expired (Entra: at most 24"
    " months); create a new secret and update its variable",
    "invalid_grant": "the refresh token expired or was revoked (password change, admin revocation; a Google app in"
    " 'Testing' status: 7 days after consent), or the service account's assertion was refused: consent again",
    "unauthorized_client": "the application may not use this grant, or is not granted this mailbox (domain-wide"
    " delegation for a Google service account; the Exchange service principal for Microsoft app-only access)",
    "invalid_scope": "the scopes are not granted to the application or unknown to the provider; check `scopes`",
    "unsupported_grant_type": "the token endpoint does not offer this grant; check `token_url` and the keys",
    "invalid_request": "the token endpoint refused the request's form; check `client_id`, `tenant` and `scopes`",
}


class TokenError(Exception):
    """The token could not be obtained: what happened and what usually helps (no secret in either)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class Token:
    value: str
    source: str  # what the stage reports: "client_credentials from login.example.com", "command oama"
    expires_in: float | None = None
    expires_at: float | None = None  # a Unix time: when the request was sent, plus expires_in


def endpoint(login: Login, env: Mapping[str, str]) -> str | None:
    """The token URL ``login`` will use (None for `command`, or when no URL can be known).

    A service account without `token_url` uses its key's `token_uri`; the key is read to find it.
    """
    oauth2 = login.oauth2
    if oauth2 is None or oauth2.command is not None:
        return None
    url = providers.token_url(oauth2.provider, oauth2.tenant, oauth2.token_url)
    if url is None and oauth2.service_account is not None:
        key = _service_account(env.get(login.ref("service_account").key, ""))
        uri = key.get("token_uri") if key else None
        url = uri if isinstance(uri, str) and uri.startswith("https://") else None
    return url


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


class Commands:
    """The run's `{command:}` secrets: each command runs once, when the first check that needs it starts; its
    value joins the run's secret values (``values``, under :attr:`validator.secrets.Ref.key`) and the probes'
    scrubbing. The trust screen has allowed every program that gets here."""

    def __init__(self, values: dict[str, str], timeout: float) -> None:
        self.values = values
        self.timeout = timeout
        self._pending: dict[str, asyncio.Future[str]] = {}

    async def resolve(self, probe: Probe, login: Login) -> None:
        """Run the commands ``login``'s secrets come from (the secret stage of ``probe``); MC512 when one fails."""
        from validator.credentials import SECRET_LABELS, secret_path
        from validator.secrets import SecretError

        commands = [(key, ref) for key, ref in login.refs if ref.source == "command"]
        if not commands:
            return
        probe.start("secret")
        for key, ref in commands:
            future = self._pending.get(ref.key)
            if future is None:
                future = asyncio.ensure_future(self._run(ref))
                self._pending[ref.key] = future
            try:
                value = await asyncio.shield(future)  # a check cut by its deadline leaves the command to the others
            except SecretError as error:
                probe.fail(
                    f"{SECRET_LABELS[key]}: {error.problem.message}",
                    with_contact(error.problem.hint, login.entry.model.credentials),
                    at=(*secret_path(key), "command"),
                    rule="MC512",
                    login_entry=True,
                )
            probe.learn([(login.username, value)])
        probe.ok(", ".join(dict.fromkeys(ref.shown for _, ref in commands)))

    async def _run(self, ref: Ref) -> str:
        from validator.secrets import MAX_SIZE, Problem, SecretError, run, value

        output = await run(ref.argv, self.timeout)
        if len(output) > MAX_SIZE:
            raise SecretError(Problem("MC512", f"{ref.shown} printed more than {MAX_SIZE // 1024} KiB", ""))
        secret = value(output, ref)
        self.values[ref.key] = secret
        return secret


class Tokens:
    """The run's tokens: at most one request per credentials (keyed by the entry that holds them)."""

    def __init__(self, checks: Iterable[Check], options: VerifyOptions, env: Mapping[str, str]) -> None:
        self.options = options
        self.env = env
        self.protocols: dict[str, set[str]] = {}
        for check in checks:
            for login, protocol in ((check.login, check.protocol), *_sender(check)):
                if login is not None and login.oauth2 is not None:
                    self.protocols.setdefault(login.entry.id, set()).add(protocol)
        self._pending: dict[str, asyncio.Future[Token]] = {}

    async def get(self, probe: Probe, login: Login) -> str:
        """The token for ``login`` (the token stage of ``probe``); fails the stage with MC512 otherwise."""
        probe.start("token")
        probe.learn(self.secrets(login))
        key = login.entry.id
        future = self._pending.get(key)
        if future is None:
            future = asyncio.ensure_future(self._fetch(login, self.protocols.get(key, set())))
            self._pending[key] = future
        try:
            token = await asyncio.shield(future)  # a check cut by its deadline leaves the request to the others
        except TokenError as error:
            # The hint names who can renew the login: the contact of the credentials the token is for.
            hint = with_contact(error.hint, login.entry.model.credentials, "renew")
            probe.fail(error.message, hint, rule="MC512", login_entry=True)
        probe.learn([(login.username, token.value)])
        if token.expires_at is not None:
            probe.token_expires[key] = token.expires_at
        lifetime = f", valid {token.expires_in:.0f} s" if token.expires_in else ""
        probe.ok(f"{token.source}{lifetime}")
        return token.value

    def secrets(self, login: Login) -> list[tuple[str, str]]:
        """(username, value) of every secret ``login`` reads, for the probe to scrub; a key's private key too."""
        out = [(login.username, self.env.get(name, "")) for _, name in login.variables]
        oauth2 = login.oauth2
        if oauth2 is not None and oauth2.service_account is not None:
            key = _service_account(self.env.get(login.ref("service_account").key, ""))
            if key and isinstance(key.get("private_key"), str):
                out.append((login.username, key["private_key"]))
        return out

    async def _fetch(self, login: Login, protocols: set[str]) -> Token:
        oauth2 = login.oauth2
        assert oauth2 is not None
        deadline = time.monotonic() + self.options.timeout
        if oauth2.command is not None:
            return await _run_command(oauth2.command, self.options.timeout)
        url = endpoint(login, self.env)
        if url is None:
            raise TokenError(
                "no token URL: the service-account key has no https `token_uri`", "add `token_url` to `oauth2`"
            )
        scopes = list(oauth2.scopes or providers.default_scopes(oauth2.provider, oauth2.grant, protocols or {"imap"}))
        try:
            with warnings.catch_warnings():
                # authlib warns (to stderr, filter "always") that it prefers the `httpx2` fork, and about its own
                # JWT helpers; neither is the user's business. The filters are restored when the request ends.
                import authlib.deprecate  # noqa: F401  (its import puts an "always" filter first)

                warnings.simplefilter("ignore")
                return await asyncio.wait_for(self._request(login, url, scopes), max(deadline - time.monotonic(), 0.1))
        except asyncio.TimeoutError:
            raise TokenError(
                f"the token endpoint {host_of(url)} did not answer within {self.options.timeout:g} s",
                "is `token_url` right, and the endpoint reachable from here? --timeout waits longer",
            ) from None

    async def _request(self, login: Login, url: str, scopes: list[str]) -> Token:
        oauth2 = login.oauth2
        assert oauth2 is not None
        import httpx
        from authlib.integrations.base_client import OAuthError

        http = {
            "verify": tls.context(self.options.ca_file),
            "timeout": self.options.timeout,
            "trust_env": False,  # no proxy, no .netrc credentials from the environment for a pull request's URL
            "follow_redirects": False,  # a redirect would carry the secret to a host nobody allowed
            # ... and is an answer of its own, whatever the authlib release makes of a 3xx without a body.
            "event_hooks": {"response": [_refuse_redirect]},
        }
        grant = oauth2.grant.replace("_", " ")
        sent = time.time()  # the lifetime counts from the answer; the request's start errs on the early side
        try:
            if oauth2.grant == "jwt-bearer":
                answer = await self._assertion(login, url, scopes, http)
            else:
                answer = await self._client_grant(login, url, scopes, http)
        except OAuthError as error:
            code = one_line(str(error.error or "error"), 40)
            detail = f" ({one_line(str(error.description), 200)})" if error.description else ""
            raise TokenError(
                f"the token endpoint {host_of(url)} refused the {grant} grant: {code}{detail}",
                _HINTS.get(code, "see the provider's error code reference"),
            ) from None
        except _Redirected as redirect:
            raise TokenError(
                f"the token endpoint {host_of(url)} redirected (HTTP {redirect.status}); a token request never"
                " follows a redirect",
                "name the final URL in `token_url`",
            ) from None
        except httpx.HTTPError as error:
            raise _http_failure(error, url) from None
        except ValueError:  # an answer that is no JSON object (an HTML sign-in page, a proxy's): authlib's words
            raise TokenError(
                f"the token endpoint {host_of(url)} answered without a token (no JSON)",
                "is `token_url` the provider's token endpoint?",
            ) from None
        value = answer.get("access_token") if isinstance(answer, Mapping) else None
        if not isinstance(value, str) or not value:
            raise TokenError(f"the token endpoint {host_of(url)} answered without an access_token")
        _usable(value)
        expires = answer.get("expires_in")
        lifetime = float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) else None
        expires_at = sent + lifetime if lifetime is not None else None
        return Token(value, f"{grant} grant at {host_of(url)}", lifetime, expires_at)

    async def _assertion(self, login: Login, url: str, scopes: list[str], http: dict[str, Any]) -> Any:
        """RFC 7523: a JWT signed with the service account's key, for the mailbox `subject` (default: username)."""
        from authlib.integrations.httpx_client import AsyncAssertionClient

        oauth2 = login.oauth2
        assert oauth2 is not None
        assert oauth2.service_account is not None
        ref = login.ref("service_account")
        key = _service_account(self.env.get(ref.key, ""))
        if not key or not all(isinstance(key.get(k), str) for k in ("client_email", "private_key")):
            raise TokenError(
                f"{ref.short} holds no service-account key (JSON with client_email and private_key)",
                "put the whole JSON key file's content there",
            )
        _private_key(key["private_key"], ref.short)
        kid = key.get("private_key_id")
        header = {"alg": "RS256", **({"kid": kid} if isinstance(kid, str) and kid else {})}
        async with AsyncAssertionClient(
            token_endpoint=url,
            issuer=key["client_email"],
            subject=oauth2.subject or login.username,
            audience=url,
            claims={"scope": " ".join(scopes)},
            key=key["private_key"],
            header=header,
            **http,
        ) as client:
            return await client.refresh_token()

    async def _client_grant(self, login: Login, url: str, scopes: list[str], http: dict[str, Any]) -> Any:
        """The refresh-token grant, or the client-credentials grant; the client secret goes in the form."""
        from authlib.integrations.httpx_client import AsyncOAuth2Client

        oauth2 = login.oauth2
        assert oauth2 is not None
        secret = self.env.get(login.ref("client_secret").key, "") if oauth2.client_secret is not None else None
        async with AsyncOAuth2Client(
            client_id=oauth2.client_id,
            client_secret=secret,
            token_endpoint_auth_method="client_secret_post" if secret is not None else "none",
            scope=" ".join(scopes) or None,
            **http,
        ) as client:
            if oauth2.refresh_token is not None:
                refresh = self.env.get(login.ref("refresh_token").key, "")
                return await client.refresh_token(url, refresh_token=refresh)
            return await client.fetch_token(url, grant_type="client_credentials")


class _Redirected(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _refuse_redirect(response: Any) -> None:
    """httpx response hook: a redirect from a token endpoint stops the request (never followed, never parsed)."""
    if response.is_redirect:
        raise _Redirected(response.status_code)


def _sender(check: Check) -> list[tuple[Login | None, str]]:
    target = check.round_trip
    return [(target.login, "smtp")] if target is not None else []


def _private_key(pem: str, where: str) -> None:
    """Fail clearly on a key that is no PEM private key (authlib's own error would say less, or too much)."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        load_pem_private_key(pem.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        raise TokenError(
            f"the private_key in {where} is no unencrypted PEM private key", "use the JSON key file as Google issued it"
        ) from None


def _service_account(text: str) -> dict[str, Any] | None:
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        return data if isinstance(data, dict) else None
    return None


def _http_failure(error: Exception, url: str) -> TokenError:
    host = host_of(url)
    if tls.is_tls_error(error):
        _, message, hint = tls.explain(error, host, True)
        return TokenError(f"token endpoint {host}: {message}", hint or "--ca-file names a CA to trust as well")
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return TokenError(f"the token endpoint {host} answered HTTP {status} without an OAuth2 error code")
    if isinstance(error, httpx.TimeoutException):
        return TokenError(f"the token endpoint {host} did not answer in time", "--timeout waits longer")
    if isinstance(error, httpx.ConnectError):
        return TokenError(f"cannot connect to the token endpoint {host}", "is `token_url` right and reachable?")
    return TokenError(f"the token request to {host} failed ({type(error).__name__})")


def _usable(token: str) -> None:
    """A token must fit in one SASL line: printable ASCII, no spaces, at most MAX_TOKEN."""
    if len(token) > MAX_TOKEN or not token.isascii() or not token.isprintable() or " " in token:
        raise TokenError("the token is not one printable word (spaces, control characters or too long)")


async def _run_command(command: list[str], timeout: float) -> Token:
    """Run the allowed `command` (no shell, no stdin, stderr discarded) and take its output as the token."""
    from validator.secrets import SecretError, run

    name = command[0]
    try:
        output = await run(command, timeout, MAX_TOKEN + 1)
    except SecretError as error:
        raise TokenError(error.problem.message, error.problem.hint) from None
    text = output.decode("utf-8", "replace").strip()
    if not text:
        raise TokenError(f"`command` {name} printed nothing", "it must print the access token on stdout")
    _usable(text)
    return Token(text, f"command {name}")
