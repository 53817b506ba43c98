"""Secrets from files, systemd credentials and commands, against the real servers of tests/live/servers.py.

A password read from a file inside ``--allow-secret-dir``, from ``$CREDENTIALS_DIRECTORY`` and from a command the
run allows logs in; the OAuth2 secrets come from the same sources. What the trust settings refuse is refused before
anything is opened, run or contacted, and that is proven from outside mailcfg: a file outside the allowed
directories is a FIFO whose writer would be released by any open, a command not allowed would leave a marker
file, and the servers' own records show no connection. The CLI runs in-process, so the environment
(``CREDENTIALS_DIRECTORY``, ``MAILCFG_ALLOW_*``) is the test's to set.
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from monitoring import exit_code_for

from validator.cli import main
from validator.reporters import FORMATS

from .oauth2_servers import OAuth2Servers
from .servers import DOMAIN, MailServers
from .test_verify_secrets import CANARY, assert_nothing_leaks, run_mailcfg

INFO, ANNA, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "mailer"))
TRUST_VARIABLES = ("CI", "GITHUB_ACTIONS", "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST", "MAILCFG_ALLOW_ENV",
                   "MAILCFG_ALLOW_COMMAND", "MAILCFG_ALLOW_SECRET_DIR", "CREDENTIALS_DIRECTORY")


@dataclass
class Run:
    code: int
    out: str
    err: str
    report: dict[str, Any]

    def live(self, account: str, protocol: str) -> dict[str, Any]:
        found: dict[str, Any]
        (found,) = [item for item in self.report["live"] if item["account"] == account and item["protocol"] == protocol]
        return found

    def findings(self, rule: str, account: str | None = None) -> list[dict[str, Any]]:
        return [item for item in self.report["findings"]
                if item["rule"] == rule and (account is None or item.get("account") == account)]

    def everything(self) -> str:
        return self.out + self.err + json.dumps(self.report)

    def explain(self) -> str:
        return f"exit {self.code}\n{self.out}\nstderr: {self.err}"


Verify = Callable[..., Run]


@pytest.fixture
def verify(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Verify:
    """``verify(document, args=[...], env={...})``: writes ``document`` as accounts.yaml in ``tmp_path/yaml`` (relative
    secret files are looked up there) and runs `mailcfg verify` in-process with ``args``."""
    for name in TRUST_VARIABLES:
        monkeypatch.delenv(name, raising=False)

    def run(document: Mapping[str, Any], *, args: Sequence[str] = (), env: Mapping[str, str] | None = None,
            ca_file: Path, command: str = "verify") -> Run:
        directory = tmp_path / "yaml"
        directory.mkdir(exist_ok=True)
        path = directory / f"accounts-{uuid.uuid4().hex[:6]}.yaml"
        path.write_text(yaml.safe_dump({"version": 1, **document}, sort_keys=False), encoding="utf-8")
        for name, value in (env or {}).items():
            monkeypatch.setenv(name, value)
        report = directory / "report.json"
        report.unlink(missing_ok=True)
        capsys.readouterr()
        if command == "verify":
            options = ["--ca-file", str(ca_file), "--timeout", "10", "--format", "text", "--format", f"json:{report}"]
        elif command == "folders":
            options = ["--ca-file", str(ca_file), "--timeout", "10", "--format", "json"]
        else:
            options = ["--format", "json"]
        code = main([command, str(path), "--no-config", "--no-color", *options, *args])
        captured = capsys.readouterr()
        assert "internal error" not in captured.err, captured.err
        if command != "verify":
            return Run(code, captured.out, captured.err, json.loads(captured.out or "{}"))
        document_out = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
        return Run(code, captured.out, captured.err, document_out)

    return run


def entries(servers: MailServers, smtp_password: Any, imap_password: Any) -> dict[str, Any]:
    """The shared smtp login (STARTTLS) and info's mailbox (implicit TLS), with these password references."""
    smtp = servers.smtp_entry(servers.smtp.starttls)
    smtp["credentials"]["password"] = smtp_password
    imap = servers.imap_entry(INFO, servers.imap.ssl)
    imap["credentials"]["password"] = imap_password
    return {"smtp": [smtp], "imap": [imap]}


def secret_file(directory: Path, name: str, value: str, mode: int = 0o600) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(value + "\n", encoding="utf-8")  # the trailing newline editors and `echo` add is dropped
    path.chmod(mode)
    return path


def script(directory: Path, name: str, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class Watched:
    """A file watched with inotify for being opened or read (by anyone): ``opened()`` says whether it was.

    The proof is the kernel's, not mailcfg's: a stat (which a resolved path needs no more than a realpath does)
    is no open, but any open for reading, even one closed at once, is an event.
    """

    IN_ACCESS, IN_OPEN = 0x1, 0x20

    def __init__(self, path: Path, content: str) -> None:
        import ctypes
        import ctypes.util

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content + "\n", encoding="utf-8")
        path.chmod(0o600)
        self.path = path
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self._fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        assert self._fd >= 0, os.strerror(ctypes.get_errno())
        watch = libc.inotify_add_watch(self._fd, str(path).encode(), self.IN_ACCESS | self.IN_OPEN)
        assert watch >= 0, os.strerror(ctypes.get_errno())

    def opened(self) -> bool:
        try:
            return bool(os.read(self._fd, 4096))
        except BlockingIOError:
            return False

    def close(self) -> None:
        os.close(self._fd)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[Callable[[Path, str], Watched]]:
    made: list[Watched] = []

    def make(path: Path, content: str) -> Watched:
        made.append(Watched(path, content))
        return made[-1]

    yield make
    for item in made:
        item.close()


def test_the_inotify_proof_sees_an_open(tmp_path: Path, watched: Callable[[Path, str], Watched]) -> None:
    """The proof itself: a non-blocking open, closed at once without reading, is seen; a stat is not."""
    file = watched(tmp_path / "watched", "x")
    os.stat(file.path)
    os.path.realpath(file.path)
    assert not file.opened()
    os.close(os.open(file.path, os.O_RDONLY | os.O_NONBLOCK))
    assert file.opened()


# ----------------------------------------------------------------------------------------------- each source logs in


def test_passwords_from_files_inside_allow_secret_dir(fresh_mail_servers: MailServers, verify: Verify,
                                                      tmp_path: Path) -> None:
    servers = fresh_mail_servers
    secrets = tmp_path / "yaml" / "secrets"
    secret_file(secrets, "mailer_pw", servers.passwords[MAILER])
    info = secret_file(secrets, "info_pw", servers.passwords[INFO])
    document = entries(servers, {"file": "secrets/mailer_pw"}, {"file": str(info)})  # relative and absolute
    run = verify(document, args=["--allow-any-host", "--allow-secret-dir", str(secrets)], ca_file=servers.ca_file)
    assert run.code == 0, run.explain()
    assert run.live("outgoing", "smtp")["status"] == "ok"
    assert run.live("info", "imap")["status"] == "ok"
    [attempt] = servers.smtp.starttls.record.credentials_received
    assert (attempt.username, attempt.success) == (MAILER, True)
    assert servers.passwords[INFO] not in run.everything()
    # The trust variable does what the flag does (directories separated by commas or whitespace).
    servers.reset_records()
    again = verify(document, args=["--allow-any-host"], env={"MAILCFG_ALLOW_SECRET_DIR": f"/nonexistent-no {secrets}"},
                   ca_file=servers.ca_file)
    assert again.code == 2, again.explain()  # a directory that does not exist is a usage error, before anything
    assert "--allow-secret-dir /nonexistent-no: no such directory" in again.err
    assert servers.smtp.starttls.record.connections == 0
    again = verify(document, args=["--allow-any-host"], env={"MAILCFG_ALLOW_SECRET_DIR": f"/tmp,\n{secrets}"},
                   ca_file=servers.ca_file)
    assert again.code == 0, again.explain()


def test_passwords_from_a_systemd_credentials_directory(fresh_mail_servers: MailServers, verify: Verify,
                                                        tmp_path: Path) -> None:
    servers = fresh_mail_servers
    credentials = tmp_path / "run-credentials" / "mailcfg.service"
    secret_file(credentials, "mailer_pw", servers.passwords[MAILER], 0o400)
    secret_file(credentials, "info_pw", servers.passwords[INFO], 0o400)
    document = entries(servers, {"credential": "mailer_pw"}, {"credential": "info_pw"})
    run = verify(document, args=["--allow-any-host"], env={"CREDENTIALS_DIRECTORY": str(credentials)},
                 ca_file=servers.ca_file)
    assert run.code == 0, run.explain()
    assert run.live("outgoing", "smtp")["status"] == "ok"
    assert run.live("info", "imap")["status"] == "ok"
    assert run.findings("MC308") == []  # systemd's 0400


def test_passwords_from_a_command_run_once_when_the_check_starts(fresh_mail_servers: MailServers, verify: Verify,
                                                                 tmp_path: Path) -> None:
    """The imap account's command is needed by its own check and by the smtp entry that logs in with its
    credentials: it runs once. Its stderr (which here repeats the password) is never shown."""
    servers = fresh_mail_servers
    runs = tmp_path / "runs"
    program = script(tmp_path / "bin", "pass-show", f"echo ran >> {runs}\n"
                     f"echo 'stderr: {servers.passwords[INFO]}' >&2\nprintf '%s\\n' \"$(cat {tmp_path}/value)\"\n")
    (tmp_path / "value").write_text(servers.passwords[INFO], encoding="utf-8")
    smtp = servers.smtp_entry(servers.smtp.starttls, username=None)  # logs in with each sender's credentials
    imap = servers.imap_entry(INFO, servers.imap.ssl)
    imap["credentials"]["password"] = {"command": [str(program), "show", "mail/info"]}
    run = verify({"smtp": [smtp], "imap": [imap]}, args=["--allow-any-host", "--allow-command", str(program)],
                 ca_file=servers.ca_file)
    assert run.code == 0, run.explain()
    assert run.live("outgoing", "smtp")["status"] == "ok"
    assert run.live("info", "imap")["status"] == "ok"
    assert runs.read_text(encoding="utf-8").splitlines() == ["ran"]
    [attempt] = servers.smtp.starttls.record.credentials_received
    assert (attempt.username, attempt.success) == (INFO, True)
    assert servers.passwords[INFO] not in run.everything()


def test_a_failing_command_is_mc512_and_nothing_is_sent(fresh_mail_servers: MailServers, verify: Verify,
                                                        tmp_path: Path) -> None:
    servers = fresh_mail_servers
    secret = f"Stderr-Canary-{uuid.uuid4().hex[:8]}"
    failing = script(tmp_path / "bin", "op", f"echo '{secret}' >&2\nexit 3\n")
    empty = script(tmp_path / "bin", "nothing", "printf '\\n'\n")
    document = entries(servers, {"command": [str(failing), "read", "op://Mail/mailer"]}, {"command": [str(empty)]})
    run = verify(document, args=["--allow-any-host", "--allow-command", str(failing), "--allow-command", str(empty)],
                 ca_file=servers.ca_file)
    assert run.code == 3, run.explain()
    assert servers.smtp.starttls.record.connections == 0
    [failed] = run.findings("MC512", "outgoing")
    assert failed["pointer"] == "/smtp/0/credentials/password/command"
    assert f"password: `command` {failing} exited with status 3" in failed["message"]
    assert run.live("outgoing", "smtp")["stage"] == "secret"
    [printed] = run.findings("MC512", "info")
    assert f"command {empty} printed nothing" in printed["message"]
    assert secret not in run.everything()
    assert "op://Mail/mailer" not in run.everything()  # a command's arguments are never shown


def test_a_round_trip_with_a_command_sender_and_a_file_mailbox(fresh_mail_servers: MailServers, verify: Verify,
                                                               tmp_path: Path) -> None:
    servers = fresh_mail_servers
    program = script(tmp_path / "bin", "mailer-pw", f"printf '%s\\n' '{servers.passwords[MAILER]}'\n")
    secrets = tmp_path / "yaml" / "secrets"
    secret_file(secrets, "info_pw", servers.passwords[INFO])
    document = entries(servers, {"command": [str(program)]}, {"file": "secrets/info_pw"})
    run = verify(document, args=["--allow-any-host", "--allow-command", str(program), "--allow-secret-dir",
                                 str(secrets), "--round-trip", "--allow-recipient", f"*@{DOMAIN}"],
                 ca_file=servers.ca_file)
    assert run.code == 0, run.explain()
    assert run.live("info", "imap")["status"] == "ok"
    assert servers.passwords[MAILER] not in run.everything()


def test_folders_takes_its_passwords_from_files(fresh_mail_servers: MailServers, verify: Verify,
                                                tmp_path: Path) -> None:
    servers = fresh_mail_servers
    secrets = tmp_path / "yaml" / "secrets"
    secret_file(secrets, "info_pw", servers.passwords[INFO])
    document = entries(servers, {"file": "secrets/missing-but-unused"}, {"file": "secrets/info_pw"})
    document["smtp"][0]["credentials"]["password"] = {"credential": "mailer_pw"}
    credentials = tmp_path / "creds"
    secret_file(credentials, "mailer_pw", servers.passwords[MAILER])
    run = verify(document, args=["--allow-any-host", "--allow-secret-dir", str(secrets)],
                 env={"CREDENTIALS_DIRECTORY": str(credentials)}, ca_file=servers.ca_file, command="folders")
    assert run.code == 0, run.explain()
    [account] = run.report["accounts"]
    assert account["id"] == "info"
    assert "INBOX" in [folder["name"] for folder in account["folders"]]


# ----------------------------------------------------------------------------------------------- trust refusals


def test_a_file_outside_the_allowed_directories_is_never_opened(
    fresh_mail_servers: MailServers, verify: Verify, tmp_path: Path, watched: Callable[[Path, str], Watched]
) -> None:
    """Attack: `{file: ~/.ssh/id_rsa}` as the password of an allowed host; here that file holds the real password,
    so reading it would log in. It is not opened (the kernel saw no open), nothing is contacted, MC511 names the
    flag. The same for a symlink inside the allowed directory that leads out of it."""
    servers = fresh_mail_servers
    secrets = tmp_path / "yaml" / "secrets"
    secret_file(secrets, "info_pw", servers.passwords[INFO])
    outside = watched(tmp_path / "home" / ".ssh" / "id_rsa", servers.passwords[MAILER])
    linked = watched(tmp_path / "home" / "anna", servers.passwords[ANNA])
    (secrets / "link").symlink_to(linked.path)  # inside by name, outside once resolved
    document = entries(servers, {"file": str(outside.path)}, {"file": "secrets/info_pw"})
    anna = servers.imap_entry(ANNA, servers.imap.ssl)
    anna["credentials"]["password"] = {"file": "secrets/link"}
    document["imap"].append(anna)
    for args in (["--allow-secret-dir", str(secrets)], []):
        servers.reset_records()
        run = verify(document, args=["--allow-any-host", *args], ca_file=servers.ca_file)
        assert run.code == 3, run.explain()
        assert servers.smtp.starttls.record.connections == 0
        [refused] = run.findings("MC511", "outgoing")
        assert refused["pointer"] == "/smtp/0/credentials/password/file"
        assert f"password file {outside.path} is outside every --allow-secret-dir; not read" in refused["message"]
        assert "--allow-secret-dir" in refused["hint"]
        [link] = run.findings("MC511", "anna")
        assert link["pointer"] == "/imap/1/credentials/password/file"
        assert run.live("anna", "imap")["stage"] == "policy"
        assert run.findings("MC306") == []
        if args:
            assert run.live("info", "imap")["status"] == "ok"  # an allowed file is read and used
    # `check --require-env` refuses them the same way, at the reference, without opening them.
    check = verify(document, args=["--require-env", "--allow-secret-dir", str(secrets)], ca_file=servers.ca_file,
                   command="check")
    assert check.code == 1, check.explain()
    assert {(item["rule"], item["pointer"]) for item in check.report["findings"] if item["rule"] == "MC511"} == {
        ("MC511", "/smtp/0/credentials/password/file"), ("MC511", "/imap/1/credentials/password/file")}
    assert not outside.opened()
    assert not linked.opened()


def test_a_command_not_allowed_never_runs(fresh_mail_servers: MailServers, verify: Verify, tmp_path: Path) -> None:
    servers = fresh_mail_servers
    marker = tmp_path / "ran"
    program = script(tmp_path / "bin", "exfiltrate", f"touch {marker}\nprintf 'x\\n'\n")
    other = script(tmp_path / "bin", "op", "printf 'x\\n'\n")
    document = entries(servers, {"command": [str(program)]}, {"command": ["exfiltrate"]})
    run = verify(document, args=["--allow-any-host", "--allow-command", str(other)], ca_file=servers.ca_file)
    assert run.code == 3, run.explain()
    assert not marker.exists()
    assert servers.smtp.starttls.record.connections == 0
    for account, pointer in (("outgoing", "/smtp/0"), ("info", "/imap/0")):
        [refused] = run.findings("MC511", account)
        assert refused["pointer"] == f"{pointer}/credentials/password/command"
        assert "is not allowed for this run; not started, nothing contacted" in refused["message"]
        assert "--allow-command" in refused["hint"]
    check = verify(document, args=["--require-env"], ca_file=servers.ca_file, command="check")
    assert check.code == 0, check.explain()  # `check` never runs a command, nor asks for one
    assert not marker.exists()


def test_missing_secrets_stop_verify_before_any_connection(fresh_mail_servers: MailServers, verify: Verify,
                                                           tmp_path: Path) -> None:
    servers = fresh_mail_servers
    secrets = tmp_path / "yaml" / "secrets"
    secrets.mkdir(parents=True)
    document = entries(servers, {"credential": "mailer_pw"}, {"file": "secrets/info_pw"})
    run = verify(document, args=["--allow-any-host", "--allow-secret-dir", str(secrets)],
                 env={"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}, ca_file=servers.ca_file)
    assert run.code == 1, run.explain()
    assert run.report["live"] == []
    assert servers.smtp.starttls.record.connections == 0
    assert [(item["message"], item["pointer"]) for item in run.findings("MC306")] == [
        ("credential mailer_pw does not exist (password of 'outgoing')", "/smtp/0/credentials/password/credential"),
        ("file secrets/info_pw does not exist (password of 'info')", "/imap/0/credentials/password/file"),
    ]


def test_a_secret_file_open_to_others_is_mc308_at_verify_time(fresh_mail_servers: MailServers, verify: Verify,
                                                              tmp_path: Path) -> None:
    servers = fresh_mail_servers
    secrets = tmp_path / "yaml" / "secrets"
    secret_file(secrets, "mailer_pw", servers.passwords[MAILER], 0o644)
    info = secret_file(secrets, "info_pw", servers.passwords[INFO])
    document = entries(servers, {"file": "secrets/mailer_pw"}, {"file": str(info)})
    run = verify(document, args=["--allow-any-host", "--allow-secret-dir", str(secrets)], ca_file=servers.ca_file)
    assert run.code == 0, run.explain()  # a warning
    [finding] = run.findings("MC308")
    assert (finding["severity"], finding["pointer"]) == ("warning", "/smtp/0/credentials/password/file")
    assert finding["hint"] == f"chmod 600 {os.path.realpath(secrets / 'mailer_pw')}"
    assert run.live("outgoing", "smtp")["status"] == "ok"


# ----------------------------------------------------------------------------------------------- OAuth2 secrets


def test_oauth2_secrets_from_a_file_a_credential_and_a_command(oauth2_servers: OAuth2Servers, verify: Verify,
                                                               tmp_path: Path) -> None:
    servers = oauth2_servers
    alice, bob, carol = "alice@example.test", "bob@example.test", "carol@example.test"
    secrets = tmp_path / "yaml" / "secrets"
    app = servers.register_client(app_mailbox=alice)
    secret_file(secrets, "app_secret", str(app.client_secret))
    delegated = servers.register_client()
    refresh = servers.issue_refresh_token(delegated.client_id, bob)
    credentials = tmp_path / "creds"
    secret_file(credentials, "delegated_secret", str(delegated.client_secret), 0o400)
    program = script(tmp_path / "bin", "refresh-token", f"printf '%s\\n' '{refresh}'\n")
    account = servers.create_service_account([carol])
    secret_file(secrets, "sa.json", account.key_json)

    def imap(account_id: str, user: str, oauth2: dict[str, Any]) -> dict[str, Any]:
        return {"id": account_id, "scope": "system", "address": user, "host": "127.0.0.2",
                "port": servers.imap.ssl.port, "encryption": "ssl", "outgoing": "out", "sent_folder": "INBOX",
                "credentials": {"username": user, "oauth2": oauth2, "contact": "IT <it@example.test>"}}

    document = {
        "smtp": [{"id": "out", "host": "127.0.0.2", "port": servers.submission.ssl.port, "encryption": "ssl",
                  "authentication": "none"}],
        "imap": [
            imap("app", alice, {"token_url": servers.token_url, "client_id": app.client_id,
                                "client_secret": {"file": "secrets/app_secret"}}),
            imap("person", bob, {"token_url": servers.token_url, "client_id": delegated.client_id,
                                 "client_secret": {"credential": "delegated_secret"},
                                 "refresh_token": {"command": [str(program)]}}),
            imap("robot", carol, {"provider": "google", "token_url": servers.token_url,
                                  "service_account": {"file": "secrets/sa.json"}}),
        ],
    }
    run = verify(document, args=["--allow-host", "127.0.0.2", "--allow-host", "127.0.0.1", "--allow-secret-dir",
                                 str(secrets), "--allow-command", str(program)],
                 env={"CREDENTIALS_DIRECTORY": str(credentials)}, ca_file=servers.ca_file)
    assert run.code == 0, run.explain()
    for account_id in ("app", "person", "robot"):
        assert run.live(account_id, "imap")["status"] == "ok", run.explain()
    for secret in (str(app.client_secret), str(delegated.client_secret), refresh):
        assert secret not in run.everything()


# ----------------------------------------------------------------------------------------------- no value in any output


@pytest.mark.parametrize("stdout_format", FORMATS)
def test_no_secret_from_a_file_a_credential_or_a_command_in_any_output(
    fresh_mail_servers: MailServers, tmp_path: Path, stdout_format: str
) -> None:
    """Wrong passwords (the canary, which the servers refuse and may echo) and right ones, from each source, through
    every stage that handles credentials; `mailcfg verify` as a subprocess, every report format on stdout and as a
    file, stderr and the GitHub job summary."""
    servers = fresh_mail_servers
    canary = f"{CANARY}-{stdout_format}"
    secrets, credentials = tmp_path / "secrets", tmp_path / "creds"
    secret_file(secrets, "wrong", canary)
    secret_file(secrets, "info", servers.passwords[INFO])
    secret_file(credentials, "wrong", canary + "-credential", 0o400)
    secret_file(credentials, "mailer", servers.passwords[MAILER], 0o400)
    wrong = script(tmp_path / "bin", "wrong", f"echo '{canary}-stderr' >&2\nprintf '%s\\n' '{canary}-command'\n")
    right = script(tmp_path / "bin", "right", f"echo '{servers.passwords[ANNA]}' >&2\n"
                                              f"printf '%s\\n' '{servers.passwords[ANNA]}'\n")
    failing = script(tmp_path / "bin", "failing", f"echo '{canary}-failing' >&2\nexit 1\n")

    def smtp(account_id: str, password: dict[str, Any], **extra: Any) -> dict[str, Any]:
        entry = servers.smtp_entry(servers.smtp.starttls, id=account_id, **extra)
        entry["credentials"]["password"] = password
        return entry

    def imap(user: str, account_id: str, password: dict[str, Any], **extra: Any) -> dict[str, Any]:
        entry = servers.imap_entry(user, servers.imap.ssl, id=account_id, **extra)
        entry["credentials"]["password"] = password
        return entry

    document = {
        "version": 1,
        "smtp": [
            smtp("outgoing", {"credential": "mailer"}, test_recipient=INFO),
            smtp("wrong-file", {"file": str(secrets / "wrong")}),
            smtp("wrong-credential", {"credential": "wrong"}),
            smtp("wrong-command", {"command": [str(wrong)]}),
        ],
        "imap": [
            imap(INFO, "info", {"file": str(secrets / "info")}),
            imap(ANNA, "anna", {"command": [str(right)]}, outgoing="wrong-command"),
            imap(INFO, "info-wrong", {"file": str(secrets / "wrong")}, sent_folder="INBOX"),
            imap(ANNA, "anna-wrong", {"credential": "wrong"}),
            imap(MAILER, "mailer", {"command": [str(failing)]}),
        ],
    }
    path = tmp_path / "accounts.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    args = ["--allow-host", "127.0.0.0/8", "--allow-secret-dir", str(secrets), "--allow-command", str(wrong),
            "--allow-command", str(right), "--allow-command", str(failing), "--send-test", "--round-trip",
            "--allow-recipient", f"*@{DOMAIN}"]
    outcome = run_mailcfg(servers, tmp_path, path, {"CREDENTIALS_DIRECTORY": str(credentials)}, args, stdout_format)
    assert outcome.code == exit_code_for(stdout_format, 3), outcome.outputs
    everything = "\n".join(outcome.outputs.values())
    for rule in ("MC507", "MC512"):  # the failures really happened (and were reported)
        assert rule in everything, (rule, outcome.outputs)
    # The servers received the canaries: so they were in the process's hands.
    assert any(not attempt.success for attempt in servers.smtp.starttls.record.credentials_received)
    secrets_seen = [canary, canary + "-credential", canary + "-command", canary + "-stderr", canary + "-failing",
                    *servers.passwords.values()]
    assert_nothing_leaks(outcome, secrets_seen, servers.passwords)
