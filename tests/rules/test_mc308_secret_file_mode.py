"""MC308: secret file readable by others.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc308_secret_file_mode.py. Snippets are tests/builders.py's ``VALID`` with the imap account's
password (line 22) taken from a file in ``secrets/`` or from a systemd credential in ``creds/`` next to the YAML
file; each row names the mode of that file. The file is never opened: a FIFO stands in where that matters.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from builders import VALID
from conftest import Check, assert_fires_once, assert_passes, only

from validator.cli import main
from validator.secrets import Places

FILE = "{file: secrets/info_pw}"
CREDENTIAL = "{credential: info_pw}"
ENV = {"SMTP_PASSWORD": "x"}

# (rule, the imap password's reference, the mode of its file, line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param("MC308", FILE, 0o644, 22, 24, "/imap/0/credentials/password/file", id="MC308-file-0644"),
    pytest.param("MC308", FILE, 0o640, 22, 24, "/imap/0/credentials/password/file", id="MC308-file-group"),
    pytest.param("MC308", FILE, 0o604, 22, 24, "/imap/0/credentials/password/file", id="MC308-file-others"),
    pytest.param(
        "MC308", CREDENTIAL, 0o644, 22, 30, "/imap/0/credentials/password/credential", id="MC308-credential-0644"
    ),
]

# (rule, the imap password's reference, the mode of its file): the rule stays quiet.
PASSES = [
    pytest.param("MC308", FILE, 0o600, id="MC308-file-0600"),
    pytest.param("MC308", FILE, 0o400, id="MC308-file-0400"),
    pytest.param("MC308", CREDENTIAL, 0o400, id="MC308-credential-0400"),
    pytest.param("MC308", FILE, 0o700, id="MC308-file-owner-only"),
]


def secret_files(tmp_path: Path, mode: int) -> Places:
    """``secrets/info_pw`` and ``creds/info_pw`` at ``mode``; the places a run allows: both folders."""
    for folder in ("secrets", "creds"):
        path = tmp_path / folder / "info_pw"
        path.parent.mkdir(exist_ok=True)
        path.write_text("Info-Secret-1\n", encoding="utf-8")
        path.chmod(mode)
    return Places((os.path.realpath(tmp_path / "secrets"),), str(tmp_path / "creds"))


@pytest.mark.parametrize(("rule", "reference", "mode", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, reference: str, mode: int, line: int, column: int, pointer: str
) -> None:
    places = secret_files(tmp_path, mode)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", reference), require_env=True, env=ENV, places=places)
    assert_fires_once(result, rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "reference", "mode"), PASSES)
def test_rule_passes_on_the_corrected_snippet(
    check: Check, tmp_path: Path, rule: str, reference: str, mode: int
) -> None:
    places = secret_files(tmp_path, mode)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", reference), require_env=True, env=ENV, places=places)
    assert_passes(result, rule)
    assert [item.rule for item in result.findings if item.severity.value == "error"] == []


def test_mc308_message_and_the_chmod_to_run(check: Check, tmp_path: Path) -> None:
    places = secret_files(tmp_path, 0o644)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), require_env=True, env=ENV, places=places)
    [finding] = only(result, "MC308")
    assert finding.message == "file secrets/info_pw has mode 0644: group and others can read it (password of 'info')"
    assert finding.hint == f"chmod 600 {os.path.realpath(tmp_path / 'secrets' / 'info_pw')}"
    assert finding.account == "info"


def test_mc308_only_with_require_env(check: Check, tmp_path: Path) -> None:
    places = secret_files(tmp_path, 0o644)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), env=ENV, places=places)
    assert only(result, "MC308") == []


def test_mc308_a_file_outside_the_allowed_directories_is_not_looked_at(check: Check, tmp_path: Path) -> None:
    secret_files(tmp_path, 0o644)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), require_env=True, env=ENV, places=Places())
    assert only(result, "MC308") == []
    assert [item.rule for item in result.findings if item.severity.value == "error"] == ["MC511"]


def test_mc308_a_group_writable_file_can_be_changed(check: Check, tmp_path: Path) -> None:
    places = secret_files(tmp_path, 0o620)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), require_env=True, env=ENV, places=places)
    [finding] = only(result, "MC308")
    assert "mode 0620: group can change it" in finding.message


def test_mc308_never_opens_the_file(check: Check, tmp_path: Path) -> None:
    # A FIFO at mode 0644: opening it for reading would block until a writer came; stat alone does not.
    places = secret_files(tmp_path, 0o600)
    fifo = tmp_path / "secrets" / "info_pw"
    fifo.unlink()
    os.mkfifo(fifo, 0o644)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), require_env=True, env=ENV, places=places)
    assert only(result, "MC308") == []  # not a regular file: MC306 says so
    [missing] = only(result, "MC306")
    assert missing.message == "file secrets/info_pw is not a regular file (password of 'info')"


def test_mc308_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_files(tmp_path, 0o644)
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(VALID.replace("{env: SMTP_PASSWORD}", FILE), encoding="utf-8")
    monkeypatch.delenv("MAILCFG_ALLOW_SECRET_DIR", raising=False)
    monkeypatch.setenv("IMAP_INFO_PASSWORD", "x")
    args = ["check", str(accounts), "--no-config", "--no-color", "--require-secrets"]
    assert main([*args, "--allow-secret-dir", str(tmp_path / "secrets")]) == 0  # a warning
    code = main([*args, "--allow-secret-dir", str(tmp_path / "secrets"), "--strict"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "warning[MC308] file secrets/info_pw has mode 0644: group and others can read it" in out, out
    assert f"hint: chmod 600 {os.path.realpath(tmp_path / 'secrets' / 'info_pw')}" in out, out
    assert "Info-Secret-1" not in out
