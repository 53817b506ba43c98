"""MC306: referenced secret is not available.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc306_env_unset.py. Snippets are tests/builders.py's ``VALID`` with a line or two changed (its lines
are listed there).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import GOOGLE_SERVICE_ACCOUNT, M365_APP_ONLY, VALID, imap_entry, with_oauth2
from conftest import Check, assert_fires_once, assert_passes, only, where

from validator.cli import main
from validator.secrets import Places

# (rule, YAML source, CheckOptions fields, expected line, column, pointer): one finding of the rule.
FIRES = [
    pytest.param(
        "MC306",
        VALID,
        {"require_env": True, "env": {"SMTP_PASSWORD": "x"}},
        22,
        23,
        "/imap/0/credentials/password/env",
        id="MC306",
    ),
    pytest.param(
        "MC306",
        with_oauth2(),
        {"require_env": True, "env": {"SMTP_PASSWORD": "x"}},
        26,
        30,
        "/imap/0/credentials/oauth2/client_secret/env",
        id="MC306-oauth2-client-secret",
    ),
    pytest.param(
        "MC306",
        VALID.replace("{env: IMAP_INFO_PASSWORD}", "{file: secrets/missing}"),
        {"require_env": True, "env": {"SMTP_PASSWORD": "x"}, "places": Places(("/",))},
        22,
        24,
        "/imap/0/credentials/password/file",
        id="MC306-file",
    ),
    pytest.param(
        "MC306",
        VALID.replace("{env: IMAP_INFO_PASSWORD}", "{credential: info_pw}"),
        {"require_env": True, "env": {"SMTP_PASSWORD": "x"}},
        22,
        30,
        "/imap/0/credentials/password/credential",
        id="MC306-credential-no-directory",
    ),
]

# (rule, YAML source, CheckOptions fields): the corrected or near-miss snippet on which the rule stays quiet.
PASSES = [
    pytest.param(
        "MC306",
        VALID,
        {"require_env": True, "env": {"SMTP_PASSWORD": "x", "IMAP_INFO_PASSWORD": "y"}},
        id="MC306-all-set",
    ),
    pytest.param("MC306", VALID, {"require_env": False, "env": {}}, id="MC306-not-required"),
    pytest.param(
        "MC306",
        with_oauth2(),
        {"require_env": True, "env": {"SMTP_PASSWORD": "x", "M365_CLIENT_SECRET": "y"}},
        id="MC306-oauth2-all-set",
    ),
]


@pytest.mark.parametrize(("rule", "source", "options", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, options: dict[str, Any], line: int, column: int, pointer: str
) -> None:
    assert_fires_once(check(source, **options), rule, tmp_path / "accounts.yaml", line, column, pointer)


@pytest.mark.parametrize(("rule", "source", "options"), PASSES)
def test_rule_passes_on_the_corrected_snippet(check: Check, rule: str, source: str, options: dict[str, Any]) -> None:
    assert_passes(check(source, **options), rule)


def test_mc306_reports_every_unset_variable_at_once(check: Check) -> None:
    result = check(VALID + imap_entry(), require_env=True, env={})
    assert where(result, "MC306") == [("error", 11, 23), ("error", 22, 23), ("error", 33, 23)]
    named = [finding.message.split()[2] for finding in only(result, "MC306")]
    assert named == ["SMTP_PASSWORD", "IMAP_INFO_PASSWORD", "IMAP_ANNA_PASSWORD"]


def test_mc306_only_with_require_env(check: Check) -> None:
    assert only(check(VALID, env={}), "MC306") == []


def test_mc306_an_empty_value_counts_as_unset(check: Check) -> None:
    result = check(VALID, require_env=True, env={"SMTP_PASSWORD": "", "IMAP_INFO_PASSWORD": "y"})
    assert where(result, "MC306") == [("error", 11, 23)]


def test_mc306_never_shows_a_value(check: Check) -> None:
    result = check(VALID, require_env=True, env={"SMTP_PASSWORD": "hunter2-value"})
    assert len(only(result, "MC306")) == 1
    for finding in result.findings:
        assert "hunter2" not in finding.message
        assert "hunter2" not in (finding.hint or "")


def _unset_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "version: 1\nsmtp:\n  - id: out\n    host: smtp.example.com\n    encryption: starttls\n    credentials:\n"
        "      username: mailer@example.com\n      password: {env: MAILCFG_EDGE_PASSWORD}\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("MAILCFG_EDGE_PASSWORD", raising=False)
    return accounts


def test_mc306_hint_names_the_env_file_that_was_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = _unset_secret(tmp_path, monkeypatch)
    env_file = tmp_path / "ci.env"
    env_file.write_text("MAILCFG_OTHER=1\n", encoding="utf-8")
    code = main(["check", str(accounts), "--no-config", "--no-color", "--require-env", "--env-file", str(env_file)])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "MC306" in out, out
    assert f"export it; it is not in {env_file} either" in out, out
    assert "pass --env-file" not in out, out


def test_mc306_hint_without_an_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = _unset_secret(tmp_path, monkeypatch)
    code = main(["check", str(accounts), "--no-config", "--no-color", "--require-env"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "hint: export it, or pass --env-file" in out, out


# ---------------------------------------------------------------------------------------------- oauth2


def test_mc306_reports_every_unset_oauth2_variable_at_its_env(check: Check) -> None:
    # The smtp entry: a Google service account (`service_account` on line 13); the imap account (moved down by 2): a
    # Microsoft client secret and a refresh token (lines 28 and 29); nothing set.
    keys = (*M365_APP_ONLY, "refresh_token: {env: INFO_REFRESH_TOKEN}")
    source = with_oauth2(*keys, base=with_oauth2(*GOOGLE_SERVICE_ACCOUNT, entry="smtp"))
    result = check(source, require_env=True, env={})
    assert where(result, "MC306") == [("error", 13, 32), ("error", 28, 30), ("error", 29, 30)]
    assert [(finding.message, finding.pointer) for finding in only(result, "MC306")] == [
        (
            "environment variable GOOGLE_SA_KEY is not set (service-account key of 'outgoing')",
            "/smtp/0/credentials/oauth2/service_account/env",
        ),
        (
            "environment variable M365_CLIENT_SECRET is not set (client secret of 'info')",
            "/imap/0/credentials/oauth2/client_secret/env",
        ),
        (
            "environment variable INFO_REFRESH_TOKEN is not set (refresh token of 'info')",
            "/imap/0/credentials/oauth2/refresh_token/env",
        ),
    ]


def test_mc306_an_oauth2_command_references_no_variable(check: Check) -> None:
    source = with_oauth2("command: [oama, access, info@example.com]")
    assert only(check(source, require_env=True, env={"SMTP_PASSWORD": "x"}), "MC306") == []


# ---------------------------------------------------------------------------------------------- files, credentials

FILE = "{file: secrets/info_pw}"


def _secret_file(tmp_path: Path, content: bytes | None = b"Info-Secret-1\n", mode: int = 0o600) -> Places:
    folder = tmp_path / "secrets"
    folder.mkdir(exist_ok=True)
    if content is not None:
        (folder / "info_pw").write_bytes(content)
        (folder / "info_pw").chmod(mode)
    return Places((str(folder.resolve()),), str(folder))


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        ("missing", "file secrets/info_pw does not exist"),
        ("empty", "file secrets/info_pw is empty"),
        ("large", "file secrets/info_pw is larger than 64 KiB"),
        ("directory", "file secrets/info_pw is not a regular file"),
    ],
)
def test_mc306_a_secret_file_that_cannot_be_read(check: Check, tmp_path: Path, setup: str, words: str) -> None:
    content = {"missing": None, "empty": b"", "large": b"x" * (64 * 1024 + 1), "directory": None}[setup]
    places = _secret_file(tmp_path, content)
    if setup == "directory":
        (tmp_path / "secrets" / "info_pw").mkdir()
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE)
    [finding] = only(check(source, require_env=True, env={"SMTP_PASSWORD": "x"}, places=places), "MC306")
    assert finding.message == f"{words} (password of 'info')"
    assert (finding.line, finding.column, finding.pointer) == (22, 24, "/imap/0/credentials/password/file")
    assert (finding.hint or "").endswith("who can enter it: IT desk")


def test_mc306_every_missing_secret_at_once_whatever_its_source(check: Check, tmp_path: Path) -> None:
    places = Places((str(tmp_path.resolve()),), str(tmp_path / "creds"))
    (tmp_path / "creds").mkdir()
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", "{credential: info_pw}") + imap_entry().replace(
        "{env: IMAP_ANNA_PASSWORD}", "{file: anna_pw}"
    )
    result = check(source, require_env=True, env={}, places=places)
    assert [(finding.message, finding.pointer) for finding in only(result, "MC306")] == [
        ("environment variable SMTP_PASSWORD is not set (password of 'outgoing')", "/smtp/0/credentials/password/env"),
        ("credential info_pw does not exist (password of 'info')", "/imap/0/credentials/password/credential"),
        ("file anna_pw does not exist (password of 'anna-mail')", "/imap/1/credentials/password/file"),
    ]


def test_mc306_a_present_readable_file_passes_and_is_not_shown(check: Check, tmp_path: Path) -> None:
    places = _secret_file(tmp_path)
    result = check(VALID.replace("{env: IMAP_INFO_PASSWORD}", FILE), require_env=True, env=ENV_SET, places=places)
    assert_passes(result, "MC306")
    assert result.exit_code(True) == 0
    assert all("Info-Secret-1" not in f"{item.message} {item.hint}" for item in result.findings)


def test_mc306_a_credential_in_the_credentials_directory(check: Check, tmp_path: Path) -> None:
    places = _secret_file(tmp_path)  # $CREDENTIALS_DIRECTORY is the same folder here
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", "{credential: info_pw}")
    assert only(check(source, require_env=True, env=ENV_SET, places=Places((), places.credentials)), "MC306") == []
    [finding] = only(check(source, require_env=True, env=ENV_SET, places=Places()), "MC306")
    assert finding.message == "credential info_pw: CREDENTIALS_DIRECTORY is not set (password of 'info')"
    assert "LoadCredential=" in (finding.hint or "")


def test_mc306_a_command_is_never_run_by_check(check: Check, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    source = VALID.replace("{env: IMAP_INFO_PASSWORD}", f"{{command: [/usr/bin/touch, {marker}]}}")
    result = check(source, require_env=True, env=ENV_SET)
    assert only(result, "MC306") == []
    assert result.exit_code(True) == 0
    assert not marker.exists()


ENV_SET = {"SMTP_PASSWORD": "x"}
