"""The contact hints: where a secret is missing (MC306), the hint names who can enter it (the credentials'
`contact`); MC305, which fires when nobody is named, points at `mailcfg secrets`. MC507 and MC512 name the contact
too: tests/live/test_verify.py and tests/live/test_oauth2_verify.py show it against the servers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import NO_CONTACT, edit, with_oauth2
from conftest import Check, only

from validator.contacts import with_contact
from validator.model import Credentials

HOSTILE = "a | b <script>"


def test_mc306_hint_names_the_contact_of_the_credentials(check: Check) -> None:
    source = edit(("      contact: IT desk\n", "      contact: Help desk <it@example.com>\n"), every=True)
    [finding] = only(check(source, require_env=True, env={"SMTP_PASSWORD": "x"}), "MC306")
    assert finding.hint == "export it, or pass --env-file; who can enter it: Help desk <it@example.com>"


def test_mc306_hint_of_an_oauth2_secret_names_its_contact(check: Check) -> None:
    [finding] = only(check(with_oauth2(), require_env=True, env={"SMTP_PASSWORD": "x"}), "MC306")
    assert finding.pointer == "/imap/0/credentials/oauth2/client_secret/env"
    assert finding.hint is not None
    assert finding.hint.endswith("; who can enter it: IT desk")


def test_mc306_hint_without_a_contact_stays_as_it_was(check: Check) -> None:
    [finding] = only(check(edit(NO_CONTACT), require_env=True, env={"IMAP_INFO_PASSWORD": "x"}), "MC306")
    assert finding.hint == "export it, or pass --env-file"


def test_mc306_contact_hint_in_the_cli_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from validator.cli import main

    path = tmp_path / "accounts.yaml"
    path.write_text(edit(("      contact: IT desk\n", "      contact: IT desk <it@example.com>\n"), every=True))
    monkeypatch.setenv("SMTP_PASSWORD", "x")
    monkeypatch.delenv("IMAP_INFO_PASSWORD", raising=False)
    code = main(["check", str(path), "--no-config", "--no-color", "--require-env"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "error[MC306] environment variable IMAP_INFO_PASSWORD is not set" in out, out
    assert "= hint: export it, or pass --env-file; who can enter it: IT desk <it@example.com>" in out, out


def test_mc305_points_at_the_sheet(check: Check) -> None:
    [finding] = only(check(edit(NO_CONTACT)), "MC305")
    assert "`mailcfg secrets`" in (finding.hint or "")


def test_with_contact() -> None:
    credentials = Credentials.model_validate({"username": "u", "password": {"env": "P"}, "contact": HOSTILE})
    assert with_contact("check it", credentials) == f"check it; who can enter it: {HOSTILE}"
    assert with_contact(None, credentials, "renew") == f"who can renew it: {HOSTILE}"
    assert with_contact("check it", None) == "check it"
    assert with_contact(None, credentials.model_copy(update={"contact": None})) is None

