"""Edge cases of `mailcfg verify` where a wrong setting used to cost time or mail, against the real servers.

- `encryption: starttls` (or `none`) on an implicit-TLS port: the server waits for the client's TLS hello and says
  nothing, which used to run into the whole `--timeout` and suggest raising it. Now a short silence leads to a TLS
  handshake on a second connection, and a port that answers it is MC503 with the hint `encryption: ssl`.
- `--round-trip` with an `address` that is not the mailbox logged in to: the probe message used to be delivered
  into that other mailbox and left there. Now the round trip is refused before anything is sent (MC510).
- A host name that does not resolve is MC501 at `host`, for SMTP and IMAP alike.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from validator.live.runner import other_mailbox

from . import test_verify as base
from .servers import DOMAIN, MailServers

INFO, ANNA = base.INFO, base.ANNA
verify = base.verify  # the fixture: writes the accounts and runs `mailcfg verify` in-process
Verify = base.Verify

# With --timeout 20 the silence that triggers the TLS handshake is 3 s (min(3 s, timeout / 3)); the finding must
# come well before the deadline, and a report of it within a second or two after the silence.
TIMEOUT = 20
ARRIVES_WITHIN = 8.0


# ----------------------------------------------------------------------------------------------- implicit TLS port


@pytest.mark.parametrize("encryption", ["starttls", "none"])
def test_plain_text_mode_on_an_implicit_tls_port_is_mc503_before_the_deadline(
        fresh_mail_servers: MailServers, verify: Verify, encryption: str) -> None:
    servers = fresh_mail_servers
    smtps, imaps = servers.smtp.ssl, servers.imap.ssl
    extra: dict[str, Any] = {"allow_insecure": True} if encryption == "none" else {}
    run = verify(smtp=[servers.smtp_entry(smtps, encryption=encryption, **extra)],
                 imap=[servers.imap_entry(INFO, imaps, encryption=encryption, **extra)],
                 args=["--allow-any-host", "--allow-insecure", servers.hosts.remote, "--timeout", str(TIMEOUT)])
    assert run.code == 3, run.explain()
    assert run.seconds < ARRIVES_WITHIN, f"took {run.seconds:.1f} s with --timeout {TIMEOUT}\n{run.explain()}"
    for protocol, account, port in (("smtp", "outgoing", smtps.port), ("imap", "info", imaps.port)):
        result = run.live(account, protocol)
        # The greeting is what never came (its wait is the stage's time); the reason is the TLS mode: MC503.
        assert (result["status"], result["stage"]) == ("failed", "greeting"), result
        (finding,) = run.findings(account=account)
        assert finding["rule"] == "MC503", finding
        assert finding["pointer"] == f"/{protocol}/0/host", finding
        assert "encryption: ssl" in finding["hint"], finding
        assert str(port) in finding["hint"], finding
        assert "--timeout" not in finding["hint"], finding
    # Nothing but a TLS hello reached the implicit-TLS server: no login on either connection.
    assert smtps.record.auth_attempts == (), smtps.record.summary()


def test_a_silent_server_is_not_taken_for_an_implicit_tls_port(fresh_mail_servers: MailServers,
                                                               verify: Verify) -> None:
    """The handshake on the second connection gets no answer either: the check ends at the deadline as before,
    MC502 at the greeting, and the process is not held up by the extra connection."""
    servers = fresh_mail_servers
    silent = servers.hostile.silent
    run = verify(smtp=[servers.smtp_entry(silent, encryption="starttls")],
                 imap=[servers.imap_entry(INFO, silent, encryption="starttls")], args=["--timeout", "2"])
    assert run.code == 3, run.explain()
    assert run.seconds <= 2 + 1, run.explain()
    for protocol, account in (("smtp", "outgoing"), ("imap", "info")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "greeting"), result
        assert [f["rule"] for f in run.findings(account=account)] == ["MC502"], run.findings(account=account)


def test_a_starttls_port_that_greets_at_once_is_not_probed(fresh_mail_servers: MailServers,
                                                           verify: Verify) -> None:
    """The second connection is only for a server that stays silent: a normal check makes one connection."""
    servers = fresh_mail_servers
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO, servers.imap.starttls)])
    assert run.code == 0, run.explain()
    assert servers.smtp.starttls.record.connections == 1, servers.smtp.starttls.record.summary()


# ----------------------------------------------------------------------------------------------- round trip


def test_round_trip_to_an_address_of_another_mailbox_sends_nothing(fresh_mail_servers: MailServers,
                                                                   verify: Verify) -> None:
    """info's login with anna's address: the probe would land in anna's mailbox and stay there (it is waited for
    and deleted in info's). Refused before any SMTP connection: MC510 at `address`, saying how to proceed."""
    servers = fresh_mail_servers
    for user in (ANNA, INFO):
        servers.clear_folder(user)  # earlier tests' test messages carry the probe header too
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(INFO, address=ANNA)],
                 args=["--round-trip", "--timeout", "3"])
    assert run.code == 3, run.explain()
    result = run.live("info", "imap")
    assert (result["status"], result["stage"]) == ("failed", "round-trip"), result
    (finding,) = run.findings(account="info")
    assert (finding["rule"], finding["pointer"]) == ("MC510", "/imap/0/address"), finding
    for text in (ANNA, INFO, "nothing sent"):
        assert text in finding["message"], finding
    for text in ("--round-trip", "username"):
        assert text in finding["hint"], finding
    assert run.seconds < 3, run.explain()  # refused at once, not waited for
    # The imap check itself still ran up to the round trip.
    assert [stage for stage in ("auth", "folders") if f"{stage} " in run.line("imap", "info")] == ["auth", "folders"]
    record = servers.smtp.starttls.record
    assert record.deliveries == (), record.summary()
    assert record.connections == 1, record.summary()  # the smtp entry's own check; the round trip made none
    assert base.probe_messages(servers, ANNA) == []
    assert base.probe_messages(servers, INFO) == []


def test_round_trip_address_differing_only_in_case_is_the_same_mailbox(fresh_mail_servers: MailServers,
                                                                        verify: Verify) -> None:
    servers = fresh_mail_servers
    servers.clear_folder(ANNA)
    run = verify(smtp=[servers.smtp_entry()], imap=[servers.imap_entry(ANNA, address=f"anna@{DOMAIN.upper()}")],
                 args=["--round-trip", "--timeout", "10"])
    assert run.code == 0, run.explain()
    assert run.live("anna", "imap")["status"] == "ok"
    assert base.probe_messages(servers, ANNA) == []


@pytest.mark.parametrize(
    ("address", "username", "other"),
    [
        ("anna@example.test", "anna@example.test", False),
        ("Anna@Example.TEST", "anna@example.test", False),  # case: never for the domain, in practice not at all
        ("anna+probe@example.test", "anna@example.test", False),  # a sub-address of the same mailbox
        ("anna@bücher.example", "anna@xn--bcher-kva.example", False),  # one domain, two spellings
        ("anna@example.test", "info@example.test", True),
        ("anna@example.test", "anna@example.org", True),
        ("anna@example.test", "anna", False),  # not an address: cannot tell
        ("anna@example.test", "EXAMPLE\\anna", False),
    ],
)
def test_other_mailbox(address: str, username: str, other: bool) -> None:
    assert other_mailbox(address, username) is other


# ----------------------------------------------------------------------------------------------- host name

NOWHERE = "mail.nowhere.invalid"


def test_a_host_name_that_does_not_resolve_is_mc501_at_host(
        fresh_mail_servers: MailServers, verify: Verify, monkeypatch: pytest.MonkeyPatch) -> None:
    """SMTP resolves in the event loop, IMAP in a worker thread; either way a name the resolver does not know
    fails the dns stage, before any connection, as MC501 at the entry's `host`. The resolver is the test's: a
    `.invalid` name never resolves, but a machine without DNS could take its time to say so."""
    servers = fresh_mail_servers
    resolve = socket.getaddrinfo

    def resolver(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == NOWHERE:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    run = verify(smtp=[servers.smtp_entry(host=NOWHERE)], imap=[servers.imap_entry(INFO, host=NOWHERE)])
    assert run.code == 3, run.explain()
    found = sorted((f["rule"], f["severity"], f["pointer"], f["account"]) for f in run.findings())
    assert found == [("MC501", "error", "/imap/0/host", "info"), ("MC501", "error", "/smtp/0/host", "outgoing")], found
    for finding in run.findings():
        assert "does not resolve" in finding["message"], finding
    for account, protocol in (("outgoing", "smtp"), ("info", "imap")):
        result = run.live(account, protocol)
        assert (result["status"], result["stage"]) == ("failed", "dns"), result
