"""No OAuth2 secret reaches any output of `mailcfg verify`: client secrets, refresh tokens, access tokens, a
service account's key (and its private key), on passing and failing checks, in every report format on stdout and
as a file, stderr and the GitHub job summary. `mailcfg` runs as a subprocess against the real OAuth2 servers.
"""

from __future__ import annotations

import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from monitoring import exit_code_for

from validator.reporters import FORMATS

from .oauth2_servers import OAuth2Servers
from .test_verify_secrets import assert_nothing_leaks, run_mailcfg

ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"
HOST = "127.0.0.2"
CANARY = f"CANARY-oauth-{uuid.uuid4().hex[:12]}"


def _imap(servers: OAuth2Servers, account: str, user: str, oauth2: dict[str, Any], ssl: bool = True) -> dict[str, Any]:
    endpoint = servers.imap.ssl if ssl else servers.imap.starttls
    return {
        "id": account, "scope": "system", "address": user, "host": HOST, "port": endpoint.port,
        "encryption": "ssl" if ssl else "starttls", "outgoing": "out", "sent_folder": "INBOX",
        "credentials": {"username": user, "oauth2": oauth2, "contact": "IT <it@example.test>"},
    }  # fmt: skip


def _script(directory: Path, name: str, token: str) -> Path:
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{token}' >&2\nprintf '%s\\n' '{token}'\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def account_set(servers: OAuth2Servers, directory: Path) -> tuple[Path, dict[str, str], list[str], list[str]]:
    """Passing and failing oauth2 accounts of every flow: (YAML, environment, secrets, extra args)."""
    env: dict[str, str] = {}
    secrets: list[str] = [CANARY]

    def variable(value: str) -> dict[str, str]:
        name = f"MAILCFG_T_{uuid.uuid4().hex[:8].upper()}"
        env[name] = value
        secrets.append(value)
        return {"env": name}

    good = servers.register_client(app_mailbox=ALICE)
    bad = servers.register_client(app_mailbox=BOB)
    delegated = servers.register_client()
    refresh = servers.issue_refresh_token(delegated.client_id, BOB)
    revoked = servers.issue_refresh_token(delegated.client_id, CAROL)
    servers.revoke_token(revoked)
    account = servers.create_service_account([CAROL])
    secrets += [line for line in account.key_json.replace("\\n", "\n").splitlines() if len(line) > 20]
    command_token = servers.issue_access_token(ALICE)
    secrets.append(command_token)
    good_cmd, bad_cmd = _script(directory, "good-token", command_token), _script(directory, "bad-token", CANARY)
    url = servers.token_url
    imap = [
        _imap(servers, "cc", ALICE, {"token_url": url, "client_id": good.client_id,
                                     "client_secret": variable(str(good.client_secret))}),
        _imap(servers, "cc-wrong", BOB, {"token_url": url, "client_id": bad.client_id,
                                         "client_secret": variable(CANARY + "-secret")}, ssl=False),
        _imap(servers, "refresh", BOB, {"token_url": url, "client_id": delegated.client_id,
                                        "client_secret": variable(str(delegated.client_secret)),
                                        "refresh_token": variable(refresh), "mechanism": "oauthbearer"}),
        _imap(servers, "revoked", CAROL, {"token_url": url, "client_id": delegated.client_id,
                                          "client_secret": variable(str(delegated.client_secret)),
                                          "refresh_token": variable(revoked)}),
        _imap(servers, "sa", CAROL, {"provider": "google", "token_url": url,
                                     "service_account": variable(account.key_json)}),
        _imap(servers, "sa-wrong-subject", CAROL, {"provider": "google", "token_url": url, "subject": BOB,
                                                   "service_account": variable(account.key_json)}),
        _imap(servers, "cmd", ALICE, {"command": [str(good_cmd)]}),
        _imap(servers, "cmd-rejected", BOB, {"command": [str(bad_cmd)], "mechanism": "oauthbearer"}),
    ]  # fmt: skip
    smtp = [{"id": "out", "host": HOST, "port": servers.submission.starttls.port, "encryption": "starttls",
             "test_recipient": ALICE}]  # fmt: skip
    path = directory / "accounts.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "smtp": smtp, "imap": imap}, sort_keys=False))
    args = ["--allow-host", "127.0.0.0/8", "--allow-command", str(good_cmd), "--allow-command", str(bad_cmd),
            "--send-test", "--allow-recipient", "*@example.test"]  # fmt: skip
    return path, env, secrets, args


@pytest.mark.parametrize("stdout_format", sorted(FORMATS))
def test_no_oauth2_secret_in_any_output(oauth2_servers: OAuth2Servers, tmp_path: Path, stdout_format: str) -> None:
    servers = oauth2_servers
    path, env, secrets, args = account_set(servers, tmp_path)
    outcome = run_mailcfg(servers, tmp_path, path, env, args, stdout_format)
    # The failing accounts fail; the run went through every stage.
    assert outcome.code == exit_code_for(stdout_format, 3)
    text = "\n".join(outcome.outputs.values())
    for rule in ("MC512", "MC507"):
        assert rule in text
    issued = [*servers.issued_tokens("access"), *servers.issued_tokens("refresh")]
    assert_nothing_leaks(outcome, [*secrets, *issued], [ALICE, BOB, CAROL])
