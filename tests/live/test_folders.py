"""`mailcfg folders` against the live-test Dovecot (tests/live/servers.py) and fake servers (tests/live/hostile.py).

Every user there has INBOX, Drafts (\\Drafts), Trash (\\Trash) and "Envoyés" (sent over the wire as modified
UTF-7, ``Envoy&AOk-s``); the \\Sent folder is "Sent", except for ben, whose \\Sent folder is "Gesendete Elemente"
and who has no "Sent". The CLI runs in-process; every run asserts that no password of the set appears on stdout or
stderr, and the trust tests read "not contacted" from a fake server's own record of its connections.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from imapclient import imap_utf7

from validator.cli import main

from . import hostile
from .oauth2_servers import OAuth2Servers
from .servers import DOMAIN, MailServers, Secret

INFO, ANNA, BEN = (f"{name}@{DOMAIN}" for name in ("info", "anna", "ben"))
REMOTE = "127.0.0.2"  # Dovecot's address in these tests (hosts.remote); the fake servers listen at 127.0.0.1


@dataclass
class Run:
    code: int
    out: str
    err: str
    secrets: list[str] = field(default_factory=list)

    @property
    def report(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.out)
        return document

    def account(self, account_id: str) -> dict[str, Any]:
        (found,) = [item for item in self.report["accounts"] if item["id"] == account_id]
        assert isinstance(found, dict)
        return found

    def folders(self, account_id: str) -> dict[str, dict[str, Any]]:
        return {folder["name"]: folder for folder in self.account(account_id)["folders"]}

    def block(self, account_id: str) -> list[str]:
        """The text report's lines for one account: its head line and the indented lines below it."""
        lines = self.out.splitlines()
        heads = [i for i, line in enumerate(lines) if re.match(rf"^[✓!✗-] imap {re.escape(account_id)}  ", line)]
        assert len(heads) == 1, self.explain()
        end = heads[0] + 1
        while end < len(lines) and lines[end].startswith("    "):
            end += 1
        return lines[heads[0] : end]

    def explain(self) -> str:
        return f"exit {self.code}\n{self.out}\nstderr: {self.err}"


Folders = Callable[..., Run]


@pytest.fixture
def folders(fresh_mail_servers: MailServers, tmp_path: Path, capsys: pytest.CaptureFixture[str],
            monkeypatch: pytest.MonkeyPatch) -> Folders:
    """``folders(imap=[...], args=[...], env={...}, trust=[...])`` writes the accounts (with the usual smtp entry),
    sets their password variables and runs `mailcfg folders` in-process. ``trust`` replaces the default
    ``--allow-host 127.0.0.2``. No password of the set may appear in any output."""
    servers = fresh_mail_servers
    for name in ("CI", "GITHUB_ACTIONS", "NO_COLOR", "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST",
                 "MAILCFG_ALLOW_ENV", "MAILCFG_ALLOW_INSECURE", "MAILCFG_ALLOW_COMMAND"):
        monkeypatch.delenv(name, raising=False)

    def run(*, imap: Sequence[Mapping[str, Any]], args: Sequence[str] = (), env: Mapping[str, str] | None = None,
            trust: Sequence[str] | None = None, smtp: Sequence[Mapping[str, Any]] | None = None) -> Run:
        directory = tmp_path / uuid.uuid4().hex[:8]
        directory.mkdir()
        entries = [servers.smtp_entry()] if smtp is None else smtp
        path, variables = servers.accounts_yaml(smtp=entries, imap=imap, directory=directory)
        values = {**variables, **(env or {})}
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        allowed = ["--allow-host", REMOTE] if trust is None else list(trust)
        capsys.readouterr()
        code = main(["folders", str(path), "--no-config", "--no-color", "--ca-file", str(servers.ca_file),
                     "--timeout", "10", *allowed, *args])
        captured = capsys.readouterr()
        result = Run(code, captured.out, captured.err, [value for value in variables.values() if value])
        assert "internal error" not in captured.err, result.explain()
        for secret in result.secrets:  # the canary of every run: no password, in any output
            assert secret not in captured.out, result.explain()
            assert secret not in captured.err, result.explain()
        return result

    return run


@pytest.fixture
def imap_fake(fresh_mail_servers: MailServers) -> Iterator[Callable[..., hostile.FakeServer]]:
    """Fake IMAP servers (STARTTLS, any login accepted) at 127.0.0.1, stopped after the test."""
    started: list[hostile.FakeServer] = []

    def make(mailbox: hostile.ImapMailbox | None = None, name: str = "imap-fake") -> hostile.FakeServer:
        script = mailbox or hostile.ImapMailbox(context=fresh_mail_servers.certificates.good.server_context())
        server = hostile.FakeServer(name, script, encryption="starttls")
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# ----------------------------------------------------------------------------------------------- the listing


def test_text_lists_sent_with_its_flag_and_envoyes_decoded(fresh_mail_servers: MailServers, folders: Folders) -> None:
    run = folders(imap=[fresh_mail_servers.imap_entry(INFO)])
    assert run.code == 0, run.explain()
    block = run.block("info")
    assert block[0].startswith(f"✓ imap info  {REMOTE}:{fresh_mail_servers.imap.ssl.port}  5 folders"), block
    rows = {line.split()[0]: line.split()[1:] for line in block[1:-1]}
    assert rows == {
        "INBOX": [],
        "Drafts": ["\\Drafts"],
        "Envoyés": [],
        "Sent": ["\\Sent", "<-", "sent_folder"],
        "Trash": ["\\Trash"],
    }, block
    assert block[-1] == "    sent_folder 'Sent' is the folder the server flags \\Sent", block
    assert "Envoy&AOk-s" not in run.out  # the wire form, decoded


def test_json_lists_sent_with_its_flag_and_envoyes_decoded(fresh_mail_servers: MailServers, folders: Folders) -> None:
    run = folders(imap=[fresh_mail_servers.imap_entry(INFO)], args=["--format", "json"])
    assert run.code == 0, run.explain()
    account = run.account("info")
    assert (account["host"], account["port"], account["status"]) == (REMOTE, fresh_mail_servers.imap.ssl.port, "ok")
    assert (account["sent_folder"], account["server_sent"], account["error"]) == ("Sent", ["Sent"], None)
    listed = run.folders("info")
    assert list(listed) == ["INBOX", "Drafts", "Envoyés", "Sent", "Trash"]
    assert listed["Sent"] == {"name": "Sent", "flags": ["\\HasNoChildren", "\\Sent"], "special_use": "\\Sent",
                              "sent_folder": True}
    assert listed["Envoyés"] == {"name": "Envoyés", "flags": ["\\HasNoChildren"], "special_use": None,
                                 "sent_folder": False}
    assert [name for name, folder in listed.items() if folder["sent_folder"]] == ["Sent"]
    assert (listed["Drafts"]["special_use"], listed["Trash"]["special_use"]) == ("\\Drafts", "\\Trash")
    assert "Envoy&AOk-s" not in run.out
    assert run.report["summary"]["errors"] == 0


def test_a_missing_sent_folder_names_the_folder_the_server_flags(fresh_mail_servers: MailServers,
                                                                  folders: Folders) -> None:
    """ben's \\Sent folder is "Gesendete Elemente"; his account keeps the default `sent_folder: Sent`."""
    servers = fresh_mail_servers
    text = folders(imap=[servers.imap_entry(BEN)])
    assert text.code == 0, text.explain()
    block = text.block("ben")
    assert any(line.split() == ["Gesendete", "Elemente", "\\Sent"] for line in block), block
    assert not any("<- sent_folder" in line for line in block), block
    assert block[-1] == ("    sent_folder 'Sent' does not exist here; the server flags 'Gesendete Elemente' \\Sent:"
                         " `sent_folder: Gesendete Elemente`"), block
    data = folders(imap=[servers.imap_entry(BEN)], args=["--format", "json"])
    account = data.account("ben")
    assert (account["sent_folder"], account["server_sent"]) == ("Sent", ["Gesendete Elemente"])
    assert "Sent" not in data.folders("ben")
    assert not any(folder["sent_folder"] for folder in account["folders"])


def test_a_configured_sent_folder_other_than_the_flagged_one_is_marked_and_named(
        fresh_mail_servers: MailServers, folders: Folders) -> None:
    """The application's "Gesendet" choice: `sent_folder: Envoyés` is marked, and the text says the server's
    \\Sent folder is another one."""
    entry = fresh_mail_servers.imap_entry(ANNA, sent_folder="Envoyés")
    text = folders(imap=[entry])
    assert text.code == 0, text.explain()
    block = text.block("anna")
    assert [line.split() for line in block if "<- sent_folder" in line] == [["Envoyés", "<-", "sent_folder"]], block
    assert block[-1] == "    sent_folder 'Envoyés' differs from the folder the server flags \\Sent: 'Sent'", block
    data = folders(imap=[entry], args=["--format", "json"])
    listed = data.folders("anna")
    assert [name for name, folder in listed.items() if folder["sent_folder"]] == ["Envoyés"]
    assert data.account("anna")["server_sent"] == ["Sent"]


def test_only_lists_the_named_account_and_contacts_no_other(fresh_mail_servers: MailServers, folders: Folders,
                                                            imap_fake: Callable[..., hostile.FakeServer]) -> None:
    servers = fresh_mail_servers
    other = imap_fake()
    imap = [servers.imap_entry(INFO), servers.imap_entry(BEN), servers.imap_entry(ANNA, other.endpoint)]
    run = folders(imap=imap, args=["--only", "ben", "--format", "json"], trust=["--allow-any-host"])
    assert run.code == 0, run.explain()
    assert [account["id"] for account in run.report["accounts"]] == ["ben"]
    assert other.record.connections == [], other.record.summary()


@pytest.mark.parametrize(("only", "message"), [
    ("outgoing", "--only 'outgoing' is an smtp entry; folders lists the folders of imap accounts"),
    ("bn", "--only 'bn': no imap account has this id; did you mean 'ben'?"),
])
def test_only_must_name_an_imap_account(fresh_mail_servers: MailServers, folders: Folders,
                                        imap_fake: Callable[..., hostile.FakeServer], only: str, message: str) -> None:
    servers = fresh_mail_servers
    fake = imap_fake()
    run = folders(imap=[servers.imap_entry(BEN, fake.endpoint)], args=["--only", only], trust=["--allow-any-host"])
    assert run.code == 2, run.explain()
    assert message in run.err, run.err
    assert fake.record.connections == [], fake.record.summary()


def test_one_login_shared_by_two_accounts_is_made_once(fresh_mail_servers: MailServers, folders: Folders,
                                                       imap_fake: Callable[..., hostile.FakeServer]) -> None:
    """Identical logins are tried once (as in verify); the second account shows the same folders with its own
    `sent_folder` marked."""
    servers = fresh_mail_servers
    fake = imap_fake()
    first = servers.imap_entry(INFO, fake.endpoint, password="Shared-Secret-77")
    second = servers.imap_entry(INFO, fake.endpoint, id="info2", password="Shared-Secret-77", sent_folder="INBOX")
    second["credentials"]["password"] = first["credentials"]["password"]
    run = folders(imap=[first, second], args=["--format", "json"], trust=["--allow-host", "127.0.0.1"])
    assert run.code == 0, run.explain()
    assert len(fake.record.connections) == 1, fake.record.summary()
    assert fake.record.auth_commands() == ["AUTHENTICATE PLAIN"]
    shared = run.account("info2")
    assert (shared["listed_by"], shared["status"]) == ("info", "skipped")
    assert [f["name"] for f in shared["folders"] if f["sent_folder"]] == ["INBOX"]
    assert [f["name"] for f in run.account("info")["folders"] if f["sent_folder"]] == ["Sent"]


def test_an_oauth2_login_gets_its_token_through_the_token_stage(
        oauth2_servers: OAuth2Servers, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A client-credentials login: one token request, the folders of the mailbox, and no secret in the output."""
    servers = oauth2_servers
    servers.reset_records()
    client = servers.register_client(app_mailbox="alice@example.test")
    secret = str(client.client_secret)
    imap = {
        "id": "alice", "scope": "system", "address": "alice@example.test", "host": REMOTE,
        "port": servers.imap.ssl.port, "encryption": "ssl", "outgoing": "out",
        "credentials": {"username": "alice@example.test", "contact": "IT",
                        "oauth2": {"token_url": servers.token_url, "client_id": client.client_id,
                                   "client_secret": {"env": "MAILCFG_FOLDERS_SECRET"}}},
    }
    smtp = {"id": "out", "host": REMOTE, "port": servers.submission.ssl.port, "encryption": "ssl",
            "authentication": "none"}
    path = tmp_path / "accounts.yaml"
    path.write_text(json.dumps({"version": 1, "smtp": [smtp], "imap": [imap]}), encoding="utf-8")
    monkeypatch.setenv("MAILCFG_FOLDERS_SECRET", secret)
    capsys.readouterr()
    code = main(["folders", str(path), "--no-config", "--ca-file", str(servers.ca_file), "--timeout", "10",
                 "--allow-host", REMOTE, "--allow-host", "127.0.0.1", "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured
    (account,) = json.loads(captured.out)["accounts"]
    assert account["status"] == "ok", account
    assert "INBOX" in [folder["name"] for folder in account["folders"]]
    assert [request.grant_type for request in servers.token_requests()] == ["client_credentials"]
    assert secret not in captured.out + captured.err


# ----------------------------------------------------------------------------------------------- failures


def test_a_rejected_login_is_mc507_exit_3_and_the_others_are_listed(fresh_mail_servers: MailServers,
                                                                    folders: Folders) -> None:
    servers = fresh_mail_servers
    wrong = "Wrong-Canary-Password-3f9a1c"
    imap = [servers.imap_entry(INFO), servers.imap_entry(BEN, password=wrong)]
    text = folders(imap=imap)
    assert text.code == 3, text.explain()
    assert text.block("info")[0].startswith("✓ imap info"), text.explain()
    (head,) = text.block("ben")
    assert head.startswith(f"✗ imap ben  {REMOTE}:"), head
    assert "auth: authentication as ben@example.test rejected" in head, head
    assert "error[MC507] imap ben" in text.out
    assert "= hint: check the password in $MAILCFG_TEST_IMAP_BEN_PASSWORD" in text.out
    data = folders(imap=imap, args=["--format", "json"])
    assert data.code == 3
    ben = data.account("ben")
    assert (ben["status"], ben["folders"], ben["error"]["stage"], ben["error"]["rule"]) == ("failed", [], "auth",
                                                                                          "MC507")
    assert [finding["rule"] for finding in data.report["findings"] if finding["severity"] == "error"] == ["MC507"]
    assert data.account("info")["status"] == "ok"


def test_a_password_a_server_puts_into_folder_names_is_never_printed(
        fresh_mail_servers: MailServers, folders: Folders, imap_fake: Callable[..., hostile.FakeServer]) -> None:
    """A hostile server lists folders named after the password it was sent, plainly and in modified UTF-7."""
    canary = "Kanarienvogel-ß-Secret-4d2f9b"
    encoded = imap_utf7.encode(canary).decode("ascii")
    assert encoded != canary

    class Echoing(hostile.ImapMailbox):
        def _answer(self, c: hostile.Connection, tag: str, verb: str, words: list[str], line: str) -> bytes:
            if verb == "LIST":
                return ('* LIST (\\HasNoChildren) "/" INBOX\r\n'
                        f'* LIST (\\HasNoChildren \\Sent) "/" "Sent-{encoded}"\r\n'
                        f'* LIST (\\HasNoChildren) "/" "Archiv/{encoded}"\r\n'
                        f"{tag} OK listed\r\n").encode()
            return super()._answer(c, tag, verb, words, line)

    fake = imap_fake(Echoing(context=fresh_mail_servers.certificates.good.server_context()), "imap-echo")
    entry = fresh_mail_servers.imap_entry(INFO, fake.endpoint, password=canary)
    for output in ("text", "json"):
        run = folders(imap=[entry], args=["--format", output], trust=["--allow-host", "127.0.0.1"])
        assert run.code == 0, run.explain()
        assert canary in run.secrets  # the fixture asserted it is in no output
        assert encoded not in run.out
        assert "Archiv/****" in run.out, run.out
        assert "Sent-****" in run.out, run.out
    assert fake.record.auth_commands(tls=True) == ["AUTHENTICATE PLAIN", "AUTHENTICATE PLAIN"]


# ----------------------------------------------------------------------------------------------- trust


def test_no_trusted_host_exits_2_before_any_connection(fresh_mail_servers: MailServers, folders: Folders,
                                                       imap_fake: Callable[..., hostile.FakeServer]) -> None:
    fake = imap_fake()
    run = folders(imap=[fresh_mail_servers.imap_entry(INFO, fake.endpoint)], trust=[])
    assert run.code == 2, run.explain()
    assert "folders contacts no host the run does not trust, and this run names none" in run.err, run.err
    assert f"127.0.0.1:{fake.port} (imap info)" in run.err, run.err
    assert "--allow-host 127.0.0.1" in run.err, run.err
    assert run.out == ""
    assert fake.record.connections == [], fake.record.summary()


def test_a_host_outside_allow_host_is_mc511_and_never_contacted(fresh_mail_servers: MailServers, folders: Folders,
                                                                imap_fake: Callable[..., hostile.FakeServer]) -> None:
    servers = fresh_mail_servers
    fake = imap_fake()
    imap = [servers.imap_entry(INFO), servers.imap_entry(ANNA, fake.endpoint)]
    text = folders(imap=imap)  # --allow-host 127.0.0.2: Dovecot only
    assert text.code == 3, text.explain()
    assert text.block("info")[0].startswith("✓ imap info"), text.explain()
    assert "error[MC511] imap anna: 127.0.0.1:" in text.out, text.out
    assert "host 127.0.0.1 matches no --allow-host pattern; not contacted" in text.out
    data = folders(imap=imap, args=["--format", "json"])
    anna = data.account("anna")
    assert (anna["status"], anna["error"]["stage"], anna["error"]["rule"]) == ("failed", "policy", "MC511")
    assert fake.record.connections == [], fake.record.summary()


def test_allow_host_from_the_workflow_environment(fresh_mail_servers: MailServers, folders: Folders) -> None:
    run = folders(imap=[fresh_mail_servers.imap_entry(INFO)], trust=[], env={"MAILCFG_ALLOW_HOST": REMOTE})
    assert run.code == 0, run.explain()
    assert ["Sent", "\\Sent", "<-", "sent_folder"] in [line.split() for line in run.block("info")], run.explain()


def test_a_password_variable_outside_allow_env_is_mc511_and_not_contacted(
        fresh_mail_servers: MailServers, folders: Folders, imap_fake: Callable[..., hostile.FakeServer]) -> None:
    fake = imap_fake()
    entry = fresh_mail_servers.imap_entry(INFO, fake.endpoint)
    entry["credentials"]["password"] = Secret("CI_DEPLOY_TOKEN", "Deploy-Canary-81")
    run = folders(imap=[entry], trust=["--allow-host", "127.0.0.1", "--allow-env", "MAILCFG_*"])
    assert run.code == 3, run.explain()
    assert "error[MC511]" in run.out, run.out
    assert "--allow-env CI_DEPLOY_TOKEN" in run.out, run.out
    assert fake.record.connections == [], fake.record.summary()


def test_a_set_with_static_errors_is_not_contacted(fresh_mail_servers: MailServers, folders: Folders,
                                                   imap_fake: Callable[..., hostile.FakeServer],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing password variable (MC306) is a static error: exit 1, like verify, and no connection."""
    fake = imap_fake()
    entry = fresh_mail_servers.imap_entry(INFO, fake.endpoint)
    entry["credentials"]["password"] = {"env": "MAILCFG_FOLDERS_UNSET"}
    monkeypatch.delenv("MAILCFG_FOLDERS_UNSET", raising=False)
    run = folders(imap=[entry], trust=["--allow-host", "127.0.0.1"], args=["--format", "json"])
    assert run.code == 1, run.explain()
    assert run.report["accounts"] == []
    assert "MC306" in [finding["rule"] for finding in run.report["findings"]]
    assert fake.record.connections == [], fake.record.summary()
