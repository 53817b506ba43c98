"""`mailcfg secrets`: the hand-off sheet in text, JSON and markdown.

Every secret the set needs, once per reference, with what it is, who uses it (an smtp entry without credentials of
its own lists under the imap accounts whose credentials it uses), the `contact` and whether it is available here:
for a variable whether it is set and whether `--allow-env` lets it be looked up; other kinds are not checked. Never
a value: the variables hold canaries that must appear in no output. The logic is validator/handoff.py, the
rendering validator/reporters/secrets_sheet.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from builders import MINIMAL, NO_CONTACT, VALID, Cli, edit, imap_entry, with_oauth2

from validator import engine, handoff
from validator.model import Secret
from validator.trust import Trust

SMTP_CANARY = "CANARY-sheet-smtp-4e1b7c"
IMAP_CANARY = "CANARY-sheet-imap-90d2af"
DOTENV_CANARY = "CANARY-sheet-dotenv-7731e5"
CANARIES = (SMTP_CANARY, IMAP_CANARY, DOTENV_CANARY)
FORMATS = ("text", "json", "markdown")
HOSTILE = "a | b <script>alert(1)</script> ![x](https://evil.example/x.png) [l](https://evil.example) *e* `c`"
# VALID with an smtp entry that has no credentials of its own: `relay`, through which the imap account `info` sends.
BORROWING = edit(
    ("imap:\n", "  - id: relay\n    host: relay.example.com\n    encryption: starttls\nimap:\n"),
    ("    outgoing: outgoing\n", "    outgoing: relay\n"),
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SMTP_PASSWORD", "IMAP_INFO_PASSWORD", "IMAP_ANNA_PASSWORD", "M365_CLIENT_SECRET",
                 "MAILCFG_ALLOW_ENV", "MAILCFG_ALLOW_COMMAND", "GITHUB_ACTIONS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def accounts(tmp_path: Path, text: str = VALID, name: str = "accounts.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def sheet_json(cli: Cli, path: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli("secrets", path, "--no-config", "--format", "json", *args)
    assert err == "", err
    document: dict[str, Any] = json.loads(out)
    return code, document


def row(document: Mapping[str, Any], value: str) -> dict[str, Any]:
    [found] = [item for item in document["secrets"] if item["reference"]["value"] == value]
    result: dict[str, Any] = found
    return result


# ---------------------------------------------------------------------------------------------------- text


def test_text_sheet_lists_each_secret_with_its_users_contact_and_availability(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    code, out, err = cli("secrets", accounts(tmp_path), "--no-config")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["secret", "what", "used by", "contact", "available here"]
    assert re.split(r"\s{2,}", lines[1]) == [
        "env SMTP_PASSWORD", "password", "smtp outgoing: mailer@example.com", "IT desk", "set"]  # fmt: skip
    assert re.split(r"\s{2,}", lines[2]) == [
        "env IMAP_INFO_PASSWORD", "password", "imap info: info@example.com", "IT desk", "not set"]  # fmt: skip
    assert lines[-1] == "2 secrets: 1 set, 1 not set"
    assert SMTP_CANARY not in out


def test_text_sheet_names_the_smtp_entry_that_borrows_an_imap_accounts_credentials(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("secrets", accounts(tmp_path, BORROWING), "--no-config")
    assert code == 0
    lines = out.splitlines()
    at = next(index for index, line in enumerate(lines) if line.startswith("env IMAP_INFO_PASSWORD"))
    assert "imap info: info@example.com" in lines[at]
    # The next line continues the same secret: only the "used by" column is filled.
    assert lines[at + 1].strip() == "smtp relay: info@example.com (credentials of 'info')"
    assert lines[at + 1].index("smtp relay") == lines[at].index("imap info")


def test_text_sheet_says_no_contact_mc305(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("secrets", accounts(tmp_path, edit(NO_CONTACT)), "--no-config")
    assert code == 0
    [line] = [line for line in out.splitlines() if line.startswith("env SMTP_PASSWORD")]
    assert "no contact: MC305" in line
    assert out.splitlines()[-1] == "2 secrets: 2 not set; 1 without a contact (MC305)"


def test_a_shared_variable_is_one_row_naming_every_login_and_the_credentials_without_contact(
    cli: Cli, tmp_path: Path
) -> None:
    text = VALID + imap_entry(password="IMAP_INFO_PASSWORD", contact=None)
    code, document = sheet_json(cli, accounts(tmp_path, text))
    assert code == 0
    secret = row(document, "IMAP_INFO_PASSWORD")
    assert [(use["account"], use["username"]) for use in secret["used_by"]] == [
        ("info", "info@example.com"), ("anna-mail", "anna@example.com")]  # fmt: skip
    assert (secret["contacts"], secret["without_contact"]) == (["IT desk"], ["anna-mail"])
    _, out, _ = cli("secrets", accounts(tmp_path, text), "--no-config")
    assert "no contact for 'anna-mail': MC305" in out


def test_an_empty_set_has_an_empty_sheet(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("secrets", accounts(tmp_path, MINIMAL), "--no-config")
    assert (code, out) == (0, "0 secrets: the set names no credentials\n")


def test_smtp_without_authentication_borrows_nothing(cli: Cli, tmp_path: Path) -> None:
    relay = "    encryption: starttls\nimap:"
    text = BORROWING.replace(relay, "    encryption: starttls\n    authentication: none\nimap:")
    _, document = sheet_json(cli, accounts(tmp_path, text))
    assert [use["account"] for use in row(document, "IMAP_INFO_PASSWORD")["used_by"]] == ["info"]


# ---------------------------------------------------------------------------------------------------- JSON


def test_json_sheet_has_the_documented_shape(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    path = accounts(tmp_path, BORROWING)
    code, document = sheet_json(cli, path)
    assert code == 0
    assert set(document) == {"tool", "files", "trust", "secrets", "summary"}
    assert document["tool"]["name"] == "mailcfg"
    assert document["files"] == [path]
    assert document["trust"] == {"allow_env": None, "allow_command": []}
    assert document["secrets"][0] == {
        "reference": {"kind": "env", "value": "SMTP_PASSWORD", "text": "env SMTP_PASSWORD"},
        "what": ["password"],
        "used_by": [
            {"section": "smtp", "account": "outgoing", "username": "mailer@example.com", "key": "password",
             "via": None, "contact": "IT desk", "file": path, "line": 11, "column": 17,
             "pointer": "/smtp/0/credentials/password"},
        ],
        "contacts": ["IT desk"],
        "without_contact": [],
        "available": {"status": "available", "set": True, "allowed": True},
    }  # fmt: skip
    imap = row(document, "IMAP_INFO_PASSWORD")
    assert [(u["section"], u["account"], u["via"], u["pointer"]) for u in imap["used_by"]] == [
        ("imap", "info", None, "/imap/0/credentials/password"),
        ("smtp", "relay", "info", "/imap/0/credentials/password"),
    ]
    assert imap["available"] == {"status": "missing", "set": False, "allowed": True}
    assert document["summary"] == {
        "secrets": 2, "available": 1, "missing": 1, "withheld": 0, "not_checked": 0, "without_contact": 0}  # fmt: skip


def test_json_sheet_of_oauth2_secrets_and_a_command(cli: Cli, tmp_path: Path) -> None:
    text = with_oauth2(base=with_oauth2("command: [oama, access, mailer@example.com]", entry="smtp"))
    code, document = sheet_json(cli, accounts(tmp_path, text))
    assert code == 0
    [command, secret] = document["secrets"]
    assert command["reference"] == {
        "kind": "command", "value": ["oama", "access", "mailer@example.com"],
        "text": "command oama access mailer@example.com"}  # fmt: skip
    assert (command["what"], command["used_by"][0]["key"]) == (["access token"], "command")
    assert command["available"] == {"status": "not-checked", "set": None, "allowed": False}
    assert secret["reference"]["value"] == "M365_CLIENT_SECRET"
    assert (secret["what"], secret["used_by"][0]["pointer"]) == (
        ["client secret"], "/imap/0/credentials/oauth2/client_secret")  # fmt: skip
    _, allowed = sheet_json(cli, accounts(tmp_path, text), "--allow-command", "oama")
    assert allowed["secrets"][0]["available"]["allowed"] is True
    assert allowed["trust"]["allow_command"] == ["oama"]
    _, out, _ = cli("secrets", accounts(tmp_path, text), "--no-config")
    assert "not run here; runs only with --allow-command oama" in out


# ------------------------------------------------------------------------------------------------ markdown


def test_markdown_sheet_is_a_table(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAP_INFO_PASSWORD", IMAP_CANARY)
    code, out, _ = cli("secrets", accounts(tmp_path, BORROWING), "--no-config", "--format", "markdown")
    assert code == 0
    assert out.splitlines()[:4] == [
        "**mailcfg secrets**: 2 secrets: 1 set, 1 not set",
        "",
        "| secret | what | used by | contact | available here |",
        "|---|---|---|---|---|",
    ]
    assert out.splitlines()[5] == (
        "| env `IMAP_INFO_PASSWORD` | password | imap `info`: `info@example.com`, smtp `relay`: `info@example.com`"
        " (credentials of `info`) | IT desk | set |"
    )
    assert IMAP_CANARY not in out


def test_markdown_escapes_a_hostile_contact_and_writes_no_html(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("      contact: IT desk\n", f"      contact: '{HOSTILE}'\n", 1)
    text = text.replace("username: mailer@example.com", "username: 'x|y`z <b>'")
    code, out, _ = cli("secrets", accounts(tmp_path, text), "--no-config", "--format", "markdown")
    assert code == 0
    [smtp] = [line for line in out.splitlines() if line.startswith("| env `SMTP_PASSWORD`")]
    # Five cells: every `|` of the values is escaped, so the row splits at the table's own bars only.
    assert len(re.findall(r"(?<!\\)\|", smtp)) == 6, smtp
    assert "a \\| b &lt;script&gt;alert(1)&lt;/script&gt; \\!\\[x\\](https://evil.example/x.png)" in smtp
    assert "\\[l\\](https://evil.example) \\*e\\* \\`c\\`" in smtp
    assert "``x\\|y`z <b>``" in smtp  # a code span: shown as written, never HTML
    assert "<script" not in out
    assert "<b>" not in out.replace("``x\\|y`z <b>``", "")
    assert "<br" not in out
    assert "<details" not in out


# ------------------------------------------------------------------------------------------- availability


def test_availability_follows_the_environment_and_the_env_file(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = accounts(tmp_path)
    _, nothing = sheet_json(cli, path)
    assert [item["available"]["status"] for item in nothing["secrets"]] == ["missing", "missing"]
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    monkeypatch.setenv("IMAP_INFO_PASSWORD", "")  # empty counts as not set, as for MC306
    env_file = tmp_path / "ci.env"
    env_file.write_text(f"IMAP_INFO_PASSWORD={DOTENV_CANARY}\n", encoding="utf-8")
    _, some = sheet_json(cli, path)
    assert [item["available"]["set"] for item in some["secrets"]] == [True, False]
    monkeypatch.delenv("IMAP_INFO_PASSWORD")
    _, both = sheet_json(cli, path, "--env-file", str(env_file))
    assert [item["available"]["status"] for item in both["secrets"]] == ["available", "available"]


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_allow_env_withholds_the_variables_outside_it(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    monkeypatch.setenv("IMAP_INFO_PASSWORD", IMAP_CANARY)
    args: tuple[str, ...] = ("--allow-env", "SMTP_*")
    if how == "variable":
        monkeypatch.setenv("MAILCFG_ALLOW_ENV", "SMTP_*")
        args = ()
    code, document = sheet_json(cli, accounts(tmp_path), *args)
    assert code == 0
    assert document["trust"]["allow_env"] == ["SMTP_*"]
    assert row(document, "SMTP_PASSWORD")["available"] == {"status": "available", "set": True, "allowed": True}
    assert row(document, "IMAP_INFO_PASSWORD")["available"] == {"status": "withheld", "set": None, "allowed": False}
    assert document["summary"]["withheld"] == 1
    _, out, _ = cli("secrets", accounts(tmp_path), "--no-config", *args)
    assert "set; allowed by --allow-env" in out
    assert "not read: outside --allow-env" in out
    assert out.splitlines()[-1] == "2 secrets: 1 set, 1 not allowed here"


def test_a_variable_outside_allow_env_is_never_looked_up(tmp_path: Path) -> None:
    class Recording(Mapping[str, str]):
        def __init__(self) -> None:
            self.asked: list[str] = []

        def __getitem__(self, key: str) -> str:
            self.asked.append(key)
            return "value"

        def __iter__(self) -> Iterator[str]:
            raise AssertionError("the environment is never listed")

        def __len__(self) -> int:
            raise AssertionError("the environment is never counted")

    env = Recording()
    options = engine.CheckOptions(paths=(accounts(tmp_path),), env=env)
    _, sheet = handoff.run(options, Trust(env=("SMTP_*",)))
    assert sheet is not None
    assert env.asked == ["SMTP_PASSWORD"]


def test_require_env_fails_unless_every_variable_is_available(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = accounts(tmp_path)
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    code, out, _ = cli("secrets", path, "--no-config", "--require-env")
    assert code == 1  # the sheet is still written: it says who can enter the missing one
    assert "env IMAP_INFO_PASSWORD" in out
    monkeypatch.setenv("IMAP_INFO_PASSWORD", IMAP_CANARY)
    assert cli("secrets", path, "--no-config", "--require-env")[0] == 0
    assert cli("secrets", path, "--no-config", "--require-env", "--allow-env", "SMTP_*")[0] == 1
    assert cli("secrets", path, "--no-config", "--allow-env", "SMTP_*")[0] == 0


def test_require_env_from_the_configuration_file(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / ".mailcfg.yaml"
    config.write_text("require-env: true\n", encoding="utf-8")
    assert cli("secrets", accounts(tmp_path), "--config", str(config))[0] == 1


# ----------------------------------------------------------------------------------------- static errors


def test_a_set_with_static_errors_gets_no_sheet(cli: Cli, tmp_path: Path) -> None:
    text = VALID.replace("password: {env: SMTP_PASSWORD}", f"password: {SMTP_CANARY}")
    code, out, err = cli("secrets", accounts(tmp_path, text), "--no-config", "--format", "json")
    assert (code, out) == (1, "")
    assert "error[MC301]" in err
    assert "mailcfg secrets: no sheet: the set has static errors" in err
    assert SMTP_CANARY not in err


def test_output_writes_the_sheet_to_a_file(cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "sheet.md"
    code, out, _ = cli("secrets", accounts(tmp_path), "--no-config", "--format", "markdown", "--output", str(target))
    assert (code, out) == (0, "")
    assert target.read_text(encoding="utf-8").startswith("**mailcfg secrets**: 2 secrets")


def test_an_unwritable_output_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("secrets", accounts(tmp_path), "--no-config", "--output", str(tmp_path / "no" / "such" / "f"))
    assert code == 2
    assert "--output" in err


# ------------------------------------------------------------------------------------------ never a value


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_value_in_any_format(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    monkeypatch.setenv("SMTP_PASSWORD", SMTP_CANARY)
    monkeypatch.setenv("IMAP_INFO_PASSWORD", IMAP_CANARY)
    monkeypatch.setenv("M365_CLIENT_SECRET", SMTP_CANARY)
    env_file = tmp_path / "ci.env"
    env_file.write_text(f"IMAP_ANNA_PASSWORD={DOTENV_CANARY}\n", encoding="utf-8")
    path = accounts(tmp_path, with_oauth2(base=BORROWING) + imap_entry())
    target = tmp_path / f"sheet.{fmt}"
    for extra in ((), ("--require-env",), ("--allow-env", "IMAP_*"), ("--output", str(target))):
        code, out, err = cli("secrets", path, "--no-config", "--format", fmt, "--env-file", str(env_file), *extra)
        written = target.read_text(encoding="utf-8") if target.exists() else ""
        assert code in (0, 1)
        for canary in CANARIES:
            assert canary not in out + err + written, (extra, canary)
    assert "IMAP_ANNA_PASSWORD" in written


def test_no_value_printed_by_a_subprocess(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MAILCFG_")}
    environ.update(SMTP_PASSWORD=SMTP_CANARY, IMAP_INFO_PASSWORD=IMAP_CANARY)
    path = accounts(tmp_path, BORROWING)
    for fmt in FORMATS:
        run = subprocess.run(
            [sys.executable, "-m", "validator", "secrets", "--no-config", "--require-env", "--format", fmt, path],
            capture_output=True, text=True, env=environ, timeout=120, check=False,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "IMAP_INFO_PASSWORD" in run.stdout
        assert SMTP_CANARY not in run.stdout + run.stderr
        assert IMAP_CANARY not in run.stdout + run.stderr


# ------------------------------------------------------------------------------------------- references


def test_reference_reads_whichever_source_a_secret_names() -> None:
    assert handoff.reference(Secret.model_validate({"env": "INFO_PASSWORD"})) == handoff.Reference(
        "env", "INFO_PASSWORD"
    )
    # The other kinds, as a secret object that has them: described the same way, never read.
    others = {
        "file": ("/run/secrets/info_pw", "file /run/secrets/info_pw"),
        "credential": ("info_pw", "credential info_pw"),
        "command": (["op", "read", "op://Mail/info pw"], "command op read 'op://Mail/info pw'"),
    }
    # Without trust settings: a file outside every --allow-secret-dir is not looked at; no $CREDENTIALS_DIRECTORY.
    status = {"file": handoff.WITHHELD, "credential": handoff.MISSING, "command": handoff.NOT_CHECKED}
    for kind, (value, text) in others.items():
        secret = SimpleNamespace(**dict.fromkeys(("env", "file", "credential", "command")) | {kind: value})
        ref = handoff.reference(secret)
        assert (ref.kind, ref.text) == (kind, text)
        assert handoff.availability(ref, {}, Trust()).status == status[kind]
    with pytest.raises(ValueError, match="names none"):
        handoff.reference(SimpleNamespace(env=None))


def test_a_command_reference_is_allowed_only_by_its_program() -> None:
    ref = handoff.Reference("command", ("op", "read", "x"))
    assert handoff.availability(ref, {}, Trust(commands=("op",))) == handoff.Availability("not-checked", None, True)
    assert handoff.availability(ref, {}, Trust(commands=("oama",))).allowed is False


def test_files_and_credentials_are_looked_at_without_being_opened(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file inside --allow-secret-dir and a credential in $CREDENTIALS_DIRECTORY are "set" when they are there and
    readable; a missing one is "not set" (and --require-env exits 1); a file outside is not looked at. Their content
    (a canary) never shows."""
    secrets_dir, creds = tmp_path / "secrets", tmp_path / "creds"
    for folder in (secrets_dir, creds):
        folder.mkdir()
    (secrets_dir / "smtp_pw").write_text(SMTP_CANARY + "\n", encoding="utf-8")
    (secrets_dir / "smtp_pw").chmod(0o600)
    (creds / "info_pw").write_text(IMAP_CANARY + "\n", encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    text = VALID.replace("{env: SMTP_PASSWORD}", "{file: secrets/smtp_pw}").replace(
        "{env: IMAP_INFO_PASSWORD}", "{credential: info_pw}")
    path = accounts(tmp_path, text)
    code, document = sheet_json(cli, path, "--allow-secret-dir", str(secrets_dir))
    assert code == 0
    assert row(document, "secrets/smtp_pw")["available"] == {"status": "available", "set": None, "allowed": True}
    assert row(document, "info_pw")["available"] == {"status": "available", "set": None, "allowed": True}
    code, out, _ = cli("secrets", path, "--no-config", "--allow-secret-dir", str(secrets_dir))
    assert (code, out.count("readable")) == (0, 2), out
    assert SMTP_CANARY not in out
    assert IMAP_CANARY not in out
    # Outside every --allow-secret-dir: not looked at; --require-env fails on it.
    code, document = sheet_json(cli, path, "--require-env")
    assert code == 1
    assert row(document, "secrets/smtp_pw")["available"] == {"status": "withheld", "set": None, "allowed": False}
    _, out, _ = cli("secrets", path, "--no-config")
    assert "not read: outside --allow-secret-dir" in out
    # Missing: not set.
    (creds / "info_pw").unlink()
    code, document = sheet_json(cli, path, "--allow-secret-dir", str(secrets_dir), "--require-env")
    assert code == 1
    assert row(document, "info_pw")["available"]["status"] == "missing"


# ------------------------------------------------------------------------------------------------ the docs


def _key_paths(value: Any, path: str = "") -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}" if path else key
            yield from _key_paths(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _key_paths(item, f"{path}[]")


def test_the_reference_documents_the_json_shape_and_the_exit_codes(cli: Cli, tmp_path: Path) -> None:
    from validator import cli as cli_module

    reference = (Path(__file__).resolve().parent.parent / "docs" / "reference.md").read_text(encoding="utf-8")
    section = reference.split("\n## Secrets sheet\n", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"(?ms)^```json\n(.*?)^```$", section)
    example = json.loads(block)
    _, produced = sheet_json(cli, accounts(tmp_path, BORROWING))
    assert list(example) == list(produced)
    assert set(_key_paths(example)) == set(_key_paths(produced))
    for key in ("`trust`", "`secrets[].reference`", "`secrets[].used_by[]`", "`secrets[].available`", "`summary`"):
        assert f"\n| {key}" in section, key
    exits = reference.split("\n### secrets\n", 1)[1].split("\n#", 1)[0]
    codes = {int(code) for code in re.findall(r"(?m)^\| (\d+) \|", exits)}
    assert codes == {cli_module.EXIT_OK, cli_module.EXIT_FINDINGS, cli_module.EXIT_USAGE}
