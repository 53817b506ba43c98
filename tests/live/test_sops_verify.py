"""`mailcfg verify --sops` against the real servers of tests/live/servers.py.

The account file holds the real passwords, encrypted by the real `sops` program for an age key made in the test;
verify decrypts it with `sops --decrypt` and logs in. A wrong password, encrypted the same way, is the canary: it
reaches no output (every report format, stdout and file, stderr, the job summary), and neither does a right one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from sops_files import age_key, encrypt, sops_program

from .servers import MailServers
from .test_secret_sources import INFO, MAILER, entries
from .test_verify_secrets import CANARY, assert_nothing_leaks, run_mailcfg


def test_verify_sops_logs_in_with_the_decrypted_passwords(fresh_mail_servers: MailServers, tmp_path: Path) -> None:
    servers = fresh_mail_servers
    document = entries(servers, servers.passwords[MAILER], servers.passwords[INFO])
    key = age_key(tmp_path / "age")
    path = encrypt(yaml.safe_dump({"version": 1, **document}, sort_keys=False), tmp_path / "accounts.yaml", key)
    assert servers.passwords[INFO] not in path.read_text(encoding="utf-8")
    env = {"PATH": os.path.dirname(sops_program()) + os.pathsep + os.environ["PATH"],
           "SOPS_AGE_KEY_FILE": str(key.key_file)}
    outcome = run_mailcfg(servers, tmp_path, path, env, ["--allow-any-host", "--sops"], "json")
    assert outcome.code == 0, outcome.outputs
    report = json.loads(outcome.outputs["stdout (json)"])
    assert {(item["account"], item["protocol"], item["status"]) for item in report["live"]} == {
        ("outgoing", "smtp", "ok"), ("info", "imap", "ok")}
    [attempt] = servers.smtp.starttls.record.credentials_received
    assert (attempt.username, attempt.success) == (MAILER, True)
    assert_nothing_leaks(outcome, [servers.passwords[MAILER], servers.passwords[INFO]], [])


def test_verify_sops_a_wrong_encrypted_password_is_rejected_and_never_shown(
    fresh_mail_servers: MailServers, tmp_path: Path
) -> None:
    servers = fresh_mail_servers
    document = entries(servers, servers.passwords[MAILER], CANARY)
    key = age_key(tmp_path / "age")
    path = encrypt(yaml.safe_dump({"version": 1, **document}, sort_keys=False), tmp_path / "accounts.yaml", key)
    env = {"PATH": os.path.dirname(sops_program()) + os.pathsep + os.environ["PATH"],
           "SOPS_AGE_KEY_FILE": str(key.key_file)}
    for stdout_format in ("text", "json"):
        outcome = run_mailcfg(servers, tmp_path, path, env, ["--allow-any-host", "--sops"], stdout_format)
        assert outcome.code == 3, outcome.outputs
        assert "MC507" in outcome.outputs[f"stdout ({stdout_format})"]
        assert_nothing_leaks(outcome, [CANARY, servers.passwords[MAILER]], [])
