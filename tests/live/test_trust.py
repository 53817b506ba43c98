"""The run's trust settings against a hostile pull request, asserted from the servers' side.

Each test names the attack of the security issue it answers. "Not contacted" and "never sent" are read from
the servers' own records (every connection, every AUTH and message the SMTP servers saw; Dovecot's log), never
from mailcfg's report alone. The CLI runs in-process so the environment (``CI``, ``MAILCFG_ALLOW_*``) is the
test's to set.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from validator.cli import main

from .servers import DOMAIN, MailServers, Secret

INFO, ANNA, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "mailer"))
CANARY = "Canary-Token-7f3a9c2e-never-print"


@dataclass
class Run:
    code: int
    out: str
    err: str
    report: dict[str, Any]

    def live(self, account: str, protocol: str) -> dict[str, Any]:
        found: dict[str, Any]
        (found,) = [item for item in self.report.get("live", [])
                    if item["account"] == account and item["protocol"] == protocol]
        return found

    def rules(self, account: str | None = None) -> list[str]:
        return [item["rule"] for item in self.report.get("findings", [])
                if account is None or item.get("account") == account]

    def explain(self) -> str:
        return f"exit {self.code}\n{self.out}\nstderr: {self.err}"


Verify = Callable[..., Run]


@pytest.fixture
def verify(fresh_mail_servers: MailServers, tmp_path: Path, capsys: pytest.CaptureFixture[str],
           monkeypatch: pytest.MonkeyPatch) -> Verify:
    """``verify(smtp=[...], imap=[...], args=[...], env={...})``: no trust setting unless ``args``/``env`` give one."""
    servers = fresh_mail_servers
    for name in ("CI", "GITHUB_ACTIONS", "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST", "MAILCFG_ALLOW_ENV",
                 "MAILCFG_ALLOW_RECIPIENT", "MAILCFG_ALLOW_INSECURE"):
        monkeypatch.delenv(name, raising=False)

    def run(*, smtp: Sequence[Mapping[str, Any]] = (), imap: Sequence[Mapping[str, Any]] = (),
            args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> Run:
        directory = tmp_path / uuid.uuid4().hex[:8]
        directory.mkdir()
        path, variables = servers.accounts_yaml(smtp=smtp, imap=imap, directory=directory)
        for name, value in {**variables, **(env or {})}.items():
            monkeypatch.setenv(name, value)
        report = directory / "report.json"
        capsys.readouterr()
        code = main(["verify", str(path), "--no-config", "--no-color", "--ca-file", str(servers.ca_file),
                     "--timeout", "10", "--format", "text", "--format", f"json:{report}", *args])
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        document = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
        return Run(code, captured.out, captured.err, document)

    return run


def no_contact(servers: MailServers) -> str:
    """'' when no SMTP server saw a connection, else what they saw."""
    seen = [server.record.summary() for server in servers.smtp.all() if server.record.connections]
    return "; ".join(seen)


def dovecot_sessions(servers: MailServers) -> str:
    time.sleep(0.3)  # Dovecot writes its log lines asynchronously
    return servers.dovecot_log.read_text(encoding="utf-8", errors="replace") if servers.dovecot_log.exists() else ""


# ----------------------------------------------------------------------------------------------- deny by default


def test_a_run_naming_no_host_exits_2_listing_the_hosts_and_flags(fresh_mail_servers: MailServers,
                                                                   verify: Verify) -> None:
    """Attack 1 (and 4): without --allow-host the old default contacted every host; now nothing is contacted."""
    servers = fresh_mail_servers
    before = dovecot_sessions(servers)
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)])
    assert run.code == 2, run.explain()
    host = servers.smtp.starttls.endpoint.host
    assert "It would contact:" in run.err, run.err
    assert f"{host}:{servers.smtp.starttls.endpoint.port} (smtp outgoing)" in run.err, run.err
    assert f"{servers.imap.ssl.host}:{servers.imap.ssl.port} (imap info)" in run.err, run.err
    assert f"--allow-host {host}" in run.err, run.err
    assert "--allow-any-host" in run.err, run.err
    assert "MAILCFG_ALLOW_HOST=" in run.err, run.err
    assert no_contact(servers) == ""
    assert dovecot_sessions(servers) == before


def test_allow_host_from_the_workflow_environment(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    host = servers.smtp.starttls.endpoint.host
    run = verify(smtp=[servers.smtp_entry()], env={"MAILCFG_ALLOW_HOST": f"nothing.invalid, {host}"})
    assert run.code == 0, run.explain()
    assert [a.username for a in servers.smtp.starttls.record.credentials_received] == [MAILER]


# ----------------------------------------------------------------------------------------------- which hosts


def test_an_unlisted_host_is_not_contacted_even_without_credentials(fresh_mail_servers: MailServers,
                                                                     verify: Verify) -> None:
    """Attack 4: `authentication: none` connected anywhere (a port scan from CI, the banner in the report)."""
    servers = fresh_mail_servers
    scanned = servers.smtp.starttls.endpoint.at(servers.hosts.trusted_loopback)
    allowed = servers.smtp.ssl.endpoint.at(servers.hosts.localhost)
    run = verify(smtp=[servers.smtp_entry(scanned, id="scan", username=None, authentication="none"),
                       servers.smtp_entry(allowed, id="ours")],
                 args=["--allow-host", "localhost"])
    assert run.code == 3, run.explain()
    assert servers.smtp.starttls.record.connections == 0, servers.smtp.starttls.record.summary()
    result = run.live("scan", "smtp")
    assert (result["status"], result["stage"]) == ("failed", "policy"), result
    assert "not contacted" in result["message"]
    assert "--allow-host" in run.out
    assert [rule for rule in run.rules("scan") if rule.startswith("MC5")] == ["MC511"]
    assert run.live("ours", "smtp")["status"] == "ok"


@pytest.mark.parametrize(("pattern", "message"), [
    ("127.0.0.*", "127.0.0.0/24"),
    ("*example.test", "'*' only as a whole leftmost label"),
    ("mail.example.*", "'*' only as a whole leftmost label"),
])
def test_glob_patterns_that_would_widen_the_list_are_usage_errors(fresh_mail_servers: MailServers,
                                                                  verify: Verify, pattern: str, message: str) -> None:
    """Attack 5: `127.0.0.*` admitted 127.0.0.evil.invalid, `*example.com` admitted evilexample.com."""
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], args=["--allow-host", pattern])
    assert run.code == 2, run.explain()
    assert message in run.err, run.err
    assert no_contact(servers) == ""


def test_a_cidr_range_never_admits_a_name(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Attack 5: an IP range trusts addresses only: `localhost` (which resolves into it) is still refused."""
    servers = fresh_mail_servers
    by_name = servers.smtp.ssl.endpoint.at(servers.hosts.localhost)
    run = verify(smtp=[servers.smtp_entry(by_name)], args=["--allow-host", "127.0.0.0/8"])
    assert run.code == 3, run.explain()
    assert run.live("outgoing", "smtp")["stage"] == "policy"
    assert servers.smtp.ssl.record.connections == 0, servers.smtp.ssl.record.summary()


def test_wildcard_matches_below_the_domain_only(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """`*.localhost` does not match `localhost` itself (nor `evillocalhost`): the whole-label rule."""
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry(servers.smtp.ssl.endpoint.at(servers.hosts.localhost))],
                 args=["--allow-host", "*.localhost"])
    assert run.code == 3, run.explain()
    assert servers.smtp.ssl.record.connections == 0


# ----------------------------------------------------------------------------------------------- which secrets


def test_a_variable_outside_allow_env_is_never_read_nor_sent(fresh_mail_servers: MailServers,
                                                             verify: Verify) -> None:
    """Attack 1: `{env: AWS_SECRET_ACCESS_KEY}` as a password, aimed at an allowed host the attacker has a
    mailbox on. With --allow-env 'MAILCFG_*' the variable is not read and the server sees nothing."""
    servers = fresh_mail_servers
    entry = servers.smtp_entry(servers.smtp.ssl)
    entry["credentials"]["password"] = Secret("CANARY_CI_TOKEN", CANARY)
    run = verify(smtp=[entry, servers.smtp_entry(id="ours")],
                 args=["--allow-any-host", "--allow-env", "MAILCFG_*"])
    assert run.code == 3, run.explain()
    assert servers.smtp.ssl.record.connections == 0, servers.smtp.ssl.record.summary()
    (finding,) = [item for item in run.report["findings"] if item.get("account") == "outgoing"
                  and item["rule"].startswith("MC5")]
    assert (finding["rule"], finding["pointer"]) == ("MC511", "/smtp/0/credentials/password/env"), finding
    assert "--allow-env" in finding["message"]
    assert "MC306" not in run.rules()
    assert run.live("ours", "smtp")["status"] == "ok"  # a variable inside the list is read and used
    assert CANARY not in run.out + run.err + json.dumps(run.report)


def test_without_allow_env_ci_runs_warn(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], args=["--allow-any-host"], env={"CI": "true"})
    assert run.code == 0, run.explain()
    assert "--allow-env 'MAILCFG_*'" in run.err, run.err
    quiet = verify(smtp=[servers.smtp_entry()], args=["--allow-any-host", "--allow-env", "MAILCFG_*"],
                   env={"CI": "true"})
    assert "--allow-env" not in quiet.err, quiet.err


def test_an_env_file_sets_no_trust(fresh_mail_servers: MailServers, verify: Verify, tmp_path: Path) -> None:
    """Trust settings never come from files a pull request can change: the env file's lines are MC511."""
    servers = fresh_mail_servers
    env_file = tmp_path / "ci.env"
    env_file.write_text("MAILCFG_ALLOW_ANY_HOST=1\nexport MAILCFG_ALLOW_HOST=127.0.0.0/8\n", encoding="utf-8")
    run = verify(smtp=[servers.smtp_entry()], args=["--env-file", str(env_file)])
    assert run.code == 2, run.explain()  # still no trusted host
    assert no_contact(servers) == ""
    named = verify(smtp=[servers.smtp_entry()],
                   args=["--env-file", str(env_file), "--allow-host", servers.smtp.starttls.endpoint.host])
    lines = [item for item in named.report["findings"] if item["rule"] == "MC511"]
    assert [(item["line"], item["column"]) for item in lines] == [(1, 1), (2, 8)], lines
    assert all(item["file"] == str(env_file) for item in lines)


# ----------------------------------------------------------------------------------------------- cleartext


def test_allow_insecure_in_the_yaml_alone_sends_no_cleartext_password(fresh_mail_servers: MailServers,
                                                                      verify: Verify) -> None:
    """Attack 6: `encryption: none` with `allow_insecure: true` sent the password in clear on the YAML's word."""
    servers = fresh_mail_servers
    cleartext = servers.smtp.cleartext
    entry = servers.smtp_entry(cleartext, allow_insecure=True)
    run = verify(smtp=[entry], args=["--allow-any-host"])
    assert run.code == 3, run.explain()
    assert cleartext.record.connections == 0, cleartext.record.summary()
    assert "--allow-insecure" in run.out
    confirmed = verify(smtp=[entry], args=["--allow-any-host", "--allow-insecure", cleartext.endpoint.host])
    assert [a.tls for a in cleartext.record.credentials_received] == [False], confirmed.explain()


# ----------------------------------------------------------------------------------------------- blast radius


def test_a_plan_over_max_checks_contacts_nothing(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Attack 7: 20,000 usernames with one `{env: IMAP_PW}` sprayed a real password over a server."""
    servers = fresh_mail_servers
    before = dovecot_sessions(servers)
    imap = [servers.imap_entry(f"user{number}@{DOMAIN}", id=f"u{number}", password="shared-Password-9")
            for number in range(201)]
    run = verify(smtp=[servers.smtp_entry()], imap=imap, args=["--allow-any-host"])
    assert run.code == 2, run.explain()
    assert "more than --max-checks 200" in run.err, run.err
    assert "--max-checks 202" in run.err, run.err
    assert no_contact(servers) == ""
    assert dovecot_sessions(servers) == before


def test_identical_logins_are_tried_once(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    same = [servers.smtp_entry(servers.smtp.ssl, id=f"copy-{number}") for number in range(3)]
    for entry in same:  # one password variable value, three variable names
        entry["credentials"]["password"] = Secret(f"MAILCFG_TEST_COPY_{entry['id'][-1]}", "Wrong-Password-1")
    run = verify(smtp=same, args=["--allow-any-host"])
    assert run.code == 3, run.explain()
    assert len(servers.smtp.ssl.record.auth_attempts) == 1, servers.smtp.ssl.record.summary()
    statuses = sorted(run.live(entry["id"], "smtp")["status"] for entry in same)
    assert statuses == ["failed", "skipped", "skipped"], run.report["live"]


def test_test_messages_only_to_allowed_recipients(fresh_mail_servers: MailServers, verify: Verify) -> None:
    """Attack 7: `--send-test` to an attacker-chosen `test_recipient` sent mail as the organisation."""
    servers = fresh_mail_servers
    host = servers.smtp.starttls.endpoint.host
    entry = servers.smtp_entry(test_recipient=ANNA)
    refused = verify(smtp=[entry], args=["--allow-host", host, "--send-test"])
    assert refused.code == 3, refused.explain()
    assert "--allow-recipient" in refused.out
    assert servers.smtp.starttls.record.connections == 0
    elsewhere = verify(smtp=[entry], args=["--allow-host", host, "--send-test", "--allow-recipient", "*@other.test"])
    assert elsewhere.code == 3, elsewhere.explain()
    assert servers.smtp.starttls.record.connections == 0, elsewhere.explain()
    sent = verify(smtp=[entry], args=["--allow-host", host, "--send-test", "--allow-recipient", f"*@{DOMAIN}"])
    assert sent.code == 0, sent.explain()
    assert [d.recipient for d in servers.smtp.starttls.record.deliveries] == [ANNA]


def test_round_trip_recipients_too(fresh_mail_servers: MailServers, verify: Verify) -> None:
    servers = fresh_mail_servers
    before = dovecot_sessions(servers)
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO)],
                 args=["--allow-host", "127.0.0.0/8", "--round-trip"])
    assert run.code == 3, run.explain()
    result = run.live("info", "imap")
    assert result["stage"] == "policy", result
    assert "--round-trip" in result["message"], result
    assert re.search(r"imap\(info@", dovecot_sessions(servers)[len(before):]) is None
