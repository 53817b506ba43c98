"""mailcfg diff: two account sets compared by id after defaults are applied, from paths or git revisions.

What a reviewer relies on: additions, removals, field changes and renames are reported, reordering and
defaults written out are not, secrets appear by variable name only (never a value, not even a plaintext
one on a side with static errors), the exit codes (0 no change, 1 change, 2 error), the markdown a
pull request gets (compared with tests/data/diff.golden.md byte for byte), and the documented GitHub
Actions workflow that posts it.

To regenerate the golden file after an intended change of the markdown, run from the repository root
`mailcfg diff --format markdown tests/fixtures/diff/old tests/fixtures/diff/new > tests/data/diff.golden.md`
and review the difference.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import GOOGLE_SERVICE_ACCOUNT, M365_APP_ONLY, VALID, Cli, edit, imap_entry, with_oauth2

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "diff"
OLD, NEW = FIXTURES / "old", FIXTURES / "new"
GOLDEN = ROOT / "tests" / "data" / "diff.golden.md"
WORKFLOW = FIXTURES / "pr-comment.yml"
README = ROOT / "README.md"
FORMATS = ("text", "markdown", "json")
GIT = ("git", "-c", "user.name=t", "-c", "user.email=t@example.test", "-c", "commit.gpgsign=false")
CANARY = "Canary-Secret-7f3a9c"

# VALID (tests/builders.py: users anna, smtp outgoing, imap info) plus a personal mailbox.
BASE = VALID + imap_entry(contact="Anna")
# A second shared mailbox.
SUPPORT = imap_entry(
    id="support", scope="system", user=None, address="support@example.com", password="IMAP_SUPPORT_PASSWORD"
)
# BASE with the smtp entry's encryption set to the ambiguous `tls`: one MC104 error.
BROKEN = BASE.replace("    encryption: starttls\n", "    encryption: tls\n", 1)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def pair(tmp_path: Path, old: str, new: str) -> tuple[str, str]:
    return str(write(tmp_path, "old.yaml", old)), str(write(tmp_path, "new.yaml", new))


def as_json(cli: Cli, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("diff", "--format", "json", *args)
    assert err == ""
    return code, json.loads(out)


def kinds(document: dict[str, Any]) -> list[tuple[str, str, str | None, str]]:
    return [(e["section"], e["id"], e["old_id"], e["kind"]) for e in document["entries"]]


def fields(document: dict[str, Any], section: str, key: str) -> list[tuple[str, Any, Any]]:
    (entry,) = [e for e in document["entries"] if (e["section"], e["id"]) == (section, key)]
    return [(f["field"], f["old"], f["new"]) for f in entry["fields"]]


@pytest.fixture(autouse=True)
def _no_outer_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in an empty directory: no configuration file of the surroundings, no git state of an outer hook."""
    for key in list(os.environ):
        if key.startswith("GIT_"):
            monkeypatch.delenv(key)
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)


# --- paths --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_identical_sets_exit_0(cli: Cli, tmp_path: Path, fmt: str) -> None:
    old, new = pair(tmp_path, BASE, BASE)
    code, out, err = cli("diff", "--format", fmt, old, new)
    assert (code, err) == (0, "")
    expected = {
        "text": "no changes to the account set\n",
        "markdown": "**mailcfg diff**: no changes to the account set\n",
    }
    if fmt == "json":
        document = json.loads(out)
        assert document["changed"] is False
        assert document["entries"] == []
        assert document["effects"] == []
    else:
        assert out == expected[fmt]


def test_reordering_and_formatting_only_is_no_change(cli: Cli, tmp_path: Path) -> None:
    """Entries and keys in another order, flow style, comments, split over files and documents: no change."""
    old = write(tmp_path, "old.yaml", BASE)
    new = tmp_path / "new"
    write(
        new,
        "mailboxes.yaml",
        "version: 1\n"
        "imap:\n"
        "  - {id: anna-mail, outgoing: outgoing, encryption: ssl, host: imap.example.com, user: anna,\n"
        "     address: anna@example.com, scope: user,\n"
        "     credentials: {contact: Anna, password: {env: IMAP_ANNA_PASSWORD}, username: anna@example.com}}\n"
        "  # the shared mailbox\n"
        "  - outgoing: outgoing\n"
        "    credentials:\n"
        "      contact: IT desk\n"
        "      password: {env: IMAP_INFO_PASSWORD}\n"
        "      username: info@example.com\n"
        "    id: info\n"
        "    encryption: ssl\n"
        "    host: imap.example.com\n"
        "    address: info@example.com\n"
        "    scope: system\n"
        "---\n"
        "version: 1\n"
        "users: [{id: anna}]\n",
    )
    write(
        new,
        "smtp.yaml",
        "version: 1\n"
        "smtp:\n"
        "  - test_recipient: it@example.com\n"
        "    credentials: {password: {env: SMTP_PASSWORD}, contact: IT desk, username: mailer@example.com}\n"
        "    encryption: starttls\n"
        "    host: smtp.example.com\n"
        "    id: outgoing\n",
    )
    assert cli("check", str(new))[0] == 0
    for fmt in FORMATS:
        code, out, err = cli("diff", "--format", fmt, str(old), str(new))
        assert (code, err) == (0, ""), fmt
        assert "no changes" in out or json.loads(out)["changed"] is False
    # Control: the same layout with one value changed is a change.
    (new / "smtp.yaml").write_text(
        (new / "smtp.yaml").read_text(encoding="utf-8").replace("smtp.example.com", "mail.example.com"),
        encoding="utf-8",
    )
    code, document = as_json(cli, str(old), str(new))
    assert code == 1
    assert fields(document, "smtp", "outgoing") == [("host", "smtp.example.com", "mail.example.com")]


def test_defaults_written_or_left_out_is_no_change(cli: Cli, tmp_path: Path) -> None:
    explicit = edit(
        ("    encryption: starttls\n", "    port: 587\n    encryption: starttls\n    authentication: required\n"),
        base=BASE,
    )
    explicit = edit(("    encryption: ssl\n", "    port: 993\n    encryption: ssl\n"), base=explicit, every=True)
    explicit = edit(
        ("    outgoing: outgoing\n", "    outgoing: outgoing\n    sent_folder: Sent\n    allow_insecure: false\n"),
        base=explicit,
        every=True,
    )
    assert explicit.count("port:") == 3
    old, new = pair(tmp_path, BASE, explicit)
    assert cli("diff", old, new) == (0, "no changes to the account set\n", "")
    assert cli("diff", new, old)[0] == 0
    # Control: a port that is not the default is a change, shown against the default it replaces.
    _, other = pair(tmp_path, BASE, edit(("port: 587", "port: 2587"), base=explicit))
    code, document = as_json(cli, old, other)
    assert code == 1
    assert fields(document, "smtp", "outgoing") == [("port", 587, 2587)]


def test_added_and_removed(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BASE, VALID + SUPPORT)
    code, out, err = cli("diff", old, new)
    assert (code, err) == (1, "")
    assert out == ("imap anna-mail: removed\nimap support: added\n2 accounts changed: 1 added, 1 removed\n")
    code, document = as_json(cli, old, new)
    assert code == 1
    assert kinds(document) == [("imap", "anna-mail", None, "removed"), ("imap", "support", None, "added")]
    assert document["summary"] == {"added": 1, "removed": 1, "changed": 0, "renamed": 0}
    assert document["effects"] == []


def test_changed_field_by_field_with_the_effect_on_references(cli: Cli, tmp_path: Path) -> None:
    new_text = edit(("    encryption: starttls\n", "    port: 465\n    encryption: ssl\n"), base=BASE)
    old, new = pair(tmp_path, BASE, new_text)
    code, out, err = cli("diff", old, new)
    assert (code, err) == (1, "")
    assert out == (
        "smtp outgoing: changed\n"
        "  port: 587 → 465\n"
        "  encryption: starttls → ssl\n"
        "effects on references:\n"
        "  imap 'anna-mail' sends through 'outgoing', which moves from smtp.example.com:587 starttls to "
        "smtp.example.com:465 ssl\n"
        "  imap 'info' sends through 'outgoing', which moves from smtp.example.com:587 starttls to "
        "smtp.example.com:465 ssl\n"
        "1 account changed: 1 changed\n"
    )
    code, document = as_json(cli, old, new)
    assert fields(document, "smtp", "outgoing") == [("port", 587, 465), ("encryption", "starttls", "ssl")]
    assert len(document["effects"]) == 2


def test_an_imap_account_moved_to_another_smtp_entry(cli: Cli, tmp_path: Path) -> None:
    second = (
        "  - id: bulk\n    host: bulk.example.com\n    encryption: ssl\n    test_recipient: it@example.com\n"
        "    authentication: none\n"
    )
    old_text = edit(("imap:\n", second + "imap:\n"), base=BASE)
    # both imap accounts
    new_text = edit(("    outgoing: outgoing\n", "    outgoing: bulk\n"), base=old_text, every=True)
    old, new = pair(tmp_path, old_text, new_text)
    code, document = as_json(cli, old, new)
    assert code == 1
    assert kinds(document) == [("imap", "anna-mail", None, "changed"), ("imap", "info", None, "changed")]
    assert fields(document, "imap", "info") == [("outgoing", "outgoing", "bulk")]
    assert document["effects"] == [
        f"imap '{key}' now sends through 'bulk' (bulk.example.com:465 ssl) instead of 'outgoing' "
        "(smtp.example.com:587 starttls)"
        for key in ("anna-mail", "info")
    ]


def test_rename_is_detected_and_carries_its_field_changes(cli: Cli, tmp_path: Path) -> None:
    new_text = edit(("  - id: anna-mail\n", "  - id: anna-inbox\n"), base=BASE)
    old, new = pair(tmp_path, BASE, new_text)
    code, out, _ = cli("diff", old, new)
    assert code == 1
    assert out == "imap anna-mail → anna-inbox: renamed\n1 account changed: 1 renamed\n"
    # The same mailbox under a new id with another Sent folder: still a rename, with the field change.
    moved = edit(("      contact: Anna\n", "      contact: Anna\n    sent_folder: Gesendet\n"), base=new_text)
    _, new = pair(tmp_path, BASE, moved)
    code, document = as_json(cli, old, new)
    assert code == 1
    assert kinds(document) == [("imap", "anna-inbox", "anna-mail", "renamed")]
    assert fields(document, "imap", "anna-inbox") == [("sent_folder", "Sent", "Gesendet")]
    assert document["summary"] == {"added": 0, "removed": 0, "changed": 0, "renamed": 1}


def test_renamed_smtp_entry_changes_references_but_not_the_server(cli: Cli, tmp_path: Path) -> None:
    new_text = edit(("  - id: outgoing\n", "  - id: mailout\n"), base=BASE)
    new_text = edit(("    outgoing: outgoing\n", "    outgoing: mailout\n"), base=new_text, every=True)
    old, new = pair(tmp_path, BASE, new_text)
    code, document = as_json(cli, old, new)
    assert code == 1
    assert kinds(document) == [
        ("smtp", "mailout", "outgoing", "renamed"),
        ("imap", "anna-mail", None, "changed"),
        ("imap", "info", None, "changed"),
    ]
    assert fields(document, "imap", "info") == [("outgoing", "outgoing", "mailout")]
    assert document["effects"] == []  # the same server under a new name: nobody sends elsewhere


def test_a_different_mailbox_under_a_new_id_is_not_a_rename(cli: Cli, tmp_path: Path) -> None:
    new_text = edit(("  - id: anna-mail\n", "  - id: anna-private\n"), base=BASE)
    new_text = edit(("    address: anna@example.com\n", "    address: anna.private@example.com\n"), base=new_text)
    old, new = pair(tmp_path, BASE, new_text)
    code, document = as_json(cli, old, new)
    assert code == 1
    assert kinds(document) == [("imap", "anna-mail", None, "removed"), ("imap", "anna-private", None, "added")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_secret_reference_change_shows_variable_names_only(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", CANARY)
    monkeypatch.setenv("SMTP_PASSWORD_2", CANARY + "-2")
    old, new = pair(tmp_path, BASE, edit(("{env: SMTP_PASSWORD}", "{env: SMTP_PASSWORD_2}"), base=BASE))
    code, out, err = cli("diff", "--format", fmt, old, new)
    assert (code, err) == (1, "")
    assert CANARY not in out
    expected = {
        "text": "  credentials.password: env SMTP_PASSWORD → env SMTP_PASSWORD_2\n",
        "markdown": "credentials.password: `env SMTP_PASSWORD` → `env SMTP_PASSWORD_2`",
        "json": None,
    }[fmt]
    if expected is None:
        assert fields(json.loads(out), "smtp", "outgoing") == [
            ("credentials.password", {"env": "SMTP_PASSWORD"}, {"env": "SMTP_PASSWORD_2"})
        ]
    else:
        assert expected in out


# --- the login method in words ------------------------------------------------------------------------------

M365 = with_oauth2(base=BASE)
M365_DELEGATED = (
    "provider: microsoft",
    "tenant: fabrikam.onmicrosoft.com",
    "client_id: 11111111-2222-3333-4444-555555555555",
    "refresh_token: {env: INFO_REFRESH_TOKEN}",
    "scopes: [https://outlook.office.com/IMAP.AccessAsUser.All, offline_access]",
    "mechanism: oauthbearer",
)


def words(cli: Cli, tmp_path: Path, old_text: str, new_text: str, fmt: str = "text") -> list[str]:
    """The lines of the one changed account (text), or its fields cell split at ``<br>`` (markdown)."""
    old, new = pair(tmp_path, old_text, new_text)
    code, out, err = cli("diff", "--format", fmt, old, new)
    assert (code, err) == (1, ""), out
    if fmt == "markdown":
        (row,) = [line for line in out.splitlines() if line.startswith("| imap `info` | changed | ")]
        return row.removeprefix("| imap `info` | changed | ").removesuffix(" |").split("<br>")
    lines = out.splitlines()
    assert lines[0] == "imap info: changed", out
    assert lines[-1] == "1 account changed: 1 changed", out
    return [line.removeprefix("  ") for line in lines[1:-1]]


def test_login_change_from_password_to_oauth2_and_back_in_words(cli: Cli, tmp_path: Path) -> None:
    assert words(cli, tmp_path, BASE, M365) == ["login changed from password to OAuth2 (microsoft, client credentials)"]
    assert words(cli, tmp_path, M365, BASE) == ["login changed from OAuth2 (microsoft, client credentials) to password"]
    google = with_oauth2(*GOOGLE_SERVICE_ACCOUNT, base=BASE)
    assert words(cli, tmp_path, BASE, google) == ["login changed from password to OAuth2 (google, service account)"]
    delegated = with_oauth2(*M365_DELEGATED, base=BASE)
    assert words(cli, tmp_path, BASE, delegated) == [
        "login changed from password to OAuth2 (microsoft, refresh token, OAUTHBEARER)"
    ]
    password = "{env: IMAP_INFO_PASSWORD}\n"
    app_password = edit((password, password + "      app_password: true\n"), base=BASE)
    assert words(cli, tmp_path, app_password, M365) == [
        "login changed from app password to OAuth2 (microsoft, client credentials)"
    ]
    assert words(cli, tmp_path, BASE, app_password) == ["password now declared an app password (`app_password`)"]


def test_login_change_in_json_keeps_the_references_and_the_words(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BASE, M365)
    code, document = as_json(cli, old, new)
    assert code == 1
    (entry,) = document["entries"]
    assert entry["fields"] == [
        {
            "field": "credentials.login",
            "old": {"password": {"env": "IMAP_INFO_PASSWORD"}},
            "new": {
                "oauth2": {
                    "provider": "microsoft",
                    "tenant": "contoso.onmicrosoft.com",
                    "client_id": "00000000-0000-0000-0000-000000000000",
                    "client_secret": {"env": "M365_CLIENT_SECRET"},
                    "mechanism": "xoauth2",
                }
            },
            "words": "login changed from password to OAuth2 (microsoft, client credentials)",
        }
    ]


def test_oauth2_changes_in_words(cli: Cli, tmp_path: Path) -> None:
    assert words(cli, tmp_path, M365, with_oauth2(*M365_DELEGATED, base=BASE)) == [
        "SASL mechanism changed from XOAUTH2 to OAUTHBEARER",
        "OAuth2 grant changed from client credentials to refresh token",
        "OAuth2 client id changed from 00000000-0000-0000-0000-000000000000 to 11111111-2222-3333-4444-555555555555",
        "OAuth2 tenant changed from contoso.onmicrosoft.com to fabrikam.onmicrosoft.com",
        "OAuth2 scopes changed from the provider's default to https://outlook.office.com/IMAP.AccessAsUser.All, "
        "offline_access",
        "credentials.oauth2.client_secret: env M365_CLIENT_SECRET → (unset)",
        "credentials.oauth2.refresh_token: (unset) → env INFO_REFRESH_TOKEN",
    ]
    google = with_oauth2(*GOOGLE_SERVICE_ACCOUNT, "subject: shared@example.com", base=BASE)
    assert words(cli, tmp_path, M365, google) == [
        "OAuth2 provider changed from microsoft to google",
        "OAuth2 grant changed from client credentials to service account",
        "OAuth2 client id removed (was 00000000-0000-0000-0000-000000000000)",
        "OAuth2 tenant removed (was contoso.onmicrosoft.com)",
        "service account's mailbox (subject) set to shared@example.com",
        "credentials.oauth2.client_secret: env M365_CLIENT_SECRET → (unset)",
        "credentials.oauth2.service_account: (unset) → env GOOGLE_SA_KEY",
    ]


def test_token_endpoint_and_command_changes_in_words(cli: Cli, tmp_path: Path) -> None:
    generic = ("client_id: app", "client_secret: {env: CS}")
    before = with_oauth2("token_url: https://login.example.com/token", *generic, base=BASE)
    after = with_oauth2("token_url: https://login.example.net/token", *generic, base=BASE)
    assert words(cli, tmp_path, before, after) == [
        "OAuth2 token endpoint changed from https://login.example.com/token to https://login.example.net/token"
    ]
    command = with_oauth2("command: [oama, access, info@example.com]", base=BASE)
    other = with_oauth2("command: [pass, show, mail/info]", base=BASE)
    assert words(cli, tmp_path, command, other) == [
        "token command changed from oama access info@example.com to pass show mail/info"
    ]


def test_a_changed_tenant_in_markdown_shows_the_values_as_code(cli: Cli, tmp_path: Path) -> None:
    other = M365.replace("tenant: contoso.onmicrosoft.com", "tenant: fabrikam.onmicrosoft.com")
    assert words(cli, tmp_path, M365, other, "markdown") == [
        "OAuth2 tenant changed from `contoso.onmicrosoft.com` to `fabrikam.onmicrosoft.com`"
    ]
    piped = other.replace("client_id: 00000000-0000-0000-0000-000000000000", "client_id: a|b")
    text = words(cli, tmp_path, M365, piped, "markdown")
    assert "OAuth2 client id changed from `00000000-0000-0000-0000-000000000000` to `a\\|b`" in text


def test_the_username_beside_a_login_change_is_still_a_field(cli: Cli, tmp_path: Path) -> None:
    new = M365.replace("username: info@example.com", "username: info@contoso.onmicrosoft.com")
    assert words(cli, tmp_path, BASE, new) == [
        "login changed from password to OAuth2 (microsoft, client credentials)",
        "credentials.username: info@example.com → info@contoso.onmicrosoft.com",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_oauth2_secret_values_never_appear(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    # The variables' values are never read; a plaintext secret on the old side (a static error) is never shown.
    for name in ("IMAP_INFO_PASSWORD", "M365_CLIENT_SECRET", "GOOGLE_SA_KEY"):
        monkeypatch.setenv(name, f"{CANARY}-{name}")
    plaintext = with_oauth2(*M365_APP_ONLY[:3], f"client_secret: {CANARY}", base=BASE)
    google = with_oauth2(*GOOGLE_SERVICE_ACCOUNT, base=BASE)
    for old_text, new_text in ((BASE, M365), (M365, google), (plaintext, M365)):
        old, new = pair(tmp_path, old_text, new_text)
        code, out, err = cli("diff", "--format", fmt, old, new)
        assert code == 1, err
        assert CANARY not in out + err


def test_output_option_writes_the_report_to_a_file(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BASE, VALID)
    target = tmp_path / "diff.md"
    assert cli("diff", "--format", "markdown", "--output", str(target), old, new) == (1, "", "")
    assert target.read_text(encoding="utf-8").startswith("**mailcfg diff**: 1 account changed: 1 removed\n")


# --- exit code 2 -------------------------------------------------------------------------------------------


def test_a_new_side_with_static_errors_exits_2_and_shows_them(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BASE, BROKEN)
    for fmt in FORMATS:
        code, out, err = cli("diff", "--format", fmt, old, new)
        assert (code, out) == (2, ""), fmt
        assert f"{new}:7:17: error[MC104] 'encryption' of smtp entry 'outgoing' is 'tls'" in err
        assert "    7 |     encryption: tls\n" in err
        assert f"mailcfg: error: {new} has static errors (shown above); fix them before comparing\n" in err


def test_an_old_side_with_static_errors_is_compared_anyway(cli: Cli, tmp_path: Path) -> None:
    """The pull request that fixes a broken file (a plaintext password, say) is exactly the one to review:
    refusing its diff failed the README's PR-comment workflow there."""
    old, new = pair(tmp_path, BROKEN, BASE)
    for fmt in FORMATS:
        code, out, err = cli("diff", "--format", fmt, old, new)
        assert code == 1, (fmt, err)
        assert "outgoing" in out, fmt
        assert f"{old}:7:17: error[MC104]" in err
        assert f"{old} (the old side) has static errors (shown above); compared the entries that could be read" in err


def test_both_sides_with_static_errors_show_both(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BROKEN, edit(("    address: anna@example.com\n", "    address: anna@\n"), base=BASE))
    code, out, err = cli("diff", old, new)
    assert (code, out) == (2, "")
    assert f"{old}:7:17: error[MC104]" in err
    assert f"{new}:" in err
    assert "error[MC105]" in err
    assert err.index(f"{old}:7:17") < err.index("error[MC105]")
    assert f"mailcfg: error: {new} has static errors" in err


def test_warnings_on_a_side_do_not_stop_the_diff(cli: Cli, tmp_path: Path) -> None:
    unused = "  - id: backup\n    host: backup.example.com\n    encryption: ssl\n    test_recipient: it@example.com\n"
    old, new = pair(tmp_path, BASE, edit(("imap:\n", unused + "    authentication: none\nimap:\n"), base=BASE))
    assert cli("check", "--format", "json", new)[0] == 0  # warnings only (MC206, MC405)
    assert cli("diff", old, new) == (1, "smtp backup: added\n1 account changed: 1 added\n", "")


def test_missing_path_outside_a_repository_exits_2(cli: Cli, tmp_path: Path) -> None:
    old = str(write(tmp_path, "old.yaml", BASE))
    code, out, err = cli("diff", old, str(tmp_path / "nope.yaml"))
    assert (code, out) == (2, "")
    assert "is neither a path nor a git revision" in err


def test_paths_after_two_path_sides_are_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    old, new = pair(tmp_path, BASE, BASE)
    code, out, err = cli("diff", old, new, "accounts/")
    assert (code, out) == (2, "")
    assert "restrict git revisions only" in err


# --- git revisions -----------------------------------------------------------------------------------------


class Repo:
    """A git repository in a temporary directory; the current directory while the test runs."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        run = subprocess.run([*GIT, *args], cwd=self.path, capture_output=True, text=True, check=False, timeout=60)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        """Write (or, for None, delete) files, commit them all, return the commit's SHA."""
        for name, text in files.items():
            if text is None:
                (self.path / name).unlink()
            else:
                write(self.path, name, text)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    path = tmp_path / "repo"
    path.mkdir()
    monkeypatch.chdir(path)
    return Repo(path)


def test_git_revisions_add_remove_change_rename(cli: Cli, repo: Repo) -> None:
    base = repo.commit({"accounts/smtp.yaml": VALID, "notes/other.yaml": "not: an account file\n"})
    changed = edit(("    encryption: starttls\n", "    port: 465\n    encryption: ssl\n"), base=VALID + SUPPORT)
    changed = edit(("  - id: info\n", "  - id: info-box\n"), base=changed)
    head = repo.commit({"accounts/smtp.yaml": changed})
    repo.commit({"accounts/smtp.yaml": BASE})  # the working tree and HEAD differ from both commits compared
    repo.git("branch", "feature", head)
    expected = [
        ("smtp", "outgoing", None, "changed"),
        ("imap", "info-box", "info", "renamed"),
        ("imap", "support", None, "added"),
    ]
    for old, new in ((base, head), (base[:12], "feature"), ("HEAD~2", "HEAD~1")):
        code, document = as_json(cli, old, new, "--", "accounts/")
        assert code == 1, (old, new)
        assert kinds(document) == expected
        assert fields(document, "smtp", "outgoing") == [("port", 587, 465), ("encryption", "starttls", "ssl")]
    # And a removal, read from the revisions only (the working tree holds yet another version).
    code, document = as_json(cli, "feature", "main", "--", "accounts")
    assert code == 1
    assert ("imap", "anna-mail", None, "added") in kinds(document)
    assert ("imap", "support", None, "removed") in kinds(document)


def test_git_reordering_only_is_no_change(cli: Cli, repo: Repo) -> None:
    repo.commit({"accounts/accounts.yaml": BASE})
    split_users, rest = "version: 1\nusers:\n  - id: anna\n", edit(("users:\n  - id: anna\n", ""), base=BASE)
    smtp_part, imap_part = rest.split("imap:\n")
    entries = imap_part.split("  - id: ")[1:]
    reordered = smtp_part + "imap:\n" + "".join("  - id: " + entry for entry in reversed(entries))
    repo.commit({"accounts/accounts.yaml": reordered, "accounts/users.yml": split_users})
    assert cli("diff", "HEAD~1", "HEAD", "--", "accounts/") == (0, "no changes to the account set\n", "")


def test_git_defaults_only_is_no_change(cli: Cli, repo: Repo) -> None:
    repo.commit({"accounts.yaml": BASE})
    repo.commit(
        {"accounts.yaml": edit(("    encryption: starttls\n", "    port: 587\n    encryption: starttls\n"), base=BASE)}
    )
    assert cli("diff", "HEAD~1", "HEAD") == (0, "no changes to the account set\n", "")  # default path accounts.yaml
    repo.commit(
        {"accounts.yaml": edit(("    encryption: starttls\n", "    port: 25\n    encryption: starttls\n"), base=BASE)}
    )
    code, document = as_json(cli, "HEAD~1", "HEAD")
    assert code == 1
    assert fields(document, "smtp", "outgoing") == [("port", 587, 25)]


def test_git_secret_reference_change(cli: Cli, repo: Repo) -> None:
    repo.commit({"accounts.yaml": BASE})
    repo.commit({"accounts.yaml": edit(("{env: IMAP_ANNA_PASSWORD}", "{env: IMAP_ANNA_PASSWORD_NEW}"), base=BASE)})
    code, out, err = cli("diff", "HEAD~1", "HEAD")
    assert (code, err) == (1, "")
    assert out == (
        "imap anna-mail: changed\n"
        "  credentials.password: env IMAP_ANNA_PASSWORD → env IMAP_ANNA_PASSWORD_NEW\n"
        "1 account changed: 1 changed\n"
    )


def test_git_revision_against_the_working_tree(cli: Cli, repo: Repo) -> None:
    repo.commit({".mailcfg.yaml": "paths: [accounts]\n", "accounts/set.yaml": BASE})
    write(repo.path, "accounts/set.yaml", VALID)  # not committed
    code, out, _ = cli("diff", "HEAD", "accounts")
    assert (code, out) == (1, "imap anna-mail: removed\n1 account changed: 1 removed\n")


def test_git_paths_are_relative_to_the_current_directory(cli: Cli, repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit({"accounts/set.yaml": BASE})
    repo.commit({"accounts/set.yaml": VALID})
    monkeypatch.chdir(repo.path / "accounts")
    assert cli("diff", "HEAD~1", "HEAD", "--", ".")[:2] == (
        1,
        "imap anna-mail: removed\n1 account changed: 1 removed\n",
    )
    assert cli("diff", "HEAD~1", "HEAD", "--", "set.yaml")[0] == 1


def test_git_side_with_static_errors_exits_2_and_shows_them(cli: Cli, repo: Repo) -> None:
    repo.commit({"accounts/set.yaml": BASE})
    repo.commit({"accounts/set.yaml": BROKEN})
    code, out, err = cli("diff", "HEAD~1", "HEAD", "--", "accounts")
    assert (code, out) == (2, "")
    assert "HEAD:accounts/set.yaml:7:17: error[MC104]" in err
    assert "mailcfg: error: HEAD has static errors (shown above)" in err


def test_unknown_revision_exits_2(cli: Cli, repo: Repo) -> None:
    repo.commit({"accounts.yaml": BASE})
    for old, new in (("no-such-branch", "HEAD"), ("HEAD", "HEAD~5")):
        code, out, err = cli("diff", old, new)
        assert (code, out) == (2, "")
        assert "is neither a path nor a git revision" in err


def test_revision_without_account_files_is_an_empty_set(cli: Cli, repo: Repo) -> None:
    """The pull request that adds the first accounts: everything is added, and the output says why."""
    repo.commit({"README": "no accounts yet\n"})
    repo.commit({"accounts/set.yaml": BASE})
    code, out, err = cli("diff", "HEAD~1", "HEAD", "--", "accounts")
    assert code == 1, err
    assert "added" in out
    assert "removed" not in out
    assert "HEAD~1 has no account files; compared against an empty set" in err


# --- golden markdown --------------------------------------------------------------------------------------


def test_markdown_matches_the_golden_file(cli: Cli) -> None:
    code, out, err = cli("diff", "--format", "markdown", str(OLD), str(NEW))
    assert (code, err) == (1, "")
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_markdown_from_git_revisions_matches_the_golden_file(cli: Cli, repo: Repo) -> None:
    shutil.copytree(OLD, repo.path / "accounts")
    repo.commit({}, "old")
    shutil.rmtree(repo.path / "accounts")
    shutil.copytree(NEW, repo.path / "accounts")
    repo.commit({}, "new")
    code, out, _ = cli("diff", "--format", "markdown", "HEAD~1", "HEAD", "--", "accounts/")
    assert code == 1
    assert out == GOLDEN.read_text(encoding="utf-8")


def test_golden_file_shows_every_kind_of_change() -> None:
    """The golden file is worth comparing against: it holds each kind of change, and the markdown is sound."""
    text = GOLDEN.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("**mailcfg diff**: ")
    assert text.count("<details>") == text.count("</details>") == 1
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| account ")]
    assert {row.split(" | ")[1] for row in rows} == {"added", "removed", "changed", "renamed"}
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 4 for row in rows)  # a `|` in a value is escaped
    assert "&lt;" not in text  # inside code spans, entities would show literally
    assert "**Effects on references**" in text


# --- no secret value anywhere ----------------------------------------------------------------------------


def _variables(*roots: Path) -> set[str]:
    return {
        name
        for root in roots
        for path in root.rglob("*.yaml")
        for name in re.findall(r"\{env: ([A-Za-z_][A-Za-z0-9_]*)\}", path.read_text(encoding="utf-8"))
    }


PLAINTEXT = {
    "plain": f"password: {CANARY}",
    "quoted": f'password: "{CANARY}"',
    "block": f"password: |\n        {CANARY}",
}


def test_no_secret_value_in_any_diff_output(
    cli: Cli, tmp_path: Path, repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _variables(OLD, NEW)
    assert {"SMTP_PASSWORD", "SMTP_PASSWORD_2", "IMAP_BEN_PASSWORD"} <= names
    for name in names:
        monkeypatch.setenv(name, CANARY)
    shutil.copytree(OLD, repo.path / "old")
    shutil.copytree(NEW, repo.path / "new")
    broken = {}
    for kind, secret in PLAINTEXT.items():
        text = (NEW / "accounts.yaml").read_text(encoding="utf-8")
        broken[kind] = write(
            repo.path, f"broken-{kind}/accounts.yaml", edit(("password: {env: SMTP_PASSWORD_2}", secret), base=text)
        )
    repo.commit({})
    runs: list[tuple[str, ...]] = [("old", "new"), ("new", "old")]
    runs += [("old", f"broken-{kind}") for kind in PLAINTEXT]
    runs += [(f"broken-{kind}", "new") for kind in PLAINTEXT]
    runs += [("HEAD", "HEAD", "--", f"broken-{kind}") for kind in PLAINTEXT]
    seen = ""
    for fmt in FORMATS:
        for args in runs:
            code, out, err = cli("diff", "--format", fmt, *args)
            assert code in (1, 2), args
            assert CANARY not in out + err, (fmt, args)
            seen += out + err
            target = tmp_path / "report"
            cli("diff", "--format", fmt, "--output", str(target), *args)
            if target.exists():
                assert CANARY not in target.read_text(encoding="utf-8"), (fmt, args)
                target.unlink()
    # The references themselves are shown, and the broken sides' errors were reported.
    assert "SMTP_PASSWORD_2" in seen
    assert seen.count("error[MC301]") == len(FORMATS) * 4 * len(PLAINTEXT)


def test_no_secret_value_even_when_the_plaintext_error_is_switched_off(cli: Cli, tmp_path: Path) -> None:
    """A configuration that turns MC301 off does not make an incomplete side comparable, nor show its value."""
    write(tmp_path / "cwd", ".mailcfg.yaml", "severity:\n  MC301: off\n")
    old, new = pair(tmp_path, BASE, edit(("password: {env: SMTP_PASSWORD}", f"password: {CANARY}"), base=BASE))
    for fmt in FORMATS:
        code, out, err = cli("diff", "--format", fmt, old, new)
        assert code == 2, (fmt, err)
        assert "fail the schema" in err
        assert CANARY not in out + err, fmt


# --- the GitHub Actions example --------------------------------------------------------------------------


def _workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    dead = "http://127.0.0.1:9"  # offline: a download attempt would fail the test
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "GIT_"))}
    env.update(HTTP_PROXY=dead, HTTPS_PROXY=dead, http_proxy=dead, https_proxy=dead)
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("schema", ["vendor.github-workflows", "custom.github-workflows-require-timeout"])
def test_pr_comment_workflow_validates(schema: str) -> None:
    run = _check_jsonschema(schema, WORKFLOW)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok -- validation done" in run.stdout


def test_pr_comment_workflow_schema_check_is_real(tmp_path: Path) -> None:
    broken = write(
        tmp_path, "pr-comment.yml", edit(("    steps:\n", "    stepz:\n"), base=WORKFLOW.read_text(encoding="utf-8"))
    )
    run = _check_jsonschema("vendor.github-workflows", broken)
    assert run.returncode == 1, run.stdout + run.stderr


def test_pr_comment_workflow_is_pinned_and_minimal() -> None:
    data = _workflow()
    assert data["permissions"] == {}
    ((job_id, job),) = data["jobs"].items()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write"}
    steps = job["steps"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert all(re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref) for ref in uses), uses
    (checkout,) = [step for step in steps if step.get("uses", "").startswith("actions/checkout@")]
    assert checkout["uses"] == "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683"
    assert "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2" in WORKFLOW.read_text(encoding="utf-8")
    assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}
    (post,) = [step for step in steps if "gh pr comment" in step.get("run", "")]
    assert "--body-file mailcfg-diff.md" in post["run"]
    assert post["env"]["GH_TOKEN"] == "${{ secrets.GITHUB_TOKEN }}"
    for step in steps:  # expressions reach scripts through env:, never spliced into the shell
        assert "${{" not in step.get("run", ""), step
    assert job_id == "diff"


def _diff_step() -> dict[str, Any]:
    steps: list[dict[str, Any]] = _workflow()["jobs"]["diff"]["steps"]
    (step,) = [step for step in steps if "mailcfg diff" in step.get("run", "")]
    return step


def _run_step(repo: Repo, base: str, head: str) -> subprocess.CompletedProcess[str]:
    step = _diff_step()
    assert set(step["env"]) == {"BASE_SHA", "HEAD_SHA"}
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GIT_", "GITHUB_"))}
    env.update(BASE_SHA=base, HEAD_SHA=head, PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}")
    assert shutil.which("mailcfg", path=env["PATH"]), "mailcfg is not installed: pip install -e '.[test]'"
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_pr_comment_workflow_diff_step_writes_the_comment(repo: Repo) -> None:
    """The step's script, run as the runner would, writes the golden markdown; exit 1 (changes) is success."""
    shutil.copytree(OLD, repo.path / "accounts")
    base = repo.commit({}, "base")
    # The base branch moves on after the pull request branched off: the comment must not show that as
    # reverted by the pull request, so the step compares with the merge base.
    users = (OLD / "mailboxes.yaml").read_text(encoding="utf-8")
    repo.commit({"accounts/mailboxes.yaml": edit(("users:\n", "users:\n  - id: carla\n"), base=users)})
    repo.git("checkout", "-q", "-b", "feature", base)
    shutil.rmtree(repo.path / "accounts")
    shutil.copytree(NEW, repo.path / "accounts")
    head = repo.commit({}, "pull request")
    comment = repo.path / "mailcfg-diff.md"

    run = _run_step(repo, repo.git("rev-parse", "main"), head)
    assert run.returncode == 0, run.stderr
    assert comment.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")

    comment.unlink()
    run = _run_step(repo, base, base)
    assert run.returncode == 0, run.stderr
    assert comment.read_text(encoding="utf-8") == "**mailcfg diff**: no changes to the account set\n"

    broken = repo.commit({"accounts/accounts.yaml": BROKEN}, "broken")
    run = _run_step(repo, base, broken)
    assert run.returncode == 2
    assert "error[MC104]" in run.stderr


def _code_blocks(text: str) -> list[str]:
    return [match[1] for match in re.finditer(r"(?ms)^```[a-z]*\n(.*?)^```$", text)]


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    assert f"\n{title}\n" in text, title
    return text.split(f"\n{title}\n", 1)[1].split("\n## ", 1)[0]


def test_readme_shows_the_workflow_verbatim() -> None:
    assert WORKFLOW.read_text(encoding="utf-8") in _code_blocks(_section("## Reviewing changes: mailcfg diff"))


def test_readme_sections_come_just_before_design() -> None:
    text = README.read_text(encoding="utf-8")
    headings = re.findall(r"(?m)^## .+$", text)
    index = headings.index("## Design")
    assert headings[index - 2 : index] == ["## Reviewing changes: mailcfg diff", "## Export: mailcfg export"]


def test_readme_text_example_is_real_output(cli: Cli) -> None:
    """The README's sample output is what mailcfg prints for the fixture sets."""
    _, out, _ = cli("diff", str(OLD), str(NEW))
    blocks = _code_blocks(_section("## Reviewing changes: mailcfg diff"))
    assert any(block.endswith(out) and block.startswith("$ mailcfg diff") for block in blocks)


def test_secret_references_of_every_source_are_shown_as_written() -> None:
    from validator.diff import _show

    assert _show({"env": "MAILCFG_X"}) == "env MAILCFG_X"
    assert _show({"file": "/run/secrets/x"}) == "file /run/secrets/x"
    assert _show({"credential": "info_pw"}) == "credential info_pw"
    assert _show({"command": ["op", "read", "op://Mail/x"]}) == "command op read op://Mail/x"
    assert _show({"env": "A", "file": "b"}) == '{"env": "A", "file": "b"}'
