"""No password reaches any output of `mailcfg verify`: stdout, stderr, report files, the GitHub job summary.

Wrong-password accounts get a canary (``CANARY-live-…``) as their password; good accounts their real ones. The
runs cover passing and failing checks of every stage that handles credentials (SMTP STARTTLS, implicit TLS and
cleartext with ``allow_insecure``, IMAP both TLS modes, shared and per-sender SMTP logins, --send-test,
--round-trip through a rejected login, the --allow-host guard), static failures, ``--env-file``, and every
report format both on stdout and as ``--format FORMAT:FILE``. `mailcfg` runs as a subprocess, so everything the
process writes is seen, and nothing the test servers log gets mixed in.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from monitoring import exit_code_for

from validator.reporters import FORMATS

from .oauth2_servers import OAuth2Servers
from .servers import DOMAIN, MailServers

INFO, ANNA, BEN, UMLAUT, MAILER = (f"{name}@{DOMAIN}" for name in ("info", "anna", "ben", "umlaut", "mailer"))
CANARY = f"CANARY-live-{uuid.uuid4().hex[:12]}-pä$$"  # a wrong password for every server (non-ASCII too)
SUFFIX = {"text": "txt", "json": "json", "sarif": "sarif", "github": "txt", "junit": "xml", "prometheus": "prom",
          "nagios": "txt"}


def base64_forms(secret: str) -> list[str]:
    """Substrings that any base64 text holding ``secret`` contains, whatever its offset in the encoded bytes
    (AUTH PLAIN puts ``\\0user\\0`` before it, AUTH LOGIN nothing)."""
    raw = secret.encode("utf-8")
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).decode("ascii")
        start = 4 if shift else 0  # the first group mixes in the bytes before, the last the bytes after
        forms.append(encoded[start:-4])
    return [form for form in forms if len(form) >= 8]


def needles(secrets: Iterable[str], usernames: Iterable[str]) -> dict[str, str]:
    """What must never be printed -> a label for the failure message (never the secret itself)."""
    found: dict[str, str] = {}
    for number, secret in enumerate(secrets):
        found[secret] = f"secret #{number}"
        found[json.dumps(secret)[1:-1]] = f"secret #{number} JSON-escaped"
        for form in base64_forms(secret):
            found[form] = f"secret #{number} in base64"
        for username in usernames:
            plain = base64.b64encode(f"\0{username}\0{secret}".encode()).decode("ascii")
            found[plain] = f"secret #{number} as AUTH PLAIN for {username}"
    found["CANARY"] = "the canary's prefix"
    found[base64.b64encode(b"CANARY-live-").decode("ascii")[:12]] = "the canary's prefix in base64"
    return found


@dataclass
class Outcome:
    code: int
    outputs: dict[str, str]  # where -> text


def run_mailcfg(servers: MailServers | OAuth2Servers, directory: Path, path: Path, env: Mapping[str, str],
                args: Sequence[str], stdout_format: str) -> Outcome:
    """`mailcfg verify` with ``stdout_format`` on stdout and every other format in a file."""
    files = {name: directory / f"report-{name}.{SUFFIX[name]}" for name in FORMATS if name != stdout_format}
    summary = directory / "step-summary.md"
    command = [sys.executable, "-m", "validator", "verify", str(path), "--no-config", "--ca-file",
               str(servers.ca_file), "--timeout", "5", "--format", stdout_format,
               *[f"--format={name}:{file}" for name, file in files.items()], *args]
    if not any(arg.startswith("--allow-") for arg in args):  # our own accounts, on loopback
        command += ["--allow-any-host"]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("MAILCFG_TEST_")}
    environment.update(env)
    environment.update({"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary), "PYTHONWARNINGS": "always"})
    completed = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", errors="replace",
                               env=environment, cwd=directory, timeout=60, check=False)
    outputs = {f"stdout ({stdout_format})": completed.stdout, "stderr": completed.stderr}
    for name, file in files.items():
        outputs[f"--format {name}:FILE"] = file.read_text(encoding="utf-8", errors="replace") if file.exists() else ""
    outputs["GITHUB_STEP_SUMMARY"] = summary.read_text(encoding="utf-8") if summary.exists() else ""
    assert "internal error" not in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    empty = [where for where, text in outputs.items() if where != "stderr" and not text.strip()]
    assert empty == [], f"reports missing: {empty}"
    return Outcome(completed.returncode, outputs)


def assert_nothing_leaks(outcome: Outcome, secrets: Iterable[str], usernames: Iterable[str]) -> None:
    leaks = [f"{label} in {where}" for where, text in outcome.outputs.items()
             for needle, label in needles(secrets, usernames).items() if needle in text]
    assert leaks == [], leaks


# ----------------------------------------------------------------------------------------------- the account sets


def failing_set(servers: MailServers) -> tuple[dict[str, Any], dict[str, Any]]:
    """Accounts that fail at every credential-handling stage (canary passwords) next to good ones."""
    smtp = servers.smtp
    local = servers.hosts.localhost
    canary = {"password": CANARY}
    return {
        "smtp": [
            servers.smtp_entry(smtp.starttls, test_recipient=INFO),  # good, shared login; --send-test
            servers.smtp_entry(smtp.ssl, id="wrong-ssl", **canary),  # shared login, wrong password
            servers.smtp_entry(smtp.starttls, id="per-sender", username=None),  # each sender's own login
            servers.smtp_entry(smtp.cleartext, id="insecure", allow_insecure=True, **canary),  # AUTH in clear
            servers.smtp_entry(smtp.starttls.endpoint.at(local), id="elsewhere", **canary),  # --allow-host refuses
        ],
        "imap": [
            servers.imap_entry(INFO, servers.imap.ssl),  # good; round trip through the good smtp
            servers.imap_entry(ANNA, servers.imap.starttls, outgoing="per-sender", **canary),  # IMAP + SMTP reject
            servers.imap_entry(BEN, servers.imap.ssl, outgoing="wrong-ssl"),  # MC509; round trip: AUTH rejected
            servers.imap_entry(UMLAUT, servers.imap.ssl, outgoing="insecure", **canary),
            servers.imap_entry(MAILER, servers.imap.ssl.at(local), id="mailer-elsewhere", outgoing="elsewhere",
                               **canary),
        ],
    }, {"args": ["--send-test", "--round-trip", "--allow-host", "127.0.0.0/8",
          "--allow-recipient", f"*@{DOMAIN}", "--allow-insecure", "127.0.0.0/8"]}


def secrets_of(servers: MailServers) -> list[str]:
    return [CANARY, *servers.passwords.values()]


# ----------------------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("stdout_format", FORMATS)
def test_live_failures_never_show_a_password(fresh_mail_servers: MailServers, tmp_path: Path,
                                             stdout_format: str) -> None:
    servers = fresh_mail_servers
    accounts, extra = failing_set(servers)
    path, env = servers.accounts_yaml(**accounts, directory=tmp_path)
    assert sum(value == CANARY for value in env.values()) == 6
    outcome = run_mailcfg(servers, tmp_path, path, env, extra["args"], stdout_format)
    assert outcome.code == exit_code_for(stdout_format, 3), outcome.outputs
    everything = "\n".join(outcome.outputs.values())
    for rule in ("MC507", "MC509", "MC511"):  # the failures really happened (and were reported)
        assert rule in everything, (rule, outcome.outputs)
    # The servers did receive the canary: so it was in the process's hands.
    assert any(not a.success for a in servers.smtp.ssl.record.credentials_received)
    assert [a.tls for a in servers.smtp.cleartext.record.credentials_received] == [False], everything
    assert_nothing_leaks(outcome, secrets_of(servers), servers.passwords)


def test_secrets_from_an_env_file_never_show(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    servers = fresh_mail_servers
    accounts, extra = failing_set(servers)
    path, env = servers.accounts_yaml(**accounts, directory=tmp_path)
    env_file = tmp_path / "secrets.env"
    env_file.write_text("".join(f"{name}='{value}'\n" for name, value in env.items()), encoding="utf-8")
    outcome = run_mailcfg(servers, tmp_path, path, {}, [*extra["args"], "--env-file", str(env_file)], "text")
    assert outcome.code == 3, outcome.outputs
    assert "MC507" in outcome.outputs["stdout (text)"]
    assert "MC306" not in outcome.outputs["stdout (text)"]
    assert_nothing_leaks(outcome, secrets_of(servers), servers.passwords)


def test_passing_run_never_shows_a_password(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    servers = fresh_mail_servers
    path, env = servers.accounts_yaml(
        smtp=[servers.smtp_entry(test_recipient=INFO), servers.smtp_entry(servers.smtp.ssl, id="per-sender",
                                                                           username=None)],
        imap=[servers.imap_entry(INFO), servers.imap_entry(UMLAUT, servers.imap.starttls, outgoing="per-sender")],
        directory=tmp_path)
    outcome = run_mailcfg(servers, tmp_path, path, env, ["--send-test", "--round-trip"], "json")
    assert outcome.code == 0, outcome.outputs
    assert '"status": "failed"' not in outcome.outputs["stdout (json)"]
    assert len(servers.smtp.ssl.record.credentials_received) >= 2  # umlaut's check and round trip
    assert_nothing_leaks(outcome, secrets_of(servers), servers.passwords)


def test_static_failure_never_shows_a_password(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    servers = fresh_mail_servers
    path, env = servers.accounts_yaml(
        smtp=[servers.smtp_entry(password=CANARY)],
        imap=[servers.imap_entry(INFO, password=CANARY, outgoing="missing"),
              servers.imap_entry(ANNA, password=CANARY)],
        directory=tmp_path)
    env.pop("MAILCFG_TEST_IMAP_ANNA_PASSWORD")  # MC306 too
    outcome = run_mailcfg(servers, tmp_path, path, env, ["--send-test"], "text")
    assert outcome.code == 1, outcome.outputs
    assert "MC201" in outcome.outputs["stdout (text)"]
    assert "MC306" in outcome.outputs["stdout (text)"]
    assert servers.smtp.starttls.record.connections == 0
    assert_nothing_leaks(outcome, secrets_of(servers), servers.passwords)


def test_the_needles_would_find_a_leak() -> None:
    """The search itself works: each printed form of a password is caught."""
    secret = "Some-Secret-9"
    for printed in (secret, base64.b64encode(secret.encode()).decode(), base64.b64encode(
            f"\0{INFO}\0{secret}".encode()).decode(), base64.b64encode(f"x{secret}".encode()).decode(),
            base64.b64encode(f"xy{secret}".encode()).decode()):
        outcome = Outcome(0, {"stdout": f"before {printed} after"})
        with pytest.raises(AssertionError):
            assert_nothing_leaks(outcome, [secret], [INFO])
    assert_nothing_leaks(Outcome(0, {"stdout": "nothing here"}), [secret], [INFO])
