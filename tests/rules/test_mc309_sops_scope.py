"""MC309: SOPS encrypts more than the secrets.

Where it fires (at which place, in which words) and where it stays quiet. Its check is
validator/rules/mc309_sops_scope.py. The files are tests/builders.py's ``VALID`` with plaintext passwords, encrypted by
the real `sops` program for an age key made in the test (tests/sops_files.py): every value, or only the secrets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from builders import VALID
from conftest import assert_fires_once, assert_passes, check_path, only
from sops_files import age_key, encrypt

from validator.credentials import SECRET_FIELDS
from validator.sops import SECRETS_ONLY

PLAIN = VALID.replace("{env: SMTP_PASSWORD}", "Mailer-Secret-1").replace("{env: IMAP_INFO_PASSWORD}", "Info-Secret-1")

# (rule, the encrypted_regex sops encrypts with (None: every value), line, column, pointer): one finding.
FIRES = [
    pytest.param("MC309", None, 1, 10, "/version", id="MC309-every-value"),
    pytest.param("MC309", "^(password|host)$", 6, 13, "/smtp/0/host", id="MC309-hosts-too"),
]

# (rule, the encrypted_regex): the rule stays quiet.
PASSES = [
    pytest.param("MC309", SECRETS_ONLY, id="MC309-secrets-only"),
    pytest.param("MC309", "^password$", id="MC309-passwords-only"),
]


@pytest.mark.parametrize(("rule", "regex", "line", "column", "pointer"), FIRES)
def test_rule_fires_at_the_right_place(
    tmp_path: Path, rule: str, regex: str | None, line: int, column: int, pointer: str
) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path), regex)
    result = check_path(path)
    finding = assert_fires_once(result, rule, path, line, column)
    assert finding.pointer == pointer
    assert SECRETS_ONLY in (finding.hint or "")
    assert result.summary.errors == 0, result.findings


@pytest.mark.parametrize(("rule", "regex"), PASSES)
def test_rule_passes_on_the_corrected_snippet(tmp_path: Path, rule: str, regex: str) -> None:
    result = check_path(encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path), regex))
    assert_passes(result, rule)
    assert result.summary.errors == 0, result.findings


def test_the_count_covers_every_encrypted_value_but_the_secrets(tmp_path: Path) -> None:
    path = encrypt(PLAIN, tmp_path / "accounts.yaml", age_key(tmp_path), None)
    [finding] = only(check_path(path), "MC309")
    encrypted = path.read_text(encoding="utf-8").split("\nsops:")[0].count("ENC[AES256_GCM")
    assert f"encrypted {encrypted - 2} values" in finding.message  # the two passwords are secrets


def test_the_recommended_regex_matches_exactly_the_secret_keys() -> None:
    keys = {"password", "client_secret", "refresh_token", "service_account", "username", "passwords", "contact",
            "token_url", "client_id", "secret"}
    assert {key for key in keys if re.search(SECRETS_ONLY, key)} == SECRET_FIELDS
