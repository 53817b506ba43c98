"""The live-test servers themselves, proven with plain clients (imaplib, smtplib, imapclient, aiosmtplib)."""

from __future__ import annotations

import asyncio
import base64
import imaplib
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib
import pytest
import yaml
from imapclient.imapclient import SENT

from . import servers as servers_module
from .servers import AuthAttempt, Endpoint, MailServers, MailServersError, SmtpServer, running_mail_servers

INFO, ANNA, BEN, UMLAUT, MAILER = (f"{name}@example.test" for name in ("info", "anna", "ben", "umlaut", "mailer"))


def _message(to: str, subject: str, sender: str = MAILER) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@example.test>"
    message.set_content("live test\n")
    return message


def _subject(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:12]}"


def _starttls_smtp(mail_servers: MailServers, server: SmtpServer) -> smtplib.SMTP:
    client = smtplib.SMTP(server.host, server.port, timeout=10)
    client.starttls(context=mail_servers.client_context())
    client.ehlo()
    return client


# ----------------------------------------------------------------------------------------------- IMAP


def test_imaps_login_lists_sent_with_special_use_and_non_ascii_folder(mail_servers: MailServers) -> None:
    with mail_servers.imap_client(INFO) as client:
        assert b"SPECIAL-USE" in client.capabilities()  # Dovecot shows it only after login
        folders = {name: flags for flags, _delimiter, name in client.list_folders()}
        assert b"\\Sent" in folders["Sent"]
        assert "Envoyés" in folders  # decoded from modified UTF-7
        assert set(servers_module.COMMON_FOLDERS) <= set(folders)
        assert client.find_special_folder(SENT) == "Sent"
    raw = imaplib.IMAP4_SSL(*mail_servers.imap.ssl.address, ssl_context=mail_servers.client_context(), timeout=10)
    try:
        raw.login(INFO, mail_servers.passwords[INFO])
        _status, lines = raw.list()
        assert any(isinstance(line, bytes) and line.endswith(b"Envoy&AOk-s") for line in lines), lines
    finally:
        raw.logout()


def test_sent_folder_with_another_name(mail_servers: MailServers) -> None:
    folders = {name: flags for flags, name in mail_servers.list_folders(BEN)}
    assert "Sent" not in folders
    assert b"\\Sent" in folders["Gesendete Elemente"]
    assert mail_servers.sent_folders[BEN] == "Gesendete Elemente"
    with mail_servers.imap_client(BEN) as client:
        assert client.find_special_folder(SENT) == "Gesendete Elemente"


def test_imap_refuses_login_before_starttls_and_accepts_it_after(mail_servers: MailServers) -> None:
    endpoint = mail_servers.imap.starttls
    assert endpoint.host == mail_servers.hosts.remote
    client = imaplib.IMAP4(*endpoint.address, timeout=10)
    try:
        assert "LOGINDISABLED" in client.capabilities
        assert "STARTTLS" in client.capabilities
        with pytest.raises(imaplib.IMAP4.error):
            client.login(INFO, mail_servers.passwords[INFO])
        client.starttls(ssl_context=mail_servers.client_context())
        assert "LOGINDISABLED" not in client.capabilities
        assert client.login(INFO, mail_servers.passwords[INFO])[0] == "OK"
    finally:
        client.logout()


def test_trusted_loopback_allows_cleartext_login(mail_servers: MailServers) -> None:
    """The trap the address plan avoids: at 127.0.0.1 Dovecot treats the connection as secure."""
    client = imaplib.IMAP4(mail_servers.hosts.trusted_loopback, mail_servers.imap.starttls.port, timeout=10)
    try:
        assert "LOGINDISABLED" not in client.capabilities
        assert client.login(INFO, mail_servers.passwords[INFO])[0] == "OK"
    finally:
        client.logout()


def test_cleartext_imap_offers_no_starttls(mail_servers: MailServers) -> None:
    client = imaplib.IMAP4(*mail_servers.imap.cleartext.address, timeout=10)
    try:
        assert "STARTTLS" not in client.capabilities
        assert "LOGINDISABLED" not in client.capabilities
        assert client.login(ANNA, mail_servers.passwords[ANNA])[0] == "OK"
    finally:
        client.logout()


def test_wrong_password_is_refused_without_penalty(mail_servers: MailServers) -> None:
    for _ in range(2):
        started = time.monotonic()
        client = imaplib.IMAP4_SSL(*mail_servers.imap.ssl.address, ssl_context=mail_servers.client_context(),
                                   timeout=10)
        with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
            client.login(ANNA, "wrong password")
        client.logout()
        assert time.monotonic() - started < 1.5  # Dovecot would wait 2-15 s without the nodelay passdb
    with mail_servers.imap_client(ANNA) as client:  # and the right password still works at once
        assert client.select_folder("INBOX")


def test_non_ascii_password_over_imap(mail_servers: MailServers) -> None:
    password = mail_servers.passwords[UMLAUT]
    assert not password.isascii()
    with mail_servers.imap_client(UMLAUT) as client:  # AUTHENTICATE PLAIN with UTF-8
        assert client.select_folder("INBOX")
    client = imaplib.IMAP4_SSL(*mail_servers.imap.ssl.address, ssl_context=mail_servers.client_context(),
                               timeout=10)
    try:
        with pytest.raises(UnicodeEncodeError):  # imaplib's LOGIN cannot send it
            client.login(UMLAUT, password)
    finally:
        client.shutdown()


@pytest.mark.parametrize(
    ("variant", "error"),
    [
        ("wrong_name", "IP address mismatch"),
        ("expired", "certificate has expired"),
        ("untrusted", "unable to get local issuer certificate"),
    ],
)
def test_imap_certificate_failures(mail_servers: MailServers, variant: str, error: str) -> None:
    endpoint: Endpoint = getattr(mail_servers.imap, variant)
    with pytest.raises(ssl.SSLCertVerificationError, match=error):
        imaplib.IMAP4_SSL(*endpoint.address, ssl_context=mail_servers.client_context(), timeout=10)
    # The same address over STARTTLS presents the same certificate.
    client = imaplib.IMAP4(*mail_servers.imap.starttls.at(endpoint.host).address, timeout=10)
    with pytest.raises(ssl.SSLCertVerificationError, match=error):
        client.starttls(ssl_context=mail_servers.client_context())
    client.sock.close()


def test_imap_expiring_certificate_is_valid_for_days(mail_servers: MailServers) -> None:
    client = imaplib.IMAP4_SSL(*mail_servers.imap.expiring.address, ssl_context=mail_servers.client_context(),
                               timeout=10)
    try:
        sock = client.socket()
        assert isinstance(sock, ssl.SSLSocket)
        peer = sock.getpeercert()
        assert isinstance(peer, dict)
        remaining = ssl.cert_time_to_seconds(str(peer["notAfter"])) - time.time()
        assert 4 * 86400 < remaining < 6 * 86400
        assert client.login(INFO, mail_servers.passwords[INFO])[0] == "OK"
    finally:
        client.logout()


def test_untrusted_certificate_is_fine_with_its_own_ca(mail_servers: MailServers) -> None:
    context = mail_servers.client_context(mail_servers.untrusted_ca_file)
    client = imaplib.IMAP4_SSL(*mail_servers.imap.untrusted.address, ssl_context=context, timeout=10)
    try:
        assert client.login(INFO, mail_servers.passwords[INFO])[0] == "OK"
    finally:
        client.logout()


def test_good_certificate_names_localhost(mail_servers: MailServers) -> None:
    endpoint = mail_servers.imap.ssl.at(mail_servers.hosts.localhost)
    with mail_servers.imap_client(INFO, endpoint) as client:
        assert client.select_folder("INBOX")


# ----------------------------------------------------------------------------------------------- SMTP


def test_smtp_starttls_auth_delivers_to_the_mailbox(fresh_mail_servers: MailServers) -> None:
    servers = fresh_mail_servers
    server = servers.smtp.starttls
    subject = _subject("starttls")
    client = smtplib.SMTP(*server.address, timeout=10)
    try:
        client.ehlo()
        assert client.has_extn("starttls")
        assert not client.has_extn("auth")  # AUTH is offered only after STARTTLS
        client.starttls(context=servers.client_context())
        client.ehlo()
        assert "PLAIN" in client.esmtp_features["auth"]
        client.login(MAILER, servers.passwords[MAILER])
        assert client.send_message(_message(INFO, subject)) == {}
    finally:
        client.quit()
    message = servers.wait_for_message(INFO, subject, timeout=5)
    assert message.headers["To"] == INFO
    record = server.record
    assert record.connections == 1
    assert record.starttls == 1
    (attempt,) = record.auth_attempts
    assert (attempt.mechanism, attempt.username, attempt.success, attempt.tls) == ("PLAIN", MAILER, True, True)
    assert not record.auth_before_tls
    (delivery,) = record.deliveries
    assert (delivery.recipient, delivery.code, delivery.subject) == (INFO, 250, subject)


def test_smtp_starttls_server_refuses_auth_and_mail_before_tls(fresh_mail_servers: MailServers) -> None:
    server = fresh_mail_servers.smtp.starttls
    client = smtplib.SMTP(*server.address, timeout=10)
    try:
        client.ehlo()
        assert client.mail(MAILER)[0] == 530  # STARTTLS first
        credentials = base64.b64encode(f"\0{MAILER}\0not-the-password".encode()).decode()
        assert client.docmd("AUTH", f"PLAIN {credentials}")[0] == 530
    finally:
        client.quit()
    (attempt,) = server.record.auth_attempts
    assert server.record.auth_before_tls
    assert attempt.credentials_sent
    assert not attempt.tls
    assert not attempt.success
    assert server.record.credentials_received == (attempt,)


def test_smtp_wrong_password_is_counted_per_mechanism(fresh_mail_servers: MailServers) -> None:
    """smtplib's login() tries every advertised mechanism: one wrong password, two AUTH commands."""
    server = fresh_mail_servers.smtp.starttls
    client = _starttls_smtp(fresh_mail_servers, server)
    try:
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login(MAILER, "wrong password")
    finally:
        client.quit()
    attempts = server.record.auth_attempts
    assert [(a.mechanism, a.username, a.success) for a in attempts] == [
        ("PLAIN", MAILER, False), ("LOGIN", MAILER, False)]
    assert "wrong password" not in server.record.summary()


def test_smtp_implicit_tls(fresh_mail_servers: MailServers) -> None:
    servers = fresh_mail_servers
    server = servers.smtp.ssl
    subject = _subject("implicit tls")
    with smtplib.SMTP_SSL(*server.address, context=servers.client_context(), timeout=10) as client:
        client.ehlo()
        assert not client.has_extn("starttls")
        client.login(ANNA, servers.passwords[ANNA])
        client.send_message(_message(ANNA, subject, sender=ANNA))
    assert servers.wait_for_message(ANNA, subject, timeout=5).subject == subject
    (attempt,) = server.record.auth_attempts
    assert attempt.tls
    assert attempt.success


def test_smtp_unknown_recipient_is_refused(fresh_mail_servers: MailServers) -> None:
    server = fresh_mail_servers.smtp.starttls
    client = _starttls_smtp(fresh_mail_servers, server)
    try:
        client.login(MAILER, fresh_mail_servers.passwords[MAILER])
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.send_message(_message("nobody@example.test", _subject("unknown")))
    finally:
        client.quit()
    code, _reply = refused.value.recipients["nobody@example.test"]
    assert code == 550
    ((recipient, rcpt_code, _text),) = server.record.rejected_recipients
    assert (recipient, rcpt_code) == ("nobody@example.test", 550)
    assert server.record.deliveries == ()


def test_bounce_server_accepts_unknown_recipient_and_records_the_bounce(fresh_mail_servers: MailServers) -> None:
    server = fresh_mail_servers.smtp.bounce
    client = _starttls_smtp(fresh_mail_servers, server)
    try:
        client.login(MAILER, fresh_mail_servers.passwords[MAILER])
        assert client.send_message(_message("nobody@example.test", _subject("bounce"))) == {}
    finally:
        client.quit()
    (bounce,) = server.record.bounces
    assert (bounce.recipient, bounce.code, bounce.delivered) == ("nobody@example.test", 550, False)


def test_cleartext_smtp_server_offers_auth_without_starttls(fresh_mail_servers: MailServers) -> None:
    server = fresh_mail_servers.smtp.cleartext
    assert server.encryption == "none"

    async def careful_client() -> None:
        client = aiosmtplib.SMTP(hostname=server.host, port=server.port, start_tls=True,
                                 tls_context=fresh_mail_servers.client_context(), timeout=10)
        with pytest.raises(aiosmtplib.SMTPException, match="STARTTLS"):
            await client.connect()
        client.close()

    asyncio.run(careful_client())
    assert server.record.connections == 1
    assert server.record.credentials_received == ()  # a careful client sent nothing

    with smtplib.SMTP(*server.address, timeout=10) as careless:
        careless.ehlo()
        assert not careless.has_extn("starttls")
        assert careless.has_extn("auth")
        careless.login(MAILER, fresh_mail_servers.passwords[MAILER])
    attempts: list[AuthAttempt] = list(server.record.credentials_received)
    assert [(a.username, a.tls, a.success) for a in attempts] == [(MAILER, False, True)]
    assert server.record.auth_before_tls


def test_aiosmtplib_utf8_password_and_send(fresh_mail_servers: MailServers) -> None:
    servers = fresh_mail_servers
    server = servers.smtp.starttls
    subject = _subject("aiosmtplib ümlaut")

    async def send() -> None:
        client = aiosmtplib.SMTP(hostname=server.host, port=server.port, start_tls=True,
                                 tls_context=servers.client_context(), timeout=10)
        await client.connect()
        await client.ehlo()
        await client.auth_plain(UMLAUT, servers.passwords[UMLAUT])
        await client.send_message(_message(UMLAUT, subject, sender=UMLAUT))
        await client.quit()

    asyncio.run(send())
    message = servers.wait_for_message(UMLAUT, subject, timeout=5)
    assert message.subject == subject
    (attempt,) = server.record.auth_attempts
    assert (attempt.username, attempt.success) == (UMLAUT, True)


@pytest.mark.parametrize(
    ("variant", "error"),
    [
        ("wrong_name", "IP address mismatch"),
        ("expired", "certificate has expired"),
        ("untrusted", "unable to get local issuer certificate"),
    ],
)
def test_smtp_certificate_failures(fresh_mail_servers: MailServers, variant: str, error: str) -> None:
    server: SmtpServer = getattr(fresh_mail_servers.smtp, variant)
    client = smtplib.SMTP(*server.address, timeout=10)
    try:
        client.ehlo()
        with pytest.raises(ssl.SSLCertVerificationError, match=error):
            client.starttls(context=fresh_mail_servers.client_context())
    finally:
        client.close()
    assert server.record.starttls == 1
    assert server.record.credentials_received == ()


def test_smtp_expiring_certificate_works(fresh_mail_servers: MailServers) -> None:
    server = fresh_mail_servers.smtp.expiring
    client = _starttls_smtp(fresh_mail_servers, server)
    try:
        assert isinstance(client.sock, ssl.SSLSocket)
        peer = client.sock.getpeercert()
        assert isinstance(peer, dict)
        assert ssl.cert_time_to_seconds(str(peer["notAfter"])) - time.time() < 6 * 86400
        client.login(INFO, fresh_mail_servers.passwords[INFO])
    finally:
        client.quit()
    assert [a.success for a in server.record.auth_attempts] == [True]


def test_implicit_tls_against_a_starttls_port_fails_fast(mail_servers: MailServers) -> None:
    started = time.monotonic()
    with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):
        smtplib.SMTP_SSL(*mail_servers.smtp.starttls.address, context=mail_servers.client_context(), timeout=5)
    assert time.monotonic() - started < 2


# ----------------------------------------------------------------------------------------------- hostile servers


def test_silent_server_never_speaks(mail_servers: MailServers) -> None:
    with socket.create_connection(mail_servers.hostile.silent.address, timeout=0.3) as sock, \
            pytest.raises(TimeoutError):
        sock.recv(100)


@pytest.mark.parametrize(("endpoint", "start"), [("trickle_smtp", b"2"), ("trickle_imap", b"*")])
def test_trickle_server_sends_one_byte_per_second(mail_servers: MailServers, endpoint: str, start: bytes) -> None:
    with socket.create_connection(getattr(mail_servers.hostile, endpoint).address, timeout=3) as sock:
        assert sock.recv(100) == start
        started = time.monotonic()
        second = sock.recv(100)
        waited = time.monotonic() - started
    assert len(second) == 1
    assert b"\n" not in start + second
    assert 0.7 < waited < 2.0


def test_closed_port_refuses(mail_servers: MailServers) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(mail_servers.hostile.closed.address, timeout=2)


# ----------------------------------------------------------------------------------------------- helpers


def test_deliver_wait_and_clear(mail_servers: MailServers) -> None:
    message = _message(ANNA, _subject("lmtp"), sender="someone@example.test")
    code, _reply = mail_servers.deliver(ANNA, message.as_bytes())
    assert code == 250
    found = mail_servers.wait_for_message(ANNA, header=("Message-ID", str(message["Message-ID"])), timeout=5)
    assert found.subject == message["Subject"]
    assert any(m.uid == found.uid for m in mail_servers.mailbox_messages(ANNA))
    assert mail_servers.clear_folder(ANNA) >= 1
    assert mail_servers.mailbox_messages(ANNA) == []
    with pytest.raises(TimeoutError, match="no message"):
        mail_servers.wait_for_message(ANNA, "never sent", timeout=0.2)


def test_accounts_yaml_passes_mailcfg_static_checks(mail_servers: MailServers, tmp_path: Path) -> None:
    path, env = mail_servers.accounts_yaml(
        smtp=[mail_servers.smtp_entry(test_recipient=INFO)],
        imap=[mail_servers.imap_entry(INFO), mail_servers.imap_entry(BEN, sent_folder="Gesendete Elemente"),
              mail_servers.imap_entry(UMLAUT, mail_servers.imap.starttls)],
        directory=tmp_path,
    )
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document["imap"][0]["credentials"]["password"] == {"env": "MAILCFG_TEST_IMAP_INFO_PASSWORD"}
    assert env["MAILCFG_TEST_IMAP_UMLAUT_PASSWORD"] == mail_servers.passwords[UMLAUT]
    assert env["MAILCFG_TEST_SMTP_OUTGOING_PASSWORD"] == mail_servers.passwords[MAILER]
    assert document["smtp"][0]["port"] == mail_servers.smtp.starttls.port
    for password in env.values():
        assert password not in path.read_text(encoding="utf-8")
    check = subprocess.run(
        ["mailcfg", "check", "--require-env", "--format", "json", str(path)],
        env={**os.environ, **env}, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr


def test_missing_or_wrong_dovecot_fails_clearly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "dovecot"
    fake.write_text("#!/bin/sh\necho '2.4.1 (abcdef)'\n", encoding="utf-8")
    fake.chmod(0o755)
    with pytest.raises(MailServersError, match=r"need Dovecot 2\.3"):
        servers_module.dovecot_version(str(fake))
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    with pytest.raises(MailServersError, match="install-mail-servers"):
        servers_module.find_dovecot()


def test_start_failure_is_reported_with_dovecots_reason() -> None:
    unusable = replace(servers_module.HOSTS, cleartext="192.0.2.1")  # not an address of this machine
    started = time.monotonic()
    with pytest.raises(MailServersError, match=r"(?s)exited at start-up.*192\.0\.2\.1"), \
            running_mail_servers(hosts=unusable):
        pass
    assert time.monotonic() - started < 5


def test_a_second_instance_starts_and_stops_completely(mail_servers: MailServers) -> None:
    """Independent of the session's servers; after the block, Dovecot's processes, the ports and the files
    are gone."""
    with running_mail_servers() as other:
        assert other.imap.ssl.port != mail_servers.imap.ssl.port
        with other.imap_client(INFO) as client:
            assert client.select_folder("INBOX")
        pid = int((other.root / "dovecot" / "run" / "master.pid").read_text())
        root = other.root
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    for address in (other.imap.ssl.address, other.smtp.starttls.address, other.hostile.silent.address):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(address, timeout=2)
    assert not root.exists()
