"""Account files encrypted with SOPS (validator/sops.py), with the real `sops` program and an age key made here.

`check` takes an encrypted secret as a secret kept in the file (no MC301, MC102, MC103), leaves other encrypted
values unchecked (MC309 says so), and never decrypts. `verify` without `--sops` stops before any connection and
says what to do; with `--sops` it runs `sops --decrypt` (age and PGP keys only), and a file it cannot decrypt stops
it too. A value that merely looks encrypted, in a file without SOPS metadata, is no secret.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from builders import VALID
from conftest import check_path, only
from sops_files import AgeKey, age_key, encrypt, sops_on_path

from validator.cli import main

__all__ = ["sops_on_path"]  # the fixture, imported for this module's tests

PASSWORDS = {"SMTP_PASSWORD": "Mailer-Secret-1", "IMAP_INFO_PASSWORD": "Info-Secret-1"}
PLAIN = VALID
for _name, _value in PASSWORDS.items():
    PLAIN = PLAIN.replace(f"{{env: {_name}}}", _value)
TRUST_VARIABLES = ("CI", "MAILCFG_ALLOW_HOST", "MAILCFG_ALLOW_ANY_HOST", "MAILCFG_ALLOW_ENV")


@pytest.fixture(autouse=True)
def _no_trust_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TRUST_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    assert "internal error" not in err, err
    return code, out, err


def fake_sops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A `sops` first on PATH that leaves a marker file if it ever runs; the marker's path."""
    marker = tmp_path / "sops-ran"
    fake = tmp_path / "bin" / "sops"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {marker}\nexit 1\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    return marker


def test_plaintext_passwords_are_mc301_before_encryption(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(PLAIN, encoding="utf-8")
    assert len(only(check_path(path), "MC301")) == 2


@pytest.mark.parametrize("regex", ["^(password|client_secret|refresh_token|service_account)$", None])
def test_an_encrypted_file_checks_clean(tmp_path: Path, regex: str | None) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path), regex)
    result = check_path(path)
    assert (result.summary.errors, result.summary.warnings) == (0, 0), result.findings
    assert {item.rule for item in result.findings} <= {"MC309", "MC404"}


def test_check_models_the_encrypted_secrets(tmp_path: Path) -> None:
    """The entries are whole (not left out as flawed): the semantic rules see the accounts and their secrets."""
    from validator import engine

    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    _result, accounts = engine.analyse(engine.CheckOptions(paths=(str(path),)))
    assert [entry.id for entry in accounts.imap] == ["info"]
    assert not accounts.flawed
    secret = accounts.imap[0].model.credentials.password
    assert secret is not None
    assert secret.source == "sops"
    assert secret.sops == f"{path}#/imap/0/credentials/password"


def test_check_never_decrypts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not even with --require-env: a `sops` on PATH that would leave a marker is not run."""
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    marker = fake_sops(tmp_path, monkeypatch)
    code, out, _ = run(["check", "--no-config", "--require-secrets", str(path)], capsys)
    assert code == 0, out
    assert not marker.exists()


def test_a_lookalike_value_without_sops_metadata_is_no_secret(tmp_path: Path) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    text = path.read_text(encoding="utf-8")
    stripped = tmp_path / "stripped.yaml"
    stripped.write_text(text.split("\nsops:")[0] + "\n", encoding="utf-8")
    result = check_path(stripped)
    assert result.summary.errors >= 2
    assert {item.pointer for item in result.findings if item.severity.value == "error"} >= {
        "/smtp/0/credentials/password", "/imap/0/credentials/password"}


def test_a_sops_source_cannot_be_written_in_the_yaml(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text(VALID.replace("{env: IMAP_INFO_PASSWORD}", "{sops: /imap/0/credentials/password}"),
                    encoding="utf-8")
    result = check_path(path)
    errors = [item for item in result.findings if item.severity.value == "error"]
    assert errors
    assert all(item.pointer.startswith("/imap/0/credentials/password") for item in errors), errors
    assert "MC102" in {item.rule for item in errors}


def test_the_secrets_sheet_names_the_encrypted_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    code, out, _ = run(["secrets", "--no-config", "--format", "json", str(path)], capsys)
    assert code == 0, out
    sheet = json.loads(out)
    found = sorted(
        (row["reference"]["kind"], row["reference"]["value"]) for row in sheet["secrets"]
    )
    assert found == [("sops", f"{path}#/imap/0/credentials/password"), ("sops", f"{path}#/smtp/0/credentials/password")]
    for value in PASSWORDS.values():
        assert value not in out


def test_verify_without_sops_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    code, out, _ = run(["verify", "--no-config", "--allow-any-host", "--format", "json", str(path)], capsys)
    assert code == 1
    report = json.loads(out)
    [finding] = [item for item in report["findings"] if item["rule"] == "MC306"]
    sops_line = path.read_text(encoding="utf-8").splitlines().index("sops:") + 1
    assert (finding["line"], finding["column"]) == (sops_line, 1)
    assert "--sops" in finding["hint"]
    assert "sops exec-env" in finding["hint"]
    assert report["live"] == []


def test_verify_sops_with_the_wrong_key_stops_before_any_connection(
    tmp_path: Path, sops_on_path: AgeKey, capsys: pytest.CaptureFixture[str]
) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path / "other"))  # not the key in SOPS_AGE_KEY_FILE
    code, out, err = run(["verify", "--no-config", "--allow-any-host", "--sops", "--format", "json", str(path)], capsys)
    assert code == 1
    report = json.loads(out)
    [finding] = [item for item in report["findings"] if item["rule"] == "MC306"]
    assert "cannot decrypt" in finding["message"]
    assert report["live"] == []
    assert "age" not in err.lower()  # sops's own error output is not passed on


def test_verify_sops_refuses_a_tampered_file(
    tmp_path: Path, sops_on_path: AgeKey, capsys: pytest.CaptureFixture[str]
) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", sops_on_path)
    path.write_text(path.read_text(encoding="utf-8").replace("host: smtp.example.com", "host: evil.example.net"),
                    encoding="utf-8")
    code, out, _ = run(["verify", "--no-config", "--allow-any-host", "--sops", "--format", "json", str(path)], capsys)
    assert code == 1
    assert [item["rule"] for item in json.loads(out)["findings"] if item["severity"] == "error"] == ["MC306"]


@pytest.mark.parametrize("service", ["hc_vault", "kms", "azure_kv", "gcp_kms"])
def test_verify_sops_never_asks_a_key_service_the_file_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], service: str
) -> None:
    """The file's metadata is the pull request's: a key service in it would receive the job's credentials. sops is
    not even started (a fake one on PATH would leave a marker)."""
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    text = path.read_text(encoding="utf-8").replace("\nsops:\n", f"\nsops:\n    {service}:\n        - evil: x\n")
    path.write_text(text, encoding="utf-8")
    marker = fake_sops(tmp_path, monkeypatch)
    code, out, _ = run(["verify", "--no-config", "--allow-any-host", "--sops", "--format", "json", str(path)], capsys)
    assert code == 1
    [finding] = [item for item in json.loads(out)["findings"] if item["rule"] == "MC511"]
    assert service in finding["message"]
    assert not marker.exists()


def test_verify_sops_without_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    code, out, _ = run(["verify", "--no-config", "--allow-any-host", "--sops", "--format", "json", str(path)], capsys)
    assert code == 1
    [finding] = [item for item in json.loads(out)["findings"] if item["rule"] == "MC306"]
    assert "sops program" in finding["message"]


def test_verify_sops_decrypts_then_checks_everything(
    tmp_path: Path, sops_on_path: AgeKey, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file with every value encrypted: --sops decrypts it, and the static checks then see the real values (a bad
    host is MC106 again); the plaintext passwords appear in no output."""
    plain = PLAIN.replace("host: smtp.example.com", "host: smtp..example.com")
    path = encrypt(plain, tmp_path / "accounts.yaml", sops_on_path, None)
    assert only(check_path(path), "MC106") == []  # opaque while encrypted
    code, out, err = run(["verify", "--no-config", "--allow-any-host", "--sops", "--format", "json", str(path)], capsys)
    assert code == 1
    report = json.loads(out)
    assert [item["pointer"] for item in report["findings"] if item["rule"] == "MC106"] == ["/smtp/0/host"]
    assert not [item for item in report["findings"] if item["rule"] in ("MC301", "MC306")]
    for value in PASSWORDS.values():
        assert value not in out + err
