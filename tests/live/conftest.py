"""Fixtures for the live tests: real mail servers on loopback, started once per test session (see servers.py).

``mail_servers`` (session) starts Dovecot, the SMTP servers and the hostile fake servers and stops them at the
end of the session. It fails (never skips) when Dovecot is missing or has the wrong version.
``fresh_mail_servers`` (function) is the same object with the SMTP servers' records emptied first.
``oauth2_servers`` (session) starts the OAuth2 Dovecot, its token and introspection endpoints (oauth2_servers.py)
on first use only; it fails (never skips) like ``mail_servers``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from .oauth2_servers import OAuth2Servers, running_oauth2_servers
from .servers import MailServers, MailServersError, running_mail_servers

_startup: list[float] = []


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    with contextlib.ExitStack() as stack:
        problem = None
        try:
            servers = stack.enter_context(running_mail_servers())
        except MailServersError as error:
            problem = str(error)
        if problem is not None:  # outside the except block: the message alone, without a chained traceback
            pytest.fail(f"live mail servers could not start: {problem}", pytrace=False)
        _startup.append(servers.startup_seconds)
        yield servers


@pytest.fixture
def fresh_mail_servers(mail_servers: MailServers) -> MailServers:
    mail_servers.reset_records()
    return mail_servers


@pytest.fixture(scope="session")
def oauth2_servers() -> Iterator[OAuth2Servers]:
    with contextlib.ExitStack() as stack:
        problem = None
        try:
            servers = stack.enter_context(running_oauth2_servers())
        except MailServersError as error:
            problem = str(error)
        if problem is not None:
            pytest.fail(f"live OAuth2 servers could not start: {problem}", pytrace=False)
        yield servers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup:
        terminalreporter.write_line(f"live mail servers: started in {_startup[0]:.2f} s")
