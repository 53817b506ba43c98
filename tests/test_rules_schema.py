"""Loader and schema rules (MC001-MC005, MC101-MC106): each fires with the right id, severity and place.

Every expected line and column below was counted by hand from the snippet next to it (1-based): a missing
key is reported on the mapping that lacks it, an unknown key on the key itself, a bad value on the value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import VALID
from conftest import SPEC_SEVERITY, Check, only, where

from validator import engine
from validator.loader import Limits
from validator.registry import RULES

SMTP_HEAD = """\
version: 1
smtp:
  - id: outgoing
    host: smtp.example.com
    encryption: starttls
"""

# (rule, YAML source, expected line, expected column); one finding of the rule is expected, nothing more.
FIRES = [
    pytest.param(
        "MC001",
        """\
        version: 1
        smtp:
          - id: outgoing
            host: smtp.example.com
           encryption: starttls
        """,
        5,
        4,
        id="MC001-indentation",
    ),
    pytest.param("MC001", "version: 1\nsmtp: [*nope]\n", 2, 8, id="MC001-undefined-alias"),
    pytest.param("MC001", "version: 1\nsmtp:\n\t- id: outgoing\n", 3, 1, id="MC001-tab"),
    pytest.param("MC001", "version: 1\n? {a: 1}\n: x\n", 2, 3, id="MC001-mapping-as-key"),
    pytest.param("MC002", SMTP_HEAD + "    host: mail.example.com\n", 6, 5, id="MC002"),
    pytest.param("MC003", SMTP_HEAD + "    port: 0465\n", 6, 11, id="MC003-octal"),
    pytest.param("MC003", SMTP_HEAD + "    allow_insecure: no\n", 6, 21, id="MC003-no"),
    pytest.param("MC003", SMTP_HEAD + "    allow_insecure: on\n", 6, 21, id="MC003-on"),
    pytest.param("MC003", SMTP_HEAD + "    port: 1_000\n", 6, 11, id="MC003-underscore"),
    pytest.param("MC003", SMTP_HEAD + "    port: 0x24b\n", 6, 11, id="MC003-hexadecimal"),
    pytest.param("MC003", SMTP_HEAD + "    name: 1:30\n", 6, 11, id="MC003-sexagesimal"),
    # the root mapping is level 1, the n-th '[' opens level n+1 at column 6+n: the 64th is refused
    pytest.param("MC004", "version: 1\nsmtp: " + "[" * 70 + "]" * 70 + "\n", 2, 70, id="MC004-depth"),
    pytest.param("MC004", "version: 1\nsmtp: !!python/object:os.system x\n", 2, 7, id="MC004-tag"),
    pytest.param("MC005", SMTP_HEAD.replace("version: 1\n", ""), 1, 1, id="MC005-missing"),
    pytest.param("MC005", SMTP_HEAD.replace("version: 1", "version: 2"), 1, 10, id="MC005-unsupported"),
    pytest.param("MC005", "", 1, 1, id="MC005-empty-file"),
    pytest.param("MC005", VALID + "---\nsmtp: []\n", 25, 1, id="MC005-second-document"),
    pytest.param("MC101", "version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n", 3, 5, id="MC101-host"),
    pytest.param(
        "MC101",
        SMTP_HEAD + "    credentials:\n      password: {env: SMTP_PASSWORD}\n",
        7,
        7,
        id="MC101-credentials-username",
    ),
    pytest.param("MC102", SMTP_HEAD + "    prot: 587\n", 6, 5, id="MC102-smtp"),
    pytest.param("MC102", "version: 1\nstmp: []\n", 2, 1, id="MC102-section"),
    pytest.param(
        "MC102",
        SMTP_HEAD + "    credentials: {username: a, password: {env: SMTP_PASSWORD}, pasword: x}\n",
        6,
        64,
        id="MC102-flow-credentials",
    ),
    pytest.param("MC103", SMTP_HEAD + '    port: "587"\n', 6, 11, id="MC103-quoted-port"),
    pytest.param("MC103", "version: 1\nsmtp: {id: outgoing}\n", 2, 7, id="MC103-section-not-list"),
    pytest.param("MC103", "version: 1\nusers: [anna]\n", 2, 9, id="MC103-entry-not-mapping"),
    pytest.param("MC104", SMTP_HEAD.replace("starttls", "tls"), 5, 17, id="MC104-encryption"),
    pytest.param("MC104", SMTP_HEAD.replace("id: outgoing", "id: Outgoing Server"), 3, 9, id="MC104-id"),
    pytest.param("MC104", SMTP_HEAD + "    port: 70000\n", 6, 11, id="MC104-port-range"),
    pytest.param(
        "MC104",
        SMTP_HEAD + "    credentials:\n      username: a\n      password: {env: 1BAD}\n",
        8,
        23,
        id="MC104-env-name",
    ),
    pytest.param("MC104", SMTP_HEAD + "    authentication: optional\n", 6, 21, id="MC104-authentication"),
    pytest.param("MC105", SMTP_HEAD + "    test_recipient: it.example.com\n", 6, 21, id="MC105-test-recipient"),
    pytest.param(
        "MC105", VALID.replace("address: info@example.com", "address: info.example.com"), 16, 14, id="MC105-address"
    ),
    pytest.param("MC106", SMTP_HEAD.replace("smtp.example.com", "smtp.example.com:587"), 4, 11, id="MC106-port"),
    pytest.param("MC106", SMTP_HEAD.replace("smtp.example.com", "smtps://smtp.example.com"), 4, 11, id="MC106-url"),
]


@pytest.mark.parametrize(("rule", "source", "line", "column"), FIRES)
def test_rule_fires_at_the_right_place(
    check: Check, tmp_path: Path, rule: str, source: str, line: int, column: int
) -> None:
    result = check(source)
    found = only(result, rule)
    assert [(f.severity.value, f.file, f.line, f.column) for f in found] == [
        (SPEC_SEVERITY[rule], str(tmp_path / "accounts.yaml"), line, column)
    ]
    assert found[0].message


def test_every_loader_and_schema_rule_has_a_firing_case() -> None:
    covered = {param.values[0] for param in FIRES}
    assert covered == {rule for rule in SPEC_SEVERITY if rule < "MC2"}


def test_registry_has_every_rule_of_the_spec_table_at_its_default_severity() -> None:
    # rules added after the table (new ids) may exist; none of the table may be missing or changed
    assert {rule: RULES[rule].severity.value for rule in SPEC_SEVERITY if rule in RULES} == SPEC_SEVERITY


def test_valid_base_set_is_clean(check: Check) -> None:
    result = check(VALID)
    assert result.findings == ()
    assert result.summary.accounts == 2
    assert result.exit_code(strict=True) == 0


# ------------------------------------------------------------------------------------------- MC001


def test_mc001_invalid_utf8_names_the_byte(check: Check, tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_bytes(b"version: 1\nusers:\n  - id: Zo\xeb\n")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 3, 11)]
    assert "0xeb" in only(result, "MC001")[0].message


def test_mc001_utf16_file(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_bytes(SMTP_HEAD.encode("utf-16"))
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 1, 1)]
    assert "UTF-16" in only(result, "MC001")[0].message


def test_mc001_invalid_utf8_after_a_bom_points_at_the_bad_byte(tmp_path: Path) -> None:
    # The byte 0xe9 is on line 3 after "  - id: " (8 characters): column 9. The BOM is not a column.
    path = tmp_path / "accounts.yaml"
    path.write_bytes(b"\xef\xbb\xbfversion: 1\nusers:\n  - id: \xe9\n")
    result = engine.run(engine.CheckOptions(paths=(str(path),)))
    assert where(result, "MC001") == [("error", 3, 9)]
    assert "0xe9" in only(result, "MC001")[0].message


def test_mc001_control_character_column_counts_characters(check: Check) -> None:
    # "  - name: Müller" is 16 characters; the forbidden U+0080 follows at column 17 of line 3.
    result = check("version: 1\nusers:\n  - name: Müller\x80\n")
    assert where(result, "MC001") == [("error", 3, 17)]


def test_mc001_control_character_line_after_non_ascii_lines(check: Check) -> None:
    # Multi-byte characters on earlier lines must not move the reported position further down the file.
    result = check("version: 1\nusers:\n  - name: Zoë Müller Ørsted Ñandú\n  - name: a\x80\n  - name: b\n")
    assert where(result, "MC001") == [("error", 4, 12)]


def test_mc001_syntax_error_column_counts_characters(check: Check) -> None:
    # "    name: Zoë" is 13 characters; the stray ':' is at column 14.
    result = check("version: 1\nusers:\n  - id: anna\n    name: Zoë: x\n")
    assert where(result, "MC001") == [("error", 4, 14)]


def test_mc001_syntax_error_in_one_file_keeps_the_others_checked(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\nsmtp:\n  - id: x\n   host: y\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(SMTP_HEAD + "    port: 70000\n", encoding="utf-8")
    result = engine.run(engine.CheckOptions(paths=(str(tmp_path),)))
    assert [(f.file, f.line, f.column) for f in only(result, "MC001")] == [(str(tmp_path / "a.yaml"), 4, 4)]
    assert [(f.file, f.line, f.column) for f in only(result, "MC104")] == [(str(tmp_path / "b.yaml"), 6, 11)]


def test_mc001_passes_on_the_corrected_file(check: Check) -> None:
    result = check(SMTP_HEAD)
    assert only(result, "MC001") == []
    assert result.files[0].complete


# ------------------------------------------------------------------------------------------- MC002


def test_mc002_names_the_first_key_and_keeps_the_last_value(check: Check) -> None:
    result = check(SMTP_HEAD + "    host: mail.example.com\n")
    [duplicate] = only(result, "MC002")
    assert "'host'" in duplicate.message
    assert "line 4, column 5" in duplicate.message
    assert result.files[0].documents[0].data["smtp"][0]["host"] == "mail.example.com"


def test_mc002_passes_without_duplicate(check: Check) -> None:
    assert only(check(SMTP_HEAD), "MC002") == []


def test_mc002_in_a_flow_mapping(check: Check) -> None:
    result = check("version: 1\nusers:\n  - {id: anna, name: A, name: B}\n")
    assert where(result, "MC002") == [("error", 3, 25)]


# ------------------------------------------------------------------------------------------- MC003


def test_mc003_octal_is_read_as_the_application_reads_it(check: Check) -> None:
    result = check(SMTP_HEAD + "    port: 0465\n")
    [surprise] = only(result, "MC003")
    assert "309" in surprise.message
    assert "465" in (surprise.hint or "")
    # the value is taken as 309, so the port rule sees 309 (not the standard 465)
    assert where(result, "MC402") == [("info", 6, 11)]


def test_mc003_documented_example_0587(check: Check) -> None:
    # The rule's own "Fails" example: `port: 0587`. YAML 1.1 (PyYAML) reads it as the *string* "0587"
    # (8 is no octal digit) where YAML 1.2 reads 587: a plain value that is not read as it looks.
    result = check(SMTP_HEAD + "    port: 0587\n")
    assert where(result, "MC003") == [("warning", 6, 11)]


def test_mc003_never_repeats_a_password_value(check: Check) -> None:
    result = check(SMTP_HEAD + "    credentials:\n      username: a\n      password: off\n")
    [surprise] = only(result, "MC003")
    assert (surprise.line, surprise.column) == (8, 17)
    assert "off" not in surprise.message
    assert "off" not in (surprise.hint or "")


@pytest.mark.parametrize("value", ["false", "'no'", "587", "'1:30'"])
def test_mc003_passes_on_plain_values(check: Check, value: str) -> None:
    assert only(check(SMTP_HEAD + f"    name: {value}\n"), "MC003") == []


# ------------------------------------------------------------------------------------------- MC004


def test_mc004_file_over_the_size_limit(check: Check) -> None:
    result = check(SMTP_HEAD, limits=Limits(max_file_size=16))
    assert where(result, "MC004") == [("error", 1, 1)]
    assert only(result, "MC404") == []  # nothing of the refused file is checked


def test_mc004_alias_bomb(check: Check) -> None:
    # The rule's documented example, ten levels deep: 9**10 nodes from a few hundred bytes.
    lines = ["version: 1", 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for previous, name in zip("abcdefghi", "bcdefghij", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    result = check("\n".join(lines) + "\n")
    found = only(result, "MC004")
    assert len(found) == 1
    assert found[0].severity.value == "error"
    assert 3 <= found[0].line <= 11


def test_mc004_a_few_aliases_are_fine(check: Check) -> None:
    source = """\
        version: 1
        users:
          - id: anna
            name: &name Anna Muster
          - id: anna2
            name: *name
        """
    result = check(source)
    assert only(result, "MC004") == []
    assert result.files[0].documents[0].data["users"][1]["name"] == "Anna Muster"


# ------------------------------------------------------------------------------------------- MC005


@pytest.mark.parametrize(("value", "column"), [("'1'", 10), ("yes", 10), ("2", 10), ("{v: 1}", 10)])
def test_mc005_only_the_integer_1(check: Check, value: str, column: int) -> None:
    result = check(SMTP_HEAD.replace("version: 1", f"version: {value}"))
    assert where(result, "MC005") == [("error", 1, column)]


def test_mc005_passes_with_version_1(check: Check) -> None:
    assert only(check(SMTP_HEAD), "MC005") == []


# ------------------------------------------------------------------------------------------- MC1xx


def test_mc101_names_the_missing_key(check: Check) -> None:
    [missing] = only(check("version: 1\nsmtp:\n  - id: outgoing\n    encryption: starttls\n"), "MC101")
    assert "'host'" in missing.message
    assert missing.pointer == "/smtp/0"
    assert missing.account == "outgoing"


def test_mc101_every_missing_key_of_an_imap_account(check: Check) -> None:
    result = check("version: 1\nimap:\n  - id: info\n")
    assert where(result, "MC101") == [("error", 3, 5)] * 6
    named = {f.message.rsplit("'", 2)[1] for f in only(result, "MC101")}
    assert named == {"scope", "address", "host", "encryption", "outgoing", "credentials"}


def test_mc102_did_you_mean_host(check: Check, tmp_path: Path) -> None:
    result = check(VALID.replace("    host: imap.example.com", "    hots: imap.example.com"))
    [unknown] = only(result, "MC102")
    assert (unknown.file, unknown.line, unknown.column, unknown.pointer) == (
        str(tmp_path / "accounts.yaml"),
        17,
        5,
        "/imap/0/hots",
    )
    assert "'host'" in (unknown.hint or "")
    assert [(f.line, f.column) for f in only(result, "MC101")] == [(14, 5)]  # and host is missing


def test_mc102_without_a_close_key_lists_the_known_ones(check: Check) -> None:
    [unknown] = only(check(SMTP_HEAD + "    zzzzzz: 1\n"), "MC102")
    assert "encryption" in (unknown.hint or "")


def test_mc102_passes_on_known_keys(check: Check) -> None:
    assert only(check(SMTP_HEAD + "    port: 587\n    name: Out\n"), "MC102") == []


def test_mc103_quoted_number_hint(check: Check) -> None:
    [wrong] = only(check(SMTP_HEAD + '    port: "587"\n'), "MC103")
    assert "without quotes" in (wrong.hint or "")
    assert wrong.pointer == "/smtp/0/port"


def test_mc103_passes_on_an_integer_port(check: Check) -> None:
    assert only(check(SMTP_HEAD + "    port: 587\n"), "MC103") == []


def test_mc104_tls_hint_names_starttls_and_ssl(check: Check) -> None:
    [bad] = only(check(SMTP_HEAD.replace("starttls", "tls")), "MC104")
    assert "starttls" in (bad.hint or "")
    assert "ssl" in (bad.hint or "")
    assert "'tls'" in bad.message


def test_mc104_tls_without_a_port_explains_both(check: Check) -> None:
    [bad] = only(check(VALID.replace("encryption: ssl", "encryption: TLS")), "MC104")
    assert "did you mean" not in bad.message
    assert "starttls (ports 587/143)" in (bad.hint or "")
    assert "ssl (ports 465/993)" in (bad.hint or "")


@pytest.mark.parametrize(
    ("written", "port", "meant"),
    [
        ("SSL", None, "ssl"),
        ("Ssl", 465, "ssl"),
        ("Ohne", None, "none"),
        ("ohne", 25, "none"),
        ("STARTTLS", None, "starttls"),
        ("None", None, "none"),
        ("TLS", 587, "starttls"),
        ("tls", 143, "starttls"),
        ("TLS", 465, "ssl"),
        ("TLS", 993, "ssl"),
    ],
)
def test_mc104_encryption_did_you_mean(check: Check, written: str, port: int | None, meant: str) -> None:
    # The application's dialog offers "Ohne", "TLS" and "SSL": each is told the format's word for it.
    source = SMTP_HEAD.replace("starttls", written) + (f"    port: {port}\n" if port else "")
    [bad] = only(check(source), "MC104")
    assert f"'encryption' of smtp entry 'outgoing' is '{written}' (did you mean `{meant}`?)" in bad.message
    assert bad.hint
    if port and written.lower() == "tls":
        assert f"port {port}" in bad.hint


def test_mc102_env_written_in_capitals_names_the_password(check: Check) -> None:
    source = VALID.replace("password: {env: IMAP_INFO_PASSWORD}", "password: {ENV: IMAP_INFO_PASSWORD}")
    result = check(source)
    [wrong] = only(result, "MC102")
    assert wrong.message == "`password` of imap account 'info' must be {env: NAME}: `ENV` is not `env`"
    assert (wrong.line, wrong.column, wrong.pointer) == (22, 18, "/imap/0/credentials/password")
    assert only(result, "MC101") == []  # the missing `env` is that same mistake
    assert "credentials" not in wrong.message


def test_mc101_password_without_env_names_the_password(check: Check) -> None:
    [missing] = only(check(VALID.replace("password: {env: IMAP_INFO_PASSWORD}", "password: {}")), "MC101")
    assert missing.message == "`password` of imap account 'info' must be {env: NAME}: it has no `env`"


def test_mc103_credentials_not_a_mapping(check: Check) -> None:
    source = SMTP_HEAD + "    credentials: mailer@example.com\n"
    [wrong] = only(check(source), "MC103")
    assert wrong.message == "`credentials` of smtp entry 'outgoing' must be a mapping (username, password, contact)"
    assert (wrong.line, wrong.column) == (6, 18)


def test_mc003_hexadecimal_port(check: Check) -> None:
    # YAML 1.1 reads `0x24b` as 587, like it reads `0465` as 309: a warning, as for octal.
    result = check(SMTP_HEAD + "    port: 0x24b\n")
    [surprise] = only(result, "MC003")
    assert (surprise.severity.value, surprise.line, surprise.column) == ("warning", 6, 11)
    assert "hexadecimal number 587" in surprise.message
    assert only(result, "MC103") == []


@pytest.mark.parametrize("encryption", ["none", "starttls", "ssl"])
def test_mc104_passes_on_allowed_encryption(check: Check, encryption: str) -> None:
    assert only(check(SMTP_HEAD.replace("starttls", encryption)), "MC104") == []


@pytest.mark.parametrize(
    ("field", "value", "column", "rule"),
    [
        ("test_recipient", "Anna <anna@example.com>", 21, "MC105"),
        ("test_recipient", "anna@@example.com", 21, "MC105"),
        ("host", "smtp example com", 11, "MC106"),
        ("host", "-smtp.example.com", 11, "MC106"),
    ],
)
def test_mc105_mc106_bad_values(check: Check, field: str, value: str, column: int, rule: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert where(result, rule) == [("error", 5, column)]
    assert only(result, rule)[0].hint


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("test_recipient", "anna.muster@example.com"),
        ("test_recipient", "jürgen@müller.example"),
        ("host", "mail.bücher.example"),
        ("host", "192.0.2.10"),
        ("host", "localhost"),
    ],
)
def test_mc105_mc106_pass_on_good_values(check: Check, field: str, value: str) -> None:
    source = SMTP_HEAD.replace("    host: smtp.example.com\n", "") + f"    {field}: {value}\n"
    result = check(source)
    assert only(result, "MC105") == []
    assert only(result, "MC106") == []


def test_schema_errors_do_not_repeat_a_plaintext_password(check: Check) -> None:
    result = check(SMTP_HEAD + "    credentials:\n      username: ''\n      password: Sommer2024!\n")
    assert where(result, "MC301") == [("error", 8, 17)]
    assert where(result, "MC104") == [("error", 7, 17)]
    for item in result.findings:
        assert "Sommer2024" not in item.message
        assert "Sommer2024" not in (item.hint or "")
