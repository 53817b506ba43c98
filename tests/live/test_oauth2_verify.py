"""`mailcfg verify` with OAuth2 logins against real servers (tests/live/oauth2_servers.py): a Dovecot 2.3 whose passdb
is `oauth2` (token introspection), its submission service, and a local HTTPS token endpoint implementing the
refresh-token, client-credentials and JWT bearer grants. The chain is real: YAML -> token request -> SASL ->
Dovecot -> introspection.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from validator.cli import main

from .oauth2_servers import OAuth2Servers

ALICE, BOB, CAROL = "alice@example.test", "bob@example.test", "carol@example.test"
HOST = "127.0.0.2"


@dataclass
class Run:
    code: int
    text: str
    stderr: str
    report: dict[str, Any]

    def live(self, account: str, protocol: str) -> dict[str, Any]:
        found = [i for i in self.report["live"] if i["account"] == account and i["protocol"] == protocol]
        assert len(found) == 1, self.report["live"]
        item: dict[str, Any] = found[0]
        return item

    def findings(self, rule: str) -> list[dict[str, Any]]:
        return [f for f in self.report["findings"] if f["rule"] == rule]

    def explain(self) -> str:
        return f"exit {self.code}\n{self.text}\nstderr: {self.stderr}"


Verify = Callable[..., Run]


def imap_entry(
    servers: OAuth2Servers, account: str, user: str, oauth2: Mapping[str, Any], encryption: str = "ssl"
) -> dict[str, Any]:
    endpoint = servers.imap.ssl if encryption == "ssl" else servers.imap.starttls
    return {
        "id": account,
        "scope": "system",
        "address": user,
        "host": HOST,
        "port": endpoint.port,
        "encryption": encryption,
        "outgoing": "out",
        "credentials": {"username": user, "oauth2": dict(oauth2), "contact": "IT <it@example.test>"},
        "sent_folder": "INBOX",
    }


def smtp_entry(servers: OAuth2Servers, encryption: str = "ssl", **extra: Any) -> dict[str, Any]:
    endpoint = servers.submission.ssl if encryption == "ssl" else servers.submission.starttls
    return {"id": "out", "host": HOST, "port": endpoint.port, "encryption": encryption, **extra}


@pytest.fixture
def verify(
    oauth2_servers: OAuth2Servers, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Verify:
    """``verify(smtp, imap, env, args)``: writes the accounts, sets ``env``, runs `mailcfg verify` in-process."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)

    def run(
        smtp: Sequence[Mapping[str, Any]],
        imap: Sequence[Mapping[str, Any]],
        env: Mapping[str, str] | None = None,
        args: Sequence[str] = (),
        trust: Sequence[str] | None = None,
    ) -> Run:
        # Every imap account names an outgoing server: one that asks for no login, unless the test brings its own.
        smtp = smtp or [smtp_entry(oauth2_servers, authentication="none")]
        directory = tmp_path / uuid.uuid4().hex[:8]
        directory.mkdir()
        path = directory / "accounts.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "smtp": list(smtp), "imap": list(imap)}, sort_keys=False))
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        report = directory / "report.json"
        capsys.readouterr()
        allowed = ["--allow-host", HOST, "--allow-host", "127.0.0.1"] if trust is None else list(trust)
        code = main(
            ["verify", str(path), "--no-config", "--no-color", "--ca-file", str(oauth2_servers.ca_file),
             "--timeout", "10", "--format", "text", "--format", f"json:{report}", *allowed, *args]
        )  # fmt: skip
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        return Run(code, captured.out, captured.err, json.loads(report.read_text(encoding="utf-8")))

    return run


def secret_env(prefix: str, value: str) -> tuple[dict[str, str], str]:
    name = f"MAILCFG_{prefix}_{uuid.uuid4().hex[:6].upper()}"
    return {"env": name}, value


def client_credentials(servers: OAuth2Servers, mailbox: str, secret: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:  # noqa: E501
    client = servers.register_client(app_mailbox=mailbox)
    reference, value = secret_env("SECRET", secret if secret is not None else str(client.client_secret))
    oauth2 = {"token_url": servers.token_url, "client_id": client.client_id, "client_secret": reference}
    return oauth2, {reference["env"]: value}


def refresh(servers: OAuth2Servers, mailbox: str) -> tuple[dict[str, Any], dict[str, str], str]:
    client = servers.register_client()
    token = servers.issue_refresh_token(client.client_id, mailbox)
    secret_ref, secret = secret_env("SECRET", str(client.client_secret))
    refresh_ref, _ = secret_env("REFRESH", token)
    oauth2 = {
        "token_url": servers.token_url,
        "client_id": client.client_id,
        "client_secret": secret_ref,
        "refresh_token": refresh_ref,
    }
    return oauth2, {secret_ref["env"]: secret, refresh_ref["env"]: token}, token


def service_account(servers: OAuth2Servers, mailbox: str) -> tuple[dict[str, Any], dict[str, str]]:
    account = servers.create_service_account([mailbox])
    reference, value = secret_env("SA_KEY", account.key_json)
    return {"provider": "google", "token_url": servers.token_url, "service_account": reference}, {
        reference["env"]: value
    }


def token_script(tmp_path: Path, token: str, exit_code: int = 0, name: str = "print-token") -> Path:
    """A program that prints ``token`` (and a secret on stderr, which must never be shown)."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    script = directory / name
    script.write_text(
        f"#!/bin/sh\necho 'STDERR-SECRET-{token}' >&2\nprintf '%s\\n' '{token}'\nexit {exit_code}\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def nowhere(run: Run, *secrets: str) -> None:
    """No secret in the text report, the JSON report or stderr."""
    for secret in secrets:
        assert secret not in run.text
        assert secret not in run.stderr
        assert secret not in json.dumps(run.report)


# ------------------------------------------------------------------------------------------ every flow works


@pytest.mark.parametrize("mechanism", ["xoauth2", "oauthbearer"])
@pytest.mark.parametrize("encryption", ["ssl", "starttls"])
def test_every_flow_logs_in_to_imap_and_submission(
    oauth2_servers: OAuth2Servers, verify: Verify, tmp_path: Path, mechanism: str, encryption: str
) -> None:
    servers = oauth2_servers
    flows: dict[str, tuple[dict[str, Any], dict[str, str]]] = {}
    flows["cc"] = client_credentials(servers, ALICE)
    oauth2, env, _ = refresh(servers, BOB)
    flows["refresh"] = (oauth2, env)
    flows["sa"] = service_account(servers, CAROL)
    script = token_script(tmp_path, servers.issue_access_token(ALICE))
    flows["cmd"] = ({"command": [str(script)]}, {})
    imap = []
    env_all: dict[str, str] = {}
    for (account, (oauth2, env)), user in zip(flows.items(), (ALICE, BOB, CAROL, ALICE), strict=True):
        imap.append(imap_entry(servers, account, user, {**oauth2, "mechanism": mechanism}, encryption))
        env_all.update(env)
    servers.reset_records()
    lines = len(Path(servers.dovecot_log).read_text().splitlines())
    run = verify([smtp_entry(servers, encryption)], imap, env_all, args=["--allow-command", str(script)])
    assert run.code == 0, run.explain()
    for account in flows:
        for protocol in ("imap", "smtp"):
            result = run.live(account, protocol) if protocol == "imap" else None
            if result is not None:
                assert result["status"] == "ok", run.explain()
    smtp_results = [i for i in run.report["live"] if i["protocol"] == "smtp"]
    assert len(smtp_results) == 4
    assert all(i["status"] == "ok" for i in smtp_results), run.explain()
    # Dovecot logs each login with its SASL method: 4 imap and 4 submission logins, all with the one asked for.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = Path(servers.dovecot_log).read_text().splitlines()[lines:]
        logins = [line for line in log if "Login: user=<" in line]
        if len(logins) >= 8:
            break
        time.sleep(0.1)
    assert len(logins) == 8, logins
    assert all(f"method={mechanism.upper()}" in line for line in logins), logins
    # One token request per credentials, shared by the imap and smtp checks: cc, refresh, sa (the command: none).
    grants = sorted(r.grant_type or "" for r in servers.token_requests())
    assert grants == sorted(["client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"])
    nowhere(run, *env_all.values())


def test_send_test_with_an_oauth2_login_delivers(oauth2_servers: OAuth2Servers, verify: Verify) -> None:
    servers = oauth2_servers
    oauth2, env = client_credentials(servers, ALICE)
    smtp = smtp_entry(servers, "starttls", credentials={"username": ALICE, "oauth2": oauth2, "contact": "IT"},
                      test_recipient=BOB)  # fmt: skip
    servers.reset_records()
    run = verify([smtp], [], env, args=["--send-test", "--allow-recipient", BOB])
    assert run.code == 0, run.explain()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not servers.relayed_messages():
        time.sleep(0.1)
    [message] = servers.relayed_messages()
    assert BOB in message.recipients


# -------------------------------------------------------------------------------------------------- failures


def test_wrong_client_secret_is_mc512_and_other_accounts_are_unaffected(
    oauth2_servers: OAuth2Servers, verify: Verify
) -> None:
    servers = oauth2_servers
    bad, bad_env = client_credentials(servers, ALICE, secret="not-the-secret-0123456789")
    good, good_env = client_credentials(servers, BOB)
    imap = [imap_entry(servers, "bad", ALICE, bad), imap_entry(servers, "good", BOB, good)]
    run = verify([smtp_entry(servers)], imap, {**bad_env, **good_env})
    assert run.code == 3, run.explain()
    [finding, *_] = [f for f in run.findings(rule="MC512") if f.get("account") == "bad"]
    assert "invalid_client" in finding["message"]
    assert "secret" in (finding.get("hint") or "")
    assert (finding.get("hint") or "").endswith("; who can renew it: IT <it@example.test>")  # its `contact`
    assert run.live("good", "imap")["status"] == "ok"
    assert run.live("bad", "imap")["stage"] == "token"
    nowhere(run, *bad_env.values(), *good_env.values())


def test_revoked_refresh_token_is_mc512_invalid_grant(oauth2_servers: OAuth2Servers, verify: Verify) -> None:
    servers = oauth2_servers
    oauth2, env, token = refresh(servers, BOB)
    servers.revoke_token(token)
    run = verify([smtp_entry(servers)], [imap_entry(servers, "bob", BOB, oauth2)], env)
    assert run.code == 3, run.explain()
    findings = run.findings(rule="MC512")
    assert findings
    assert all("invalid_grant" in f["message"] for f in findings)
    assert "consent again" in (findings[0].get("hint") or "")
    # One request for the imap and the smtp check together.
    assert len([r for r in servers.token_requests() if r.grant_type == "refresh_token" and r.client_id == oauth2["client_id"]]) == 1  # noqa: E501
    nowhere(run, *env.values())


def test_a_token_the_server_rejects_is_mc507(oauth2_servers: OAuth2Servers, verify: Verify, tmp_path: Path) -> None:
    servers = oauth2_servers
    script = token_script(tmp_path, "not-a-token-the-server-knows-" + uuid.uuid4().hex, name="bad-token")
    run = verify([smtp_entry(servers)], [imap_entry(servers, "alice", ALICE, {"command": [str(script)]})],
                 args=["--allow-command", str(script)])  # fmt: skip
    assert run.code == 3, run.explain()
    rejected = list(run.findings(rule="MC507"))
    assert {f["account"] for f in rejected} == {"alice", "out"}
    assert any("IMAP.AccessAsUser.All" in (f.get("hint") or "") for f in rejected)
    # Both checks log in with alice's credentials (the smtp entry has none of its own): her `contact` is named.
    assert all((f.get("hint") or "").endswith("; who can renew it: IT <it@example.test>") for f in rejected), rejected
    assert "STDERR-SECRET" not in run.text + run.stderr + json.dumps(run.report)


@pytest.mark.parametrize("which", ["silent", "unreachable"])
def test_silent_or_unreachable_token_endpoint_is_mc512_within_the_timeout(
    oauth2_servers: OAuth2Servers, verify: Verify, which: str
) -> None:
    servers = oauth2_servers
    oauth2, env = client_credentials(servers, ALICE)
    oauth2["token_url"] = servers.silent_token_url if which == "silent" else servers.unreachable_token_url
    started = time.monotonic()
    run = verify([], [imap_entry(servers, "alice", ALICE, oauth2)], env, args=["--timeout", "2"])
    assert time.monotonic() - started < 30  # a hang guard, not a measurement
    assert run.code == 3, run.explain()
    findings = run.findings(rule="MC512")
    assert findings, run.explain()
    expected = ("did not answer", "no answer within") if which == "silent" else ("cannot connect",)
    assert all(any(text in f["message"] for text in expected) for f in findings), findings


def test_untrusted_token_endpoint_certificate_and_ca_file(oauth2_servers: OAuth2Servers, verify: Verify) -> None:
    servers = oauth2_servers
    oauth2, env = client_credentials(servers, ALICE)
    oauth2["token_url"] = servers.untrusted_token_url
    trust = ["--allow-host", HOST, "--allow-host", "127.0.0.6"]
    run = verify([], [imap_entry(servers, "alice", ALICE, oauth2)], env, trust=trust)
    assert run.code == 3, run.explain()
    [finding] = run.findings(rule="MC512")
    assert "certificate" in finding["message"]
    # The same endpoint with its CA: a bundle of both CAs given to --ca-file.
    bundle = Path(servers.root) / f"both-{uuid.uuid4().hex[:6]}.pem"
    bundle.write_text(Path(servers.ca_file).read_text() + Path(servers.untrusted_ca_file).read_text())
    path = Path(str(run.report.get("files", [""])[0])) if run.report.get("files") else None
    del path
    run = verify([], [imap_entry(servers, "alice", ALICE, oauth2)], env, trust=[*trust, "--ca-file", str(bundle)])
    assert run.code == 0, run.explain()


def test_token_endpoint_outside_allow_host_is_mc511_and_not_contacted(
    oauth2_servers: OAuth2Servers, verify: Verify
) -> None:
    servers = oauth2_servers
    oauth2, env = client_credentials(servers, ALICE)
    servers.reset_records()
    run = verify([], [imap_entry(servers, "alice", ALICE, oauth2)], env, trust=["--allow-host", HOST])
    assert run.code == 3, run.explain()
    [finding] = run.findings(rule="MC511")
    assert "token endpoint 127.0.0.1" in finding["message"]
    assert "--allow-host 127.0.0.1" in finding["hint"]
    assert servers.token_requests() == ()
    nowhere(run, *env.values())


def test_command_of_a_program_not_allowed_never_runs(
    oauth2_servers: OAuth2Servers, verify: Verify, tmp_path: Path
) -> None:
    servers = oauth2_servers
    marker = tmp_path / "ran"
    script = tmp_path / "evil"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho token\n")
    script.chmod(0o755)
    imap = [imap_entry(servers, "alice", ALICE, {"command": [str(script)]})]
    run = verify([], imap, args=["--allow-command", "oama"])
    assert run.code == 3, run.explain()
    [finding] = run.findings(rule="MC511")
    assert f"--allow-command {script}" in finding["hint"]
    assert finding["pointer"].endswith("/credentials/oauth2/command")
    assert not marker.exists()


def test_command_failures_are_mc512_and_stderr_is_never_shown(
    oauth2_servers: OAuth2Servers, verify: Verify, tmp_path: Path
) -> None:
    servers = oauth2_servers
    failing = token_script(tmp_path, "some-token-value-0123456789", exit_code=4, name="failing")
    empty = tmp_path / "bin" / "empty"
    empty.write_text("#!/bin/sh\necho 'STDERR-SECRET-empty' >&2\n")
    empty.chmod(0o755)
    run = verify(
        [],
        [imap_entry(servers, "failing", ALICE, {"command": [str(failing)]}),
         imap_entry(servers, "empty", BOB, {"command": [str(empty)]})],
        args=["--allow-command", str(failing), "--allow-command", str(empty)],
    )  # fmt: skip
    assert run.code == 3, run.explain()
    messages = {f["account"]: f["message"] for f in run.findings(rule="MC512")}
    assert "exited with status 4" in messages["failing"]
    assert "printed nothing" in messages["empty"]
    assert "STDERR-SECRET" not in run.text + run.stderr + json.dumps(run.report)
    nowhere(run, "some-token-value-0123456789")


def test_an_allowed_program_name_is_looked_up_on_path(
    oauth2_servers: OAuth2Servers, verify: Verify, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = oauth2_servers
    script = token_script(tmp_path, servers.issue_access_token(ALICE), name="token-helper")
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    run = verify([], [imap_entry(servers, "alice", ALICE, {"command": ["token-helper", "--for", ALICE]})],
                 args=["--allow-command", "token-helper"])  # fmt: skip
    assert run.code == 0, run.explain()


# ------------------------------------------------------------------------------------- endpoints and scopes


def test_one_request_with_the_union_of_the_scopes_microsoft_defaults(oauth2_servers: OAuth2Servers, verify: Verify) -> None:  # noqa: E501
    # provider: microsoft fills the scopes; token_url (here the local endpoint) wins over Microsoft's URL.
    servers = oauth2_servers
    oauth2, env, _ = refresh(servers, BOB)
    oauth2 = {**oauth2, "provider": "microsoft"}
    servers.reset_records()
    run = verify([smtp_entry(servers)], [imap_entry(servers, "bob", BOB, oauth2)], env)
    assert run.code == 0, run.explain()
    [request] = servers.token_requests()
    assert set(request.scopes) == {
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
        "offline_access",
    }


def test_service_account_token_uri_and_provider_default_urls(oauth2_servers: OAuth2Servers, verify: Verify) -> None:
    servers = oauth2_servers
    oauth2, env = service_account(servers, CAROL)
    # Without token_url a generic service account uses its key's token_uri (here the local endpoint) ...
    keyed = {key: value for key, value in oauth2.items() if key not in ("token_url", "provider")}
    keyed["scopes"] = ["https://mail.google.com/"]  # generic: no default scopes
    run = verify([], [imap_entry(servers, "keyed", CAROL, keyed)], env)
    assert run.code == 0, run.explain()
    # ... while provider: google means Google's endpoint, which this run does not trust: MC511, nothing sent.
    servers.reset_records()
    google = {key: value for key, value in oauth2.items() if key != "token_url"}
    run = verify([], [imap_entry(servers, "google", CAROL, google)], env)
    assert run.code == 3, run.explain()
    [finding] = run.findings(rule="MC511")
    assert "token endpoint oauth2.googleapis.com" in finding["message"]
    assert finding["pointer"].endswith("/credentials/oauth2/provider")
    assert servers.token_requests() == ()


# ------------------------------------------------------------------- a token endpoint that misbehaves on purpose
# A real token endpoint does not answer garbage on demand: this one does (the brief allows a fake server for that).

HOSTILE_SECRET = "hostile-client-secret-0123456789"
HOSTILE_ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "html": (500, "text/html", b"<html><body>Internal error</body></html>"),
    "html-200": (200, "text/html", b"<html><body>Sign in</body></html>"),
    "escapes": (400, "application/json", json.dumps({
        "error": "invalid_client\x1b[31m",
        "error_description": f"bad secret {HOSTILE_SECRET}\n\x1b]0;pwned\x07 line two",
    }).encode()),
    "no-token": (200, "application/json", b'{"token_type": "Bearer", "expires_in": 3600}'),
    "bad-token": (200, "application/json", b'{"access_token": "two words\\ninjected", "token_type": "Bearer"}'),
    "redirect": (302, "text/plain", b""),
}  # fmt: skip


@contextlib.contextmanager
def hostile_endpoint(servers: OAuth2Servers, kind: str) -> Iterator[str]:
    status, content_type, body = HOSTILE_ANSWERS[kind]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            if status == 302:
                self.send_header("Location", "https://attacker.example/collect")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = servers.certificates.good.server_context().wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/token"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("kind", sorted(HOSTILE_ANSWERS))
def test_a_misbehaving_token_endpoint_is_mc512_without_echoing_it(
    oauth2_servers: OAuth2Servers, verify: Verify, kind: str
) -> None:
    servers = oauth2_servers
    with hostile_endpoint(servers, kind) as url:
        oauth2 = {"token_url": url, "client_id": "app", "client_secret": {"env": "MAILCFG_HOSTILE_SECRET"}}
        run = verify([], [imap_entry(servers, "alice", ALICE, oauth2)], {"MAILCFG_HOSTILE_SECRET": HOSTILE_SECRET})
    assert run.code == 3, run.explain()
    [finding] = run.findings(rule="MC512")
    everything = run.text + run.stderr + json.dumps(run.report)
    assert HOSTILE_SECRET not in everything
    assert "\x1b" not in everything
    assert "\\u001b" not in json.dumps(run.report)
    assert "injected" not in everything
    assert "attacker.example" not in everything
    expected = {"html": "answered HTTP 500", "html-200": "no JSON", "escapes": "invalid_client",
                "no-token": "without an access_token", "bad-token": "not one printable word",
                "redirect": "redirected (HTTP 302)"}  # fmt: skip
    assert expected[kind] in finding["message"], finding
