"""Options and inputs that crashed (exit 70) or quietly passed a CI gate: each is now exit 2 with a clear line.

From the hardening issue (round 2), section 4 and 5; every case here failed before its fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import Cli

ACCOUNTS = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.invalid
    encryption: ssl
    authentication: none
"""


@pytest.fixture
def accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("CI", "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST", "MAILCFG_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "accounts.yaml"
    path.write_text(ACCOUNTS, encoding="utf-8")
    return path


def test_env_file_in_utf16_is_a_usage_error(accounts: Path, cli: Cli) -> None:
    env_file = accounts.parent / "ci.env"
    env_file.write_bytes("SMTP_PASSWORD=x\r\n".encode("utf-16"))  # what PowerShell 5's `>` writes
    code, _, err = cli("check", str(accounts), "--no-config", "--env-file", str(env_file))
    assert code == 2
    assert f"--env-file {env_file} is UTF-16; save it as UTF-8" in err


def test_env_file_syntax_error_names_the_line(accounts: Path, cli: Cli) -> None:
    env_file = accounts.parent / "ci.env"
    env_file.write_text("A=1\nthis is not an assignment\n", encoding="utf-8")
    code, _, err = cli("check", str(accounts), "--no-config", "--env-file", str(env_file))
    assert code == 2
    assert f"--env-file {env_file}, line 2: not a NAME=value line" in err


def test_env_file_not_utf8(accounts: Path, cli: Cli) -> None:
    env_file = accounts.parent / "ci.env"
    env_file.write_bytes(b"A=1\nB=caf\xe9\n")
    code, _, err = cli("check", str(accounts), "--no-config", "--env-file", str(env_file))
    assert code == 2
    assert "line 2: not UTF-8" in err


@pytest.mark.parametrize("value", ["inf", "1e308", "nan", "0", "-1"])
def test_timeout_out_of_range(accounts: Path, cli: Cli, value: str) -> None:
    code, _, err = cli("verify", str(accounts), "--no-config", "--allow-any-host", "--timeout", value)
    assert code == 2, err
    assert "--timeout" in err
    assert "internal error" not in err


def test_max_file_size_overflow(accounts: Path, cli: Cli) -> None:
    code, _, err = cli("check", str(accounts), "--no-config", "--max-file-size", "9999999999999")
    assert code == 2
    assert "--max-file-size" in err
    assert "internal error" not in err


def test_ca_file_without_a_certificate(accounts: Path, cli: Cli) -> None:
    ca_file = accounts.parent / "ca.pem"
    ca_file.write_text("this is no certificate\n", encoding="utf-8")
    code, out, err = cli("verify", str(accounts), "--no-config", "--allow-any-host", "--ca-file", str(ca_file))
    assert code == 2
    assert err.strip() == f"mailcfg: error: --ca-file {ca_file}: holds no PEM certificate"
    assert out == ""  # before any check, not once per check


def test_only_with_an_unknown_id(accounts: Path, cli: Cli) -> None:
    """`--only outgoin` checked nothing and exited 0."""
    code, _, err = cli("verify", str(accounts), "--no-config", "--allow-any-host", "--only", "outgoin")
    assert code == 2
    assert "--only 'outgoin': no smtp or imap entry has this id; did you mean 'outgoing'?" in err


def test_debug_works_where_the_message_says(accounts: Path, cli: Cli) -> None:
    """The internal-error line says "run with --debug": after the command name it was "no such option"."""
    code, _, err = cli("check", str(accounts), "--no-config", "--debug")
    assert code == 0, err
    assert "No such option" not in err


def test_config_cannot_ignore_withheld_checks(accounts: Path, cli: Cli) -> None:
    """A `.mailcfg.yaml` from the pull request ignoring MC511 turned "nothing verified" into exit 0."""
    (accounts.parent / ".mailcfg.yaml").write_text("ignore: [MC511]\nseverity: {MC511: info}\n", encoding="utf-8")
    code, out, err = cli("verify", str(accounts), "--no-color", "--allow-host", "mail.example.com")
    assert code == 3, out + err
    assert "error[MC511]" in out
