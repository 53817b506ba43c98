"""Which combinations of `credentials` keys make sense, worded for the schema stage.

The JSON Schema states them (``oneOf``, ``anyOf``, ``dependentSchemas``, ``if``/``else``; see
``model.OAUTH2_RULES``), but jsonschema's errors for those keywords say neither which key is at fault nor
why. So the schema stage hands every such error here, and the problems are read again from the raw mapping:
each once, at the key that causes it. Raw means unvalidated: any value may have any type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Tenant aliases that resolve per user: an app-only token needs the tenant that granted it.
SHARED_TENANTS = ("common", "organizations", "consumers")
# The keys that get an OAuth2 token; `command` replaces all of them (and `tenant`, `token_url`, `scopes`).
GRANT_KEYS = ("client_secret", "refresh_token", "service_account")
TOKEN_KEYS = ("tenant", "token_url", "client_id", *GRANT_KEYS, "subject", "scopes")
# Every key whose value is a secret reference (`{env: NAME}`), wherever it sits in `credentials`.
SECRET_FIELDS = frozenset({"password", *GRANT_KEYS})
# How each secret key is named in messages.
SECRET_LABELS = {
    "password": "password",
    "client_secret": "client secret",
    "refresh_token": "refresh token",
    "service_account": "service-account key",
}
_PROVIDERS = ("generic", "microsoft", "google")
_GRANTS = "`client_secret` (app-only access), `refresh_token`, `service_account` (Google) or `command`"


def secret_path(key: str) -> tuple[str, ...]:
    """Where a secret key sits in an entry: `credentials.password` or `credentials.oauth2.<key>`."""
    return ("credentials", key) if key == "password" else ("credentials", "oauth2", key)


@dataclass(frozen=True)
class Problem:
    """One broken combination: the key it is located at (relative to `credentials`), rule, message, hint."""

    at: tuple[str, ...]
    rule: str
    message: str
    hint: str


def problems(credentials: Any) -> list[Problem]:
    """Every combination problem of a raw `credentials` mapping (none for anything else)."""
    if not isinstance(credentials, dict):
        return []
    out: list[Problem] = []
    has_password, oauth2 = "password" in credentials, credentials.get("oauth2")
    if not has_password and "oauth2" not in credentials:
        out.append(
            Problem(
                (),
                "MC101",
                "lack a login method: neither `password` nor `oauth2`",
                "add `password: {env: SOME_VARIABLE}`, or an `oauth2` block for a provider that takes tokens",
            )
        )
    elif has_password and "oauth2" in credentials:
        out.append(Problem(("oauth2",), "MC104", "have both `password` and `oauth2`", "keep the one the server uses"))
    if "app_password" in credentials and not has_password:
        out.append(
            Problem(
                ("app_password",),
                "MC104",
                "have `app_password` but no `password`",
                "`app_password: true` says the password is an app password; remove it from an oauth2 login",
            )
        )
    if isinstance(oauth2, dict):
        out.extend(_oauth2(oauth2))
    return out


def _oauth2(oauth2: dict[Any, Any]) -> list[Problem]:
    present = [key for key in TOKEN_KEYS if key in oauth2]
    if "command" in oauth2:
        return [
            Problem(
                ("oauth2", key),
                "MC104",
                f"have `{key}` beside `oauth2: command`, which prints the token itself",
                "remove it, or remove `command` to let mailcfg request the token",
            )
            for key in present
        ]
    grants = [key for key in GRANT_KEYS if key in oauth2]
    if not grants:
        return [Problem(("oauth2",), "MC101", "name no way to get an OAuth2 token", f"add one of {_GRANTS}")]
    out: list[Problem] = []
    service_account = "service_account" in oauth2
    if service_account:
        out.extend(
            Problem(
                ("oauth2", key),
                "MC104",
                f"have `{key}` beside `service_account`: two different grants",
                "keep `service_account` (the JWT bearer grant) or the other, not both",
            )
            for key in ("refresh_token", "client_secret")
            if key in oauth2
        )
    elif "client_id" not in oauth2:
        out.append(
            Problem(("oauth2",), "MC101", "lack `client_id`", "add the application's client id (`client_id: …`)")
        )
    if "subject" in oauth2 and not service_account:
        out.append(
            Problem(
                ("oauth2", "subject"),
                "MC104",
                "have `subject` without `service_account`",
                "`subject` names the mailbox a service account acts for; remove it",
            )
        )
    provider = oauth2.get("provider", "generic")
    if provider not in _PROVIDERS:
        return out  # MC104 names the provider; what it would need is unknown
    if "tenant" in oauth2 and provider != "microsoft":
        out.append(
            Problem(
                ("oauth2", "tenant"),
                "MC104",
                "have `tenant`, which only `provider: microsoft` uses",
                "add `provider: microsoft`, or remove `tenant`",
            )
        )
    if provider not in ("microsoft", "google") and "token_url" not in oauth2 and not service_account:
        out.append(
            Problem(
                ("oauth2",),
                "MC101",
                "lack `token_url` (needed by `provider: generic`)",
                "add `token_url: https://…`, or `provider: microsoft` / `provider: google`",
            )
        )
    if provider == "microsoft" and "tenant" not in oauth2 and "token_url" not in oauth2:
        out.append(
            Problem(
                ("oauth2",),
                "MC101",
                "lack `tenant` (needed by `provider: microsoft`)",
                "add `tenant:` the directory's domain (contoso.onmicrosoft.com) or its id (a GUID)",
            )
        )
    if grants == ["client_secret"] and oauth2.get("tenant") in SHARED_TENANTS:
        out.append(
            Problem(
                ("oauth2", "tenant"),
                "MC104",
                f"use `tenant: {oauth2['tenant']}` for app-only access (client credentials)",
                "an app-only token comes from the directory that granted it: its domain or id, not a shared alias",
            )
        )
    return out
